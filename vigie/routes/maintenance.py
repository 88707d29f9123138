"""``/api/v1/maintenance``: scheduled interventions, during which a camera is MAINTENANCE and
raises no incident. Operators and administrators plan them; each change is audited.

The state machine reads the windows from the database at every result and tick
(:func:`vigie.supervisor.store.apply_result`), so a new window applies from the next check.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import AwareDatetime, BaseModel, Field, model_validator
from sqlalchemy import select

from vigie import audit
from vigie.auth.guards import require_roles
from vigie.auth.principal import Principal, apply_scope
from vigie.auth.roles import Role
from vigie.auth.scope import visible_camera
from vigie.clock import as_utc, utcnow
from vigie.deps import RowId, SessionDep
from vigie.models import Camera, MaintenanceWindowRow
from vigie.plain_text import Line

router = APIRouter(prefix="/api/v1/maintenance", tags=["supervision"])

Planner = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.OPERATOR))]


class WindowCreate(BaseModel):
    camera_id: str = Field(min_length=1, max_length=64)
    start: AwareDatetime
    end: AwareDatetime
    reason: Line = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _ordered(self) -> WindowCreate:
        if self.end <= self.start:
            raise ValueError("end must come after start")
        return self


class WindowView(BaseModel):
    id: int
    camera_id: str
    start: datetime
    end: datetime
    reason: str
    created_by: str
    created_at: datetime


def _view(row: MaintenanceWindowRow) -> WindowView:
    return WindowView(
        id=row.id,
        camera_id=row.camera_id,
        start=as_utc(row.start),
        end=as_utc(row.end),
        reason=row.reason,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
    )


@router.get("", response_model=list[WindowView])
def list_windows(
    principal: Planner,
    session: SessionDep,
    camera: Annotated[list[str] | None, Query(description="Only these cameras.")] = None,
    past: Annotated[bool, Query(description="Include windows already over.")] = False,
) -> list[WindowView]:
    """Windows of the cameras the caller may see, by start."""
    statement = apply_scope(
        select(MaintenanceWindowRow).join(Camera, Camera.id == MaintenanceWindowRow.camera_id),
        principal,
        Camera.commune_code,
    ).order_by(MaintenanceWindowRow.start, MaintenanceWindowRow.id)
    if camera:
        statement = statement.where(MaintenanceWindowRow.camera_id.in_(camera))
    if not past:
        statement = statement.where(MaintenanceWindowRow.end > utcnow())
    return [_view(row) for row in session.scalars(statement)]


@router.post("", response_model=WindowView, status_code=201)
def create_window(principal: Planner, session: SessionDep, body: WindowCreate) -> WindowView:
    visible_camera(session, principal, body.camera_id)
    row = MaintenanceWindowRow(
        camera_id=body.camera_id,
        start=body.start,
        end=body.end,
        reason=body.reason.strip(),
        created_by=principal.actor,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record_by(
        session,
        principal,
        action="maintenance.create",
        object_type="camera",
        object_id=body.camera_id,
        detail={"window": row.id, "start": body.start.isoformat(), "end": body.end.isoformat()},
    )
    return _view(row)


@router.delete("/{window_id}", status_code=204)
def delete_window(principal: Planner, session: SessionDep, window_id: RowId) -> None:
    statement = apply_scope(
        select(MaintenanceWindowRow)
        .join(Camera, Camera.id == MaintenanceWindowRow.camera_id)
        .where(MaintenanceWindowRow.id == window_id),
        principal,
        Camera.commune_code,
    )
    row = session.scalar(statement)
    if row is None:
        raise HTTPException(404, f"no maintenance window {window_id}")
    session.delete(row)
    audit.record_by(
        session,
        principal,
        action="maintenance.delete",
        object_type="camera",
        object_id=row.camera_id,
        detail={"window": window_id},
    )
