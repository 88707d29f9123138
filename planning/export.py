"""Writing a plan: ``plan.gpkg`` (styled for QGIS), ``summary.json`` and ``map.html``.

The one module of the planner that writes files. Each file is written beside its final name and
renamed into place, so an interrupted run never leaves a half-written plan behind.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
from shapely.geometry import LineString

from planning.errors import PlanningError
from planning.mapview import render_map
from planning.plan import MastResult, MastStatus, Plan, Route
from planning.qgis_styles import LAYER_STYLES
from planning.schema import WORK_CRS, mast_owner
from planning.supply import ROUTED_COLUMNS, SUPPLY_COLUMNS, mast_supply

PLAN_LAYERS = ("trenches", "cables", "connections", "masts", "splices", "links", "power_links")

PLAN_FORMAT = {"name": "vigie-plan", "version": 2}
"""Written to ``summary.json``; readers refuse older folders. Version 2 added, per mast, the
camera model and the nearest power point (``planning.supply``), and per commune its name and
intercommunality: what `vigie estimate` needs. Later version-2 plans add the low-voltage links
measured along the roads (``power_links`` layer, `planning.supply.ROUTED_COLUMNS`); the estimate
prices older ones as the crow flies."""


class ExportError(PlanningError):
    """The plan cannot be written where asked: fix the output folder named in the message."""


def plan_frames(
    plan: Plan,
    *,
    masts: gpd.GeoDataFrame | None = None,
    power_points: gpd.GeoDataFrame | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """The layers of ``plan.gpkg``, in Lambert-93.

    With the input ``masts`` (and ``power_points``) layers, the masts layer also carries each
    mast's camera model and nearest power point: along the roads when the plan measured it
    (``plan.power``, `planning.supply.routed_supply`), else as the crow flies (`mast_supply`).
    """
    trenches = _trench_frame(plan)
    routes = _plan_routes(plan)
    cables = _cable_frame(plan, routes)
    connections = _connection_frame(routes)
    mast_layer = _mast_frame(plan)
    if masts is not None:
        _add_input_columns(mast_layer, plan, masts, power_points)
    splices = _splice_frame(plan)
    return {
        "trenches": trenches,
        "cables": cables,
        "connections": connections,
        "masts": mast_layer,
        "splices": splices,
        "links": _link_frame(plan),
        "power_links": _power_frame(plan),
    }


def _power_frame(plan: Plan) -> gpd.GeoDataFrame:
    """One row per stretch of each mast's low-voltage link, so QGIS shows where it is laid."""
    pieces = plan.power.pieces if plan.power is not None else []
    return gpd.GeoDataFrame(
        {
            "mast_id": [p.mast_id for p in pieces],
            "point_id": [p.point_id for p in pieces],
            "piece": [p.piece for p in pieces],
            "laying": [p.laying for p in pieces],
            "length_m": [p.length_m for p in pieces],
        },
        geometry=[p.geometry for p in pieces],
        crs=WORK_CRS,
    )


def _link_frame(plan: Plan) -> gpd.GeoDataFrame:
    """One row per leased link: NRO to CSU, CSU to gendarmerie (estimated course)."""
    return gpd.GeoDataFrame(
        {
            "from_id": [lk.from_id for lk in plan.links],
            "to_id": [lk.to_id for lk in plan.links],
            "kind": [lk.kind for lk in plan.links],
            "length_m": [lk.length_m for lk in plan.links],
            "fibres": [lk.fibres for lk in plan.links],
            "on_network": [lk.on_network for lk in plan.links],
            "rent_eur_year": [lk.rent_year for lk in plan.links],
            "access_cost_eur": [lk.access_cost for lk in plan.links],
            "relays": [lk.relays for lk in plan.links],
        },
        geometry=[lk.geometry for lk in plan.links],
        crs=WORK_CRS,
    )


def _trench_frame(plan: Plan) -> gpd.GeoDataFrame:
    """One row per trench: how it is laid, what it costs, which masts' fibres run in it."""
    return gpd.GeoDataFrame(
        {
            "mode": [t.mode for t in plan.trenches],
            "road_kind": [t.road_kind or "" for t in plan.trenches],
            "length_m": [t.length_m for t in plan.trenches],
            "civil_cost_eur": [t.civil_cost for t in plan.trenches],
            "cable_cost_eur": [t.cable_cost for t in plan.trenches],
            "cost_eur": [round(t.cost, 2) for t in plan.trenches],
            "fibres": [t.fibres for t in plan.trenches],
            "cables": [t.cables for t in plan.trenches],
            "masts": [",".join(t.masts) for t in plan.trenches],
            "route_id": [t.route_id or "" for t in plan.trenches],
            "owner": [t.owner or "" for t in plan.trenches],
            "rent_eur_year": [t.rent_year for t in plan.trenches],
        },
        geometry=[t.geometry for t in plan.trenches],
        crs=WORK_CRS,
    )


def _plan_routes(plan: Plan) -> list[Route]:
    """Every route of the plan, mast by mast, primary first: the rows of cables and connections."""
    return [r for m in plan.masts for r in (m.primary, m.secondary) if r is not None]


def _cable_frame(plan: Plan, routes: list[Route]) -> gpd.GeoDataFrame:
    """One row per route along its real course: the fibres of one mast, wherever cables merge."""
    return gpd.GeoDataFrame(
        {
            "mast_id": [r.mast_id for r in routes],
            "role": [str(r.role) for r in routes],
            "node_id": [r.node_id for r in routes],
            "fibres": [plan.parameters["network"]["fibres_per_mast"] for _ in routes],
            "length_m": [r.length_m for r in routes],
        },
        geometry=[r.geometry for r in routes],
        crs=WORK_CRS,
    )


def _connection_frame(routes: list[Route]) -> gpd.GeoDataFrame:
    """One row per route with its optical link budget, so over-budget links stand out."""
    return gpd.GeoDataFrame(
        {
            "mast_id": [r.mast_id for r in routes],
            "role": [str(r.role) for r in routes],
            "node_id": [r.node_id for r in routes],
            "node_kind": [r.node_kind for r in routes],
            "length_m": [r.length_m for r in routes],
            "splices": [r.splices for r in routes],
            "connectors": [r.connectors for r in routes],
            "loss_db": [r.loss_db for r in routes],
            "margin_db": [r.margin_db for r in routes],
            "budget": ["ok" if r.margin_db >= 0 else "over" for r in routes],
            "chain": [" > ".join(r.chain) for r in routes],
            "csu_id": [r.csu_id or "" for r in routes],
            "total_length_m": [r.total_length_m for r in routes],
            "optics": [r.optics for r in routes],
            "rent_eur_year": [r.yearly_rent for r in routes],
        },
        # From the mast to its FttH node, as the crow flies: the cable layer has the real course.
        geometry=[_straight(r) for r in routes],
        crs=WORK_CRS,
    )


def _mast_frame(plan: Plan) -> gpd.GeoDataFrame:
    """One row per mast, unreachable ones included: status, reason, cost, FttH nodes reached."""
    return gpd.GeoDataFrame(
        {
            "mast_id": [m.mast_id for m in plan.masts],
            "commune": [m.commune for m in plan.masts],
            "status": [str(m.status) for m in plan.masts],
            "reason": [m.reason or "" for m in plan.masts],
            "critical": [m.critical for m in plan.masts],
            "cameras": [m.cameras for m in plan.masts],
            "cost_eur": [m.cost for m in plan.masts],
            "node_id": [m.primary.node_id if m.primary else "" for m in plan.masts],
            "margin_db": [m.primary.margin_db if m.primary else None for m in plan.masts],
            "second_node_id": [m.secondary.node_id if m.secondary else "" for m in plan.masts],
            "second_route_issue": [m.secondary_issue or "" for m in plan.masts],
            "diverse": [
                None if m.diversity is None else bool(m.diversity["disjoint"]) for m in plan.masts
            ],
            "running_eur_year": [m.yearly_cost for m in plan.masts],
        },
        geometry=[m.geometry for m in plan.masts],
        crs=WORK_CRS,
    )


def _add_input_columns(
    mast_layer: gpd.GeoDataFrame,
    plan: Plan,
    masts: gpd.GeoDataFrame,
    power_points: gpd.GeoDataFrame | None,
) -> None:
    """Add to ``mast_layer``, in place, what only the input layers know and the estimate needs.

    The cameras, camera model and owner (`commune` when not given) as the ``masts`` layer gives
    them, and the nearest power point.
    """
    supply = mast_supply(masts, power_points).reindex([str(m.mast_id) for m in plan.masts])
    if "cameras" in masts:  # the router knows nothing of a mast it could not snap
        given = dict(zip(masts["id"].astype(str), masts["cameras"], strict=True))
        mast_layer["cameras"] = [int(given.get(str(m.mast_id), m.cameras)) for m in plan.masts]
    if "camera_model" in masts:  # what `vigie cameras import PLAN` gives each camera
        models = dict(zip(masts["id"].astype(str), masts["camera_model"], strict=True))
        mast_layer["camera_model"] = [str(models.get(str(m.mast_id), "")) for m in plan.masts]
    owners = (
        dict(zip(masts["id"].astype(str), masts["owner"], strict=True)) if "owner" in masts else {}
    )
    mast_layer["owner"] = [mast_owner(owners.get(str(m.mast_id))) for m in plan.masts]
    for column in SUPPLY_COLUMNS:
        values = supply[column]
        mast_layer[column] = (
            values.to_numpy() if column == "power_distance_m" else (values.fillna("").to_numpy())
        )
    if plan.power is not None:  # measured along the roads (`planning.supply.routed_supply`)
        _add_power_columns(mast_layer, plan)


def _add_power_columns(mast_layer: gpd.GeoDataFrame, plan: Plan) -> None:
    """The routed power point of each mast, over the crow-flies one, and its link's metres."""
    assert plan.power is not None
    power = [plan.power.masts.get(str(m.mast_id)) for m in plan.masts]
    mast_layer["power_point_id"] = [p.point_id if p else "" for p in power]
    mast_layer["power_kind"] = [p.kind if p else "" for p in power]
    mast_layer["power_distance_m"] = [p.distance_m if p else float("nan") for p in power]
    shared, trench, path = ROUTED_COLUMNS
    mast_layer[shared] = [p.shared_m if p else 0.0 for p in power]
    mast_layer[trench] = [p.trench_m if p else 0.0 for p in power]
    mast_layer[path] = [p.path if p else "" for p in power]


def _splice_frame(plan: Plan) -> gpd.GeoDataFrame:
    """One row per splice closure: at an FttH node used, or where primary cables branch."""
    return gpd.GeoDataFrame(
        {
            "kind": [s.kind for s in plan.splices],
            "node_id": [s.node_id or "" for s in plan.splices],
            "fibres": [s.fibres for s in plan.splices],
        },
        geometry=[s.geometry for s in plan.splices],
        crs=WORK_CRS,
    )


def _straight(route: Route) -> LineString:
    coords = list(route.geometry.coords)
    return LineString([coords[0], coords[-1]])


def summarize_plan(
    plan: Plan, *, source: str | None = None, commune_layer: gpd.GeoDataFrame | None = None
) -> dict[str, Any]:
    """The content of ``summary.json``: totals, per mast, per commune, failures, parameters.

    With the ``communes`` layer (``commune_layer``), each commune entry also has its ``nom``
    and ``epci``.
    """
    by_mode_m: dict[str, float] = defaultdict(float)
    by_mode_eur: dict[str, float] = defaultdict(float)
    for t in plan.trenches:
        by_mode_m[t.mode] += t.length_m
        by_mode_eur[t.mode] += t.civil_cost
    communes: dict[str, dict[str, Any]] = {}
    for m in plan.masts:
        entry = communes.setdefault(
            m.commune, {"masts": 0, "connected": 0, "cameras": 0, "cost_eur": 0.0}
        )
        entry["masts"] += 1
        entry["cameras"] += m.cameras
        entry["connected"] += m.status is MastStatus.CONNECTED
        entry["cost_eur"] = round(entry["cost_eur"] + m.cost, 2)
    if commune_layer is not None:
        codes = commune_layer["code"].astype(str)
        names = dict(zip(codes, commune_layer["nom"].astype(str), strict=True))
        epcis = dict(zip(codes, commune_layer["epci"].astype(str), strict=True))
        for code, entry in communes.items():
            entry["nom"] = names.get(code, "")
            entry["epci"] = epcis.get(code, "")
    civil = sum(t.civil_cost for t in plan.trenches)
    cable = sum(t.cable_cost for t in plan.trenches)
    critical = [
        m
        for m in plan.masts
        if m.critical and m.status not in (MastStatus.UNREACHABLE, MastStatus.DEFERRED)
    ]
    return {
        "format": PLAN_FORMAT,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source,
        "crs": WORK_CRS,
        "currency": "EUR HT",
        "totals": {
            "masts": len(plan.masts),
            "connected": sum(m.status is MastStatus.CONNECTED for m in plan.masts),
            "unreachable": sum(m.status is MastStatus.UNREACHABLE for m in plan.masts),
            "over_budget": sum(m.status is MastStatus.OVER_BUDGET for m in plan.masts),
            "deferred": sum(m.status is MastStatus.DEFERRED for m in plan.masts),
            "critical": len(critical),
            "critical_with_second_route": sum(m.secondary is not None for m in critical),
            "cost_eur": round(plan.total_cost, 2),
            "civil_works_eur": round(civil, 2),
            "cable_eur": round(cable, 2),
            "splices_and_connections_eur": round(plan.connection_cost, 2),
            "length_m_by_mode": {k: round(v, 1) for k, v in sorted(by_mode_m.items())},
            "civil_cost_eur_by_mode": {k: round(v, 2) for k, v in sorted(by_mode_eur.items())},
            "splice_closures": len(plan.splices),
            "leased_links_access_eur": round(plan.links_cost, 2),
            "running_eur_per_year": plan.yearly_cost,
            "running_eur_per_year_by_item": plan.running_costs,
            "horizon_years": plan.horizon_years,
            "tco_eur": plan.tco,
            **({"low_voltage": plan.power.totals()} if plan.power is not None else {}),
        },
        "csu": plan.csu,
        "links": [
            {
                "from_id": lk.from_id,
                "to_id": lk.to_id,
                "kind": lk.kind,
                "length_m": lk.length_m,
                "fibres": lk.fibres,
                "on_network": lk.on_network,
                "rent_eur_year": lk.rent_year,
                "access_cost_eur": lk.access_cost,
                "relays": lk.relays,
            }
            for lk in plan.links
        ],
        "owners": _owners(plan),
        "masts": [_mast_entry(m) for m in plan.masts],
        "communes": dict(sorted(communes.items())),
        "unreachable": [
            {"mast_id": m.mast_id, "status": str(m.status), "reason": m.reason}
            for m in plan.masts
            if m.status is not MastStatus.CONNECTED
        ],
        "critical_without_second_route": [
            {"mast_id": m.mast_id, "reason": m.secondary_issue}
            for m in critical
            if m.secondary is None
        ],
        "critical_not_diverse": [
            {"mast_id": m.mast_id, "meets": m.diversity["meets"], "why": m.diversity.get("why")}
            for m in critical
            if m.diversity is not None and not m.diversity["disjoint"]
        ],
        "bound": plan.bound,
        **({"budget": plan.budget} if plan.budget is not None else {}),
        "parameters": plan.parameters,
        "notes": plan.notes,
    }


def _route_entry(route: Route | None) -> dict[str, Any] | None:
    if route is None:
        return None
    return {
        "node_id": route.node_id,
        "node_kind": route.node_kind,
        "length_m": route.length_m,
        "splices": route.splices,
        "loss_db": route.loss_db,
        "margin_db": route.margin_db,
        "chain": list(route.chain),
        "upstream_m": route.upstream_m,
        "csu_id": route.csu_id,
        "csu_link_m": route.csu_link_m,
        "total_length_m": route.total_length_m,
        "optics": route.optics,
        "rent_eur_year": route.yearly_rent,
    }


def _mast_entry(mast: MastResult) -> dict[str, Any]:
    return {
        "mast_id": mast.mast_id,
        "commune": mast.commune,
        "status": str(mast.status),
        "reason": mast.reason,
        "critical": mast.critical,
        "cameras": mast.cameras,
        "cost_eur": mast.cost,
        "primary": _route_entry(mast.primary),
        "secondary": _route_entry(mast.secondary),
        "second_route_issue": mast.secondary_issue,
        "diversity": mast.diversity,
        "running_eur_year": mast.yearly_cost,
    }


def _owners(plan: Plan) -> list[dict[str, Any]]:
    """Reused infrastructure per owner: metres by mode and the yearly rent paid to it."""
    rows: dict[tuple[str, str], dict[str, float]] = {}
    for t in plan.trenches:
        if t.mode in ("duct", "aerial"):
            row = rows.setdefault((t.owner or "inconnu", t.mode), {"length_m": 0.0, "rent": 0.0})
            row["length_m"] += t.length_m
            row["rent"] += t.rent_year
    return [
        {
            "owner": owner,
            "mode": mode,
            "length_m": round(v["length_m"], 1),
            "rent_eur_year": round(v["rent"], 2),
        }
        for (owner, mode), v in sorted(rows.items())
    ]


def write_plan(
    plan: Plan,
    out_dir: Path,
    *,
    ftth_nodes: gpd.GeoDataFrame | None = None,
    communes: gpd.GeoDataFrame | None = None,
    masts: gpd.GeoDataFrame | None = None,
    power_points: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    source: str | None = None,
) -> dict[str, Path]:
    """Write ``plan.gpkg``, ``summary.json`` and ``map.html`` into ``out_dir``.

    The input ``masts``, ``power_points`` and ``communes`` layers add what the estimate needs
    (camera models, nearest power point, commune names and intercommunalities).
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ExportError(f"{out_dir}: cannot create the output folder ({err.strerror})") from err
    frames = plan_frames(plan, masts=masts, power_points=power_points)
    summary = summarize_plan(plan, source=source, commune_layer=communes)
    paths = {
        "plan": out_dir / "plan.gpkg",
        "summary": out_dir / "summary.json",
        "map": out_dir / "map.html",
    }
    with _replacing(paths["plan"]) as tmp:
        for name in PLAN_LAYERS:
            pyogrio.write_dataframe(frames[name], tmp, layer=name, driver="GPKG")
        _store_styles(tmp)
    with _replacing(paths["summary"]) as tmp:
        tmp.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    with _replacing(paths["map"]) as tmp:
        html = render_map(frames, summary, ftth_nodes=ftth_nodes, communes=communes, sites=sites)
        tmp.write_text(html, encoding="utf-8")
    return paths


@contextmanager
def _replacing(final: Path) -> Iterator[Path]:
    tmp = final.with_name(f".{final.stem}.{os.getpid()}.tmp{final.suffix}")
    tmp.unlink(missing_ok=True)
    try:
        yield tmp
        tmp.replace(final)
    except OSError as err:
        raise ExportError(f"{final}: cannot write it ({err.strerror or err})") from err
    finally:
        tmp.unlink(missing_ok=True)


def _store_styles(gpkg: Path) -> None:
    """Store a default QML style per layer, so QGIS opens the plan coloured (its own table)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    with sqlite3.connect(gpkg) as db:
        db.execute(
            """CREATE TABLE IF NOT EXISTS layer_styles (
                id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256),
                f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256),
                styleName TEXT(30), styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN,
                description TEXT, owner TEXT(30), ui TEXT(30),
                update_time DATETIME DEFAULT CURRENT_TIMESTAMP)"""
        )
        db.execute(
            "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, "
            "description, last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', "
            "'QGIS styles of the plan layers', ?)",
            (now,),
        )
        geometry_column = {
            row[0]: row[1]
            for row in db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns")
        }
        for layer, qml in LAYER_STYLES.items():
            db.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, 'vigie', '', ?)",
                (layer, geometry_column.get(layer, "geom"), layer, qml, f"Vigie: {layer}", now),
            )
