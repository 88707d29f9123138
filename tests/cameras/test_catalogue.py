"""The camera and mast catalogue: the shipped YAML, lookups, and every check on bad entries."""

from __future__ import annotations

import copy

import pytest

from cameras.catalogue import (
    CAMERA_KINDS,
    OWNERS,
    CatalogueError,
    default_catalogue_data,
    load_catalogue,
)
from planning.sample.masts import CAMERA_MODELS
from planning.schema import MAST_OWNERS


def test_the_shipped_catalogue_covers_every_kind_and_every_sample_model() -> None:
    catalogue = load_catalogue()
    assert {m.kind for m in catalogue.cameras.values()} == set(CAMERA_KINDS)
    assert set(CAMERA_MODELS) <= set(catalogue.cameras)
    for model in catalogue.cameras.values():
        assert model.price > 0 and model.power_w > 0 and model.megapixels > 0
        assert model.source and model.year >= 2000 and model.unit == "u"
    assert sorted(catalogue.masts) == [4, 6, 8, 10, 12]
    assert {"switch_poe_plus", "switch_poe_bt", "separate_supply"} <= set(catalogue.network)
    assert set(catalogue.per_mast_network) == {"media_converter", "cabinet"}
    assert {s.poe for s in catalogue.switches.values()} == {"at", "bt4"}
    assert all(item.estimate for item in catalogue.network.values())


def test_estimates_are_flagged_and_the_sourced_ptz_price_is_not() -> None:
    catalogue = load_catalogue()
    assert catalogue.camera("ptz_2mp_30x").estimate is False
    assert "Weka" in catalogue.camera("ptz_2mp_30x").source
    assert all(m.estimate for m in catalogue.masts.values())  # no public figure for masts


def test_mast_for_picks_the_shortest_high_enough() -> None:
    catalogue = load_catalogue()
    assert catalogue.mast_for(6).height_m == 6
    assert catalogue.mast_for(7).height_m == 8
    with pytest.raises(CatalogueError, match="no mast of 13 m"):
        catalogue.mast_for(13)


def test_an_unknown_model_names_the_known_ones() -> None:
    with pytest.raises(CatalogueError, match=r"'thermal_1mp' is not in the catalogue.*dome_4mp"):
        load_catalogue().camera("thermal_1mp")


def test_every_problem_is_reported_at_once() -> None:
    data = copy.deepcopy(default_catalogue_data())
    data["cameras"]["dome_4mp"]["price"] = -5
    del data["masts"]["6"]["price"]
    data["cameras"]["fixed_4mp"]["kind"] = "bullet"
    data["network"]["cabinet"]["colour"] = "grey"
    data["cameras"]["lpr_2mp"]["mast_height_m"] = 20
    with pytest.raises(CatalogueError) as raised:
        load_catalogue(data)
    message = str(raised.value)
    assert "cameras.dome_4mp.price: -5 is negative" in message
    assert "masts.6.price: missing" in message
    assert "cameras.fixed_4mp.kind: 'bullet'" in message
    assert "network.cabinet.colour: unknown field" in message
    assert "cameras.lpr_2mp.mast_height_m: no mast of 20 m" in message


def test_a_new_model_needs_its_technical_fields() -> None:
    data = copy.deepcopy(default_catalogue_data())
    data["cameras"]["thermal"] = {
        "kind": "fixed",
        "label": "Caméra thermique",
        "unit": "u",
        "price": 4000,
        "year": 2026,
        "source": "devis",
    }
    with pytest.raises(CatalogueError, match=r"cameras\.thermal\.resolution: missing"):
        load_catalogue(data)


def test_frame_size_reads_the_resolution_of_one_sensor() -> None:
    catalogue = load_catalogue()
    assert catalogue.camera("fixed_4mp").frame_size == (2688, 1520)
    assert catalogue.camera("multi_4x5mp").frame_size == (2592, 1944)
    data = copy.deepcopy(default_catalogue_data())
    data["cameras"]["dome_4mp"]["resolution"] = "4MP"
    with pytest.raises(CatalogueError, match=r"cameras\.dome_4mp\.resolution: '4MP'"):
        load_catalogue(data)


def test_plate_reading_is_reserved_to_the_state_with_its_legal_basis() -> None:
    catalogue = load_catalogue()
    assert OWNERS == MAST_OWNERS
    assert set(catalogue.reserved_models()) == {"lpr_2mp"}
    lpr = catalogue.camera("lpr_2mp")
    assert lpr.reserved_to == "etat"
    assert "L233-1" in lpr.legal_basis and "Gujan-Mestras" in lpr.legal_basis
    assert [o for o in OWNERS if not lpr.allowed_for(o)] == ["commune", "epci", "departement"]
    assert catalogue.refused("lpr_2mp", "commune") is lpr
    assert catalogue.refused("lpr_2mp", "etat") is None
    assert catalogue.refused("fixed_4mp", "commune") is None
    assert catalogue.refused("thermal_1mp", "commune") is None  # unknown: the estimate says so


def test_a_reserved_model_needs_a_known_owner_and_its_legal_basis() -> None:
    data = copy.deepcopy(default_catalogue_data())
    data["cameras"]["dome_4mp"]["reserved_to"] = "police"
    del data["cameras"]["lpr_2mp"]["legal_basis"]
    with pytest.raises(CatalogueError) as raised:
        load_catalogue(data)
    message = str(raised.value)
    assert "cameras.dome_4mp.reserved_to: 'police' is not one of" in message
    assert "cameras.lpr_2mp.legal_basis: missing" in message
