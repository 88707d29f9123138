"""What an import produced, and the report that goes with it: mapped, not mapped and why."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
import pyogrio
import pyogrio.errors

from planning.errors import LayerError
from planning.schema import WORK_CRS

Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``, for a progress bar (total 0 when unknown)."""


class Reason(NamedTuple):
    """Why a feature is left out: ``code``, the stable kind of reason; ``text``, in English."""

    code: str
    text: str


@dataclass(frozen=True)
class Unmapped:
    """A source feature or row the importer could not map, and why: ``reason`` in English words
    a user can act on (it may quote the feature's values), ``code`` the kind of reason, stable
    (``osm.footway``, ``gracethd.pto``...), which summaries translate (`labels_fr`)."""

    table: str  # source table, layer or OSM element type
    source_id: str
    reason: str
    code: str


@dataclass
class ImportReport:
    """Counts of what was mapped (per target layer and kind), and every feature left out."""

    source: str
    format: str  # "osm", "bdtopo", "gracethd"
    mapped: Counter[str] = field(default_factory=Counter)  # target layer -> features
    kinds: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    unmapped: list[Unmapped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the user should know (version, CRS...)

    def skip(self, table: str, source_id: Any, reason: str, *, code: str) -> None:
        """Record a feature left out: ``reason`` for the report, ``code`` its kind of reason."""
        self.unmapped.append(Unmapped(table, str(source_id), reason, code))

    def count(self, layer: str, kinds: Counter[str] | dict[str, int]) -> None:
        """Record the features written to ``layer``, by their ``kind``."""
        for kind, n in kinds.items():
            self.kinds[layer][str(kind)] += int(n)
            self.mapped[layer] += int(n)

    def reasons(self) -> Counter[str]:
        """How many features were left out for each reason."""
        return Counter(item.reason for item in self.unmapped)

    def codes(self) -> Counter[str]:
        """How many features were left out for each kind of reason (its code)."""
        return Counter(item.code for item in self.unmapped)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "mapped": dict(self.mapped),
            "kinds": {layer: dict(c) for layer, c in self.kinds.items()},
            "unmapped": [
                {"table": u.table, "source_id": u.source_id, "code": u.code, "reason": u.reason}
                for u in self.unmapped
            ],
            "unmapped_by_reason": dict(self.reasons()),
            "unmapped_by_code": dict(self.codes()),
            "notes": list(self.notes),
        }

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n")


@dataclass
class ImportResult:
    layers: dict[str, gpd.GeoDataFrame]  # planning layers, in Lambert-93
    report: ImportReport


def write_layers(layers: dict[str, gpd.GeoDataFrame], out: Path) -> None:
    """Add ``layers`` to the GeoPackage ``out`` (created if need be), each in Lambert-93.

    A layer of the same name is replaced; every other layer already in ``out`` is kept (an
    engineer imports OSM roads, then the FttH operator's delivery, into the file that holds
    their own masts). The layers are written to a copy that then takes ``out``'s place, so a
    failure half-way never leaves a damaged file behind.
    """
    out = Path(out)
    if out.suffix.lower() != ".gpkg":
        raise LayerError(f"{out}: the output must be a GeoPackage (.gpkg)")
    if out.exists() and not out.is_file():
        raise LayerError(f"{out}: exists and is not a file")
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{out.stem}-", suffix=".gpkg", dir=out.parent)
    os.close(handle)
    work = Path(name)
    try:
        if out.exists():
            if pyogrio.list_layers(out) is None:  # pragma: no cover - list_layers raises instead
                raise LayerError(f"{out}: not a GeoPackage")
            shutil.copyfile(out, work)
        else:
            work.unlink()
        for layer, gdf in layers.items():
            gdf.to_crs(WORK_CRS).to_file(work, layer=layer, driver="GPKG", engine="pyogrio")
        work.replace(out)
    except pyogrio.errors.DataSourceError as error:
        raise LayerError(
            f"{out}: cannot add layers to it ({error}): is it a GeoPackage? Give a new .gpkg "
            "or an existing one"
        ) from error
    finally:
        work.unlink(missing_ok=True)
