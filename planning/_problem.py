"""One problem found in the planning layers, as the validator prints it.

Shared by the reader (`planning.layers`) and the validator (`planning.validate`), which export it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

LAYER_LEVEL = "-"
"""The feature part of a problem about a whole layer (or a whole file)."""


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """A problem in a layer, printed as ``LAYER:FEATURE_ID: message``.

    ``feature`` is the feature's id value, ``#N`` (1-based row in the file) when the feature has
    no id, or ``-`` for a problem about the whole layer. ``message`` holds the text alone;
    ``str()`` prefixes warnings with ``warning: ``, so print ``str(problem)``. ``row`` (0-based
    position in the layer, None for layer-level problems) only orders problems; it takes no part
    in equality.
    """

    layer: str
    feature: str
    severity: Severity
    code: str
    message: str
    row: int | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == Severity.WARNING else ""
        return f"{self.layer}:{self.feature}: {prefix}{self.message}"

    def to_dict(self) -> dict[str, str]:
        return {
            "layer": self.layer,
            "feature": self.feature,
            "severity": str(self.severity),
            "code": self.code,
            "message": self.message,
        }


def layer_error(layer: str, code: str, message: str) -> Problem:
    return Problem(layer, LAYER_LEVEL, Severity.ERROR, code, message)


def layer_warning(layer: str, code: str, message: str) -> Problem:
    return Problem(layer, LAYER_LEVEL, Severity.WARNING, code, message)
