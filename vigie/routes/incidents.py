"""``/api/v1/incidents``: incidents of the cameras the caller may see; operators acknowledge them.

An acknowledgement says who took charge and what they do: it needs a comment, is refused on a
closed or already acknowledged incident (409), is audited, and goes out as an event numbered like
the state machine's, so the live stream shows it to the other operators.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from supervision.incidents import AcknowledgementError, acknowledge
from vigie import audit
from vigie.auth.guards import require_roles
from vigie.auth.principal import Principal, apply_scope, scope_condition
from vigie.auth.roles import STATUS_READERS, Role
from vigie.clock import as_utc, utcnow
from vigie.deps import RowId, SessionDep
from vigie.models import Camera, Commune, IncidentRow
from vigie.plain_text import Lines
from vigie.supervisor.cause_map import incident_map
from vigie.supervisor.store import append_events, incident_from_row

router = APIRouter(prefix="/api/v1/incidents", tags=["supervision"])

Reader = Annotated[Principal, Depends(require_roles(*STATUS_READERS))]
Acknowledger = Annotated[Principal, Depends(require_roles(Role.OPERATOR))]


class IncidentView(BaseModel):
    id: int
    key: str
    camera_id: str
    commune: str
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    state: str
    severity: str
    causes: list[str]
    seen_causes: list[str]
    flapping: bool
    returns: int
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    comment: str | None
    kind: Literal["camera", "mast", "branch"] = Field(
        "camera", description="A camera's own incident, or a cause: a mast, a fibre branch."
    )
    cause: str | None = Field(None, description="The probable cause, in French (mast, branch).")
    cameras: list[str] = Field(
        default_factory=list, description="Cameras whose incidents this cause holds."
    )
    suppressed_by: int | None = Field(
        None, description="The cause incident this camera incident is folded under."
    )


class IncidentPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[IncidentView]


class Acknowledgement(BaseModel):
    comment: Lines = Field(min_length=1, max_length=2000, description="What is being done.")


def _view(row: IncidentRow, commune: str, cameras: list[str] | None = None) -> IncidentView:
    return IncidentView(
        kind=row.kind,
        cause=row.cause_label,
        cameras=cameras or [],
        suppressed_by=row.parent_id,
        id=row.id,
        key=row.key,
        camera_id=row.camera_id,
        commune=commune,
        opened_at=as_utc(row.opened_at),
        updated_at=as_utc(row.updated_at),
        closed_at=None if row.closed_at is None else as_utc(row.closed_at),
        close_reason=row.close_reason,
        state=row.state,
        severity=row.severity,
        causes=row.causes,
        seen_causes=row.seen_causes,
        flapping=row.flapping,
        returns=row.returns,
        acknowledged_at=None if row.acknowledged_at is None else as_utc(row.acknowledged_at),
        acknowledged_by=row.acknowledged_by,
        comment=row.comment,
    )


def _scoped(principal: Principal):
    """Incidents of visible cameras, and causes holding an incident of a visible camera."""
    statement = select(IncidentRow, Camera.commune_code).join(
        Camera, Camera.id == IncidentRow.camera_id
    )
    if not principal.restricted:
        return statement
    child, owner = aliased(IncidentRow), aliased(Camera)
    holding = (
        select(child.parent_id)
        .join(owner, owner.id == child.camera_id)
        .where(child.parent_id.is_not(None), scope_condition(principal, owner.commune_code))
    )
    return statement.where(
        or_(scope_condition(principal, Camera.commune_code), IncidentRow.id.in_(holding))
    )


def _cameras_of(
    session: Session, principal: Principal, causes: list[IncidentRow]
) -> dict[int, list[str]]:
    """The visible cameras each cause incident holds (one query)."""
    ids = [row.id for row in causes if row.kind != "camera"]
    if not ids:
        return {}
    statement = (
        select(IncidentRow.parent_id, IncidentRow.camera_id)
        .join(Camera, Camera.id == IncidentRow.camera_id)
        .where(IncidentRow.parent_id.in_(ids))
        .order_by(IncidentRow.camera_id)
    )
    found: dict[int, list[str]] = {}
    for parent_id, camera_id in session.execute(
        apply_scope(statement, principal, Camera.commune_code)
    ):
        held = found.setdefault(parent_id, [])
        if camera_id not in held:
            held.append(camera_id)
    return found


def _visible(session: Session, principal: Principal, incident_id: int, *, lock: bool = False):
    statement = _scoped(principal).where(IncidentRow.id == incident_id)
    if lock:
        statement = statement.with_for_update(of=IncidentRow)
    found = session.execute(statement).first()
    if found is None:
        raise HTTPException(404, f"no incident {incident_id}")
    return found


@router.get("", response_model=IncidentPage)
def list_incidents(
    principal: Reader,
    session: SessionDep,
    *,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
    camera: Annotated[list[str] | None, Query(description="Only these cameras.")] = None,
    commune: Annotated[list[str] | None, Query(description="Only these INSEE codes.")] = None,
    epci: Annotated[list[str] | None, Query(description="Only these EPCI SIRENs.")] = None,
    since: Annotated[AwareDatetime | None, Query(description="Open at or after this.")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Opened before this.")] = None,
    kind: Annotated[
        list[Literal["camera", "mast", "branch"]] | None, Query(description="Only these kinds.")
    ] = None,
    include_suppressed: Annotated[
        bool, Query(description="Also the camera incidents folded under a cause.")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0,  # the database's INTEGER
) -> IncidentPage:
    """Incidents, newest first; ``since``/``until`` keep those that overlap the period.

    Camera incidents folded under a cause incident (correlation) are left out unless
    ``include_suppressed``; a cause lists its cameras.
    """
    statement = _scoped(principal)
    if not include_suppressed:
        statement = statement.where(IncidentRow.parent_id.is_(None))
    if kind:
        statement = statement.where(IncidentRow.kind.in_(kind))
    if status == "open":
        statement = statement.where(IncidentRow.closed_at.is_(None))
    elif status == "closed":
        statement = statement.where(IncidentRow.closed_at.is_not(None))
    if camera:
        statement = statement.where(IncidentRow.camera_id.in_(camera))
    if commune:
        statement = statement.where(Camera.commune_code.in_(commune))
    if epci:
        in_epci = select(Commune.code).where(Commune.epci_siren.in_(epci))
        statement = statement.where(Camera.commune_code.in_(in_epci))
    if since is not None:
        statement = statement.where(
            or_(IncidentRow.closed_at.is_(None), IncidentRow.closed_at >= since)
        )
    if until is not None:
        statement = statement.where(IncidentRow.opened_at < until)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    page = session.execute(
        statement.order_by(IncidentRow.opened_at.desc(), IncidentRow.id.desc())
        .limit(limit)
        .offset(offset)
    )
    found = page.all()
    cameras = _cameras_of(session, principal, [row for row, _commune in found])
    return IncidentPage(
        total=total,
        limit=limit,
        offset=offset,
        items=[_view(row, code, cameras.get(row.id)) for row, code in found],
    )


@router.get("/{incident_id}", response_model=IncidentView)
def read_incident(principal: Reader, session: SessionDep, incident_id: RowId) -> IncidentView:
    row, commune = _visible(session, principal, incident_id)
    return _view(row, commune, _cameras_of(session, principal, [row]).get(row.id))


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"


@router.get(
    "/{incident_id}/map",
    response_class=GeoJSONResponse,
    responses={200: {"description": "A GeoJSON FeatureCollection (WGS84)"}},
)
def read_incident_map(
    principal: Reader, session: SessionDep, incident_id: RowId
) -> GeoJSONResponse:
    """Where it is: the cameras, and for a cause its cables, closures and suspected section.

    Features have a ``role``: ``camera``, ``cable``, ``splice``, ``node``, ``suspect``; a cause
    shows only the cameras (and their masts) the caller may see.
    """
    row, _commune = _visible(session, principal, incident_id)
    if row.kind == "camera":
        cameras = [row.camera_id]
    else:
        cameras = _cameras_of(session, principal, [row]).get(row.id, [])
    return GeoJSONResponse(incident_map(session, row, cameras))


@router.post("/{incident_id}/ack", response_model=IncidentView)
def acknowledge_incident(
    principal: Acknowledger, session: SessionDep, incident_id: RowId, body: Acknowledgement
) -> IncidentView:
    """Take charge of an open incident: who, when and what is being done."""
    row, commune = _visible(session, principal, incident_id, lock=True)
    now = utcnow()
    try:
        acknowledged = acknowledge(
            incident_from_row(row), by=principal.actor, comment=body.comment, at=now
        )
    except AcknowledgementError as err:
        raise HTTPException(409, str(err)) from err
    row.acknowledged_at = acknowledged.acknowledged_at
    row.acknowledged_by = acknowledged.acknowledged_by
    row.comment = acknowledged.comment
    cameras = _cameras_of(session, principal, [row]).get(row.id, [])
    incident = acknowledged.to_dict()
    if row.kind != "camera":  # a cause says what it is and what it holds, as when it opened
        incident |= {"kind": row.kind, "cause": row.cause_label, "cameras": cameras}
    payload = {"type": "incident_acknowledged", "at": now.isoformat(), "incident": incident}
    append_events(session, [(row.camera_id, commune, now, payload)])
    audit.record_by(
        session,
        principal,
        action="incident.ack",
        object_type="incident",
        object_id=row.key,
        detail={"camera": row.camera_id, "comment": acknowledged.comment},
    )
    return _view(row, commune, cameras)
