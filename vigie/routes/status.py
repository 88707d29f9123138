"""``/api/v1/status``: the current state of every camera the caller may see, and one camera's
detail with its latest checks.

Scoping happens in SQL (``apply_scope`` on the camera's commune); a camera outside the caller's
scope answers 404 like one that does not exist. A camera never checked is ``unknown``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from supervision.conditions import State
from vigie.auth.guards import require_roles
from vigie.auth.principal import Principal, apply_scope
from vigie.auth.roles import Role
from vigie.clock import as_utc, utcnow
from vigie.deps import SessionDep
from vigie.models import (
    Camera,
    CameraPicture,
    CameraStatus,
    Commune,
    IncidentRow,
    MaintenanceWindowRow,
    Observation,
)

router = APIRouter(prefix="/api/v1/status", tags=["supervision"])

# Engineers read supervision (they commission cameras and follow the maintenance contract);
# AMO deals with plans and estimates only.
STATUS_READERS = (Role.ADMIN, Role.ENGINEER, Role.OPERATOR, Role.GENDARMERIE, Role.COMMUNE)
Reader = Annotated[Principal, Depends(require_roles(*STATUS_READERS))]


class OpenIncident(BaseModel):
    id: int
    key: str
    severity: str
    opened_at: datetime
    acknowledged: bool


class CameraStatusView(BaseModel):
    camera_id: str
    name: str
    commune: str
    epci: str | None
    latitude: float
    longitude: float
    state: State
    since: datetime | None
    causes: list[str]
    last_check_at: datetime | None
    incident: OpenIncident | None


class Check(BaseModel):
    kind: str
    at: datetime
    reachable: bool
    observed: dict[str, Any] = Field(description="What the check observed (null: not observed).")


class Window(BaseModel):
    id: int
    start: datetime
    end: datetime
    reason: str


class PictureHealth(BaseModel):
    """The last snapshot's verdict (``supervision.imaging``): no picture, only numbers."""

    assessed_at: datetime
    problems: list[str]
    scores: dict[str, float] = Field(
        description="Per problem judged, measurement over threshold: >= 1 means crossed."
    )
    reference_frames: int = Field(description="Healthy snapshots the reference has learned.")
    snapshot_at: datetime | None = Field(description="When the last snapshot was taken.")


class CameraDetail(CameraStatusView):
    checks: list[Check] = Field(description="The latest checks, newest first.")
    maintenance: list[Window] = Field(description="Current and future maintenance windows.")
    picture: PictureHealth | None = Field(
        default=None, description="The last full check's picture verdict (null: none yet)."
    )


def visible_camera(session: Session, principal: Principal, camera_id: str) -> Camera:
    """The camera if the caller may see it; 404 otherwise (outside scope looks like absent)."""
    statement = apply_scope(
        select(Camera).where(Camera.id == camera_id), principal, Camera.commune_code
    )
    camera = session.scalar(statement)
    if camera is None:
        raise HTTPException(404, f"no camera {camera_id}")
    return camera


def _statement(principal: Principal):
    statement = (
        select(Camera, CameraStatus, Commune.epci_siren)
        .outerjoin(CameraStatus, CameraStatus.camera_id == Camera.id)
        .join(Commune, Commune.code == Camera.commune_code)
        .order_by(Camera.id)
    )
    return apply_scope(statement, principal, Camera.commune_code)


def _views(session: Session, rows: list) -> list[CameraStatusView]:
    ids = [camera.id for camera, _status, _epci in rows]
    open_incidents = (
        {
            row.camera_id: row
            for row in session.scalars(
                select(IncidentRow).where(
                    IncidentRow.camera_id.in_(ids), IncidentRow.closed_at.is_(None)
                )
            )
        }
        if ids
        else {}
    )
    return [
        _view(camera, status, epci, open_incidents.get(camera.id)) for camera, status, epci in rows
    ]


def _view(
    camera: Camera, status: CameraStatus | None, epci: str | None, incident: IncidentRow | None
) -> CameraStatusView:
    saved = status.saved if status is not None else {}
    last_check = saved.get("last_check_at")
    return CameraStatusView(
        camera_id=camera.id,
        name=camera.name,
        commune=camera.commune_code,
        epci=epci,
        latitude=camera.latitude,
        longitude=camera.longitude,
        state=State(status.state) if status is not None else State.UNKNOWN,
        since=as_utc(status.since) if status is not None and status.since else None,
        causes=list(saved.get("causes", [])),
        last_check_at=datetime.fromisoformat(last_check) if last_check else None,
        incident=None
        if incident is None
        else OpenIncident(
            id=incident.id,
            key=incident.key,
            severity=incident.severity,
            opened_at=as_utc(incident.opened_at),
            acknowledged=incident.acknowledged_at is not None,
        ),
    )


@router.get("", response_model=list[CameraStatusView])
def list_status(
    principal: Reader,
    session: SessionDep,
    state: Annotated[list[State] | None, Query(description="Only these states.")] = None,
    commune: Annotated[list[str] | None, Query(description="Only these INSEE codes.")] = None,
    epci: Annotated[list[str] | None, Query(description="Only these EPCI SIRENs.")] = None,
) -> list[CameraStatusView]:
    """Every camera the caller may see with its current state, causes and open incident."""
    statement = _statement(principal)
    if state:
        condition = CameraStatus.state.in_([s.value for s in state])
        if State.UNKNOWN in state:
            condition = or_(condition, CameraStatus.camera_id.is_(None))
        statement = statement.where(condition)
    if commune:
        statement = statement.where(Camera.commune_code.in_(commune))
    if epci:
        statement = statement.where(Commune.epci_siren.in_(epci))
    return _views(session, list(session.execute(statement)))


@router.get("/{camera_id}", response_model=CameraDetail)
def camera_detail(
    principal: Reader,
    session: SessionDep,
    camera_id: str,
    checks: Annotated[int, Query(ge=1, le=200, description="How many latest checks.")] = 20,
) -> CameraDetail:
    """One camera's state, its latest checks and its current and coming maintenance windows."""
    visible_camera(session, principal, camera_id)
    row = session.execute(_statement(principal).where(Camera.id == camera_id)).one()
    (view,) = _views(session, [row])
    observations = session.scalars(
        select(Observation)
        .where(Observation.camera_id == camera_id)
        .order_by(Observation.at.desc(), Observation.id.desc())
        .limit(checks)
    )
    windows = session.scalars(
        select(MaintenanceWindowRow)
        .where(MaintenanceWindowRow.camera_id == camera_id, MaintenanceWindowRow.end > utcnow())
        .order_by(MaintenanceWindowRow.start)
    )
    return CameraDetail(
        **view.model_dump(),
        checks=[
            Check(
                kind=o.kind,
                at=as_utc(o.at),
                reachable=o.reachable,
                observed={
                    k: v for k, v in o.data.items() if k not in ("kind", "time", "reachable")
                },
            )
            for o in observations
        ],
        maintenance=[
            Window(id=w.id, start=as_utc(w.start), end=as_utc(w.end), reason=w.reason)
            for w in windows
        ],
        picture=_picture(session.get(CameraPicture, camera_id)),
    )


def _picture(row: CameraPicture | None) -> PictureHealth | None:
    if row is None or row.assessed_at is None:
        return None
    return PictureHealth(
        assessed_at=as_utc(row.assessed_at),
        problems=list(row.problems or []),
        scores=dict(row.scores or {}),
        reference_frames=row.reference_frames,
        snapshot_at=as_utc(row.snapshot_at) if row.snapshot_at else None,
    )
