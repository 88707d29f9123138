"""The compiled kernels of the Steiner search, checked against scipy and by hand."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra as scipy_dijkstra
from scipy.sparse.csgraph import minimum_spanning_tree

from planning import _steiner_jit as jit
from planning.steiner import _to_csr, steiner_tree, tree_cost, warm_up


def _graph(seed: int, n: int = 60, m: int = 180) -> tuple[csr_array, tuple[np.ndarray, ...]]:
    g = nx.gnm_random_graph(n, m, seed=seed)
    rng = np.random.default_rng(seed)
    for u, v in g.edges:
        g.edges[u, v]["weight"] = float(rng.integers(1, 20))
    return _csr(g)


def _csr(g: nx.Graph) -> tuple[csr_array, tuple[np.ndarray, ...]]:
    indptr, indices, data = _to_csr(g, {v: i for i, v in enumerate(g)}, "weight")
    n = len(indptr) - 1
    return csr_array((data, indices, indptr), shape=(n, n)), (indptr, indices, data)


@pytest.mark.parametrize("seed", range(5))
def test_dijkstra_matches_scipy(seed: int) -> None:
    csr, arrays = _graph(seed)
    sources = np.array([0, 7, 13], dtype=np.int64)
    dist, pred = jit.dijkstra(*arrays, sources, np.inf)
    expected = scipy_dijkstra(csr, indices=sources, min_only=True)
    np.testing.assert_allclose(dist, expected)
    for x in np.flatnonzero(np.isfinite(dist)):  # each predecessor step is a tight edge
        if pred[x] >= 0:
            assert dist[pred[x]] + jit.weight(*arrays, pred[x], x) == pytest.approx(dist[x])
        else:
            assert x in sources


def test_dijkstra_stops_at_its_limit() -> None:
    csr, arrays = _graph(1)
    dist, _ = jit.dijkstra(*arrays, np.array([0], dtype=np.int64), 10.0)
    full = scipy_dijkstra(csr, indices=0)
    np.testing.assert_allclose(dist[full <= 10.0], full[full <= 10.0])
    assert np.isinf(dist[full > 10.0]).all()


def test_improve_from_lowers_only_what_gets_closer() -> None:
    csr, arrays = _graph(2)
    dist, pred = jit.dijkstra(*arrays, np.array([0], dtype=np.int64), np.inf)
    jit.improve_from(*arrays, dist, pred, np.array([5], dtype=np.int64))
    expected = scipy_dijkstra(csr, indices=[0, 5], min_only=True)
    np.testing.assert_allclose(dist, expected)


@pytest.mark.parametrize("seed", range(3))
def test_terminal_rows_are_scipy_rows(seed: int) -> None:
    csr, arrays = _graph(seed)
    terminals = np.array([3, 9, 30, 41], dtype=np.int64)
    dist, pred = jit.terminal_rows(*arrays, terminals)
    np.testing.assert_allclose(dist, scipy_dijkstra(csr, indices=terminals))
    assert (pred[np.arange(4), terminals] == -1).all()


def test_mst_of_all_nodes_weighs_what_scipy_says() -> None:
    csr, arrays = _graph(3, n=40, m=200)
    nodes = np.arange(40, dtype=np.int64)
    is_term = np.ones(40, dtype=bool)  # nothing to prune
    edges, connected = jit.mst_prune(*arrays, nodes, is_term)
    assert connected
    assert len(edges) == 39
    assert jit.cost(*arrays, edges) == pytest.approx(minimum_spanning_tree(csr).sum())


def test_mst_of_a_disconnected_set_says_so() -> None:
    _, arrays = _graph(4)
    far_apart = np.array([0, 59], dtype=np.int64)
    _, connected = jit.mst_prune(*arrays, far_apart, np.ones(60, dtype=bool))
    assert not connected


def test_prune_drops_hanging_steiner_paths_only() -> None:
    edges = np.array([[0, 1], [1, 2], [2, 3], [1, 4], [4, 5]], dtype=np.int64)
    is_term = np.zeros(6, dtype=bool)
    is_term[[0, 3]] = True
    kept = jit.prune(edges, is_term)
    assert sorted(map(tuple, kept.tolist())) == [(0, 1), (1, 2), (2, 3)]


def test_long_edges_are_those_a_two_edge_path_beats() -> None:
    g = nx.Graph()
    g.add_weighted_edges_from([(0, 1, 10), (0, 2, 4), (2, 1, 5), (1, 3, 2), (3, 4, 1), (1, 4, 3)])
    csr, arrays = _csr(g)
    long = jit.long_edges(*arrays)
    rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
    nodes = list(g)
    flagged = {
        tuple(sorted((nodes[u], nodes[v])))
        for u, v in zip(rows[long], csr.indices[long], strict=True)
    }
    # 0-1 (10) loses to 0-2-1 (9); 1-4 (3) ties with 1-3-4 (3) and stays.
    assert flagged == {(0, 1)}


def test_reduce_graph_cuts_hanging_steiner_paths_and_long_edges() -> None:
    g = nx.Graph()
    # terminals 0, 1, 2; a hanging Steiner path 2-5-6; a long edge 0-1 beaten by 0-3-1.
    g.add_weighted_edges_from(
        [(0, 1, 10), (0, 3, 4), (3, 1, 5), (1, 2, 2), (2, 5, 1), (5, 6, 1), (7, 8, 1)]
    )
    _, (indptr, indices, data) = _csr(g)
    nodes = list(g)
    terminals = np.array([nodes.index(t) for t in (0, 1, 2)], dtype=np.int64)
    apart, keep, sub_ptr, sub_idx, sub_data = jit.reduce_graph(
        indptr, indices, data, terminals, True
    )
    assert apart == -1
    assert sorted(nodes[i] for i in keep) == [0, 1, 2, 3]
    assert len(sub_idx) == sub_ptr[-1] == 2 * 3  # 0-3, 3-1, 1-2 both ways; 0-1 dropped
    assert sorted(sub_data.tolist()) == [2, 2, 4, 4, 5, 5]
    apart, *_ = jit.reduce_graph(
        indptr, indices, data, np.array([0, nodes.index(8)], dtype=np.int64), True
    )
    assert apart == 1  # the second terminal lies in another component


def test_the_tree_never_uses_a_long_edge() -> None:
    g = nx.complete_graph(12)
    rng = np.random.default_rng(5)
    for u, v in g.edges:
        g.edges[u, v]["weight"] = float(rng.integers(1, 30))
    terminals = [0, 3, 6, 9, 11]
    tree = steiner_tree(g, terminals)
    dist = dict(nx.all_pairs_dijkstra_path_length(g))
    for u, v, w in tree.edges(data="weight"):
        assert w <= dist[u][v] + 1e-9
    assert tree_cost(tree) <= tree_cost(nx.algorithms.approximation.steiner_tree(g, terminals))


def test_warm_up_runs_every_path() -> None:
    warm_up()  # raises if a kernel fails to compile or a path breaks
    assert jit.dijkstra.signatures  # compiled, not only declared
    assert jit.key_vertex_elimination.signatures
    assert jit.dreyfus_wagner.signatures
    assert jit.average_distance_heuristic.signatures
