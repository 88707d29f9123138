"""Powering a mast's cameras: the cheapest switch that holds them, separate supplies else."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from cameras.catalogue import (
    POE_CLASSES,
    CatalogueError,
    default_catalogue_data,
    load_catalogue,
    poe_class_for,
)
from cameras.poe import choose_poe

CATALOGUE = load_catalogue()
SWITCHES = list(CATALOGUE.switches.values())
SUPPLY = CATALOGUE.separate_supply.price


def choose(model: str, count: int):
    return choose_poe([CATALOGUE.camera(model)] * count, SWITCHES, SUPPLY)


def test_classes_follow_the_802_3_limits_at_the_device() -> None:
    assert poe_class_for(12.95) == "af" and poe_class_for(13) == "at"
    assert poe_class_for(25.5) == "at" and poe_class_for(35) == "bt3"
    assert poe_class_for(71.3) == "bt4" and poe_class_for(72) is None
    assert [POE_CLASSES[c][0] for c in ("af", "at", "bt3", "bt4")] == [12.95, 25.5, 51.0, 71.3]
    assert CATALOGUE.camera("ptz_2mp_30x").poe == "bt3"
    assert CATALOGUE.camera("fixed_4mp").poe == "af"


def test_a_35_w_ptz_mast_gets_an_802_3bt_switch() -> None:
    choice = choose("ptz_2mp_30x", 1)
    assert (choice.switch, choice.switches, choice.separate) == ("switch_poe_bt", 1, 0)
    four = choose("ptz_2mp_30x", 4)  # 4 x (35 + 9 W of cable loss) = 176 W <= 240 W
    assert (four.switch, four.switches, four.separate) == ("switch_poe_bt", 1, 0)


def test_four_fixed_cameras_stay_on_one_poe_plus_switch() -> None:
    choice = choose("fixed_4mp", 4)
    assert (choice.switch, choice.switches, choice.separate) == ("switch_poe_plus", 1, 0)
    assert choice.price == CATALOGUE.switches["switch_poe_plus"].price


def test_five_cameras_on_four_port_switches_take_two() -> None:
    choice = choose("fixed_4mp", 5)
    assert (choice.switch, choice.switches, choice.separate) == ("switch_poe_plus", 2, 0)


def test_the_budget_adds_a_switch_when_the_ports_would_do() -> None:
    multi = CATALOGUE.camera("multi_4x5mp")  # 25 W + 4.5 W: 4 x 29.5 = 118 W <= 120 W
    assert choose("multi_4x5mp", 4).switches == 1
    hungrier = dataclasses.replace(multi, power_w=25.5)  # 4 x 30 = 120 W: still fits
    assert choose_poe([hungrier] * 4, SWITCHES, SUPPLY).switch == "switch_poe_plus"
    small = dataclasses.replace(SWITCHES[0], budget_w=60.0)
    choice = choose_poe([multi] * 4, [small], SUPPLY)
    assert (choice.switches, choice.separate) == (2, 0)


def test_a_90_w_camera_gets_a_separate_supply_and_a_port() -> None:
    data = copy.deepcopy(default_catalogue_data())
    data["cameras"]["ptz_heater"] = {
        **data["cameras"]["ptz_2mp_30x"],
        "power_w": 90,
        "year": 2026,
        "source": "devis",
    }
    catalogue = load_catalogue(data)
    model = catalogue.camera("ptz_heater")
    assert model.poe is None and model.poe_draw_w == 0
    choice = choose_poe([model], catalogue.switches.values(), SUPPLY)
    assert (choice.switch, choice.switches, choice.separate) == ("switch_poe_plus", 1, 1)
    assert choice.price == catalogue.switches["switch_poe_plus"].price + SUPPLY
    choice = choose_poe([model] * 4 + [catalogue.camera("fixed_4mp")], SWITCHES, SUPPLY)
    assert (choice.switches, choice.separate) == (2, 4)  # five cameras, five ports


def test_poe_none_forces_a_separate_supply() -> None:
    data = copy.deepcopy(default_catalogue_data())
    data["cameras"]["fixed_4mp"]["poe"] = "none"
    catalogue = load_catalogue(data)
    choice = choose_poe([catalogue.camera("fixed_4mp")] * 2, SWITCHES, SUPPLY)
    assert (choice.switch, choice.separate) == ("switch_poe_plus", 2)


def test_a_mast_without_camera_needs_nothing() -> None:
    assert choose_poe([], SWITCHES, SUPPLY).switches == 0
    with pytest.raises(ValueError, match="no PoE switch"):
        choose_poe([CATALOGUE.camera("fixed_4mp")], [], SUPPLY)


def test_switch_and_poe_entries_are_checked() -> None:
    data = copy.deepcopy(default_catalogue_data())
    data["network"]["switch_poe_bt"]["poe"] = "bt5"
    data["network"]["switch_poe_plus"]["ports"] = 0
    data["cameras"]["dome_4mp"]["poe"] = "af"
    data["cameras"]["dome_4mp"]["power_w"] = 14
    data["network"]["switch"] = {"price": 700, "year": 2026, "source": "devis"}
    with pytest.raises(CatalogueError) as raised:
        load_catalogue(data)
    message = str(raised.value)
    assert "network.switch_poe_bt.poe: 'bt5'" in message
    assert "network.switch_poe_plus.ports: must be more than 0" in message
    assert "cameras.dome_4mp.poe: af gives 12.95 W at the device, less than its power_w" in message
    assert "network.switch: no longer an entry" in message


def test_a_new_switch_in_an_override_is_chosen_when_cheaper() -> None:
    data = copy.deepcopy(default_catalogue_data())
    data["network"]["switch_poe_bt_8"] = {
        "label": "Commutateur 802.3bt 8 ports",
        "unit": "u",
        "ports": 8,
        "poe": "bt3",
        "budget_w": 400,
        "price": 1500,
        "year": 2026,
        "source": "devis",
    }
    catalogue = load_catalogue(data)
    ptz = catalogue.camera("ptz_2mp_30x")
    choice = choose_poe([ptz] * 8, catalogue.switches.values(), SUPPLY)
    assert (choice.switch, choice.switches) == ("switch_poe_bt_8", 1)  # 1,500 < 2 x 1,100
