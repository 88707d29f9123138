"""Compiled kernels of the Steiner search (internal to `planning.steiner`).

The search spends its time in many small steps (a Dijkstra limited to a few hops, the MST of a
tree's nodes, a walk along a key path); as numpy calls each step cost more in call overhead than
in work, which made the search 20 times slower than networkx's single-pass Mehlhorn on graphs of
a hundred nodes. numba compiles these loops once (cached on disk) and runs them at C speed.

Conventions: a graph is a symmetric CSR triple ``(indptr, indices, data)`` with sorted column
indices and positive weights; a tree or path is an ``(m, 2)`` int64 array of edges; predecessor
arrays hold -1 at a source and at unreached nodes.

The kernels live in three modules: `paths` (heap, Dijkstra, graph reduction), `trees` (pruning,
MST polish, constructions) and `search` (the local search); this package re-exports them.
"""

from planning._steiner_jit.paths import (
    cost,
    dijkstra,
    dijkstra_from,
    improve_from,
    long_edges,
    reduce_graph,
    terminal_rows,
    tolerance,
    weight,
)
from planning._steiner_jit.search import key_path_exchange, key_vertex_elimination
from planning._steiner_jit.trees import (
    average_distance_heuristic,
    dreyfus_wagner,
    mst_prune,
    polish,
    prune,
    shortest_path_heuristic,
    sph_costs,
)

__all__ = [
    "average_distance_heuristic",
    "cost",
    "dijkstra",
    "dijkstra_from",
    "dreyfus_wagner",
    "improve_from",
    "key_path_exchange",
    "key_vertex_elimination",
    "long_edges",
    "mst_prune",
    "polish",
    "prune",
    "reduce_graph",
    "shortest_path_heuristic",
    "sph_costs",
    "terminal_rows",
    "tolerance",
    "weight",
]
