"""Budget-constrained plans: hand-made networks whose best choice is known, the sample, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import LineString, Point

from planning.budget import (
    MarginalModel,
    greedy,
    mast_priority,
    plan_subset,
    plan_within_budget,
    priority_order,
    priority_prefix_real,
    total_priority,
)
from planning.budget_text import next_euro_lines
from planning.network import build_network
from planning.parameters import PlanParameters
from planning.plan import MastStatus
from planning.routing import route_masts
from planning.validate import validate_path
from tests.helpers.cli import run
from tests.helpers.paths import SAMPLE

CRS = "EPSG:2154"
X, Y = 560_000.0, 6_880_000.0
PARAMS = PlanParameters()


def at(dx: float, dy: float) -> tuple[float, float]:
    return (X + dx, Y + dy)


def network(
    roads: list[list[tuple[float, float]]],
    masts: list[tuple[str, tuple[float, float], int | None]],
):
    """Local roads, one PM at the origin with room for 12 masts, masts with their priority."""
    layers = {
        "roads": gpd.GeoDataFrame(
            {"id": [f"r{i}" for i in range(len(roads))], "kind": ["local"] * len(roads)},
            geometry=[LineString([at(*p) for p in r]) for r in roads],
            crs=CRS,
        ),
        "ftth_nodes": gpd.GeoDataFrame(
            {"id": ["N"], "kind": ["PM"], "free_fibres": [24]}, geometry=[Point(at(0, 0))], crs=CRS
        ),
        "masts": gpd.GeoDataFrame(
            {
                "id": [m[0] for m in masts],
                "commune": ["27229"] * len(masts),
                "cameras": [2] * len(masts),
                "camera_model": ["dome_4mp"] * len(masts),
                "critical": [False] * len(masts),
                "priority": [m[2] for m in masts],
            },
            geometry=[Point(at(*m[1])) for m in masts],
            crs=CRS,
        ),
    }
    return build_network(layers, PARAMS)


def statuses(plan) -> dict[str, MastStatus]:
    return {m.mast_id: m.status for m in plan.masts}


# A and B (priority 2) sit 100 and 150 m east of the PM; C (priority 3) 1 km west. With 55 k€,
# C alone (about 52 k€) leaves too little for A; A and B together cost about 9 k€.
NEAR_AND_FAR = (
    [[(0, 0), (150, 0)], [(0, 0), (-1000, 0)]],
    [("A", (100, 0), 2), ("B", (150, 0), 2), ("C", (-1000, 0), 3)],
)


def test_priority_reaches_the_mast_node_and_defaults_favour_critical_masts() -> None:
    net = network(*NEAR_AND_FAR)
    assert net.graph.nodes[net.mast_nodes["C"]]["priority"] == 3
    assert mast_priority({"priority": None, "critical": True}) == 2
    assert mast_priority({"priority": None, "critical": False}) == 1
    assert mast_priority({"critical": True}) == 2
    assert mast_priority({"priority": 0, "critical": True}) == 0


def test_the_marginal_model_prices_a_lone_mast_as_the_real_plan_does() -> None:
    net = network(*NEAR_AND_FAR)
    model = MarginalModel(net, PARAMS, ["A", "B", "C"])
    # 100 m of local trench and cable, the closure at the PM, the connection and two splices.
    cost = PARAMS.cost
    expected = 100 * (cost.trench.local + cost.cable_eur_per_m) + 600 + 500 + 2 * 15
    assert model.marginal("A") == pytest.approx(expected)
    assert plan_subset(net, PARAMS, ["A"]).total_cost == pytest.approx(expected)
    # Once A is in, B pays only its 50 m beyond A, not its 150 m from the PM.
    model.add("A")
    assert model.marginal("B") == pytest.approx(50 * (cost.trench.local + 0.9) + 530)


def test_two_cheap_masts_beat_one_remote_mast_of_higher_priority() -> None:
    net = network(*NEAR_AND_FAR)
    envelope = 55_000
    masts = ["A", "B", "C"]
    # The baselines take C first and have nothing left for A.
    stop = priority_order(MarginalModel(net, PARAMS, masts), masts, envelope, skip=False)
    skip = priority_order(MarginalModel(net, PARAMS, masts), masts, envelope, skip=True)
    assert [s.mast_id for s in stop] == ["C"] == [s.mast_id for s in skip]
    result = plan_within_budget(net, PARAMS, envelope)
    assert result.method == "greedy"
    assert sorted(s.mast_id for s in result.chosen) == ["A", "B"]
    assert result.priority_connected == 4 > total_priority(skip) == 3
    assert statuses(result.plan) == {
        "A": MastStatus.CONNECTED,
        "B": MastStatus.CONNECTED,
        "C": MastStatus.DEFERRED,
    }
    assert result.spent_eur <= envelope
    # The next euros buy C: it needs more than what is left.
    assert [s.mast_id for s in result.next_steps] == ["C"]
    assert result.to_dict()["next"][0]["extra_eur"] > 0
    assert next_euro_lines(result.to_dict())[0].startswith("avec ")
    assert next_euro_lines(result.to_dict())[0].endswith(" de plus : mât C (priorité 3)")


def test_when_the_priority_order_does_better_in_the_model_it_is_kept() -> None:
    # A and B share one trench east (about 58 k€ together); D alone west costs about 32 k€.
    # The ratio greedy takes D first, then nothing fits; priority order (ties by id) takes A, B.
    net = network(
        [[(0, 0), (1100, 0)], [(0, 0), (-600, 0)]],
        [("A", (1000, 0), 1), ("B", (1100, 0), 1), ("D", (-600, 0), 1)],
    )
    masts = ["A", "B", "D"]
    ratio = greedy(MarginalModel(net, PARAMS, masts), masts, 60_000)
    assert [s.mast_id for s in ratio] == ["D"]
    result = plan_within_budget(net, PARAMS, 60_000)
    assert result.method == "priority"
    assert sorted(s.mast_id for s in result.chosen) == ["A", "B"]
    assert result.spent_eur <= 60_000


def test_an_envelope_covering_the_full_plan_connects_every_mast() -> None:
    net = network(*NEAR_AND_FAR)
    full = route_masts(net, PARAMS)
    result = plan_within_budget(net, PARAMS, full.total_cost)
    assert result.deferred == []
    assert all(m.status is MastStatus.CONNECTED for m in result.plan.masts)
    assert result.spent_eur == pytest.approx(full.total_cost)


def test_a_zero_envelope_defers_every_mast_and_spends_nothing() -> None:
    net = network(*NEAR_AND_FAR)
    result = plan_within_budget(net, PARAMS, 0)
    assert result.spent_eur == 0
    assert result.deferred == ["A", "B", "C"]
    assert set(statuses(result.plan).values()) == {MastStatus.DEFERRED}
    assert result.plan.trenches == []


@pytest.fixture(scope="module")
def sample():
    report = validate_path(SAMPLE)
    net = build_network(report.layers, PARAMS)
    return net, route_masts(net, PARAMS)


@pytest.mark.parametrize("share", [0.3, 0.6])
def test_on_the_sample_the_plan_fits_and_beats_the_priority_order(sample, share: float) -> None:
    net, full = sample
    envelope = share * full.total_cost
    result = plan_within_budget(net, PARAMS, envelope, full=full)
    assert result.spent_eur <= envelope
    assert result.plan.total_cost == pytest.approx(result.spent_eur)
    masts = sorted(m.mast_id for m in full.masts if m.primary is not None)
    # The baseline on real plans: masts in priority order, as many as really fit.
    priority = {m: mast_priority(net.graph.nodes[net.mast_nodes[m]]) for m in masts}
    prefix, baseline_plan = priority_prefix_real(net, PARAMS, masts, envelope, priority=priority)
    assert baseline_plan is None or baseline_plan.total_cost <= envelope
    assert result.priority_connected >= sum(priority[m] for m in prefix)
    counted = statuses(result.plan)
    connected = {m for m, s in counted.items() if s is MastStatus.CONNECTED}
    assert connected == {s.mast_id for s in result.chosen}
    assert {m for m, s in counted.items() if s is MastStatus.DEFERRED} == set(result.deferred)
    assert len(counted) == len(full.masts)
    # Deterministic: the same envelope gives the same masts.
    again = plan_within_budget(net, PARAMS, envelope, full=full)
    assert [s.mast_id for s in again.chosen] == [s.mast_id for s in result.chosen]


def test_on_the_sample_the_full_plans_cost_connects_every_mast(sample) -> None:
    net, full = sample
    result = plan_within_budget(net, PARAMS, full.total_cost, full=full)
    assert result.deferred == []
    assert len(result.plan.connected) == len(full.masts)


def test_vigie_plan_budget_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    done = run("plan", str(SAMPLE), "--out", str(out), "--budget", "150000", "--no-bound")
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    block = summary["budget"]
    assert block["envelope_eur"] == 150_000
    assert 0 < block["spent_eur"] <= 150_000
    assert block["spent_eur"] == summary["totals"]["cost_eur"]
    assert 0 < block["priority_connected"] < block["priority_total"]
    assert summary["totals"]["deferred"] == block["masts_deferred"] > 0
    masts = pyogrio.read_dataframe(out / "plan.gpkg", layer="masts")
    assert (masts["status"] == "deferred").sum() == block["masts_deferred"]
    assert "Enveloppe" in done.stdout
    assert "150\u202f000\u00a0€\u00a0HT" in done.stdout
    assert " de plus : mât" in done.stdout
    assert f"masts:{block['deferred'][0]}: deferred: outside the budget envelope" in done.stdout
    assert '"deferred"' in (out / "map.html").read_text(encoding="utf-8")
    # The estimate of that plan leaves the deferred masts out, and says so.
    priced = run("estimate", str(out), "--out", str(tmp_path / "dqe.json"))
    assert priced.returncode == 0, priced.stderr
    (dqe,) = json.loads((tmp_path / "dqe.json").read_text(encoding="utf-8"))["estimates"]
    connected = int((masts["status"] == "connected").sum())
    assert dqe["figures"]["masts"] == connected
    assert dqe["figures"]["cameras"] == int(
        masts.loc[masts["status"] == "connected", "cameras"].sum()
    )
    assert any(f"{block['masts_deferred']} mât(s) reporté(s)" in note for note in dqe["notes"])
