"""The routable network: roads and FttH routes as one graph, with masts and FttH nodes on it.

`build_network` is pure: layers in Lambert-93 (``planning.validate.Report.layers``) in, a
`RoutableNetwork` out. Its steps are vectorised with numpy and shapely; Python loops run only over
the lines that must be cut and over the points to attach.

1. Lines of ``roads`` and ``ftth_routes`` are read as segments; segments of different lines that
   cross away from the lines' ends give new points (user data is seldom noded), unless one is on
   a bridge or in a tunnel (the optional ``bridge``/``tunnel`` road fields the importers keep):
   a road passing over another meets it nowhere. Along a bridge or a tunnel the "trench" is a
   duct fixed to the structure, at ``cost.structure_eur_per_m``.
2. Line ends and crossing points closer than ``merge_tolerance_m`` become one graph node
   (cKDTree pairs, then connected components, so chains of close points merge too).
3. A line is cut wherever a graph node lies on its interior (T-junctions, crossings); a
   multi-vertex line between two nodes stays one edge with its full geometry.
4. Lines joining the same two nodes become one edge (see "Parallel lines" below).
5. Masts and FttH nodes are attached to the nearest edge (STRtree ``query_nearest``), splitting
   it at the projected point, with an access trench when the point stands off the line
   (`planning.snapping`; the edge table both share is `planning._edge_table`).

Graph contract (read by `planning.steiner` and the router)
-----------------------------------------------------------
Nodes are integers with ``x``, ``y`` (EPSG:2154, metres). Feature nodes also carry ``kind``
(``"mast"``, or the FttH kind ``"NRO"``, ``"PM"``, ``"PBO"``, ``"chamber"``) and ``feature_id``;
masts add ``commune``, ``cameras``, ``critical``, ``camera_model``, ``priority`` (None when the
layer has none); FttH nodes add ``free_fibres``.
Other nodes have no ``kind``.

Edges of the undirected ``networkx.Graph`` (no self-loops) carry:

- ``length``: metres along ``geometry``, a LineString in EPSG:2154 stored in either orientation
  (`RoutableNetwork.edge_geometry` orients it);
- ``road_id``, ``road_kind``: the road followed, or None along an FttH route with no road and on
  access edges;
- ``route_id``, ``route_kind`` (``"duct"``/``"aerial"``), ``spare``: the FttH route followed and its
  spare capacity (None, None, 0 without one); the router decrements ``spare`` as it uses it;
- ``access``: True for the trench from an off-road point to its snapping point;
- ``modes``: € to lay fibre along the whole edge, cable excluded, per way of doing it:
  ``"trench"`` always (road kind price along a road, ``local`` price elsewhere), ``"duct"`` or
  ``"aerial"`` when the FttH route there has ``spare >= 1``;
- ``mode``: the cheapest key of ``modes``; ``weight``: ``modes[mode]`` + cable €/m x ``length``,
  the weight for `planning.steiner.steiner_tree`.

Parallel lines: lines joining the same two nodes along one corridor (within 5 m Hausdorff distance:
a road and the FttH route along it, typically) become one edge; distinct ways between the same two
nodes are kept apart by a node cut in the middle of all but one. Each mode keeps its cheapest cost
among them, except that trench is priced along the road whenever one of them is a road; road fields
come from the cheapest road, route fields from the route with the cheapest FttH mode, ``geometry``
and ``length`` from the line giving ``mode``. Limits: a line that runs along another and leaves it
at an interior vertex is not cut there; closed loops that nothing splits are dropped (no route uses
them).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry import LineString
from shapely.ops import substring

from planning._edge_table import cut_edges, edge_pieces, empty_lines, objects
from planning.parameters import CostParameters, PlanParameters, RentParameters
from planning.schema import WORK_CRS
from planning.snapping import MAST_FIELDS, Unsnapped, attach_points

__all__ = ["RoutableNetwork", "Unsnapped", "build_network"]

_ROAD = ["road_id", "road_kind", "trench_road"]
_ROUTE = ["route_id", "route_kind", "spare", "duct", "aerial", "route_owner", "rent_rate"]
_EPS = 1e-6  # metres: positions this close to a line's end are its end
_SAME_CORRIDOR_M = 5.0
"""Lines joining the same two nodes within this Hausdorff distance follow one corridor (a road
and the FttH route along it, digitised apart); farther apart they are distinct ways."""


@dataclass
class RoutableNetwork:
    """The graph to route on, and where each mast and FttH node sits in it (see module doc)."""

    graph: nx.Graph
    mast_nodes: dict[Any, int] = field(default_factory=dict)
    ftth_nodes: dict[Any, int] = field(default_factory=dict)
    unsnapped: list[Unsnapped] = field(default_factory=list)
    crs: str = WORK_CRS

    def edge_geometry(self, u: int, v: int) -> LineString:
        """The geometry of edge ``u``-``v``, oriented from ``u`` to ``v``."""
        geom = self.graph.edges[u, v]["geometry"]
        node = self.graph.nodes[u]
        start, end = shapely.get_coordinates(geom)[[0, -1]]
        from_start = math.hypot(start[0] - node["x"], start[1] - node["y"])
        from_end = math.hypot(end[0] - node["x"], end[1] - node["y"])
        return geom if from_start <= from_end else shapely.reverse(geom)

    def to_frames(self) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        """``(edges, nodes)`` as GeoDataFrames in `crs`, for debugging and for the map.

        Edges have ``u``, ``v``, the edge attributes with ``modes`` spread into ``cost_trench``,
        ``cost_duct``, ``cost_aerial`` (NaN when not possible), and the geometry; nodes have
        ``node``, their attributes and a Point geometry.
        """
        edge_rows = []
        for u, v, data in self.graph.edges(data=True):
            row = {"u": u, "v": v, **{k: x for k, x in data.items() if k != "modes"}}
            for mode in ("trench", "duct", "aerial"):
                row[f"cost_{mode}"] = data["modes"].get(mode, np.nan)
            edge_rows.append(row)
        edge_columns = ["u", "v", "length", "mode", "weight", "cost_trench", "cost_duct"]
        edge_columns += ["cost_aerial", "road_id", "road_kind", "route_id", "route_kind"]
        edge_columns += ["spare", "access", "geometry"]
        edges = gpd.GeoDataFrame(
            pd.DataFrame(edge_rows, columns=edge_columns), geometry="geometry", crs=self.crs
        )
        node_rows = [{"node": n, **data} for n, data in self.graph.nodes(data=True)]
        node_columns = ["node", "x", "y", "kind", "feature_id", "free_fibres", *MAST_FIELDS]
        frame = pd.DataFrame(node_rows, columns=node_columns)
        points = shapely.points(frame["x"].to_numpy(float), frame["y"].to_numpy(float))
        nodes = gpd.GeoDataFrame(frame, geometry=points, crs=self.crs)
        return edges, nodes


def build_network(
    layers: dict[str, gpd.GeoDataFrame], params: PlanParameters | None = None
) -> RoutableNetwork:
    """Build the routable graph of roads and FttH routes, with masts and FttH nodes attached.

    Parameters
    ----------
    layers
        The planning layers in EPSG:2154, as in ``planning.validate.Report.layers``; uses
        ``roads``, ``ftth_routes``, ``ftth_nodes`` and ``masts`` (any of them may be missing).
    params
        Prices (``params.cost``) and tolerances (``params.network``); defaults when None.

    Returns
    -------
    RoutableNetwork
        The graph (attributes in the module doc), the node of each mast and FttH node, and the
        points left out because they lie beyond ``max_snap_distance_m`` from every line.
    """
    params = params or PlanParameters()
    tol = params.network.merge_tolerance_m
    lines = _source_lines(layers, params.cost, params.rent)
    seg = _Segments.of(lines["geometry"].to_numpy())
    tree, boxes = seg.tree(tol)
    crossings = _crossing_points(seg, tree, boxes, tol, lines["level"].to_numpy())
    n = len(lines)
    node_xy, labels = _merge_points(np.vstack([seg.first_xy, seg.last_xy, crossings]), tol)
    u, v = labels[:n], labels[n : 2 * n]
    cuts = _nodes_on_lines(node_xy, seg, tree, u=u, v=v, tol=tol)
    edges, node_xy = _separate_corridors(_cut_lines(lines, u, v, cuts, node_xy), node_xy)
    edges = _merge_parallel(edges)
    attached = attach_points(edges, node_xy, layers, params)
    edges, node_xy = _separate_corridors(attached.edges, attached.node_xy)
    edges = _merge_parallel(edges)
    edges = edges[edges["u"].to_numpy() != edges["v"].to_numpy()]
    with _gc_paused():
        graph = _to_graph(edges, node_xy, attached.features, params.cost)
    return RoutableNetwork(graph, attached.mast_nodes, attached.ftth_nodes, attached.unsnapped)


# --- 1. lines and segments -------------------------------------------------------------------


def _source_lines(
    layers: dict[str, gpd.GeoDataFrame], cost: CostParameters, rent: RentParameters
) -> pd.DataFrame:
    """Roads and FttH routes as one table; cost columns hold €/m until lines are cut."""
    frames = []
    roads = layers.get("roads")
    if roads is not None and len(roads):
        geoms, rows = _line_parts(roads)
        kinds = roads["kind"].to_numpy(dtype=object)[rows]
        prices = {kind: cost.trench.for_kind(kind) for kind in set(kinds.tolist())}
        frame = empty_lines(geoms)
        frame["road_id"] = objects(roads["id"])[rows]
        frame["road_kind"] = kinds
        trench = np.array([prices[kind] for kind in kinds.tolist()], dtype=float)
        bridge, tunnel = _flag(roads, "bridge")[rows], _flag(roads, "tunnel")[rows]
        # No trench on a bridge or in a tunnel: a duct fixed to the structure, dearer.
        frame["trench_road"] = np.where(bridge | tunnel, cost.structure_eur_per_m, trench)
        frame["level"] = np.where(bridge, 1, np.where(tunnel, -1, 0)).astype(np.int8)
        frames.append(frame)
    routes = layers.get("ftth_routes")
    if routes is not None and len(routes):
        geoms, rows = _line_parts(routes)
        kinds = routes["kind"].to_numpy(dtype=object)[rows]
        spare = pd.to_numeric(routes["spare"], errors="coerce").fillna(0).clip(lower=0)
        spare = spare.to_numpy().astype(int)[rows]
        owners = objects(routes["owner"]) if "owner" in routes else np.full(len(routes), None)
        owners = np.array([None if pd.isna(o) else str(o) for o in owners[rows]], dtype=object)
        rate_of = {
            (o, k): rent.duct_rate(o, k)
            for o, k in set(zip(owners.tolist(), kinds.tolist(), strict=True))
        }
        rates = np.array(
            [rate_of[o, k] for o, k in zip(owners.tolist(), kinds.tolist(), strict=True)]
        )
        # Reuse is rented every year: over the horizon it competes with a trench paid once.
        rented = rates * rent.horizon_years
        frame = empty_lines(geoms)
        frame["route_id"] = objects(routes["id"])[rows]
        frame["route_kind"] = kinds
        frame["spare"] = spare
        frame["route_owner"] = owners
        frame["rent_rate"] = rates
        frame["duct"] = np.where(
            (kinds == "duct") & (spare >= 1), cost.duct_eur_per_m + rented, np.nan
        )
        frame["aerial"] = np.where(
            (kinds == "aerial") & (spare >= 1), cost.aerial_eur_per_m + rented, np.nan
        )
        frame["trench_other"] = cost.trench.local
        frames.append(frame)
    if not frames:
        return empty_lines(np.empty(0, dtype=object))
    return pd.concat(frames, ignore_index=True)


def _line_parts(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Single LineStrings of a layer (multi-parts split), at least two points each, and rows."""
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    kind = shapely.get_type_id(geoms)
    usable = np.flatnonzero(((kind == 1) | (kind == 5)) & ~shapely.is_empty(geoms))
    parts, index = shapely.get_parts(geoms[usable], return_index=True)
    keep = shapely.get_num_coordinates(parts) >= 2
    return parts[keep], usable[index[keep]]


@dataclass
class _Segments:
    """The straight segments of lines, and where each starts along its line."""

    line: np.ndarray  # line of each segment
    p0: np.ndarray  # (m, 2)
    p1: np.ndarray  # (m, 2)
    start: np.ndarray  # distance along the line at p0
    length: np.ndarray
    first_xy: np.ndarray  # (n, 2) first point of each line
    last_xy: np.ndarray
    line_length: np.ndarray

    @classmethod
    def of(cls, geoms: np.ndarray) -> _Segments:
        coords, index = shapely.get_coordinates(geoms, return_index=True)
        k = np.flatnonzero(index[1:] == index[:-1])
        line, p0, p1 = index[k], coords[k], coords[k + 1]
        length = np.hypot(*(p1 - p0).T)
        start = np.cumsum(length) - length
        start -= start[np.searchsorted(line, line)]  # from the first segment of each line
        n = len(geoms)
        first = np.searchsorted(index, np.arange(n))
        last = np.searchsorted(index, np.arange(n), side="right") - 1
        return cls(
            line, p0, p1, start, length, coords[first], coords[last], np.bincount(line, length, n)
        )

    def tree(self, tol: float) -> tuple[shapely.STRtree, np.ndarray]:
        """An STRtree of the segments' boxes grown by ``tol``, and the boxes."""
        lo = np.minimum(self.p0, self.p1) - tol
        hi = np.maximum(self.p0, self.p1) + tol
        boxes = shapely.box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1])
        return shapely.STRtree(boxes), boxes


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]


def _flag(gdf: gpd.GeoDataFrame, column: str) -> np.ndarray:
    """An optional boolean field as a mask (False where absent or blank)."""
    if column not in gdf.columns:
        return np.zeros(len(gdf), bool)
    values = pd.to_numeric(gdf[column], errors="coerce").fillna(0)
    return values.to_numpy() != 0


def _crossing_points(
    seg: _Segments,
    tree: shapely.STRtree,
    boxes: np.ndarray,
    tol: float,
    level: np.ndarray | None = None,
) -> np.ndarray:
    """Points where two lines meet away from both lines' ends, as an (k, 2) array.

    Segment pairs come from the tree (bounding boxes), the test is numpy. Touching at a vertex
    of both segments counts (lines crossing at a shared interior vertex), unless the two lines
    also run along each other: a road and the FttH route on it share every vertex.
    """
    a, b = tree.query(boxes)
    keep = (a < b) & (seg.line[a] != seg.line[b])
    a, b = a[keep], b[keep]
    p, r = seg.p0[a], seg.p1[a] - seg.p0[a]
    q, s = seg.p0[b], seg.p1[b] - seg.p0[b]
    denom, qp = _cross(r, s), q - p
    parallel = np.abs(denom) <= 1e-12 * (seg.length[a] * seg.length[b] + 1e-12)
    t = np.full(len(a), np.nan)
    w = np.full(len(a), np.nan)
    crossing = ~parallel
    t[crossing] = _cross(qp[crossing], s[crossing]) / denom[crossing]
    w[crossing] = _cross(qp[crossing], r[crossing]) / denom[crossing]
    hit = (t >= -_EPS) & (t <= 1 + _EPS) & (w >= -_EPS) & (w <= 1 + _EPS)
    la, lb = seg.line[a], seg.line[b]
    if level is not None:  # a bridge over a road, a tunnel under it: no junction there
        hit &= level[la] == level[lb]
    n = len(seg.first_xy)
    pair = np.minimum(la, lb).astype(np.int64) * n + np.maximum(la, lb)
    # Lines that run along each other: collinear segments overlapping by more than tol.
    k = np.flatnonzero(parallel)
    norm = np.maximum(seg.length[a[k]], 1e-12)
    t0 = (qp[k] * r[k]).sum(1) / norm**2
    t1 = ((qp[k] + s[k]) * r[k]).sum(1) / norm**2
    overlap = (np.minimum(1, np.maximum(t0, t1)) - np.maximum(0, np.minimum(t0, t1))) * norm
    along = (np.abs(_cross(qp[k], r[k])) <= tol * norm) & (overlap > tol)
    pts = p[hit] + t[hit, None] * r[hit]
    ends = (seg.first_xy[la[hit]], seg.last_xy[la[hit]])
    ends += (seg.first_xy[lb[hit]], seg.last_xy[lb[hit]])
    near = np.zeros(len(pts), bool)
    for xy in ends:
        near |= np.hypot(*(pts - xy).T) <= tol
    at_vertex = (np.minimum(t[hit], 1 - t[hit]) * seg.length[a[hit]] <= tol) & (
        np.minimum(w[hit], 1 - w[hit]) * seg.length[b[hit]] <= tol
    )
    shadowed = at_vertex & np.isin(pair[hit], pair[k[along]])
    return pts[~near & ~shadowed]


# --- 2. nodes --------------------------------------------------------------------------------


def _merge_points(points: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Merge points closer than ``tol`` (transitively): node coordinates, node of each point."""
    if len(points) == 0:
        return np.empty((0, 2)), np.empty(0, dtype=np.int64)
    # Exact duplicates first (most line ends are shared), by a lexsort: faster than np.unique.
    order = np.lexsort((points[:, 1], points[:, 0]))
    ordered = points[order]
    fresh = np.r_[True, np.any(ordered[1:] != ordered[:-1], axis=1)]
    inverse = np.empty(len(points), dtype=np.int64)
    inverse[order] = np.cumsum(fresh) - 1
    unique = ordered[fresh]
    pairs = cKDTree(unique).query_pairs(tol, output_type="ndarray")
    m = len(unique)
    if len(pairs):
        adjacency = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(m, m))
        _, component = connected_components(adjacency, directed=False)
    else:
        component = np.arange(m)
    _, first = np.unique(component, return_index=True)
    return unique[first], component[inverse]


def _nodes_on_lines(
    node_xy: np.ndarray,
    seg: _Segments,
    tree: shapely.STRtree,
    *,
    u: np.ndarray,
    v: np.ndarray,
    tol: float,
) -> pd.DataFrame:
    """Nodes within ``tol`` of a line's interior: ``line``, ``pos`` along it, ``node``."""
    ni, si = tree.query(shapely.points(node_xy))
    p0, d = seg.p0[si], seg.p1[si] - seg.p0[si]
    dd = (d * d).sum(1)
    t = np.clip(((node_xy[ni] - p0) * d).sum(1) / np.where(dd > 0, dd, 1.0), 0.0, 1.0)
    dist = np.hypot(*(p0 + t[:, None] * d - node_xy[ni]).T)
    line = seg.line[si]
    pos = seg.start[si] + t * seg.length[si]
    keep = (dist <= tol) & (ni != u[line]) & (ni != v[line])
    keep &= (pos > _EPS) & (pos < seg.line_length[line] - _EPS)
    cuts = pd.DataFrame({"line": line[keep], "pos": pos[keep], "node": ni[keep], "d": dist[keep]})
    cuts = cuts.sort_values("d").drop_duplicates(["line", "node"])
    return cuts.sort_values(["line", "pos"], ignore_index=True)


# --- 3. edges --------------------------------------------------------------------------------


def _cut_lines(
    lines: pd.DataFrame, u: np.ndarray, v: np.ndarray, cuts: pd.DataFrame, node_xy: np.ndarray
) -> pd.DataFrame:
    """Lines cut at ``cuts``, with end points pinned to their nodes and costs in €."""
    geoms = lines["geometry"].to_numpy()
    cut = np.zeros(len(lines), bool)
    cut[cuts["line"].to_numpy()] = True
    src, pieces, pu, pv = [np.flatnonzero(~cut)], [geoms[~cut]], [u[~cut]], [v[~cut]]
    extra_src, extra_geom, extra_u, extra_v = [], [], [], []
    for line, group in cuts.groupby("line", sort=False):
        i = int(line)
        where = [0.0, *group["pos"].tolist(), float(shapely.length(geoms[i]))]
        nodes = [int(u[i]), *group["node"].tolist(), int(v[i])]
        for k in range(len(nodes) - 1):
            extra_src.append(i)
            extra_geom.append(substring(geoms[i], where[k], where[k + 1]))
            extra_u.append(nodes[k])
            extra_v.append(nodes[k + 1])
    src.append(np.asarray(extra_src, dtype=int))
    pieces.append(np.asarray([*extra_geom, None], dtype=object)[:-1])
    pu.append(np.asarray(extra_u, dtype=int))
    pv.append(np.asarray(extra_v, dtype=int))
    return edge_pieces(
        lines,
        np.concatenate(src),
        geoms=np.concatenate(pieces),
        pu=pu,
        pv=pv,
        node_xy=node_xy,
        fraction=None,
    )


def _pair_keys(edges: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """A key per unordered pair of end nodes, and which rows share their key with another."""
    u, v = edges["u"].to_numpy(), edges["v"].to_numpy()
    lo, hi = np.minimum(u, v).astype(np.int64), np.maximum(u, v).astype(np.int64)
    key = lo * (int(hi.max(initial=0)) + 1) + hi
    return key, pd.Series(key).duplicated(keep=False).to_numpy()


def _separate_corridors(
    edges: pd.DataFrame, node_xy: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """Give a node of its own to each distinct path between the same two nodes.

    Two roads joining the same junctions by different ways (farther apart than
    `_SAME_CORRIDOR_M`) are both kept: all but the first corridor are cut at their middle by a new
    node, which every line of that corridor shares. Lines of one corridor (a road and the FttH
    route laid along it) stay parallel, for `_merge_parallel`.
    """
    key, dup = _pair_keys(edges)
    rows = np.flatnonzero(dup & (edges["u"].to_numpy() != edges["v"].to_numpy()))
    if not len(rows):
        return edges, node_xy
    rows = rows[np.argsort(key[rows], kind="stable")]
    geoms = edges["geometry"].to_numpy()
    heads = np.r_[True, key[rows][1:] != key[rows][:-1]]
    reference = rows[np.flatnonzero(heads)[np.cumsum(heads) - 1]]
    far = shapely.hausdorff_distance(geoms[rows], geoms[reference]) > _SAME_CORRIDOR_M
    cut_rows, cut_pos, cut_nodes, new_xy = [], [], [], []
    next_id = len(node_xy)
    for group in np.unique(key[rows][far]).tolist():
        corridors: list[tuple[Any, list[int]]] = []  # (first geometry, rows)
        for row in rows[key[rows] == group].tolist():
            for first, members in corridors:
                if shapely.hausdorff_distance(geoms[row], first) <= _SAME_CORRIDOR_M:
                    members.append(row)
                    break
            else:
                corridors.append((geoms[row], [row]))
        for first, members in corridors[1:]:
            middle = shapely.line_interpolate_point(first, 0.5, normalized=True)
            new_xy.append(shapely.get_coordinates(middle)[0])
            for row in members:
                cut_rows.append(row)
                cut_pos.append(float(shapely.line_locate_point(geoms[row], middle)))
                cut_nodes.append(next_id)
            next_id += 1
    if not cut_rows:
        return edges, node_xy
    node_xy = np.vstack([node_xy, np.asarray(new_xy).reshape(-1, 2)])
    order = np.argsort(cut_rows, kind="stable")
    edges = cut_edges(
        edges,
        np.asarray(cut_rows)[order],
        np.asarray(cut_pos)[order],
        np.asarray(cut_nodes)[order],
        node_xy,
    )
    return edges, node_xy


def _merge_parallel(edges: pd.DataFrame) -> pd.DataFrame:
    """One row per pair of nodes: each mode at its cheapest (see module doc, Parallel lines)."""
    key, dup = _pair_keys(edges)
    if not dup.any():
        return edges
    d = edges[dup].reset_index(drop=True)
    d["_key"] = key[dup]
    has_road = d.groupby("_key")["trench_road"].transform("count").to_numpy() > 0
    other = d["trench_other"].where(~has_road)
    d["_best"] = pd.concat([d[["trench_road", "duct", "aerial"]], other], axis=1).min(axis=1)
    d["_ftth"] = d[["duct", "aerial"]].min(axis=1)
    d["_no_route"] = d["route_id"].isna()

    def first_by(*columns: str) -> pd.DataFrame:
        ordered = d.sort_values(["_key", *columns], na_position="last", kind="mergesort")
        return ordered.drop_duplicates("_key").set_index("_key")

    merged = first_by("_best")
    road, route = first_by("trench_road"), first_by("_ftth", "_no_route")
    merged[_ROAD] = road[_ROAD]
    merged[_ROUTE] = route[_ROUTE]
    other_min = d.groupby("_key")["trench_other"].min()
    merged["trench_other"] = other_min.where(merged["trench_road"].isna())
    merged = merged.drop(columns=["_best", "_ftth", "_no_route"]).reset_index(drop=True)
    return pd.concat([edges[~dup], merged], ignore_index=True)


# --- 5. graph --------------------------------------------------------------------------------


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building the graph.

    A département's graph is a few hundred thousand small dicts, none in a reference cycle; the
    collector would rescan them again and again (measured: it doubles the graph's build time).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _to_graph(
    edges: pd.DataFrame,
    node_xy: np.ndarray,
    features: dict[int, dict[str, Any]],
    cost: CostParameters,
) -> nx.Graph:
    trench = edges["trench_road"].fillna(edges["trench_other"]).to_numpy()
    duct, aerial = edges["duct"].to_numpy(), edges["aerial"].to_numpy()
    stacked = np.nan_to_num(np.stack([trench, duct, aerial], axis=1), nan=np.inf)
    choice = stacked.argmin(axis=1)
    length = edges["length"].to_numpy()
    weight = stacked[np.arange(len(edges)), choice] + cost.cable_eur_per_m * length
    names = np.array(["trench", "duct", "aerial"], dtype=object)[choice]
    u, v = edges["u"].to_numpy(), edges["v"].to_numpy()
    used = np.unique(np.concatenate([u, v, np.asarray(list(features), dtype=int)]))
    graph = nx.Graph()
    xs, ys = node_xy[used, 0].tolist(), node_xy[used, 1].tolist()
    graph.add_nodes_from(
        (n, {"x": x, "y": y}) for n, x, y in zip(used.tolist(), xs, ys, strict=True)
    )
    for node, attrs in features.items():
        graph.nodes[node].update(attrs)

    def modes(t: float, d: float, a: float) -> dict[str, float]:
        out = {"trench": t}
        if not math.isnan(d):
            out["duct"] = d
        if not math.isnan(a):
            out["aerial"] = a
        return out

    columns = zip(
        u.tolist(), v.tolist(), length.tolist(), edges["geometry"].tolist(),
        edges["road_id"].tolist(), edges["road_kind"].tolist(), edges["route_id"].tolist(),
        edges["route_kind"].tolist(), edges["spare"].astype(int).tolist(),
        edges["access"].astype(bool).tolist(), trench.tolist(), duct.tolist(), aerial.tolist(),
        names.tolist(), weight.tolist(), edges["route_owner"].tolist(),
        edges["rent_rate"].astype(float).tolist(),
        strict=True,
    )  # fmt: skip
    graph.add_edges_from(
        (
            a,
            b,
            {
                "length": ln,
                "geometry": g,
                "road_id": rid,
                "road_kind": rk,
                "route_id": tid,
                "route_kind": tk,
                "spare": sp,
                "access": acc,
                "modes": modes(t, d, ae),
                "mode": m,
                "weight": w,
                "owner": own,
                "rent_rate": rr,
            },
        )
        for a, b, ln, g, rid, rk, tid, tk, sp, acc, t, d, ae, m, w, own, rr in columns
    )
    return graph
