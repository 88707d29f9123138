"""Validating the planning layers: every problem at once, one ``LAYER:FEATURE_ID: message`` each.

`validate` is pure (a `LayerSet` in, a `Report` out); `validate_path` reads the layers first. This
is the engine behind ``vigie validate``: the layers are usable for planning when ``report.ok``.

Checks, driven by `planning.schema.LAYERS`:

- per layer: missing layer, missing CRS or coordinates that do not fit it, missing required field,
  wrong field type, empty value, value not among the choices, out of range or not matching the
  pattern, duplicate id, null/empty/wrong-type/multi-part/zero-length/invalid geometry;
- across layers (in Lambert-93): masts and FttH nodes far from any road (warning, then error),
  masts whose network of roads and FttH routes reaches no FttH node with free fibres, masts whose
  commune code is unknown (error) or that lie outside their commune (warning).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from planning._checks_fields import FeatureLabels, check_layer
from planning._checks_network import check_communes, check_network
from planning._checks_transport import check_transport
from planning._problem import Problem, Severity, layer_error
from planning.layers import DEFAULT_MAX_BYTES, LayerSet, read_layers
from planning.projection import ProjectionError, crs_name, outside_area_of_use, to_work_crs
from planning.schema import LAYER_NAMES, LAYERS

__all__ = ["Problem", "Report", "Severity", "validate", "validate_path"]

DEFAULT_FAR_FROM_ROAD_WARNING_M = 30.0
DEFAULT_FAR_FROM_ROAD_ERROR_M = 200.0


@dataclass
class Report:
    """The outcome of a validation.

    ``problems`` are sorted by layer (schema order), then by feature order in the file;
    ``layers`` holds the layers that could be reprojected, in Lambert-93 (EPSG:2154);
    ``crs`` the CRS each layer was read in (None when it had none), ``features`` its feature count.
    """

    source: Path | None
    problems: list[Problem] = field(default_factory=list)
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    crs: dict[str, str | None] = field(default_factory=dict)
    features: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == Severity.WARNING]

    @property
    def ok(self) -> bool:
        """No errors: the layers are usable for planning."""
        return not self.errors

    @property
    def ok_strict(self) -> bool:
        """No errors and no warnings."""
        return not self.problems

    def add(self, problems: list[Problem]) -> None:
        """Add problems found outside the planner (e.g. the catalogue's legal rules), in order."""
        self.problems = _sorted([*self.problems, *problems])

    def lines(self) -> list[str]:
        """One ``LAYER:FEATURE_ID: message`` line per problem."""
        return [str(p) for p in self.problems]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary, for ``vigie validate --json``."""
        return {
            "source": str(self.source) if self.source is not None else None,
            "valid": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "problems": [p.to_dict() for p in self.problems],
            "layers": {
                name: {"features": self.features[name], "crs": self.crs.get(name)}
                for name in self.features
            },
        }


def validate(
    layerset: LayerSet,
    *,
    far_from_road_warning_m: float = DEFAULT_FAR_FROM_ROAD_WARNING_M,
    far_from_road_error_m: float = DEFAULT_FAR_FROM_ROAD_ERROR_M,
) -> Report:
    """Check the layers of ``layerset`` against the schema and against each other.

    Parameters
    ----------
    layerset
        Layers as read by `planning.layers.read_layers` (their reading problems are kept).
    far_from_road_warning_m, far_from_road_error_m
        A mast or FttH node farther than this from every road gets a warning, then an error
        (the planner will not snap it to the network).

    Returns
    -------
    Report
        Every problem found, and the usable layers reprojected to Lambert-93.
    """
    if far_from_road_error_m < far_from_road_warning_m:
        raise ValueError("far_from_road_error_m must be at least far_from_road_warning_m")
    problems = list(layerset.problems)
    already = {(p.layer, p.code) for p in problems}
    report = Report(source=layerset.source)
    unusable_fields: dict[str, set[str]] = {}
    for name in LAYER_NAMES:
        gdf = layerset.layers.get(name)
        if gdf is None:
            continue
        report.features[name] = len(gdf)
        report.crs[name] = _crs_code(gdf)
        checked = check_layer(name, gdf)
        problems.extend(checked.problems)
        unusable_fields[name] = checked.unusable_fields
        try:
            projected = to_work_crs(gdf, layer=name)
        except ProjectionError as err:
            if (name, err.code) not in already:
                problems.append(layer_error(name, err.code, err.reason))
            continue
        strays = outside_area_of_use(gdf)
        if strays.any():
            problems.extend(_stray_problems(name, gdf, strays))
            projected = projected[~strays]  # later checks must not measure from nonsense places
        report.layers[name] = projected
    problems.extend(
        check_network(
            report.layers,
            unusable_fields,
            warning_m=far_from_road_warning_m,
            error_m=far_from_road_error_m,
        )
    )
    problems.extend(check_communes(report.layers, unusable_fields))
    problems.extend(check_transport(report.layers, unusable_fields))
    report.problems = _sorted(problems)
    return report


def validate_path(
    path: Path | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    far_from_road_warning_m: float = DEFAULT_FAR_FROM_ROAD_WARNING_M,
    far_from_road_error_m: float = DEFAULT_FAR_FROM_ROAD_ERROR_M,
) -> Report:
    """Read the layers at ``path`` and validate them; raises `LayerError` as `read_layers` does."""
    layerset = read_layers(path, max_bytes=max_bytes)
    return validate(
        layerset,
        far_from_road_warning_m=far_from_road_warning_m,
        far_from_road_error_m=far_from_road_error_m,
    )


def _stray_problems(name: str, gdf: gpd.GeoDataFrame, strays: np.ndarray) -> list[Problem]:
    labels = FeatureLabels(gdf, LAYERS[name])
    where = crs_name(gdf.crs)
    problems = []
    for row in np.flatnonzero(strays):
        point = gdf.geometry.iat[int(row)].representative_point()
        problems.append(
            Problem(
                name,
                labels(int(row)),
                Severity.ERROR,
                "outside-crs-area",
                f"lies at ({point.x:.6g}, {point.y:.6g}), outside the area of use of {where}: "
                "a misplaced or mistyped feature; move it or delete it",
                row=int(row),
            )
        )
    return problems


def _crs_code(gdf: gpd.GeoDataFrame) -> str | None:
    return None if gdf.crs is None else crs_name(gdf.crs)


_LAYER_RANK = {name: rank for rank, name in enumerate(LAYERS)}


def _sorted(problems: list[Problem]) -> list[Problem]:
    """Schema order of layers (file-level problems first), then feature order in the file."""
    return sorted(
        problems,
        key=lambda p: (_LAYER_RANK.get(p.layer, -1), -1 if p.row is None else p.row),
    )
