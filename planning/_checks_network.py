"""Checks across layers, in Lambert-93: masts and nodes against the roads, masts against communes.

Spatial questions go through shapely's STRtree (bulk queries in GEOS), never through a scan of the
roads: a whole département holds about 150,000 road segments.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from planning._checks_fields import FeatureLabels, blank_mask, format_value, usable_geometries
from planning._problem import Problem, Severity
from planning.schema import LAYERS

CONNECT_TOLERANCE_M = 1.0
"""Lines closer than this are taken as connected: digitised networks rarely snap exactly."""

OUTSIDE_COMMUNE_TOLERANCE_M = 1.0
"""A mast this close to its commune's boundary is inside it (boundaries are generalised)."""


@dataclass
class _Points:
    """The usable point features of a layer: geometries and their rows in the layer."""

    name: str
    geoms: np.ndarray
    rows: np.ndarray
    labels: FeatureLabels

    @classmethod
    def of(cls, name: str, gdf: gpd.GeoDataFrame) -> _Points:
        spec = LAYERS[name]
        geoms = np.asarray(gdf.geometry.array, dtype=object)
        rows = np.flatnonzero(usable_geometries(spec, geoms))
        return cls(name, geoms[rows], rows, FeatureLabels(gdf, spec))

    def problem(self, i: int, severity: Severity, code: str, message: str) -> Problem:
        row = int(self.rows[i])
        return Problem(self.name, self.labels(row), severity, code, message, row=row)


@dataclass
class _Lines:
    """The usable lines of ``roads`` and ``ftth_routes``, indexed together."""

    geoms: np.ndarray
    layer: np.ndarray  # layer name of each line
    rows: np.ndarray  # row of each line in its layer
    labels: dict[str, FeatureLabels]
    n_roads: int

    @classmethod
    def of(cls, layers: dict[str, gpd.GeoDataFrame], names: tuple[str, ...]) -> _Lines:
        geoms, owner, rows, labels = [], [], [], {}
        for name in names:
            gdf = layers.get(name)
            if gdf is None:
                continue
            spec = LAYERS[name]
            layer_geoms = np.asarray(gdf.geometry.array, dtype=object)
            layer_rows = np.flatnonzero(usable_geometries(spec, layer_geoms))
            geoms.append(layer_geoms[layer_rows])
            rows.append(layer_rows)
            owner.append(np.full(len(layer_rows), name, dtype=object))
            labels[name] = FeatureLabels(gdf, spec)
        if not geoms:
            return cls(
                np.empty(0, dtype=object), np.empty(0, dtype=object), np.empty(0, int), {}, 0
            )
        n_roads = len(geoms[0]) if names and names[0] in labels else 0
        return cls(
            np.concatenate(geoms), np.concatenate(owner), np.concatenate(rows), labels, n_roads
        )

    def describe(self, i: int) -> str:
        name = str(self.layer[i])
        kind = "road" if name == "roads" else "FttH route"
        return f"{kind} {self.labels[name](int(self.rows[i]))}"


def check_network(
    layers: dict[str, gpd.GeoDataFrame],
    unusable_fields: dict[str, set[str]],
    *,
    warning_m: float,
    error_m: float,
) -> list[Problem]:
    """Distance of masts and FttH nodes to the roads, and FttH reachability of each mast."""
    if "roads" not in layers:
        return []
    roads = _Lines.of(layers, ("roads",))
    if len(roads.geoms) == 0:
        return []
    problems: list[Problem] = []
    road_tree = shapely.STRtree(roads.geoms)
    points = {
        name: _Points.of(name, layers[name]) for name in ("masts", "ftth_nodes") if name in layers
    }
    for pts in points.values():
        problems.extend(
            _far_from_roads(pts, road_tree, roads, warning_m=warning_m, error_m=error_m)
        )
    nodes = points.get("ftth_nodes")
    if (
        "masts" in points
        and nodes is not None
        and "free_fibres" not in unusable_fields.get("ftth_nodes", set())
    ):
        free = pd.to_numeric(layers["ftth_nodes"]["free_fibres"], errors="coerce").to_numpy()
        serving = free[nodes.rows] >= 1
        problems.extend(_unreachable(points["masts"], nodes.geoms[serving], layers))
    return problems


def _far_from_roads(
    pts: _Points, tree: shapely.STRtree, roads: _Lines, *, warning_m: float, error_m: float
) -> list[Problem]:
    if len(pts.geoms) == 0:
        return []
    (near_i, near_road), dist = tree.query_nearest(
        pts.geoms, max_distance=error_m, return_distance=True, all_matches=False
    )
    distance = np.full(len(pts.geoms), np.inf)
    nearest = np.full(len(pts.geoms), -1)
    distance[near_i], nearest[near_i] = dist, near_road
    far = np.flatnonzero(~np.isfinite(distance))
    if len(far):  # beyond the cap: measure them too, they are few
        (far_i, far_road), far_dist = tree.query_nearest(
            pts.geoms[far], return_distance=True, all_matches=False
        )
        distance[far[far_i]], nearest[far[far_i]] = far_dist, far_road
    problems = []
    what = "mast" if pts.name == "masts" else "node"
    for i in np.flatnonzero(distance > warning_m):
        road = roads.describe(int(nearest[i]))
        if distance[i] > error_m:
            message = (
                f"{_metres(distance[i])} from the nearest road ({road}), more than {error_m:g} m: "
                f"the planner will not connect this {what}; move it to its access road or add "
                "the road to the roads layer"
            )
            problems.append(pts.problem(int(i), Severity.ERROR, "far-from-road", message))
        else:
            message = (
                f"{_metres(distance[i])} from the nearest road ({road}), "
                f"more than {warning_m:g} m: check its position"
            )
            problems.append(pts.problem(int(i), Severity.WARNING, "far-from-road", message))
    return problems


def _unreachable(
    masts: _Points, serving_nodes: np.ndarray, layers: dict[str, gpd.GeoDataFrame]
) -> list[Problem]:
    """Masts whose connected piece of roads and FttH routes holds no node with free fibres."""
    lines = _Lines.of(layers, ("roads", "ftth_routes"))
    if len(masts.geoms) == 0 or len(lines.geoms) == 0:
        return []
    tree = shapely.STRtree(lines.geoms)
    # Bulk bounding-box query, then one vectorised distance test on the candidate pairs: about 3x
    # faster than the tree's "dwithin" predicate on 150,000 roads (measured), same pairs.
    bounds = shapely.bounds(lines.geoms)
    tol = CONNECT_TOLERANCE_M
    boxes = shapely.box(
        bounds[:, 0] - tol, bounds[:, 1] - tol, bounds[:, 2] + tol, bounds[:, 3] + tol
    )
    left, right = tree.query(boxes)
    pair = left < right
    left, right = left[pair], right[pair]
    near = shapely.dwithin(lines.geoms[left], lines.geoms[right], tol)
    left, right = left[near], right[near]
    n = len(lines.geoms)
    adjacency = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, component = connected_components(adjacency, directed=False)
    served = np.zeros(component.max() + 1, dtype=bool)
    if len(serving_nodes):
        _, node_line = tree.query_nearest(serving_nodes, all_matches=False)
        served[component[node_line]] = True
    mast_i, mast_line = tree.query_nearest(masts.geoms, all_matches=False)
    mast_component = component[mast_line]
    problems = []
    for i, line, comp in zip(mast_i, mast_line, mast_component, strict=True):
        if served[comp]:
            continue
        members = component == comp
        km = shapely.length(lines.geoms[members]).sum() / 1000
        message = (
            f"no FttH node with free fibres can be reached: its nearest line "
            f"({lines.describe(int(line))}) lies on an island of {_count(members.sum(), 'line')} "
            f"({km:.1f} km) joined to no such node; connect those roads to the network or add "
            "the FttH node"
        )
        problems.append(masts.problem(int(i), Severity.ERROR, "no-ftth-reachable", message))
    return problems


def check_communes(
    layers: dict[str, gpd.GeoDataFrame], unusable_fields: dict[str, set[str]]
) -> list[Problem]:
    """A mast's commune code must be in the communes layer, and the mast inside that commune."""
    if "masts" not in layers or "communes" not in layers:
        return []
    if "commune" in unusable_fields.get("masts", set()) or "code" in unusable_fields.get(
        "communes", set()
    ):
        return []
    masts, communes = layers["masts"], layers["communes"]
    mast_pts = _Points.of("masts", masts)
    codes = masts["commune"].to_numpy(dtype=object)[mast_pts.rows]
    known_codes = ~blank_mask(masts["commune"])[mast_pts.rows]
    commune_codes = [format_value(v) for v in communes["code"].to_numpy(dtype=object)]
    first_row = {}
    for row, code in enumerate(commune_codes):
        first_row.setdefault(code, row)
    polygons = np.asarray(communes.geometry.array, dtype=object)
    usable = usable_geometries(LAYERS["communes"], polygons) & shapely.is_valid(polygons)
    names = communes["nom"] if "nom" in communes.columns else None
    problems = []
    outside: list[tuple[int, int]] = []
    for i in np.flatnonzero(known_codes):
        code = format_value(codes[i])
        row = first_row.get(code)
        if row is None:
            message = (
                f"commune '{code}' is not in the communes layer: correct the INSEE code "
                "or add the commune"
            )
            problems.append(mast_pts.problem(int(i), Severity.ERROR, "unknown-commune", message))
        elif usable[row]:
            outside.append((int(i), row))
    if outside:
        idx = np.array([i for i, _ in outside])
        rows = np.array([row for _, row in outside])
        distance = shapely.distance(mast_pts.geoms[idx], polygons[rows])
        for i, row, d in zip(idx, rows, distance, strict=True):
            if d <= OUTSIDE_COMMUNE_TOLERANCE_M:
                continue
            name = (
                f" ({names.iat[row]})" if names is not None and not pd.isna(names.iat[row]) else ""
            )
            message = (
                f"{_metres(d)} outside its commune {commune_codes[row]}{name}: check the position "
                "or the commune code"
            )
            problems.append(mast_pts.problem(int(i), Severity.WARNING, "outside-commune", message))
    return problems


def _count(n: int, noun: str) -> str:
    return f"{int(n)} {noun}{'' if n == 1 else 's'}"


def _metres(distance: float) -> str:
    """A decimal below a kilometre, so that 200.4 m never reads as the 200 m threshold."""
    return f"{distance:.1f} m" if distance < 1000 else f"{distance:.0f} m"
