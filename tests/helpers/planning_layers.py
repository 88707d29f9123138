"""A small, clean set of planning layers around Évreux, and writers for the three file formats.

Lambert-93 coordinates (EPSG:2154). The main network:

    R3 (local) runs north from the crossing at (560000, 6880000), with aerial route F1 beside it and
    the NRO N1 at its top; R1 (primary) runs west and R2 (secondary) east of the crossing, with duct
    F2 along R2 and the PM P1 on it; R4 (track) runs south from R2's east end, with the PBO B1 (no
    free fibre). R9 is a separate road island to the east, inside Guichainville, with no FttH node.
    Mast M1 stands beside R2 in Évreux, mast M2 beside R4 in Guichainville.

The planning tests get them through the fixtures of tests/planning/conftest.py.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
from shapely.geometry import LineString, Point, box

CRS = "EPSG:2154"
X, Y = 560_000, 6_880_000


def make_layers() -> dict[str, gpd.GeoDataFrame]:
    """A fresh, clean copy of the six layers, in schema order."""

    def line(*points: tuple[float, float]) -> LineString:
        return LineString([(X + dx, Y + dy) for dx, dy in points])

    def point(dx: float, dy: float) -> Point:
        return Point(X + dx, Y + dy)

    roads = gpd.GeoDataFrame(
        {
            "id": ["R1", "R2", "R3", "R4", "R9"],
            "kind": ["primary", "secondary", "local", "track", "local"],
        },
        geometry=[
            line((-1000, 0), (0, 0)),
            line((0, 0), (1000, 0)),
            line((0, 0), (0, 1000)),
            line((1000, 0), (1000, -1000)),
            line((5000, 0), (5500, 0)),
        ],
        crs=CRS,
    )
    ftth_routes = gpd.GeoDataFrame(
        {"id": ["F1", "F2"], "kind": ["aerial", "duct"], "spare": [2, 4]},
        geometry=[line((10, 0), (10, 1000)), line((0, 5), (1000, 5))],
        crs=CRS,
    )
    ftth_nodes = gpd.GeoDataFrame(
        {
            "id": ["N1", "P1", "B1"],
            "kind": ["NRO", "PM", "PBO"],
            "free_fibres": [48, 12, 0],
        },
        geometry=[point(10, 900), point(500, 5), point(1000, -500)],
        crs=CRS,
    )
    masts = gpd.GeoDataFrame(
        {
            "id": ["M1", "M2"],
            "commune": ["27229", "27306"],
            "cameras": [3, 1],
            "camera_model": ["dome-4mp", "bullet-8mp"],
            "critical": [True, False],
        },
        geometry=[point(200, 10), point(1005, -800)],
        crs=CRS,
    )
    power_points = gpd.GeoDataFrame(
        {"id": ["E1", "E2"], "kind": ["enedis", "public_lighting"]},
        geometry=[point(210, 20), point(1010, -790)],
        crs=CRS,
    )
    communes = gpd.GeoDataFrame(
        {
            "code": ["27229", "27306"],
            "nom": ["Évreux", "Guichainville"],
            "population": [49360, 3087],
            "epci": ["200071454", "200071454"],
        },
        geometry=[
            box(X - 1500, Y - 1500, X + 600, Y + 1500),
            box(X + 600, Y - 1500, X + 6000, Y + 1500),
        ],
        crs=CRS,
    )
    return {
        "roads": roads,
        "ftth_routes": ftth_routes,
        "ftth_nodes": ftth_nodes,
        "masts": masts,
        "power_points": power_points,
        "communes": communes,
    }


def write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: Path) -> Path:
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    return path


def write_folder(layers: dict[str, gpd.GeoDataFrame], folder: Path, *, ext: str) -> Path:
    """One file per layer: ``ext`` is ``.geojson``, ``.json``, ``.shp`` or ``.gpkg``."""
    driver = {".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "ESRI Shapefile", ".gpkg": "GPKG"}
    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the DBF format truncates long field names, on purpose
        for name, gdf in layers.items():
            gdf.to_file(folder / f"{name}{ext}", driver=driver[ext], engine="pyogrio")
    return folder
