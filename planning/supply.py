"""What each mast needs besides fibre, read from the input layers: its camera model and power.

The estimate prices a mast's electricity by its power point of the `power_points` layer: an
Enedis delivery point (a connection under Enedis's scale of charges) or a public-lighting cabinet
(adapted to give a permanent supply, as communes commonly do for their cameras), plus the
low-voltage link to it.

Engineers lay that link along the roads, in a second duct of the fibre's new trench where both
go the same way, so `routed_supply` measures it on the planner's own graph: one multi-source
shortest-path pass from every power point (each joined to the ends of its nearest edge, as the
CSU is in `planning.transport`), weighted by what a metre of link costs (cable and a second duct
in the fibre's new trench, cable and a trench of its own elsewhere), gives each mast the point
whose link costs least and the path to it; the path's edges that are new fibre trenches of the
plan are ``shared``, the others need a trench of their own. A mast or a point off the network
falls back to the crow-flies measure of `mast_supply`. Pure: layers in (Lambert-93), tables out.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString, Point
from shapely.ops import substring

from planning.network import RoutableNetwork
from planning.parameters import CostParameters, PlanParameters
from planning.plan import MastPower, Plan, PowerPiece, PowerSupply
from planning.transport import CompiledGraph

log = logging.getLogger(__name__)

SUPPLY_COLUMNS = ("camera_model", "power_point_id", "power_kind", "power_distance_m")
"""The columns every plan's masts layer has (`mast_supply`; routed since `ROUTED_COLUMNS`)."""
ROUTED_COLUMNS = ("power_shared_m", "power_trench_m", "power_path")
"""The columns a plan measured along the roads adds; a plan folder without them is older, and
its ``power_distance_m`` is as the crow flies."""
SHARED, OWN, CROW_FLIES = "shared", "own", "crow_flies"
"""How a piece of low-voltage link is laid (`planning.plan.PowerPiece.laying`)."""
_MIN_PIECE_M = 0.01


def mast_supply(masts: gpd.GeoDataFrame, power_points: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """Per mast id: ``camera_model`` and the nearest power point as the crow flies (id, kind, m).

    Masts with no power point at all get an empty id and kind and a NaN distance; the estimate
    then prices an Enedis complete branch with no extra metres, and says so.
    """
    ids = masts["id"].astype(str).to_numpy()
    models = (
        masts["camera_model"].fillna("").astype(str).to_numpy()
        if "camera_model" in masts
        else np.full(len(masts), "", dtype=object)
    )
    point_ids = np.full(len(masts), "", dtype=object)
    kinds = np.full(len(masts), "", dtype=object)
    distances = np.full(len(masts), np.nan)
    if power_points is not None and len(power_points) and len(masts):
        (mast_pos, point_pos), nearest_m = power_points.sindex.nearest(
            masts.geometry, return_all=False, return_distance=True
        )
        point_ids[mast_pos] = power_points["id"].astype(str).to_numpy()[point_pos]
        kinds[mast_pos] = power_points["kind"].astype(str).to_numpy()[point_pos]
        distances[mast_pos] = np.round(nearest_m, 1)
    return pd.DataFrame(
        dict(zip(SUPPLY_COLUMNS, (models, point_ids, kinds, distances), strict=True)),
        index=pd.Index(ids, name="mast_id"),
    )


@dataclass(frozen=True)
class _Anchors:
    """Power points joined to the graph: each to both ends of its nearest edge."""

    point: np.ndarray  # row in the power_points layer, per anchored point
    edge: np.ndarray  # its nearest edge (row of `CompiledGraph.edge_geoms`)
    start: np.ndarray  # node index at the first vertex of that edge's line
    end: np.ndarray  # node index at its last vertex
    along: np.ndarray  # metres from the line's start to the projected point
    off: np.ndarray  # metres from the line to the point (off-road part)
    points: np.ndarray  # every power point's geometry (by layer row)


def routed_supply(
    net: RoutableNetwork,
    plan: Plan,
    power_points: gpd.GeoDataFrame | None,
    masts: gpd.GeoDataFrame,
    params: PlanParameters,
) -> PowerSupply:
    """Each mast of ``plan``'s cheapest power point along the roads, and its low-voltage link.

    Stretches along new fibre trenches of ``plan`` are ``shared``; the others, and the off-road
    stretch to the point, ``own``. Masts no road joins to a point are measured as the crow flies
    (``crow_flies``); ``plan.notes`` counts them, and the points too far from any road.
    """
    crow = mast_supply(masts, power_points)
    supply = PowerSupply()
    if power_points is None or not len(power_points):
        for mast in plan.masts:
            mast_id = str(mast.mast_id)
            supply.masts[mast_id] = MastPower(mast_id, "", "", math.nan, 0.0, 0.0, "")
        return supply
    compiled = CompiledGraph.of(net)
    points = np.asarray(power_points.geometry.array, dtype=object)
    anchors = _anchor(compiled, points, params.network.max_snap_distance_m)
    shared = {t.geometry.wkb for t in plan.trenches if t.mode == "trench"}
    dist, pred, source = _cheapest_points(compiled, anchors, shared, params.cost)
    ids = power_points["id"].astype(str).to_numpy()
    kinds = power_points["kind"].astype(str).to_numpy()
    where = dict(zip(ids.tolist(), points.tolist(), strict=True))
    mast_at = dict(zip(masts["id"].astype(str), masts.geometry, strict=True))
    mast_nodes = {str(m): node for m, node in net.mast_nodes.items()}
    for mast in plan.masts:
        mast_id = str(mast.mast_id)
        node = mast_nodes.get(mast_id)
        at = compiled.index[node] if node is not None else -1
        if at >= 0 and np.isfinite(dist[at]):
            j = int(source[at]) - len(compiled.nodes)
            row = int(anchors.point[j])
            point_id, kind = str(ids[row]), str(kinds[row])
            pieces = _route_pieces(
                net,
                compiled,
                anchors,
                j,
                _walk(pred, at),
                mast_id=mast_id,
                point_id=point_id,
                shared=shared,
            )
            supply.masts[mast_id] = _mast_power(mast_id, point_id, kind, pieces)
        else:
            power, pieces = _crow_flies(mast_id, mast_at.get(mast_id), crow, where)
            supply.masts[mast_id] = power
        supply.pieces.extend(pieces)
    _note(plan, supply, len(points) - len(anchors.point), params)
    return supply


def _anchor(compiled: CompiledGraph, points: np.ndarray, max_m: float) -> _Anchors:
    """Every power point within ``max_m`` of an edge, on its nearest edge (one STRtree query)."""
    usable = np.flatnonzero(
        (shapely.get_type_id(points) == 0) & ~shapely.is_empty(points)
        if len(points)
        else np.zeros(0, bool)
    )
    empty = np.zeros(0, dtype=np.int64)
    if not len(compiled.edge_geoms) or not len(usable):
        return _Anchors(empty, empty, empty, empty, np.zeros(0), np.zeros(0), points)
    tree = shapely.STRtree(compiled.edge_geoms)
    (qi, edge), off = tree.query_nearest(
        points[usable], max_distance=max_m, return_distance=True, all_matches=False
    )
    point = usable[qi]
    lines = compiled.edge_geoms[edge]
    along = shapely.line_locate_point(lines, points[point])
    u, v = compiled.edge_ends[edge, 0], compiled.edge_ends[edge, 1]
    first = shapely.get_coordinates(shapely.get_point(lines, 0))
    flip = np.hypot(*(first - compiled.xy[u]).T) > np.hypot(*(first - compiled.xy[v]).T)
    start, end = np.where(flip, v, u), np.where(flip, u, v)
    return _Anchors(point, edge, start, end, along, off, points)


def _cheapest_points(
    compiled: CompiledGraph, anchors: _Anchors, shared: set[bytes], cost: CostParameters
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Dijkstra pass from every anchored point (a virtual node each), over what a metre of
    link costs: cable plus a second duct along the fibre's new trenches, cable plus a trench of
    its own elsewhere. Returns cost, predecessor and the virtual node each graph node is joined
    to: the point whose link costs least (the nearest, where no fibre trench leads elsewhere)."""
    n, k = len(compiled.nodes), len(anchors.point)
    if not k:
        return np.full(n, np.inf), np.full(n, -9999), np.full(n, -9999)
    own = cost.lv_cable_eur_per_m + cost.lv_trench_eur_per_m
    in_trench = cost.lv_cable_eur_per_m + cost.lv_shared_duct_eur_per_m
    length = np.maximum(shapely.length(compiled.edge_geoms), 1e-6)
    is_shared = (
        np.fromiter((g.wkb in shared for g in compiled.edge_geoms), dtype=bool, count=len(length))
        if shared
        else np.zeros(len(length), dtype=bool)
    )
    rate = np.where(is_shared, in_trench, own)
    weight = np.maximum(length * rate, 1e-6)
    virtual = n + np.arange(k)
    total = length[anchors.edge]
    on_edge = rate[anchors.edge]
    to_start = np.maximum(anchors.off * own + anchors.along * on_edge, 1e-6)
    to_end = np.maximum(anchors.off * own + (total - anchors.along) * on_edge, 1e-6)
    u, v = compiled.edge_ends[:, 0], compiled.edge_ends[:, 1]
    rows = np.concatenate([u, v, virtual, virtual, anchors.start, anchors.end])
    cols = np.concatenate([v, u, anchors.start, anchors.end, virtual, virtual])
    data = np.concatenate([weight, weight, to_start, to_end, to_start, to_end])
    order = np.lexsort((data, cols, rows))  # parallel edges: keep the cheapest, never a sum
    rows, cols, data = rows[order], cols[order], data[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    matrix = csr_matrix((data[first], (rows[first], cols[first])), shape=(n + k, n + k))
    dist, pred, source = dijkstra(
        matrix, directed=False, indices=virtual, min_only=True, return_predecessors=True
    )
    return dist, pred, source


def _walk(pred: np.ndarray, target: int) -> list[int]:
    """Node indices from ``target`` back to its source (the virtual node last)."""
    out = [target]
    while pred[out[-1]] >= 0:
        out.append(int(pred[out[-1]]))
    return out


def _route_pieces(
    net: RoutableNetwork,
    compiled: CompiledGraph,
    anchors: _Anchors,
    j: int,
    path: list[int],
    *,
    mast_id: str,
    point_id: str,
    shared: set[bytes],
) -> list[PowerPiece]:
    """The stretches of one mast's link, mast first: whole edges, part of the point's edge,
    off-road to the point. Keys name each stretch, so masts sharing one count its trench once."""
    pieces: list[PowerPiece] = []
    real = path[:-1]  # the last is the point's virtual node
    for a, b in itertools.pairwise(real):
        u, v = compiled.nodes[a], compiled.nodes[b]
        data = net.graph.edges[u, v]
        laying = SHARED if data["geometry"].wkb in shared else OWN
        pieces.append(
            PowerPiece(
                mast_id,
                point_id,
                f"e{min(a, b)}-{max(a, b)}",
                laying,
                round(float(data["length"]), 2),
                net.edge_geometry(u, v),
            )
        )
    line = compiled.edge_geoms[anchors.edge[j]]
    along = float(anchors.along[j])
    if real[-1] == anchors.start[j]:
        part, side = substring(line, 0.0, along), "s"
    else:
        part, side = shapely.reverse(substring(line, along, line.length)), "e"
    laying = SHARED if line.wkb in shared else OWN
    key = f"p{anchors.edge[j]}{side}"
    pieces.append(PowerPiece(mast_id, point_id, key, laying, round(part.length, 2), part))
    off_road = LineString([line.interpolate(along), _point_at(anchors, j)])
    pieces.append(
        PowerPiece(mast_id, point_id, f"o{point_id}", OWN, round(off_road.length, 2), off_road)
    )
    return [p for p in pieces if p.length_m >= _MIN_PIECE_M]


def _point_at(anchors: _Anchors, j: int) -> Point:
    return anchors.points[anchors.point[j]]


def _mast_power(mast_id: str, point_id: str, kind: str, pieces: list[PowerPiece]) -> MastPower:
    shared = sum(p.length_m for p in pieces if p.laying == SHARED)
    own = sum(p.length_m for p in pieces if p.laying != SHARED)
    return MastPower(
        mast_id,
        point_id,
        kind,
        round(shared + own, 1),
        round(shared, 1),
        round(own, 1),
        "road",
    )


def _crow_flies(
    mast_id: str, mast_point: Point | None, crow: pd.DataFrame, where: dict[str, Point]
) -> tuple[MastPower, list[PowerPiece]]:
    """A mast no road joins to a power point: straight to its nearest one, in a trench of its
    own (or nothing at all without any power point, or without a point geometry)."""
    point_id = str(crow.at[mast_id, "power_point_id"]) if mast_id in crow.index else ""
    if not point_id or mast_point is None or mast_point.is_empty:
        return MastPower(mast_id, "", "", math.nan, 0.0, 0.0, ""), []
    line = LineString([mast_point, where[point_id]])
    piece = PowerPiece(mast_id, point_id, f"c{mast_id}", CROW_FLIES, round(line.length, 2), line)
    kind = str(crow.at[mast_id, "power_kind"])
    length = round(line.length, 1)
    return MastPower(mast_id, point_id, kind, length, 0.0, length, CROW_FLIES), [piece]


def _note(plan: Plan, supply: PowerSupply, far_points: int, params: PlanParameters) -> None:
    """Say in the plan's notes what was not measured along the roads."""
    limit = params.network.max_snap_distance_m
    if far_points:
        plan.notes.append(
            f"{far_points} power points lie more than {limit:,.0f} m from any road or FttH route: "
            "no low-voltage link is laid to them along the roads"
        )
    crow = sorted(m.mast_id for m in supply.masts.values() if m.path == CROW_FLIES)
    if crow:
        plan.notes.append(
            f"{len(crow)} masts have no road to a power point: their low-voltage link is "
            f"measured as the crow flies, in a trench of its own ({', '.join(crow[:5])}"
            + (" ..." if len(crow) > 5 else "")
            + ")"
        )
    totals = supply.totals()
    log.info(
        "low-voltage links: %.0f m of cable, %.0f m in the fibre's trenches, %.0f m of own trench",
        totals["cable_m"],
        totals["trench_shared_m"],
        totals["trench_m"],
    )
