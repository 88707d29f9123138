"""The nearest power point of each mast, its low-voltage link along the roads, and its camera
model, as the plan folder carries them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

from planning.export import write_plan
from planning.plan_folder import read_plan_folder
from planning.prices import load_prices
from planning.quantities import plan_quantities
from planning.supply import mast_supply
from tests.helpers.paths import SAMPLE
from tests.helpers.plan_layers import at, frame, layers, plan

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


def _power(points: list[tuple[str, tuple[float, float]]]) -> gpd.GeoDataFrame:
    return frame(
        {"id": [p[0] for p in points], "kind": ["enedis"] * len(points)},
        [Point(at(*p[1])) for p in points],
    )


def test_the_nearest_point_by_road_beats_a_nearer_one_across_the_river() -> None:
    # The mast's road and the road across the river meet only by a bridge 3 km east.
    data = layers(
        roads=[
            ("R1", "local", [(0, 0), (1000, 0)]),
            ("R2", "local", [(-100, 160), (3000, 160), (3000, 0), (1000, 0)]),
        ],
        nodes=[("NRO1", "NRO", 10, (1000, 0))],
        masts=[("M1", (0, 10), False)],
    )
    data["power_points"] = _power([("ACROSS", (0, 150)), ("ROAD", (300, 5))])
    assert mast_supply(data["masts"], data["power_points"]).loc["M1", "power_point_id"] == "ACROSS"
    power = plan(data).power.masts["M1"]
    assert (power.point_id, power.path) == ("ROAD", "road")
    assert power.distance_m == pytest.approx(10 + 300 + 5, abs=0.2)


@pytest.mark.parametrize(("reuse", "shared_m"), [(False, 10 + 600), (True, 10)])
def test_the_link_shares_the_fibre_trench_where_both_go_the_same_way(
    reuse: bool, shared_m: float
) -> None:
    # The fibre runs east to the NRO, past the power point at 600 m: in a new trench, or in an
    # FttH duct (then only the mast's access is a new trench the link can share).
    data = layers(
        roads=[("R1", "local", [(0, 0), (1000, 0)])],
        nodes=[("NRO1", "NRO", 10, (1000, 0))],
        masts=[("M1", (0, 10), False)],
        routes=[("D1", "duct", 2, [(0, 0), (1000, 0)])] if reuse else [],
    )
    data["power_points"] = _power([("P1", (600, 5))])
    result = plan(data)
    assert {t.mode for t in result.trenches if t.length_m > 100} == {"duct" if reuse else "trench"}
    power = result.power.masts["M1"]
    assert power.distance_m == pytest.approx(615, abs=0.2)
    assert power.shared_m == pytest.approx(shared_m, abs=0.2)
    assert power.trench_m == pytest.approx(615 - shared_m, abs=0.2)
    pieces = [p for p in result.power.pieces if p.mast_id == "M1"]
    assert sum(p.length_m for p in pieces if p.laying == "shared") == pytest.approx(shared_m, 0.01)


def test_two_masts_on_one_road_pay_its_trench_once(tmp_path: Path) -> None:
    # The fibre goes west to the NRO, the power point is east: both links run along the same
    # 500 m of road with no fibre, in one trench of their own, with a cable each.
    data = layers(
        roads=[("R1", "local", [(-500, 0), (1000, 0)])],
        nodes=[("NRO1", "NRO", 10, (-500, 0))],
        masts=[("M1", (0, 10), False), ("M2", (100, 10), False)],
    )
    data["power_points"] = _power([("P1", (600, 5))])
    result = plan(data)
    m1, m2 = result.power.masts["M1"], result.power.masts["M2"]
    assert (m1.distance_m, m2.distance_m) == pytest.approx((615, 515), abs=0.2)
    assert m1.trench_m + m2.trench_m == pytest.approx(2 * 505, abs=0.2)
    write_plan(result, tmp_path, masts=data["masts"], power_points=data["power_points"])
    q = {x.key: x for x in plan_quantities(read_plan_folder(tmp_path), load_prices())}
    assert q["electricity.link_cable"].quantity == pytest.approx(615 + 515, abs=0.2)
    assert q["electricity.trench"].quantity == pytest.approx(505, abs=0.2)
    # the masts' access trenches, and M1's link along the fibre of M2
    assert q["electricity.trench_shared"].quantity == pytest.approx(10 + 10 + 100, abs=0.2)
    assert q["electricity.trench"].by_commune == {"27229": pytest.approx(505, abs=0.2)}
    lines = gpd.read_file(tmp_path / "plan.gpkg", layer="power_links")
    assert set(lines["mast_id"]) == {"M1", "M2"}
    assert set(lines["laying"]) == {"shared", "own"}


def test_a_mast_with_no_road_to_a_point_falls_back_to_the_crow_flies() -> None:
    data = layers(
        roads=[("R1", "local", [(0, 0), (1000, 0)])],
        nodes=[("NRO1", "NRO", 10, (1000, 0))],
        masts=[("M1", (0, 10), False), ("FAR", (0, 5000), False)],
    )
    data["power_points"] = _power([("P1", (600, 5)), ("P2", (0, 5400))])
    result = plan(data)
    far = result.power.masts["FAR"]
    assert (far.point_id, far.path) == ("P2", "crow_flies")
    assert far.distance_m == far.trench_m == pytest.approx(400, abs=0.1)
    assert result.power.masts["M1"].point_id == "P1"
    assert any("as the crow flies" in note for note in result.notes)
    assert any("1 power points lie more than 200 m" in note for note in result.notes)


def test_the_cheapest_link_wins_over_the_nearest_point() -> None:
    # West: a point 200 m away along a road with no fibre (cable and trench: 62 €/m). East: a
    # point 600 m away along the fibre's new trench to the NRO (cable and a second duct: 17 €/m).
    data = layers(
        roads=[("R1", "local", [(-300, 0), (1000, 0)])],
        nodes=[("NRO1", "NRO", 10, (1000, 0))],
        masts=[("M1", (0, 10), False)],
    )
    data["power_points"] = _power([("WEST", (-200, 5)), ("EAST", (600, 5))])
    result = plan(data)
    power = result.power.masts["M1"]
    assert power.point_id == "EAST"
    assert power.shared_m == pytest.approx(10 + 600, abs=0.2)  # 610 m x 17 € < 205 m x 62 €
    # the same mast with the fibre in an existing duct: no trench to share, the nearest wins
    data["ftth_routes"] = layers(
        roads=[("R1", "local", [(-300, 0), (1000, 0)])],
        nodes=[("NRO1", "NRO", 10, (1000, 0))],
        masts=[("M1", (0, 10), False)],
        routes=[("D1", "duct", 2, [(0, 0), (1000, 0)])],
    )["ftth_routes"]
    assert plan(data).power.masts["M1"].point_id == "WEST"
