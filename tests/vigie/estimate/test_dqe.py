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
    eligible = Decimal(0)
    for line in document["lines"]:
        lot = line["number"].split(".")[0]
        if lot == "4":
            continue
        amount = cents(Decimal(str(line["quantity"])) * Decimal(str(line["unit_price_ht"])))
        assert Decimal(str(line["amount_ht"])) == amount, line["number"]
        lots[lot] = lots.get(lot, Decimal(0)) + amount
        eligible += amount if line["fipd_eligible"] else 0
    works = sum(lots.values())
    amo = cents(works * Decimal("13") / 100)
    total = works + amo
    vat = cents(total * Decimal("0.20"))
    fipd = cents((eligible + amo) * Decimal("0.5"))
    totals = {k: Decimal(str(v)) for k, v in document["totals"].items()}
    assert {f"lot_{n}_ht": v for n, v in lots.items()} == {
        k: v for k, v in totals.items() if k.startswith("lot_")
    }
    assert totals["works_ht"] == works
    assert totals["amo_ht"] == amo
    assert totals["total_ht"] == total
    assert totals["vat"] == vat
    assert totals["total_ttc"] == total + vat
    assert totals["fipd"] == fipd
    assert totals["rest_ht"] == total - fipd
    assert totals["epci_part"] + totals["commune_part"] == totals["rest_ht"]


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


def test_commune_split_covers_the_whole_estimate(estimate) -> None:
    communes = estimate.communes
    assert sum(c.works_key for c in communes) == pytest.approx(1.0, abs=1e-9)
    assert sum(c.eligible_key for c in communes) == pytest.approx(1.0, abs=1e-9)
    # each commune rounds to the cent on its own: the sums differ from the totals by cents only
    assert sum(c.amount_ht for c in communes) == pytest.approx(estimate.total_ht, abs=0.01 * 60)
    assert sum(c.fipd for c in communes) == pytest.approx(estimate.fipd, abs=0.01 * 60)
    assert sum(c.masts for c in communes) == 110
    assert all(c.nom and c.epci == "200071454" for c in communes)
    for c in communes:
        assert c.epci_part + c.commune_part == pytest.approx(c.rest_ht, abs=1e-6)


def test_ineligible_lines_leave_the_fipd_base(folder, estimate) -> None:
    data = merge_prices(
        default_catalogue_data(), {"cameras": {"lpr_2mp": {"fipd_eligible": False}}}
    )
    changed = build_estimate(folder, load_prices(), load_catalogue(data))
    lpr = next(line for line in changed.lines if line.key == "cameras.lpr_2mp")
    assert changed.total_ht == estimate.total_ht
    assert changed.eligible_ht == pytest.approx(estimate.eligible_ht - lpr.amount, abs=0.01)
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
    assert differing == {"trench.local", "rules.amo_rate"}


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
    assert re.fullmatch(
        r"Subvention FIPD \(\d+(,\d+)?\u00a0% des dépenses éligibles\)", labels["fipd"]
    )
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
