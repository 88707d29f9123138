"""Roads between communes: from the edge of one street grid, across the shared border, to the next.

Every pair of communes sharing a real border gets a road, classed by the size of the two places it
joins, so main roads run between towns. Pieces of commune graph left apart (an enclave) are bridged
to their nearest commune, so the network of the scope is always one piece.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from planning.sample.communes import Communes
from planning.sample.streets import Mesh

MAX_STEP = 320.0  # m between vertices before the bend
MAX_SEGMENT = 480.0  # m: a road segment never spans more (the planner expects <= ~500 m)
MIN_BORDER = 300.0  # m: a shorter shared border is a corner, not a road crossing


def road_class(population_a: int, population_b: int) -> str:
    """Primary between towns, secondary to a town, tertiary between villages."""
    small, big = sorted((population_a, population_b))
    if small >= 3_000 or (big >= 10_000 and small >= 1_000):
        return "primary"
    if small >= 1_000 or big >= 3_000:
        return "secondary"
    return "tertiary"


def commune_links(
    communes: Communes, meshes: list[Mesh], rng: np.random.Generator
) -> list[tuple[np.ndarray, str]]:
    """Polylines (vertices, road class) joining the street grids of neighbouring communes."""
    pops = communes.frame["population"].to_numpy()
    pairs = [(i, j, mid) for i, j, length, mid in communes.neighbours if length >= MIN_BORDER]
    pairs += _bridges(communes, {(i, j) for i, j, _ in pairs})
    links = []
    for i, j, mid in sorted(pairs, key=lambda p: (p[0], p[1])):
        border = np.asarray(mid, dtype=float)
        start = _gateway(meshes[i], border)
        end = _gateway(meshes[j], border)
        vertices = np.concatenate(
            [_bend(start, border, rng), _bend(border, end, rng)[1:]],
        )
        links.append((vertices, road_class(int(pops[i]), int(pops[j]))))
    return links


def _gateway(mesh: Mesh, target: np.ndarray) -> np.ndarray:
    """The street node of a commune closest to where the road leaves it."""
    dist = np.hypot(mesh.nodes[:, 0] - target[0], mesh.nodes[:, 1] - target[1])
    return mesh.nodes[int(np.argmin(dist))]


def _bend(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A gently curving road from a to b, in pieces of at most MAX_SEGMENT metres."""
    vector = b - a
    length = float(np.hypot(*vector))
    steps = max(1, int(np.ceil(length / MAX_STEP)))
    t = np.linspace(0.0, 1.0, steps + 1)
    normal = np.array([-vector[1], vector[0]]) / length if length > 0 else np.zeros(2)
    amplitude = rng.normal(0.0, 0.05 * length)
    offsets = amplitude * np.sin(np.pi * t) + rng.normal(0.0, 6.0, len(t))
    offsets[[0, -1]] = 0.0
    points = a + t[:, None] * vector + offsets[:, None] * normal
    points[0], points[-1] = a, b
    # A strong bend lengthens the pieces: halve any still longer than the limit.
    while True:
        long = np.flatnonzero(np.hypot(*np.diff(points, axis=0).T) > MAX_SEGMENT)
        if len(long) == 0:
            return np.round(points, 2)
        middles = (points[long] + points[long + 1]) / 2
        points = np.insert(points, long + 1, middles, axis=0)


def _bridges(
    communes: Communes, linked: set[tuple[int, int]]
) -> list[tuple[int, int, tuple[float, float]]]:
    """Links joining the pieces of the commune graph: longest shared border first, else nearest."""
    n = len(communes.frame)
    extra: list[tuple[int, int, tuple[float, float]]] = []
    rows = [i for i, _ in linked]
    cols = [j for _, j in linked]
    candidates = sorted(
        (p for p in communes.neighbours if (p[0], p[1]) not in linked), key=lambda p: -p[2]
    )
    while True:
        graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
        count, labels = connected_components(graph, directed=False)
        if count == 1:
            return extra
        bridge = next((p for p in candidates if labels[p[0]] != labels[p[1]]), None)
        if bridge is not None:
            i, j, mid = bridge[0], bridge[1], bridge[3]
        else:
            i, j = _nearest_across(communes.centres, labels)
            a, b = communes.centres[i], communes.centres[j]
            mid = (round((a[0] + b[0]) / 2, 2), round((a[1] + b[1]) / 2, 2))
        extra.append((i, j, mid))
        rows.append(i)
        cols.append(j)


def _nearest_across(centres: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
    """The two closest commune centres lying in the first component and in any other."""
    inside = np.flatnonzero(labels == labels[0])
    outside = np.flatnonzero(labels != labels[0])
    diff = centres[inside][:, None, :] - centres[outside][None, :, :]
    flat = int(np.argmin(np.hypot(diff[..., 0], diff[..., 1])))
    i, j = int(inside[flat // len(outside)]), int(outside[flat % len(outside)])
    return (i, j) if i < j else (j, i)
