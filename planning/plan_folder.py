"""Reading a plan folder written by `vigie plan` (``plan.gpkg`` and ``summary.json``).

The estimate reads plans written earlier, possibly by an older Vigie: the folder's format version
(``summary.json`` → ``format``) is checked first, so an old folder gets one clear message instead
of a missing-column error deep in the pricing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio

from planning.errors import PlanningError
from planning.export import PLAN_FORMAT, PLAN_LAYERS
from planning.supply import SUPPLY_COLUMNS

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "trenches": ("mode", "road_kind", "length_m", "masts"),
    "cables": ("mast_id", "role", "fibres", "length_m"),
    "connections": ("mast_id", "node_id", "node_kind", "splices"),
    "masts": ("mast_id", "commune", "status", "cameras", *SUPPLY_COLUMNS),
    "splices": ("kind", "node_id", "fibres"),
}
OPTIONAL_LAYERS = ("links", "power_links")
"""Layers an older format-2 plan lacks: without ``links`` (written before the transport to the
CSU) the estimate reads the leased links from ``summary.json`` and counts no running cost; without
``power_links`` (before the low-voltage links were measured along the roads) it prices them as
the crow flies, and says so."""


class PlanFolderError(PlanningError):
    """A plan folder cannot be read: run `vigie plan` again, or fix the folder named."""


@dataclass(frozen=True)
class PlanFolder:
    """The layers of ``plan.gpkg`` (Lambert-93) and the content of ``summary.json``."""

    path: Path
    summary: dict[str, Any]
    layers: dict[str, gpd.GeoDataFrame]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def fibres_per_mast(self) -> int:
        return int(self.summary["parameters"]["network"]["fibres_per_mast"])


def read_plan_folder(path: Path) -> PlanFolder:
    """Read and check a plan folder; `PlanFolderError` says what is wrong and what to do."""
    path = Path(path)
    summary_path, gpkg = path / "summary.json", path / "plan.gpkg"
    if not path.is_dir():
        raise PlanFolderError(f"{path}: no such plan folder (write one with `vigie plan`)")
    for needed in (summary_path, gpkg):
        if not needed.is_file():
            raise PlanFolderError(
                f"{path}: {needed.name} is missing; is this a folder written by `vigie plan`?"
            )
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise PlanFolderError(f"{summary_path}: cannot read it ({err})") from err
    _check_format(summary_path, summary)
    layers: dict[str, gpd.GeoDataFrame] = {}
    try:
        present = {name for name, _ in pyogrio.list_layers(gpkg)}
        for name in PLAN_LAYERS:
            if name in OPTIONAL_LAYERS and name not in present:
                continue
            if name not in present:
                raise PlanFolderError(f"{gpkg}: layer {name!r} is missing; run `vigie plan` again")
            layers[name] = pyogrio.read_dataframe(gpkg, layer=name)
    except pyogrio.errors.DataSourceError as err:
        raise PlanFolderError(f"{gpkg}: cannot read it ({err})") from err
    for name, columns in REQUIRED_COLUMNS.items():
        missing = [c for c in columns if c not in layers[name].columns]
        if missing:
            raise PlanFolderError(
                f"{gpkg}: layer {name!r} lacks {', '.join(missing)}; run `vigie plan` again"
            )
    return PlanFolder(path, summary, layers)


def _check_format(summary_path: Path, summary: Any) -> None:
    fmt = summary.get("format") if isinstance(summary, dict) else None
    wanted = PLAN_FORMAT["version"]
    if not isinstance(fmt, dict) or fmt.get("name") != PLAN_FORMAT["name"]:
        raise PlanFolderError(
            f"{summary_path}: written by an older Vigie (no plan format; this one reads "
            f"format {wanted}): run `vigie plan` again on the layers"
        )
    version = fmt.get("version")
    if not isinstance(version, int) or version < wanted:
        raise PlanFolderError(
            f"{summary_path}: written by an older Vigie (plan format {version}; this one reads "
            f"format {wanted}): run `vigie plan` again on the layers"
        )
    if version > wanted:
        raise PlanFolderError(
            f"{summary_path}: written by a newer Vigie (plan format {version}; this one reads "
            f"format {wanted}): upgrade Vigie"
        )
