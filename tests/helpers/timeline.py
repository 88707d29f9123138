"""Builders for check results and a runner that folds them through the state machine."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from supervision.incidents import Incident, IncidentEvent, record_event
from supervision.states import (
    CameraState,
    CheckKind,
    CheckResult,
    ErrorKind,
    Event,
    Policy,
    StateChanged,
    step,
    tick,
)

CAMERA = "27229-mairie-1"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def at(minutes: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def live(
    time: datetime, *, ok: bool = True, clock: float = 0.0, camera: str = CAMERA
) -> CheckResult:
    """A liveness check: reachability and the clock offset."""
    return CheckResult(
        camera_id=camera,
        kind=CheckKind.LIVENESS,
        time=time,
        reachable=ok,
        error=None if ok else ErrorKind.TIMEOUT,
        clock_offset_s=clock if ok else None,
    )


def full(
    time: datetime,
    *,
    problems: Iterable[str] = (),
    auth_failed: bool = False,
    resolution: tuple[int, int] = (1920, 1080),
    camera: str = CAMERA,
) -> CheckResult:
    """A full check; a failed authentication observes no picture."""
    return CheckResult(
        camera_id=camera,
        kind=CheckKind.FULL,
        time=time,
        reachable=True,
        auth_failed=auth_failed,
        picture_problems=None if auth_failed else frozenset(problems),
        resolution=None if auth_failed else resolution,
        expected_resolution=(1920, 1080),
    )


def stream(time: datetime, *, fps: float = 25.0, camera: str = CAMERA) -> CheckResult:
    return CheckResult(
        camera_id=camera,
        kind=CheckKind.STREAM,
        time=time,
        reachable=True,
        frame_rate=fps,
        resolution=(1920, 1080),
        expected_resolution=(1920, 1080),
    )


def liveness_run(
    start: datetime, outcomes: Iterable[bool], *, every: timedelta = timedelta(seconds=30)
) -> list[CheckResult]:
    """Liveness checks at ``start``, ``start + every``, ... with the given reachability."""
    return [live(start + i * every, ok=ok) for i, ok in enumerate(outcomes)]


def run(
    items: Iterable[CheckResult | datetime],
    policy: Policy | None = None,
    state: CameraState | None = None,
) -> tuple[CameraState, list[Event]]:
    """Feed results (``step``) and bare times (``tick``) in order; all the events."""
    policy = policy or Policy()
    state = state or CameraState(camera_id=CAMERA)
    events: list[Event] = []
    for item in items:
        if isinstance(item, CheckResult):
            state, new = step(state, item, policy)
        else:
            state, new = tick(state, item, policy)
        events += new
    return state, events


def states_of(events: Iterable[Event]) -> list[str]:
    return [e.state.value for e in events if isinstance(e, StateChanged)]


def incidents_of(events: Iterable[Event]) -> dict[str, Incident]:
    """The incidents as a database folding the events would hold them."""
    stored: dict[str, Incident] = {}
    for event in events:
        if isinstance(event, IncidentEvent):
            key = event.incident.key
            stored[key] = record_event(stored.get(key), event)
    return stored


def incident_changes(events: Iterable[Event]) -> list[str]:
    return [e.change.value for e in events if isinstance(e, IncidentEvent)]
