"""A reduced Steiner instance and the local search driver (internal to `planning.steiner`).

Everything here works on node indices ``0..n-1`` of a symmetric CSR matrix with positive weights;
`planning.steiner` maps a networkx graph to that form, builds starting trees and maps the best
tree back. A solution is an ``(m, 2)`` int64 array of tree edges. The steps themselves are the
compiled kernels of `planning._steiner_jit`; this module only decides when to stop.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.sparse import csr_array

from planning import _steiner_jit as jit

Edges = np.ndarray

# Rows of terminal-to-all distances are kept when they fit in this many cells (float64 + int64).
_MAX_ROW_CELLS = 30_000_000
# The local search stops once its Dijkstra calls have cost this many node slots (each call costs
# n, however far it goes): a deterministic bound, never reached on SteinLib B-D (n <= 1000) but
# a few seconds on road networks of tens of thousands of nodes, where each call costs O(n).
_WORK_BUDGET = 50_000_000


class Problem:
    """A reduced Steiner instance: the graph, its terminals and the shared helpers."""

    def __init__(
        self,
        graph: tuple[np.ndarray, np.ndarray, np.ndarray],
        terminals: np.ndarray,
        deadline: float | None,
        *,
        rows: bool = True,
    ) -> None:
        # CSR arrays (indptr, indices, data) in the one dtype the kernels are compiled for.
        self.graph = (
            np.ascontiguousarray(graph[0], dtype=np.int64),
            np.ascontiguousarray(graph[1], dtype=np.int64),
            np.ascontiguousarray(graph[2], dtype=np.float64),
        )
        self.n = len(self.graph[0]) - 1
        self.terminals = np.asarray(terminals, dtype=np.int64)
        self.deadline = deadline
        self.work = 0
        self.is_term = np.zeros(self.n, dtype=bool)
        self.is_term[terminals] = True
        self.term_pos = np.full(self.n, -1, dtype=np.int64)
        self.term_pos[terminals] = np.arange(len(terminals))
        self.rows_dist: np.ndarray | None = None  # (n, |T|): distance node -> terminal
        self.cols_dist: np.ndarray | None = None  # (|T|, n): the same, terminal by terminal
        self.rows_pred: np.ndarray | None = None  # (|T|, n): Dijkstra predecessors per terminal
        if rows and len(terminals) * self.n <= _MAX_ROW_CELLS:
            self.cols_dist, self.rows_pred = jit.terminal_rows(*self.graph, self.terminals)
            self.rows_dist = np.ascontiguousarray(self.cols_dist.T)

    @property
    def csr(self) -> csr_array:
        """The graph as a scipy matrix, for the steps that use scipy (Mehlhorn, restarts)."""
        indptr, indices, data = self.graph
        return csr_array((data, indices, indptr), shape=(self.n, self.n))

    def expired(self) -> bool:
        """Whether the caller's time limit, or the search's work budget, is spent."""
        if self.work > _WORK_BUDGET:
            return True
        return self.deadline is not None and time.perf_counter() > self.deadline

    def cost(self, edges: Edges) -> float:
        """Total weight of a set of edges."""
        return float(jit.cost(*self.graph, _edges(edges)))

    def prune(self, edges: Edges) -> Edges:
        """Drop non-terminal leaves until none is left; they only add cost."""
        return jit.prune(_edges(edges), self.is_term)

    def polish(self, edges: Edges) -> Edges:
        """MST of the induced subgraph then pruning, repeated while it lowers the cost."""
        return jit.polish(*self.graph, _edges(edges), self.is_term)


def _edges(edges: Edges) -> Edges:
    return np.ascontiguousarray(edges, dtype=np.int64).reshape(-1, 2)


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


def local_search(problem: Problem, edges: Edges) -> tuple[float, Edges]:
    """Key-path exchange and key-vertex elimination in turn until neither improves the tree.

    The budget is checked between the compiled passes: one pass on a graph of SteinLib size
    takes milliseconds, on a road network of the département well under a second.
    """
    edges = problem.polish(edges)
    cost = problem.cost(edges)
    while not problem.expired():
        before = cost
        edges, problem.work = jit.key_path_exchange(
            *problem.graph, problem.is_term, edges, problem.work, _WORK_BUDGET
        )
        if problem.expired():
            break
        edges, problem.work = jit.key_vertex_elimination(
            *problem.graph, problem.is_term, edges, problem.work, _WORK_BUDGET
        )
        cost = problem.cost(edges)
        if cost >= before - tolerance(before):
            break
    return problem.cost(edges), edges
