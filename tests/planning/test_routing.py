"""The router on hand-made layers whose best plan is known, and on the real Eure sample."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pytest
from shapely.geometry import Point

from planning.export import write_plan
from planning.parameters import PlanParameters
from planning.pipeline import plan_layers
from planning.plan import MastStatus
from planning.validate import validate_path
from tests.helpers.paths import SAMPLE
from tests.helpers.plan_layers import COST, PARAMS, at, layers, mast, plan


def test_two_masts_share_one_trench_to_the_node() -> None:
    # N ---- A (1 km) ---- B (1 km): B's fibre runs in A's trench.
    data = layers(
        roads=[("r1", "local", [(0, 0), (1000, 0)]), ("r2", "local", [(1000, 0), (2000, 0)])],
        nodes=[("N", "PM", 24, (0, 0))],
        masts=[("A", (1000, 0), False), ("B", (2000, 0), False)],
    )
    result = plan(data)
    assert [m.status for m in result.masts] == [MastStatus.CONNECTED] * 2
    trench_m = sum(t.length_m for t in result.trenches if t.mode == "trench")
    assert trench_m == pytest.approx(2000, abs=0.5)  # not 1000 + 2000
    first = next(t for t in result.trenches if t.geometry.distance(Point(at(500, 0))) < 1)
    assert first.masts == ("A", "B")
    assert first.fibres == 2 * PARAMS.network.fibres_per_mast
    assert first.civil_cost == pytest.approx(1000 * COST.trench.local, rel=1e-6)
    assert mast(result, "B").primary.length_m == pytest.approx(2000, abs=0.5)
    # The plan's cost is exactly its parts.
    assert result.total_cost == pytest.approx(
        sum(t.civil_cost + t.cable_cost for t in result.trenches) + result.connection_cost
    )


def test_mast_reachable_only_through_an_existing_duct() -> None:
    # No road reaches the node: only an FttH duct with a free sub-duct does.
    data = layers(
        roads=[("r1", "local", [(0, 0), (500, 0)])],
        routes=[("d1", "duct", 1, [(500, 0), (500, 800)])],
        nodes=[("N", "PM", 24, (500, 800))],
        masts=[("A", (0, 0), False)],
    )
    result = plan(data)
    assert mast(result, "A").status is MastStatus.CONNECTED
    modes = {t.mode: t.length_m for t in result.trenches}
    assert modes["duct"] == pytest.approx(800, abs=0.5)
    assert modes["trench"] == pytest.approx(500, abs=0.5)


def test_a_full_node_forces_a_farther_one() -> None:
    data = layers(
        roads=[("r1", "local", [(-3000, 0), (0, 0)]), ("r2", "local", [(0, 0), (200, 0)])],
        nodes=[("near", "PBO", 0, (200, 0)), ("far", "PM", 24, (-3000, 0))],
        masts=[("A", (0, 0), False)],
    )
    result = plan(data)
    assert mast(result, "A").primary.node_id == "far"


def test_node_capacity_is_respected() -> None:
    # The PBO next to both masts has fibres for one mast only (2 free, 2 per mast).
    data = layers(
        roads=[("r1", "local", [(-2000, 0), (0, 0)]), ("r2", "local", [(0, 0), (100, 0)])],
        nodes=[("pbo", "PBO", 2, (0, 0)), ("pm", "PM", 24, (-2000, 0))],
        masts=[("A", (50, 0), False), ("B", (100, 0), False)],
    )
    result = plan(data, PlanParameters.from_dict({"transport": {"pbo_allowed": True}}))
    served = [m.primary.node_id for m in result.masts]
    assert sorted(served) == ["pbo", "pm"]
    assert mast(result, "A").primary.node_id == "pbo"  # the nearest keeps the node


def test_unreachable_mast_is_reported_not_dropped() -> None:
    data = layers(
        roads=[("r1", "local", [(0, 0), (100, 0)]), ("island", "local", [(0, 900), (100, 900)])],
        nodes=[("N", "PM", 24, (0, 0))],
        masts=[("A", (100, 0), False), ("lost", (100, 900), False), ("far", (50, 5000), False)],
    )
    result = plan(data)
    assert mast(result, "A").status is MastStatus.CONNECTED
    lost = mast(result, "lost")
    assert lost.status is MastStatus.UNREACHABLE
    assert "no FttH node it may join with free fibres in its part of the network" in lost.reason
    far = mast(result, "far")
    assert far.status is MastStatus.UNREACHABLE
    assert "snapping" in far.reason


def test_link_budget_flags_a_mast_too_far_from_its_node() -> None:
    # 25 km of fibre: 8.75 dB of attenuation + connectors and splices > 10.5 - 3 dB.
    data = layers(
        roads=[("r1", "track", [(0, 0), (25_000, 0)])],
        nodes=[("N", "NRO", 96, (0, 0))],
        masts=[("A", (25_000, 0), False), ("B", (1_000, 5), False)],
    )
    # Long-reach optics (1550 nm, 23 dB) hold 25 km: the plan picks them.
    reach = mast(plan(data), "A")
    assert reach.status is MastStatus.CONNECTED
    assert reach.primary.optics == "long-reach" and reach.primary.margin_db > 0
    # Without them (budget 0), the LX10 budget is exceeded and said so.
    result = plan(data, PlanParameters.from_dict({"optics": {"budget_db": 0}}))
    far = mast(result, "A")
    assert far.status is MastStatus.OVER_BUDGET
    link = PARAMS.link
    expected = link.loss_db(25_000, far.primary.splices)
    assert far.primary.loss_db == pytest.approx(expected, abs=1e-3)
    assert far.primary.margin_db == pytest.approx(
        link.budget_db - expected - link.safety_margin_db, abs=1e-3
    )
    assert "over the budget" in far.reason
    near = mast(result, "B")
    assert near.status is MastStatus.CONNECTED
    assert near.primary.margin_db > 0


def test_critical_mast_gets_a_disjoint_second_route_to_another_node() -> None:
    # A square: the mast at one corner, a node at each neighbouring corner.
    data = layers(
        roads=[
            ("s", "local", [(0, 0), (1000, 0)]),
            ("e", "local", [(1000, 0), (1000, 1000)]),
            ("n", "local", [(1000, 1000), (0, 1000)]),
            ("w", "local", [(0, 1000), (0, 0)]),
        ],
        nodes=[("N1", "PM", 24, (1000, 0)), ("N2", "PM", 24, (0, 1000))],
        masts=[("A", (0, 0), True)],
    )
    result = plan(data)
    a = mast(result, "A")
    assert a.secondary is not None
    assert {a.primary.node_id, a.secondary.node_id} == {"N1", "N2"}
    first = a.primary.geometry.buffer(0.01)
    assert a.secondary.geometry.intersection(first).length < 1.0  # no shared trench


def test_critical_mast_without_a_disjoint_route_is_reported() -> None:
    data = layers(
        roads=[("r1", "local", [(0, 0), (1000, 0)])],
        nodes=[("N1", "PM", 24, (1000, 0)), ("N2", "PM", 24, (500, 0))],
        masts=[("A", (0, 0), True)],
    )
    result = plan(data)
    a = mast(result, "A")
    assert a.status is MastStatus.CONNECTED
    assert a.secondary is None
    assert "no second route" in a.secondary_issue


def test_bound_is_computed_on_small_instances_and_never_above_the_plan() -> None:
    data = layers(
        roads=[
            ("r1", "local", [(0, 0), (1000, 0)]),
            ("r2", "local", [(1000, 0), (1000, 1000)]),
            ("r3", "secondary", [(0, 0), (0, 1000)]),
        ],
        nodes=[("N", "PM", 24, (0, 0))],
        masts=[("A", (1000, 0), False), ("B", (1000, 1000), False), ("C", (0, 1000), False)],
    )
    result = plan(data)
    bound = result.bound
    assert bound["computed"] is True
    assert bound["lower_bound"] <= bound["plan_value"] + 1e-6
    assert 0.0 <= bound["gap"] < 0.01  # a tree this simple is found exactly


def test_same_plan_from_wgs84_and_lambert93_layers(tmp_path: Path) -> None:
    data = layers(
        roads=[
            ("r1", "local", [(0, 0), (1000, 0)]),
            ("r2", "tertiary", [(1000, 0), (1000, 700)]),
            ("r3", "local", [(0, 0), (0, 700)]),
        ],
        routes=[("a1", "aerial", 1, [(0, 0), (0, 700)])],
        nodes=[("N", "PM", 24, (0, 0)), ("M", "PBO", 8, (0, 700))],
        masts=[("A", (1000, 700), True), ("B", (1000, 10), False)],
    )
    lambert, wgs84 = tmp_path / "l93", tmp_path / "wgs84"
    lambert.mkdir()
    wgs84.mkdir()
    for name, gdf in data.items():
        gdf.to_file(lambert / f"{name}.gpkg", engine="pyogrio")
        gdf.to_crs("EPSG:4326").to_file(wgs84 / f"{name}.geojson", engine="pyogrio")
    plans = []
    for folder in (lambert, wgs84):
        report = validate_path(folder)
        assert report.ok, report.lines()
        plans.append(plan(report.layers))
    one, two = plans
    assert two.total_cost == pytest.approx(one.total_cost, rel=1e-4)
    assert [m.primary.node_id for m in one.masts] == [m.primary.node_id for m in two.masts]
    assert [m.secondary.node_id if m.secondary else None for m in one.masts] == [
        m.secondary.node_id if m.secondary else None for m in two.masts
    ]


@pytest.fixture(scope="module")
def sample_plan(tmp_path_factory):
    report = validate_path(SAMPLE)
    result, net = plan_layers(report.layers, PARAMS)
    out = tmp_path_factory.mktemp("plan")
    paths = write_plan(
        result,
        out,
        ftth_nodes=report.layers["ftth_nodes"],
        communes=report.layers["communes"],
        source=str(SAMPLE),
    )
    return result, net, paths


def test_the_sample_plan_connects_every_mast_as_a_forest(sample_plan) -> None:
    result, _net, _ = sample_plan
    assert len(result.masts) == 110
    assert all(m.status is MastStatus.CONNECTED for m in result.masts)
    # The primary cables form a forest: no cycle anywhere in the dug network of primaries.
    forest = nx.Graph()
    for m in result.masts:
        coords = list(m.primary.geometry.coords)
        forest.add_edges_from(
            (tuple(map(round, a)), tuple(map(round, b)))
            for a, b in itertools.pairwise(coords)
            if tuple(map(round, a)) != tuple(map(round, b))
        )
    assert nx.is_forest(forest)
    critical = [m for m in result.masts if m.critical]
    assert critical
    assert all(m.secondary is not None or m.secondary_issue for m in critical)


def test_sample_plan_files(sample_plan) -> None:
    import pyogrio

    result, _, paths = sample_plan
    layers_written = [name for name, _ in pyogrio.list_layers(paths["plan"])]
    assert layers_written[:5] == ["trenches", "cables", "connections", "masts", "splices"]
    masts = gpd.read_file(paths["plan"], layer="masts", engine="pyogrio")
    assert set(masts["status"]) == {"connected"}
    # The leased links to the CSU are the centre's, not shared between masts.
    assert result.links_cost > 0
    assert masts["cost_eur"].sum() == pytest.approx(result.total_cost - result.links_cost, rel=1e-6)
    import sqlite3

    with sqlite3.connect(paths["plan"]) as db:
        styles = dict(db.execute("SELECT f_table_name, styleQML FROM layer_styles"))
    assert set(styles) == {
        "trenches",
        "cables",
        "connections",
        "masts",
        "splices",
        "links",
        "power_links",
    }
    assert 'attr="mode"' in styles["trenches"]
    assert 'attr="laying"' in styles["power_links"]
    assert 'attr="status"' in styles["masts"]

    summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
    assert summary["totals"]["connected"] == 110
    assert summary["totals"]["cost_eur"] == pytest.approx(result.total_cost, abs=0.05)
    assert set(summary["communes"]) == set(masts["commune"])
    assert summary["parameters"]["network"]["fibres_per_mast"] == 2
    assert "bound" in summary

    html = paths["map"].read_text(encoding="utf-8")
    assert "M-27229-001" in html
    # Self-contained: no external script, style, font or tile.
    assert "http://" not in html
    assert "https://" not in html
