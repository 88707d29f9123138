"""Unsupervised time (the supervisor stopped or crashed): UNKNOWN, never UP or DOWN by default.

Issue 21: after a stop, a camera switched off meanwhile was recorded UP until the restart, one
that came back was recorded DOWN, and incidents whose quiet period ran during the stop closed at
the restart as if the camera had been watched.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from supervision.availability import camera_availability, spans_from_events
from supervision.states import (
    CameraState,
    Event,
    MaintenanceWindow,
    Policy,
    Reason,
    State,
    StateChanged,
    lapse,
)
from tests.helpers.timeline import (
    CAMERA,
    at,
    incident_changes,
    live,
    liveness_run,
    run,
    states_of,
)


def _lapsed(
    state: CameraState, when: datetime, policy: Policy | None = None
) -> tuple[CameraState, list[Event]]:
    return lapse(state, when, policy or Policy())


def test_an_up_camera_switched_off_during_a_stop_is_never_counted_up_after_it() -> None:
    state, history = run(liveness_run(at(0), [True] * 4))  # up, last check 08:01:30
    state, events = _lapsed(state, at(1, 31))  # graceful stop at 08:01:31
    assert [(e.state, e.reason, e.at) for e in events if isinstance(e, StateChanged)] == [
        (State.UNKNOWN, Reason.UNSUPERVISED, at(1, 31))
    ]
    history += events
    # restart 31 s later; the camera was switched off meanwhile
    state, events = run(liveness_run(at(2, 2), [False] * 3), state=state)
    history += events
    assert states_of(events) == ["down"], "no UP between the restart and DOWN"
    assert events[0].at == at(3, 2)
    spans = spans_from_events(e for e in history if isinstance(e, StateChanged))
    report = camera_availability(spans, start=at(0), end=at(4))[CAMERA]
    assert report.up_s == 91  # 08:00:00 to the stop
    assert report.unknown_s == 91  # the stop and the K checks after it
    assert report.down_s == 58


def test_a_down_camera_back_during_a_stop_is_not_counted_down_after_it() -> None:
    state, _ = run(liveness_run(at(0), [True, False, False, False]))
    assert state.state is State.DOWN
    state, events = _lapsed(state, at(1, 35))
    assert states_of(events) == ["unknown"]
    state, events = run([live(at(2, 10))], state=state)
    assert events == [], "one answer is not J=2: neither DOWN nor UP yet"
    state, events = run([live(at(2, 40))], state=state)
    assert states_of(events) == ["up"]


def test_the_quiet_period_counts_only_supervised_time() -> None:
    policy = Policy()  # close_after 5 min
    state, _ = run(liveness_run(at(0), [True, False, False, False, True, True]), policy)
    assert state.state is State.UP and state.incident is not None  # UP since 08:02:30
    state, events = _lapsed(state, at(2, 31), policy)
    key = state.incident.key
    # a 20-minute stop: ticks after the restart, before the first check, close nothing
    state, events = run([at(22, 31)], policy, state=state)
    assert events == [] and state.incident is not None
    state, events = run(liveness_run(at(22, 40), [True] * 11), policy, state=state)
    assert states_of(events) == ["up"] and events[0].at == at(22, 40)
    closed = [e for e in events if incident_changes([e]) == ["incident_closed"]]
    assert len(closed) == 1
    assert closed[0].incident.key == key
    assert closed[0].incident.closed_at == at(27, 40), "close_after after the first UP check"


def test_a_lapse_never_goes_back_before_the_last_check_nor_touches_maintenance() -> None:
    state, _ = run(liveness_run(at(0), [True] * 3))
    state, events = _lapsed(state, at(0, 10))
    assert events[0].at == at(1), "not before the last check"
    again, events = _lapsed(state, at(5))
    assert events == [] and again == state, "already UNKNOWN"
    never = CameraState(camera_id=CAMERA)
    assert _lapsed(never, at(5)) == (never, [])
    window = MaintenanceWindow(start=at(0), end=at(10))
    policy = Policy(maintenance=(window,))
    state, _ = run(liveness_run(at(1), [True] * 2), policy)
    assert state.state is State.MAINTENANCE
    assert _lapsed(state, at(2), policy)[1] == []


def test_an_open_incident_stays_open_through_the_lapse() -> None:
    state, _ = run(liveness_run(at(0), [False] * 3))
    incident = state.incident
    state, events = _lapsed(state, at(1, 5))
    assert state.incident is not None and state.incident.key == incident.key
    assert "incident_closed" not in incident_changes(events)
    state, events = run(liveness_run(at(30), [False]), state=state)
    assert states_of(events) == ["down"] and state.incident.key == incident.key
    assert timedelta(0) < events[0].at - at(1, 5)
