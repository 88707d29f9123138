"""The routable network: noding, merging, modes, snapping, and the real Eure sample."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import pytest
from shapely.geometry import LineString, Point

from planning.network import RoutableNetwork, build_network
from planning.parameters import ParameterError, PlanParameters
from planning.validate import DEFAULT_FAR_FROM_ROAD_ERROR_M, validate_path
from tests.helpers.paths import SAMPLE

CRS = "EPSG:2154"
X, Y = 560_000.0, 6_880_000.0
PARAMS = PlanParameters()
RENT = PARAMS.rent
LOCAL = PARAMS.cost.trench.local
CABLE = PARAMS.cost.cable_eur_per_m


def line(*points: tuple[float, float]) -> LineString:
    return LineString([(X + dx, Y + dy) for dx, dy in points])


def roads(*rows: tuple[str, str, LineString]) -> gpd.GeoDataFrame:
    ids, kinds, geoms = zip(*rows, strict=True) if rows else ((), (), ())
    return gpd.GeoDataFrame({"id": list(ids), "kind": list(kinds)}, geometry=list(geoms), crs=CRS)


def routes(*rows: tuple[str, str, int, LineString]) -> gpd.GeoDataFrame:
    ids, kinds, spare, geoms = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {"id": list(ids), "kind": list(kinds), "spare": list(spare)}, geometry=list(geoms), crs=CRS
    )


def masts(*rows: tuple[str, float, float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": [r[0] for r in rows],
            "commune": ["27229"] * len(rows),
            "cameras": [2] * len(rows),
            "camera_model": ["dome-4mp"] * len(rows),
            "critical": [True] * len(rows),
        },
        geometry=[Point(X + dx, Y + dy) for _, dx, dy in rows],
        crs=CRS,
    )


def ftth_nodes(*rows: tuple[str, str, int, float, float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": [r[0] for r in rows],
            "kind": [r[1] for r in rows],
            "free_fibres": [r[2] for r in rows],
        },
        geometry=[Point(X + dx, Y + dy) for *_, dx, dy in rows],
        crs=CRS,
    )


def node_at(net: RoutableNetwork, dx: float, dy: float) -> int:
    found = [
        n
        for n, d in net.graph.nodes(data=True)
        if abs(d["x"] - (X + dx)) < 1e-6 and abs(d["y"] - (Y + dy)) < 1e-6
    ]
    assert len(found) == 1, found
    return found[0]


def only_edge(net: RoutableNetwork) -> dict:
    assert net.graph.number_of_edges() == 1
    return next(iter(net.graph.edges(data=True)))[2]


# --- noding and merging ---------------------------------------------------------------------


@pytest.mark.parametrize("field", ["bridge", "tunnel"])
def test_a_bridge_or_a_tunnel_over_a_road_is_no_junction_and_costs_its_structure(
    field: str,
) -> None:
    layer = roads(
        ("A", "local", line((-100, 0), (100, 0))),
        ("B", "primary", line((0, -100), (0, 100))),
    )
    layer[field] = [False, True]  # B passes over (or under) A
    net = build_network({"roads": layer})
    g = net.graph
    assert g.number_of_nodes() == 4 and g.number_of_edges() == 2  # no node where they cross
    by_road = {data["road_id"]: data for _, _, data in g.edges(data=True)}
    structure = PARAMS.cost.structure_eur_per_m
    assert by_road["B"]["modes"]["trench"] == pytest.approx(200 * structure)
    assert by_road["A"]["modes"]["trench"] == pytest.approx(200 * LOCAL)


def test_roads_crossing_without_a_shared_vertex_are_noded() -> None:
    net = build_network(
        {
            "roads": roads(
                ("A", "local", line((-100, 0), (100, 0))),
                ("B", "tertiary", line((0, -100), (0, 100))),
            )
        }
    )
    g = net.graph
    assert g.number_of_nodes() == 5
    assert g.number_of_edges() == 4
    centre = node_at(net, 0, 0)
    assert g.degree(centre) == 4
    for _, _, data in g.edges(centre, data=True):
        assert data["length"] == pytest.approx(100)
    kinds = sorted(data["road_kind"] for _, _, data in g.edges(data=True))
    assert kinds == ["local", "local", "tertiary", "tertiary"]


def test_crossing_at_an_interior_vertex_of_multi_vertex_lines() -> None:
    net = build_network(
        {
            "roads": roads(
                ("A", "local", line((-100, 0), (0, 0), (100, 10))),
                ("B", "local", line((0, -100), (0, 0), (5, 100))),
            )
        }
    )
    assert net.graph.degree(node_at(net, 0, 0)) == 4


def test_t_junction_splits_the_through_road() -> None:
    net = build_network(
        {
            "roads": roads(
                ("A", "local", line((-100, 0), (100, 0))),
                ("B", "local", line((30, 0), (30, 80))),
            )
        }
    )
    assert net.graph.number_of_edges() == 3
    assert net.graph.degree(node_at(net, 30, 0)) == 3


def test_multi_vertex_line_stays_one_edge_with_its_geometry() -> None:
    geom = line((0, 0), (50, 20), (100, 0), (150, 30))
    net = build_network({"roads": roads(("A", "local", geom))})
    data = only_edge(net)
    assert data["geometry"].equals(geom)
    assert data["length"] == pytest.approx(geom.length)


@pytest.mark.parametrize(("gap", "merged"), [(0.3, True), (0.8, False)])
def test_line_ends_closer_than_the_tolerance_are_merged(gap: float, merged: bool) -> None:
    net = build_network(
        {
            "roads": roads(
                ("A", "local", line((-100, 0), (0, 0))),
                ("B", "local", line((gap, 0), (100, 0))),
            )
        }
    )
    assert net.graph.number_of_nodes() == (3 if merged else 4)
    assert nx.number_connected_components(net.graph) == (1 if merged else 2)
    if merged:  # the edges end exactly on the shared node
        node = net.graph.nodes[next(n for n, d in net.graph.degree() if d == 2)]
        for u, v in net.graph.edges():
            ends = [net.edge_geometry(u, v).coords[0], net.edge_geometry(u, v).coords[-1]]
            assert (node["x"], node["y"]) in ends


# --- modes and weights ----------------------------------------------------------------------


def test_edge_under_a_duct_with_spare_has_trench_and_duct() -> None:
    geom = line((0, 0), (100, 0))
    net = build_network(
        {
            "roads": roads(("R1", "secondary", geom)),
            "ftth_routes": routes(("F1", "duct", 2, geom)),
        }
    )
    data = only_edge(net)
    cost = PARAMS.cost
    assert set(data["modes"]) == {"trench", "duct"}
    assert data["modes"]["trench"] == pytest.approx(100 * cost.trench.secondary)
    # Laying in the duct, and renting it over the horizon (no owner: the public network's rate).
    per_m = cost.duct_eur_per_m + RENT.public_duct_eur_per_m_year * RENT.horizon_years
    assert data["modes"]["duct"] == pytest.approx(100 * per_m)
    assert data["mode"] == "duct"
    assert data["weight"] == pytest.approx(100 * (per_m + CABLE))
    assert data["rent_rate"] == pytest.approx(RENT.public_duct_eur_per_m_year)
    assert (data["road_id"], data["road_kind"]) == ("R1", "secondary")
    assert (data["route_id"], data["route_kind"], data["spare"]) == ("F1", "duct", 2)
    assert data["access"] is False


def test_duct_without_spare_gives_trench_only() -> None:
    geom = line((0, 0), (100, 0))
    net = build_network(
        {
            "roads": roads(("R1", "local", geom)),
            "ftth_routes": routes(("F1", "duct", 0, geom.reverse())),
        }
    )
    data = only_edge(net)
    assert data["modes"] == pytest.approx({"trench": 100 * LOCAL})
    assert data["mode"] == "trench"
    assert (data["route_id"], data["spare"]) == ("F1", 0)


def test_aerial_route_with_spare() -> None:
    geom = line((0, 0), (100, 0))
    net = build_network(
        {
            "roads": roads(("R1", "primary", geom)),
            "ftth_routes": routes(("F1", "aerial", 1, geom)),
        }
    )
    data = only_edge(net)
    assert set(data["modes"]) == {"trench", "aerial"}
    assert data["mode"] == "aerial"
    per_m = PARAMS.cost.aerial_eur_per_m + RENT.public_aerial_eur_per_m_year * RENT.horizon_years
    assert data["modes"]["aerial"] == pytest.approx(100 * per_m)


def test_ftth_route_off_road_is_trenched_at_the_local_price() -> None:
    net = build_network({"ftth_routes": routes(("F1", "duct", 0, line((0, 0), (100, 0))))})
    data = only_edge(net)
    assert data["road_kind"] is None
    assert data["modes"] == pytest.approx({"trench": 100 * LOCAL})


def test_parallel_lines_keep_the_cheapest_cost_of_each_mode() -> None:
    net = build_network(
        {
            "roads": roads(("R1", "primary", line((0, 0), (100, 0)))),
            # a duct between the same two nodes, digitised up to 3 m off the road
            "ftth_routes": routes(("F1", "duct", 1, line((0, 0), (50, 3), (100, 0)))),
        }
    )
    data = only_edge(net)
    detour = line((0, 0), (50, 3), (100, 0)).length
    assert data["modes"]["trench"] == pytest.approx(100 * PARAMS.cost.trench.primary)
    per_m = PARAMS.cost.duct_eur_per_m + RENT.public_duct_eur_per_m_year * RENT.horizon_years
    assert data["modes"]["duct"] == pytest.approx(detour * per_m)
    assert data["mode"] == "duct"
    assert data["length"] == pytest.approx(detour)  # the geometry of the line giving `mode`


def test_distinct_roads_between_the_same_nodes_are_both_kept() -> None:
    net = build_network(
        {
            "roads": roads(
                ("R1", "local", line((0, 0), (100, 0))),
                ("R2", "track", line((0, 0), (50, 60), (100, 0))),
            ),
            "masts": masts(("M1", 50, 62)),
        }
    )
    g = net.graph
    assert g.number_of_edges() == 4  # R1, R2 cut in two, the mast's access
    on_r2 = [d for _, _, d in g.edges(data=True) if d["road_id"] == "R2"]
    assert sum(d["length"] for d in on_r2) == pytest.approx(2 * (50**2 + 60**2) ** 0.5)
    (snap,) = (n for n in g.neighbors(net.mast_nodes["M1"]))
    assert g.edges[net.mast_nodes["M1"], snap]["length"] == pytest.approx(2)


def test_weights_are_the_cheapest_mode_plus_cable(sample_net: RoutableNetwork) -> None:
    for _, _, data in sample_net.graph.edges(data=True):
        assert data["mode"] == min(data["modes"], key=data["modes"].get)
        expected = data["modes"][data["mode"]] + CABLE * data["length"]
        assert data["weight"] == pytest.approx(expected)
        assert data["length"] == pytest.approx(data["geometry"].length)


def test_overridden_prices_reach_the_edges() -> None:
    params = PlanParameters.from_dict({"cost": {"trench": {"local": 60}, "cable_eur_per_m": 2}})
    net = build_network({"roads": roads(("R1", "local", line((0, 0), (100, 0))))}, params)
    data = only_edge(net)
    assert data["modes"]["trench"] == pytest.approx(6000)
    assert data["weight"] == pytest.approx(6200)


# --- snapping -------------------------------------------------------------------------------


def test_mast_off_the_road_splits_it_and_gets_an_access_edge() -> None:
    net = build_network(
        {"roads": roads(("R1", "local", line((0, 0), (200, 0)))), "masts": masts(("M1", 50, 12))}
    )
    g = net.graph
    mast = net.mast_nodes["M1"]
    assert (
        g.nodes[mast].items()
        >= {
            "kind": "mast",
            "feature_id": "M1",
            "commune": "27229",
            "cameras": 2,
            "critical": True,
            "camera_model": "dome-4mp",
        }.items()
    )
    assert (g.nodes[mast]["x"], g.nodes[mast]["y"]) == (X + 50, Y + 12)
    snap = node_at(net, 50, 0)
    access = g.edges[mast, snap]
    assert access["access"] is True
    assert access["length"] == pytest.approx(12)
    assert access["modes"] == pytest.approx({"trench": 12 * LOCAL})
    road = [d for _, _, d in g.edges(data=True) if not d["access"]]
    assert sorted(d["length"] for d in road) == pytest.approx([50, 150])
    assert sum(d["modes"]["trench"] for d in road) == pytest.approx(200 * LOCAL)
    assert all(d["road_id"] == "R1" for d in road)


def test_two_masts_on_one_edge() -> None:
    net = build_network(
        {
            "roads": roads(("R1", "local", line((0, 0), (200, 0)))),
            "masts": masts(("M2", 120, -5), ("M1", 50, 8)),
        }
    )
    g = net.graph
    a, b = node_at(net, 50, 0), node_at(net, 120, 0)
    assert g.edges[node_at(net, 0, 0), a]["length"] == pytest.approx(50)
    assert g.edges[a, b]["length"] == pytest.approx(70)
    assert g.edges[b, node_at(net, 200, 0)]["length"] == pytest.approx(80)
    assert g.has_edge(net.mast_nodes["M1"], a)
    assert g.has_edge(net.mast_nodes["M2"], b)
    assert g.number_of_edges() == 5


def test_mast_beyond_the_snapping_limit_is_reported() -> None:
    net = build_network(
        {
            "roads": roads(("R1", "local", line((0, 0), (200, 0)))),
            "masts": masts(("M1", 100, 500)),
        }
    )
    assert "M1" not in net.mast_nodes
    assert net.graph.number_of_nodes() == 2
    (far,) = net.unsnapped
    assert (far.layer, far.feature_id) == ("masts", "M1")
    assert far.distance_m == pytest.approx(500)
    assert (
        far.reason == "500 m from the nearest road or FttH route, beyond the 200 m snapping limit"
    )


def test_mast_on_the_road_is_the_split_node_itself() -> None:
    net = build_network(
        {"roads": roads(("R1", "local", line((0, 0), (200, 0)))), "masts": masts(("M1", 50, 0.2))}
    )
    assert net.mast_nodes["M1"] == node_at(net, 50, 0)
    assert net.graph.number_of_edges() == 2


def test_ftth_node_on_a_vertex_reuses_it() -> None:
    net = build_network(
        {
            "roads": roads(
                ("R1", "local", line((0, 0), (100, 0))),
                ("R2", "local", line((100, 0), (200, 0))),
            ),
            "ftth_nodes": ftth_nodes(("P1", "PBO", 4, 100, 0)),
        }
    )
    node = net.ftth_nodes["P1"]
    assert node == node_at(net, 100, 0)
    assert net.graph.number_of_nodes() == 3
    assert (
        net.graph.nodes[node].items()
        >= {"kind": "PBO", "feature_id": "P1", "free_fibres": 4}.items()
    )


def test_edge_geometry_is_oriented_and_frames_hold_everything() -> None:
    net = build_network(
        {"roads": roads(("R1", "local", line((0, 0), (200, 0)))), "masts": masts(("M1", 50, 12))}
    )
    start, mast = node_at(net, 0, 0), net.mast_nodes["M1"]
    snap = node_at(net, 50, 0)
    assert net.edge_geometry(snap, start).coords[0] == (X + 50, Y)
    assert net.edge_geometry(start, snap).coords[0] == (X, Y)
    assert net.edge_geometry(snap, mast).coords[-1] == (X + 50, Y + 12)
    edges, nodes = net.to_frames()
    assert len(edges) == 3
    assert len(nodes) == 4
    assert edges.crs == nodes.crs == CRS
    assert {"u", "v", "length", "mode", "weight", "cost_trench", "spare", "access"} <= set(edges)
    assert nodes.set_index("feature_id").loc["M1", "kind"] == "mast"


# --- the real sample ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_net() -> RoutableNetwork:
    report = validate_path(SAMPLE)
    assert report.ok
    return build_network(report.layers)


def test_sample_builds_one_connected_network(sample_net: RoutableNetwork) -> None:
    g = sample_net.graph
    layers = validate_path(SAMPLE).layers
    assert sample_net.unsnapped == []
    assert set(sample_net.mast_nodes) == set(layers["masts"]["id"])
    assert set(sample_net.ftth_nodes) == set(layers["ftth_nodes"]["id"])
    assert nx.number_connected_components(g) == 1
    assert nx.number_of_selfloops(g) == 0
    access = [d for _, _, d in g.edges(data=True) if d["access"]]
    assert len(access) == len(layers["masts"])  # masts stand 2-15 m off their road
    assert all(2 <= d["length"] <= 15.5 for d in access)
    modes = {d["mode"] for _, _, d in g.edges(data=True)}
    assert modes == {"trench", "duct", "aerial"}


# --- parameters -----------------------------------------------------------------------------


def test_parameters_overrides_and_round_trip() -> None:
    params = PlanParameters.from_dict(
        {"cost": {"trench": {"primary": 120}}, "network": {"fibres_per_mast": 4}}
    )
    assert params.cost.trench.primary == 120
    assert params.cost.trench.local == PARAMS.cost.trench.local
    assert params.network.fibres_per_mast == 4
    assert PlanParameters.from_dict(params.to_dict()) == params
    assert PlanParameters.from_dict() == PARAMS


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"cost": {"trench": {"lokal": 60}}}, "unknown parameter 'cost.trench.lokal'"),
        ({"costs": {}}, "unknown parameter 'costs'"),
        ({"link": {"budget_db": "ten"}}, "'link.budget_db' must be a number"),
        ({"network": {"fibres_per_mast": 1.5}}, "'network.fibres_per_mast' must be a whole"),
        ({"cost": {"cable_eur_per_m": -1}}, "cost.cable_eur_per_m must be >= 0"),
    ],
)
def test_parameters_refuse_bad_overrides(overrides: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        PlanParameters.from_dict(overrides)


def test_snapping_limit_matches_the_validator() -> None:
    assert PARAMS.network.max_snap_distance_m == DEFAULT_FAR_FROM_ROAD_ERROR_M


def test_link_budget() -> None:
    link = PARAMS.link
    assert link.loss_db(10_000, 4) == pytest.approx(3.5 + 0.4 + 1.0)
    assert link.fits(10_000, 4)
    assert not link.fits(30_000, 4)
