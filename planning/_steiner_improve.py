"""Local search for Steiner trees on a compact CSR graph (internal to `planning.steiner`).

Everything here works on node indices ``0..n-1`` of a symmetric CSR matrix with positive weights;
`planning.steiner` maps a networkx graph to that form, builds starting trees and maps the best
tree back. A solution is an ``(m, 2)`` int array of tree edges. Shortest paths are scipy's
compiled Dijkstra, so the Python loops left run over terminals or tree nodes, never the graph.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import dijkstra, minimum_spanning_tree

Edges = np.ndarray

# Rows of terminal-to-all distances are kept when they fit in this many cells (float64 + int32).
_MAX_ROW_CELLS = 30_000_000
# The local search stops once its Dijkstra calls have cost this many node slots (each call costs
# n, however far it goes): a deterministic bound, never reached on SteinLib B-D (n <= 1000) but
# a few seconds on road networks of tens of thousands of nodes, where each call costs O(n).
_WORK_BUDGET = 50_000_000


class Problem:
    """A reduced Steiner instance: the graph, its terminals and the shared helpers."""

    def __init__(self, csr: csr_array, terminals: np.ndarray, deadline: float | None) -> None:
        self.csr = csr
        self.n = csr.shape[0]
        self.terminals = terminals
        self.deadline = deadline
        self.work = 0
        self.is_term = np.zeros(self.n, dtype=bool)
        self.is_term[terminals] = True
        self.term_pos = np.full(self.n, -1, dtype=np.int64)
        self.term_pos[terminals] = np.arange(len(terminals))
        rows = np.repeat(np.arange(self.n, dtype=np.int64), np.diff(csr.indptr))
        # CSR with sorted indices gives sorted keys row * n + col: a vectorised weight lookup.
        self._keys = rows * self.n + csr.indices
        self._data = csr.data
        self.binary = csr_array((np.ones_like(csr.data), csr.indices, csr.indptr), shape=csr.shape)
        self.rows_dist: np.ndarray | None = None  # (n, |T|): distance node -> terminal
        self.rows_pred: np.ndarray | None = None  # (|T|, n): Dijkstra predecessors per terminal
        if len(terminals) * self.n <= _MAX_ROW_CELLS:
            dist, pred = dijkstra(csr, indices=terminals, return_predecessors=True)
            self.rows_dist = np.ascontiguousarray(dist.T)
            self.rows_pred = pred

    def expired(self) -> bool:
        """Whether the caller's time limit, or the search's work budget, is spent."""
        if self.work > _WORK_BUDGET:
            return True
        return self.deadline is not None and time.perf_counter() > self.deadline

    def nearest(self, sources: np.ndarray, limit: float) -> tuple[np.ndarray, np.ndarray]:
        """Distance and predecessor of each node from its nearest source, up to ``limit``."""
        self.work += self.n
        dist, pred, _ = dijkstra(
            self.csr, indices=sources, min_only=True, limit=limit, return_predecessors=True
        )
        return dist, pred

    def weights(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Weights of the edges (u[i], v[i]), which must exist."""
        pos = np.searchsorted(self._keys, u.astype(np.int64) * self.n + v)
        return self._data[pos]

    def cost(self, edges: Edges) -> float:
        """Total weight of a set of edges."""
        return float(self.weights(edges[:, 0], edges[:, 1]).sum()) if len(edges) else 0.0

    def prune(self, edges: Edges) -> Edges:
        """Drop non-terminal leaves until none is left; they only add cost."""
        while len(edges):
            deg = np.bincount(edges.ravel(), minlength=self.n)
            leaf = (deg == 1) & ~self.is_term
            drop = leaf[edges[:, 0]] | leaf[edges[:, 1]]
            if not drop.any():
                break
            edges = edges[~drop]
        return edges

    def mst_prune(self, nodes: np.ndarray) -> Edges | None:
        """MST of the subgraph induced by ``nodes``, pruned; None if it is disconnected."""
        nodes = np.unique(nodes)
        sub = self.csr[nodes][:, nodes]
        mst = coo_array(minimum_spanning_tree(sub))
        if mst.nnz != len(nodes) - 1:
            return None
        edges = np.column_stack([nodes[mst.row], nodes[mst.col]]).astype(np.int64)
        return self.prune(edges)

    def polish(self, edges: Edges) -> Edges:
        """MST of the induced subgraph then pruning, repeated while it lowers the cost."""
        cost = self.cost(edges)
        while True:
            better = self.mst_prune(edges.ravel())
            if better is None:
                return edges
            new_cost = self.cost(better)
            if new_cost >= cost - tolerance(cost):
                return better if new_cost <= cost else edges
            edges, cost = better, new_cost


def tolerance(cost: float) -> float:
    """Improvements smaller than this are float noise, not progress."""
    return 1e-9 * max(1.0, abs(cost))


def trace(pred: np.ndarray, start: int, stop: np.ndarray) -> list[int]:
    """Follow Dijkstra predecessors from ``start`` until a node where ``stop`` is True."""
    path = [start]
    x = start
    while not stop[x]:
        x = int(pred[x])
        if x < 0:
            break
        path.append(x)
    return path


def path_edges(path: list[int] | np.ndarray) -> Edges:
    """The consecutive pairs of a node path, as an edge array."""
    arr = np.asarray(path, dtype=np.int64)
    return np.column_stack([arr[:-1], arr[1:]])


# --- local search -------------------------------------------------------------------------------


class Tree:
    """A solution as adjacency lists, rooted so that a key path splits it by Euler-tour interval."""

    def __init__(self, problem: Problem, edges: Edges) -> None:
        self.problem = problem
        self.edges = edges
        self.cost = problem.cost(edges)
        w = problem.weights(edges[:, 0], edges[:, 1])
        adj: dict[int, dict[int, float]] = {}
        for (u, v), c in zip(edges.tolist(), w.tolist(), strict=True):
            adj.setdefault(u, {})[v] = c
            adj.setdefault(v, {})[u] = c
        self.adj = adj
        self.nodes = np.fromiter(adj, dtype=np.int64, count=len(adj))
        root = int(self.nodes[problem.is_term[self.nodes]][0])
        n = problem.n
        self.parent = np.full(n, -1, dtype=np.int64)
        tin = np.full(n, -1, dtype=np.int64)
        tout = np.full(n, -1, dtype=np.int64)
        clock = 0
        tin[root] = 0
        stack = [(root, iter(adj[root]))]
        while stack:
            x, it = stack[-1]
            for y in it:
                if y != self.parent[x]:
                    self.parent[y] = x
                    clock += 1
                    tin[y] = clock
                    stack.append((y, iter(adj[y])))
                    break
            else:
                tout[x] = clock
                stack.pop()
        self.tin, self.tout = tin, tout
        self.node_tin = tin[self.nodes]

    def subtree(self, x: int) -> np.ndarray:
        """Mask over ``self.nodes``: the nodes below ``x`` (``x`` included)."""
        return (self.node_tin >= self.tin[x]) & (self.node_tin <= self.tout[x])

    def key_paths(self) -> list[list[int]]:
        """Maximal paths whose inner nodes are degree-2 Steiner nodes, each listed once."""
        adj, is_term = self.adj, self.problem.is_term
        paths = []
        for u, nbrs in adj.items():
            if not (is_term[u] or len(nbrs) >= 3):
                continue
            for nb in nbrs:
                path = [u, nb]
                while not (is_term[path[-1]] or len(adj[path[-1]]) >= 3):
                    a, b = adj[path[-1]]
                    path.append(b if a == path[-2] else a)
                if path[0] < path[-1]:
                    paths.append(path)
        return paths

    def path_cost(self, path: list[int]) -> float:
        """Weight of a path of tree edges."""
        return sum(self.adj[a][b] for a, b in itertools.pairwise(path))

    def without(self, drop: list[list[int]], add: list[Edges]) -> Edges:
        """The tree's edges minus the edges of the ``drop`` paths, plus ``add``."""
        n = self.problem.n
        gone = set()
        for path in drop:
            for a, b in itertools.pairwise(path):
                gone.add(min(a, b) * n + max(a, b))
        e = self.edges
        keys = np.minimum(e[:, 0], e[:, 1]) * n + np.maximum(e[:, 0], e[:, 1])
        keep = ~np.isin(keys, np.fromiter(gone, dtype=np.int64, count=len(gone)))
        return np.concatenate([e[keep], *add]) if add else e[keep]


def _connect(problem: Problem, src: np.ndarray, dst: np.ndarray, limit: float) -> list[int] | None:
    """Shortest path from node set ``src`` to node set ``dst`` cheaper than ``limit``, or None."""
    dist, pred = problem.nearest(src, limit)
    d = dist[dst]
    j = int(np.argmin(d))
    if not d[j] < limit - tolerance(limit):
        return None
    stop = np.zeros(problem.n, dtype=bool)
    stop[src] = True
    return trace(pred, int(dst[j]), stop)


def _accept(problem: Problem, tree: Tree, candidate: Edges) -> Tree | None:
    """The polished candidate as a new tree if it is strictly cheaper than ``tree``."""
    polished = problem.polish(candidate)
    if problem.cost(polished) < tree.cost - tolerance(tree.cost):
        return Tree(problem, polished)
    return None


def key_path_exchange(problem: Problem, tree: Tree) -> Tree:
    """Replace each key path by a cheaper path joining the two parts it separates."""
    failed: set[tuple[int, ...]] = set()  # paths with no cheaper replacement: not retried
    improved = True
    while improved and not problem.expired():
        improved = False
        for path in tree.key_paths():
            if problem.expired():
                break
            if tuple(path) in failed:
                continue
            lower = path[-1] if tree.parent[path[-1]] == path[-2] else path[0]
            below = tree.subtree(lower)
            inner = np.isin(tree.nodes, path[1:-1])
            side_a, side_b = tree.nodes[~below & ~inner], tree.nodes[below]
            if len(side_a) > len(side_b):
                side_a, side_b = side_b, side_a
            cost = tree.path_cost(path)
            new = _connect(problem, side_a, side_b, cost)
            if new is None:
                failed.add(tuple(path))
                continue
            better = _accept(problem, tree, tree.without([path], [path_edges(new)]))
            if better is not None:
                tree, improved = better, True
                break
    return tree


def key_vertex_elimination(problem: Problem, tree: Tree) -> Tree:
    """Remove a Steiner key vertex with its key paths and reconnect the pieces by shortest paths."""
    failed: set[tuple[int, ...]] = set()
    improved = True
    while improved and not problem.expired():
        improved = False
        by_vertex: dict[int, list[list[int]]] = {}
        for path in tree.key_paths():
            by_vertex.setdefault(path[0], []).append(path)
            by_vertex.setdefault(path[-1], []).append(path[::-1])
        for v, paths in by_vertex.items():
            if problem.expired():
                break
            key = (v, *sorted(p[-1] for p in paths))
            if problem.is_term[v] or len(paths) < 3 or key in failed:
                continue
            parts = []
            removed = 0.0
            below_v = tree.subtree(v)
            for path in paths:  # each starts at v
                removed += tree.path_cost(path)
                end = path[-1]
                if tree.parent[path[1]] == v:  # going down from v
                    parts.append(tree.nodes[tree.subtree(end)])
                else:
                    inner = np.isin(tree.nodes, path[1:-1])
                    parts.append(tree.nodes[~below_v & ~inner])
            new = _reconnect(problem, parts, removed)
            if new is None:
                failed.add(key)
                continue
            better = _accept(problem, tree, tree.without(paths, new))
            if better is not None:
                tree, improved = better, True
                break
    return tree


def _reconnect(problem: Problem, parts: list[np.ndarray], budget: float) -> list[Edges] | None:
    """Shortest paths of a spanning tree over the parts, if together cheaper than ``budget``."""
    k = len(parts)
    dist = np.empty((k - 1, problem.n))
    preds = []
    for i in range(k - 1):
        dist[i], pred = problem.nearest(parts[i], budget)
        preds.append(pred)
    pair = np.full((k, k), np.inf)
    ends: dict[tuple[int, int], int] = {}
    for i in range(k - 1):
        for j in range(i + 1, k):
            dj = dist[i, parts[j]]
            a = int(np.argmin(dj))
            pair[i, j], ends[i, j] = dj[a], int(parts[j][a])
            pair[j, i] = pair[i, j]
    total, chosen = _prim(pair)
    if not total < budget - tolerance(budget):
        return None
    out = []
    for i, j in chosen:
        a, b = min(i, j), max(i, j)
        stop = np.zeros(problem.n, dtype=bool)
        stop[parts[a]] = True
        out.append(path_edges(trace(preds[a], ends[a, b], stop)))
    return out


def _prim(dist: np.ndarray) -> tuple[float, list[tuple[int, int]]]:
    """Minimum spanning tree of a small dense distance matrix: (weight, edges); inf if split."""
    k = len(dist)
    best = dist[0].copy()
    via = np.zeros(k, dtype=np.int64)
    inside = np.zeros(k, dtype=bool)
    inside[0] = True
    best[0] = np.inf
    total, chosen = 0.0, []
    for _ in range(k - 1):
        j = int(np.argmin(np.where(inside, np.inf, best)))
        if not np.isfinite(best[j]) or inside[j]:
            return np.inf, []
        total += float(best[j])
        chosen.append((int(via[j]), j))
        inside[j] = True
        closer = ~inside & (dist[j] < best)
        best[closer] = dist[j][closer]
        via[closer] = j
    return total, chosen


def local_search(problem: Problem, edges: Edges) -> Tree:
    """Run the neighbourhoods in turn until none of them improves the tree."""
    tree = Tree(problem, problem.polish(edges))
    while not problem.expired():
        before = tree.cost
        tree = key_path_exchange(problem, tree)
        tree = key_vertex_elimination(problem, tree)
        if tree.cost >= before - tolerance(before):
            break
    return tree
