"""The DQE of the sample plan: totals recomputed independently from its lines, financing, splits."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from cameras.catalogue import CatalogueError, default_catalogue_data, load_catalogue
from planning.plan_folder import read_plan_folder
from planning.prices import default_price_data, load_prices, merge_prices
from planning.quantities import mast_inventory
from vigie.estimate.dqe import build_estimate
from vigie.estimate.files import estimate_document, estimate_rows


@pytest.fixture(scope="module")
def folder(sample_plan: Path):
    return read_plan_folder(sample_plan)


@pytest.fixture(scope="module")
def estimate(folder):
    return build_estimate(folder, load_prices(), load_catalogue())


def cents(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_totals_recomputed_from_the_json_lines(estimate) -> None:
    """Decimal arithmetic on the exported lines only, not on the estimate's own properties."""
    document = estimate_document([estimate])["estimates"][0]
    lots: dict[str, Decimal] = {}
    for line in document["lines"]:
        lot = line["number"].split(".")[0]
        amount = cents(Decimal(str(line["quantity"])) * Decimal(str(line["unit_price_ht"])))
        assert Decimal(str(line["amount_ht"])) == amount, line["number"]
        lots[lot] = lots.get(lot, Decimal(0)) + amount
    assert set(lots) == {"1", "2", "3"}  # the AMO is not a lot of the works
    works = sum(lots.values())
    amo = cents(works * Decimal("14.8") / 100)
    total = works + amo
    vat = cents(works * Decimal("0.20")) + cents(amo * Decimal("0.20"))
    totals = {k: Decimal(str(v)) for k, v in document["totals"].items()}
    assert {f"lot_{n}_ht": v for n, v in lots.items()} == {
        k: v for k, v in totals.items() if k.startswith("lot_")
    }
    assert totals["works_ht"] == works
    assert totals["amo_ht"] == amo == Decimal(str(document["amo"]["amount"]))
    assert totals["total_ht"] == total
    assert totals["vat"] == vat
    assert totals["total_ttc"] == total + vat
    aids = sum(Decimal(str(a["amount"])) for o in document["owners"] for a in o["aids"])
    assert totals["aids_ht"] == aids
    assert totals["rest_ht"] == total - aids
    fipd = sum(
        Decimal(str(a["amount"]))
        for o in document["owners"]
        for a in o["aids"]
        if a["funder"] == "fipd"
    )
    assert totals["fipd"] == totals["aid_fipd"] == fipd


def test_each_owner_plan_recomputed_from_the_json(estimate) -> None:
    """Base, ceiling, rate, cap and own share of every owner, in Decimal from the JSON."""
    document = estimate_document([estimate])["estimates"][0]
    funders = {f["key"]: f for f in document["call"]["funders"]}
    cap_percent = Decimal(str(document["call"]["public_aid_cap_percent"]))
    total_project = Decimal(str(document["totals"]["total_ht"]))
    for owner in document["owners"]:
        total = cents(Decimal(repr(owner["works_key"])) * total_project)
        assert Decimal(str(owner["total_ht"])) == total, owner["code"]
        cap = cents(total * cap_percent / 100)
        granted = Decimal(0)
        for aid in owner["aids"]:
            funder = funders[aid["funder"]]
            base = Decimal(str(aid["base"]))
            kept = base
            if funder["ceiling_per_camera"] is not None:
                ceiling = Decimal(str(funder["ceiling_per_camera"])) * owner["cameras"]
                kept = min(base, ceiling)
            applies = owner["kind"] in funder["owners"]
            asked = cents(kept * Decimal(str(funder["requested_rate"])) / 100) if applies else 0
            assert Decimal(str(aid["requested"])) == asked, (owner["code"], aid["funder"])
            amount = min(asked, max(Decimal(0), cap - granted))
            assert Decimal(str(aid["amount"])) == amount, (owner["code"], aid["funder"])
            granted += amount
        assert granted <= cap
        assert Decimal(str(owner["own_share_ht"])) == total - granted
        # the law's floor: at least 20 % of the project paid by its owner
        assert Decimal(str(owner["own_share_ht"])) >= total * (100 - cap_percent) / 100 - Decimal(
            "0.01"
        )


def test_no_ineligible_line_is_counted_in_a_funders_base(estimate) -> None:
    """Studies, AMO, running costs and licences never feed the FIPD; the others do."""
    financing = estimate.financing
    fipd = financing.call.funder("fipd")
    state_only = {"cameras.lpr_2mp"}  # the sample's plate readers all stand on the State's masts
    for line in financing.lines:
        eligible = line.eligible_for("fipd")
        expected = line.category in fipd.eligible and line.key not in state_only
        assert eligible == expected, line.key
        rule = next(r.rule for r in line.rules if r.funder == "fipd")
        if line.key in state_only:
            assert rule.startswith("hors de l'appel : mâts de l'État"), rule
        elif eligible:
            assert rule.startswith("éligible"), rule
        else:
            assert rule.startswith("exclu" if line.category in fipd.excluded else "non prévu")
    licence = next(
        line for line in financing.lines if line.key == "installation.supervision_licence"
    )
    assert not licence.eligible_for("fipd") and "licences" in licence.rules[0].rule
    amo = next(r for r in financing.amo_rules if r.funder == "fipd")
    assert not amo.eligible and "assistance à maîtrise d'ouvrage" in amo.rule
    eligible = sum(line.amount for line in financing.lines if line.eligible_for("fipd"))
    assert financing.eligible_totals["fipd"] == pytest.approx(eligible, abs=0.01)
    assert financing.eligible_totals["fipd"] < estimate.works_ht


def test_csv_rows_are_the_same_lines_and_totals(estimate) -> None:
    rows = [r for r in estimate_rows([estimate]) if r["lot"] != "exploitation"]
    lines = [r for r in rows if r["numero"]]
    assert [r["numero"] for r in lines] == [line.number for line in estimate.lines]
    assert [r["montant_ht"] for r in lines] == [line.amount for line in estimate.lines]
    by_key = {r["cle"]: r["montant_ht"] for r in rows if not r["numero"]}
    assert by_key["total_ht"] == estimate.total_ht
    assert by_key["total_ttc"] == estimate.total_ttc
    assert by_key["lot_2_ht"] == estimate.lots[1].subtotal


def test_lots_hold_what_the_issue_lists(estimate) -> None:
    keys = {lot.number: {line.key.split(".")[0] for line in lot.lines} for lot in estimate.lots}
    assert keys["1"] == {"trench", "laying", "cable", "splicing", "transport"}
    assert keys["2"] == {"masts", "cameras", "installation", "electricity"}
    assert keys["3"] == {"network", "transport", "installation"}
    lines = {line.key: line for line in estimate.lines}
    assert lines["cameras.ptz_2mp_30x"].quantity == 36
    assert sum(line.quantity for k, line in lines.items() if k.startswith("masts.")) == 110
    # PoE: the 16 PTZ masts (35 W a camera) need 802.3bt; the other 94 stay on PoE+
    assert lines["network.switch_poe_bt"].quantity == 16
    assert lines["network.switch_poe_plus"].quantity == 94
    assert "network.separate_supply" not in lines
    assert lines["network.media_converter"].quantity == lines["network.cabinet"].quantity == 110
    assert "802.3af/at/bt" in lines["network.switch_poe_bt"].basis
    assert lines["installation.camera"].quantity == 253
    numbers = [line.number for line in estimate.lines]
    assert len(numbers) == len(set(numbers))


def test_owner_split_covers_the_whole_estimate(estimate) -> None:
    owners = estimate.financing.owners
    assert sum(o.works_key for o in owners) == pytest.approx(1.0, abs=1e-9)
    for funder in estimate.financing.call.funders:
        keys = sum(a.key for o in owners for a in o.aids if a.funder == funder.key)
        assert keys == pytest.approx(1.0, abs=1e-9), funder.key
    # each owner rounds to the cent on its own: the sums differ from the totals by cents only
    assert sum(o.total_ht for o in owners) == pytest.approx(estimate.total_ht, abs=0.01 * 60)
    assert sum(len(o.masts) for o in owners) == 110
    assert sum(o.cameras for o in owners) == 253
    communes = [o for o in owners if o.kind == "commune"]
    assert communes and all(o.nom and o.epci == "200071454" for o in communes)
    codes = {c for o in owners for c in o.communes}
    for line in estimate.lines:
        assert sum(line.by_commune.values()) == pytest.approx(line.quantity, rel=1e-6, abs=0.1)
        assert sum(line.by_mast.values()) == pytest.approx(line.quantity, rel=1e-6, abs=0.1)
        assert set(line.by_commune) <= codes | {""}, line.key


def test_ineligible_lines_leave_every_base(folder, estimate) -> None:
    data = merge_prices(
        default_catalogue_data(), {"cameras": {"dome_4mp": {"fipd_eligible": False}}}
    )
    changed = build_estimate(folder, load_prices(), load_catalogue(data))
    dome = next(line for line in changed.financing.lines if line.key == "cameras.dome_4mp")
    assert changed.total_ht == estimate.total_ht
    assert not any(r.eligible for r in dome.rules)
    assert "bordereau" in dome.rules[0].rule
    before, after = estimate.financing.eligible_totals, changed.financing.eligible_totals
    assert after["fipd"] == pytest.approx(before["fipd"] - dome.amount, abs=0.01)
    assert changed.fipd < estimate.fipd


def test_overridden_prices_change_exactly_their_lines(folder, estimate) -> None:
    prices = merge_prices(
        default_price_data(),
        {"trench": {"local": {"price": 80, "year": 2025, "source": "marché test"}}},
    )
    changed = build_estimate(folder, load_prices(prices), load_catalogue())
    before = {line.key: line.amount for line in estimate.lines}
    after = {line.key: line.amount for line in changed.lines}
    metres = next(line.quantity for line in estimate.lines if line.key == "trench.local")
    assert after["trench.local"] == pytest.approx(metres * 80, abs=0.01)
    differing = {k for k in before if before[k] != after[k]}
    assert differing == {"trench.local"}
    assert changed.amo.amount > estimate.amo.amount  # the AMO follows the works


def test_a_camera_model_missing_from_the_catalogue_is_named_with_its_masts(folder) -> None:
    data = default_catalogue_data()
    del data["cameras"]["ptz_2mp_30x"]
    with pytest.raises(CatalogueError, match=r"'ptz_2mp_30x' of mast\(s\) M-27073-002"):
        build_estimate(folder, load_prices(), load_catalogue(data))


def test_labels_and_bases_write_numbers_the_french_way(folder) -> None:
    estimate = dataclasses.replace(
        build_estimate(folder, load_prices(), load_catalogue()), vat_rate=5.5
    )
    labels = {r["cle"]: r["designation"] for r in estimate_rows([estimate]) if not r["numero"]}
    assert labels["vat"] == "TVA 5,5\u00a0%"
    assert re.fullmatch(r"Aide sollicitée FIPD \(.+\) \(\d+(,\d+)?\u00a0%\)", labels["aid_fipd"])
    bases = [line.basis for line in estimate.lines if line.basis]
    assert any("de lovage" in basis for basis in bases)
    for basis in bases:  # no English decimal point before a unit
        assert not re.search(r"\d\.\d+ ?(m|%|€)", basis), basis


def test_the_new_poe_entries_take_a_prices_override(folder) -> None:
    override = {"network": {"switch_poe_bt": {"price": 1500, "year": 2026, "source": "devis"}}}
    catalogue = load_catalogue(merge_prices(default_catalogue_data(), override))
    changed = {line.key: line for line in build_estimate(folder, load_prices(), catalogue).lines}
    assert changed["network.switch_poe_bt"].unit_price == 1500
    assert changed["network.switch_poe_bt"].amount == 16 * 1500


def test_the_inventory_carries_each_masts_owner(folder) -> None:
    rows = mast_inventory(folder)
    assert Counter(r.owner for r in rows) == {"commune": 83, "etat": 18, "epci": 9}
    assert all(r.owner == "etat" for r in rows if r.camera_model == "lpr_2mp")
    masts = folder.layers["masts"].drop(columns="owner")  # a plan from before the field
    older = dataclasses.replace(folder, layers={**folder.layers, "masts": masts})
    assert {r.owner for r in mast_inventory(older)} == {"commune"}
