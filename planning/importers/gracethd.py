"""GraceTHD v2.0.x deliveries into the planning layers ``ftth_routes`` and ``ftth_nodes``.

The operator's GraceTHD export is how engineers hold the existing FttH network: this module keeps
its codes as ids, its owners and managers by name, and says in the report every row it could not
map and why. Mapping rules (and why) are in docs/import-gracethd.md.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from planning.importers.gracethd_model import (
    BROKEN_FIBRE_STATES,
    EBP_KIND,
    IMPLANTATION_KIND,
    IMPLANTATION_SKIPPED,
    PTECH_KIND,
    SITE_KIND,
    UPSTREAM_KIND,
    USED_POSITION_FUNCTIONS,
    VIRTUAL_CONDUIT,
)
from planning.importers.gracethd_source import Delivery, read_delivery
from planning.importers.report import ImportReport, ImportResult, Progress, Reason
from planning.schema import WORK_CRS

log = logging.getLogger(__name__)

ROLE_RANK = {"site": 3, "ebp": 2, "ptech": 1}
"""A node takes its most meaningful role: a site over a box over a chamber or pole."""

CABLE_END_TOLERANCE_M = 1.0
"""A cable line's end is on a node when within this distance of it (lines drawn node to node)."""

MAX_UPSTREAM_HOPS = 500

ROUTE_COLUMNS = ["id", "kind", "spare", "owner", "manager"]
NODE_COLUMNS = ["id", "kind", "free_fibres", "parent", "owner", "manager"]

NODE_TYPE_REASON: dict[str, Reason] = {
    "SF": Reason(
        "gracethd.subscriber_site",
        "subscriber site (SF): a PTO, not part of the network a mast connects to",
    ),
    "SE": Reason("gracethd.radio_site", "radio site (SE): not an FttH node"),
    "JX": Reason("gracethd.junction", "junction of routes (JX) with no equipment"),
}
"""``nd_type`` of nodes no row gives an FttH role, with the code and reason of the report."""

NO_ROLE = Reason(
    "gracethd.no_role", "no t_sitetech, t_ebp or t_ptech row gives this node an FttH role"
)

SUBSCRIBER_BOX_CODES = {"PTO": "gracethd.pto", "DTI": "gracethd.dti"}


@dataclass
class _Role:
    rank: int
    kind: str
    prop: str | None
    gest: str | None


def import_gracethd(
    source: Path | str,
    *,
    area: BaseGeometry | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Read a GraceTHD v2.0.x delivery (folder or .zip) into ``ftth_routes`` and ``ftth_nodes``."""
    delivery = read_delivery(source, progress=progress)
    report = ImportReport(source=str(source), format="gracethd", notes=list(delivery.notes))
    names = _organisation_names(delivery)
    nodes = _map_nodes(delivery, names, report, progress)
    routes = _map_routes(delivery, names, report, progress)
    if area is not None:
        nodes = _within(nodes, area, "ftth_nodes", report)
        routes = _within(routes, area, "ftth_routes", report)
        kept = set(nodes["id"])
        outside = nodes["parent"].notna() & ~nodes["parent"].isin(kept)
        if outside.any():
            report.notes.append(
                f"{int(outside.sum())} nodes keep a parent outside the area (its id is kept)"
            )
    report.count("ftth_nodes", Counter(nodes["kind"]))
    report.count("ftth_routes", Counter(routes["kind"]))
    log.info(
        "GraceTHD %s: %d nodes, %d routes, %d rows not mapped",
        delivery.version,
        len(nodes),
        len(routes),
        len(report.unmapped),
    )
    return ImportResult(layers={"ftth_routes": routes, "ftth_nodes": nodes}, report=report)


# --- organisations -----------------------------------------------------------------------------


def _organisation_names(delivery: Delivery) -> _Names:
    names = {
        row.or_code: row.or_nom or row.or_code
        for row in delivery.table("t_organisme").itertuples(index=False)
        if row.or_code
    }
    return _Names(names, "t_organisme" in delivery.tables)


class _Names(dict):
    """Organisation code -> name; codes not in t_organisme are kept as codes and noted."""

    def __init__(self, names: dict[str, str], has_table: bool) -> None:
        super().__init__(names)
        self.unknown: set[str] = set()
        self.has_table = has_table

    def __call__(self, code: str | None) -> str | None:
        if code is None:
            return None
        if code not in self and self.has_table:
            self.unknown.add(code)
        return self.get(code, code)


# --- nodes -------------------------------------------------------------------------------------


def _map_nodes(
    delivery: Delivery, names: _Names, report: ImportReport, progress: Progress | None
) -> gpd.GeoDataFrame:
    noeuds = delivery.table("t_noeud")
    geometry: dict[str, BaseGeometry] = {}
    node_type: dict[str, str | None] = {}
    for code, nd_type, geom in zip(
        noeuds["nd_code"], noeuds["nd_type"], noeuds.geometry, strict=True
    ):
        if code is None:
            report.skip(
                "t_noeud",
                "(no nd_code)",
                "node without nd_code: give every node its code",
                code="gracethd.node_without_code",
            )
        elif code in geometry:
            report.skip(
                "t_noeud",
                code,
                "nd_code used twice: only the first node is kept",
                code="gracethd.node_twice",
            )
        else:
            geometry[code] = geom
            node_type[code] = nd_type
    roles = _node_roles(delivery, geometry, report)
    if progress:
        progress("nodes", 0, len(geometry))

    rows = []
    for code, geom in geometry.items():
        candidates = roles.get(code)
        if not candidates:
            why = NODE_TYPE_REASON.get((node_type[code] or "").upper(), NO_ROLE)
            report.skip("t_noeud", code, why.text, code=why.code)
            continue
        if geom is None or geom.is_empty or geom.geom_type != "Point":
            report.skip(
                "t_noeud",
                code,
                "no point geometry: fix the node's geometry",
                code="gracethd.node_not_a_point",
            )
            continue
        role = max(candidates, key=lambda r: r.rank)
        rows.append(
            {
                "id": code,
                "kind": role.kind,
                "free_fibres": 0,
                "parent": None,
                "owner": names(role.prop),
                "manager": names(role.gest),
                "geometry": geom,
            }
        )
    nodes = gpd.GeoDataFrame(rows, columns=[*NODE_COLUMNS, "geometry"], crs=WORK_CRS)
    _fibres_and_parents(delivery, nodes, report)
    if names.unknown:
        report.notes.append(
            f"{len(names.unknown)} organisation codes are not in t_organisme and are kept as "
            "codes: " + ", ".join(sorted(names.unknown)[:10])
        )
    if progress:
        progress("nodes", len(geometry), len(geometry))
    return nodes


def _node_roles(
    delivery: Delivery, geometry: dict[str, BaseGeometry], report: ImportReport
) -> dict[str, list[_Role]]:
    """Every role each node has: sites, boxes and points placed on it."""
    roles: dict[str, list[_Role]] = defaultdict(list)
    site_node = _site_roles(delivery, geometry, report, roles)
    room_node = {
        row.lt_code: site_node[row.lt_st_code]
        for row in delivery.table("t_ltech").itertuples(index=False)
        if row.lt_st_code in site_node
    }
    ptech_node = _ptech_roles(delivery, geometry, report, roles)
    _ebp_roles(delivery, ptech_node, room_node, report, roles)
    for row in delivery.table("t_ptech").itertuples(index=False):
        code = row.pt_nd_code
        if code in geometry and not roles.get(code):
            report.skip(
                "t_ptech",
                row.pt_code,
                f"point type {row.pt_typephy!r} is not a chamber, pole or facade anchor",
                code="gracethd.ptech_not_civil_works",
            )
    return roles


def _site_roles(
    delivery: Delivery,
    geometry: dict[str, BaseGeometry],
    report: ImportReport,
    roles: dict[str, list[_Role]],
) -> dict[str, str]:
    """Add the NRO and PM roles; return site code -> node code."""
    site_node: dict[str, str] = {}
    for row in delivery.table("t_sitetech").itertuples(index=False):
        if row.st_nd_code not in geometry:
            why = _missing_node("st_nd_code", row.st_nd_code)
            report.skip("t_sitetech", row.st_code, why.text, code=why.code)
            continue
        site_node[row.st_code] = row.st_nd_code
        kind = SITE_KIND.get((row.st_typelog or "").upper())
        if kind is None:
            report.skip(
                "t_sitetech",
                row.st_code,
                f"site type {row.st_typelog!r} is not an NRO or a PM (SRO): not an FttH node",
                code="gracethd.site_not_ftth",
            )
            continue
        roles[row.st_nd_code].append(_Role(ROLE_RANK["site"], kind, row.st_prop, row.st_gest))
    return site_node


def _ptech_roles(
    delivery: Delivery,
    geometry: dict[str, BaseGeometry],
    report: ImportReport,
    roles: dict[str, list[_Role]],
) -> dict[str, str]:
    """Add the chamber role of chambers, poles and anchors; return point code -> node code."""
    ptech_node: dict[str, str] = {}
    for row in delivery.table("t_ptech").itertuples(index=False):
        if row.pt_nd_code not in geometry:
            why = _missing_node("pt_nd_code", row.pt_nd_code)
            report.skip("t_ptech", row.pt_code, why.text, code=why.code)
            continue
        ptech_node[row.pt_code] = row.pt_nd_code
        kind = PTECH_KIND.get((row.pt_typephy or "").upper())
        if kind is not None:  # else a building entry or "other": it may still hold a PBO
            roles[row.pt_nd_code].append(_Role(ROLE_RANK["ptech"], kind, row.pt_prop, row.pt_gest))
    return ptech_node


def _ebp_roles(
    delivery: Delivery,
    ptech_node: dict[str, str],
    room_node: dict[str, str],
    report: ImportReport,
    roles: dict[str, list[_Role]],
) -> None:
    """Add the PBO role; splice closures leave their node to its chamber or pole."""
    closures = 0
    for row in delivery.table("t_ebp").itertuples(index=False):
        node = ptech_node.get(row.bp_pt_code) or room_node.get(row.bp_lt_code)
        typelog = (row.bp_typelog or "").upper()
        if node is None:
            why = _unplaced_box(row, typelog)
            report.skip("t_ebp", row.bp_code, why.text, code=why.code)
            continue
        kind = EBP_KIND.get(typelog)
        if kind is not None:
            roles[node].append(_Role(ROLE_RANK["ebp"], kind, row.bp_prop, row.bp_gest))
        elif typelog == "BPE":
            closures += 1
        else:
            report.skip(
                "t_ebp",
                row.bp_code,
                f"box type {row.bp_typelog!r} is not a PBO",
                code="gracethd.box_not_pbo",
            )
    if closures:
        report.notes.append(
            f"{closures} splice closures (BPE): their nodes are mapped as the chamber or pole "
            "they sit in, with no free fibres"
        )


def _unplaced_box(row, typelog: str) -> Reason:
    if typelog in SUBSCRIBER_BOX_CODES:
        return Reason(
            SUBSCRIBER_BOX_CODES[typelog],
            f"subscriber terminal ({typelog}): not part of the network a mast connects to",
        )
    if row.bp_pt_code:
        return Reason(
            "gracethd.box_point_unknown",
            f"bp_pt_code {row.bp_pt_code!r} is not a t_ptech row with a node",
        )
    if row.bp_lt_code:
        return Reason(
            "gracethd.box_room_unknown",
            f"bp_lt_code {row.bp_lt_code!r} is not a room of a site with a node",
        )
    return Reason("gracethd.box_unplaced", "no bp_pt_code nor bp_lt_code: the box is not placed")


def _missing_node(field: str, code: str | None) -> Reason:
    if code is None:
        return Reason("gracethd.no_node", f"no {field}: the row is not placed on any node")
    return Reason(
        "gracethd.node_unknown", f"{field} {code!r} is not in t_noeud: add the node or fix the code"
    )


# --- cables: free fibres and parents -------------------------------------------------------------


@dataclass
class _Cable:
    code: str
    nd1: str
    nd2: str
    directed: bool  # nd1 upstream (from cb_nd1/cb_nd2); False when placed by its line's ends
    free: int | None  # available fibres, None when the delivery does not say


def _fibres_and_parents(delivery: Delivery, nodes: gpd.GeoDataFrame, report: ImportReport) -> None:
    """Fill ``free_fibres`` and ``parent`` of NRO, PM and PBO from the cables that reach them."""
    cables = _cables(delivery, report)
    kind = dict(zip(nodes["id"], nodes["kind"], strict=True))
    upstream: dict[str, list[tuple[str, _Cable]]] = defaultdict(list)
    arriving: dict[str, list[_Cable]] = defaultdict(list)  # intrasite cables at the node included
    for cable in cables:
        if cable.directed:
            arriving[cable.nd2].append(cable)
        if cable.nd1 == cable.nd2:
            continue
        upstream[cable.nd2].append((cable.nd1, cable))
        if not cable.directed:
            upstream[cable.nd1].append((cable.nd2, cable))

    unknown_free = 0
    ambiguous = 0
    free_fibres: list[int] = []
    parents: list[str | None] = []
    for node in nodes["id"]:
        node_kind = kind[node]
        if node_kind == "chamber":
            free_fibres.append(0)
            parents.append(None)
            continue
        parent, first_hop, several = _parent(node, node_kind, upstream, kind)
        ambiguous += several
        feeding = list(arriving.get(node, []))
        feeding += [c for c in first_hop if not c.directed]
        known = [c.free for c in feeding if c.free is not None]
        if feeding and not known:
            unknown_free += 1
        free_fibres.append(sum(known))
        parents.append(parent)
    nodes["free_fibres"] = pd.Series(free_fibres, index=nodes.index, dtype="int64")
    nodes["parent"] = pd.Series(parents, index=nodes.index, dtype=object)
    if not cables:
        report.notes.append(
            "free fibres were not in the delivery (no cable reaches a node): free_fibres is 0 "
            "and parent blank for every node"
        )
    elif unknown_free:
        report.notes.append(
            f"{unknown_free} nodes are reached by cables with no cb_fo_disp and no t_fibre rows: "
            "their free_fibres is 0 (free fibres were not in the delivery for them)"
        )
    if ambiguous:
        report.notes.append(f"{ambiguous} nodes lead back to several upstream nodes: parent blank")


def _parent(
    node: str,
    node_kind: str,
    upstream: dict[str, list[tuple[str, _Cable]]],
    kind: dict[str, str],
) -> tuple[str | None, list[_Cable], bool]:
    """The nearest upstream node of the expected kind, the cables of the first hop toward it, and
    whether several such nodes are equally near (then no parent)."""
    target = UPSTREAM_KIND.get(node_kind)
    if target is None:
        return None, [], False
    stop = {"NRO"} if target == "PM" else set()
    seen = {node}
    frontier: deque[tuple[str, int, _Cable]] = deque()
    for nxt, cable in upstream.get(node, []):
        frontier.append((nxt, 1, cable))
    found: dict[str, list[_Cable]] = {}
    found_depth: int | None = None
    while frontier:
        current, depth, first = frontier.popleft()
        if found_depth is not None and depth > found_depth:
            break
        if kind.get(current) == target:
            found.setdefault(current, []).append(first)
            found_depth = depth
            continue
        if current in seen or depth >= MAX_UPSTREAM_HOPS or kind.get(current) in stop:
            continue
        seen.add(current)
        for nxt, _cable in upstream.get(current, []):
            if nxt not in seen:
                frontier.append((nxt, depth + 1, first))
    if len(found) == 1:
        parent, first_hops = next(iter(found.items()))
        return parent, list({c.code: c for c in first_hops}.values()), False
    return None, [], len(found) > 1


def _cables(delivery: Delivery, report: ImportReport) -> list[_Cable]:
    table = delivery.table("t_cable")
    if table.empty:
        return []
    nodes = delivery.table("t_noeud")
    known_nodes = set(nodes["nd_code"].dropna())
    ends = _line_ends(delivery)
    free = _free_fibres_per_cable(delivery)
    cables = []
    for row in table.itertuples(index=False):
        if row.cb_nd1 and row.cb_nd2:
            missing = [c for c in (row.cb_nd1, row.cb_nd2) if c not in known_nodes]
            if missing:
                why = _missing_node("cb_nd1/cb_nd2", missing[0])
                report.skip("t_cable", row.cb_code, why.text, code=why.code)
                continue
            nd1, nd2, directed = row.cb_nd1, row.cb_nd2, True
        elif row.cb_code in ends:
            (nd1, nd2), directed = ends[row.cb_code], False
        else:
            report.skip(
                "t_cable",
                row.cb_code,
                "no cb_nd1/cb_nd2 and no t_cableline ending on nodes: the cable cannot be placed",
                code="gracethd.cable_unplaced",
            )
            continue
        available = _as_int(row.cb_fo_disp)
        if available is None:
            available = free.get(row.cb_code)
        cables.append(_Cable(row.cb_code, nd1, nd2, directed, available))
    _orient_by_splices(delivery, cables)
    return cables


def _orient_by_splices(delivery: Delivery, cables: list[_Cable]) -> None:
    """Give a direction to cables placed by their line: in a box, the fibre in ``ps_1`` comes from
    upstream and the one in ``ps_2`` goes downstream (GraceTHD aligns them NRO -> PTO)."""
    loose = {c.code: c for c in cables if not c.directed}
    if not loose:
        return
    fibres = delivery.table("t_fibre")
    cable_of = dict(zip(fibres["fo_code"], fibres["fo_cb_code"], strict=True))
    by_code = {c.code: c for c in cables}
    positions = delivery.table("t_position")
    pairs = {
        (cable_of.get(up), cable_of.get(down))
        for up, down in zip(positions["ps_1"], positions["ps_2"], strict=True)
        if up and down
    }
    for up, down in sorted(pairs, key=str):
        a, b = by_code.get(up), by_code.get(down)
        if a is None or b is None or a is b:
            continue
        shared = {a.nd1, a.nd2} & {b.nd1, b.nd2}
        if len(shared) != 1:
            continue
        (node,) = shared
        if a.code in loose:
            a.nd1, a.nd2 = ({a.nd1, a.nd2} - {node}).pop(), node
            a.directed = True
            del loose[a.code]
        if b.code in loose:
            b.nd1, b.nd2 = node, ({b.nd1, b.nd2} - {node}).pop()
            b.directed = True
            del loose[b.code]


def _line_ends(delivery: Delivery) -> dict[str, tuple[str, str]]:
    """Cable code -> the nodes its t_cableline starts and ends on (within 1 m)."""
    lines = delivery.table("t_cableline")
    nodes = delivery.table("t_noeud")
    if lines.empty or nodes.empty or "geometry" not in lines:
        return {}
    points = gpd.GeoSeries(nodes.geometry.values, crs=WORK_CRS)
    codes = list(nodes["nd_code"])
    tree = shapely.STRtree(points.values)
    ends: dict[str, tuple[str, str]] = {}
    for cable, drawn in zip(lines["cl_cb_code"], lines.geometry, strict=True):
        geom = _line(drawn)
        if cable is None or geom is None:
            continue
        found = []
        for point in (shapely.Point(geom.coords[0]), shapely.Point(geom.coords[-1])):
            index = tree.query_nearest(point, max_distance=CABLE_END_TOLERANCE_M)
            found.append(codes[int(index[0])] if len(index) else None)
        if all(found) and found[0] != found[1]:
            ends[cable] = (found[0], found[1])
    return ends


def _free_fibres_per_cable(delivery: Delivery) -> dict[str, int]:
    """Cable code -> fibres neither broken, on an optical route, nor spliced or connected."""
    fibres = delivery.table("t_fibre")
    if fibres.empty:
        return {}
    used: set[str] = set(delivery.table("t_ropt")["rt_fo_code"].dropna())
    positions = delivery.table("t_position")
    in_use = (
        positions["ps_fonct"].str.upper().isin(USED_POSITION_FUNCTIONS)
        | positions["ps_preaff"].notna()
    )
    for column in ("ps_1", "ps_2"):
        used.update(positions.loc[in_use, column].dropna())
    free: Counter[str] = Counter()
    for code, cable, state in zip(
        fibres["fo_code"], fibres["fo_cb_code"], fibres["fo_etat"], strict=True
    ):
        if cable is None:
            continue
        free[cable] += int(code not in used and (state or "").upper() not in BROKEN_FIBRE_STATES)
    return dict(free)


# --- routes ------------------------------------------------------------------------------------


def _map_routes(
    delivery: Delivery, names: _Names, report: ImportReport, progress: Progress | None
) -> gpd.GeoDataFrame:
    chemins = delivery.table("t_cheminement")
    conduits = _conduits(delivery, report)
    by_route = _conduits_by_route(delivery, conduits, report)
    inner = {c["parent"] for c in conduits.values() if c["parent"]}
    origins: Counter[str] = Counter()
    rows = []
    total = len(chemins)
    for done, (code, implantation, cddispo, geom) in enumerate(
        zip(
            chemins["cm_code"],
            chemins["cm_typ_imp"],
            chemins["cm_cddispo"],
            chemins.geometry,
            strict=True,
        )
    ):
        if progress and done % 1000 == 0:
            progress("routes", done, total)
        if code is None:
            report.skip(
                "t_cheminement",
                "(no cm_code)",
                "route without cm_code",
                code="gracethd.route_without_code",
            )
            continue
        line = _line(geom)
        if line is None:
            report.skip(
                "t_cheminement",
                code,
                "no usable line geometry: fix the route's geometry",
                code="gracethd.route_not_a_line",
            )
            continue
        kind = IMPLANTATION_KIND.get(implantation or "")
        if kind is None:
            why = _implantation_reason(implantation)
            report.skip("t_cheminement", code, why.text, code=why.code)
            continue
        mine = [conduits[c] for c in by_route.get(code, [])]
        spare, origin = _spare(mine, inner, cddispo)
        origins[origin] += 1
        owner = _most_common(c["prop"] for c in mine)
        manager = _most_common(c["gest"] for c in mine)
        rows.append(
            {
                "id": code,
                "kind": kind,
                "spare": spare,
                "owner": names(owner),
                "manager": names(manager),
                "geometry": line,
            }
        )
    if progress:
        progress("routes", total, total)
    if origins["cm_cddispo"]:
        report.notes.append(
            f"{origins['cm_cddispo']} routes take their spare from cm_cddispo "
            "(no conduit occupancy given)"
        )
    if origins["disagree"]:
        report.notes.append(
            f"{origins['disagree']} routes have a cm_cddispo that disagrees with their conduits' "
            "occupancy: spare counts the empty conduits"
        )
    if origins["unknown"]:
        report.notes.append(
            f"{origins['unknown']} routes have neither conduit occupancy nor cm_cddispo: spare 0"
        )
    return gpd.GeoDataFrame(rows, columns=[*ROUTE_COLUMNS, "geometry"], crs=WORK_CRS)


def _conduits_by_route(
    delivery: Delivery, conduits: dict[str, dict], report: ImportReport
) -> dict[str, list[str]]:
    by_route: dict[str, list[str]] = defaultdict(list)
    for row in delivery.table("t_cond_chem").itertuples(index=False):
        if row.dm_cd_code in conduits:
            by_route[row.dm_cm_code].append(row.dm_cd_code)
        else:
            report.skip(
                "t_cond_chem",
                f"{row.dm_cd_code}/{row.dm_cm_code}",
                f"dm_cd_code {row.dm_cd_code!r} is not in t_conduite",
                code="gracethd.conduit_unknown",
            )
    return by_route


def _spare(conduits: list[dict], inner: set[str], cddispo: str | None) -> tuple[int, str]:
    """Free sub-ducts from the conduits' occupancy, else ``cm_cddispo``, else 0; and which."""
    free = _free_conduits(conduits, inner)
    aggregate = _as_int(cddispo)
    if free is not None:
        return free, "conduits" if aggregate in (None, free) else "disagree"
    if aggregate is not None:
        return max(aggregate, 0), "cm_cddispo"
    return 0, "unknown"


def _implantation_reason(implantation: str | None) -> Reason:
    if implantation is None:
        return Reason(
            "gracethd.no_implantation",
            "no implantation type (cm_typ_imp): duct or aerial is not known",
        )
    return IMPLANTATION_SKIPPED.get(implantation) or Reason(
        "gracethd.unknown_implantation", f"unknown implantation type cm_typ_imp={implantation!r}"
    )


def _conduits(delivery: Delivery, report: ImportReport) -> dict[str, dict]:
    cables_in: Counter[str] = Counter(delivery.table("t_cab_cond")["cc_cd_code"].dropna())
    has_cab_cond = not delivery.table("t_cab_cond").empty
    conduits = {}
    for row in delivery.table("t_conduite").itertuples(index=False):
        if row.cd_code is None:
            report.skip(
                "t_conduite",
                "(no cd_code)",
                "conduit without cd_code",
                code="gracethd.conduit_without_code",
            )
            continue
        occupancy = _as_float(row.cd_occup)
        count = _as_int(getattr(row, "cd_nbcable", None))
        if occupancy is not None:
            free = occupancy == 0
        elif count is not None:
            free = count == 0
        elif has_cab_cond:
            free = cables_in[row.cd_code] == 0
        else:
            free = None
        conduits[row.cd_code] = {
            "parent": row.cd_cd_code,
            "virtual": (row.cd_type or "").upper() == VIRTUAL_CONDUIT,
            "free": free,
            "prop": row.cd_prop,
            "gest": row.cd_gest,
            "code": row.cd_code,
        }
    return conduits


def _free_conduits(conduits: list[dict], inner: set[str]) -> int | None:
    """Free sub-ducts: conduits holding no other conduit and no cable; None when not known."""
    real = [c for c in conduits if not c["virtual"] and c["code"] not in inner]
    known = [c for c in real if c["free"] is not None]
    if not known:
        return None
    return sum(1 for c in known if c["free"])


def _line(geom: BaseGeometry | None) -> BaseGeometry | None:
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type == "MultiLineString":
        geom = shapely.line_merge(geom)
    if geom.geom_type != "LineString" or geom.length == 0:
        return None
    return geom


def _within(
    layer: gpd.GeoDataFrame, area: BaseGeometry, name: str, report: ImportReport
) -> gpd.GeoDataFrame:
    inside = layer.intersects(area)
    if (~inside).any():
        report.notes.append(f"{int((~inside).sum())} {name} features outside the area left out")
    return layer.loc[inside].reset_index(drop=True)


def _most_common(values) -> str | None:
    counts = Counter(v for v in values if v)
    return counts.most_common(1)[0][0] if counts else None


def _as_int(value: str | None) -> int | None:
    number = _as_float(value)
    return None if number is None else int(number)


def _as_float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(str(value).replace(",", "."))
    except ValueError:
        return None
    return None if math.isnan(number) else number
