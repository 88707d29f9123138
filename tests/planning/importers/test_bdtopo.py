"""The BD TOPO importer on troncon_de_route files written to IGN's schema (tests/helpers)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest

from planning._checks_fields import check_layer
from planning.errors import LayerError
from planning.importers.area import parse_area
from planning.importers.bdtopo import import_bdtopo
from tests.helpers.bdtopo_sample import MAPPED, SEGMENTS, cleabs, write_geopackage, write_shapefile


@pytest.fixture(params=["gpkg", "shp", "folder"])
def delivery(request, tmp_path: Path) -> Path:
    if request.param == "gpkg":
        return write_geopackage(tmp_path / "BDTOPO_TRANSPORT.gpkg")
    shp = write_shapefile(tmp_path / "BDT_3-3_SHP_LAMB93_D027" / "TRANSPORT")
    return shp if request.param == "shp" else tmp_path


def test_natures_map_to_kinds_and_the_rest_is_reported(delivery: Path) -> None:
    result = import_bdtopo(delivery)
    roads = result.layers["roads"].set_index("id")
    assert dict(roads["kind"]) == {cleabs(k): v for k, v in MAPPED.items()}
    skipped = {u.source_id: u.reason for u in result.report.unmapped}
    assert set(skipped) == {cleabs(s[0]) for s in SEGMENTS} - set(roads.index)
    assert "Sentier" in skipped[cleabs("11")]
    assert "Escalier" in skipped[cleabs("12")]
    assert "Bac" in skipped[cleabs("16")]
    assert "En projet" in skipped[cleabs("14")] and "En construction" in skipped[cleabs("17")]
    codes = {u.source_id: u.code for u in result.report.unmapped}
    assert codes == {
        cleabs("11"): "bdtopo.footpath",
        cleabs("12"): "bdtopo.steps",
        cleabs("13"): "bdtopo.cycleway",
        cleabs("14"): "bdtopo.not_in_service",  # two reasons (En projet, En construction)...
        cleabs("16"): "bdtopo.ferry",
        cleabs("17"): "bdtopo.not_in_service",  # ...one code
    }


def test_attributes(delivery: Path) -> None:
    roads = import_bdtopo(delivery).layers["roads"].set_index("id")
    assert roads.loc[cleabs("03"), "bridge"] and not roads.loc[cleabs("03"), "tunnel"]
    assert roads.loc[cleabs("15"), "tunnel"]
    assert roads.loc[cleabs("08"), "private"] and not roads.loc[cleabs("07"), "private"]
    assert roads.loc[cleabs("01"), "oneway"] and not roads.loc[cleabs("04"), "oneway"]
    assert pd_isna(roads.loc[cleabs("10"), "oneway"])  # Sans objet: unknown, left blank
    assert not roads.loc[cleabs("09"), "paved"] and roads.loc[cleabs("06"), "paved"]
    assert roads.loc[cleabs("07"), "name"] == "Rue de la Harpe"
    assert set(roads["source"]) == {"bdtopo"}


def pd_isna(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def test_lines_are_2d_lambert93_and_sens_inverse_is_turned(delivery: Path) -> None:
    roads = import_bdtopo(delivery).layers["roads"].set_index("id")
    assert roads.crs.to_epsg() == 2154
    assert not roads.geometry.has_z.any()
    harpe = roads.loc[cleabs("07"), "geometry"]  # drawn east to west, traffic runs west to east
    assert harpe.coords[0][0] < harpe.coords[-1][0]
    assert not [
        p for p in check_layer("roads", roads.reset_index()).problems if p.severity == "error"
    ]


def test_another_crs_is_reprojected(tmp_path: Path) -> None:
    gpkg = write_geopackage(tmp_path / "a.gpkg")
    frame = gpd.read_file(gpkg, layer="troncon_de_route").to_crs("EPSG:4326")
    frame.to_file(tmp_path / "wgs84.gpkg", layer="troncon_de_route", engine="pyogrio")
    a = import_bdtopo(gpkg).layers["roads"]
    b = import_bdtopo(tmp_path / "wgs84.gpkg").layers["roads"]
    assert b.crs.to_epsg() == 2154
    assert a.geometry.iloc[0].distance(b.geometry.iloc[0]) < 0.01


def test_area(tmp_path: Path) -> None:
    gpkg = write_geopackage(tmp_path / "a.gpkg")
    box = tmp_path / "box.geojson"
    gpd.GeoDataFrame(
        geometry=[__import__("shapely").box(562_000, 6_883_600, 562_900, 6_884_400)], crs=2154
    ).to_file(box)
    result = import_bdtopo(gpkg, area=parse_area(str(box)))
    assert set(result.layers["roads"]["id"]) == {cleabs("01"), cleabs("03")}
    assert "outside the area" in result.report.reasons()
    assert set(result.report.codes()) >= {"bdtopo.outside", "bdtopo.not_in_service"}


def test_no_troncon_de_route_layer(tmp_path: Path) -> None:
    other = tmp_path / "other.gpkg"
    gpd.GeoDataFrame(
        {"a": [1]}, geometry=gpd.points_from_xy([562000], [6884000]), crs=2154
    ).to_file(other, layer="batiment")
    with pytest.raises(
        LayerError, match=r"other\.gpkg: no troncon_de_route layer \(it has: batiment\)"
    ):
        import_bdtopo(other)
    (tmp_path / "empty").mkdir()
    with pytest.raises(LayerError, match=r"no TRONCON_DE_ROUTE\.shp"):
        import_bdtopo(tmp_path / "empty")


def test_missing_nature_field(tmp_path: Path) -> None:
    gpkg = write_geopackage(tmp_path / "a.gpkg")
    frame = gpd.read_file(gpkg, layer="troncon_de_route").drop(columns="nature")
    frame.to_file(tmp_path / "b.gpkg", layer="troncon_de_route", engine="pyogrio")
    with pytest.raises(
        LayerError, match=r"b\.gpkg: troncon_de_route has no field 'nature' \(NATURE"
    ):
        import_bdtopo(tmp_path / "b.gpkg")
