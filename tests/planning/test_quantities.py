"""Quantities of the sample plan, checked against the plan's own layers and summary."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pyogrio
import pytest

from cameras.catalogue import load_catalogue
from planning.export import PLAN_LAYERS
from planning.plan_folder import read_plan_folder
from planning.prices import default_price_data, load_prices, merge_prices
from planning.quantities import mast_inventory, plan_quantities
from planning.schema import ROAD_KINDS
from planning.supply import ROUTED_COLUMNS
from vigie.estimate.dqe import build_estimate


@pytest.fixture(scope="module")
def folder(sample_plan: Path):
    return read_plan_folder(sample_plan)


def _by_key(quantities):
    return {q.key: q for q in quantities}


def test_laying_metres_match_the_plan_summary(folder) -> None:
    q = _by_key(plan_quantities(folder, load_prices()))
    by_mode = folder.summary["totals"]["length_m_by_mode"]
    trench = sum(v.quantity for k, v in q.items() if k.startswith("trench."))
    assert trench == pytest.approx(by_mode["trench"], abs=0.2)
    assert q["laying.duct"].quantity == pytest.approx(by_mode["duct"], abs=0.1)
    assert q["laying.aerial"].quantity == pytest.approx(by_mode["aerial"], abs=0.1)
    # the sample's trenches run along its roads, or off road to reach a mast
    kinds = {k for k in q if k.startswith("trench.")}
    assert {"trench.local", "trench.off_road"} <= kinds
    assert kinds <= {f"trench.{kind}" for kind in ROAD_KINDS} | {"trench.off_road"}


def test_cable_adds_the_slack_and_a_loop_at_each_end(folder) -> None:
    cables = folder.layers["cables"]
    expected = float(cables["length_m"].sum()) * 1.10 + 2 * 15 * len(cables)
    q = _by_key(plan_quantities(folder, load_prices()))
    assert q["cable.fo12"].quantity == pytest.approx(expected, abs=0.1)
    bigger = merge_prices(
        default_price_data(),
        {"rules": {"cable_slack": {"value": 20, "year": 2026, "source": "test"}}},
    )
    q20 = _by_key(plan_quantities(folder, load_prices(bigger)))
    assert q20["cable.fo12"].quantity == pytest.approx(
        expected + 0.10 * float(cables["length_m"].sum()), abs=0.1
    )


def test_splicing_counts_come_from_the_plan(folder) -> None:
    q = _by_key(plan_quantities(folder, load_prices()))
    connections, splices = folder.layers["connections"], folder.layers["splices"]
    assert q["splicing.closure"].quantity == len(splices)
    assert q["splicing.ftth_connection"].quantity == len(connections)
    assert q["splicing.fibre_splice"].quantity == 2 * int(connections["splices"].sum())
    trenches = folder.layers["trenches"]
    new_m = float(trenches.loc[trenches["mode"] == "trench", "length_m"].sum())
    branches = int((splices["kind"] == "branch").sum())
    assert q["splicing.chamber"].quantity == math.ceil(new_m / 150) + branches


LINKS = ("electricity.link_cable", "electricity.trench_shared", "electricity.trench")


def test_every_mast_gets_one_electricity_connection(folder) -> None:
    q = _by_key(plan_quantities(folder, load_prices()))
    masts = folder.layers["masts"]
    connections = [k for k in q if k.startswith("electricity.") and k not in LINKS]
    assert sum(q[k].quantity for k in connections) == len(masts)
    assert (
        q["electricity.public_lighting"].quantity
        == (masts["power_kind"] == "public_lighting").sum()
    )
    cable = masts["power_distance_m"].sum()
    assert q["electricity.link_cable"].quantity == pytest.approx(cable, abs=0.1)
    # along the roads, some of it in the fibre's trenches; stretches masts share counted once
    assert 0 < q["electricity.trench_shared"].quantity <= masts["power_shared_m"].sum() + 0.1
    assert 0 < q["electricity.trench"].quantity < masts["power_trench_m"].sum()
    trench = q["electricity.trench_shared"].quantity + q["electricity.trench"].quantity
    assert trench < cable


def test_a_plan_from_an_older_vigie_prices_its_links_as_the_crow_flies(
    sample_plan: Path, tmp_path: Path
) -> None:
    old = tmp_path / "plan"
    old.mkdir()
    shutil.copy(sample_plan / "summary.json", old)
    for name in PLAN_LAYERS:
        if name == "power_links":
            continue
        layer = pyogrio.read_dataframe(sample_plan / "plan.gpkg", layer=name)
        if name == "masts":
            layer = layer.drop(columns=list(ROUTED_COLUMNS))
        pyogrio.write_dataframe(layer, old / "plan.gpkg", layer=name)
    folder = read_plan_folder(old)
    q = _by_key(plan_quantities(folder, load_prices()))
    metres = folder.layers["masts"]["power_distance_m"].sum()
    assert q["electricity.link_cable"].quantity == pytest.approx(metres, abs=0.1)
    assert q["electricity.trench"].quantity == pytest.approx(metres, abs=0.1)
    assert "electricity.trench_shared" not in q
    assert "version antérieure" in q["electricity.trench"].basis
    notes = build_estimate(folder, load_prices(), load_catalogue()).notes
    assert any(n.startswith("Plan écrit par une version antérieure") for n in notes)
    routed = build_estimate(read_plan_folder(sample_plan), load_prices(), load_catalogue()).notes
    assert any("le long des voies jusqu'au point" in n for n in routed)


def test_a_wider_at_hand_radius_moves_masts_to_the_cheap_connection(folder) -> None:
    wide = merge_prices(
        default_price_data(),
        {"rules": {"enedis_at_hand_m": {"value": 400, "year": 2026, "source": "test"}}},
    )
    q = _by_key(plan_quantities(folder, load_prices(wide)))
    masts = folder.layers["masts"]
    enedis = masts[masts["power_kind"] == "enedis"]
    assert q["electricity.enedis_at_hand"].quantity == (enedis["power_distance_m"] <= 400).sum()
    assert q["electricity.enedis_branch"].quantity == (enedis["power_distance_m"] > 400).sum()


def test_every_quantity_is_split_between_communes_exactly(folder) -> None:
    communes = set(folder.layers["masts"]["commune"])
    for q in plan_quantities(folder, load_prices()):
        assert sum(q.by_commune.values()) == pytest.approx(q.quantity, abs=0.1), q.key
        assert set(q.by_commune) <= communes, q.key


def test_mast_inventory_lists_every_mast_with_its_model(folder) -> None:
    masts = mast_inventory(folder)
    assert len(masts) == 110
    assert sum(m.cameras for m in masts) == 253
    assert {m.camera_model for m in masts} == {
        "fixed_4mp",
        "dome_4mp",
        "ptz_2mp_30x",
        "multi_4x5mp",
        "lpr_2mp",
    }
