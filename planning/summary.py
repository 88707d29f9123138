"""What a set of planning layers holds, in the figures an engineer checks first."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd


@dataclass(frozen=True)
class LayerSummary:
    """Counts and lengths per layer; lengths in km, measured in Lambert-93."""

    features: dict[str, int] = field(default_factory=dict)
    road_km: dict[str, float] = field(default_factory=dict)
    ftth_route_km: dict[str, float] = field(default_factory=dict)
    ftth_nodes: dict[str, int] = field(default_factory=dict)
    free_fibres: dict[str, int] = field(default_factory=dict)
    power_points: dict[str, int] = field(default_factory=dict)
    masts: int = 0
    cameras: int = 0
    critical_masts: int = 0
    communes_with_masts: int = 0
    communes: int = 0
    population: int = 0
    epcis: int = 0

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _km_by(gdf: gpd.GeoDataFrame, column: str) -> dict[str, float]:
    lengths = gdf.geometry.length.groupby(gdf[column].astype(str)).sum() / 1000.0
    return {str(k): round(float(v), 2) for k, v in sorted(lengths.items())}


def _count_by(gdf: gpd.GeoDataFrame, column: str) -> dict[str, int]:
    counts = gdf[column].astype(str).value_counts()
    return {str(k): int(v) for k, v in sorted(counts.items())}


def summarize(layers: dict[str, gpd.GeoDataFrame]) -> LayerSummary:
    """Summarise layers already reprojected to Lambert-93 (as the validator returns them)."""
    values: dict[str, object] = {"features": {name: len(gdf) for name, gdf in layers.items()}}
    if (roads := layers.get("roads")) is not None and "kind" in roads:
        values["road_km"] = _km_by(roads, "kind")
    if (routes := layers.get("ftth_routes")) is not None and "kind" in routes:
        values["ftth_route_km"] = _km_by(routes, "kind")
    if (nodes := layers.get("ftth_nodes")) is not None and "kind" in nodes:
        values["ftth_nodes"] = _count_by(nodes, "kind")
        if "free_fibres" in nodes:
            sums = nodes.groupby(nodes["kind"].astype(str))["free_fibres"].sum()
            values["free_fibres"] = {str(k): int(v) for k, v in sorted(sums.items())}
    if (power := layers.get("power_points")) is not None and "kind" in power:
        values["power_points"] = _count_by(power, "kind")
    if (masts := layers.get("masts")) is not None:
        values["masts"] = len(masts)
        if "cameras" in masts:
            values["cameras"] = int(masts["cameras"].sum())
        if "critical" in masts:
            values["critical_masts"] = int(masts["critical"].astype(bool).sum())
        if "commune" in masts:
            values["communes_with_masts"] = int(masts["commune"].nunique())
    if (communes := layers.get("communes")) is not None:
        values["communes"] = len(communes)
        if "population" in communes:
            values["population"] = int(communes["population"].sum())
        if "epci" in communes:
            values["epcis"] = int(communes["epci"].nunique())
    return LayerSummary(**values)  # type: ignore[arg-type]
