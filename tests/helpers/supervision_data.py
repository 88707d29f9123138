"""Cameras and check results shared by the supervision store and route tests, and a way to feed
them to the store as the scheduler does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from supervision.states import CheckKind, CheckResult, ErrorKind, Policy
from tests.helpers.service import Service
from vigie import db
from vigie.models import Camera, SupervisionEvent
from vigie.supervisor.store import apply_result

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
STEP = timedelta(seconds=30)

# camera id -> commune (tests.helpers.service.COMMUNES: 27056 and 27229 in EPCI A, 27681 in B)
CAMERAS = {"cam-a1": "27056", "cam-a2": "27229", "cam-b1": "27681"}


def add_cameras(engine: Engine, cameras: dict[str, str] = CAMERAS) -> None:
    with db.session_scope(db.session_factory(engine)) as session:
        for camera_id, commune in cameras.items():
            session.add(
                Camera(
                    id=camera_id,
                    name=f"Camera {camera_id}",
                    commune_code=commune,
                    latitude=49.0,
                    longitude=1.15,
                    host="127.0.0.1",
                    port=8000,
                    created_at=T0,
                    updated_at=T0,
                )
            )


def ok(camera_id: str, at: datetime, **observed: object) -> CheckResult:
    return CheckResult(
        camera_id=camera_id, kind=CheckKind.LIVENESS, time=at, reachable=True, **observed
    )


def full(camera_id: str, at: datetime, *problems: str) -> CheckResult:
    """A full check of a reachable camera, its picture showing ``problems``."""
    return CheckResult(
        camera_id=camera_id,
        kind=CheckKind.FULL,
        time=at,
        reachable=True,
        auth_failed=False,
        picture_problems=frozenset(problems),
    )


def down(camera_id: str, at: datetime) -> CheckResult:
    return CheckResult(
        camera_id=camera_id,
        kind=CheckKind.LIVENESS,
        time=at,
        reachable=False,
        error=ErrorKind.TIMEOUT,
    )


def outage(camera_id: str, start: datetime, failures: int, recoveries: int) -> list[CheckResult]:
    """``failures`` failed checks then ``recoveries`` good ones, 30 s apart."""
    return [down(camera_id, start + i * STEP) for i in range(failures)] + [
        ok(camera_id, start + (failures + i) * STEP) for i in range(recoveries)
    ]


OUTAGE = T0 + timedelta(hours=1)
"""cam-a1 and cam-b1 fail from here (the ``supervised`` fixture of tests/vigie/routes/conftest.py);
DOWN at the third failure, 60 s later."""


def feed(service: Service, results) -> None:
    """Apply results as the scheduler will: one transaction each."""
    with db.session_scope(db.session_factory(service.engine)) as session:
        for result in results:
            apply_result(session, result.camera_id, result, Policy(), result.time)


def head_of(session: Session) -> int:
    """The last event number stored (0 when none)."""
    return session.scalar(select(func.max(SupervisionEvent.seq))) or 0


def head(engine: Engine) -> int:
    with db.session_scope(db.session_factory(engine)) as session:
        return head_of(session)


def stored(engine: Engine, after: int = 0) -> list[dict]:
    """The payloads of the events numbered above ``after``, in order."""
    with db.session_scope(db.session_factory(engine)) as session:
        rows = session.scalars(
            select(SupervisionEvent).where(SupervisionEvent.seq > after).order_by("seq")
        )
        return [row.payload for row in rows]
