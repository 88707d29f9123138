"""Price catalogue: the shipped defaults, the merge rule of --prices, and the checks."""

from __future__ import annotations

import copy

import pytest

from planning.parameters import CostParameters
from planning.prices import PriceError, default_price_data, load_prices, merge_prices


def test_defaults_load_with_unit_year_and_source_everywhere() -> None:
    prices = load_prices()
    for item in [*prices.items.values(), *prices.rules.values()]:
        assert item.unit and item.source and 2000 <= item.year <= 2030, item.key
    # where no public figure exists, the catalogue says so
    for key in ("splicing.closure", "splicing.chamber", "splicing.fibre_splice"):
        assert prices[key].estimate, key
    assert "2010" in prices["trench.local"].note or prices["trench.local"].year == 2010


def test_defaults_match_the_prices_the_planner_routes_with() -> None:
    prices, costs = load_prices(), CostParameters()
    for kind in ("motorway", "primary", "secondary", "tertiary", "local", "track"):
        assert prices[f"trench.{kind}"].price == getattr(costs.trench, kind)
    assert prices["laying.duct"].price == costs.duct_eur_per_m
    assert prices["laying.aerial"].price == costs.aerial_eur_per_m
    assert prices["cable.fo12"].price == costs.cable_eur_per_m
    assert prices["splicing.closure"].price == costs.splice_closure_eur
    assert prices["splicing.ftth_connection"].price == costs.ftth_connection_eur
    # the power point a mast is joined to is chosen at the estimate's low-voltage prices
    assert prices["electricity.link_cable"].price == costs.lv_cable_eur_per_m
    assert prices["electricity.trench_shared"].price == costs.lv_shared_duct_eur_per_m
    assert prices["electricity.trench"].price == costs.lv_trench_eur_per_m


def test_enedis_figures_are_the_public_ttc_ones_brought_to_ht() -> None:
    prices = load_prices()
    assert prices["electricity.enedis_branch"].price == pytest.approx(1658.88 / 1.2, abs=0.01)
    assert prices["electricity.enedis_at_hand"].price == pytest.approx(410 / 1.2, abs=0.01)
    # the seed's AMO: 1.7 M€ for 11.5 M€ of works (9 M€ equipment, 2.5 M€ fibre)
    assert prices.rules["amo_rate"].value == pytest.approx(100 * 1.7 / (9 + 2.5), abs=0.05)


def test_merge_replaces_given_fields_and_keeps_the_others() -> None:
    merged = merge_prices(
        default_price_data(),
        {"trench": {"local": {"price": 65, "year": 2025, "source": "marché 2025-14"}}},
    )
    local = load_prices(merged)["trench.local"]
    assert (local.price, local.year, local.source) == (65.0, 2025, "marché 2025-14")
    assert local.label == load_prices()["trench.local"].label  # kept from the defaults
    assert load_prices(merged)["trench.primary"].price == 90.0  # untouched entries stay


def test_merge_adds_new_entries_and_leaves_the_defaults_unchanged() -> None:
    defaults = default_price_data()
    pristine = copy.deepcopy(defaults)
    merged = merge_prices(
        defaults,
        {
            "cable": {
                "fo6": {
                    "label": "Câble 6 fibres",
                    "unit": "m",
                    "price": 0.7,
                    "year": 2025,
                    "source": "devis",
                    "fibres": 6,
                }
            }
        },
    )
    prices = load_prices(merged)
    assert prices.cable_for(2).key == "cable.fo6"
    assert prices.cable_for(13).key == "cable.fo24"
    assert defaults == pristine


def test_a_new_price_without_its_source_is_refused() -> None:
    with pytest.raises(PriceError, match=r"trench\.local: a new price needs its source and year"):
        merge_prices(default_price_data(), {"trench": {"local": {"price": 65}}})
    with pytest.raises(PriceError, match=r"rules\.amo_rate: a new price needs its source"):
        merge_prices(default_price_data(), {"rules": {"amo_rate": {"value": 12, "year": 2026}}})


def test_rules_that_moved_to_the_call_for_projects_say_where() -> None:
    data = merge_prices(
        default_price_data(),
        {"rules": {"fipd_rate": {"value": 40, "year": 2026, "source": "arrêté"}}},
    )
    with pytest.raises(PriceError, match=r"rules\.fipd_rate: .*--rate fipd=N"):
        load_prices(data)


def test_changing_only_a_label_or_eligibility_needs_no_source() -> None:
    merged = merge_prices(
        default_price_data(), {"electricity": {"link_cable": {"fipd_eligible": False}}}
    )
    assert load_prices(merged)["electricity.link_cable"].fipd_eligible is False


def test_missing_and_negative_prices_are_all_named() -> None:
    data = copy.deepcopy(default_price_data())
    del data["splicing"]["chamber"]["price"]
    data["laying"]["duct"]["price"] = -1
    data["trench"]["track"]["price"] = "cheap"
    del data["rules"]["vat_rate"]
    data["rules"]["amo_rate"]["value"] = 150
    with pytest.raises(PriceError) as raised:
        load_prices(data)
    message = str(raised.value)
    for expected in (
        "splicing.chamber.price: missing",
        "laying.duct.price: -1 is negative",
        "trench.track.price: 'cheap' is not a number",
        "rules.vat_rate: missing",
        "rules.amo_rate.value: 150.0 is over 100 %",
    ):
        assert expected in message


def test_a_cable_needs_its_fibre_count() -> None:
    data = copy.deepcopy(default_price_data())
    del data["cable"]["fo24"]["fibres"]
    with pytest.raises(PriceError, match=r"cable\.fo24\.fibres: a cable needs its fibre count"):
        load_prices(data)
    with pytest.raises(PriceError, match="no cable of 96 fibres"):
        load_prices().cable_for(96)
