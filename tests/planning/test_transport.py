"""From the FttH node a mast joins to the CSU: chains, free fibres at every step, node roles,
leased links, the end-to-end budget, diversity up to the CSU, rents and the cost of ownership.

Hand-made layers along one road (x in metres), where the right answer is known.
"""

from __future__ import annotations

import pytest
from shapely.geometry import Point

from planning.parameters import PlanParameters
from planning.plan import MastStatus
from planning.validate import validate
from tests.helpers.plan_layers import at, frame, layers, mast, plan

ROAD = [("r1", "local", [(-6000, 0), (6000, 0)])]


def with_sites(data: dict, *sites: tuple[str, str, tuple[float, float]]) -> dict:
    data["sites"] = frame(
        {"id": [s[0] for s in sites], "kind": [s[1] for s in sites], "nom": ["x"] * len(sites)},
        [Point(at(*s[2])) for s in sites],
    )
    return data


def with_parents(data: dict, parents: dict[str, str]) -> dict:
    nodes = data["ftth_nodes"]
    nodes["parent"] = [parents.get(i) for i in nodes["id"]]
    return data


def params(**sections: dict) -> PlanParameters:
    return PlanParameters.from_dict(sections)


# --- chains and free fibres ---------------------------------------------------------------------


def test_free_fibres_are_needed_at_every_step_up_to_the_nro() -> None:
    # The PM has room for 12 masts, but its NRO for one: the second mast has nowhere to go.
    data = layers(
        roads=ROAD,
        nodes=[("NRO", "NRO", 2, (0, 0)), ("PM", "PM", 24, (1000, 0))],
        masts=[("A", (1100, 0), False), ("B", (1200, 0), False)],
    )
    result = plan(data)
    served = [m for m in result.masts if m.status is MastStatus.CONNECTED]
    assert len(served) == 1
    route = served[0].primary
    assert route.node_id == "PM" and route.chain == ("NRO",)
    other = next(m for m in result.masts if m.status is MastStatus.UNREACHABLE)
    assert "upstream" in other.reason


def test_the_chain_follows_the_parent_field_and_is_measured_along_the_network() -> None:
    # PM at x=1000, NRO "near" at 0 and "far" at 5000: the layer says the PM hangs off "far".
    data = layers(
        roads=ROAD,
        nodes=[
            ("near", "NRO", 48, (0, 0)),
            ("far", "NRO", 48, (5000, 0)),
            ("PM", "PM", 24, (1000, 0)),
        ],
        masts=[("A", (1000, 0), False)],
    )
    inferred = mast(plan(data), "A").primary
    given = mast(plan(with_parents(data, {"PM": "far"})), "A").primary
    assert inferred.node_id == given.node_id == "PM"
    assert inferred.chain == ("near",) and inferred.upstream_m == pytest.approx(1000, abs=1)
    assert given.chain == ("far",) and given.upstream_m == pytest.approx(4000, abs=1)
    assert given.yearly_rent > inferred.yearly_rent  # 4 km of leased fibre, not 1


def test_a_parent_of_the_wrong_kind_is_replaced_by_the_nearest_and_said() -> None:
    data = layers(
        roads=ROAD,
        nodes=[("N1", "NRO", 48, (-2000, 0)), ("PM", "PM", 24, (0, 0)), ("PBO", "PBO", 8, (50, 0))],
        masts=[("A", (0, 0), False)],
    )
    result = plan(with_parents(data, {"PM": "PBO"}))
    assert mast(result, "A").primary.chain == ("N1",)
    assert any("PM -> PBO" in note for note in result.notes)


def test_a_chamber_is_never_joined_and_a_pbo_only_with_the_operators_agreement() -> None:
    data = layers(
        roads=ROAD,
        nodes=[
            ("CH", "chamber", 24, (100, 0)),
            ("PBO", "PBO", 8, (200, 0)),
            ("PM", "PM", 24, (3000, 0)),
            ("NRO", "NRO", 96, (5000, 0)),
        ],
        masts=[("A", (0, 0), False)],
    )
    assert mast(plan(data), "A").primary.node_id == "PM"  # past the chamber and the PBO
    agreed = mast(plan(data, params(transport={"pbo_allowed": True})), "A").primary
    assert agreed.node_id == "PBO"
    assert agreed.chain == ("PM", "NRO")  # a PBO's fibres go back through its PM to the NRO
    assert agreed.upstream_m == pytest.approx(2800 + 2000, abs=1)


def test_a_network_without_nro_ends_its_chains_at_the_pm_and_says_so() -> None:
    data = layers(roads=ROAD, nodes=[("PM", "PM", 24, (0, 0))], masts=[("A", (500, 0), False)])
    result = plan(data)
    assert mast(result, "A").primary.chain == ()
    assert any("no NRO in ftth_nodes" in note for note in result.notes)


# --- to the CSU -----------------------------------------------------------------------------------


def test_the_route_reaches_the_csu_through_a_leased_link_and_the_budget_is_end_to_end() -> None:
    data = with_sites(
        layers(
            roads=ROAD,
            nodes=[("NRO", "NRO", 96, (0, 0)), ("PM", "PM", 24, (1000, 0))],
            masts=[("A", (1000, 0), False)],
        ),
        ("CSU", "csu", (-5000, 0)),
        ("GEND", "gendarmerie", (-6000, 0)),
    )
    result = plan(data)
    route = mast(result, "A").primary
    assert route.csu_id == "CSU"
    assert route.node_id == "PM" and route.chain == ("NRO",)
    assert route.csu_link_m == pytest.approx(5000, abs=1)
    assert route.total_length_m == pytest.approx(
        route.length_m + route.upstream_m + route.csu_link_m, abs=0.01
    )
    kinds = {(link.kind, link.from_id, link.to_id) for link in result.links}
    assert kinds == {("nro_csu", "NRO", "CSU"), ("csu_gendarmerie", "CSU", "GEND")}
    assert all(link.on_network for link in result.links)
    assert result.csu["id"] == "CSU"
    # Aggregated at the NRO (the default): the NRO-CSU segment has its own optics and budget.
    assert "+" in route.optics

    passive = mast(plan(data, params(transport={"aggregate_at_nro": False})), "A").primary
    link, per_km = PlanParameters().link, PlanParameters().transport.ftth_splices_per_km
    assert passive.optics == "LX10"  # 6 km end to end
    expected = (
        link.attenuation_db_per_km * passive.total_length_m / 1000
        + link.splice_loss_db * passive.splices
        + link.connector_loss_db * passive.connectors
    )
    assert passive.loss_db == pytest.approx(expected, abs=1e-2)
    assert passive.margin_db == pytest.approx(
        link.budget_db - expected - link.safety_margin_db, abs=1e-2
    )
    # patched at the NRO and where the leased link starts, beyond the two ends
    assert passive.connectors == link.connectors + len(passive.chain) + 1
    assert passive.splices == 1 + round(per_km * (passive.upstream_m + passive.csu_link_m) / 1000)


def test_a_csu_off_the_network_is_reached_as_the_crow_flies_with_a_detour() -> None:
    data = with_sites(
        layers(roads=ROAD, nodes=[("NRO", "NRO", 96, (0, 0))], masts=[("A", (300, 0), False)]),
        ("CSU", "csu", (0, 10_000)),
    )
    result = plan(data)
    (link,) = result.links
    assert not link.on_network
    assert link.length_m == pytest.approx(10_000 * PlanParameters().transport.off_network_detour)
    assert any("as the crow flies" in note for note in result.notes)


# --- diversity up to the CSU ----------------------------------------------------------------------


def _critical(nros: list[tuple[str, float]], pms: list[tuple[str, float, str]]) -> dict:
    """A critical mast at x=0 between two PMs; roads everywhere, and a CSU far west."""
    nodes = [(n, "NRO", 96, (x, 0)) for n, x in nros] + [(p, "PM", 24, (x, 0)) for p, x, _ in pms]
    data = layers(roads=ROAD, nodes=nodes, masts=[("A", (0, 0), True)])
    return with_sites(
        with_parents(data, {p: parent for p, _, parent in pms}), ("CSU", "csu", (0, 3000))
    )


def test_a_second_route_to_another_nro_shares_nothing_up_to_the_csu() -> None:
    data = _critical([("W", -5000), ("E", 5000)], [("PMW", -1000, "W"), ("PME", 1000, "E")])
    a = mast(plan(data), "A")
    assert a.secondary is not None
    assert {a.primary.node_id, a.secondary.node_id} == {"PMW", "PME"}
    assert set(a.primary.chain).isdisjoint(a.secondary.chain)
    assert a.diversity["disjoint"] is True and a.diversity["meets"] == []
    assert a.secondary_issue is None


def test_a_second_route_through_the_same_nro_says_where_it_meets_and_why() -> None:
    data = _critical([("N", 5000)], [("PMW", -1000, "N"), ("PME", 1000, "N")])
    result = plan(data)
    a = mast(result, "A")
    assert a.secondary is not None  # a second route still, better than none
    assert a.diversity["disjoint"] is False
    assert {"kind": "NRO", "id": "N"} in a.diversity["meets"]
    assert "NRO N" in a.secondary_issue and "none of the" in a.secondary_issue


# --- owners, rents and the cost of ownership -----------------------------------------------------


def _duct_or_trench() -> dict:
    # An Orange duct with room runs along the only road from the mast to the PM.
    data = layers(
        roads=[("r1", "secondary", [(0, 0), (2000, 0)])],
        routes=[("D1", "duct", 2, [(0, 0), (2000, 0)])],
        nodes=[("PM", "PM", 24, (0, 0))],
        masts=[("A", (2000, 0), False)],
    )
    data["ftth_routes"]["owner"] = ["Orange"]
    return data


def test_renting_a_duct_is_weighed_against_digging_over_the_horizon() -> None:
    short = plan(_duct_or_trench(), params(rent={"horizon_years": 1}))
    modes = {t.mode for t in short.trenches}
    assert modes == {"duct"}
    (duct,) = [t for t in short.trenches if t.mode == "duct"]
    rate = PlanParameters().rent.orange_duct_eur_per_m_year
    assert duct.owner == "Orange" and duct.route_id == "D1"
    assert duct.rent_year == pytest.approx(rate * duct.length_m, rel=1e-6)
    assert short.running_costs["rent_duct"] == pytest.approx(duct.rent_year, abs=0.01)
    assert short.tco == pytest.approx(short.total_cost + 1 * short.yearly_cost, abs=0.01)
    # Rented for 40 years, Orange's duct costs more than a secondary-road trench (70 €/m).
    long = plan(_duct_or_trench(), params(rent={"horizon_years": 40}))
    assert {t.mode for t in long.trenches} == {"trench"}
    assert all(t.rent_year == 0 for t in long.trenches)


# --- the validator --------------------------------------------------------------------------------


def _problems(data: dict) -> list[str]:
    from planning.layers import LayerSet

    report = validate(LayerSet(source=None, layers=data))
    return [str(p) for p in report.problems]


def test_validator_warns_of_missing_or_several_csu_bad_parents_and_fibres_in_chambers() -> None:
    base = layers(
        roads=ROAD,
        nodes=[
            ("NRO", "NRO", 96, (0, 0)),
            ("PM", "PM", 24, (100, 0)),
            ("CH", "chamber", 6, (200, 0)),
        ],
        masts=[("A", (300, 0), False)],
    )
    with_parents(base, {"PM": "nowhere", "NRO": "PM"})
    assert not any("sites" in p for p in _problems(base))  # no sites layer: nothing to say
    found = _problems(with_sites(base, ("G", "gendarmerie", (0, 0))))
    assert "sites:-: warning: no site of kind 'csu'" in " ".join(found)
    found = _problems(with_sites(base, ("C1", "csu", (0, 0)), ("C2", "csu", (10, 0))))
    text = "\n".join(found)
    assert "2 sites of kind 'csu' (C1, C2)" in text
    assert "ftth_nodes:PM: warning: parent 'nowhere' is not an id of ftth_nodes" in text
    assert "ftth_nodes:NRO: warning: a NRO has no parent" in text
    assert "ftth_nodes:CH: warning: a chamber holds no fibre" in text


def test_full_diversity_beyond_the_premium_is_priced_not_bought() -> None:
    # Cheapest second route: PME, under the first route's NRO. Sharing nothing: PMF, 4 km farther.
    data = _critical(
        [("N", -2000), ("F", 6000)],
        [("PMW", -1000, "N"), ("PME", 1000, "N"), ("PMF", 5000, "F")],
    )
    a = mast(plan(data), "A")
    assert a.secondary.node_id == "PME"
    assert a.diversity["disjoint"] is False
    assert (
        a.diversity["full_diversity_extra_eur"]
        > PlanParameters().transport.max_diversity_premium_eur
    )
    assert "max_diversity_premium_eur" in a.secondary_issue
    bought = mast(plan(data, params(transport={"max_diversity_premium_eur": 10_000_000})), "A")
    assert bought.secondary.node_id == "PMF" and bought.diversity["disjoint"] is True


def test_the_investment_holds_no_rent_and_the_tco_counts_it_once() -> None:
    result = plan(_duct_or_trench(), params(rent={"horizon_years": 1}))
    (duct,) = [t for t in result.trenches if t.mode == "duct"]
    # Laying in the duct only: its rent is a running cost, not an investment.
    assert duct.civil_cost == pytest.approx(PlanParameters().cost.duct_eur_per_m * duct.length_m)
    assert result.tco == pytest.approx(result.total_cost + result.yearly_cost, abs=0.01)


def test_a_link_too_long_for_its_optics_gets_relays_priced_as_switches() -> None:
    # The NRO is 150 km of road from the CSU: beyond long-reach optics (23 dB at 0.25 dB/km).
    data = with_sites(
        layers(
            roads=[("r1", "track", [(0, 0), (150_000, 0)])],
            nodes=[("NRO", "NRO", 96, (0, 0))],
            masts=[("A", (100, 0), False)],
        ),
        ("CSU", "csu", (150_000, 0)),
    )
    result = plan(data)
    (link,) = result.links
    assert link.length_m == pytest.approx(150_000, abs=1)
    assert link.relays >= 1
    p = PlanParameters()
    span = link.length_m / (link.relays + 1)
    assert span * p.optics.attenuation_db_per_km / 1000 < p.optics.budget_db
    assert link.access_cost == pytest.approx(
        p.rent.dark_fibre_access_eur + (1 + link.relays) * p.cost.nro_switch_eur
    )
    a = mast(result, "A")
    assert a.status is MastStatus.CONNECTED and a.primary.margin_db >= 0
    assert a.primary.optics.endswith("long-reach")
