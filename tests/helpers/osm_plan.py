"""Planning layers around imported OSM roads: deterministic masts, FttH nodes and routes, power
points and one commune, all placed on the imported roads' own vertices.

The roads are real (an OSM import); the rest is invented, placed by rule, never at random, so
that the end-to-end test and the README picture (docs/osm_plan.py) get the same plan every time.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

from planning.importers import write_layers

COMMUNE = "99138"  # Monaco's code in INSEE's list of countries: five digits, not a French commune
MASTS = 8


def add_planning_layers(gpkg: Path, *, commune: str = COMMUNE, name: str = "Monaco") -> None:
    """Add masts, ftth_nodes, ftth_routes, power_points, communes and sites beside ``roads``."""
    roads = gpd.read_file(gpkg, layer="roads", engine="pyogrio").sort_values("id")
    crs = roads.crs
    local = roads[roads["kind"] == "local"].reset_index(drop=True)
    main = roads[roads["kind"].isin(["primary", "secondary"])].reset_index(drop=True)

    def middle(line: shapely.LineString) -> shapely.Point:
        coords = line.coords
        return shapely.Point(coords[len(coords) // 2])

    step = max(1, len(local) // MASTS)
    mast_points = [middle(local.geometry.iloc[i * step]) for i in range(MASTS)]
    masts = gpd.GeoDataFrame(
        {
            "id": [f"M-{commune}-{i + 1:03d}" for i in range(MASTS)],
            "commune": [commune] * MASTS,
            "cameras": [2 + i % 3 for i in range(MASTS)],
            "camera_model": ["dome_4mp"] * MASTS,
            "critical": [i == 0 for i in range(MASTS)],
        },
        geometry=mast_points,
        crs=crs,
    )
    nro_line, pm_line = main.geometry.iloc[0], main.geometry.iloc[len(main) // 2]
    nodes = gpd.GeoDataFrame(
        {"id": ["NRO-1", "PM-1"], "kind": ["NRO", "PM"], "free_fibres": [48, 12]},
        geometry=[shapely.Point(nro_line.coords[0]), shapely.Point(pm_line.coords[0])],
        crs=crs,
    )
    routes = gpd.GeoDataFrame(
        {"id": ["D-1", "D-2"], "kind": ["duct", "duct"], "spare": [1, 1]},
        geometry=[nro_line, pm_line],
        crs=crs,
    )
    power = gpd.GeoDataFrame(
        {"id": ["E-1", "E-2"], "kind": ["enedis", "public_lighting"]},
        geometry=[middle(local.geometry.iloc[1]), middle(local.geometry.iloc[-1])],
        crs=crs,
    )
    # The supervision centre, at the far end of the last local road from the NRO.
    sites = gpd.GeoDataFrame(
        {"id": ["CSU-1"], "kind": ["csu"], "nom": ["Centre de supervision"]},
        geometry=[shapely.Point(local.geometry.iloc[-1].coords[-1])],
        crs=crs,
    )
    outline = shapely.box(*roads.total_bounds).buffer(300)
    communes = gpd.GeoDataFrame(
        {"code": [commune], "nom": [name], "population": [38_000], "epci": ["200000000"]},
        geometry=[outline],
        crs=crs,
    )
    write_layers(
        {
            "masts": masts,
            "ftth_nodes": nodes,
            "ftth_routes": routes,
            "power_points": power,
            "communes": communes,
            "sites": sites,
        },
        gpkg,
    )
