"""A synthetic FttH network, laid the way operators lay it: NRO -> PM -> PBO along the roads.

One NRO (central office) serves a cluster of about a dozen neighbouring communes; PMs (street
cabinets) serve a few hundred inhabitants each; PBOs (distribution boxes) sit along the streets.
The cables follow shortest paths on the roads, so the civil works (ducts, poles) are the union of
those paths, one route per road segment, and chambers stand along the ducts.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

from planning.sample.communes import Communes
from planning.sample.frames import layer_frame
from planning.sample.network import RoadNetwork
from planning.sample.placement import spread

NETWORK_OWNER = "Eure Numérique"
"""The public syndicate that built the département's FttH network (the sample's assumption)."""
COMMUNES_PER_NRO = 11
INHABITANTS_PER_PM = 500
INHABITANTS_PER_PBO = 40
CHAMBER_SPACING = 250.0  # m between chambers along the ducts
TOWN = 2_000  # inhabitants: above it streets carry ducts, below it cables hang on poles
MAIN_ROADS = ("primary", "secondary")


def ftth_layers(
    net: RoadNetwork,
    communes: Communes,
    node_commune: np.ndarray,
    by_commune: list[np.ndarray],
    rng: np.random.Generator,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The `ftth_nodes` and `ftth_routes` layers; NRO, PM and PBO stand on `by_commune` nodes."""
    codes = communes.frame["code"].to_numpy()
    pops = communes.frame["population"].to_numpy()
    used: set[int] = set()

    nro = []
    for members in _clusters(communes.centres, rng):
        head = max(members, key=lambda i: (pops[i], -i))
        node = _central_node(net.nodes, by_commune[head], communes.centres[head])
        nro.append(node)
        used.add(node)
    pm, pbo = [], []
    for i in range(len(codes)):
        free = np.array([n for n in by_commune[i] if n not in used], dtype=np.int64)
        if len(free) == 0:
            continue
        coords = net.nodes[free]
        first = int(np.argmin(np.hypot(*(coords - communes.centres[i]).T)))
        want = max(1, round(pops[i] / INHABITANTS_PER_PM))
        picks = free[spread(coords, min(want, len(free) // 4 + 1), first)]
        pm.extend(int(n) for n in picks)
        used.update(int(n) for n in picks)
        free = np.array([n for n in free if n not in used], dtype=np.int64)
        want = max(2, round(pops[i] / INHABITANTS_PER_PBO))
        picks = rng.choice(free, size=min(want, len(free) // 2), replace=False)
        pbo.extend(sorted(int(n) for n in picks))
        used.update(int(n) for n in picks)

    graph = net.graph()
    edge_of = {
        (min(a, b), max(a, b)): k
        for k, (a, b) in enumerate(zip(net.u.tolist(), net.v.tolist(), strict=True))
    }
    routes: set[int] = set()
    parent_of: dict[int, int] = {}  # road node of a PM or PBO -> road node of its parent
    for sources, targets in ((nro, pm), (pm, pbo)):
        _, pred, origin = dijkstra(
            graph, indices=sources, min_only=True, return_predecessors=True, directed=False
        )
        routes |= _trace(pred, set(sources), targets, edge_of)
        parent_of.update((t, int(origin[t])) for t in targets if origin[t] >= 0)
    route_edges = np.array(sorted(routes), dtype=np.int64)
    routes_frame = _routes_frame(net, route_edges, node_commune, pops, rng)
    chambers = _chambers(net, route_edges, routes_frame["kind"].to_numpy(), used, rng)

    kinds = ["NRO"] * len(nro) + ["PM"] * len(pm) + ["PBO"] * len(pbo)
    kinds += ["chamber"] * len(chambers)
    where = np.array(nro + pm + pbo + chambers, dtype=np.int64)
    fibres = np.concatenate(
        [
            rng.integers(24, 433, len(nro)),
            np.where(rng.random(len(pm)) < 0.08, 0, rng.integers(1, 49, len(pm))),
            np.where(rng.random(len(pbo)) < 0.12, 0, rng.integers(1, 9, len(pbo))),
            np.where(rng.random(len(chambers)) < 0.2, 0, rng.integers(1, 13, len(chambers))),
        ]
    )
    fibres[np.asarray(kinds) == "chamber"] = 0  # civil works: no fibre (drawn, so others stay put)
    ids = _node_ids(kinds, codes[node_commune[where]])
    id_at = dict(zip(where.tolist(), ids, strict=True))
    parents = [
        id_at.get(parent_of.get(n, -1), "") if kind in ("PM", "PBO") else ""
        for n, kind in zip(where.tolist(), kinds, strict=True)
    ]
    nodes_frame = layer_frame(
        "ftth_nodes",
        {
            "id": ids,
            "kind": kinds,
            "free_fibres": fibres,
            "parent": parents,
            "owner": [NETWORK_OWNER] * len(ids),
        },
        shapely.points(net.nodes[where]),
    )
    nodes_frame["parent"] = nodes_frame["parent"].replace("", None)
    return nodes_frame, routes_frame


def _clusters(centres: np.ndarray, rng: np.random.Generator) -> list[list[int]]:
    """Groups of about a dozen neighbouring communes (k-means on their centres, k-means++ start)."""
    n = len(centres)
    k = max(1, round(n / COMMUNES_PER_NRO))
    seeds = [int(rng.integers(n))]
    for _ in range(k - 1):
        dist = np.min(np.hypot(*(centres[:, None, :] - centres[seeds][None]).transpose(2, 0, 1)), 1)
        seeds.append(int(rng.choice(n, p=dist**2 / (dist**2).sum())))
    means = centres[seeds].astype(float)
    for _ in range(50):
        labels = np.argmin(np.hypot(*(centres[:, None, :] - means[None]).transpose(2, 0, 1)), 1)
        moved = np.array(
            [centres[labels == c].mean(0) if (labels == c).any() else means[c] for c in range(k)]
        )
        if np.allclose(moved, means):
            break
        means = moved
    return [np.flatnonzero(labels == c).tolist() for c in range(k) if (labels == c).any()]


def _central_node(nodes: np.ndarray, candidates: np.ndarray, centre: np.ndarray) -> int:
    pool = candidates if len(candidates) else np.arange(len(nodes))
    return int(pool[np.argmin(np.hypot(*(nodes[pool] - centre).T))])


def _trace(
    pred: np.ndarray, sources: set[int], targets: list[int], edge_of: dict[tuple[int, int], int]
) -> set[int]:
    """Road segments on the shortest paths from the targets back to their nearest source."""
    used: set[int] = set()
    seen: set[int] = set()
    for target in targets:
        node = target
        while node not in sources and node not in seen and pred[node] >= 0:
            seen.add(node)
            back = int(pred[node])
            used.add(edge_of[(min(node, back), max(node, back))])
            node = back
    return used


def _routes_frame(
    net: RoadNetwork,
    edges: np.ndarray,
    node_commune: np.ndarray,
    pops: np.ndarray,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """One route per road segment carrying cable: ducts in towns and on main roads, else poles."""
    town = pops[node_commune[net.u[edges]]] >= TOWN
    main = np.isin(net.kind_names[edges], MAIN_ROADS)
    duct = town | main
    spare = np.where(
        duct,
        rng.choice(4, size=len(edges), p=[0.15, 0.3, 0.3, 0.25]),
        rng.choice(4, size=len(edges), p=[0.35, 0.35, 0.2, 0.1]),
    )
    # Whose ducts and poles the network reuses: a fixed pattern, not a draw, so the other layers
    # do not move. In the Eure as elsewhere, FttH cables run in Orange's ducts and on Orange's
    # and Enedis's poles as much as in the public network's own.
    k = np.arange(len(edges))
    owner = np.where(
        duct,
        np.where(k % 10 < 6, "Orange", NETWORK_OWNER),
        np.where(k % 2 == 0, "Enedis", "Orange"),
    )
    return layer_frame(
        "ftth_routes",
        {
            "id": [f"F{k + 1:06d}" for k in range(len(edges))],
            "kind": np.where(duct, "duct", "aerial"),
            "spare": spare,
            "owner": owner,
        },
        shapely.linestrings(np.stack([net.start[edges], net.end[edges]], axis=1)),
    )


def _chambers(
    net: RoadNetwork,
    edges: np.ndarray,
    kinds: np.ndarray,
    used: set[int],
    rng: np.random.Generator,
) -> list[int]:
    """Chambers at duct junctions first, then along the ducts, about CHAMBER_SPACING apart."""
    ducts = edges[kinds == "duct"]
    ends = np.concatenate([net.u[ducts], net.v[ducts]])
    degree = np.bincount(ends, minlength=len(net.nodes))
    candidates = np.unique(ends)
    candidates = candidates[~np.isin(candidates, list(used))]
    junction = degree[candidates] >= 3
    order = np.concatenate(
        [rng.permutation(candidates[junction]), rng.permutation(candidates[~junction])]
    )
    cells: dict[tuple[int, int], list[np.ndarray]] = {}
    chambers = []
    for node in order.tolist():
        point = net.nodes[node]
        cx, cy = int(point[0] // CHAMBER_SPACING), int(point[1] // CHAMBER_SPACING)
        close = any(
            np.hypot(*(other - point)) < CHAMBER_SPACING
            for dx in (-1, 0, 1)
            for dy in (-1, 0, 1)
            for other in cells.get((cx + dx, cy + dy), ())
        )
        if not close:
            cells.setdefault((cx, cy), []).append(point)
            chambers.append(node)
    return sorted(chambers)


def _node_ids(kinds: list[str], codes: np.ndarray) -> list[str]:
    """NRO-27229-01, PM-27229-001, PBO-27229-0001, CH-27229-0001: numbered within each commune."""
    prefix = {"NRO": ("NRO", 2), "PM": ("PM", 3), "PBO": ("PBO", 4), "chamber": ("CH", 4)}
    counters: dict[tuple[str, str], int] = {}
    ids = []
    for kind, code in zip(kinds, codes.tolist(), strict=True):
        counters[kind, code] = counters.get((kind, code), 0) + 1
        head, width = prefix[kind]
        ids.append(f"{head}-{code}-{counters[kind, code]:0{width}d}")
    return ids
