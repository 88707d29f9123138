"""The DCUT lower bound: hand-checked graphs, a fractional instance, brute force and SteinLib."""

from __future__ import annotations

import itertools
import math
import os

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from planning.bounds import Bound, BoundError, steiner_lower_bound
from planning.errors import PlanningError
from planning.steinlib import read_stp
from tests.helpers.paths import steinlib_dir

# -- helpers -----------------------------------------------------------------------------------


def brute_force_optimum(graph: nx.Graph, terminals: list, weight: str = "weight") -> float:
    """Exact optimum: the cheapest MST over the terminals plus any subset of Steiner vertices."""
    nodes = list(graph)
    index = {v: i for i, v in enumerate(nodes)}
    n = len(nodes)
    dist = [[math.inf] * n for _ in range(n)]
    for u, v, c in graph.edges(data=weight, default=1.0):
        if u != v:
            i, j = index[u], index[v]
            dist[i][j] = dist[j][i] = min(dist[i][j], float(c))
    terms = [index[t] for t in set(terminals)]
    steiner = [index[v] for v in nodes if v not in set(terminals)]
    best = math.inf
    for k in range(len(steiner) + 1):
        for subset in itertools.combinations(steiner, k):
            best = min(best, _prim([*terms, *subset], dist))
    return best


def _prim(vertices: list[int], dist: list[list[float]]) -> float:
    """MST cost of the subgraph induced by `vertices`; inf when it is disconnected."""
    if len(vertices) <= 1:
        return 0.0
    key = {v: dist[vertices[0]][v] for v in vertices[1:]}
    total = 0.0
    while key:
        v = min(key, key=key.__getitem__)
        if key[v] == math.inf:
            return math.inf
        total += key.pop(v)
        for w, old in key.items():
            key[w] = min(old, dist[v][w])
    return total


def dcut_by_enumeration(graph: nx.Graph, terminals: list, root) -> float:
    """The plain DCUT LP with every cut written out (tiny graphs only), solved by scipy."""
    arcs = [(u, v, c) for u, v, c in graph.edges(data="weight")]
    arcs += [(v, u, c) for u, v, c in arcs]
    others = [v for v in graph if v != root]
    rows = []
    for k in range(1, len(others) + 1):
        for subset in itertools.combinations(others, k):
            inside = set(subset)
            if inside & set(terminals):
                rows.append(
                    [-1.0 if (v in inside and u not in inside) else 0.0 for u, v, _ in arcs]
                )
    result = linprog(
        [c for *_, c in arcs],
        A_ub=np.array(rows),
        b_ub=-np.ones(len(rows)),
        bounds=(0, 1),
        method="highs",
    )
    assert result.status == 0
    return result.fun


def fano_instance() -> tuple[nx.Graph, list]:
    """Root r, one Steiner vertex per line of the Fano plane, one terminal per point; unit costs.

    A tree spans 8 terminals and needs at least 3 lines (a line covers 3 of the 7 points), so it
    has at least 8 + 3 - 1 = 10 edges: the optimum is 10. The LP takes every root arc at 1/3 and
    every line-to-point arc at 1/3, each point receiving 3 x 1/3: 7/3 + 7 = 28/3.
    """
    lines = [(0, 1, 2), (0, 3, 4), (0, 5, 6), (1, 3, 5), (1, 4, 6), (2, 3, 6), (2, 4, 5)]
    graph = nx.Graph()
    for i, line in enumerate(lines):
        graph.add_edge("r", ("line", i), weight=1)
        for p in line:
            graph.add_edge(("line", i), ("point", p), weight=1)
    return graph, ["r", *(("point", p) for p in range(7))]


# -- hand-checked graphs -----------------------------------------------------------------------


def test_star_with_steiner_centre_is_tight():
    graph = nx.Graph()
    for leaf, c in zip("abcd", [1, 2, 3, 4], strict=True):
        graph.add_edge("hub", leaf, weight=c)
    graph.add_edge("a", "b", weight=10)  # a detour that the tree never takes
    bound = steiner_lower_bound(graph, ["a", "b", "c", "d"])
    assert bound is not None
    assert bound.lower == pytest.approx(10.0)
    assert bound.optimal
    assert bound.method == "dcut-lp"
    assert bound.terminals == 4
    assert dcut_by_enumeration(graph, ["a", "b", "c", "d"], "d") <= bound.lower + 1e-7


def test_path_is_tight():
    graph = nx.path_graph(6)
    nx.set_edge_attributes(graph, dict(zip(graph.edges, [3, 1, 4, 1, 5], strict=True)), "w")
    bound = steiner_lower_bound(graph, [0, 2, 5], weight="w")
    assert bound is not None
    assert bound.lower == pytest.approx(14.0)
    assert bound.optimal


def test_triangle_drops_its_heaviest_edge():
    graph = nx.Graph([("x", "y", {"weight": 2.5}), ("y", "z", {"weight": 1.5})])
    graph.add_edge("x", "z", weight=3.0)
    bound = steiner_lower_bound(graph, ["x", "y", "z"])
    assert bound is not None
    assert bound.lower == pytest.approx(4.0)
    assert bound.optimal
    assert bound.gap(5.0) == pytest.approx(0.2)
    assert bound.gap(4.0) == pytest.approx(0.0, abs=1e-9)


def test_fractional_lp_is_below_the_optimum_and_not_optimal():
    graph, terminals = fano_instance()
    assert brute_force_optimum(graph, terminals) == 10
    bound = steiner_lower_bound(graph, terminals)
    assert bound is not None
    assert not bound.optimal
    assert 0 < bound.lower < 10
    assert bound.lower == pytest.approx(28 / 3, rel=1e-7)
    assert dcut_by_enumeration(graph, terminals, "r") <= bound.lower + 1e-7


def test_zero_weights_and_tuple_labels():
    graph = nx.Graph()
    graph.add_edge(("t", 1), ("s", 1), weight=0)
    graph.add_edge(("s", 1), ("t", 2), weight=0)
    graph.add_edge(("s", 1), ("t", 3), weight=2)
    graph.add_edge(("t", 2), ("t", 3), weight=5)
    bound = steiner_lower_bound(graph, [("t", 1), ("t", 2), ("t", 3)])
    assert bound is not None
    assert bound.lower == pytest.approx(2.0)
    assert bound.optimal


def test_trivial_instances_are_exact():
    graph = nx.Graph([(1, 2, {"weight": 4}), (2, 3, {"weight": 5}), (1, 3, {"weight": 10})])
    one = steiner_lower_bound(graph, [1])
    assert one is not None
    assert (one.lower, one.optimal, one.method, one.terminals) == (0.0, True, "exact", 1)
    two = steiner_lower_bound(graph, [1, 3])
    assert two is not None
    assert (two.lower, two.optimal, two.method) == (9.0, True, "exact")
    assert Bound(0.0, True, "exact", 0, 0, 0.0, 0).gap(0.0) == 0.0


def test_max_edges_cut_off_returns_none():
    graph = nx.grid_2d_graph(6, 6)  # 60 edges, no vertex a reduction can remove
    terminals = [(0, 0), (5, 5), (0, 5), (5, 0)]
    assert steiner_lower_bound(graph, terminals, max_edges=59) is None
    bound = steiner_lower_bound(graph, terminals, max_edges=60)
    assert bound is not None
    assert bound.edges == 60
    assert bound.lower == pytest.approx(15.0)  # a spanning path of the grid's border minus one side


def test_reductions_count_against_max_edges_only_after_shrinking():
    graph = nx.path_graph(200)  # 199 edges, all but 2 removed or merged by the reductions
    graph.add_edge(0, 199)
    graph.add_edge(100, 300)
    bound = steiner_lower_bound(graph, [0, 100, 300], max_edges=5)
    assert bound is not None
    assert bound.lower == pytest.approx(101.0)


def test_time_limit_still_gives_a_valid_bound():
    instance = read_stp(steinlib_dir() / "B" / "b18.stp")
    bound = steiner_lower_bound(instance.graph, instance.terminals, time_limit=0.0)
    assert bound is not None
    assert bound.method == "dcut-lp-partial"
    assert not bound.optimal
    assert 0 <= bound.lower <= instance.optimum
    assert bound.iterations == 1


def test_disconnected_terminals_raise():
    graph = nx.Graph([("a", "b"), ("c", "d")])
    with pytest.raises(BoundError, match="disconnected"):
        steiner_lower_bound(graph, ["a", "b", "c"])
    assert issubclass(BoundError, PlanningError)


def test_unknown_terminal_and_negative_weight_raise():
    graph = nx.Graph([("a", "b", {"weight": 1}), ("b", "c", {"weight": -1})])
    with pytest.raises(BoundError, match="not in the graph"):
        steiner_lower_bound(graph, ["a", "z"])
    with pytest.raises(BoundError, match="weights must be finite"):
        steiner_lower_bound(graph, ["a", "b", "c"])


# -- the key property: never above the optimum -------------------------------------------------


@st.composite
def small_instances(draw):
    n = draw(st.integers(6, 14))
    rnd = draw(st.randoms(use_true_random=False))
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    weights = st.one_of(st.integers(0, 9), st.floats(0, 10, allow_nan=False))
    for v in range(1, n):  # a random spanning tree keeps the graph connected
        graph.add_edge(v, rnd.randrange(v), weight=draw(weights))
    for _ in range(draw(st.integers(0, 2 * n))):
        u, v = rnd.sample(range(n), 2)
        graph.add_edge(u, v, weight=draw(weights))
    k = draw(st.integers(max(3, n - 10), min(n, 7)))
    terminals = rnd.sample(range(n), k)
    if draw(st.booleans()):  # arbitrary hashable labels
        graph = nx.relabel_nodes(graph, {v: ("v", str(v)) for v in graph})
        terminals = [("v", str(t)) for t in terminals]
    return graph, terminals


@settings(
    max_examples=int(os.environ.get("VIGIE_BOUNDS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(small_instances())
def test_bound_never_exceeds_the_brute_force_optimum(instance):
    graph, terminals = instance
    optimum = brute_force_optimum(graph, terminals)
    bound = steiner_lower_bound(graph, terminals)
    assert bound is not None
    assert 0 <= bound.lower <= optimum + 1e-9 * max(1.0, optimum)
    if bound.optimal:
        assert bound.lower == pytest.approx(optimum, rel=1e-7, abs=1e-9)


# -- SteinLib ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["b01", "b09", "b18"])
def test_steinlib_series_b_bounds_are_close_and_valid(name):
    instance = read_stp(steinlib_dir() / "B" / f"{name}.stp")
    assert instance.optimum is not None, f"{name}.stp has no 'Optimal' line"
    bound = steiner_lower_bound(instance.graph, instance.terminals)
    assert bound is not None
    assert bound.lower <= instance.optimum + 1e-9 * instance.optimum
    assert bound.lower >= 0.99 * instance.optimum
