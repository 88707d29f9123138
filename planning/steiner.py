"""Minimum Steiner trees: connect every mast to the network through the cheapest set of edges.

A drop-in replacement for `networkx.algorithms.approximation.steiner_tree`, built to be much
cheaper: the graph is copied once into CSR arrays, hanging non-terminal trees and edges that a
two-edge path beats are cut off, then

- up to 9 terminals (fewer on large graphs): the exact Dreyfus-Wagner programme;
- beyond: starting trees from the average distance heuristic and from the shortest-path
  heuristic at several roots, each polished (MST of the induced subgraph, pruning), the best
  improved by local search (key-path exchange, key-vertex elimination) in
  `planning._steiner_improve`;
- on graphs of more than 5,000 nodes (road networks): one vectorised Mehlhorn construction,
  then the same local search.

The steps run as compiled kernels (`planning._steiner_jit`, numba): numba compiles them on the
first call of an installation (about 30 s, cached on disk; `warm_up` does it ahead).
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterable
from numbers import Real

import networkx as nx
import numpy as np
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import dijkstra, minimum_spanning_tree

from planning import _steiner_jit as jit
from planning._steiner_improve import Edges, Problem, local_search, path_edges, trace
from planning.errors import PlanningError

__all__ = ["SteinerError", "steiner_tree", "tree_cost"]

# Up to this many terminals the exact dynamic programme (2^(k-1) Dijkstras and 3^(k-1) x n
# steps) is cheap, as long as 3^(k-1) x n stays under _EXACT_WORK (so 9 terminals for 150 nodes,
# 8 for 1,000).
_EXACT_TERMINALS = 9
_EXACT_WORK = 3_000_000
# The long-edge test costs the sum of squared degrees; beyond this it is skipped.
_LONG_EDGE_WORK = 50_000_000
# Graphs with more nodes than this (road networks; SteinLib B-D have at most 1,000) start from
# one Mehlhorn construction instead of many shortest-path ones.
_LARGE_GRAPH = 5_000
# Construction budget: about _ROOT_WORK / |T| roots (one root costs |T| vector steps), at most
# _MAX_ROOTS; the _POLISHED * _KEEP cheapest are polished and the _KEEP best get the local search.
# Tuned on SteinLib B, C, D (benchmarks/planning/README.md): more keeps buy little for the time.
_ROOT_WORK = 2000
_MAX_ROOTS = 32
_KEEP = 2
_POLISHED = 3
# The average distance heuristic adds one start while |T| x n is at most this: it costs about
# |T| passes over all nodes (SteinLib D: 500 x 1000; a 60k-node network with 200 terminals: 8 s).
_ADH_CELLS = 2_000_000
# The heuristic's cost of a node as a 3-way hub is (d1 + d2 + d3) / _HUB_SHARE; Rayward-Smith
# divides by 2, slightly more favour for hubs gave 0.13 / 0.25 / 0.26 % against 0.15 / 0.22 /
# 0.38 % mean gap on SteinLib B / C / D.
_HUB_SHARE = 2.5
# Relative weight noise of the restarts run while a caller's time limit leaves time.
_NOISE = 0.1
# Zero-weight edges would vanish from scipy's sparse matrices; they enter with this tiny weight.
_ZERO_WEIGHT = 1e-12


class SteinerError(PlanningError):
    """The terminals cannot be joined by a tree: fix the graph or the terminal list named."""


def steiner_tree(
    G: nx.Graph,  # noqa: N803 - networkx's name for it, part of the drop-in signature
    terminals: Iterable[Hashable],
    weight: str = "weight",
    *,
    time_limit: float | None = None,
    seed: int = 0,
) -> nx.Graph:
    """Return a cheap tree of ``G`` that connects all ``terminals``.

    Same meaning as `networkx.algorithms.approximation.steiner_tree`, and never costlier than
    either of its methods on SteinLib B, C and D, where it is within 0.3 % of the optimum on
    average against 3-7 % for networkx, in about the time of networkx's default (Mehlhorn)
    there and far less on road networks (``benchmarks/planning/README.md``). ``time_limit``
    bounds the search.

    Parameters
    ----------
    G : networkx.Graph
        Undirected graph; MultiGraph and directed graphs are not supported.
    terminals : iterable of nodes
        Nodes the tree must span (duplicates are ignored).
    weight : str, default "weight"
        Edge attribute holding the non-negative cost; an edge without it costs 1.
    time_limit : float or None, keyword-only
        A budget in seconds: the search stops when it is spent and returns the best tree so
        far (at least one construction always runs), and time left after the fixed search goes
        to restarts on randomly perturbed weights. None (default) runs the fixed search only,
        so that the result does not depend on the machine's speed.
    seed : int, keyword-only
        Seed of the choice of construction roots; the same seed gives the same tree.

    Returns
    -------
    networkx.Graph
        A new graph holding the tree's nodes and copies of its edges with their data. Empty for
        no terminal, the lone node for one terminal.

    Raises
    ------
    SteinerError
        If a terminal is not in ``G`` or cannot be reached from the others, if a weight is
        negative or not a number, or if ``G`` is directed or a multigraph.
    """
    start = time.perf_counter()
    if G.is_directed() or G.is_multigraph():
        msg = f"steiner_tree needs an undirected simple graph, got a {type(G).__name__}"
        raise SteinerError(msg)
    terms = list(dict.fromkeys(terminals))
    for t in terms:
        if t not in G:
            msg = f"terminal {t!r} is not a node of the graph"
            raise SteinerError(msg)
    result = nx.Graph()
    if len(terms) <= 1:
        result.add_nodes_from((t, G.nodes[t]) for t in terms)
        return result

    nodes = list(G)
    index = {v: i for i, v in enumerate(nodes)}
    indptr, indices, data = _to_csr(G, index, weight)
    term_idx = np.array([index[t] for t in terms], dtype=np.int64)
    deg = np.diff(indptr)
    drop_long = int(deg @ deg) <= _LONG_EDGE_WORK
    apart, keep, *graph = jit.reduce_graph(indptr, indices, data, term_idx, drop_long)
    if apart >= 0:
        msg = (
            f"terminal {terms[apart]!r} cannot be reached from terminal {terms[0]!r}: "
            "they lie in different connected components of the graph"
        )
        raise SteinerError(msg)
    local = np.full(len(nodes), -1, dtype=np.int64)
    local[keep] = np.arange(len(keep))
    deadline = None if time_limit is None else start + time_limit
    # Large networks take the Voronoi path, which needs no distance rows.
    problem = Problem(tuple(graph), local[term_idx], deadline, rows=len(keep) <= _LARGE_GRAPH)
    edges = keep[_solve(problem, seed=seed)]

    for u, v in edges.tolist():
        a, b = nodes[u], nodes[v]
        result.add_node(a, **G.nodes[a])
        result.add_node(b, **G.nodes[b])
        result.add_edge(a, b, **G.edges[a, b])
    return result


def tree_cost(tree: nx.Graph, weight: str = "weight") -> float:
    """Total weight of a tree's edges, an edge without ``weight`` counting 1 as in networkx."""
    return float(sum(w for _, _, w in tree.edges(data=weight, default=1)))


def _to_csr(
    graph: nx.Graph, index: dict[Hashable, int], weight: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Symmetric CSR arrays (indptr, indices, data) of positive weights, sorted within each row,
    validated once here rather than in the search.

    Read straight from the adjacency dicts (each edge seen from both ends), as networkx's own
    algorithms do: three times quicker than its edge view on dense graphs, where the views'
    wrappers cost more than the search.
    """
    adj = graph._adj
    n = len(index)
    counts = np.fromiter((len(nbrs) for nbrs in adj.values()), dtype=np.int64, count=n)
    total = int(counts.sum())
    rows = np.repeat(np.arange(n, dtype=np.int64), counts)
    cols = np.fromiter((index[v] for nbrs in adj.values() for v in nbrs), np.int64, count=total)
    raw = [d.get(weight, 1) for nbrs in adj.values() for d in nbrs.values()]
    try:
        ws = np.array(raw, dtype=np.float64)
    except (TypeError, ValueError):
        ws = np.full(total, np.nan)  # find the culprit below
    bad = np.flatnonzero(~(ws >= 0) | np.isinf(ws))
    for i in bad.tolist():  # name the first edge whose weight is not a number >= 0
        w = raw[i]
        if not isinstance(w, Real) or not w >= 0 or np.isinf(w):
            nodes = list(index)
            msg = (
                f"edge ({nodes[rows[i]]!r}, {nodes[cols[i]]!r}) has {weight}={w!r}; "
                "a Steiner tree needs finite weights >= 0"
            )
            raise SteinerError(msg)
    ws[ws == 0] = _ZERO_WEIGHT
    loop = rows != cols
    rows, cols, ws = rows[loop], cols[loop], ws[loop]
    order = np.lexsort((cols, rows))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, cols[order], ws[order]


# --- construction and search ------------------------------------------------------------------


def _solve(problem: Problem, *, seed: int, keep: int = _KEEP) -> Edges:
    """Exact for few terminals; else several starting trees, the best improved by local search.

    One shortest-path construction costs about |T| small vector steps, so the number of roots
    shrinks as the terminals grow; with few terminals, non-terminal roots are cheap and reach
    other Steiner hubs. The average distance heuristic gives one more start.
    """
    k = len(problem.terminals)
    exact = k <= _EXACT_TERMINALS and 3 ** (k - 1) * problem.n <= _EXACT_WORK
    if exact and problem.rows_pred is not None:
        return _dreyfus_wagner(problem)
    if problem.rows_dist is None or problem.n > _LARGE_GRAPH:
        # A large network (road graphs of a département): one Voronoi-based construction, as
        # fast as a few Dijkstra passes, then the local search within its work budget. Many
        # shortest-path constructions would cost minutes here for a fraction of a percent.
        return local_search(problem, _mehlhorn(problem))[1]
    return _solve_small(problem, seed=seed, keep=keep)


def _solve_small(problem: Problem, *, seed: int, keep: int) -> Edges:
    """Several shortest-path starts, the best ones polished and improved, restarts if time."""
    rng = np.random.default_rng(seed)
    terms = problem.terminals
    roots = int(np.clip(_ROOT_WORK // len(terms), 6, _MAX_ROOTS))
    others = np.flatnonzero(~problem.is_term)
    chosen = np.concatenate(
        [rng.permutation(terms), rng.permutation(others)[: max(0, roots - len(terms))]]
    )[:roots]
    costs = jit.sph_costs(
        *problem.graph, problem.rows_dist, problem.rows_pred, problem.term_pos, chosen
    )
    # Polishing costs more than a construction: only the cheapest constructions get it.
    starts: list[tuple[float, Edges]] = []
    seen: set[float] = set()
    for i in np.argsort(costs, kind="stable")[: _POLISHED * keep].tolist():
        edges = problem.polish(_shortest_path_heuristic(problem, int(chosen[i])))
        cost = problem.cost(edges)
        if round(cost, 9) not in seen:
            seen.add(round(cost, 9))
            starts.append((cost, edges))
    starts.sort(key=lambda s: s[0])
    cells = len(terms) * problem.n
    if cells <= _ADH_CELLS and problem.rows_dist is not None and not problem.expired():
        # Its start goes first: on dense graphs it beats every shortest-path start.
        starts.insert(0, (0.0, problem.polish(_average_distance_heuristic(problem))))
    best: tuple[float, Edges] | None = None
    for _, edges in starts[:keep]:
        tree = local_search(problem, edges)
        if best is None or tree[0] < best[0]:
            best = tree
        if problem.expired():
            break
    assert best is not None
    while problem.deadline is not None and problem.rows_dist is not None:
        if problem.expired():
            break
        tree = local_search(problem, _perturbed_start(problem, rng))
        if tree[0] < best[0]:
            best = tree
    return best[1]


def _mehlhorn(problem: Problem) -> Edges:
    """Mehlhorn's construction, vectorised: the MST of the terminals' Voronoi boundary graph.

    One multi-source Dijkstra gives each node its nearest terminal; every edge joining two
    Voronoi regions offers a terminal-to-terminal path; their MST, expanded back into paths,
    is the same 2-approximation networkx computes, in compiled code.
    """
    csr, terms = problem.csr, problem.terminals
    dist, pred, source = dijkstra(csr, indices=terms, min_only=True, return_predecessors=True)
    rows = np.repeat(np.arange(problem.n, dtype=np.int64), np.diff(csr.indptr))
    cols = csr.indices.astype(np.int64)
    across = (rows < cols) & (source[rows] != source[cols])
    u, v = rows[across], cols[across]
    length = dist[u] + csr.data[across] + dist[v]
    a, b = problem.term_pos[source[u]], problem.term_pos[source[v]]
    # The cheapest bridge between each pair of regions.
    order = np.lexsort((length, np.maximum(a, b), np.minimum(a, b)))
    pair = np.minimum(a, b)[order] * len(terms) + np.maximum(a, b)[order]
    first = order[np.r_[True, pair[1:] != pair[:-1]]]
    k = len(terms)
    bridges = csr_array(
        (length[first] + 1e-12, (np.minimum(a, b)[first], np.maximum(a, b)[first])), shape=(k, k)
    )
    mst = coo_array(minimum_spanning_tree(bridges))
    chosen = {(int(i), int(j)) for i, j in zip(mst.row, mst.col, strict=True)}
    pieces = []
    for e in first.tolist():
        key = (int(min(a[e], b[e])), int(max(a[e], b[e])))
        if key not in chosen:
            continue
        chosen.discard(key)
        pieces.append(np.array([[u[e], v[e]]], dtype=np.int64))
        for end in (int(u[e]), int(v[e])):
            path = trace(pred, end, problem.is_term)
            if len(path) > 1:
                pieces.append(path_edges(path))
    edges = np.unique(np.sort(np.concatenate(pieces), axis=1), axis=0)
    return problem.prune(edges)


def _perturbed_start(problem: Problem, rng: np.random.Generator) -> Edges:
    """A shortest-path tree on randomly inflated weights: a restart away from the local optima."""
    csr = problem.csr
    noisy = csr_array(
        (csr.data * (1.0 + _NOISE * rng.random(len(csr.data))), csr.indices, csr.indptr),
        shape=csr.shape,
    )
    # The noise needs no symmetry: the heuristic only reads distances from the terminals.
    dist, pred = dijkstra(noisy, indices=problem.terminals, return_predecessors=True)
    root = int(rng.choice(problem.terminals))
    rows = (np.ascontiguousarray(dist.T), pred.astype(np.int64))
    return problem.polish(_shortest_path_heuristic(problem, root, rows))


def _shortest_path_heuristic(
    problem: Problem, root: int, rows: tuple[np.ndarray, np.ndarray] | None = None
) -> Edges:
    """Takahashi-Matsuyama: grow a tree from ``root`` by the path to the nearest terminal left.

    ``rows`` replaces the problem's terminal distance rows, e.g. by rows on perturbed weights.
    """
    dist_t, pred_t = rows or (problem.rows_dist, problem.rows_pred)
    return jit.shortest_path_heuristic(dist_t, pred_t, problem.term_pos, root)


def _average_distance_heuristic(problem: Problem) -> Edges:
    """Rayward-Smith's heuristic (compiled): it builds around good Steiner hubs, where the
    shortest-path heuristic goes terminal by terminal; it starts the search on dense graphs."""
    return jit.average_distance_heuristic(
        *problem.graph,
        problem.rows_dist,
        problem.cols_dist,
        problem.rows_pred,
        problem.terminals,
        _HUB_SHARE,
    )


def _dreyfus_wagner(problem: Problem) -> Edges:
    """Exact tree for few terminals (Dreyfus-Wagner), one Dijkstra per terminal subset."""
    edges = jit.dreyfus_wagner(
        *problem.graph, problem.cols_dist, problem.rows_pred, problem.terminals
    )
    return problem.polish(edges)


def warm_up() -> None:
    """Compile the kernels (or load them from numba's cache) ahead of the first real call.

    A fresh installation compiles them on first use, which takes about 30 s: `make install`
    and the Docker image call this once, so that no user or timed run pays for it.
    """
    small = nx.grid_2d_graph(8, 8)
    for i, (u, v) in enumerate(small.edges):
        small.edges[u, v]["weight"] = 1 + i % 3
    small.add_edge((0, 0), (1, 1), weight=10)  # beaten by a two-edge path: the long-edge test
    nodes = sorted(small)
    steiner_tree(small, nodes[::16])  # few terminals: exact
    steiner_tree(small, nodes[::3])  # constructions and local search
    steiner_tree(small, nodes[::3], time_limit=0.01)  # restarts on perturbed weights
    large = nx.grid_2d_graph(75, 75)  # past _LARGE_GRAPH: the Voronoi path
    steiner_tree(large, [(i, (7 * i) % 75) for i in range(0, 75, 5)])
