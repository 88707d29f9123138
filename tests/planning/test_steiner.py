"""Steiner trees: hand-checked graphs, edge cases, properties against networkx, and SteinLib."""

from __future__ import annotations

import random

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from networkx.algorithms.approximation import steiner_tree as nx_steiner_tree

from planning.errors import PlanningError
from planning.steiner import SteinerError, steiner_tree, tree_cost
from planning.steinlib import read_stp
from tests.helpers.paths import steinlib_dir


def assert_valid(tree: nx.Graph, graph: nx.Graph, terminals: list, weight: str = "weight") -> None:
    """A tree of ``graph`` spanning the terminals, with the graph's own edges and data."""
    assert nx.is_tree(tree)
    assert set(terminals) <= set(tree)
    for u, v, data in tree.edges(data=True):
        assert graph.has_edge(u, v)
        assert data == graph.edges[u, v]
    assert tree_cost(tree, weight) == sum(d.get(weight, 1) for _, _, d in tree.edges(data=True))


def nx_cost(graph: nx.Graph, terminals: list, method: str, weight: str = "weight") -> float:
    """Cost of networkx's tree by ``method``."""
    return tree_cost(nx_steiner_tree(graph, terminals, weight=weight, method=method), weight)


# -- hand-checked graphs -----------------------------------------------------------------------


def test_star_centre_beats_the_terminal_only_tree() -> None:
    graph = nx.Graph()
    graph.add_weighted_edges_from([("a", "b", 4), ("b", "c", 4), ("a", "c", 4)])
    graph.add_weighted_edges_from([("s", t, 2) for t in "abc"])
    tree = steiner_tree(graph, ["a", "b", "c"])
    assert_valid(tree, graph, ["a", "b", "c"])
    assert tree_cost(tree) == 6  # the terminal-only MST costs 8
    assert "s" in tree


def test_path_keeps_only_the_segment_between_terminals() -> None:
    graph = nx.path_graph(6)
    nx.set_edge_attributes(graph, {(i, i + 1): i + 1 for i in range(5)}, "weight")
    tree = steiner_tree(graph, [1, 4])
    assert sorted(tree.edges) == [(1, 2), (2, 3), (3, 4)]
    assert tree_cost(tree) == 2 + 3 + 4


def test_optimal_where_networkx_two_approximation_is_not() -> None:
    # Four terminals on a cycle of 20s, with a hub 11 away from each: the distance network MST
    # takes three 20s (60); the optimum is the hub star (44).
    graph = nx.Graph()
    graph.add_weighted_edges_from([(1, 2, 20), (2, 3, 20), (3, 4, 20)])
    graph.add_weighted_edges_from([("hub", t, 11) for t in (1, 2, 3, 4)])
    terminals = [1, 2, 3, 4]
    tree = steiner_tree(graph, terminals)
    assert_valid(tree, graph, terminals)
    assert tree_cost(tree) == 44
    assert nx_cost(graph, terminals, "mehlhorn") == 60
    assert nx_cost(graph, terminals, "kou") == 60


def test_many_terminals_use_the_local_search() -> None:
    # More terminals than the exact programme takes: a grid whose optimum is known by hand.
    graph = nx.grid_2d_graph(6, 6)
    terminals = [(0, j) for j in range(6)] + [(5, j) for j in range(6)]
    tree = steiner_tree(graph, terminals)
    assert_valid(tree, graph, terminals)
    assert tree_cost(tree) == 5 + 5 + 5  # two rows joined by one column


# -- edge cases --------------------------------------------------------------------------------


def test_no_terminal_gives_an_empty_graph() -> None:
    tree = steiner_tree(nx.path_graph(3), [])
    assert tree.number_of_nodes() == 0


def test_one_terminal_gives_that_node_only() -> None:
    graph = nx.path_graph(3)
    graph.nodes[1]["kind"] = "mast"
    tree = steiner_tree(graph, [1, 1])
    assert list(tree.nodes(data=True)) == [(1, {"kind": "mast"})]
    assert tree.number_of_edges() == 0


def test_terminals_in_different_components_are_named() -> None:
    graph = nx.Graph([("a", "b"), ("c", "d")])
    with pytest.raises(SteinerError, match="terminal 'c' cannot be reached") as info:
        steiner_tree(graph, ["a", "b", "c"])
    assert isinstance(info.value, PlanningError)


def test_unknown_terminal_is_named() -> None:
    with pytest.raises(SteinerError, match="terminal 'z' is not a node"):
        steiner_tree(nx.path_graph(3), [0, "z"])


@pytest.mark.parametrize("bad", [-1, "cheap", float("nan"), float("inf")])
def test_bad_weight_is_named(bad: object) -> None:
    graph = nx.path_graph(3)
    graph.edges[1, 2]["weight"] = bad
    with pytest.raises(SteinerError, match=r"edge \(1, 2\)"):
        steiner_tree(graph, [0, 2])


@pytest.mark.parametrize("graph", [nx.DiGraph([(0, 1)]), nx.MultiGraph([(0, 1)])])
def test_directed_and_multigraphs_are_refused(graph: nx.Graph) -> None:
    with pytest.raises(SteinerError, match="undirected simple graph"):
        steiner_tree(graph, [0, 1])


def test_missing_weight_counts_one_and_other_keys_work() -> None:
    graph = nx.cycle_graph(6)
    graph.edges[0, 1]["cost"] = 10  # only this edge has the attribute
    tree = steiner_tree(graph, [0, 1], weight="cost")
    assert tree_cost(tree, "cost") == 5  # around the cycle, five edges of 1
    assert tree_cost(tree, "cost") <= nx_cost(graph, [0, 1], "mehlhorn", weight="cost")


def test_zero_weights_and_tuple_nodes_keep_their_data() -> None:
    graph = nx.Graph()
    graph.add_edge(("m", 1), ("n", 1), weight=0, road="R1")
    graph.add_edge(("n", 1), ("m", 2), weight=0, road="R2")
    graph.add_edge(("m", 1), ("m", 2), weight=3, road="R3")
    tree = steiner_tree(graph, [("m", 1), ("m", 2)])
    assert_valid(tree, graph, [("m", 1), ("m", 2)])
    assert tree_cost(tree) == 0
    assert {d["road"] for _, _, d in tree.edges(data=True)} == {"R1", "R2"}


def test_same_seed_same_tree() -> None:
    graph = nx.random_regular_graph(4, 60, seed=3)
    for i, (u, v) in enumerate(graph.edges):
        graph.edges[u, v]["weight"] = 1 + (7 * i) % 5
    terminals = list(range(0, 60, 3))
    first = steiner_tree(graph, terminals, seed=5)
    assert sorted(first.edges) == sorted(steiner_tree(graph, terminals, seed=5).edges)


def test_time_limit_still_returns_a_valid_tree() -> None:
    graph = nx.grid_2d_graph(12, 12)
    terminals = [(i, (5 * i) % 12) for i in range(12)]
    tree = steiner_tree(graph, terminals, time_limit=0.0)
    assert_valid(tree, graph, terminals)


# -- properties --------------------------------------------------------------------------------


@st.composite
def instances(draw: st.DrawFn) -> tuple[nx.Graph, list[int]]:
    """A random connected graph of 5-40 nodes with integer weights, and a terminal subset."""
    n = draw(st.integers(5, 40))
    graph = nx.Graph()
    for v in range(1, n):  # a random spanning tree keeps it connected
        graph.add_edge(v, draw(st.integers(0, v - 1)))
    extra = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))
    graph.add_edges_from((u, v) for u, v in extra if u != v)
    for u, v in graph.edges:
        graph.edges[u, v]["weight"] = draw(st.integers(1, 20))
    terminals = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=n, unique=True))
    return graph, terminals


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_random_graphs_valid_and_never_costlier_than_networkx(
    instance: tuple[nx.Graph, list[int]],
) -> None:
    graph, terminals = instance
    tree = steiner_tree(graph, terminals)
    assert_valid(tree, graph, terminals)
    cost = tree_cost(tree)
    assert cost <= nx_cost(graph, terminals, "mehlhorn")
    assert cost <= nx_cost(graph, terminals, "kou")


# -- SteinLib ------------------------------------------------------------------------------------


# Optimum reached on all four (b18 was 220 for 218 before the average distance start); the
# 1 % bound is the benchmark's target, kept for instances a future change may not solve.
@pytest.mark.parametrize(
    ("name", "exact"), [("b01", True), ("b05", True), ("b13", True), ("b18", True)]
)
def test_steinlib_b_instances(name: str, exact: bool) -> None:
    instance = read_stp(steinlib_dir() / "B" / f"{name}.stp")
    tree = steiner_tree(instance.graph, instance.terminals)
    assert_valid(tree, instance.graph, instance.terminals)
    assert instance.optimum is not None
    cost = tree_cost(tree)
    if exact:
        assert cost == instance.optimum
    else:
        assert instance.optimum <= cost <= 1.01 * instance.optimum


def test_graphs_too_big_for_distance_rows_take_the_voronoi_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import planning._steiner_improve as improve

    monkeypatch.setattr(improve, "_MAX_ROW_CELLS", 0)
    graph = nx.grid_2d_graph(10, 10)
    for i, (u, v) in enumerate(graph.edges):
        graph.edges[u, v]["weight"] = 1 + (i * 7) % 4
    terminals = [(i, (3 * i) % 10) for i in range(10)] + [(9, 0), (0, 9)]
    tree = steiner_tree(graph, terminals)
    assert_valid(tree, graph, terminals)
    assert tree_cost(tree) <= nx_cost(graph, terminals, "mehlhorn")


def test_large_grid_takes_the_voronoi_path_and_beats_networkx() -> None:
    """Road-network sizes (here 6,400 nodes) start from one vectorised Mehlhorn construction."""
    grid = nx.grid_2d_graph(80, 80)
    rng = random.Random(7)
    for u, v in grid.edges:
        grid.edges[u, v]["weight"] = rng.randint(1, 20)
    terminals = rng.sample(sorted(grid.nodes), 60)
    tree = steiner_tree(grid, terminals)
    assert nx.is_tree(tree)
    assert set(terminals) <= set(tree.nodes)
    assert all(grid.edges[u, v]["weight"] == d["weight"] for u, v, d in tree.edges(data=True))
    reference = nx_steiner_tree(grid, terminals, weight="weight")
    assert tree_cost(tree) <= tree_cost(reference)
