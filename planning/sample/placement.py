"""Where things stand: which commune holds a point, spread picks, small offsets off the road."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


def locate(points: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """Index of the polygon holding each point; the nearest one for points outside all of them."""
    tree = shapely.STRtree(polygons)
    geoms = shapely.points(points)
    found = np.full(len(points), -1, dtype=np.int64)
    inside, which = tree.query(geoms, predicate="within")
    # On a shared border a point is within neither polygon; when in two, keep the lower index.
    order = np.lexsort((-which, inside))
    found[inside[order]] = which[order]
    missing = np.flatnonzero(found < 0)
    if len(missing):
        near_in, near_tree = tree.query_nearest(geoms[missing], all_matches=False)
        found[missing[near_in]] = near_tree
    return found


def spread(coords: np.ndarray, count: int, first: int = 0) -> np.ndarray:
    """Pick `count` rows far apart (farthest-point sampling from row `first`), as row indices."""
    count = min(count, len(coords))
    if count <= 0:
        return np.empty(0, dtype=np.int64)
    picked = [first]
    dist = np.hypot(*(coords - coords[first]).T)
    for _ in range(count - 1):
        nxt = int(np.argmax(dist))
        picked.append(nxt)
        dist = np.minimum(dist, np.hypot(*(coords - coords[nxt]).T))
    return np.asarray(picked, dtype=np.int64)


def offset_point(
    base: np.ndarray,
    polygon: BaseGeometry,
    roads: shapely.STRtree,
    rng: np.random.Generator,
    span: tuple[float, float],
) -> np.ndarray | None:
    """A point `low` to `high` m (the span) from `base`, inside `polygon`, `low` m off every road.

    Returns None when 12 headings all fail (a node squeezed between streets); take another node.
    """
    low, high = span
    for _ in range(12):
        heading = rng.uniform(0.0, 2 * np.pi)
        distance = rng.uniform(low, high)
        point = np.round(base + distance * np.array([np.cos(heading), np.sin(heading)]), 2)
        if not shapely.contains_xy(polygon, point[0], point[1]):
            continue
        _, gap = roads.query_nearest(shapely.Point(point), return_distance=True)
        if gap[0] >= low:
            return point
    return None


def nodes_by_commune(node_commune: np.ndarray, count: int) -> list[np.ndarray]:
    """Node indices of each commune, ascending, from the commune index of every node."""
    order = np.argsort(node_commune, kind="stable")
    bounds = np.searchsorted(node_commune[order], np.arange(count + 1))
    return [order[bounds[i] : bounds[i + 1]] for i in range(count)]
