"""The router: connect every mast to an FttH node with free fibres at the least total cost.

The problem is a Steiner tree with capacities: masts share trenches, every mast must reach some
FttH node, and a node serves only as many masts as it has free fibres for. A virtual root joined
to every FttH node with room (at the cost of connecting there) turns "reach any node" into one
Steiner tree over the root and the masts. Capacities are repaired in rounds: a node given more
masts than it can serve keeps the nearest ones; the others are routed again, with the trenches
already dug costing only their cable. Critical masts then get a second route, disjoint from the
first, to another node.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString

from planning.network import RoutableNetwork
from planning.parameters import CostParameters, PlanParameters
from planning.plan import (
    MastResult,
    MastStatus,
    Plan,
    Route,
    RouteRole,
    Splice,
    TransportLink,
    Trench,
)
from planning.steiner import steiner_tree
from planning.transport import Link, Transport, build_transport

Node = Hashable
Edge = tuple[Node, Node]
SteinerFunction = Callable[..., nx.Graph]
Progress = Callable[[str, int, int], None]

default_steiner: SteinerFunction = steiner_tree
"""Deterministic: its local search is bounded by work, not by the clock (see planning.steiner)."""

ROOT = ("__vigie_root__",)  # the virtual root, a tuple so it never collides with a real node
MAX_ROUNDS = 20
MAX_RELAYS = 10
"""Relay switches tried on one leased link before it is declared over its optical budget."""
CABLE_SIZE_FACTOR = {12: 1.0, 24: 1.3, 48: 1.9, 72: 2.5, 96: 3.1, 144: 4.2}
"""Price of a cable relative to a 12-fibre one, by fibre count. Estimate: no public price list
per fibre count was found (see DOMAIN.md); the ratios follow the usual shape of catalogue prices."""


def _silent(step: str, done: int, total: int) -> None:
    """No progress display."""


def edge_key(u: Node, v: Node) -> Edge:
    """One key per undirected edge, whatever the direction it is walked in."""
    return (u, v) if repr(u) <= repr(v) else (v, u)


@dataclass
class _State:
    """What the rounds share: capacity left per FttH node, and the edges already in the plan."""

    capacity: dict[Node, int]  # masts each FttH node can still serve (along its own chain too)
    transport: Transport  # chains to the NRO, joinability, leased links to the CSU
    routes: dict[tuple[str, RouteRole], tuple[Node, list[Node]]]  # (mast, role) -> (node, path)
    built: dict[Edge, list[tuple[str, RouteRole]]]  # edge -> routes laid along it


def _fresh_state(
    net: RoutableNetwork, params: PlanParameters, transport: Transport | None = None
) -> _State:
    """Nothing built yet; each FttH node serves as many masts as it has free fibres for."""
    fibres = params.network.fibres_per_mast
    return _State(
        capacity={
            node: int(net.graph.nodes[node].get("free_fibres", 0) or 0) // fibres
            for node in net.ftth_nodes.values()
        },
        transport=transport if transport is not None else build_transport(net, {}, params),
        routes={},
        built=defaultdict(list),
    )


def route_masts(
    net: RoutableNetwork,
    params: PlanParameters,
    *,
    steiner: SteinerFunction = default_steiner,
    progress: Progress | None = None,
    transport: Transport | None = None,
) -> Plan:
    """Plan the fibre of every mast of ``net``: trenches, cables, splices, statuses and costs.

    Parameters
    ----------
    net
        The routable network with masts and FttH nodes snapped on it.
    params
        Costs, network and link-budget parameters.
    steiner
        The Steiner tree function (``planning.steiner.steiner_tree``; networkx's has the same
        signature, for comparisons).
    progress
        ``progress(step, done, total)``, for a progress bar.
    transport
        Chains to the NRO and links to the CSU (`planning.transport.build_transport`); without
        it, the chains are inferred and routes end at the NRO.
    """
    report = progress or _silent
    graph = net.graph
    state = _fresh_state(net, params, transport)
    failures: dict[str, str] = {u.feature_id: u.reason for u in net.unsnapped if _is_mast(u)}
    pending = _reachable_masts(net, state, failures)

    total = len(pending)
    rounds = 0
    while pending and rounds < MAX_ROUNDS:
        rounds += 1
        report("routing", total - len(pending), total)
        accepted = _steiner_round(net, params, state, pending, steiner)
        if not accepted:
            break
        pending -= accepted
    report("routing", total - len(pending), total)
    for mast in sorted(pending):
        failures[mast] = (
            "every FttH node it can reach has no free fibre left (at the node or upstream of it)"
        )

    critical = sorted(
        m
        for m, node in net.mast_nodes.items()
        if graph.nodes[node].get("critical") and (m, RouteRole.PRIMARY) in state.routes
    )
    secondary_issues: dict[str, str] = {}
    diversity: dict[str, dict] = {}
    if critical:
        router = _DisjointRouter(net, params, state)
        for done, mast in enumerate(critical, start=1):
            issue = router.route(mast)
            if issue:
                secondary_issues[mast] = issue
            report("second routes", done, len(critical))
        diversity = router.diversity
    plan = _assemble(net, params, state, failures, secondary_issues)
    plan.masts = [
        dataclasses.replace(m, diversity=diversity[m.mast_id]) if m.mast_id in diversity else m
        for m in plan.masts
    ]
    return plan


def steiner_instance(
    net: RoutableNetwork, params: PlanParameters, transport: Transport | None = None
) -> tuple[nx.Graph, list[Node]]:
    """The router's first Steiner instance: the graph with the virtual root, and the terminals.

    The root is joined to every FttH node with room for one mast; the terminals are the root and
    every mast of the root's part of the network. Its optimum is a lower bound on the primary
    routing of the plan (capacities dropped), and benchmarks compare Steiner solvers on it.
    """
    state = _fresh_state(net, params, transport)
    routing = _routing_graph(net, params, state)
    if ROOT not in routing:
        return routing, []
    reachable = nx.node_connected_component(routing, ROOT)
    masts = [net.mast_nodes[m] for m in sorted(net.mast_nodes) if net.mast_nodes[m] in reachable]
    return routing.subgraph(reachable).copy(), [ROOT, *masts]


def _is_mast(unsnapped: object) -> bool:
    return getattr(unsnapped, "layer", "") == "masts"


def _reachable_masts(net: RoutableNetwork, state: _State, failures: dict[str, str]) -> set[str]:
    """Masts whose network component holds an FttH node with room; the others are reported."""
    component = {}
    for index, nodes in enumerate(nx.connected_components(net.graph)):
        for node in nodes:
            component[node] = index
    served = {component[n] for n in state.capacity if state.transport.room(state.capacity, n) > 0}
    pending = set()
    for mast, node in net.mast_nodes.items():
        if component.get(node) in served:
            pending.add(mast)
        else:
            failures[mast] = (
                "no FttH node it may join with free fibres in its part of the network "
                "(no road or FttH route leads to one)"
            )
    return pending


def _routing_graph(net: RoutableNetwork, params: PlanParameters, state: _State) -> nx.Graph:
    """The Steiner instance: edge weights with dug trenches at cable price, and the virtual root."""
    graph = net.graph
    cable = params.cost.cable_eur_per_m
    routing = nx.Graph()
    routing.add_weighted_edges_from(
        (u, v, _reuse_weight(data, cable) if edge_key(u, v) in state.built else data["weight"])
        for u, v, data in graph.edges(data=True)
    )
    transport = state.transport
    routing.add_weighted_edges_from(
        (ROOT, node, transport.root_cost(node))
        for node in state.capacity
        if transport.room(state.capacity, node) > 0
    )
    return routing


def _reuse_weight(data: dict, cable_per_m: float) -> float:
    """An edge already in the plan: the civil works are paid, a new cable is not."""
    return cable_per_m * float(data["length"])


def _steiner_round(
    net: RoutableNetwork,
    params: PlanParameters,
    state: _State,
    pending: set[str],
    steiner: SteinerFunction,
) -> set[str]:
    """One Steiner tree over the root and the pending masts; keep what the capacities allow."""
    routing = _routing_graph(net, params, state)
    if ROOT not in routing:  # no FttH node has room left anywhere
        return set()
    terminals = [ROOT, *(net.mast_nodes[m] for m in sorted(pending))]
    tree = steiner(routing, terminals, weight="weight")
    mast_of = {net.mast_nodes[m]: m for m in pending}
    accepted: set[str] = set()
    for child in sorted(tree.neighbors(ROOT), key=repr):
        # The subtree hanging from `child`: its masts, nearest (along the tree) first.
        lengths, paths = nx.single_source_dijkstra(tree, child, weight="weight")
        masts = sorted(
            (lengths[node], mast_of[node])
            for node in paths
            if node in mast_of and ROOT not in paths[node]
        )
        room = state.transport.room(state.capacity, child)
        for _, mast in masts[:room]:
            path = list(reversed(paths[net.mast_nodes[mast]]))  # mast -> FttH node
            _record(state, mast, RouteRole.PRIMARY, child, path)
            accepted.add(mast)
        # Taking ``room`` empties the scarcest node of the chain: the rest go elsewhere next round.
        state.transport.take(state.capacity, child, min(room, len(masts)))
    return accepted


def _record(state: _State, mast: str, role: RouteRole, node: Node, path: list[Node]) -> None:
    state.routes[(mast, role)] = (node, path)
    for u, v in itertools.pairwise(path):
        state.built[edge_key(u, v)].append((mast, role))


class _DisjointRouter:
    """Second routes for critical masts, on a compiled graph (one Dijkstra per mast)."""

    def __init__(self, net: RoutableNetwork, params: PlanParameters, state: _State) -> None:
        self.net, self.params, self.state = net, params, state
        graph = net.graph
        self.nodes = list(graph.nodes)
        self.index = {node: i for i, node in enumerate(self.nodes)}
        edges = list(graph.edges(data=True))
        self.keys = [edge_key(u, v) for u, v, _ in edges]
        self.u = np.array([self.index[u] for u, _, _ in edges], dtype=np.int64)
        self.v = np.array([self.index[v] for _, v, _ in edges], dtype=np.int64)
        self.weight = np.array([d["weight"] for _, _, d in edges], dtype=float)
        self.reuse = np.array(
            [_reuse_weight(d, params.cost.cable_eur_per_m) for _, _, d in edges], dtype=float
        )
        self.position = {key: k for k, key in enumerate(self.keys)}
        self.diversity: dict[str, dict] = {}

    def route(self, mast: str) -> str | None:
        """Route ``mast``'s second fibre, or say why there is none."""
        graph, state = self.net.graph, self.state
        node, path = state.routes[(mast, RouteRole.PRIMARY)]
        start = self.net.mast_nodes[mast]
        # The mast's own access (the few metres from its cabinet to the road) is shared;
        # everything beyond it must differ: no edge and no node of the first route.
        shared = 1 if graph.degree(start) == 1 and len(path) > 2 else 0
        source = path[shared]
        banned_nodes = {self.index[n] for n in path[shared + 1 :]}
        # The first route's fibres go on through ducts to its PM and NRO: not there either.
        for hop in state.transport.chain(node)[:-1]:
            banned_nodes |= {
                self.index[n] for n in state.transport.hops[hop].path if n in self.index
            }
        weights = self.weight.copy()
        built = np.array([bool(state.built.get(k)) for k in self.keys])
        weights[built] = self.reuse[built]
        for u, v in itertools.pairwise(path):
            weights[self.position[edge_key(u, v)]] = np.inf
        incident = np.isin(self.u, list(banned_nodes)) | np.isin(self.v, list(banned_nodes))
        weights[incident] = np.inf
        usable = np.isfinite(weights)
        n = len(self.nodes)
        # csgraph drops explicit zeros; a tiny epsilon keeps free edges (0-cost reuse) present.
        data = np.maximum(weights[usable], 1e-9)
        matrix = csr_matrix(
            (
                np.concatenate([data, data]),
                (
                    np.concatenate([self.u[usable], self.v[usable]]),
                    np.concatenate([self.v[usable], self.u[usable]]),
                ),
            ),
            shape=(n, n),
        )
        dist, pred = dijkstra(matrix, indices=self.index[source], return_predecessors=True)
        transport = state.transport
        candidates = sorted(
            (dist[self.index[other]] + transport.root_cost(other), repr(other), other)
            for other in state.capacity
            if other != node
            and transport.room(state.capacity, other) > 0
            and np.isfinite(dist[self.index[other]])
        )
        if not candidates:
            return (
                "no second route: no other FttH node with free fibres is reachable "
                "without using the first route's trenches"
            )
        footprint = {edge_key(u, v) for u, v in itertools.pairwise(path)}
        footprint |= transport.edges_of(node)
        target, meets, why = self._choose(mast, node, candidates, footprint)
        walk = [self.index[target]]
        while walk[-1] != self.index[source]:
            walk.append(int(pred[walk[-1]]))
        second = [self.nodes[i] for i in reversed(walk)]
        second = [start, *second] if shared else second
        _record(state, mast, RouteRole.SECONDARY, target, second)
        transport.take(state.capacity, target, 1)
        if not meets:
            return None
        where = "; ".join(_meet_text(m) for m in meets)
        return f"second route meets the first: {where} ({why})"

    def _choose(
        self,
        mast: str,
        node: Node,
        candidates: list[tuple[float, str, Node]],
        footprint: set[Edge],
    ) -> tuple[Node, list[dict], str]:
        """The second route's FttH node: the fewest meeting points among the candidates within
        the premium of the cheapest; a route sharing nothing beyond it is only priced, for the plan
        to say what full diversity would cost. Records the mast's ``diversity``."""
        premium = self.params.transport.max_diversity_premium_eur
        ceiling = candidates[0][0] + premium
        best: tuple[int, float, Node, list[dict]] | None = None
        full_cost: float | None = None
        for cost, _, other in candidates:
            meets = self._meets(node, other, footprint)
            if cost <= ceiling and (best is None or len(meets) < best[0]):
                best = (len(meets), cost, other, meets)
            if not meets:
                full_cost = cost
                break
        assert best is not None
        _, chosen_cost, target, meets = best
        diversity: dict = {"disjoint": not meets, "meets": meets}
        self.diversity[mast] = diversity
        if full_cost is not None and meets:
            extra = full_cost - chosen_cost
            diversity["full_diversity_extra_eur"] = round(extra, 2)
            why = (
                f"a second route sharing nothing with the first would cost {extra:,.0f} EUR more "
                f"over the horizon, {full_cost - candidates[0][0]:,.0f} EUR more than the "
                "cheapest second route: above transport.max_diversity_premium_eur "
                f"({premium:,.0f} EUR)"
            )
        else:
            why = (
                f"none of the {len(candidates)} FttH nodes with free fibres it can reach without "
                "the first route's trenches leads to the CSU by another PM, NRO and ducts"
            )
        if meets:
            diversity["why"] = why
        return target, meets, why

    def _meets(self, node: Node, other: Node, footprint: set[Edge]) -> list[dict]:
        """Where a second route joining at ``other`` would meet the first (joined at ``node``)."""
        graph, transport = self.net.graph, self.state.transport
        meets: list[dict] = []
        first_chain = set(transport.chain(node))
        for n in transport.chain(other):
            if n in first_chain:
                attrs = graph.nodes[n]
                meets.append({"kind": str(attrs.get("kind")), "id": str(attrs["feature_id"])})
        shared = transport.edges_of(other) & footprint
        if shared:
            length = sum(float(graph.edges[e]["length"]) for e in shared)
            routes = sorted({str(graph.edges[e].get("route_id")) for e in shared} - {"None"})
            meets.append({"kind": "duct", "length_m": round(length, 1), "routes": routes[:10]})
        a, b = transport.link_of(node), transport.link_of(other)
        if a is not None and b is not None and a.from_id != b.from_id and a.path and b.path:
            common = {edge_key(*e) for e in itertools.pairwise(a.path)} & {
                edge_key(*e) for e in itertools.pairwise(b.path)
            }
            if common:
                length = sum(float(graph.edges[e]["length"]) for e in common)
                meets.append({"kind": "csu_link", "length_m": round(length, 1)})
        return meets


def _meet_text(meet: dict) -> str:
    if meet["kind"] == "duct":
        return f"{meet['length_m']:.0f} m of FttH ducts upstream ({', '.join(meet['routes'])})"
    if meet["kind"] == "csu_link":
        return (
            f"the leased links of both NRO to the CSU run {meet['length_m']:.0f} m along the "
            "same roads (ask the lessor for diverse paths)"
        )
    return f"{meet['kind']} {meet['id']}"


def _trenches(
    net: RoutableNetwork, params: PlanParameters, state: _State
) -> tuple[list[Trench], dict[Edge, float], dict[Edge, float]]:
    """One trench per edge in the plan: how the cables are laid there, and what it costs."""
    graph = net.graph
    fibres_per_mast = params.network.fibres_per_mast
    costs = params.cost
    trenches: list[Trench] = []
    edge_cost: dict[Edge, float] = {}
    edge_rent: dict[Edge, float] = {}
    for key, users in sorted(state.built.items(), key=lambda item: repr(item[0])):
        data = graph.edges[key]
        length = float(data["length"])
        primaries = sorted({m for m, role in users if role is RouteRole.PRIMARY})
        secondaries = sorted({m for m, role in users if role is RouteRole.SECONDARY})
        cables = (1 if primaries else 0) + len(secondaries)
        mode, civil = _laying(data, cables)
        if mode in ("duct", "aerial"):
            # The router's price of reuse holds its rent over the horizon; the investment not:
            # the rent is a running cost (`Trench.rent_year`).
            horizon = params.rent.horizon_years
            civil -= float(data.get("rent_rate", 0.0) or 0.0) * length * horizon
        cable_cost = 0.0
        if primaries:
            cable_cost += _cable_cost(costs, len(primaries) * fibres_per_mast) * length
        cable_cost += len(secondaries) * _cable_cost(costs, fibres_per_mast) * length
        masts = tuple(sorted({m for m, _ in users}))
        reused = mode in ("duct", "aerial")
        rent = float(data.get("rent_rate", 0.0) or 0.0) * length * cables if reused else 0.0
        trenches.append(
            Trench(
                geometry=data["geometry"],
                mode=mode,
                road_kind=data.get("road_kind"),
                length_m=round(length, 2),
                civil_cost=round(civil, 2),
                cable_cost=round(cable_cost, 2),
                fibres=(len(primaries) + len(secondaries)) * fibres_per_mast,
                cables=cables,
                masts=masts,
                route_id=None if data.get("route_id") is None else str(data["route_id"]),
                owner=data.get("owner") if reused else None,
                rent_year=round(rent, 2),
            )
        )
        edge_cost[key] = civil + cable_cost
        edge_rent[key] = rent
    return trenches, edge_cost, edge_rent


def _assemble(
    net: RoutableNetwork,
    params: PlanParameters,
    state: _State,
    failures: dict[str, str],
    secondary_issues: dict[str, str],
) -> Plan:
    """Turn the recorded routes into trenches, splices, per-mast results and costs."""
    trenches, edge_cost, edge_rent = _trenches(net, params, state)
    branch_degree = _primary_degree(state)
    splices, closure_cost, closure_share = _splices(net, params, state, branch_degree)
    ftth_ids = {node: fid for fid, node in net.ftth_nodes.items()}
    share = _mast_shares(state, edge_cost, closure_share)
    rent_share = _mast_shares(state, edge_rent, {})
    per_route_connection = _route_connection_cost(params)
    results = _snapped_mast_results(
        net,
        params,
        state,
        failures=failures,
        secondary_issues=secondary_issues,
        share=share,
        rent_share=rent_share,
        degree=branch_degree,
        ftth_ids=ftth_ids,
        per_route_connection=per_route_connection,
    )
    results.extend(_unsnapped_mast_results(net))
    plan = Plan(
        trenches=trenches,
        masts=sorted(results, key=lambda m: m.mast_id),
        splices=splices,
        parameters=params.to_dict(),
    )
    plan.connection_cost = round(closure_cost + len(state.routes) * per_route_connection, 2)
    plan.routing_value = _routing_value(net, params, state)
    plan.horizon_years = params.rent.horizon_years
    plan.per_mast = not params.transport.aggregate_at_nro
    plan.links, plan.csu = _links(net, params, state)
    plan.notes.extend(state.transport.notes)
    return plan


def _links(
    net: RoutableNetwork, params: PlanParameters, state: _State
) -> tuple[list[TransportLink], dict[str, Any] | None]:
    """The leased links the routes use: each NRO's to the CSU, the CSU's to gendarmerie sites."""
    transport = state.transport
    if transport.csu is None:
        return [], None
    fibres = params.network.fibres_per_mast
    rent = params.rent
    per_nro: dict[Node, int] = defaultdict(int)
    for node, _ in state.routes.values():
        per_nro[transport.chain(node)[-1]] += 1
    links = []
    aggregate = params.transport.aggregate_at_nro
    for nro, routes in sorted(per_nro.items(), key=lambda item: repr(item[0])):
        link = transport.nro_links.get(nro)
        if link is None:
            continue
        km = link.length_m / 1000
        relays = 0
        if aggregate:  # one pair and a hosted switch per NRO, whatever the masts behind it
            relays = link_segment(params, link.length_m)[2]
            count = params.transport.link_fibres
            switches = 1 + relays
            rent_year = (
                count * km * rent.dark_fibre_eur_per_km_year
                + switches * rent.nro_hosting_eur_per_year
            )
            one_off = rent.dark_fibre_access_eur + switches * params.cost.nro_switch_eur
        else:
            count = routes * fibres
            rent_year = count * km * rent.dark_fibre_eur_per_km_year
            one_off = rent.dark_fibre_access_eur
        links.append(_leased(link, count, rent_year, one_off, relays))
    if links:  # the gendarmerie watches the same pictures: a pair, switched at both ends
        for link in transport.gendarmerie_links:
            relays = link_segment(params, link.length_m)[2]
            km = link.length_m / 1000
            rent_year = 2 * km * rent.dark_fibre_eur_per_km_year
            rent_year += relays * rent.nro_hosting_eur_per_year
            one_off = rent.dark_fibre_access_eur + relays * params.cost.nro_switch_eur
            links.append(_leased(link, 2, rent_year, one_off, relays))
    csu = transport.csu
    where = {"id": csu.site_id, "nom": csu.nom, "x": csu.point.x, "y": csu.point.y}
    return links, where


def _leased(
    link: Link, fibres: int, rent_year: float, one_off: float, relays: int
) -> TransportLink:
    return TransportLink(
        link.from_id,
        link.to_id,
        link.kind,
        link.geometry,
        round(link.length_m, 2),
        fibres,
        link.on_network,
        round(rent_year, 2),
        one_off,
        relays,
    )


def _mast_shares(
    state: _State, edge_cost: dict[Edge, float], closure_share: dict[str, float]
) -> dict[str, float]:
    """What each mast owes for its closures and edges: an edge is split evenly between its masts.

    Shared trenches are paid once, so no mast is charged for the whole of a trench it shares.
    """
    share: dict[str, float] = defaultdict(float, closure_share)
    for key, users in state.built.items():
        masts = {m for m, _ in users}
        for mast in masts:
            share[mast] += edge_cost[key] / len(masts)
    return share


def _route_connection_cost(params: PlanParameters) -> float:
    """Paid once per route at its FttH node: the connection, and a splice per fibre of the mast."""
    costs = params.cost
    return costs.ftth_connection_eur + params.network.fibres_per_mast * costs.fibre_splice_eur


def _snapped_mast_results(
    net: RoutableNetwork,
    params: PlanParameters,
    state: _State,
    *,
    failures: dict[str, str],
    secondary_issues: dict[str, str],
    share: dict[str, float],
    rent_share: dict[str, float],
    degree: dict[Node, int],
    ftth_ids: dict[Node, str],
    per_route_connection: float,
) -> list[MastResult]:
    """One result per mast on the network, by mast id: why it failed, or its routes and cost."""
    results = []
    for mast, node in sorted(net.mast_nodes.items()):
        fields = _mast_fields(mast, net.graph.nodes[node])
        if mast in failures:
            results.append(
                MastResult(**fields, status=MastStatus.UNREACHABLE, reason=failures[mast])
            )
            continue
        primary, secondary = _mast_routes(
            net, params, state, mast, degree=degree, ftth_ids=ftth_ids
        )
        status, reason = _budget_status(primary, secondary)
        routes = 1 + (secondary is not None)
        leased = primary.yearly_rent + (secondary.yearly_rent if secondary else 0.0)
        results.append(
            MastResult(
                **fields,
                status=status,
                reason=reason,
                cost=round(share[mast] + routes * per_route_connection, 2),
                primary=primary,
                secondary=secondary,
                secondary_issue=secondary_issues.get(mast),
                yearly_cost=round(rent_share.get(mast, 0.0) + leased, 2),
            )
        )
    return results


def _mast_fields(mast: str, attrs: dict[str, Any]) -> dict[str, Any]:
    """The fields every mast result has, routed or not, read from the mast's graph node."""
    return {
        "mast_id": mast,
        "commune": str(attrs.get("commune", "")),
        "geometry": shapely.Point(attrs["x"], attrs["y"]) if "x" in attrs else attrs["point"],
        "critical": bool(attrs.get("critical", False)),
        "cameras": int(attrs.get("cameras", 1)),
    }


def _mast_routes(
    net: RoutableNetwork,
    params: PlanParameters,
    state: _State,
    mast: str,
    *,
    degree: dict[Node, int],
    ftth_ids: dict[Node, str],
) -> tuple[Route, Route | None]:
    """A routed mast's primary route, and its second route when it is critical and got one."""
    primary = _route(net, params, state, mast, RouteRole.PRIMARY, degree=degree, ftth_ids=ftth_ids)
    secondary = None
    if (mast, RouteRole.SECONDARY) in state.routes:
        secondary = _route(
            net, params, state, mast, RouteRole.SECONDARY, degree=degree, ftth_ids=ftth_ids
        )
    return primary, secondary


def _budget_status(primary: Route, secondary: Route | None) -> tuple[MastStatus, str | None]:
    """Over budget if either route loses too much light; the reason names the worst one."""
    over = [r for r in (primary, secondary) if r is not None and r.margin_db < 0]
    status = MastStatus.OVER_BUDGET if over else MastStatus.CONNECTED
    reason = None
    if over:
        worst = min(over, key=lambda r: r.margin_db)
        reason = (
            f"{worst.role} route of {worst.length_m / 1000:.1f} km loses "
            f"{worst.loss_db:.1f} dB: {-worst.margin_db:.1f} dB over the budget"
        )
    return status, reason


def _unsnapped_mast_results(net: RoutableNetwork) -> list[MastResult]:
    """Masts that never reached the network: still in the plan, unreachable, with the reason."""
    results = []
    for item in net.unsnapped:
        if _is_mast(item) and item.feature_id not in net.mast_nodes:
            results.append(
                MastResult(
                    mast_id=item.feature_id,
                    commune=str(getattr(item, "commune", "") or ""),
                    geometry=getattr(item, "geometry", None) or shapely.Point(),
                    critical=False,
                    cameras=0,
                    status=MastStatus.UNREACHABLE,
                    reason=item.reason,
                )
            )
    return results


def _routing_value(net: RoutableNetwork, params: PlanParameters, state: _State) -> float:
    """The primary routes on the router's own weights, FttH connections included.

    The lower bound (`planning.pipeline.primary_bound`) is on these weights, so the gap is
    measured against this value rather than against the plan's cost.
    """
    primary_edges = [
        key for key, users in state.built.items() if any(r is RouteRole.PRIMARY for _, r in users)
    ]
    used_nodes = {
        node for (_, role), (node, _) in state.routes.items() if role is RouteRole.PRIMARY
    }
    return round(
        sum(net.graph.edges[key]["weight"] for key in primary_edges)
        + sum(state.transport.root_cost(node) for node in used_nodes),
        2,
    )


def _laying(data: dict, cables: int) -> tuple[str, float]:
    """How the cables are laid along an edge, and what it costs: reuse only where there is room."""
    modes: dict[str, float] = data["modes"]
    spare = int(data.get("spare", 0) or 0)
    usable = {
        mode: cost
        for mode, cost in modes.items()
        if mode == "trench" or (mode in ("duct", "aerial") and spare >= cables)
    }
    if not usable:  # no trench along an FttH-only edge with a full duct: dig anyway
        usable = {"trench": max(modes.values())}
    mode = min(usable, key=lambda m: usable[m])
    return mode, float(usable[mode])


def cable_size(fibres: int) -> int:
    """The smallest standard cable holding ``fibres`` (the largest when none does)."""
    return next((s for s in CABLE_SIZE_FACTOR if s >= fibres), max(CABLE_SIZE_FACTOR))


def _cable_cost(costs: CostParameters, fibres: int) -> float:
    """€/m of the smallest standard cable holding ``fibres``."""
    return costs.cable_eur_per_m * CABLE_SIZE_FACTOR[cable_size(fibres)]


def _primary_degree(state: _State) -> dict[Node, int]:
    degree: dict[Node, int] = defaultdict(int)
    for (u, v), users in state.built.items():
        if any(role is RouteRole.PRIMARY for _, role in users):
            degree[u] += 1
            degree[v] += 1
    return degree


def _splices(
    net: RoutableNetwork, params: PlanParameters, state: _State, degree: dict[Node, int]
) -> tuple[list[Splice], float, dict[str, float]]:
    """Closures at the FttH nodes used and where primary cables branch; their cost, per mast too."""
    graph = net.graph
    fibres = params.network.fibres_per_mast
    closure = params.cost.splice_closure_eur
    served: dict[Node, list[str]] = defaultdict(list)
    passing: dict[Node, list[str]] = defaultdict(list)
    for (mast, role), (node, path) in state.routes.items():
        served[node].append(mast)
        if role is RouteRole.PRIMARY:
            for inner in path[1:-1]:
                passing[inner].append(mast)
    ftth = {node: fid for fid, node in net.ftth_nodes.items()}
    masts = set(net.mast_nodes.values())
    splices = []
    share: dict[str, float] = defaultdict(float)
    for node, users in sorted(served.items(), key=lambda item: repr(item[0])):
        splices.append(
            Splice(_point(graph, node), "ftth_node", ftth.get(node), len(users) * fibres)
        )
        for mast in users:
            share[mast] += closure / len(users)
    for node, deg in sorted(degree.items(), key=lambda item: repr(item[0])):
        if deg >= 3 and node not in ftth and node not in masts:
            users = passing[node]
            splices.append(Splice(_point(graph, node), "branch", None, len(users) * fibres))
            for mast in users:
                share[mast] += closure / len(users)
    return splices, len(splices) * closure, share


def _point(graph: nx.Graph, node: Node) -> shapely.Point:
    attrs = graph.nodes[node]
    if "point" in attrs:
        return attrs["point"]
    return shapely.Point(attrs["x"], attrs["y"])


def _route(
    net: RoutableNetwork,
    params: PlanParameters,
    state: _State,
    mast: str,
    role: RouteRole,
    *,
    degree: dict[Node, int],
    ftth_ids: dict[Node, str],
) -> Route:
    node, path = state.routes[(mast, role)]
    graph = net.graph
    pieces = [net.edge_geometry(u, v) for u, v in itertools.pairwise(path)]
    geometry = _join(pieces)
    length = sum(float(graph.edges[u, v]["length"]) for u, v in itertools.pairwise(path))
    # A splice at the FttH node, one in every branching closure the fibre passes through.
    branches = (
        sum(1 for n in path[1:-1] if degree.get(n, 0) >= 3) if role is RouteRole.PRIMARY else 0
    )
    splices = 1 + branches
    transport = state.transport
    chain = transport.chain(node)
    upstream = transport.upstream_m(node)
    link = transport.link_of(node)
    csu_m = link.length_m if link is not None else 0.0
    # On the way up: the FttH cables' own splices, and a patch (connector pair) at each PM or
    # NRO passed and where the leased link starts.
    per_km = params.transport.ftth_splices_per_km
    budget = params.link
    connectors = budget.connectors + (len(chain) - 1)
    if link is not None and params.transport.aggregate_at_nro:
        # Two segments: the mast's optics to the NRO switch, the switch's to the CSU.
        splices += round(per_km * upstream / 1000)
        optics, loss, margin = _optics(params, length + upstream, splices, connectors)
        link_optics, link_margin, _ = link_segment(params, csu_m)
        margin = min(margin, link_margin)
        optics = f"{optics} + {link_optics}"
    else:  # one passive segment, patched at each PM and NRO and where the leased link starts
        splices += round(per_km * (upstream + csu_m) / 1000)
        connectors += 1 if link is not None else 0
        optics, loss, margin = _optics(params, length + upstream + csu_m, splices, connectors)
    return Route(
        mast_id=mast,
        node_id=ftth_ids[node],
        node_kind=str(graph.nodes[node].get("kind", "")),
        role=role,
        geometry=geometry,
        length_m=round(length, 2),
        splices=splices,
        connectors=connectors,
        loss_db=round(loss, 3),
        margin_db=round(margin, 3),
        chain=tuple(ftth_ids[n] for n in chain[1:]),
        upstream_m=round(upstream, 2),
        csu_id=link.to_id if link is not None else None,
        csu_link_m=round(csu_m, 2),
        optics=optics,
        yearly_rent=round(transport.yearly_per_mast(node), 2),
    )


def link_segment(params: PlanParameters, length_m: float) -> tuple[str, float, int]:
    """The optics of an aggregated NRO-to-CSU link, its margin, and the relay switches it needs.

    A link longer than long-reach optics hold is cut by relays (a switch hosted midway, at another
    NRO or a technical site) into equal spans that fit: the margin is a span's.
    """
    per_km = params.transport.ftth_splices_per_km
    connectors = params.link.connectors
    relays = 0
    while True:
        span = length_m / (relays + 1)
        optics, _, margin = _optics(params, span, round(per_km * span / 1000), connectors)
        if margin >= 0 or relays >= MAX_RELAYS:
            return optics, margin, relays
        relays += 1


def _optics(
    params: PlanParameters, length_m: float, splices: int, connectors: int
) -> tuple[str, float, float]:
    """The cheapest optics the link fits with (LX10, else long-reach), its loss and margin."""
    link, long_reach = params.link, params.optics
    fixed = link.splice_loss_db * splices + link.connector_loss_db * connectors
    loss = link.attenuation_db_per_km * length_m / 1000 + fixed
    margin = link.budget_db - loss - link.safety_margin_db
    if margin >= 0:
        return "LX10", loss, margin
    far = long_reach.attenuation_db_per_km * length_m / 1000 + fixed
    far_margin = long_reach.budget_db - far - link.safety_margin_db
    if far_margin > margin:
        return "long-reach", far, far_margin
    return "LX10", loss, margin  # neither holds: the one that comes closest


def _join(pieces: Iterable[LineString]) -> LineString:
    """Concatenate oriented pieces into one line (a mast on its FttH node gives a point-line)."""
    coords: list[tuple[float, ...]] = []
    for piece in pieces:
        points = list(piece.coords)
        coords.extend(points if not coords else points[1:])
    if len(coords) < 2:
        coords = coords * 2 if coords else [(0.0, 0.0), (0.0, 0.0)]
    return LineString(coords)
