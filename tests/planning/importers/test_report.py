"""``write_layers``: the imported layers are added to (or replace theirs in) the GeoPackage, and
every other layer there is kept."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from planning.errors import LayerError
from planning.importers import ImportReport, Unmapped, write_layers


def _roads(n: int) -> gpd.GeoDataFrame:
    lines = [
        shapely.LineString([(562_000 + i, 6_884_000), (562_100 + i, 6_884_000)]) for i in range(n)
    ]
    return gpd.GeoDataFrame(
        {"id": [f"r{i}" for i in range(n)], "kind": ["local"] * n}, geometry=lines, crs=2154
    )


def test_other_layers_are_kept_and_the_imported_one_replaced(tmp_path: Path) -> None:
    out = tmp_path / "layers.gpkg"
    masts = gpd.GeoDataFrame({"id": ["M1"]}, geometry=[shapely.Point(1.15, 49.02)], crs=4326)
    masts.to_file(out, layer="masts", engine="pyogrio")
    write_layers({"roads": _roads(3)}, out)
    write_layers({"roads": _roads(2)}, out)
    assert sorted(name for name, _ in pyogrio.list_layers(out)) == ["masts", "roads"]
    assert len(gpd.read_file(out, layer="roads")) == 2
    kept = gpd.read_file(out, layer="masts")
    assert kept["id"].tolist() == ["M1"] and kept.crs.to_epsg() == 4326  # untouched
    assert [p.name for p in tmp_path.iterdir()] == ["layers.gpkg"]  # no temporary copy left


def test_a_new_file_is_created(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "new.gpkg"
    write_layers({"roads": _roads(1).to_crs(4326)}, out)
    assert gpd.read_file(out, layer="roads").crs.to_epsg() == 2154


def test_a_file_that_is_not_a_geopackage_is_left_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "notes.gpkg"
    out.write_text("not a geopackage")
    with pytest.raises(LayerError, match=r"notes\.gpkg: cannot add layers"):
        write_layers({"roads": _roads(1)}, out)
    assert out.read_text() == "not a geopackage"
    with pytest.raises(LayerError, match="must be a GeoPackage"):
        write_layers({"roads": _roads(1)}, tmp_path / "roads.geojson")


def test_report_json(tmp_path: Path) -> None:
    report = ImportReport(source="x.osm.pbf", format="osm")
    report.count("roads", {"local": 2})
    report.skip("way", "w1", "steps: no trench can be dug along steps", code="osm.steps")
    report.skip("way", "w2", "highway=pedestrian drawn as an area", code="osm.area")
    report.skip("way", "w3", "highway=service drawn as an area", code="osm.area")
    report.write_json(tmp_path / "r.json")
    text = (tmp_path / "r.json").read_text()
    assert '"unmapped_by_reason": {\n    "steps: no trench can be dug along steps": 1' in text
    data = json.loads(text)
    assert data["unmapped"][1] == {
        "table": "way",
        "source_id": "w2",
        "code": "osm.area",
        "reason": "highway=pedestrian drawn as an area",  # English, with the feature's values
    }
    assert data["unmapped_by_code"] == {"osm.steps": 1, "osm.area": 2}
    assert len(data["unmapped_by_reason"]) == 3


def test_a_skip_needs_its_code() -> None:
    report = ImportReport(source="x.osm.pbf", format="osm")
    with pytest.raises(TypeError):
        report.skip("way", "w1", "steps")  # no code: refused
    report.skip("way", 42, "steps", code="osm.steps")
    assert report.unmapped == [Unmapped("way", "42", "steps", "osm.steps")]
    assert report.codes() == {"osm.steps": 1}
