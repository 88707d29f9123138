"""Incident records: severity, acknowledgement rules, storage of events, serialisation."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

import pytest

from supervision.incidents import (
    AcknowledgementError,
    CloseReason,
    Incident,
    IncidentChange,
    IncidentError,
    IncidentEvent,
    Severity,
    acknowledge,
    close_incident,
    follow_incident,
    open_incident,
    record_event,
    severity_of,
)
from supervision.states import Cause, State
from tests.helpers.timeline import CAMERA, at, incidents_of, liveness_run, run


def _incident() -> Incident:
    return open_incident(
        key=f"{CAMERA}/1",
        camera_id=CAMERA,
        at=at(0),
        state=State.DOWN,
        causes=frozenset({Cause.UNREACHABLE}),
        severity=Severity.MAJOR,
    )


@pytest.mark.parametrize(
    ("state", "causes", "critical", "expected"),
    [
        (State.DOWN, {Cause.UNREACHABLE}, False, Severity.MAJOR),
        (State.DOWN, {Cause.UNREACHABLE}, True, Severity.CRITICAL),
        (State.DEGRADED, {Cause.COVERED}, True, Severity.MAJOR),
        (State.DEGRADED, {Cause.VIDEO_LOSS, Cause.GLARE}, False, Severity.MAJOR),
        (State.DEGRADED, {Cause.AUTH_FAILED}, False, Severity.MAJOR),
        (State.DEGRADED, {Cause.BLURRED, Cause.CLOCK_OFFSET}, True, Severity.MINOR),
        (State.DEGRADED, {Cause.LOW_FRAME_RATE}, False, Severity.MINOR),
    ],
)
def test_severity(state: State, causes: set, critical: bool, expected: Severity) -> None:
    assert severity_of(state, causes, critical=critical) is expected


def test_acknowledge_records_who_when_and_why() -> None:
    acked = acknowledge(_incident(), by=" op.dupont ", comment=" technicien prévenu ", at=at(3))
    assert acked.acknowledged_by == "op.dupont"
    assert acked.comment == "technicien prévenu"
    assert acked.acknowledged_at == at(3)
    assert acked.is_open


def test_acknowledging_twice_is_refused_and_keeps_the_first() -> None:
    acked = acknowledge(_incident(), by="op.dupont", comment="technicien prévenu", at=at(3))
    with pytest.raises(AcknowledgementError, match=r"already acknowledged by op\.dupont"):
        acknowledge(acked, by="op.martin", comment="moi aussi", at=at(4))


def test_acknowledging_a_closed_incident_is_refused() -> None:
    closed = close_incident(_incident(), at=at(10), reason=CloseReason.RECOVERED)
    with pytest.raises(AcknowledgementError, match=f"incident {CAMERA}/1 .* is closed since"):
        acknowledge(closed, by="op.dupont", comment="trop tard", at=at(11))


@pytest.mark.parametrize(
    ("by", "comment", "when", "message"),
    [
        ("op.dupont", "  ", at(3), "needs a comment"),
        ("", "vu", at(3), "operator is missing"),
        ("op.dupont", "vu", datetime(2026, 3, 2, 9), "naive datetime"),
        ("op.dupont", "vu", at(-1), "before it opened"),
    ],
)
def test_bad_acknowledgements_are_refused(
    by: str, comment: str, when: datetime, message: str
) -> None:
    with pytest.raises(AcknowledgementError, match=message):
        acknowledge(_incident(), by=by, comment=comment, at=when)


def test_storing_an_update_keeps_the_acknowledgement() -> None:
    state, events = run(liveness_run(at(0), [True, False, False, False]))
    stored = incidents_of(events)[f"{CAMERA}/1"]
    stored = acknowledge(stored, by="op.dupont", comment="intervention demandée", at=at(2))
    state, later = run(liveness_run(at(3), [True, True]), state=state)
    (update,) = [e for e in later if isinstance(e, IncidentEvent)]
    assert update.change is IncidentChange.UPDATED
    assert update.incident.acknowledged_by is None, "the state machine does not know"
    kept = record_event(stored, update)
    assert kept.state is State.UP
    assert kept.acknowledged_by == "op.dupont"
    assert kept.comment == "intervention demandée"
    assert record_event(kept, update) == kept, "replaying an event changes nothing"


def test_an_event_for_another_incident_is_refused() -> None:
    other = replace(_incident(), key=f"{CAMERA}/2")
    event = IncidentEvent(change=IncidentChange.UPDATED, incident=other)
    with pytest.raises(ValueError, match=f"{CAMERA}/2 applied to incident {CAMERA}/1"):
        record_event(_incident(), event)


def test_follow_keeps_the_worst_severity_and_the_causes_seen() -> None:
    down = _incident()
    degraded = follow_incident(
        down,
        at=at(5),
        state=State.DEGRADED,
        causes=frozenset({Cause.GLARE}),
        severity=Severity.MINOR,
        flapping=False,
        returned=False,
    )
    assert degraded.severity is Severity.MAJOR
    assert degraded.seen_causes == {Cause.UNREACHABLE, Cause.GLARE}
    assert degraded.updated_at == at(5)
    same = follow_incident(
        degraded,
        at=at(6),
        state=State.DEGRADED,
        causes=frozenset({Cause.GLARE}),
        severity=Severity.MINOR,
        flapping=False,
        returned=False,
    )
    assert same is degraded, "nothing changed: no update to send"


def test_an_incident_opens_only_on_a_problem_and_closes_once() -> None:
    with pytest.raises(ValueError, match="DOWN or DEGRADED"):
        open_incident(
            key="x/1",
            camera_id="x",
            at=at(0),
            state=State.UP,
            causes=frozenset(),
            severity=Severity.MINOR,
        )
    closed = close_incident(_incident(), at=at(1), reason=CloseReason.MAINTENANCE)
    with pytest.raises(ValueError, match="already closed"):
        close_incident(closed, at=at(2), reason=CloseReason.RECOVERED)


def test_incident_round_trips_through_json() -> None:
    acked = acknowledge(_incident(), by="op.dupont", comment="vu", at=at(1))
    closed = close_incident(acked, at=at(9), reason=CloseReason.RECOVERED)
    data = json.loads(json.dumps(closed.to_dict()))
    assert data["causes"] == ["unreachable"]
    assert data["closed_at"] == "2026-03-02T08:09:00+00:00"
    assert Incident.from_dict(data) == closed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"severity": "apocalyptic"}, "severity|apocalyptic"),
        ({"opened_at": None}, "opened_at is required"),
        ({"owner": "me"}, "unknown field"),
        ({"causes": ["rain"]}, "rain"),
    ],
)
def test_a_bad_stored_incident_is_refused_naming_it(change: dict, message: str) -> None:
    data = _incident().to_dict() | change
    with pytest.raises(IncidentError, match=message) as caught:
        Incident.from_dict(data)
    assert f"incident {CAMERA}/1" in str(caught.value)
