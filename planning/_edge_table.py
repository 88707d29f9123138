"""The edge table shared by the network steps: one row per line or edge, costs in columns.

Internal to `planning.network` and `planning.snapping`: rows carry ``geometry``, ``access``, the
road and FttH route fields and the `COSTS` columns; the network steps cut, merge and attach.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import shapely
from shapely.ops import substring

COSTS = ["trench_road", "trench_other", "duct", "aerial"]
"""Cost columns while building: € along the row (NaN when not possible). ``trench_other`` is the
``local``-price trench of rows that follow no road (FttH routes, access edges)."""


def empty_lines(geoms: np.ndarray) -> pd.DataFrame:
    n = len(geoms)
    none = np.full(n, None, dtype=object)
    nan = np.full(n, np.nan)
    return pd.DataFrame(
        {
            "geometry": geoms,
            "access": np.zeros(n, bool),
            "road_id": none,
            "road_kind": none,
            "route_id": none,
            "route_kind": none,
            "spare": np.zeros(n, int),
            "route_owner": none,
            "level": np.zeros(n, np.int8),  # 1 on a bridge, -1 in a tunnel: crossings ignored
            "rent_rate": np.zeros(n),  # € per metre and year to reuse the route (duct, aerial)
            **dict.fromkeys(COSTS, nan),
        }
    )


def objects(values: pd.Series) -> np.ndarray:
    """Python objects (not numpy scalars), so ids print and compare as users wrote them."""
    out = np.empty(len(values), dtype=object)
    out[:] = values.tolist()
    return out


def edge_pieces(
    rows: pd.DataFrame,
    src: np.ndarray,
    *,
    geoms: np.ndarray,
    pu: list[np.ndarray],
    pv: list[np.ndarray],
    node_xy: np.ndarray,
    fraction: np.ndarray | None,
) -> pd.DataFrame:
    """New rows copied from ``rows[src]``: pinned geometry, and costs either €/m x length
    (``fraction`` None, from source lines) or € x ``fraction`` (cutting an edge)."""
    u, v = np.concatenate(pu), np.concatenate(pv)
    geoms = pin_ends(geoms, node_xy[u], node_xy[v])
    out = rows.iloc[src].reset_index(drop=True)
    out["u"], out["v"], out["geometry"] = u, v, geoms
    out["length"] = shapely.length(geoms)
    scale = out["length"].to_numpy() if fraction is None else fraction
    out[COSTS] = out[COSTS].to_numpy() * scale[:, None]
    return out


def pin_ends(geoms: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Lines with their first and last points moved onto their nodes."""
    bad = (shapely.get_type_id(geoms) != 1) | (shapely.get_num_coordinates(geoms) < 2)
    geoms = geoms.copy()
    geoms[bad] = shapely.linestrings(np.stack([start[bad], end[bad]], axis=1))
    if len(geoms) == 0:
        return geoms
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    n = np.arange(len(geoms))
    coords[np.searchsorted(index, n)] = start
    coords[np.searchsorted(index, n, side="right") - 1] = end
    return shapely.linestrings(coords, indices=index)


def cut_edges(
    edges: pd.DataFrame, ei: np.ndarray, pos: np.ndarray, new_ids: np.ndarray, node_xy: np.ndarray
) -> pd.DataFrame:
    """Edges cut at the given positions (``ei`` sorted, ``pos`` sorted per edge)."""
    if not len(ei):
        return edges
    geoms = edges["geometry"].to_numpy()
    eu, ev = edges["u"].to_numpy(), edges["v"].to_numpy()
    src, pieces, pu, pv, fraction = [], [], [], [], []
    bounds = np.flatnonzero(np.r_[True, ei[1:] != ei[:-1], True])
    for a, b in itertools.pairwise(bounds.tolist()):
        e = int(ei[a])
        total = float(shapely.length(geoms[e]))
        where = [0.0, *pos[a:b].tolist(), total]
        nodes = [int(eu[e]), *new_ids[a:b].tolist(), int(ev[e])]
        for k in range(len(nodes) - 1):
            src.append(e)
            pieces.append(substring(geoms[e], where[k], where[k + 1]))
            pu.append(nodes[k])
            pv.append(nodes[k + 1])
            fraction.append((where[k + 1] - where[k]) / total)
    geoms_out = np.empty(len(pieces), dtype=object)
    geoms_out[:] = pieces
    cut = edge_pieces(
        edges,
        np.asarray(src),
        geoms=geoms_out,
        pu=[np.asarray(pu)],
        pv=[np.asarray(pv)],
        node_xy=node_xy,
        fraction=np.asarray(fraction),
    )
    keep = np.ones(len(edges), bool)
    keep[np.unique(ei)] = False
    return pd.concat([edges[keep], cut], ignore_index=True)
