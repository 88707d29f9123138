"""Masts and FttH nodes onto the network: each point joins the nearest edge, cutting it.

Internal step 5 of `planning.network.build_network`: an STRtree ``query_nearest`` finds the
nearest edge within ``max_snap_distance_m`` (no scan); the edge is cut at the projected point
(points closer than ``merge_tolerance_m`` along an edge share one cut), and a point standing off
the line gets a node of its own and an access trench at the ``local`` price. Points beyond the
limit, or without a point geometry, are reported as `Unsnapped`, never moved silently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planning._edge_table import cut_edges, empty_lines, objects
from planning.parameters import PlanParameters

__all__ = ["MAST_FIELDS", "Attached", "Unsnapped", "attach_points"]

MAST_FIELDS = ("commune", "cameras", "critical", "camera_model", "priority")
"""Mast fields copied onto its graph node; ``priority`` is None when the layer has no such field
(`planning.budget.mast_priority` gives the default)."""
FTTH_FIELDS = ("parent", "owner", "manager")
"""Optional fields of FttH nodes kept on their graph node (None when absent)."""


@dataclass(frozen=True)
class Unsnapped:
    """A mast or FttH node left out of the graph, and why."""

    layer: str
    feature_id: Any
    distance_m: float
    reason: str


@dataclass
class Attached:
    edges: pd.DataFrame
    node_xy: np.ndarray
    features: dict[int, dict[str, Any]]
    mast_nodes: dict[Any, int]
    ftth_nodes: dict[Any, int]
    unsnapped: list[Unsnapped]


def _point_features(layers: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """FttH nodes then masts: ``layer``, ``feature_id``, ``point``, ``attrs`` (node attributes)."""
    frames = []
    for name in ("ftth_nodes", "masts"):
        gdf = layers.get(name)
        if gdf is None or not len(gdf):
            continue
        ids = objects(gdf["id"])
        if name == "masts":
            values = {f: gdf[f].tolist() if f in gdf else [None] * len(gdf) for f in MAST_FIELDS}
            attrs = [
                {
                    "kind": "mast",
                    "feature_id": ids[i],
                    "commune": _text(values["commune"][i]),
                    "cameras": _integer(values["cameras"][i]),
                    "critical": _flag(values["critical"][i]),
                    "camera_model": _text(values["camera_model"][i]),
                    "priority": _integer(values["priority"][i]),
                }
                for i in range(len(gdf))
            ]
        else:
            kinds, free = gdf["kind"].tolist(), gdf["free_fibres"].tolist()
            extra = {f: gdf[f].tolist() if f in gdf else [None] * len(gdf) for f in FTTH_FIELDS}
            attrs = [
                {
                    "kind": _text(kinds[i]),
                    "feature_id": ids[i],
                    "free_fibres": _integer(free[i]),
                    **{f: _text(extra[f][i]) for f in FTTH_FIELDS},
                }
                for i in range(len(gdf))
            ]
        frames.append(
            pd.DataFrame(
                {
                    "layer": name,
                    "feature_id": ids,
                    "point": np.asarray(gdf.geometry.array, dtype=object),
                    "attrs": attrs,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["layer", "feature_id", "point", "attrs"])
    return pd.concat(frames, ignore_index=True)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _text(value: Any) -> str | None:
    return None if _missing(value) else str(value)


def _integer(value: Any) -> int | None:
    return None if _missing(value) else int(value)


def _flag(value: Any) -> bool | None:
    return None if _missing(value) else bool(value)


def attach_points(
    edges: pd.DataFrame,
    node_xy: np.ndarray,
    layers: dict[str, gpd.GeoDataFrame],
    params: PlanParameters,
) -> Attached:
    """Snap FttH nodes and masts onto the nearest edge, cutting it; add access edges."""
    tol, limit = params.network.merge_tolerance_m, params.network.max_snap_distance_m
    feats = _point_features(layers)
    points = feats["point"].to_numpy()
    usable = np.flatnonzero(
        (shapely.get_type_id(points) == 0) & ~shapely.is_empty(points)
        if len(points)
        else np.zeros(0, bool)
    )
    geoms = edges["geometry"].to_numpy()
    tree = shapely.STRtree(geoms)
    unsnapped: list[Unsnapped] = []
    for i in np.setdiff1d(np.arange(len(feats)), usable):
        row = feats.iloc[i]
        unsnapped.append(Unsnapped(row.layer, row.feature_id, math.nan, "has no point geometry"))
    if len(geoms) and len(usable):
        (qi, ei), dist = tree.query_nearest(
            points[usable], max_distance=limit, return_distance=True, all_matches=False
        )
    else:
        qi, ei, dist = (np.zeros(0, int), np.zeros(0, int), np.zeros(0))
    far = usable[np.setdiff1d(np.arange(len(usable)), qi)]
    unsnapped.extend(_too_far(feats, far, tree, limit))
    fi = usable[qi]  # snapped features, in feature order (FttH nodes, then masts)

    # Where on its edge each point falls: a node at either end, or a new node that cuts it.
    line = geoms[ei]
    pos = shapely.line_locate_point(line, points[fi])
    length = shapely.length(line)
    u, v = edges["u"].to_numpy()[ei], edges["v"].to_numpy()[ei]
    snap = np.where(pos <= np.minimum(tol, length / 2), u, np.where(pos >= length - tol, v, -1))
    inner = np.flatnonzero(snap < 0)
    order = inner[np.lexsort((pos[inner], ei[inner]))]
    new_cluster = np.ones(len(order), bool)
    new_cluster[1:] = (ei[order][1:] != ei[order][:-1]) | (np.diff(pos[order]) > tol)
    cluster = np.cumsum(new_cluster) - 1
    heads = order[new_cluster]
    new_ids = len(node_xy) + np.arange(len(heads))
    snap[order] = new_ids[cluster]
    new_xy = shapely.get_coordinates(shapely.line_interpolate_point(line[heads], pos[heads]))
    node_xy = np.vstack([node_xy, new_xy])
    edges = cut_edges(edges, ei[heads], pos[heads], new_ids, node_xy)

    every = feats["attrs"].tolist()
    attrs = [every[i] for i in fi.tolist()]
    point_xy = shapely.get_coordinates(points[fi]) if len(fi) else np.empty((0, 2))
    features, node_xy, access = _feature_nodes(
        attrs, point_xy, snap=snap, dist=dist, node_xy=node_xy, params=params
    )
    edges = pd.concat([edges, access], ignore_index=True)
    mast_nodes, ftth_nodes = {}, {}
    for node, data in features.items():
        target = mast_nodes if data["kind"] == "mast" else ftth_nodes
        target[data["feature_id"]] = node
    return Attached(edges, node_xy, features, mast_nodes, ftth_nodes, unsnapped)


def _feature_nodes(
    attrs: list[dict[str, Any]],
    point_xy: np.ndarray,
    *,
    snap: np.ndarray,
    dist: np.ndarray,
    node_xy: np.ndarray,
    params: PlanParameters,
) -> tuple[dict[int, dict[str, Any]], np.ndarray, pd.DataFrame]:
    """The node of each feature: its snapping node, or a node of its own and an access edge.

    Returns the feature attributes by node, the grown node coordinates and the access edges.
    """
    tol = params.network.merge_tolerance_m
    features: dict[int, dict[str, Any]] = {}
    access_from, access_to, extra_xy = [], [], []
    next_id = len(node_xy)
    for k, target in enumerate(snap.tolist()):
        if dist[k] <= tol and target not in features:
            node = target
        else:  # off the line, or sharing its spot with another feature
            node, next_id = next_id, next_id + 1
            extra_xy.append(point_xy[k])
            access_from.append(node)
            access_to.append(target)
        features[node] = attrs[k]
    node_xy = np.vstack([node_xy, np.asarray(extra_xy).reshape(-1, 2)])
    return features, node_xy, _access_edges(access_from, access_to, node_xy, params)


def _too_far(
    feats: pd.DataFrame, rows: np.ndarray, tree: shapely.STRtree, limit: float
) -> list[Unsnapped]:
    if not len(rows):
        return []
    distance = np.full(len(rows), np.inf)
    if len(tree.geometries):
        (qi, _), d = tree.query_nearest(
            feats["point"].to_numpy()[rows], return_distance=True, all_matches=False
        )
        distance[qi] = d
    out = []
    for row, d in zip(rows.tolist(), distance.tolist(), strict=True):
        if math.isinf(d):
            reason = "no road or FttH route to snap to"
        else:
            reason = (
                f"{d:,.0f} m from the nearest road or FttH route, "
                f"beyond the {limit:,.0f} m snapping limit"
            )
        out.append(Unsnapped(feats["layer"].iat[row], feats["feature_id"].iat[row], d, reason))
    return out


def _access_edges(
    source: list[int], target: list[int], node_xy: np.ndarray, params: PlanParameters
) -> pd.DataFrame:
    """Straight trenches from off-line points to their snapping nodes, at the local price."""
    u, v = np.asarray(source, dtype=int), np.asarray(target, dtype=int)
    geoms = shapely.linestrings(np.stack([node_xy[u], node_xy[v]], axis=1)) if len(u) else []
    frame = empty_lines(np.asarray(geoms, dtype=object))
    frame["u"], frame["v"] = u, v
    frame["length"] = shapely.length(frame["geometry"].to_numpy()) if len(u) else []
    frame["access"] = True
    frame["trench_other"] = params.cost.trench.local * frame["length"]
    return frame
