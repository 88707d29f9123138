"""``/api/v1/plans``: the plans written by `vigie plan` into ``settings.plans_path``, for the
dashboard's planning page: their summaries, their layers as GeoJSON and their DQE workbook.

A plan is a sub-folder of the plans folder; its name is checked against a strict pattern and
must resolve to a direct child of that folder, so no request reads outside it. Plans are for
the people who build the network (admin, engineer, AMO); operators and the gendarmerie watch
cameras, not tenders, and communes get their figures from the AMO's report.
"""

import io
import json
import logging
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response

from planning.errors import PlanningError
from planning.plan_folder import read_plan_folder
from planning.qgis_styles import MAST_STATUSES, TRENCH_MODES
from vigie import audit
from vigie.auth.guards import require_roles
from vigie.auth.principal import Principal
from vigie.auth.roles import Role
from vigie.deps import SessionDep, SettingsDep
from vigie.errors import VigieError
from vigie.estimate.pricing import load_catalogues, price_plan
from vigie.estimate.workbook import build_workbook
from vigie.geo_cache import layer_geojson

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/plans", tags=["planning"])

PLAN_READERS = (Role.ADMIN, Role.ENGINEER, Role.AMO)
Reader = Annotated[Principal, Depends(require_roles(*PLAN_READERS))]

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUMMARY_FIGURES = (
    "masts",
    "connected",
    "unreachable",
    "over_budget",
    "cost_eur",
    "length_m_by_mode",
)


def plan_folder(plans: Path, name: str) -> Path:
    """The folder of plan ``name``: 404 for a bad name, a path outside ``plans`` or no plan."""
    if not NAME.match(name) or ".." in name:
        raise HTTPException(404, f"no plan {name!r}")
    root = plans.resolve()
    folder = (root / name).resolve()
    if folder.parent != root or not (folder / "summary.json").is_file():
        raise HTTPException(404, f"no plan {name!r}")
    return folder


def _summary(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        log.error("%s: unreadable summary.json: %s", folder, err)
        raise HTTPException(422, f"plan {folder.name}: its summary.json is unreadable") from err


@router.get("", summary="The plans with their headline figures")
def list_plans(principal: Reader, settings: SettingsDep) -> list[dict[str, Any]]:
    """Every readable plan folder, newest first; unreadable ones are listed with an ``error``."""
    root = settings.plans_path
    if not root.is_dir():
        return []
    items = []
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or not NAME.match(folder.name):
            continue
        if not (folder / "summary.json").is_file():
            continue
        try:
            summary = _summary(folder)
        except HTTPException as err:
            items.append({"name": folder.name, "error": err.detail})
            continue
        totals = summary.get("totals", {})
        items.append(
            {
                "name": folder.name,
                "generated_at": summary.get("generated_at"),
                "source": Path(str(summary.get("source") or "")).name or None,
                "totals": {k: totals.get(k) for k in SUMMARY_FIGURES},
            }
        )
    items.sort(key=lambda item: item.get("generated_at") or "", reverse=True)
    return items


@router.get("/{name}", summary="A plan's summary (summary.json)")
def read_plan(principal: Reader, settings: SettingsDep, name: str) -> dict[str, Any]:
    folder = plan_folder(settings.plans_path, name)
    return {"name": folder.name, **_summary(folder)}


@router.get("/{name}/geojson", summary="A plan's trenches by mode and masts by status (WGS84)")
def plan_geojson(principal: Reader, settings: SettingsDep, name: str) -> dict[str, Any]:
    """``trenches`` and ``masts`` FeatureCollections, and the ``legend`` (colour, French label)."""
    folder = plan_folder(settings.plans_path, name)
    gpkg = folder / "plan.gpkg"
    try:
        trenches = layer_geojson(gpkg, "trenches", ("mode", "road_kind", "length_m"))
        masts = layer_geojson(gpkg, "masts", ("mast_id", "commune", "status", "cameras"))
    except (OSError, ValueError) as err:
        log.error("%s: cannot read the layers: %s", gpkg, err)
        raise HTTPException(422, f"plan {name}: plan.gpkg is unreadable; plan again") from err
    return {
        "trenches": trenches,
        "masts": masts,
        "legend": {
            "modes": {c.value: [f"rgb({c.colour})", c.label] for c in TRENCH_MODES},
            "status": {c.value: [f"rgb({c.colour})", c.label] for c in MAST_STATUSES},
        },
    }


@router.get(
    "/{name}/dqe.xlsx",
    summary="A plan's DQE workbook (as `vigie estimate`)",
    responses={200: {"content": {XLSX: {}}, "description": "the workbook"}},
    response_class=Response,
)
def plan_dqe(principal: Reader, session: SessionDep, settings: SettingsDep, name: str) -> Response:
    """Priced with the default catalogues; the export is audited (it leaves the service)."""
    folder = plan_folder(settings.plans_path, name)
    try:
        prices, catalogue = load_catalogues(None)
        workbook = build_workbook([price_plan(read_plan_folder(folder), prices, catalogue)])
    except (PlanningError, VigieError) as err:
        log.error("%s: cannot price the plan: %s", folder, err)
        raise HTTPException(422, f"plan {name}: cannot be priced (see the logs)") from err
    buffer = io.BytesIO()
    workbook.save(buffer)
    audit.record_by(
        session, principal, action="plan.dqe_export", object_type="plan", object_id=name
    )
    return Response(
        buffer.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="dqe-{name}.xlsx"'},
    )
