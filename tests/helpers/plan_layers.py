"""Hand-made planning layers along a few roads, where the best plan is known (x, y in metres
from a point of the Eure, Lambert-93), and the plan of them: shared by the router's tests."""

from __future__ import annotations

import geopandas as gpd
import shapely
from shapely.geometry import LineString, Point

from planning.parameters import PlanParameters
from planning.pipeline import plan_layers

CRS = "EPSG:2154"
X, Y = 560_000.0, 6_880_000.0
PARAMS = PlanParameters()
COST = PARAMS.cost


def at(dx: float, dy: float) -> tuple[float, float]:
    return (X + dx, Y + dy)


def frame(columns: dict[str, list], geoms: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=CRS)


def layers(
    roads: list[tuple[str, str, list[tuple[float, float]]]],
    nodes: list[tuple[str, str, int, tuple[float, float]]],
    masts: list[tuple[str, tuple[float, float], bool]],
    routes: list[tuple[str, str, int, list[tuple[float, float]]]] = (),
) -> dict[str, gpd.GeoDataFrame]:
    return {
        "roads": frame(
            {"id": [r[0] for r in roads], "kind": [r[1] for r in roads]},
            [LineString([at(*p) for p in r[2]]) for r in roads],
        ),
        "ftth_routes": frame(
            {
                "id": [r[0] for r in routes],
                "kind": [r[1] for r in routes],
                "spare": [r[2] for r in routes],
            },
            [LineString([at(*p) for p in r[3]]) for r in routes],
        ),
        "ftth_nodes": frame(
            {
                "id": [n[0] for n in nodes],
                "kind": [n[1] for n in nodes],
                "free_fibres": [n[2] for n in nodes],
            },
            [Point(at(*n[3])) for n in nodes],
        ),
        "masts": frame(
            {
                "id": [m[0] for m in masts],
                "commune": ["27229"] * len(masts),
                "cameras": [2] * len(masts),
                "camera_model": ["dome_4mp"] * len(masts),
                "critical": [m[2] for m in masts],
            },
            [Point(at(*m[1])) for m in masts],
        ),
        "power_points": frame({"id": ["P1"], "kind": ["enedis"]}, [Point(at(5, 5))]),
        "communes": frame(
            {"code": ["27229"], "nom": ["Évreux"], "population": [47_000], "epci": ["200071454"]},
            [shapely.box(X - 50_000, Y - 50_000, X + 50_000, Y + 50_000)],
        ),
    }


def plan(data: dict[str, gpd.GeoDataFrame], params: PlanParameters = PARAMS):
    result, _ = plan_layers(data, params, bound=True)
    return result


def mast(result, mast_id: str):
    return next(m for m in result.masts if m.mast_id == mast_id)
