"""``/api/v1/status``: the current state of every camera the caller may see, and one camera's
detail with its latest checks.

Scoping happens in SQL (``apply_scope`` on the camera's commune); a camera outside the caller's
scope answers 404 like one that does not exist. A camera never checked is ``unknown``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.orm import load_only

from supervision.conditions import State
from supervision.imaging import Thresholds
from vigie.auth.guards import require_roles
from vigie.auth.principal import Principal
from vigie.auth.roles import STATUS_READERS
from vigie.auth.scope import VisibleCamera
from vigie.clock import as_utc, utcnow
from vigie.deps import SessionDep
from vigie.live.views import CameraStatusView, status_statement, views_of
from vigie.models import (
    Camera,
    CameraPicture,
    CameraStatus,
    Commune,
    MaintenanceWindowRow,
    Observation,
)

router = APIRouter(prefix="/api/v1/status", tags=["supervision"])

Reader = Annotated[Principal, Depends(require_roles(*STATUS_READERS))]


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
    reference_frames: int = Field(
        description="Healthy snapshots the references have learned, day and night together."
    )
    snapshot_at: datetime | None = Field(description="When the last snapshot was taken.")
    regime: str | None = Field(
        default=None,
        description="The last picture's lighting regime: day (colour) or night (infrared, no "
        "colour); null before it was measured.",
    )
    reference_regime: str | None = Field(
        default=None,
        description="Whose reference judged it: its own regime's, or the other's while its own "
        "learns; null while none judges yet.",
    )
    learned: dict[str, int] | None = Field(
        default=None,
        description="Healthy snapshots each regime's reference has learned (day, night); null "
        "when unknown until the next check.",
    )
    reference_target: int = Field(
        default=Thresholds().reference_frames,
        description="Healthy snapshots a regime's reference learns before it is complete.",
    )
    seen: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Per problem, what was seen: covered {share}, displaced {kind: shift, dx, dy "
        "(pixels)} or {kind: other_view, match}, glare {share}, blurred {detail: share of the "
        "reference's}, frozen {difference}, video_loss {kind: black, uniform, synthetic}.",
    )


class CameraDetail(CameraStatusView):
    checks: list[Check] = Field(description="The latest checks, newest first.")
    maintenance: list[Window] = Field(description="Current and future maintenance windows.")
    picture: PictureHealth | None = Field(
        default=None, description="The last full check's picture verdict (null: none yet)."
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
    statement = status_statement(principal)
    if state:
        condition = CameraStatus.state.in_([s.value for s in state])
        if State.UNKNOWN in state:
            condition = or_(condition, CameraStatus.camera_id.is_(None))
        statement = statement.where(condition)
    if commune:
        statement = statement.where(Camera.commune_code.in_(commune))
    if epci:
        statement = statement.where(Commune.epci_siren.in_(epci))
    return views_of(session, list(session.execute(statement)))


@router.get("/{camera_id}", response_model=CameraDetail)
def camera_detail(
    principal: Reader,
    camera: VisibleCamera,
    session: SessionDep,
    checks: Annotated[int, Query(ge=1, le=200, description="How many latest checks.")] = 20,
) -> CameraDetail:
    """One camera's state, its latest checks and its current and coming maintenance windows."""
    camera_id = camera.id
    row = session.execute(status_statement(principal).where(Camera.id == camera_id)).one()
    (view,) = views_of(session, [row])
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
        picture=_picture(session.get(CameraPicture, camera_id, options=[_VERDICT])),
    )


_VERDICT = load_only(
    CameraPicture.assessed_at,
    CameraPicture.problems,
    CameraPicture.scores,
    CameraPicture.reference_frames,
    CameraPicture.snapshot_at,
    CameraPicture.judged,
)
"""What the camera detail shows of its pictures: not the references, the previous picture nor
the last snapshot's ciphertext (100-500 KB a request, read and thrown away before)."""


def _picture(row: CameraPicture | None) -> PictureHealth | None:
    if row is None or row.assessed_at is None:
        return None
    return PictureHealth(
        assessed_at=as_utc(row.assessed_at),
        problems=list(row.problems or []),
        scores=dict(row.scores or {}),
        reference_frames=row.reference_frames,
        snapshot_at=as_utc(row.snapshot_at) if row.snapshot_at else None,
        **_judged(row),
    )


def _judged(row: CameraPicture) -> dict[str, Any]:
    """The verdict's regime, reference and what was seen; a row stored before them (or reset
    since) holds only its day reference's count."""
    judged = row.judged if isinstance(row.judged, dict) else {}
    learned = judged.get("learned") if judged else {"day": row.reference_frames, "night": 0}
    return {
        "regime": judged.get("regime"),
        "reference_regime": judged.get("reference_regime"),
        "learned": learned,
        "seen": judged.get("seen") or {},
    }
