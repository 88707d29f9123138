"""The sample generator on the real open data of the Eure.

Schema, determinism, road topology and placement, checked on the real communes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from planning.errors import SampleError
from planning.sample import Sample, generate_sample, write_sample
from planning.sample.masts import CAMERA_MODELS
from planning.schema import LAYER_NAMES, LAYERS, WORK_CRS, FieldType
from tests.helpers.paths import SAMPLE

SOURCES = Path(__file__).resolve().parents[2] / "gis_data" / "sources"
GEOJSON = SOURCES / "communes-27-eure.geojson"
ADMIN = SOURCES / "communes-27-admin.json"
EVREUX_EPCI = "200071454"
UNMATCHED_2018 = ("27297", "27416", "27491", "27551")


@pytest.fixture(scope="module")
def sample() -> Sample:
    return generate_sample(GEOJSON, ADMIN)


@pytest.fixture(scope="module")
def admin() -> dict:
    return json.loads(ADMIN.read_text(encoding="utf-8"))


def assert_layer_follows_schema(name: str, frame: gpd.GeoDataFrame) -> None:
    spec = LAYERS[name]
    fields = [f.name for f in spec.fields if f.required or f.name in frame.columns]
    assert list(frame.columns) == [*fields, "geometry"], name
    assert frame.crs == WORK_CRS, name
    assert len(frame) > 0, name
    geoms = frame.geometry.to_numpy()
    assert not shapely.is_empty(geoms).any(), name
    assert shapely.is_valid(geoms).all(), name
    allowed = {spec.geometry, "MultiPolygon"} if spec.geometry == "Polygon" else {spec.geometry}
    assert set(frame.geom_type) <= allowed, name
    assert frame[spec.id_field].is_unique, name
    for field in spec.fields:
        if field.name not in frame.columns:
            continue
        column = frame[field.name]
        if field.required:  # an optional field may be blank (unknown)
            assert column.notna().all(), (name, field.name)
        if field.type is FieldType.INTEGER:
            assert column.dtype == np.int64, (name, field.name)
        elif field.type is FieldType.BOOLEAN:
            assert column.dtype == bool, (name, field.name)
        else:
            text = column if field.required else column.dropna()
            assert all(isinstance(v, str) and v for v in text), (name, field.name)
        if field.choices:
            assert set(column) <= set(field.choices), (name, field.name)
        if field.minimum is not None:
            assert column.min() >= field.minimum, (name, field.name)
        if field.maximum is not None:
            assert column.max() <= field.maximum, (name, field.name)
        if field.pattern:
            assert all(re.match(field.pattern, v) for v in column), (name, field.name)


def road_graph(roads: gpd.GeoDataFrame) -> nx.Graph:
    coords = shapely.get_coordinates(roads.geometry.to_numpy()).reshape(-1, 2, 2)
    graph = nx.Graph()
    graph.add_edges_from((tuple(a), tuple(b)) for a, b in coords)
    return graph


def test_every_layer_follows_the_schema(sample: Sample) -> None:
    assert list(sample.layers) == list(LAYER_NAMES)
    for name, frame in sample.layers.items():
        assert_layer_follows_schema(name, frame)


def test_same_seed_gives_the_same_layers(sample: Sample) -> None:
    calls: list[tuple[str, int, int]] = []
    again = generate_sample(GEOJSON, ADMIN, progress=lambda *call: calls.append(call))
    assert again.notes == sample.notes
    assert {step for step, _, _ in calls} >= {"communes", "streets", "roads", "ftth", "masts"}
    assert ("streets", 74, 74) in calls
    for name in LAYER_NAMES:
        assert_geodataframe_equal(again.layers[name], sample.layers[name])


def test_another_seed_gives_other_roads(sample: Sample) -> None:
    other = generate_sample(GEOJSON, ADMIN, seed=28)
    assert not other.layers["roads"].geometry.equals(sample.layers["roads"].geometry)
    assert_geodataframe_equal(other.layers["communes"], sample.layers["communes"])


def test_roads_are_properly_noded(sample: Sample) -> None:
    lines = sample.layers["roads"].geometry.to_numpy()
    coords = shapely.get_coordinates(lines).reshape(-1, 2, 2)
    assert (shapely.get_num_points(lines) == 2).all()
    assert (shapely.length(lines) > 0).all()
    assert shapely.length(lines).max() <= 500.0
    keys = {tuple(sorted(map(tuple, c))) for c in coords}
    assert len(keys) == len(lines), "duplicate segments"
    left, right = shapely.STRtree(lines).query(lines, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    common = shapely.intersection(lines[left], lines[right])
    assert (shapely.get_type_id(common) == shapely.GeometryType.POINT).all()
    meet = shapely.get_coordinates(common)
    at_an_end = np.zeros(len(left), dtype=bool)
    for end in range(2):
        at_a = (coords[left, end] == meet).all(axis=1)
        at_b = (coords[right, 0] == meet).all(axis=1) | (coords[right, 1] == meet).all(axis=1)
        at_an_end |= at_a & at_b
    assert at_an_end.all(), f"{int((~at_an_end).sum())} crossings without a shared node"


def test_roads_form_one_connected_network(sample: Sample) -> None:
    roads = sample.layers["roads"]
    assert nx.is_connected(road_graph(roads))
    assert set(roads["kind"]) >= {"primary", "secondary", "tertiary", "local", "track"}
    assert 10_000 <= len(roads) <= 30_000


def test_routes_follow_road_segments(sample: Sample) -> None:
    roads = {g.wkb for g in sample.layers["roads"].geometry}
    routes = sample.layers["ftth_routes"]
    assert all(g.wkb in roads for g in routes.geometry)
    assert set(routes["kind"]) == {"duct", "aerial"}
    assert (routes["spare"] == 0).any()


def test_ftth_nodes_stand_on_the_roads(sample: Sample) -> None:
    nodes = sample.layers["ftth_nodes"]
    roads = shapely.STRtree(sample.layers["roads"].geometry.to_numpy())
    near, _ = roads.query(nodes.geometry.to_numpy(), predicate="dwithin", distance=30.0)
    assert set(near) == set(range(len(nodes)))
    assert set(nodes["kind"]) == {"NRO", "PM", "PBO", "chamber"}
    nro = nodes[nodes["kind"] == "NRO"]
    assert (nro["free_fibres"] >= 10).all()
    assert nro["id"].str.match(r"^NRO-\d{5}-\d{2}$").all()
    # Every PM reaches the network: the road network is one piece holding free fibres.
    assert (nodes["free_fibres"] > 0).any()
    for kind, top in (("PM", 48), ("PBO", 8), ("chamber", 12)):
        fibres = nodes.loc[nodes["kind"] == kind, "free_fibres"]
        assert fibres.max() <= top and (fibres == 0).any(), kind


def test_masts_stand_in_the_centre_of_large_communes(sample: Sample) -> None:
    masts = sample.layers["masts"]
    communes = sample.layers["communes"].set_index("code")
    large = set(communes.index[communes["population"] >= 1000])
    assert set(masts["commune"]) == large
    polygons = communes.loc[masts["commune"]].geometry.to_numpy()
    assert shapely.contains(polygons, masts.geometry.to_numpy()).all()
    roads = shapely.STRtree(sample.layers["roads"].geometry.to_numpy())
    near, _ = roads.query(masts.geometry.to_numpy(), predicate="dwithin", distance=30.0)
    assert set(near) == set(range(len(masts)))
    on_road, _ = roads.query(masts.geometry.to_numpy(), predicate="dwithin", distance=1.0)
    assert len(on_road) == 0
    assert set(masts["camera_model"]) <= set(CAMERA_MODELS)
    assert 0.05 <= masts["critical"].mean() <= 0.3
    assert masts["id"].str.match(r"^M-\d{5}-\d{3}$").all()


def test_power_points_stand_along_the_roads(sample: Sample) -> None:
    power = sample.layers["power_points"]
    roads = shapely.STRtree(sample.layers["roads"].geometry.to_numpy())
    near, _ = roads.query(power.geometry.to_numpy(), predicate="dwithin", distance=30.0)
    assert set(near) == set(range(len(power)))
    assert set(power["kind"]) == {"enedis", "public_lighting"}


def test_epci_scope_holds_its_74_current_communes(sample: Sample, admin: dict) -> None:
    members = {
        c["code"]: c["population"]
        for c in admin["communes"]
        if c["type"] == "commune-actuelle" and c.get("epci_siren") == EVREUX_EPCI
    }
    communes = sample.layers["communes"]
    assert len(members) == 74
    assert set(communes["code"]) == set(members)
    assert communes["population"].sum() == sum(members.values())
    assert (communes["epci"] == EVREUX_EPCI).all()


def test_notes_report_every_2018_code_folded_away(sample: Sample) -> None:
    for code in UNMATCHED_2018:
        assert any(code in note and "longest border" in note for note in sample.notes), code
    # Three of them touch each other and went together to the commune nouvelle beside them.
    cluster = next(note for note in sample.notes if "27297" in note)
    assert "27416" in cluster
    assert "27491" in cluster
    assert "merged into 27198 (Mesnils-sur-Iton)" in cluster
    alone = next(note for note in sample.notes if "27551" in note)
    assert "merged into 27542" in alone
    assert sum("commune-deleguee" in note for note in sample.notes) == 7


def test_write_sample_replaces_the_file_atomically(sample: Sample, tmp_path: Path) -> None:
    out = tmp_path / "eure.gpkg"
    out.write_bytes(b"not a geopackage")
    write_sample(sample, out)
    assert [name for name, _ in pyogrio.list_layers(out)] == list(LAYER_NAMES)
    masts = gpd.read_file(out, layer="masts", engine="pyogrio")
    assert len(masts) == len(sample.layers["masts"])
    assert masts["critical"].dtype == bool
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eure.gpkg"]


def test_write_sample_to_an_unwritable_place_raises_sample_error(
    sample: Sample, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(SampleError, match="cannot"):
        write_sample(sample, blocker / "eure.gpkg")


def test_bad_inputs_raise_sample_error(tmp_path: Path) -> None:
    with pytest.raises(SampleError, match="scope"):
        generate_sample(GEOJSON, ADMIN, scope="region")
    with pytest.raises(SampleError, match="123456789"):
        generate_sample(GEOJSON, ADMIN, epci="123456789")
    with pytest.raises(SampleError, match="not found"):
        generate_sample(tmp_path / "missing.geojson", ADMIN)
    broken = tmp_path / "admin.json"
    broken.write_text("{}", encoding="utf-8")
    with pytest.raises(SampleError, match="communes"):
        generate_sample(GEOJSON, broken)


@pytest.mark.slow
def test_departement_scope_is_large_enough() -> None:
    sample = generate_sample(GEOJSON, ADMIN, scope="departement")
    assert len(sample.layers["communes"]) == 585
    assert sample.layers["communes"]["population"].sum() == 602_714
    assert len(sample.layers["roads"]) >= 150_000
    assert len(sample.layers["masts"]) >= 500
    assert sample.layers["masts"]["commune"].nunique() == 134
    assert nx.is_connected(road_graph(sample.layers["roads"]))
    for name, frame in sample.layers.items():
        assert_layer_follows_schema(name, frame)


def test_committed_sample_is_what_the_generator_makes(sample: Sample) -> None:
    """Changing the generator without `make sample` would leave a stale gis_data/eure/eure.gpkg."""
    for name, frame in sample.layers.items():
        stored = gpd.read_file(SAMPLE, layer=name, engine="pyogrio")
        assert len(stored) == len(frame), name
        columns = [c for c in frame.columns if c != "geometry"]
        assert stored[columns].astype(str).equals(frame[columns].astype(str)), name
        # Communes are stored as MultiPolygon: compare shapes, not representations.
        same = shapely.equals_exact(
            shapely.normalize(np.asarray(stored.geometry.array)),
            shapely.normalize(np.asarray(frame.geometry.array)),
            tolerance=1e-6,
        ) | shapely.equals(np.asarray(stored.geometry.array), np.asarray(frame.geometry.array))
        assert same.all(), name
