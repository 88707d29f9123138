"""The validator on real files: a clean fixture, then one defect at a time, asserting the line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiLineString, Point, Polygon

from planning.layers import LayerSet, read_layers
from planning.schema import LAYERS, REQUIRED_LAYERS
from planning.validate import Problem, Report, Severity, validate, validate_path
from tests.helpers.paths import SAMPLE

X, Y = 560_000, 6_880_000  # as in conftest.py: Évreux, Lambert-93


@pytest.fixture
def check(tmp_path: Path, gpkg_writer):
    """Write the layers as a GeoPackage and validate the file."""

    def run(layers: dict[str, gpd.GeoDataFrame], **options: float) -> Report:
        return validate_path(gpkg_writer(layers, tmp_path / "layers.gpkg"), **options)

    return run


def only_line(report: Report) -> str:
    lines = report.lines()
    assert len(lines) == 1, lines
    return lines[0]


def has_line(report: Report, prefix: str, phrase: str) -> None:
    assert any(line.startswith(prefix) and phrase in line for line in report.lines()), (
        report.lines()
    )


def at(dx: float, dy: float) -> Point:
    return Point(X + dx, Y + dy)


# --- the clean fixture ---------------------------------------------------------------------------


@pytest.mark.parametrize("ext", [".geojson", ".json", ".shp", ".gpkg"])
def test_clean_folder_has_no_problem(tmp_path: Path, layers, folder_writer, ext: str) -> None:
    report = validate_path(folder_writer(layers, tmp_path / "layers", ext=ext))
    assert report.problems == []
    assert report.ok and report.ok_strict


def test_clean_geopackage_has_no_problem(clean_gpkg: Path) -> None:
    report = validate_path(clean_gpkg)
    assert report.problems == []
    assert set(report.layers) == set(REQUIRED_LAYERS)  # no sites layer: it is optional
    assert all(gdf.crs.to_epsg() == 2154 for gdf in report.layers.values())


def test_report_to_dict_is_json_ready(clean_gpkg: Path) -> None:
    data = json.loads(json.dumps(validate_path(clean_gpkg).to_dict()))
    assert data["valid"] is True
    assert data["errors"] == data["warnings"] == 0
    assert data["problems"] == []
    assert data["layers"]["roads"] == {"features": 5, "crs": "EPSG:2154"}
    assert data["source"].endswith("layers.gpkg")


# --- layer-level defects -------------------------------------------------------------------------


def test_missing_layer(check, layers) -> None:
    del layers["power_points"]
    line = only_line(check(layers))
    assert line.startswith("power_points:-: missing layer: ")
    assert "no layer 'power_points'" in line


def test_missing_field_is_reported_once_per_layer(check, layers) -> None:
    layers["ftth_routes"] = layers["ftth_routes"].drop(columns="spare")
    line = only_line(check(layers))
    assert line.startswith("ftth_routes:-: missing required field 'spare'")


def test_missing_field_with_other_case_suggests_the_name(check, layers) -> None:
    layers["masts"] = layers["masts"].rename(columns={"cameras": "CAMERAS"})
    line = only_line(check(layers))
    assert line.startswith("masts:-: missing required field 'cameras'")
    assert "found 'CAMERAS': rename it 'cameras'" in line


def test_wrong_field_type_text_for_integer(check, layers) -> None:
    layers["masts"]["cameras"] = ["3", "1"]
    line = only_line(check(layers))
    assert line.startswith("masts:-: field 'cameras' is stored as text, expected a whole number")


def test_commune_code_stored_as_integer_loses_leading_zeros(check, layers) -> None:
    layers["masts"]["commune"] = [27229, 27306]
    line = only_line(check(layers))
    assert line.startswith("masts:-: field 'commune' is stored as an integer, expected text")
    assert "leading zeros" in line


def test_critical_accepts_integers_0_and_1_but_not_2(check, layers) -> None:
    layers["masts"]["critical"] = [1, 0]
    assert check(layers).problems == []
    layers["masts"]["critical"] = [1, 2]
    line = only_line(check(layers))
    assert line.startswith("masts:M2: 'critical' is 2, expected true/false (1 or 0)")


def test_missing_crs_in_a_shapefile_without_prj(tmp_path: Path, layers, folder_writer) -> None:
    folder = folder_writer(layers, tmp_path / "layers", ext=".shp")
    (folder / "masts.prj").unlink()
    line = only_line(validate_path(folder))
    assert line.startswith("masts:-: no CRS: ")
    assert "masts.prj is missing" in line


def test_missing_crs_in_memory_is_reported_by_the_validator(layers) -> None:
    layers["roads"] = layers["roads"].set_crs(None, allow_override=True)
    report = validate(LayerSet(Path("memory"), layers=layers))
    assert report.lines()[0].startswith("roads:-: no CRS: ")
    assert "roads" not in report.layers


def test_layer_in_wgs84_is_reprojected_without_problem(
    tmp_path: Path, layers, folder_writer
) -> None:
    original = layers["masts"].geometry.copy()
    layers["masts"] = layers["masts"].to_crs("EPSG:4326")
    folder = folder_writer(layers, tmp_path / "layers", ext=".geojson")
    report = validate_path(folder)
    assert report.problems == []
    assert report.crs["masts"] == "EPSG:4326"
    masts = report.layers["masts"]
    assert masts.crs.to_epsg() == 2154
    assert np.allclose(shapely.get_coordinates(masts.geometry), shapely.get_coordinates(original))


def test_layer_claiming_wgs84_with_metre_coordinates(check, layers) -> None:
    layers["masts"] = layers["masts"].set_crs("EPSG:4326", allow_override=True)
    line = only_line(check(layers))
    assert line.startswith("masts:-: coordinates do not look like EPSG:4326")
    assert "they look like Lambert-93 metres (EPSG:2154)" in line


def test_one_stray_feature_is_reported_alone_and_the_layer_still_checked(check, layers) -> None:
    masts = layers["masts"]
    first = masts.index[0]
    masts.loc[first, "geometry"] = Point(0, 0)  # typed without coordinates
    report = check(layers)
    label = masts.loc[first, "id"]
    line = only_line(report)
    assert line.startswith(f"masts:{label}: lies at (0, 0), outside the area of use of EPSG:2154")
    assert len(report.layers["masts"]) == len(masts) - 1  # the rest is still checked
    assert "roads" in report.layers


# --- feature-level defects -----------------------------------------------------------------------


def test_wrong_geometry_type(check, layers) -> None:
    layers["power_points"].loc[1, "geometry"] = LineString([at(0, 0), at(10, 10)])
    line = only_line(check(layers))
    assert line.startswith("power_points:E2: geometry is a LineString, expected a Point")


def test_multi_part_line_is_refused_with_a_hint(check, layers) -> None:
    parts = [[(X + 5000, Y), (X + 5200, Y)], [(X + 5300, Y), (X + 5500, Y)]]
    layers["roads"].loc[4, "geometry"] = MultiLineString(parts)
    line = only_line(check(layers))
    assert line.startswith("roads:R9: multi-part geometry (2 parts), expected one LineString")
    assert "Multipart to Singleparts" in line


def test_single_part_multi_geometries_are_accepted(check, layers) -> None:
    layers["roads"].loc[0, "geometry"] = MultiLineString([layers["roads"].geometry[0]])
    layers["communes"] = layers["communes"].set_geometry(
        shapely.multipolygons(shapely.get_parts(layers["communes"].geometry).reshape(-1, 1))
    )
    assert check(layers).problems == []


def test_invalid_bow_tie_polygon(check, layers) -> None:
    bow_tie = Polygon([(X + 600, Y - 1500), (X + 6000, Y + 1500), (X + 6000, Y - 1500),
                       (X + 600, Y + 1500)])  # fmt: skip
    layers["communes"].loc[1, "geometry"] = bow_tie
    line = only_line(check(layers))
    assert line.startswith("communes:27306: invalid geometry (Self-intersection")


def test_empty_and_null_geometries(check, layers) -> None:
    layers["power_points"].loc[0, "geometry"] = None
    layers["power_points"].loc[1, "geometry"] = Point()
    assert check(layers).lines() == [
        "power_points:E1: no geometry",
        "power_points:E2: empty geometry",
    ]


def test_zero_length_line(check, layers) -> None:
    layers["roads"].loc[4, "geometry"] = LineString([at(5000, 0), at(5000, 0)])
    line = only_line(check(layers))
    assert line.startswith("roads:R9: zero-length line")


def test_duplicate_id_names_the_first_row(check, layers) -> None:
    layers["masts"].loc[1, "id"] = "M1"
    line = only_line(check(layers))
    assert line.startswith("masts:M1: duplicate id (feature #2): feature #1 already has it")


def test_every_duplicate_after_the_first_is_reported(check, layers) -> None:
    layers["roads"]["id"] = ["R1", "R1", "R3", "R1", "R3"]
    assert [p.message.split(";")[0] for p in check(layers).problems] == [
        "duplicate id (feature #2): feature #1 already has it",
        "duplicate id (feature #4): feature #1 already has it",
        "duplicate id (feature #5): feature #3 already has it",
    ]


def test_null_id_is_named_by_row_number(check, layers) -> None:
    layers["roads"].loc[1, "id"] = None
    assert only_line(check(layers)) == "roads:#2: id is empty"


def test_null_value_in_a_required_field(check, layers) -> None:
    layers["masts"].loc[1, "camera_model"] = None
    assert only_line(check(layers)) == "masts:M2: field 'camera_model' is empty"


@pytest.mark.parametrize(
    ("cameras", "expected"),
    [(0, "masts:M1: 'cameras' is 0, below the minimum 1"),
     (17, "masts:M1: 'cameras' is 17, above the maximum 16")],
)  # fmt: skip
def test_value_out_of_range(check, layers, cameras: int, expected: str) -> None:
    layers["masts"].loc[0, "cameras"] = cameras
    assert only_line(check(layers)) == expected


def test_negative_spare(check, layers) -> None:
    layers["ftth_routes"].loc[0, "spare"] = -1
    assert only_line(check(layers)) == "ftth_routes:F1: 'spare' is -1, below the minimum 0"


def test_bad_choice_suggests_the_right_case(check, layers) -> None:
    layers["roads"].loc[0, "kind"] = "Primary"
    line = only_line(check(layers))
    assert line.startswith("roads:R1: 'kind' is 'Primary', not one of: motorway, primary,")
    assert "did you mean 'primary'?" in line


def test_value_not_matching_the_pattern(check, layers) -> None:
    layers["communes"].loc[0, "epci"] = "20007145"
    line = only_line(check(layers))
    assert line.startswith("communes:27229: 'epci' is '20007145', which does not match")


# --- cross-layer checks --------------------------------------------------------------------------


def test_mast_far_from_roads_warning(check, layers) -> None:
    layers["masts"].loc[0, "geometry"] = at(200, 100)
    report = check(layers)
    line = only_line(report)
    assert line.startswith("masts:M1: warning: 100.0 m from the nearest road (road R2)")
    assert report.ok and not report.ok_strict


def test_mast_far_from_roads_error(check, layers) -> None:
    layers["masts"].loc[0, "geometry"] = at(300, 600)
    report = check(layers)
    line = only_line(report)
    assert line.startswith("masts:M1: 300.0 m from the nearest road (road R3), more than 200 m")
    assert not report.ok


def test_far_from_road_thresholds_are_options(check, layers) -> None:
    layers["masts"].loc[0, "geometry"] = at(200, 100)
    report = check(layers, far_from_road_warning_m=20, far_from_road_error_m=50)
    assert only_line(report).startswith("masts:M1: 100.0 m from the nearest road (road R2)")
    report = check(layers, far_from_road_warning_m=150, far_from_road_error_m=500)
    assert report.problems == []


def test_ftth_node_far_from_roads(check, layers) -> None:
    layers["ftth_nodes"].loc[2, "geometry"] = at(1050, -500)
    line = only_line(check(layers))
    assert line.startswith("ftth_nodes:B1: warning: 50.0 m from the nearest road (road R4)")


def test_mast_on_a_road_island_without_ftth_node(check, layers) -> None:
    layers["masts"].loc[1, "geometry"] = at(5200, 10)
    line = only_line(check(layers))
    assert line.startswith("masts:M2: no FttH node with free fibres can be reached")
    assert "(road R9) lies on an island of 1 line (0.5 km)" in line


def test_node_without_free_fibre_does_not_serve_an_island(check, layers) -> None:
    layers["masts"].loc[1, "geometry"] = at(5200, 10)
    layers["ftth_nodes"].loc[2, "geometry"] = at(5400, 0)  # B1 has no free fibre
    assert check(layers).errors[0].code == "no-ftth-reachable"
    layers["ftth_nodes"].loc[2, "free_fibres"] = 6
    assert check(layers).problems == []


def test_an_ftth_route_joins_an_island_to_the_network(check, layers) -> None:
    layers["masts"].loc[1, "geometry"] = at(5200, 10)
    bridge = gpd.GeoDataFrame(
        {"id": ["F3"], "kind": ["aerial"], "spare": [1]},
        geometry=[LineString([at(1000, 0.5), at(5000, 0.5)])],  # within 1 m of R2 and R9
        crs=layers["ftth_routes"].crs,
    )
    layers["ftth_routes"] = gpd.pd.concat([layers["ftth_routes"], bridge], ignore_index=True)
    assert check(layers).problems == []


def test_unknown_commune_code(check, layers) -> None:
    layers["masts"].loc[0, "commune"] = "27999"
    line = only_line(check(layers))
    assert line.startswith("masts:M1: commune '27999' is not in the communes layer")


def test_mast_outside_its_commune(check, layers) -> None:
    layers["masts"].loc[0, "commune"] = "27306"
    line = only_line(check(layers))
    assert line == (
        "masts:M1: warning: 400.0 m outside its commune 27306 (Guichainville): "
        "check the position or the commune code"
    )


# --- the report as a whole -----------------------------------------------------------------------


def test_every_problem_is_reported_sorted_by_layer_then_feature(check, layers) -> None:
    layers["communes"].loc[1, "population"] = -5
    layers["masts"].loc[1, "cameras"] = 0
    layers["masts"].loc[0, "commune"] = "27999"
    layers["roads"].loc[3, "kind"] = "path"
    layers["roads"].loc[0, "kind"] = "lane"
    prefixes = [line.split(": ")[0] for line in check(layers).lines()]
    assert prefixes == ["roads:R1", "roads:R4", "masts:M1", "masts:M2", "communes:27306"]


def test_problem_string_and_dict() -> None:
    warning = Problem("masts", "M1", Severity.WARNING, "far-from-road", "31 m from the road")
    assert str(warning) == "masts:M1: warning: 31 m from the road"
    assert warning.to_dict() == {
        "layer": "masts",
        "feature": "M1",
        "severity": "warning",
        "code": "far-from-road",
        "message": "31 m from the road",
    }


def test_validate_leaves_the_layerset_untouched(tmp_path: Path, layers, gpkg_writer) -> None:
    layers["masts"] = layers["masts"].to_crs("EPSG:4326")
    layerset = read_layers(gpkg_writer(layers, tmp_path / "layers.gpkg"))
    before = layerset.layers["masts"].copy()
    validate(layerset)
    assert layerset.layers["masts"].crs.to_epsg() == 4326
    assert layerset.layers["masts"].geom_equals(before).all()


def _defect(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    layers["masts"].loc[0, "geometry"] = at(300, 600)
    layers["masts"].loc[1, "geometry"] = at(5200, 10)
    layers["roads"].loc[2, "kind"] = "lane"
    layers["ftth_nodes"].loc[1, "free_fibres"] = -2
    layers["power_points"].loc[0, "geometry"] = Point()
    return layers


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_feature_order_never_changes_the_problems(new_layers, data: st.DataObject) -> None:
    layers = _defect(new_layers())
    expected = validate(LayerSet(Path("memory"), layers=layers)).problems
    shuffled = {
        name: gdf.iloc[data.draw(st.permutations(range(len(gdf))), label=name)]
        for name, gdf in layers.items()
    }
    problems = validate(LayerSet(Path("memory"), layers=shuffled)).problems
    assert len(expected) == 5
    assert set(problems) == set(expected)


# --- the Eure sample -----------------------------------------------------------------------------

needs_sample = pytest.mark.skipif(not SAMPLE.exists(), reason=f"{SAMPLE} not generated yet")


@needs_sample
def test_the_eure_sample_has_no_error() -> None:
    report = validate_path(SAMPLE)
    assert report.errors == []
    assert set(report.layers) == set(LAYERS)


@needs_sample
@pytest.mark.slow
def test_broken_copies_of_the_eure_sample(tmp_path: Path) -> None:
    sample = read_layers(SAMPLE, names=["roads", "ftth_routes", "masts"]).layers

    def lines(name: str, layer: str, frame: gpd.GeoDataFrame) -> list[str]:
        """Validate a copy of the sample in which ``layer`` is replaced by ``frame``."""
        copy = tmp_path / f"{name}.gpkg"
        shutil.copyfile(SAMPLE, copy)
        frame.to_file(copy, layer=layer, driver="GPKG", engine="pyogrio")  # replaces the layer
        return validate_path(copy).lines()

    routes = sample["ftth_routes"].drop(columns="spare")
    assert any(
        line.startswith("ftth_routes:-: missing required field 'spare'")
        for line in lines("no_spare", "ftth_routes", routes)
    )

    masts = sample["masts"].to_crs("EPSG:2154")
    first = str(masts["id"].iloc[0])
    duplicated = masts.copy()
    duplicated.loc[duplicated.index[1], "id"] = masts["id"].iloc[0]
    assert any(
        line.startswith(f"masts:{first}: duplicate id (feature #2): feature #1 already has it")
        for line in lines("duplicate", "masts", duplicated)
    )

    moved = masts.copy()
    moved.loc[moved.index[0], "geometry"] = shapely.affinity.translate(moved.geometry.iloc[0], 5000)
    assert any(
        line.startswith(f"masts:{first}: warning: ") and "outside its commune" in line
        for line in lines("moved", "masts", moved)
    )

    _, y0, x1, y1 = sample["roads"].to_crs("EPSG:2154").total_bounds
    lost = masts.copy()
    lost.loc[lost.index[0], "geometry"] = Point(x1 + 5000, (y0 + y1) / 2)
    assert any(
        line.startswith(f"masts:{first}: ")
        and "from the nearest road" in line
        and "more than 200 m" in line
        for line in lines("lost", "masts", lost)
    )


def test_a_mast_owner_is_one_of_the_choices_and_may_be_blank(check, layers) -> None:
    masts = layers["masts"]
    masts["owner"] = ["mairie", ""] + ["etat"] * (len(masts) - 2)
    report = check(layers)
    mast = masts["id"].iloc[0]
    line = only_line(report)
    assert line.startswith(f"masts:{mast}: 'owner' is 'mairie', not one of: commune, epci, etat")
