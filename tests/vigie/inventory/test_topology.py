"""Masts' paths from a plan: the branch closures of each primary cable, then its FttH node."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import geopandas as gpd
from shapely.geometry import LineString, Point

from gis_data import data_path
from vigie.inventory.topology import node_label, plan_topology


def test_each_mast_gets_its_closures_from_the_mast_then_its_ftth_node(sample_plan: Path) -> None:
    gpkg = sample_plan / "plan.gpkg"
    masts = gpd.read_file(gpkg, layer="masts")
    connections = gpd.read_file(gpkg, layer="connections")
    primary = connections[connections["role"] == "primary"]
    joined = dict(zip(primary["mast_id"], primary["node_id"], strict=True))
    chains = dict(zip(primary["mast_id"], primary["chain"], strict=True))
    found = plan_topology(gpkg, zip(masts["mast_id"], masts["commune"], strict=True))
    assert {m.id for m in found} == set(masts["mast_id"])
    for mast in found:
        if mast.id in joined:
            kinds = [e["kind"] for e in mast.path]
            node = next(i for i, e in enumerate(mast.path) if e["id"] == joined[mast.id])
            assert set(kinds[:node]) <= {"splice"}
            # then the operator's nodes up to the NRO, as the plan's chain names them
            upstream = [e["id"] for e in mast.path[node + 1 :]]
            named = [n for n in chains[mast.id].split(" > ") if n and n != joined[mast.id]]
            assert upstream == named
            assert kinds[-1] == "NRO", mast
        else:  # unreachable: no cable, no path
            assert mast.path == []
    # From the mast up, each element serves at least as many masts as the one before (a tree),
    # but where cables that shared a trench part for different nodes (a closure, two PMs).
    behind = Counter(e["id"] for m in found for e in m.path)
    after: dict[str, set[str]] = {}
    for mast in found:
        for here, up in zip(mast.path, mast.path[1:], strict=False):
            after.setdefault(here["id"], set()).add(up["id"])
    nested = [m for m in found if all(len(after.get(e["id"], ())) <= 1 for e in m.path)]
    assert len(nested) >= 0.9 * len(found)
    for mast in nested:
        counts = [behind[e["id"]] for e in mast.path]
        assert counts == sorted(counts), mast
    assert max(len(m.path) for m in found) >= 3


def test_each_element_and_cable_is_placed_in_wgs84_from_the_mast(sample_plan: Path) -> None:
    gpkg = sample_plan / "plan.gpkg"
    masts = gpd.read_file(gpkg, layer="masts").to_crs(4326)
    cables = gpd.read_file(gpkg, layer="cables")
    found = plan_topology(gpkg, zip(masts["mast_id"], masts["commune"], strict=True))
    where = dict(zip(masts["mast_id"], masts.geometry, strict=True))
    primary = cables[cables["role"] == "primary"].set_index("mast_id")
    placed = [m for m in found if m.path]
    assert placed
    for mast in placed:
        assert mast.cable is not None and len(mast.cable) >= 2
        for lon, lat in mast.cable:
            assert 0.0 < lon < 2.0 and 48.5 < lat < 49.6  # the Eure, longitude first
            assert round(lon, 6) == lon and round(lat, 6) == lat
        # Mast end first: the cable starts where the mast stands.
        start = Point(mast.cable[0])
        assert start.distance(where[mast.id]) < start.distance(Point(mast.cable[-1])) or (
            len(mast.path) == 1 and start.distance(where[mast.id]) < 1e-3
        )
        for element in (e for e in mast.path if e["kind"] != "NRO"):  # the NRO: not placed
            assert set(element) >= {"kind", "id", "label", "lon", "lat"}
            # Each element lies on (near) the cable it serves.
            assert LineString(mast.cable).distance(Point(element["lon"], element["lat"])) < 1e-4
        # Simplified to about 2 m: never more points than the plan's line.
        assert len(mast.cable) <= len(primary.loc[mast.id].geometry.coords)
    assert all(m.cable is None for m in found if not m.path)


def test_the_planning_input_gives_masts_without_paths() -> None:
    gpkg = data_path("eure", "eure.gpkg")
    found = plan_topology(gpkg, [("M-27056-001", "27056")])
    assert [(m.id, m.path, m.cable) for m in found] == [("M-27056-001", [], None)]


def test_node_labels_read_as_operators_say_them() -> None:
    assert node_label("PM", "PM-27056-03") == "PM 27056-03"
    assert node_label("NRO", "27306-01") == "NRO 27306-01"
