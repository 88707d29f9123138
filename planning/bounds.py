"""A proven lower bound on the Steiner tree cost, so a plan can report its gap honestly.

The bound is the value of the directed cut (DCUT) LP relaxation (Wong 1984): pick a root
terminal, give every edge two arcs x_uv, x_vu in [0, 1], minimise sum c_a x_a subject to
x(delta-in(W)) >= 1 for every vertex set W holding a terminal but not the root. There are
exponentially many cuts, so they are added lazily: solve the LP with HiGHS, find violated cuts
by max-flow from the root to each terminal (forward and back cuts, nested within a round),
add them as rows to the same model (warm start) and re-solve until none is violated.

A few inequalities valid for some optimal Steiner arborescence strengthen the LP: in-degree 1 at
terminals, in-degree at most 1 and at most the out-degree at Steiner vertices, and
x_vw <= in-degree(v) (added lazily). The reported bound is not the floating-point LP objective but
a Lagrangian bound recomputed from the dual values, which is valid for any duals, so solver
tolerances cannot make it exceed the optimum. Stopping at the time limit still gives a valid
(weaker) bound, flagged by the method "dcut-lp-partial".

Before the LP, safe reductions shrink the graph: non-terminal vertices of degree 1 are removed and
non-terminal vertices of degree 2 are replaced by one edge (weights summed).
"""

from __future__ import annotations

import math
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import highspy
import networkx as nx
import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from planning.errors import PlanningError

__all__ = ["Bound", "BoundError", "steiner_lower_bound"]

_SCALE = 1_000_000  # max-flow capacities are x * _SCALE rounded down
_EPS = 1e-6  # a cut is violated when its value is below 1 - _EPS
_INTEGRAL_TOL = 1e-6
_OPTIMAL_RTOL = 1e-9  # bound and tree cost this close: the tree is optimal


class BoundError(PlanningError):
    """The lower bound cannot be computed for this instance: the message says why."""


@dataclass(frozen=True)
class Bound:
    """A proven lower bound on the optimal Steiner tree cost."""

    lower: float  # proven lower bound on the optimal Steiner tree cost
    optimal: bool  # True when `lower` is proven optimal: a tree in the LP support costs no more
    method: str  # "dcut-lp", "dcut-lp-partial" (time limit hit) or "exact" (trivial instance)
    edges: int  # edges of the reduced graph the LP was built on
    terminals: int
    seconds: float
    iterations: int  # cutting-plane rounds (LP solves)

    def gap(self, cost: float) -> float:
        """Relative gap of a tree of this cost: (cost - lower) / cost, and 0 when cost is 0."""
        if cost == 0:
            return 0.0
        return (cost - self.lower) / cost


def steiner_lower_bound(
    G: nx.Graph,  # noqa: N803 - the networkx convention, and the documented API
    terminals: Iterable[Hashable],
    weight: str = "weight",
    *,
    max_edges: int = 5000,
    time_limit: float = 60.0,
) -> Bound | None:
    """Lower bound on the cost of a Steiner tree of `G` spanning `terminals`.

    Edge weights are read from the `weight` attribute (1 when missing) and must be finite and
    non-negative. Returns None when the reduced instance still has more than `max_edges` edges.
    Raises BoundError when a terminal is missing from the graph, the terminals are not connected,
    or a weight is negative.
    """
    start = time.perf_counter()
    term_set = set(terminals)
    missing = [t for t in term_set if t not in G]
    if missing:
        raise BoundError(f"terminals not in the graph: {sorted(map(repr, missing))[:5]}")
    adj = _simple_adjacency(G, weight)
    if len(term_set) <= 1:
        return Bound(0.0, True, "exact", 0, len(term_set), time.perf_counter() - start, 0)

    component = _terminal_component(adj, term_set)
    adj = {v: {w: c for w, c in nbrs.items() if w in component} for v, nbrs in adj.items()}
    adj = {v: nbrs for v, nbrs in adj.items() if v in component}
    _reduce(adj, term_set)
    n_edges = sum(len(nbrs) for nbrs in adj.values()) // 2

    if len(term_set) == 2:
        s, t = term_set
        length = nx.dijkstra_path_length(_to_graph(adj), s, t)
        return Bound(float(length), True, "exact", n_edges, 2, time.perf_counter() - start, 0)
    if n_edges > max_edges:
        return None
    return _DcutLp(adj, term_set, start, time_limit).solve(n_edges)


def _simple_adjacency(graph: nx.Graph, weight: str) -> dict[Hashable, dict[Hashable, float]]:
    """Adjacency without self-loops, keeping the cheapest of parallel edges."""
    if graph.is_directed():
        raise BoundError("the Steiner bound needs an undirected graph")
    adj: dict[Hashable, dict[Hashable, float]] = {v: {} for v in graph}
    for u, v, data in graph.edges(data=True):
        if u == v:
            continue
        c = float(data.get(weight, 1.0))
        if not math.isfinite(c) or c < 0:
            raise BoundError(
                f"edge ({u!r}, {v!r}) has weight {c!r}; weights must be finite and >= 0"
            )
        if c < adj[u].get(v, math.inf):
            adj[u][v] = c
            adj[v][u] = c
    return adj


def _terminal_component(adj: dict[Hashable, dict[Hashable, float]], terms: set) -> set:
    first = next(iter(terms))
    seen = {first}
    stack = [first]
    while stack:
        v = stack.pop()
        for w in adj[v]:
            if w not in seen:
                seen.add(w)
                stack.append(w)
    cut_off = terms - seen
    if cut_off:
        names = sorted(map(repr, cut_off))[:5]
        raise BoundError(
            f"terminals are disconnected: {len(cut_off)} terminal(s) cannot reach {first!r} "
            f"(e.g. {', '.join(names)}); connect them or plan each component separately"
        )
    return seen


def _reduce(adj: dict[Hashable, dict[Hashable, float]], terms: set) -> None:
    """Remove non-terminal leaves and contract non-terminal degree-2 vertices, in place.

    Both keep the optimum: weights are non-negative, so some optimal tree has no Steiner leaf,
    and a Steiner vertex of degree 2 in such a tree is crossed by the path through it.
    """
    queue = [v for v in adj if v not in terms and len(adj[v]) <= 2]
    while queue:
        v = queue.pop()
        if v not in adj or v in terms:
            continue
        nbrs = adj[v]
        if len(nbrs) <= 1:
            for w in nbrs:
                del adj[w][v]
                queue.append(w)
            del adj[v]
        elif len(nbrs) == 2:
            (a, ca), (b, cb) = nbrs.items()
            del adj[a][v], adj[b][v], adj[v]
            if ca + cb < adj[a].get(b, math.inf):
                adj[a][b] = adj[b][a] = ca + cb
            queue.extend((a, b))  # their degree may have dropped (parallel edges merged)


def _to_graph(adj: dict[Hashable, dict[Hashable, float]]) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(adj)
    g.add_weighted_edges_from((v, w, c) for v, nbrs in adj.items() for w, c in nbrs.items())
    return g


class _DcutLp:
    """The cutting-plane loop on a reduced, connected instance with at least 3 terminals."""

    def __init__(self, adj, terms: set, start: float, time_limit: float) -> None:
        self.start = start
        self.deadline = start + time_limit
        nodes = list(adj)
        index = {v: i for i, v in enumerate(nodes)}
        self.n = n = len(nodes)
        # Root: the terminal of highest degree (fewer cuts are needed around it).
        root_label = max(terms, key=lambda t: (len(adj[t]), -index[t]))
        self.root = index[root_label]
        self.terms = np.array(sorted(index[t] for t in terms if t != root_label), dtype=np.int64)
        is_term = np.zeros(n, dtype=bool)
        is_term[self.terms] = True
        is_term[self.root] = True
        tails, heads, costs = [], [], []
        for v, nbrs in adj.items():
            for w, c in nbrs.items():
                if index[w] != self.root:  # arcs into the root are never needed
                    tails.append(index[v])
                    heads.append(index[w])
                    costs.append(c)
        self.tail = np.array(tails, dtype=np.int64)
        self.head = np.array(heads, dtype=np.int64)
        self.cost = np.array(costs, dtype=np.float64)
        self.m = m = len(costs)

        self.h = h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("solver", "simplex")
        h.setOptionValue("presolve", "off")  # rows are added between solves: keep the warm start
        h.addCols(
            m, self.cost, np.zeros(m), np.ones(m), 0, np.zeros(m, dtype=np.int32), _I32(), _F64()
        )
        self.row_lower: list[float] = []
        self.row_upper: list[float] = []
        self.rows: list[tuple[np.ndarray, np.ndarray]] = []
        # Arcs grouped by head and by tail, for the degree rows.
        self.in_arcs = [[] for _ in range(n)]
        self.out_arcs = [[] for _ in range(n)]
        for a in range(m):
            self.in_arcs[self.head[a]].append(a)
            self.out_arcs[self.tail[a]].append(a)
        pending: list[tuple[float, float, np.ndarray, np.ndarray]] = []
        for v in range(n):
            ins = np.array(self.in_arcs[v], dtype=np.int32)
            if v == self.root:
                continue
            if is_term[v]:
                pending.append((1.0, 1.0, ins, np.ones(len(ins))))
            else:
                outs = np.array(self.out_arcs[v], dtype=np.int32)
                pending.append((-np.inf, 1.0, ins, np.ones(len(ins))))
                idx = np.concatenate([ins, outs])
                val = np.concatenate([np.ones(len(ins)), -np.ones(len(outs))])
                pending.append((-np.inf, 0.0, idx, val))
        self.is_term = is_term
        self._add_rows(pending)
        self.out_deg_rows: set[int] = set()  # arcs a=(v,w) with a row x_a <= in-degree(v)

    def _add_rows(self, rows: list[tuple[float, float, np.ndarray, np.ndarray]]) -> None:
        if not rows:
            return
        lower = np.array([r[0] for r in rows], dtype=np.float64)
        upper = np.array([r[1] for r in rows], dtype=np.float64)
        lengths = np.array([len(r[2]) for r in rows], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int32)
        idx = np.concatenate([r[2] for r in rows]).astype(np.int32)
        val = np.concatenate([r[3] for r in rows]).astype(np.float64)
        self.h.addRows(len(rows), lower, upper, len(idx), starts, idx, val)
        self.row_lower.extend(lower.tolist())
        self.row_upper.extend(upper.tolist())
        self.rows.extend((r[2].astype(np.int64), np.asarray(r[3], dtype=np.float64)) for r in rows)

    def solve(self, n_edges: int) -> Bound:
        rounds = 0
        partial = False
        while True:
            self.h.run()
            rounds += 1
            status = self.h.getModelStatus()
            if status != highspy.HighsModelStatus.kOptimal:
                raise BoundError(f"the LP solver stopped with status {status} (round {rounds})")
            x = np.asarray(self.h.getSolution().col_value, dtype=np.float64)
            if time.perf_counter() > self.deadline:
                partial = True
                break
            new_rows = self._separate(x)
            if not new_rows:
                break
            self._add_rows(new_rows)
        lower = self._safe_bound()
        optimal = False
        if not partial:
            upper = self._support_tree_cost(x)
            if upper is not None and upper - lower <= _OPTIMAL_RTOL * max(1.0, abs(upper)):
                optimal = True
        return Bound(
            lower=max(0.0, lower),
            optimal=optimal,
            method="dcut-lp-partial" if partial else "dcut-lp",
            edges=n_edges,
            terminals=len(self.terms) + 1,
            seconds=time.perf_counter() - self.start,
            iterations=rounds,
        )

    # -- separation -------------------------------------------------------------------------

    def _separate(self, x: np.ndarray) -> list[tuple[float, float, np.ndarray, np.ndarray]]:
        rows = self._out_degree_rows(x)
        cuts = self._support_cuts(x)
        if not cuts:
            cuts = self._flow_cuts(x)
        seen: set[bytes] = set()
        for in_w in cuts:
            arcs = np.flatnonzero(~in_w[self.tail] & in_w[self.head])
            if x[arcs].sum() >= 1.0 - _EPS:
                continue  # only the violation test is approximate; skip cuts that hold
            key = arcs.tobytes()
            if key not in seen:
                seen.add(key)
                rows.append((1.0, np.inf, arcs.astype(np.int32), np.ones(len(arcs))))
        return rows

    def _out_degree_rows(self, x: np.ndarray) -> list[tuple[float, float, np.ndarray, np.ndarray]]:
        """Rows x_vw <= in-degree(v) for Steiner vertices v where the LP violates them."""
        indeg = np.bincount(self.head, weights=x, minlength=self.n)
        bad = np.flatnonzero(
            (x > indeg[self.tail] + _EPS) & ~self.is_term[self.tail] & (self.tail != self.root)
        )
        rows = []
        for a in bad:
            if int(a) in self.out_deg_rows:
                continue
            self.out_deg_rows.add(int(a))
            ins = self.in_arcs[self.tail[a]]
            idx = np.array([*ins, a], dtype=np.int32)
            val = np.concatenate([-np.ones(len(ins)), [1.0]])
            rows.append((-np.inf, 0.0, idx, val))
        return rows

    def _support_cuts(self, x: np.ndarray) -> list[np.ndarray]:
        """Cuts of value 0: terminals the root cannot reach through arcs with x > 0."""
        keep = x > _EPS
        support = csr_array(
            (np.ones(int(keep.sum())), (self.tail[keep], self.head[keep])), shape=(self.n, self.n)
        )
        reached = np.zeros(self.n, dtype=bool)
        reached[breadth_first_order(support, self.root, return_predecessors=False)] = True
        unreached = self.terms[~reached[self.terms]]
        if len(unreached) == 0:
            return []
        cuts = [~reached]
        backward = support.T.tocsr()
        for t in unreached:  # back cut: the vertices that reach t
            in_w = np.zeros(self.n, dtype=bool)
            in_w[breadth_first_order(backward, t, return_predecessors=False)] = True
            cuts.append(in_w)
        return cuts

    def _flow_cuts(self, x: np.ndarray) -> list[np.ndarray]:
        """Minimum root-terminal cuts of value below 1, forward and back, nested in a round."""
        cap = np.floor(x * _SCALE).astype(np.int64)
        threshold = (1.0 - _EPS) * _SCALE
        cuts = []
        for t in self.terms:
            if time.perf_counter() > self.deadline:
                break
            graph = self._capacity_graph(cap)
            flow = maximum_flow(graph, self.root, int(t), method="dinic")
            if flow.flow_value >= threshold:
                continue
            residual = (graph - flow.flow).tocsr()
            residual.data[residual.data < 0] = 0
            residual.eliminate_zeros()
            source_side = np.zeros(self.n, dtype=bool)
            source_side[breadth_first_order(residual, self.root, return_predecessors=False)] = True
            forward = ~source_side
            back = np.zeros(self.n, dtype=bool)
            back[breadth_first_order(residual.T.tocsr(), int(t), return_predecessors=False)] = True
            for in_w in (forward, back):
                cuts.append(in_w)
                # Nested cuts: later terminals of this round see these arcs as satisfied.
                cap[~in_w[self.tail] & in_w[self.head]] = _SCALE
        return cuts

    def _capacity_graph(self, cap: np.ndarray) -> csr_array:
        keep = cap > 0
        graph = csr_array(
            (cap[keep].astype(np.int32), (self.tail[keep], self.head[keep])),
            shape=(self.n, self.n),
        )
        graph.sum_duplicates()
        return graph

    # -- the bound --------------------------------------------------------------------------

    def _safe_bound(self) -> float:
        """Lagrangian bound from the row duals y: valid for any y, whatever the solver's accuracy.

        For lo <= A x <= hi and 0 <= x <= 1: c x = (c - A'y) x + y A x >= sum_a min(0, c - A'y)_a
        + sum_i min(y_i lo_i, y_i hi_i), with y_i zeroed where the matching side is infinite.
        """
        y = np.asarray(self.h.getSolution().row_dual, dtype=np.float64)
        lo = np.asarray(self.row_lower)
        hi = np.asarray(self.row_upper)
        y = np.where((y > 0) & ~np.isfinite(lo), 0.0, y)
        y = np.where((y < 0) & ~np.isfinite(hi), 0.0, y)
        lengths = np.array([len(idx) for idx, _ in self.rows])
        cols = np.concatenate([idx for idx, _ in self.rows])
        vals = np.concatenate([val for _, val in self.rows]) * np.repeat(y, lengths)
        reduced = self.cost - np.bincount(cols, weights=vals, minlength=self.m)
        row_part = np.where(y > 0, y * np.where(np.isfinite(lo), lo, 0.0), 0.0) + np.where(
            y < 0, y * np.where(np.isfinite(hi), hi, 0.0), 0.0
        )
        bound = math.fsum(row_part.tolist()) + math.fsum(np.minimum(reduced, 0.0).tolist())
        return bound - 1e-12 * max(1.0, abs(bound))  # rounding slack on the sums above

    def _support_tree_cost(self, x: np.ndarray) -> float | None:
        """Cost of a Steiner tree inside the LP support: a spanning tree, Steiner leaves pruned.

        When the LP solution is integral this is its cost; when it is fractional the tree often
        still matches the bound, which then proves it optimal. None if the support is unusable.
        """
        used = x > _INTEGRAL_TOL
        support = nx.Graph()
        for u, v, c in zip(
            self.tail[used].tolist(),
            self.head[used].tolist(),
            self.cost[used].tolist(),
            strict=True,
        ):
            support.add_edge(u, v, weight=c)
        if self.root not in support or not all(int(t) in support for t in self.terms):
            return None
        component = nx.node_connected_component(support, self.root)
        if not all(int(t) in component for t in self.terms):
            return None
        tree = nx.minimum_spanning_tree(support.subgraph(component), weight="weight")
        leaves = [v for v in tree if tree.degree(v) == 1 and not self.is_term[v]]
        while leaves:
            v = leaves.pop()
            (w,) = tree.neighbors(v)
            tree.remove_node(v)
            if tree.degree(w) == 1 and not self.is_term[w]:
                leaves.append(w)
        return math.fsum(c for _, _, c in tree.edges(data="weight"))


def _I32() -> np.ndarray:  # noqa: N802 - an empty index array, typed for HiGHS
    return np.zeros(0, dtype=np.int32)


def _F64() -> np.ndarray:  # noqa: N802
    return np.zeros(0, dtype=np.float64)
