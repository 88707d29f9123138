"""The nearest power point of each mast, and its camera model, as the plan folder carries them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

from planning.supply import mast_supply
from tests.helpers.paths import SAMPLE

CRS = "EPSG:2154"


def _masts() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["M1", "M2"], "camera_model": ["dome_4mp", None]},
        geometry=[Point(0, 0), Point(1000, 0)],
        crs=CRS,
    )


def test_nearest_point_of_any_kind_with_its_distance() -> None:
    points = gpd.GeoDataFrame(
        {"id": ["E1", "L1", "E2"], "kind": ["enedis", "public_lighting", "enedis"]},
        geometry=[Point(0, 40), Point(990, 0), Point(0, 300)],
        crs=CRS,
    )
    supply = mast_supply(_masts(), points)
    assert supply.loc["M1", "power_point_id"] == "E1"
    assert supply.loc["M1", "power_kind"] == "enedis"
    assert supply.loc["M1", "power_distance_m"] == pytest.approx(40.0)
    assert supply.loc["M2", "power_point_id"] == "L1"
    assert supply.loc["M2", "power_kind"] == "public_lighting"
    assert supply.loc["M2", "power_distance_m"] == pytest.approx(10.0)
    assert supply.loc["M1", "camera_model"] == "dome_4mp"
    assert supply.loc["M2", "camera_model"] == ""


def test_without_power_points_the_distance_is_unknown() -> None:
    supply = mast_supply(_masts(), None)
    assert list(supply["power_point_id"]) == ["", ""]
    assert all(math.isnan(d) for d in supply["power_distance_m"])


def test_the_plan_folder_carries_supply_and_commune_names(sample_plan: Path) -> None:
    masts = gpd.read_file(sample_plan / "plan.gpkg", layer="masts")
    summary = json.loads((sample_plan / "summary.json").read_text(encoding="utf-8"))
    assert summary["format"] == {"name": "vigie-plan", "version": 2}
    assert set(masts["power_kind"]) == {"enedis", "public_lighting"}
    assert (masts["power_distance_m"] > 0).all()
    layer = gpd.read_file(SAMPLE, layer="masts")
    expected = dict(zip(layer["id"], layer["camera_model"], strict=True))
    assert dict(zip(masts["mast_id"], masts["camera_model"], strict=True)) == expected
    assert summary["communes"]["27017"]["nom"] == "Angerville-la-Campagne"
    assert summary["communes"]["27017"]["epci"] == "200071454"
