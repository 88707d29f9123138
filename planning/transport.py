"""From the FttH node a mast joins to the supervision centre (CSU): which nodes may be joined,
the fibres each step still has free, the path and length of each step, and what it costs a year.

A mast's fibres join the FttH network at a node, then follow the operator's own fibres upstream
(PBO -> PM -> NRO, along the FttH routes), then a leased dark fibre from the NRO to the CSU.
Every node of that chain must have fibres free for the mast. A chamber holds no fibre and is never
joined; a PBO only with the operator's agreement (`TransportParameters.pbo_allowed`).

The upstream node of each FttH node is its ``parent`` field when given, else the nearest node of
the next level along the FttH routes (the note says how many were inferred). Pure: the routable
network and the ``sites`` layer in, a `Transport` out.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString, Point

from planning.network import RoutableNetwork
from planning.parameters import PlanParameters

Node = Hashable


@dataclass(frozen=True)
class Site:
    site_id: str
    kind: str  # csu, gendarmerie, nro
    nom: str
    point: Point


@dataclass(frozen=True)
class Hop:
    """One step of a chain: from an FttH node to its parent, along the network's own paths."""

    path: tuple[Node, ...]  # graph nodes, child first
    length_m: float
    on_routes: bool  # False: no FttH route links them, the length is measured along roads


@dataclass(frozen=True)
class Link:
    """A leased link: NRO to CSU, or CSU to a gendarmerie site (estimated course along roads)."""

    from_id: str
    to_id: str
    kind: str  # "nro_csu" or "csu_gendarmerie"
    path: tuple[Node, ...]  # graph nodes; empty when off the network
    geometry: LineString
    length_m: float
    on_network: bool


@dataclass
class Transport:
    """Chains to the NRO, capacities along them, and the leased links to the CSU."""

    csu: Site | None
    parent: dict[Node, Node] = field(default_factory=dict)
    hops: dict[Node, Hop] = field(default_factory=dict)  # child graph node -> hop to its parent
    refused: dict[Node, str] = field(default_factory=dict)  # graph node -> why it cannot be joined
    nro_links: dict[Node, Link] = field(default_factory=dict)  # NRO graph node -> link to the CSU
    gendarmerie_links: list[Link] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    params: PlanParameters = field(default_factory=PlanParameters)

    def chain(self, node: Node) -> tuple[Node, ...]:
        """``node``, its parent, ... up to its NRO (just ``node`` for an NRO; the chain stops
        earlier where the layer has no node of the next level)."""
        out = [node]
        while out[-1] in self.parent:
            out.append(self.parent[out[-1]])
        return tuple(out)

    def joinable(self, node: Node) -> bool:
        return node not in self.refused

    def room(self, capacity: dict[Node, int], node: Node) -> int:
        """Masts that can still join at ``node``: the fewest free along its chain."""
        if node in self.refused:
            return 0
        return min(capacity.get(n, 0) for n in self.chain(node))

    def take(self, capacity: dict[Node, int], node: Node, masts: int) -> None:
        for n in self.chain(node):
            capacity[n] = capacity.get(n, 0) - masts

    def upstream_m(self, node: Node) -> float:
        """Metres of FttH fibre from ``node`` to its NRO."""
        return sum(self.hops[n].length_m for n in self.chain(node)[:-1])

    def link_of(self, node: Node) -> Link | None:
        """The leased link from the NRO of ``node``'s chain to the CSU (None without a CSU)."""
        return self.nro_links.get(self.chain(node)[-1])

    def yearly_per_mast(self, node: Node) -> float:
        """€ a year one mast joining at ``node`` pays for its leased fibres up to the CSU."""
        rent = self.params.rent
        fibres = self.params.network.fibres_per_mast
        link = self.link_of(node)
        # Aggregated at the NRO, the link to the CSU is the NRO's, not the mast's.
        passive = link is not None and not self.params.transport.aggregate_at_nro
        dark = link.length_m if passive else 0.0
        return fibres * (
            self.upstream_m(node) / 1000 * rent.ftth_fibre_eur_per_km_year
            + dark / 1000 * rent.dark_fibre_eur_per_km_year
        )

    def root_cost(self, node: Node) -> float:
        """The router's price of joining at ``node``: the connection, and the rents over the
        horizon, so a join far from its NRO or the CSU costs what it will cost."""
        return self.params.cost.ftth_connection_eur + (
            self.params.rent.horizon_years * self.yearly_per_mast(node)
        )

    def edges_of(self, node: Node) -> set[tuple[Node, Node]]:
        """Graph edges (as sorted-repr keys) the chain of ``node`` runs along."""
        out: set[tuple[Node, Node]] = set()
        for n in self.chain(node)[:-1]:
            out |= {_key(a, b) for a, b in itertools.pairwise(self.hops[n].path)}
        return out


def _key(u: Node, v: Node) -> tuple[Node, Node]:
    return (u, v) if repr(u) <= repr(v) else (v, u)


def read_sites(layers: dict[str, gpd.GeoDataFrame]) -> list[Site]:
    """The ``sites`` layer as `Site` objects (empty without the layer)."""
    gdf = layers.get("sites")
    if gdf is None or not len(gdf):
        return []
    noms = gdf["nom"] if "nom" in gdf else [""] * len(gdf)
    return [
        Site(str(i), str(k), "" if n is None else str(n), g)
        for i, k, n, g in zip(gdf["id"], gdf["kind"], noms, gdf.geometry, strict=True)
        if g is not None and not g.is_empty
    ]


def build_transport(
    net: RoutableNetwork, layers: dict[str, gpd.GeoDataFrame], params: PlanParameters
) -> Transport:
    """Chains, joinability and leased links of every FttH node of ``net`` (see module doc)."""
    sites = read_sites(layers)
    csus = [s for s in sites if s.kind == "csu"]
    transport = Transport(csu=csus[0] if csus else None, params=params)
    if len(csus) > 1:
        transport.notes.append(
            f"{len(csus)} CSU sites: the plan leads every mast to the first, {csus[0].site_id}"
        )
    graph = net.graph
    compiled = CompiledGraph.of(net)
    by_kind: dict[str, list[Node]] = {k: [] for k in ("NRO", "PM", "PBO", "chamber")}
    for node in net.ftth_nodes.values():
        by_kind.setdefault(str(graph.nodes[node].get("kind")), []).append(node)
    for node in by_kind["chamber"]:
        transport.refused[node] = "a chamber is civil works: no fibre to join there"
    if not params.transport.pbo_allowed:
        for node in by_kind["PBO"]:
            transport.refused[node] = (
                "a PBO's fibres serve subscribers: joining there needs the operator's agreement "
                "(parameter transport.pbo_allowed)"
            )
    _link_parents(net, compiled, transport, by_kind)
    off_routes = sum(not hop.on_routes for hop in transport.hops.values())
    if off_routes:
        transport.notes.append(
            f"{off_routes} FttH nodes are linked to their parent by no FttH route: the fibre "
            "between them is measured along the roads (check the ftth_routes layer)"
        )
    if transport.csu is not None:
        tops = [
            n
            for kind in ("NRO", "PM", "PBO")
            for n in by_kind.get(kind, [])
            if n not in transport.parent and n not in transport.refused
        ]
        _link_sites(net, compiled, transport, sites, [*by_kind["NRO"], *tops])
    else:
        transport.notes.append(
            "no CSU in the sites layer: routes end at the NRO, and no link to the supervision "
            "centre is planned or priced"
        )
    return transport


# --- chains ------------------------------------------------------------------------------------


@dataclass
class CompiledGraph:
    """The graph as scipy arrays: all edges by length, and the FttH-route edges alone (shared by
    the transport links and the low-voltage links of `planning.supply`)."""

    nodes: list[Node]
    index: dict[Node, int]
    all_edges: csr_matrix
    route_edges: csr_matrix
    xy: np.ndarray
    edge_ends: np.ndarray  # (m, 2) node indices of each edge
    edge_geoms: np.ndarray  # their geometries, for anchoring a site on the nearest one
    tree: shapely.STRtree | None = field(default=None, repr=False)  # built on first anchor

    @classmethod
    def of(cls, net: RoutableNetwork) -> CompiledGraph:
        graph = net.graph
        nodes = list(graph.nodes)
        index = {n: i for i, n in enumerate(nodes)}
        u, v, length, ftth, geoms = [], [], [], [], []
        for a, b, data in graph.edges(data=True):
            u.append(index[a])
            v.append(index[b])
            length.append(max(float(data["length"]), 1e-6))
            ftth.append(data.get("route_id") is not None or bool(data.get("access")))
            geoms.append(data["geometry"])
        u_, v_ = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
        w, keep = np.asarray(length), np.asarray(ftth, dtype=bool)
        n = len(nodes)

        def matrix(mask: np.ndarray) -> csr_matrix:
            rows = np.concatenate([u_[mask], v_[mask]])
            cols = np.concatenate([v_[mask], u_[mask]])
            return csr_matrix((np.concatenate([w[mask], w[mask]]), (rows, cols)), shape=(n, n))

        xy = np.array([[graph.nodes[x]["x"], graph.nodes[x]["y"]] for x in nodes]).reshape(-1, 2)
        ends = np.stack([u_, v_], axis=1) if len(u_) else np.empty((0, 2), dtype=np.int64)
        edge_geoms = np.empty(len(geoms), dtype=object)
        edge_geoms[:] = geoms
        return cls(nodes, index, matrix(np.ones(len(w), bool)), matrix(keep), xy, ends, edge_geoms)

    def anchor(self, point: Point, max_m: float) -> list[tuple[int, float]]:
        """The two ends of the edge nearest ``point`` and the metres to each along it (off-road
        distance included); empty when no edge lies within ``max_m``."""
        if not len(self.edge_geoms):
            return []
        if self.tree is None:
            self.tree = shapely.STRtree(self.edge_geoms)
        found = self.tree.query_nearest(point, max_distance=max_m)
        if not len(found):
            return []
        k = int(found[0])
        line = self.edge_geoms[k]
        off, along, total = line.distance(point), line.project(point), line.length
        u, v = (int(x) for x in self.edge_ends[k])
        first = Point(line.coords[0])
        if first.distance(Point(*self.xy[u])) > first.distance(Point(*self.xy[v])):
            u, v = v, u  # the line is stored from v to u
        return [(u, off + along), (v, off + total - along)]

    def with_source(self, anchors: list[tuple[int, float]]) -> csr_matrix:
        """`all_edges` with one more node (index ``len(nodes)``) joined to ``anchors``."""
        n = len(self.nodes)
        extra_rows = [n] * len(anchors) + [a for a, _ in anchors]
        extra_cols = [a for a, _ in anchors] + [n] * len(anchors)
        extra_w = [max(d, 1e-6) for _, d in anchors] * 2
        coo = self.all_edges.tocoo()
        return csr_matrix(
            (
                np.concatenate([coo.data, extra_w]),
                (np.concatenate([coo.row, extra_rows]), np.concatenate([coo.col, extra_cols])),
            ),
            shape=(n + 1, n + 1),
        )

    def walk(self, pred: np.ndarray, target: int, source_row: int | None = None) -> list[Node]:
        """The path ending at ``target`` from a predecessor row, target first."""
        row = pred if source_row is None else pred[source_row]
        out = [target]
        while row[out[-1]] >= 0:
            out.append(int(row[out[-1]]))
        return [self.nodes[i] for i in out if i < len(self.nodes)]  # not a virtual source


def _link_parents(
    net: RoutableNetwork,
    compiled: CompiledGraph,
    transport: Transport,
    by_kind: dict[str, list[Node]],
) -> None:
    """The parent of each PBO and PM, given or inferred, and the hop to it."""
    graph = net.graph
    ids = {str(fid): node for fid, node in net.ftth_nodes.items()}
    inferred = {"PBO": 0, "PM": 0}
    broken: list[str] = []
    for kind, upper in (("PBO", "PM"), ("PM", "NRO")):
        children = by_kind.get(kind, [])
        parents = by_kind.get(upper, [])
        if not children:
            continue
        if not parents:  # a partial delivery: the chain ends here, and the plan says so
            transport.notes.append(
                f"no {upper} in ftth_nodes: the fibres of {len(children)} {kind} are taken to "
                f"reach the CSU from the {kind} itself"
            )
            continue
        given = _given_parents(graph, ids, children, upper, broken)
        nearest = _nearest(compiled, parents, [c for c in children if c not in given])
        for child in children:
            if child in given:
                parent = given[child]
            elif child in nearest:
                parent = nearest[child]
                inferred[kind] += 1
            else:
                transport.refused.setdefault(
                    child, f"no {upper} upstream of this {kind}: no road or FttH route leads to one"
                )
                continue
            transport.parent[child] = parent
        _hops(compiled, transport, children)
    if broken:
        transport.notes.append(
            f"{len(broken)} FttH nodes name a parent that is not a node of the next level up; "
            f"their parent was inferred instead: {', '.join(broken[:5])}"
            + (" ..." if len(broken) > 5 else "")
        )
    for kind, count in inferred.items():
        if count:
            upper = "PM" if kind == "PBO" else "NRO"
            transport.notes.append(
                f"{count} {kind} without a parent field: each linked to its nearest {upper} "
                "along the FttH routes (or the roads where no route leads to one)"
            )


def _given_parents(
    graph: Any, ids: dict[str, Node], children: list[Node], upper: str, broken: list[str]
) -> dict[Node, Node]:
    """The parents the layer names, where they are nodes of the right kind (others in broken)."""
    given: dict[Node, Node] = {}
    for child in children:
        ref = graph.nodes[child].get("parent")
        target = ids.get(str(ref)) if ref else None
        if ref and (target is None or graph.nodes[target].get("kind") != upper):
            broken.append(f"{graph.nodes[child]['feature_id']} -> {ref}")
        elif target is not None:
            given[child] = target
    return given


def _nearest(compiled: CompiledGraph, sources: list[Node], targets: list[Node]) -> dict[Node, Node]:
    """Each target's nearest source along FttH routes, else along any edge."""
    if not sources or not targets:
        return {}
    src = [compiled.index[s] for s in sources]
    out: dict[Node, Node] = {}
    left = [compiled.index[t] for t in targets]
    for matrix in (compiled.route_edges, compiled.all_edges):
        if not left:
            break
        dist, _, origin = dijkstra(
            matrix, directed=False, indices=src, min_only=True, return_predecessors=True
        )
        still = []
        for t in left:
            if np.isfinite(dist[t]) and origin[t] >= 0:
                out[compiled.nodes[t]] = compiled.nodes[int(origin[t])]
            else:
                still.append(t)
        left = still
    return out


HOP_BATCH = 32
"""Parents searched from at once when a child's parent is not its nearest (bounds the memory:
one row of distances per parent over the whole graph)."""


def _hops(compiled: CompiledGraph, transport: Transport, children: list[Node]) -> None:
    """The path from each child to its parent: along FttH routes where they link them.

    One search from all parents at once serves every child whose parent is also its nearest
    (the usual case); the others are searched from their parent, a batch at a time.
    """
    want = {
        compiled.index[c]: compiled.index[transport.parent[c]]
        for c in children
        if c in transport.parent
    }

    def record(child: int, path: list[Node], length: float, on_routes: bool) -> None:
        transport.hops[compiled.nodes[child]] = Hop(tuple(path), length, on_routes)
        del want[child]

    for matrix, on_routes in ((compiled.route_edges, True), (compiled.all_edges, False)):
        if not want:
            break
        dist, pred, origin = dijkstra(
            matrix,
            directed=False,
            indices=sorted(set(want.values())),
            min_only=True,
            return_predecessors=True,
        )
        for child, parent in list(want.items()):
            if np.isfinite(dist[child]) and origin[child] == parent:
                record(child, compiled.walk(pred, child), float(dist[child]), on_routes)
        by_parent: dict[int, list[int]] = {}
        for child, parent in want.items():
            by_parent.setdefault(parent, []).append(child)
        parents = sorted(by_parent)
        for start in range(0, len(parents), HOP_BATCH):
            batch = parents[start : start + HOP_BATCH]
            dist, pred = dijkstra(matrix, directed=False, indices=batch, return_predecessors=True)
            for k, parent in enumerate(batch):
                for child in by_parent[parent]:
                    if np.isfinite(dist[k, child]):
                        path = compiled.walk(pred[k], child)
                        record(child, path, float(dist[k, child]), on_routes)
    for child, parent in want.items():  # not even linked by roads: measured straight, flagged
        a, b = compiled.xy[child], compiled.xy[parent]
        length = float(math.hypot(*(a - b))) * transport.params.transport.off_network_detour
        transport.hops[compiled.nodes[child]] = Hop(
            (compiled.nodes[child], compiled.nodes[parent]), length, False
        )


# --- leased links ------------------------------------------------------------------------------


def _link_sites(
    net: RoutableNetwork,
    compiled: CompiledGraph,
    transport: Transport,
    sites: list[Site],
    nros: list[Node],
) -> None:
    """The leased link of every NRO to the CSU, and of the CSU to each gendarmerie site."""
    csu = transport.csu
    assert csu is not None
    detour = transport.params.transport.off_network_detour
    snap_max = transport.params.network.max_snap_distance_m
    anchors = compiled.anchor(csu.point, snap_max)
    dist = pred = None
    offset = 0.0
    if anchors:  # the CSU as one more node, joined to the ends of its nearest edge
        dist, pred = dijkstra(
            compiled.with_source(anchors),
            directed=False,
            indices=len(compiled.nodes),
            return_predecessors=True,
        )
    graph = net.graph
    for nro in dict.fromkeys(nros):
        fid = str(graph.nodes[nro]["feature_id"])
        transport.nro_links[nro] = _link(
            compiled,
            fid,
            csu,
            nro,
            dist=dist,
            pred=pred,
            offset=offset,
            detour=detour,
            kind="nro_csu",
        )
    off = [lk.from_id for lk in transport.nro_links.values() if not lk.on_network]
    if off:
        transport.notes.append(
            f"{len(off)} NRO not linked to the CSU {csu.site_id} by roads: their leased link is "
            f"measured as the crow flies x {detour} ({', '.join(off[:5])})"
        )
    for site in sites:
        if site.kind != "gendarmerie":
            continue
        ends = compiled.anchor(site.point, snap_max)
        best = min(
            ((dist[i] + d, i, d) for i, d in ends if dist is not None), default=(np.inf, 0, 0.0)
        )
        node, extra = best[1], best[2]
        if np.isfinite(best[0]):
            path = compiled.walk(pred, node)
            geometry = _xy_line(compiled, path[::-1], site.point, start=csu.point)
            length = float(dist[node]) + offset + extra
            link = Link(
                csu.site_id, site.site_id, "csu_gendarmerie", tuple(path), geometry, length, True
            )
        else:
            length = csu.point.distance(site.point) * detour
            line = LineString([csu.point.coords[0], site.point.coords[0]])
            link = Link(csu.site_id, site.site_id, "csu_gendarmerie", (), line, length, False)
        transport.gendarmerie_links.append(link)


def _link(
    compiled: CompiledGraph,
    fid: str,
    csu: Site,
    nro: Node,
    *,
    dist: np.ndarray | None,
    pred: np.ndarray | None,
    offset: float,
    detour: float,
    kind: str,
) -> Link:
    i = compiled.index[nro]
    here = Point(*compiled.xy[i])
    if dist is not None and pred is not None and np.isfinite(dist[i]):
        path = compiled.walk(pred, i)  # NRO first, towards the CSU
        return Link(
            fid,
            csu.site_id,
            kind,
            tuple(path),
            _xy_line(compiled, path, csu.point),
            float(dist[i]) + offset,
            True,
        )
    line = LineString([here.coords[0], csu.point.coords[0]])
    return Link(fid, csu.site_id, kind, (), line, here.distance(csu.point) * detour, False)


def _xy_line(
    compiled: CompiledGraph, path: list[Node], end: Point, start: Point | None = None
) -> LineString:
    """The course through ``path``'s graph nodes to ``end`` (from ``start`` when given)."""
    coords = [tuple(compiled.xy[compiled.index[n]]) for n in path] + [end.coords[0]]
    if start is not None:
        coords.insert(0, start.coords[0])
    if len(coords) < 2:
        coords = coords * 2
    return LineString(coords)
