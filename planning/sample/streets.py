"""Streets inside one commune: a jittered grid around the centre, dense in town, loose outside.

The grid is warped radially so that its spacing grows from 85-150 m at the centre to about 340 m
at the edge: a town core fading into village lanes. A random spanning tree keeps every street
reachable while other edges are dropped, more often away from the centre, which reads like a real
rural network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from shapely.geometry.base import BaseGeometry

NODES_PER_INHABITANT = 0.1
NODES_PER_COMMUNE = 60
"""Rural lanes exist however few people live there; streets grow with the population."""

MAX_SPACING = 340.0  # m between lanes at the edge; with the jitter an edge stays < 500 m
GROWTH = 400.0  # m over which the spacing doubles outside the core
JITTER = 0.2  # of the spacing: below 0.25 a jittered grid stays planar
MARGIN = 20.0  # m kept free along the commune border, so neighbouring grids never touch
RURAL = 1000  # inhabitants: below it a commune is a village, with tracks to the fields


@dataclass(frozen=True)
class Mesh:
    """The streets of one commune: node coordinates and edges as pairs of node indices."""

    nodes: np.ndarray  # (n, 2) float, rounded to the centimetre
    edges: np.ndarray  # (m, 2) int
    tracks: np.ndarray  # (k, 2, 2) float: track segments, start and end


def centre_spacing(population: int) -> float:
    """Street spacing at the centre of a commune: closer in towns."""
    if population >= 10_000:
        return 85.0
    if population >= 3_000:
        return 100.0
    if population >= RURAL:
        return 120.0
    return 150.0


def street_mesh(
    polygon: BaseGeometry, centre: tuple[float, float], population: int, rng: np.random.Generator
) -> Mesh:
    """Build the connected street grid of one commune, inside its polygon."""
    main = max(shapely.get_parts(polygon), key=lambda p: p.area)
    inner = main.buffer(-MARGIN)
    if inner.is_empty:
        inner = main
    shapely.prepare(inner)
    target = round(NODES_PER_INHABITANT * population + NODES_PER_COMMUNE)
    s0 = centre_spacing(population)
    core = s0 * np.sqrt(max(NODES_PER_INHABITANT * population, 4.0) / np.pi)
    angle = rng.uniform(0.0, np.pi / 2)
    reach = float(shapely.hausdorff_distance(shapely.Point(centre), main)) + MAX_SPACING

    half = int(np.ceil(np.sqrt(target))) + 3
    while True:
        xy, rho = _warped_lattice(half, centre, s0, core, angle=angle, rng=rng)
        inside = shapely.contains_xy(inner, xy[:, 0], xy[:, 1])
        radius = np.hypot(xy[:, 0] - centre[0], xy[:, 1] - centre[1]).max()
        if inside.sum() >= target or radius > reach or half > 400:
            break
        half *= 2

    order = np.lexsort((np.arange(len(rho)), rho))
    kept = order[inside[order]][:target]
    side = 2 * half + 1
    index = np.full(side * side, -1, dtype=np.int64)
    index[kept] = np.arange(len(kept))
    nodes = np.round(xy[kept], 2)

    grid = index.reshape(side, side)
    pairs = np.concatenate(
        [
            np.stack([grid[:, :-1].ravel(), grid[:, 1:].ravel()], axis=1),
            np.stack([grid[:-1, :].ravel(), grid[1:, :].ravel()], axis=1),
        ]
    )
    pairs = pairs[(pairs >= 0).all(axis=1)]
    lines = shapely.linestrings(np.stack([nodes[pairs[:, 0]], nodes[pairs[:, 1]]], axis=1))
    pairs = pairs[shapely.covered_by(lines, inner)]
    nodes, edges = _thin(nodes, pairs, centre, core, rng)
    tracks = _tracks(nodes, centre, inner, population, rng)
    return Mesh(nodes, edges, tracks)


def _warped_lattice(
    half: int,
    centre: tuple[float, float],
    s0: float,
    core: float,
    *,
    angle: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Jittered integer lattice mapped to metres; radius rho in lattice units, before the warp."""
    steps = np.arange(-half, half + 1, dtype=float)
    gy, gx = np.meshgrid(steps, steps, indexing="ij")
    lattice = np.stack([gx.ravel(), gy.ravel()], axis=1)
    lattice += rng.uniform(-JITTER, JITTER, lattice.shape)
    rho = np.hypot(lattice[:, 0], lattice[:, 1])
    radius = _warp(rho, s0, core)
    scale = np.divide(radius, rho, out=np.full_like(rho, s0), where=rho > 0)
    cos, sin = np.cos(angle), np.sin(angle)
    local = lattice * scale[:, None]
    xy = np.stack(
        [
            centre[0] + cos * local[:, 0] - sin * local[:, 1],
            centre[1] + sin * local[:, 0] + cos * local[:, 1],
        ],
        axis=1,
    )
    return xy, rho


def _warp(rho: np.ndarray, s0: float, core: float) -> np.ndarray:
    """Radius in metres solving dr/drho = spacing(r): s0 in the core, then growing to the cap."""
    rho0 = core / s0
    rho1 = rho0 + GROWTH / s0 * np.log(MAX_SPACING / s0)
    r1 = core - GROWTH + GROWTH * MAX_SPACING / s0
    growing = core - GROWTH + GROWTH * np.exp(s0 * (np.minimum(rho, rho1) - rho0) / GROWTH)
    return np.where(
        rho <= rho0, s0 * rho, np.where(rho <= rho1, growing, r1 + MAX_SPACING * (rho - rho1))
    )


def _thin(
    nodes: np.ndarray,
    pairs: np.ndarray,
    centre: tuple[float, float],
    core: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Drop edges (more away from the centre) but keep a spanning tree, then keep one component."""
    n = len(nodes)
    if len(pairs) == 0:
        return nodes[:1], np.empty((0, 2), dtype=np.int64)
    weights = rng.uniform(1.0, 2.0, len(pairs))
    graph = coo_matrix((weights, (pairs[:, 0], pairs[:, 1])), shape=(n, n)).tocsr()
    tree = minimum_spanning_tree(graph).tocoo()
    in_tree = {
        (min(a, b), max(a, b)) for a, b in zip(tree.row.tolist(), tree.col.tolist(), strict=True)
    }
    mid = (nodes[pairs[:, 0]] + nodes[pairs[:, 1]]) / 2
    dist = np.hypot(mid[:, 0] - centre[0], mid[:, 1] - centre[1])
    keep_p = 0.85 - 0.55 * np.clip((dist - core) / (2 * GROWTH), 0.0, 1.0)
    draw = rng.uniform(0.0, 1.0, len(pairs))
    tree_mask = np.array([(min(a, b), max(a, b)) in in_tree for a, b in pairs.tolist()])
    edges = pairs[tree_mask | (draw < keep_p)]

    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels)
    main = labels[0] if sizes[labels[0]] > 1 else int(np.argmax(sizes))
    keep = np.flatnonzero(labels == main)
    remap = np.full(n, -1, dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    edges = remap[edges]
    edges = edges[(edges >= 0).all(axis=1)]
    return nodes[keep], edges


def _tracks(
    nodes: np.ndarray,
    centre: tuple[float, float],
    inner: BaseGeometry,
    population: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """A few farm tracks leaving the outer lanes of a village toward the fields."""
    if population >= RURAL or len(nodes) < 8:
        return np.empty((0, 2, 2))
    dist = np.hypot(nodes[:, 0] - centre[0], nodes[:, 1] - centre[1])
    outer = np.argsort(dist, kind="stable")[-max(3, len(nodes) // 4) :]
    count = int(rng.integers(1, 4))
    starts = rng.choice(outer, size=min(count, len(outer)), replace=False)
    segments = []
    for start in sorted(starts.tolist()):
        point = nodes[start]
        heading = np.arctan2(point[1] - centre[1], point[0] - centre[0])
        for _ in range(int(rng.integers(2, 4))):
            heading += rng.normal(0.0, 0.35)
            length = rng.uniform(150.0, 320.0)
            nxt = np.round(point + length * np.array([np.cos(heading), np.sin(heading)]), 2)
            if not shapely.contains_xy(inner, nxt[0], nxt[1]):
                break
            segments.append((point, nxt))
            point = nxt
    return np.array(segments, dtype=float).reshape(-1, 2, 2)
