"""Minimum Steiner trees: connect every mast to the network through the cheapest set of edges.

A drop-in replacement for `networkx.algorithms.approximation.steiner_tree`, built to be much
cheaper: the graph is copied once into a CSR matrix (scipy's compiled Dijkstra does the shortest
paths), hanging non-terminal trees are cut off, then

- up to 9 terminals: the exact Dreyfus-Wagner programme;
- beyond: starting trees from the average distance heuristic and from the shortest-path
  heuristic at several roots, each polished (MST of the induced subgraph, pruning), the best
  improved by local search (key-path exchange, key-vertex elimination) in
  `planning._steiner_improve`.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterable
from numbers import Real

import networkx as nx
import numpy as np
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import connected_components, dijkstra, minimum_spanning_tree

from planning._steiner_improve import (
    Edges,
    Problem,
    Tree,
    local_search,
    path_edges,
    trace,
)
from planning.errors import PlanningError

__all__ = ["SteinerError", "steiner_tree", "tree_cost"]

# Up to this many terminals the exact dynamic programme (2^(k-1) Dijkstras) is cheap.
_EXACT_TERMINALS = 9
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
    average against 3-7 % for networkx. It is faster than networkx's Kou method on graphs of
    a few hundred nodes and more, but slower than its default (Mehlhorn), a single pass:
    ``time_limit`` bounds the search (see ``benchmarks/planning/README.md``).

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
    csr = _to_csr(G, index, weight)
    term_idx = np.array([index[t] for t in terms], dtype=np.int64)
    _check_connected(csr, term_idx, terms)

    keep = _reduce(csr, term_idx)
    sub = csr[keep][:, keep]
    local = np.full(len(nodes), -1, dtype=np.int64)
    local[keep] = np.arange(len(keep))
    deadline = None if time_limit is None else start + time_limit
    problem = Problem(csr_array(sub), local[term_idx], deadline)
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


def _to_csr(graph: nx.Graph, index: dict[Hashable, int], weight: str) -> csr_array:
    """Symmetric CSR matrix of positive weights, validated once here rather than in the search."""
    triples = [(index[u], index[v], w) for u, v, w in graph.edges(data=weight, default=1) if u != v]
    us = np.array([t[0] for t in triples], dtype=np.int64)
    vs = np.array([t[1] for t in triples], dtype=np.int64)
    try:
        ws = np.array([t[2] for t in triples], dtype=np.float64)
    except (TypeError, ValueError):
        ws = np.full(len(triples), np.nan)  # find the culprit below
    bad = np.flatnonzero(~(ws >= 0) | np.isinf(ws))
    if len(bad):
        u, v, w = triples[int(bad[0])]
        for i in bad.tolist():  # name the first edge whose weight is not a number >= 0
            u, v, w = triples[i]
            if not isinstance(w, Real) or not w >= 0 or np.isinf(w):
                break
        nodes = list(index)
        msg = (
            f"edge ({nodes[u]!r}, {nodes[v]!r}) has {weight}={w!r}; "
            "a Steiner tree needs finite weights >= 0"
        )
        raise SteinerError(msg)
    ws[ws == 0] = _ZERO_WEIGHT
    n = len(index)
    rows = np.concatenate([us, vs])
    cols = np.concatenate([vs, us])
    data = np.concatenate([ws, ws])
    csr = csr_array((data, (rows, cols)), shape=(n, n))
    csr.sort_indices()
    return csr


def _check_connected(csr: csr_array, term_idx: np.ndarray, terms: list[Hashable]) -> None:
    """Raise naming the first terminal outside the first terminal's connected component."""
    _, label = connected_components(csr, directed=False)
    apart = np.flatnonzero(label[term_idx] != label[term_idx[0]])
    if len(apart):
        msg = (
            f"terminal {terms[int(apart[0])]!r} cannot be reached from terminal {terms[0]!r}: "
            "they lie in different connected components of the graph"
        )
        raise SteinerError(msg)


def _reduce(csr: csr_array, term_idx: np.ndarray) -> np.ndarray:
    """Nodes worth searching: the terminals' component without hanging non-terminal trees.

    A non-terminal of degree 1 is never in an optimal tree, and removing it may expose another.
    """
    _, label = connected_components(csr, directed=False)
    alive = label == label[term_idx[0]]
    is_term = np.zeros(csr.shape[0], dtype=bool)
    is_term[term_idx] = True
    binary = csr_array((np.ones_like(csr.data), csr.indices, csr.indptr), shape=csr.shape)
    deg = binary @ alive.astype(np.float64)
    while True:
        drop = alive & ~is_term & (deg <= 1)
        if not drop.any():
            break
        alive &= ~drop
        deg -= binary @ drop.astype(np.float64)
    return np.flatnonzero(alive)


# --- construction and search ------------------------------------------------------------------


def _solve(problem: Problem, *, seed: int, keep: int = _KEEP) -> Edges:
    """Exact for few terminals; else several starting trees, the best improved by local search.

    One shortest-path construction costs about |T| small vector steps, so the number of roots
    shrinks as the terminals grow; with few terminals, non-terminal roots are cheap and reach
    other Steiner hubs. The average distance heuristic gives one more start.
    """
    if len(problem.terminals) <= _EXACT_TERMINALS and problem.rows_pred is not None:
        return _dreyfus_wagner(problem)
    if problem.rows_dist is None or problem.n > _LARGE_GRAPH:
        # A large network (road graphs of a département): one Voronoi-based construction, as
        # fast as a few Dijkstra passes, then the local search within its work budget. Many
        # shortest-path constructions would cost minutes here for a fraction of a percent.
        return local_search(problem, problem.polish(_mehlhorn(problem))).edges
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
    raw: list[tuple[float, int, Edges]] = []
    for i, root in enumerate(chosen.tolist()):
        edges = _shortest_path_heuristic(problem, root)
        raw.append((problem.cost(edges), i, edges))
        if problem.expired():
            break
    # Polishing costs more than a construction: only the cheapest constructions get it.
    raw.sort(key=lambda s: s[:2])
    starts: list[tuple[float, Edges]] = []
    seen: set[float] = set()
    for _, _, built in raw[: _POLISHED * keep]:
        edges = problem.polish(built)
        cost = problem.cost(edges)
        if round(cost, 9) not in seen:
            seen.add(round(cost, 9))
            starts.append((cost, edges))
    starts.sort(key=lambda s: s[0])
    cells = len(terms) * problem.n
    if cells <= _ADH_CELLS and problem.rows_dist is not None and not problem.expired():
        # Its start goes first: on dense graphs it beats every shortest-path start.
        starts.insert(0, (0.0, problem.polish(_average_distance_heuristic(problem))))
    best: Tree | None = None
    for _, edges in starts[:keep]:
        tree = local_search(problem, edges)
        if best is None or tree.cost < best.cost:
            best = tree
        if problem.expired():
            break
    assert best is not None
    while problem.deadline is not None and problem.rows_dist is not None:
        if problem.expired():
            break
        tree = local_search(problem, _perturbed_start(problem, rng))
        if tree.cost < best.cost:
            best = tree
    return best.edges


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
    rows = (np.ascontiguousarray(dist.T), pred)
    return problem.polish(_shortest_path_heuristic(problem, root, rows))


def _shortest_path_heuristic(
    problem: Problem, root: int, rows: tuple[np.ndarray, np.ndarray] | None = None
) -> Edges:
    """Takahashi-Matsuyama: grow a tree from ``root`` by the path to the nearest terminal left.

    ``rows`` replaces the problem's terminal distance rows, e.g. by rows on perturbed weights.
    """
    if problem.rows_dist is None:
        return _sph_incremental(problem, root)
    dist_t, pred_t = rows or (problem.rows_dist, problem.rows_pred)
    terms = problem.terminals
    in_tree = np.zeros(problem.n, dtype=bool)
    in_tree[root] = True
    done = np.zeros(len(terms), dtype=bool)
    if problem.is_term[root]:
        done[problem.term_pos[root]] = True
    near = dist_t[root].copy()  # distance from each terminal to the tree
    near_node = np.full(len(terms), root, dtype=np.int64)
    near[done] = np.inf
    pieces: list[Edges] = []
    cols = np.arange(len(terms))
    never = np.zeros(problem.n, dtype=bool)
    while True:
        k = int(np.argmin(near))
        if not np.isfinite(near[k]):
            break
        # Walk from the tree node to the terminal (its predecessor -9999 ends the walk), then
        # keep the part after the last tree node, in case ties made the path touch the tree twice.
        path = np.asarray(trace(pred_t[k], int(near_node[k]), never), dtype=np.int64)
        last = np.flatnonzero(in_tree[path])[-1]
        path = path[last:]
        pieces.append(path)
        new = path[1:]
        in_tree[new] = True
        block = dist_t[new]  # (len(new), |T|)
        best = block.argmin(axis=0)
        cand = block[best, cols]
        closer = cand < near
        near[closer] = cand[closer]
        near_node[closer] = new[best[closer]]
        done[problem.term_pos[new[problem.is_term[new]]]] = True
        near[done] = np.inf
    if not pieces:
        return np.empty((0, 2), np.int64)
    return np.column_stack(
        [np.concatenate([p[:-1] for p in pieces]), np.concatenate([p[1:] for p in pieces])]
    )


def _average_distance_heuristic(problem: Problem) -> Edges:
    """Rayward-Smith's heuristic: join the two nearest subtrees through the best-placed node.

    A node is placed well when its distances to its nearest subtrees, averaged, are small
    (min of d1 + d2 and (d1 + d2 + d3) / _HUB_SHARE). It builds around good Steiner hubs, where the
    shortest-path heuristic goes terminal by terminal; it starts the search on dense graphs.
    Each node keeps its few nearest subtrees, of which a prefix is known exact: a merge
    updates the nodes it touches in place, and only those left with fewer than three known
    are recomputed from the full distance table.
    """
    csr, n = problem.csr, problem.n
    dist = problem.rows_dist.copy()  # (n, |T|): node to subtree; a vanished subtree is inf
    pred = problem.rows_pred.copy()
    owner = np.full(n, -1, dtype=np.int64)
    owner[problem.terminals] = np.arange(len(problem.terminals))
    top = _Nearest(n)
    alive = np.ones(len(problem.terminals), dtype=bool)
    top.recompute(dist, np.arange(n))
    pieces: list[Edges] = []
    for _ in range(len(problem.terminals) - 1):
        two = top.val[:, 0] + top.val[:, 1]
        v = int(np.argmin(np.minimum(two, (two + top.val[:, 2]) / _HUB_SHARE)))
        a, b = int(top.id[v, 0]), int(top.id[v, 1])
        added = []
        for c in (a, b):
            path = trace(pred[c], v, owner == c)
            pieces.append(path_edges(path))
            added += path
        new = np.unique(np.asarray(added, dtype=np.int64))
        new = new[(owner[new] != a) & (owner[new] != b)]
        # Merge b into a: its distances are the smaller of both and of the new nodes'.
        before = dist[:, a].copy()
        merged, merged_pred = np.minimum(before, dist[:, b]), pred[a].copy()
        closer = dist[:, b] < before
        merged_pred[closer] = pred[b, closer]
        if len(new):
            d2, p2, _ = dijkstra(csr, indices=new, min_only=True, return_predecessors=True)
            closer = d2 < merged
            merged[closer], merged_pred[closer] = d2[closer], p2[closer]
        dist[:, a], pred[a] = merged, merged_pred
        dist[:, b] = np.inf
        owner[owner == b] = a
        owner[new] = a
        alive[b] = False
        if 2 * alive.sum() <= len(alive):  # drop the dead columns, so late steps stay cheap
            keep = np.flatnonzero(alive)
            renumber = np.full(len(alive), -1, dtype=np.int64)
            renumber[keep] = np.arange(len(keep))
            dist, pred, alive = dist[:, keep], pred[keep], alive[keep]
            owner = np.where(owner >= 0, renumber[owner], -1)
            top.id, a, b = renumber[top.id], int(renumber[a]), -1
        top.merge(dist, a, b, merged)
    return np.concatenate(pieces) if pieces else np.empty((0, 2), np.int64)


class _Nearest:
    """Per node, its nearest subtrees in order; the first ``known`` entries are exact."""

    KEPT = 6

    def __init__(self, n: int) -> None:
        self.id = np.zeros((n, self.KEPT), dtype=np.int64)
        self.val = np.full((n, self.KEPT), np.inf)
        self.known = np.zeros(n, dtype=np.int64)

    def recompute(self, dist: np.ndarray, rows: np.ndarray) -> None:
        """Exact nearest subtrees of the nodes ``rows`` from the full table."""
        if not len(rows):
            return
        block = dist[rows]
        k = min(self.KEPT, block.shape[1])
        if block.shape[1] > k:
            ids = np.argpartition(block, k - 1, axis=1)[:, :k]
        else:
            ids = np.broadcast_to(np.arange(k), (len(rows), k))
        vals = np.take_along_axis(block, ids, axis=1)
        order = np.argsort(vals, axis=1, kind="stable")
        self.id[rows, :k] = np.take_along_axis(ids, order, axis=1)
        self.val[rows, :k] = np.take_along_axis(vals, order, axis=1)
        self.val[rows, k:] = np.inf
        self.known[rows] = k

    def merge(self, dist: np.ndarray, a: int, b: int, merged: np.ndarray) -> None:
        """Subtree ``b`` (gone, or -1) joined ``a``, whose distances are now ``merged``.

        Dropping a and b from an exact prefix leaves it exact for the other subtrees; a goes
        back in when it is no farther than the old last known entry, beyond which every
        untracked subtree lies.
        """
        n = len(self.known)
        old_last = self.val[np.arange(n), self.known - 1]
        inside = np.arange(self.KEPT) < self.known[:, None]
        hit = ((self.id == a) | (self.id == b)) & inside
        rows = np.flatnonzero(hit.any(axis=1) | (merged < old_last))
        if not len(rows):
            return
        back = merged[rows] <= old_last[rows]
        vals = np.column_stack(
            [np.where(hit[rows], np.inf, self.val[rows]), np.where(back, merged[rows], np.inf)]
        )
        ids = np.column_stack([self.id[rows], np.full(len(rows), a)])
        order = np.argsort(vals, axis=1, kind="stable")[:, : self.KEPT]
        known = np.minimum(self.known[rows] - hit[rows].sum(axis=1) + back, self.KEPT)
        vals = np.take_along_axis(vals, order, axis=1)
        vals[np.arange(self.KEPT) >= known[:, None]] = np.inf
        self.val[rows], self.id[rows] = vals, np.take_along_axis(ids, order, axis=1)
        self.known[rows] = known
        self.recompute(dist, rows[known < min(3, dist.shape[1])])


def _sph_incremental(problem: Problem, root: int) -> Edges:
    """The same heuristic, one multi-source Dijkstra per added path: for graphs too big for rows."""
    dist, pred = dijkstra(problem.csr, indices=root, return_predecessors=True)
    in_tree = np.zeros(problem.n, dtype=bool)
    in_tree[root] = True
    left = problem.is_term.copy()
    left[root] = False
    pieces: list[Edges] = []
    while left.any():
        cand = np.where(left, dist, np.inf)
        t = int(np.argmin(cand))
        path = trace(pred, t, in_tree)[::-1]
        pieces.append(path_edges(path))
        new = np.asarray(path[1:], dtype=np.int64)
        in_tree[new] = True
        left[new] = False
        d2, p2, _ = dijkstra(problem.csr, indices=new, min_only=True, return_predecessors=True)
        closer = d2 < dist
        dist[closer] = d2[closer]
        pred[closer] = p2[closer]
    return np.concatenate(pieces) if pieces else np.empty((0, 2), np.int64)


def _dreyfus_wagner(problem: Problem) -> Edges:
    """Exact tree for few terminals (Dreyfus-Wagner), one Dijkstra per terminal subset.

    The relaxation step of the dynamic programme starts from arbitrary node values, which scipy's
    Dijkstra takes as a super source joined to every node by an edge of that value (+1, as
    scipy's sparse graphs drop zero weights; the shift is removed afterwards).
    """
    csr, n = problem.csr, problem.n
    rest, root = problem.terminals[1:], int(problem.terminals[0])
    k = len(rest)
    full = (1 << k) - 1
    value = np.full((full + 1, n), np.inf)
    came = np.full((full + 1, n), -9999, dtype=np.int64)  # predecessor, or -9999 at a split node
    split = np.zeros((full + 1, n), dtype=np.int64)
    for i in range(k):
        value[1 << i] = problem.rows_dist[:, i + 1]
    for subset in sorted(range(1, full + 1), key=int.bit_count):
        if subset.bit_count() < 2:
            continue
        low = subset & -subset
        best = np.full(n, np.inf)
        arg = np.zeros(n, dtype=np.int64)
        part = (subset - 1) & subset
        while part:  # proper non-empty parts holding the lowest bit: each split counted once
            if part & low:
                joined = value[part] + value[subset ^ part]
                closer = joined < best
                best[closer] = joined[closer]
                arg[closer] = part
            part = (part - 1) & subset
        split[subset] = arg
        seeds = np.flatnonzero(np.isfinite(best))
        graph = csr_array(
            (
                np.concatenate([csr.data, best[seeds] + 1.0]),
                np.concatenate([csr.indices, seeds]),
                np.append(csr.indptr, csr.indptr[-1] + len(seeds)),
            ),
            shape=(n + 1, n + 1),
        )
        dist, pred = dijkstra(graph, indices=n, return_predecessors=True)
        value[subset] = dist[:n] - 1.0
        came[subset] = np.where(pred[:n] == n, -9999, pred[:n])
    pieces: list[Edges] = []
    stack = [(full, root)]
    never = np.zeros(n, dtype=bool)
    while stack:
        subset, v = stack.pop()
        if subset.bit_count() == 1:
            i = subset.bit_length()  # rows of rest[i - 1] are row i of the terminal rows
            pieces.append(path_edges(trace(problem.rows_pred[i], v, never)))
            continue
        path = trace(came[subset], v, never)
        pieces.append(path_edges(path))
        x = path[-1]
        part = int(split[subset, x])
        stack += [(part, x), (subset ^ part, x)]
    return problem.polish(np.concatenate(pieces))
