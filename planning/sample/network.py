"""Turn generated road pieces into a properly noded, connected network of straight segments.

Streets, links and tracks are drawn separately, so they may cross. Instead of a global overlay (a
minute on the whole département) only the pairs that really cross are split, at their crossing point
rounded to the centimetre, and the check runs again until no two segments meet except at an end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from planning.errors import SampleError
from planning.schema import ROAD_KINDS

MAX_ROUNDS = 8


@dataclass(frozen=True)
class RoadNetwork:
    """Straight road segments, noded: segment k joins nodes u[k] and v[k]."""

    start: np.ndarray  # (n, 2)
    end: np.ndarray  # (n, 2)
    kind: np.ndarray  # (n,) index into ROAD_KINDS
    nodes: np.ndarray  # (m, 2)
    u: np.ndarray  # (n,)
    v: np.ndarray  # (n,)

    @property
    def length(self) -> np.ndarray:
        return np.hypot(*(self.end - self.start).T)

    @property
    def kind_names(self) -> np.ndarray:
        return np.asarray(ROAD_KINDS, dtype=object)[self.kind]

    def graph(self) -> csr_matrix:
        """Symmetric sparse graph weighted by length, for scipy's shortest paths."""
        m = len(self.nodes)
        rows = np.concatenate([self.u, self.v])
        cols = np.concatenate([self.v, self.u])
        weights = np.concatenate([self.length, self.length])
        return coo_matrix((weights, (rows, cols)), shape=(m, m)).tocsr()

    def lines(self) -> np.ndarray:
        """The segments as shapely LineStrings, in segment order."""
        return shapely.linestrings(np.stack([self.start, self.end], axis=1))

    def degree(self) -> np.ndarray:
        return np.bincount(np.concatenate([self.u, self.v]), minlength=len(self.nodes))


def build_network(
    pieces: list[tuple[np.ndarray, str]],
) -> tuple[RoadNetwork, list[str]]:
    """Node the polylines (vertices, kind) and keep the connected network; say what was dropped."""
    starts, ends, kinds = [], [], []
    for vertices, kind in pieces:
        if len(vertices) < 2:
            continue
        starts.append(vertices[:-1])
        ends.append(vertices[1:])
        kinds.append(np.full(len(vertices) - 1, ROAD_KINDS.index(kind), dtype=np.int64))
    start, end, kind = node_segments(
        np.concatenate(starts), np.concatenate(ends), np.concatenate(kinds)
    )
    nodes, inverse = np.unique(np.concatenate([start, end]), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    u, v = inverse[: len(start)], inverse[len(start) :]
    notes: list[str] = []
    graph = coo_matrix((np.ones(len(u)), (u, v)), shape=(len(nodes), len(nodes)))
    count, labels = connected_components(graph, directed=False)
    if count > 1:
        main = int(np.argmax(np.bincount(labels[u])))
        keep = labels[u] == main
        notes.append(
            f"roads: {int((~keep).sum())} segments in {count - 1} pieces cut off from the "
            "network were dropped"
        )
        start, end, kind = start[keep], end[keep], kind[keep]
        nodes, inverse = np.unique(np.concatenate([start, end]), axis=0, return_inverse=True)
        inverse = inverse.ravel()
        u, v = inverse[: len(start)], inverse[len(start) :]
    return RoadNetwork(start, end, kind, nodes, u, v), notes


def node_segments(
    start: np.ndarray, end: np.ndarray, kind: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split segments where they cross or touch an interior, until segments meet only at ends."""
    for _ in range(MAX_ROUNDS):
        start, end, kind = _dedupe(start, end, kind)
        lines = shapely.linestrings(np.stack([start, end], axis=1))
        a, b = _improper_pairs(start, end, lines)
        if len(a) == 0:
            return start, end, kind
        crossings = shapely.intersection(lines[a], lines[b])
        points, which = shapely.get_coordinates(crossings, return_index=True)
        points = np.round(points, 2)
        owner = np.concatenate([a[which], b[which]])
        start, end, kind = _split(start, end, kind, owner, np.concatenate([points, points]))
    raise SampleError(f"roads: still crossing segments after {MAX_ROUNDS} noding rounds")


def _improper_pairs(
    start: np.ndarray, end: np.ndarray, lines: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of segments that meet somewhere else than at a shared end point."""
    tree = shapely.STRtree(lines)
    a, b = tree.query(lines, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]

    def same(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        return (p == q).all(axis=1)

    shared = (
        same(start[a], start[b])
        | same(start[a], end[b])
        | same(end[a], start[b])
        | same(end[a], end[b])
    )
    da, db = end[a] - start[a], end[b] - start[b]
    cross = da[:, 0] * db[:, 1] - da[:, 1] * db[:, 0]
    scale = np.hypot(*da.T) * np.hypot(*db.T)
    suspect = shared & (np.abs(cross) <= 1e-9 * scale)
    # Two segments sharing an end can still overlap when they are collinear.
    overlap = np.zeros(len(a), dtype=bool)
    if suspect.any():
        common = shapely.intersection(lines[a[suspect]], lines[b[suspect]])
        overlap[suspect] = shapely.get_type_id(common) != shapely.GeometryType.POINT
    bad = ~shared | overlap
    return a[bad], b[bad]


def _split(
    start: np.ndarray,
    end: np.ndarray,
    kind: np.ndarray,
    owner: np.ndarray,
    points: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut each owner segment at its points, in order along it; other segments keep their place."""
    order = np.lexsort((points[:, 1], points[:, 0], owner))
    owner, points = owner[order], points[order]
    bounds = np.flatnonzero(np.diff(owner)) + 1
    new_start, new_end, new_kind = [], [], []
    affected = np.unique(owner)
    for seg, group in zip(affected.tolist(), np.split(points, bounds), strict=True):
        s, e = start[seg], end[seg]
        d = e - s
        t = ((group - s) @ d) / float(d @ d)
        chain = np.concatenate([s[None], group[np.argsort(t, kind="stable")], e[None]])
        keep = np.ones(len(chain), dtype=bool)
        keep[1:] = (np.diff(chain, axis=0) != 0).any(axis=1)
        chain = chain[keep]
        new_start.append(chain[:-1])
        new_end.append(chain[1:])
        new_kind.append(np.full(len(chain) - 1, kind[seg]))
    untouched = np.ones(len(start), dtype=bool)
    untouched[affected] = False
    return (
        np.concatenate([start[untouched], *new_start]),
        np.concatenate([end[untouched], *new_end]),
        np.concatenate([kind[untouched], *new_kind]),
    )


def _dedupe(
    start: np.ndarray, end: np.ndarray, kind: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop zero-length segments and duplicates; a duplicate keeps the highest road class."""
    nonzero = (start != end).any(axis=1)
    start, end, kind = start[nonzero], end[nonzero], kind[nonzero]
    flip = (start[:, 0] > end[:, 0]) | ((start[:, 0] == end[:, 0]) & (start[:, 1] > end[:, 1]))
    low = np.where(flip[:, None], end, start)
    high = np.where(flip[:, None], start, end)
    key = np.concatenate([low, high], axis=1)
    order = np.lexsort((kind, key[:, 3], key[:, 2], key[:, 1], key[:, 0]))
    first = np.ones(len(order), dtype=bool)
    first[1:] = (np.diff(key[order], axis=0) != 0).any(axis=1)
    keep = np.sort(order[first])
    return start[keep], end[keep], kind[keep]
