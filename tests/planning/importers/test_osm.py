"""The OpenStreetMap importer on real extracts (Monaco as OSM XML, Andorra as PBF)."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import osmium
import pytest
import shapely

from planning._checks_fields import check_layer
from planning.errors import LayerError
from planning.importers.area import parse_area
from planning.importers.osm import HIGHWAY_KINDS, SKIPPED_HIGHWAYS, classify, import_osm
from tests.helpers.osm_extracts import ANDORRA, MONACO


def _osm_ways(path: Path) -> dict[int, dict[str, str]]:
    """Every highway way's tags, read independently of the importer."""
    ways = {}
    for way in osmium.FileProcessor(path, osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway")
    ):
        ways[way.id] = dict(way.tags)
    return ways


def test_every_highway_way_is_mapped_or_left_out_with_a_reason(monaco_roads) -> None:
    ways = _osm_ways(MONACO)
    roads = monaco_roads.layers["roads"]
    mapped = {i.split("-")[0] for i in roads["id"]}
    skipped = {u.source_id for u in monaco_roads.report.unmapped}
    assert mapped | skipped == {f"w{i}" for i in ways}
    assert not mapped & skipped
    assert all(u.reason for u in monaco_roads.report.unmapped)


def test_kinds_follow_the_table(monaco_roads) -> None:
    ways = _osm_ways(MONACO)
    roads = monaco_roads.layers["roads"]
    for piece_id, kind in zip(roads["id"], roads["kind"], strict=True):
        tags = ways[int(piece_id.split("-")[0][1:])]
        assert kind == classify(tags)[0]
        assert HIGHWAY_KINDS[tags["highway"]] in {kind, "local"}  # unpaved local -> track
    assert set(roads["kind"]) == {"primary", "secondary", "tertiary", "local"}
    assert monaco_roads.report.mapped["roads"] == len(roads)
    assert Counter(roads["kind"]) == monaco_roads.report.kinds["roads"]


def test_left_out_values_give_their_reason(monaco_roads) -> None:
    reasons = monaco_roads.report.reasons()
    assert reasons[SKIPPED_HIGHWAYS["footway"].text] == 230  # Monaco's sidewalks and footpaths
    assert reasons[SKIPPED_HIGHWAYS["steps"].text] == 82
    assert any("area=yes" in r for r in reasons)  # pedestrian squares drawn as areas
    assert any(r.startswith("driveway") for r in reasons)
    codes = monaco_roads.report.codes()
    assert codes["osm.footway"] == 230 and codes["osm.steps"] == 82
    assert codes["osm.area"] == 6 and codes["osm.driveway"] == 11
    area = [u for u in monaco_roads.report.unmapped if u.code == "osm.area"]
    assert {u.reason for u in area} == {
        "highway=pedestrian drawn as an area (area=yes), not a road line"
    }


def test_ways_are_split_at_junctions_and_the_layer_validates(monaco_roads) -> None:
    roads = monaco_roads.layers["roads"]
    assert roads["id"].is_unique
    assert roads.crs.to_epsg() == 2154
    assert roads.geometry.is_valid.all() and (roads.geometry.length > 0).all()
    assert (roads.geometry.geom_type == "LineString").all()
    assert any("-" in i for i in roads["id"])
    # noded: no segment touches another except at its ends
    ends = shapely.MultiPoint([p for g in roads.geometry for p in (g.coords[0], g.coords[-1])])
    inner = [shapely.LineString(g.coords[1:-1]) for g in roads.geometry if len(g.coords) > 3]
    assert not any(line.intersects(ends) for line in inner[:300])
    assert not [p for p in check_layer("roads", roads).problems if p.severity == "error"]


def test_pieces_of_a_way_keep_its_id_and_join_end_to_end(monaco_roads) -> None:
    roads = monaco_roads.layers["roads"]
    pieces = roads[roads["id"].str.startswith("w4097656-")].geometry.tolist()
    assert len(pieces) >= 2
    for a, b in itertools.pairwise(pieces):
        assert a.coords[-1] == b.coords[0]


def test_attributes_of_andorra() -> None:
    result = import_osm(ANDORRA)
    roads = result.layers["roads"]
    ways = _osm_ways(ANDORRA)
    by_way = {i: ways[int(i.split("-")[0][1:])] for i in roads["id"]}
    for row in roads.itertuples():
        tags = by_way[row.id]
        assert row.oneway == (
            tags.get("oneway") in {"yes", "-1", "1", "true"}
            or tags.get("junction") == "roundabout"
            or (tags.get("oneway") not in {"no"} and tags["highway"] == "motorway")
        )
        assert row.bridge == (tags.get("bridge", "no") != "no")
        assert row.tunnel == (tags.get("tunnel", "no") != "no")
        assert row.private == (tags.get("access") in {"private", "no"})
    assert roads["bridge"].sum() > 0 and roads["tunnel"].sum() > 0 and roads["oneway"].sum() > 0
    assert (roads["kind"] == "track").sum() > 0
    assert (roads["paved"] == False).sum() > 0  # noqa: E712 - nullable booleans
    assert set(roads["source"]) == {"osm"}
    assert "2013-05-28" in " ".join(result.report.notes)


def test_oneway_minus_one_is_turned_to_run_with_traffic(tmp_path: Path) -> None:
    """A real Andorra way, re-tagged oneway=-1 by us: the line comes out reversed."""
    original = import_osm(ANDORRA).layers["roads"].set_index("id")
    target = next(i for i in original.index if "-" not in i and not original.loc[i, "oneway"])
    way_id = int(target[1:])
    out = tmp_path / "reversed.osm.pbf"
    with osmium.SimpleWriter(str(out)) as writer:
        for obj in osmium.FileProcessor(ANDORRA):
            if obj.is_way() and obj.id == way_id:
                writer.add(obj.replace(tags={**dict(obj.tags), "oneway": "-1"}))
            else:
                writer.add(obj)
    turned = import_osm(out).layers["roads"].set_index("id")
    assert turned.loc[target, "oneway"]
    assert (
        list(turned.loc[target, "geometry"].coords)
        == list(original.loc[target, "geometry"].coords)[::-1]
    )


def test_ways_with_missing_nodes_are_reported(tmp_path: Path) -> None:
    """Monaco with some nodes removed (as an extract cut badly would be)."""
    cut = tmp_path / "cut.osm.pbf"
    with osmium.SimpleWriter(str(cut)) as writer:
        for obj in osmium.FileProcessor(MONACO):
            if not (obj.is_node() and obj.id % 7 == 0):
                writer.add(obj)
    result = import_osm(cut)
    missing = [u for u in result.report.unmapped if "have no location" in u.reason]
    assert missing and all(u.code == "osm.missing_nodes" for u in missing)
    kept = {i.split("-")[0] for i in result.layers["roads"]["id"]}
    assert not kept & {u.source_id for u in missing}


def test_area_keeps_what_touches_it(monaco_roads) -> None:
    area = parse_area("7.415,43.728,7.425,43.735")
    result = import_osm(MONACO, area=area)
    roads = result.layers["roads"]
    assert 0 < len(roads) < len(monaco_roads.layers["roads"])
    assert roads.geometry.intersects(area).all()
    assert "outside the area" in result.report.reasons()
    assert result.report.codes()["osm.outside"] == result.report.reasons()["outside the area"]


def test_progress_is_reported() -> None:
    calls = []
    import_osm(ANDORRA, progress=lambda *a: calls.append(a))
    steps = {c[0] for c in calls}
    assert steps == {"ways", "roads"}
    last = [c for c in calls if c[0] == "roads"][-1]
    assert last[1] == last[2] > 0


def test_a_truncated_pbf_is_an_error_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "andorra-cut.osm.pbf"
    bad.write_bytes(ANDORRA.read_bytes()[:200_000])
    with pytest.raises(LayerError, match=r"andorra-cut\.osm\.pbf: cannot read it as OpenStreetMap"):
        import_osm(bad)


def test_not_an_osm_file_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "roads.osm.pbf"
    bad.write_text("this is not a PBF file\n")
    with pytest.raises(LayerError, match=r"roads\.osm\.pbf"):
        import_osm(bad)
    with pytest.raises(LayerError, match="no such file"):
        import_osm(tmp_path / "missing.osm.pbf")
