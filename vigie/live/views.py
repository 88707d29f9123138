"""The camera status views: what ``GET /api/v1/status`` lists and what the live stream's snapshot
sends, the same rows both ways.

Scoping happens in SQL (``apply_scope`` on the camera's commune); a camera never checked is
``unknown``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from supervision.conditions import State
from vigie.auth.principal import Principal, apply_scope
from vigie.clock import as_utc
from vigie.models import Camera, CameraStatus, Commune, IncidentRow


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


def status_statement(principal: Principal) -> Select:
    """Cameras the caller may see with their status and EPCI, by id; filters go on top."""
    statement = (
        select(Camera, CameraStatus, Commune.epci_siren)
        .outerjoin(CameraStatus, CameraStatus.camera_id == Camera.id)
        .join(Commune, Commune.code == Camera.commune_code)
        .order_by(Camera.id)
    )
    return apply_scope(statement, principal, Camera.commune_code)


def views_of(session: Session, rows: list) -> list[CameraStatusView]:
    """Rows of :func:`status_statement` as views, with their open incidents (one query)."""
    ids = [camera.id for camera, _status, _epci in rows]
    open_incidents = (
        {
            row.camera_id: row
            for row in session.scalars(
                select(IncidentRow).where(
                    IncidentRow.camera_id.in_(ids),
                    IncidentRow.closed_at.is_(None),
                    IncidentRow.kind == "camera",  # its own, not a cause it stands for
                )
            )
        }
        if ids
        else {}
    )
    return [
        _view(camera, status, epci, open_incidents.get(camera.id)) for camera, status, epci in rows
    ]


def status_views(session: Session, principal: Principal) -> list[CameraStatusView]:
    """Every camera the caller may see, as ``GET /api/v1/status`` lists them (the live
    stream's snapshot is this list)."""
    return views_of(session, list(session.execute(status_statement(principal))))


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
