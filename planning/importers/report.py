"""What an import produced, and the report that goes with it: mapped, not mapped and why."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd

from planning.schema import WORK_CRS

Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``, for a progress bar (total 0 when unknown)."""


@dataclass(frozen=True)
class Unmapped:
    """One source feature or row the importer could not map, and why (in words a user can act on)."""

    table: str  # source table, layer or OSM element type
    source_id: str
    reason: str


@dataclass
class ImportReport:
    """Counts of what was mapped (per target layer and kind), and every feature left out."""

    source: str
    format: str  # "osm", "bdtopo", "gracethd"
    mapped: Counter[str] = field(default_factory=Counter)  # target layer -> features
    kinds: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    unmapped: list[Unmapped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the user should know (version, CRS...)

    def skip(self, table: str, source_id: Any, reason: str) -> None:
        self.unmapped.append(Unmapped(table, str(source_id), reason))

    def count(self, layer: str, kinds: Counter[str] | dict[str, int]) -> None:
        """Record the features written to ``layer``, by their ``kind``."""
        for kind, n in kinds.items():
            self.kinds[layer][str(kind)] += int(n)
            self.mapped[layer] += int(n)

    def reasons(self) -> Counter[str]:
        """How many features were left out for each reason."""
        return Counter(item.reason for item in self.unmapped)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "mapped": dict(self.mapped),
            "kinds": {layer: dict(c) for layer, c in self.kinds.items()},
            "unmapped": [
                {"table": u.table, "source_id": u.source_id, "reason": u.reason}
                for u in self.unmapped
            ],
            "unmapped_by_reason": dict(self.reasons()),
            "notes": list(self.notes),
        }

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n")


@dataclass
class ImportResult:
    layers: dict[str, gpd.GeoDataFrame]  # planning layers, in Lambert-93
    report: ImportReport


def write_layers(layers: dict[str, gpd.GeoDataFrame], out: Path) -> None:
    """Write ``layers`` to the GeoPackage ``out`` (replaced), each in Lambert-93."""
    out = Path(out)
    if out.exists():
        out.unlink()
    for name, gdf in layers.items():
        gdf.to_crs(WORK_CRS).to_file(out, layer=name, driver="GPKG", engine="pyogrio")
