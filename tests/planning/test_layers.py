"""Reading layers from real files: formats, broken files, unsafe zips and links; reprojection."""

from __future__ import annotations

import io
import stat
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import shapely

from planning.errors import LayerError
from planning.layers import MAX_COMPRESSION_RATIO, read_layers
from planning.projection import ProjectionError, to_web_crs, to_work_crs
from planning.schema import LAYERS, REQUIRED_LAYERS
from planning.validate import validate, validate_path


def lines(layerset) -> list[str]:
    return [str(p) for p in layerset.problems]


def zip_folder(folder: Path, archive: Path, *, under: str = "") -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(folder.rglob("*")):
            zf.write(file, f"{under}{file.relative_to(folder).as_posix()}")
    return archive


@pytest.fixture
def geojson_folder(tmp_path: Path, layers, folder_writer) -> Path:
    return folder_writer(layers, tmp_path / "layers", ext=".geojson")


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the reader extracts zips, so a test can check that nothing is left behind."""
    where = tmp_path / "extract"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


# --- formats -------------------------------------------------------------------------------------


def test_geopackage_layers_are_read_untouched(clean_gpkg: Path, layers) -> None:
    layerset = read_layers(clean_gpkg)
    assert layerset.problems == []
    assert list(layerset.layers) == list(REQUIRED_LAYERS)  # sites is optional: no problem
    assert layerset.files["roads"] == "layers.gpkg (layer roads)"
    masts = layerset.layers["masts"]
    assert masts.crs.to_epsg() == 2154
    assert masts["id"].tolist() == ["M1", "M2"]
    assert masts.geom_equals(layers["masts"].geometry).all()


@pytest.mark.parametrize("ext", [".geojson", ".json", ".shp", ".gpkg"])
def test_folder_of_layer_files(tmp_path: Path, layers, folder_writer, ext: str) -> None:
    layerset = read_layers(folder_writer(layers, tmp_path / "layers", ext=ext))
    assert layerset.problems == []
    assert layerset.files["ftth_nodes"] == f"ftth_nodes{ext}"
    for name in REQUIRED_LAYERS:
        required = {f.name for f in LAYERS[name].fields if f.required}
        assert required <= set(layerset.layers[name].columns)


def test_shapefile_field_names_cut_by_dbf_are_restored(
    tmp_path: Path, layers, folder_writer
) -> None:
    folder = folder_writer(layers, tmp_path / "layers", ext=".shp")
    layerset = read_layers(folder)
    assert "free_fibres" in layerset.layers["ftth_nodes"].columns
    assert layerset.layers["masts"]["camera_model"].tolist() == ["dome-4mp", "bullet-8mp"]


def test_layers_keep_their_original_crs(tmp_path: Path, layers, gpkg_writer) -> None:
    layers["roads"] = layers["roads"].to_crs("EPSG:4326")
    layerset = read_layers(gpkg_writer(layers, tmp_path / "layers.gpkg"))
    assert layerset.layers["roads"].crs.to_epsg() == 4326
    assert layerset.layers["masts"].crs.to_epsg() == 2154


def test_only_the_named_layers_are_read(clean_gpkg: Path) -> None:
    layerset = read_layers(clean_gpkg, names=["roads", "masts"])
    assert list(layerset.layers) == ["roads", "masts"]


def test_layer_names_are_matched_without_case(tmp_path: Path, layers, folder_writer) -> None:
    folder = folder_writer(layers, tmp_path / "layers", ext=".geojson")
    (folder / "roads.geojson").rename(folder / "Roads.GeoJSON")
    layerset = read_layers(folder)
    assert layerset.problems == []
    assert layerset.files["roads"] == "Roads.GeoJSON"


def test_folder_holding_one_geopackage_reads_it(tmp_path: Path, layers, gpkg_writer) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    gpkg_writer(layers, folder / "eure.gpkg")
    layerset = read_layers(folder)
    assert layerset.problems == []
    assert layerset.files["masts"] == "eure.gpkg (layer masts)"


def test_two_files_for_one_layer_is_a_warning(geojson_folder: Path, layers, folder_writer) -> None:
    folder_writer({"roads": layers["roads"]}, geojson_folder, ext=".shp")
    assert lines(read_layers(geojson_folder)) == [
        "roads:-: warning: several files for the layer: using roads.geojson, ignoring roads.shp"
    ]


def test_missing_layer_in_a_folder(geojson_folder: Path) -> None:
    (geojson_folder / "communes.geojson").unlink()
    [line] = lines(read_layers(geojson_folder))
    assert line.startswith("communes:-: missing layer: no communes.gpkg, communes.geojson,")


def test_shapefile_without_its_dbf(tmp_path: Path, layers, folder_writer) -> None:
    folder = folder_writer(layers, tmp_path / "layers", ext=".shp")
    (folder / "roads.dbf").unlink()
    assert lines(read_layers(folder))[0].startswith("roads:-: roads.shp: no roads.dbf beside it")


# --- broken files --------------------------------------------------------------------------------


def test_geopackage_of_random_bytes(tmp_path: Path) -> None:
    gpkg = tmp_path / "eure.gpkg"
    gpkg.write_bytes(np.random.default_rng(7).bytes(50_000))
    layerset = read_layers(gpkg)
    assert lines(layerset) == [
        "eure.gpkg:-: cannot read it (not a readable GIS file): export the layer again"
    ]
    assert not validate(layerset).ok


def test_truncated_geopackage(tmp_path: Path, clean_gpkg: Path) -> None:
    truncated = tmp_path / "truncated.gpkg"
    truncated.write_bytes(clean_gpkg.read_bytes()[:40_000])
    report = validate_path(truncated)
    assert report.lines() == [
        "truncated.gpkg:-: cannot read it (corrupt or truncated GeoPackage): export the layer again"
    ]


def test_empty_geopackage_file(tmp_path: Path) -> None:
    (tmp_path / "empty.gpkg").touch()
    assert lines(read_layers(tmp_path / "empty.gpkg"))[0].startswith("empty.gpkg:-: cannot read it")


def test_truncated_geojson(geojson_folder: Path) -> None:
    roads = geojson_folder / "roads.geojson"
    roads.write_bytes(roads.read_bytes()[:300])
    layerset = read_layers(geojson_folder)
    assert lines(layerset) == [
        "roads:-: roads.geojson: cannot read it (invalid GeoJSON (truncated or not JSON)): "
        "export the layer again"
    ]
    assert "roads" not in layerset.layers and "masts" in layerset.layers


@pytest.mark.parametrize(
    ("content", "phrase"),
    [(b"", "roads.geojson: empty file"), (b"id;kind\nR1;local\n", "roads.geojson: cannot read it")],
)
def test_not_a_gis_file(geojson_folder: Path, content: bytes, phrase: str) -> None:
    (geojson_folder / "roads.geojson").write_bytes(content)
    [line] = lines(read_layers(geojson_folder))
    assert line.startswith(f"roads:-: {phrase}")


# --- unusable LAYERS arguments -------------------------------------------------------------------


def test_path_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match=r"no such file or folder: give a GeoPackage \(.gpkg\)"):
        read_layers(tmp_path / "nowhere.gpkg")


def test_single_layer_file_is_refused(geojson_folder: Path) -> None:
    with pytest.raises(LayerError, match="a single layer file: give the folder"):
        read_layers(geojson_folder / "roads.geojson")


def test_unsupported_file_type(tmp_path: Path) -> None:
    (tmp_path / "layers.csv").write_text("id\n")
    with pytest.raises(LayerError, match=r"unsupported file type '\.csv'"):
        read_layers(tmp_path / "layers.csv")


# --- zips ----------------------------------------------------------------------------------------


def test_zip_of_a_folder(tmp_path: Path, geojson_folder: Path, private_tmp: Path) -> None:
    archive = zip_folder(geojson_folder, tmp_path / "delivery.zip", under="eure/")
    layerset = read_layers(archive)
    assert layerset.problems == []
    assert layerset.source == archive
    assert layerset.files["roads"] == "delivery.zip/eure/roads.geojson"
    assert len(layerset.layers["roads"]) == 5
    assert list(private_tmp.iterdir()) == []


def test_zip_of_a_geopackage(tmp_path: Path, clean_gpkg: Path) -> None:
    archive = tmp_path / "eure.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(clean_gpkg, "eure.gpkg")
    report = validate_path(archive)
    assert report.problems == []
    assert report.crs["communes"] == "EPSG:2154"


def test_zip_problems_name_the_file_inside_not_the_temporary_one(
    tmp_path: Path, geojson_folder: Path
) -> None:
    (geojson_folder / "masts.geojson").write_text('{"type": "FeatureCollection", "features": [')
    [line] = lines(read_layers(zip_folder(geojson_folder, tmp_path / "delivery.zip")))
    assert line.startswith("masts:-: delivery.zip/masts.geojson: cannot read it")
    assert "vigie-layers" not in line


def _zeros_zip(archive: Path, geojson_folder: Path, megabytes: int) -> Path:
    zip_folder(geojson_folder, archive)
    with zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("padding.bin", bytes(megabytes * 1024**2))
    return archive


def test_zip_bomb_is_refused_by_the_size_cap(
    tmp_path: Path, geojson_folder: Path, private_tmp: Path
) -> None:
    archive = _zeros_zip(tmp_path / "bomb.zip", geojson_folder, megabytes=4)
    assert archive.stat().st_size < 100_000
    with pytest.raises(LayerError, match=r"expands to more than 1,000,000 bytes \(zip bomb\?\)"):
        read_layers(archive, max_bytes=1_000_000)
    assert list(private_tmp.iterdir()) == []  # nothing left on disk


def test_zip_bomb_is_refused_by_the_compression_ratio(tmp_path: Path, geojson_folder: Path) -> None:
    archive = _zeros_zip(tmp_path / "bomb.zip", geojson_folder, megabytes=8)
    with pytest.raises(
        LayerError, match=f"'padding.bin' expands more than {MAX_COMPRESSION_RATIO} times"
    ):
        read_layers(archive)


@pytest.mark.parametrize(
    ("member", "phrase"),
    [
        ("../evil.geojson", r"points outside the archive \('..'\)"),
        ("eure/../../evil.geojson", r"points outside the archive \('..'\)"),
        ("/etc/evil.geojson", "has an absolute path"),
        ("C:/evil.geojson", "has an absolute path"),
    ],
)
def test_zip_member_escaping_the_folder(tmp_path: Path, member: str, phrase: str) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(zipfile.ZipInfo(member), b"{}")
    with pytest.raises(LayerError, match=phrase):
        read_layers(archive)
    assert not (tmp_path / "evil.geojson").exists()


def test_zip_with_a_symlink_member(tmp_path: Path) -> None:
    archive = tmp_path / "link.zip"
    info = zipfile.ZipInfo("roads.geojson")
    info.create_system = 3  # unix
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(LayerError, match=r"'roads\.geojson' is a symbolic link: refused"):
        read_layers(archive)


def test_corrupt_zip(tmp_path: Path) -> None:
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(LayerError, match="not a readable zip file"):
        read_layers(tmp_path / "broken.zip")


def test_zip_with_a_corrupt_member(tmp_path: Path, geojson_folder: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("roads.geojson", (geojson_folder / "roads.geojson").read_bytes() * 20)
    data = bytearray(buffer.getvalue())
    data[200:260] = bytes(60)  # damage the compressed stream
    (tmp_path / "damaged.zip").write_bytes(bytes(data))
    with pytest.raises(LayerError, match=r"cannot extract 'roads\.geojson'"):
        read_layers(tmp_path / "damaged.zip")


# --- links out of the folder ---------------------------------------------------------------------


def test_symlink_pointing_outside_the_folder(tmp_path: Path, geojson_folder: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (geojson_folder / "roads.geojson").rename(outside / "roads.geojson")
    (geojson_folder / "roads.geojson").symlink_to(outside / "roads.geojson")
    layerset = read_layers(geojson_folder)
    [line] = lines(layerset)
    assert line.startswith("roads:-: roads.geojson: path outside the folder (a link to ")
    assert "roads" not in layerset.layers


def test_shapefile_sidecar_pointing_outside_the_folder(
    tmp_path: Path, layers, folder_writer
) -> None:
    folder = folder_writer(layers, tmp_path / "layers", ext=".shp")
    (folder / "masts.dbf").rename(tmp_path / "masts.dbf")
    (folder / "masts.dbf").symlink_to(tmp_path / "masts.dbf")
    [line] = lines(read_layers(folder))
    assert line.startswith("masts:-: masts.dbf: path outside the folder")


def test_symlink_inside_the_folder_is_fine(geojson_folder: Path) -> None:
    (geojson_folder / "data").mkdir()
    (geojson_folder / "roads.geojson").rename(geojson_folder / "data" / "roads.geojson")
    (geojson_folder / "roads.geojson").symlink_to(Path("data") / "roads.geojson")
    assert read_layers(geojson_folder).problems == []


# --- projection ----------------------------------------------------------------------------------


def test_to_work_crs_and_back(layers) -> None:
    masts = layers["masts"]
    web = to_web_crs(masts, layer="masts")
    assert web.crs.to_epsg() == 4326
    lon, lat = shapely.get_coordinates(web.geometry)[0]
    assert 1.0 < lon < 1.2 and 49.0 < lat < 49.1  # Évreux
    back = to_work_crs(web, layer="masts")
    assert back.crs.to_epsg() == 2154
    assert np.allclose(
        shapely.get_coordinates(back.geometry), shapely.get_coordinates(masts.geometry)
    )
    assert masts.crs.to_epsg() == 2154  # the input is left alone


def test_to_work_crs_without_crs(layers) -> None:
    with pytest.raises(ProjectionError, match="masts: no CRS") as caught:
        to_work_crs(layers["masts"].set_crs(None, allow_override=True), layer="masts")
    assert caught.value.code == "missing-crs"


def test_lambert93_claimed_over_longitudes(layers) -> None:
    web = layers["masts"].to_crs("EPSG:4326").set_crs("EPSG:2154", allow_override=True)
    with pytest.raises(ProjectionError, match="coordinates do not look like EPSG:2154") as caught:
        to_work_crs(web, layer="masts")
    assert "they look like longitudes/latitudes (EPSG:4326)" in caught.value.reason
