"""apply_result and apply_tick on a real database: one transaction, idempotent, restart-safe."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from supervision.availability import camera_availability
from supervision.conditions import Cause, State
from supervision.imaging import Reference, RegimeReferences, assess
from supervision.incidents import IncidentEvent, record_event
from supervision.probes import picture_observed
from supervision.states import CameraState, MaintenanceWindow, Policy, step, tick
from tests.helpers import picture_faults as pf
from tests.helpers.service import seed
from tests.helpers.supervision_data import STEP, T0, add_cameras, down, full, ok, outage
from vigie import db
from vigie.auth.principal import Principal
from vigie.auth.roles import Role
from vigie.models import (
    CameraStatus,
    IncidentRow,
    MaintenanceWindowRow,
    Observation,
    StateChange,
    SupervisionEvent,
)
from vigie.supervisor.store import (
    UnknownCameraError,
    apply_result,
    apply_tick,
    events_after,
    incident_from_row,
    load_state,
    purge_observations,
    state_spans,
)

POLICY = Policy()


@pytest.fixture
def session(seeded: Engine) -> Iterator[Session]:
    with db.session_factory(seeded)() as session:
        yield session


def count(session: Session, table: type) -> int:
    return session.scalar(select(func.count()).select_from(table)) or 0


def test_an_outage_opens_and_closes_one_incident_with_numbered_events(session: Session) -> None:
    # UP, DOWN at the 3rd failure, UP at the 2nd success (T0 + 4 steps), then 5 min UP closes it.
    results = [ok("cam-a1", T0 - STEP), *outage("cam-a1", T0, failures=3, recoveries=2)]
    for result in results:
        apply_result(session, "cam-a1", result, POLICY, result.time)
    session.commit()
    status = session.get(CameraStatus, "cam-a1")
    assert status is not None and status.state == "up"
    assert status.last_observation is not None and status.last_observation["reachable"] is True
    (incident,) = session.scalars(select(IncidentRow)).all()
    assert (incident.key, incident.closed_at, incident.severity) == ("cam-a1/1", None, "major")
    for index in range(1, 11):
        result = ok("cam-a1", T0 + (4 + index) * STEP)
        apply_result(session, "cam-a1", result, POLICY, result.time)
        session.commit()
        session.refresh(incident)
        assert (incident.closed_at is None) == (index < 10)
    assert incident.close_reason == "recovered"
    states = session.scalars(select(StateChange.state).order_by(StateChange.id)).all()
    assert states == ["up", "down", "up"]
    events = session.scalars(select(SupervisionEvent).order_by(SupervisionEvent.seq)).all()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.type for e in events] == [
        "state_changed",
        "state_changed",
        "incident_opened",
        "state_changed",
        "incident_updated",
        "incident_closed",
    ]
    assert all(e.payload["seq"] == e.seq and e.commune_code == "27056" for e in events)
    # Kept: the first check, the failures, and the successes that changed something.
    assert count(session, Observation) == 6


def test_a_result_delivered_twice_writes_nothing_the_second_time(session: Session) -> None:
    results = outage("cam-a1", T0, failures=3, recoveries=0)
    for result in results:
        assert apply_result(session, "cam-a1", result, POLICY, result.time) or True
    session.commit()
    before = [count(session, t) for t in (Observation, SupervisionEvent, StateChange)]
    saved = session.get(CameraStatus, "cam-a1").saved
    for result in results:
        assert apply_result(session, "cam-a1", result, POLICY, result.time) == []
    session.commit()
    assert [count(session, t) for t in (Observation, SupervisionEvent, StateChange)] == before
    assert session.get(CameraStatus, "cam-a1").saved == saved


def test_a_rolled_back_step_leaves_no_trace(session: Session) -> None:
    apply_result(session, "cam-a1", ok("cam-a1", T0), POLICY, T0)
    session.commit()
    for result in outage("cam-a1", T0 + STEP, failures=3, recoveries=0):
        apply_result(session, "cam-a1", result, POLICY, result.time)
    assert count(session, IncidentRow) == 1  # visible inside the transaction...
    session.rollback()
    assert count(session, IncidentRow) == 0  # ...and all gone with it
    assert count(session, SupervisionEvent) == 1
    assert load_state(session, "cam-a1").last_check_at == T0


def _scenario() -> list:
    """Two outages, then flapping, with ticks in between: (kind, camera, payload)."""
    items: list = []
    start = T0
    for failures, recoveries in ((4, 12), (3, 2), (3, 2), (3, 2), (3, 20)):
        for result in outage("cam-b1", start, failures, recoveries):
            items.append(("result", result))
            items.append(("tick", result.time + STEP / 2))
        start += (failures + recoveries) * STEP
    items.append(("tick", start + timedelta(hours=1)))
    return items


def _expected() -> tuple[list[dict], int]:
    """The incidents and number of events of the scenario run in memory, uninterrupted."""
    state, stored, events = CameraState(camera_id="cam-b1"), {}, 0
    for kind, item in _scenario():
        if kind == "result":
            state, new = step(state, item, POLICY)
        else:
            state, new = tick(state, item, POLICY)
        events += len(new)
        for event in new:
            if isinstance(event, IncidentEvent):
                key = event.incident.key
                stored[key] = record_event(stored.get(key), event)
    return [stored[k].to_dict() for k in sorted(stored)], events


def test_a_restart_resumes_without_duplicate_or_lost_incidents(seeded: Engine) -> None:
    url = str(seeded.url.render_as_string(hide_password=False))
    items = _scenario()
    expected, expected_events = _expected()
    assert len(expected) == 2 and any(i["flapping"] for i in expected)
    engine = db.make_engine(url)
    for index, (kind, item) in enumerate(items):
        if index % 7 == 0:  # a restart: new engine, new session, state read back
            engine.dispose()
            engine = db.make_engine(url)
            if kind == "result" and index:
                # the queue redelivers what the dead process may not have committed
                previous = items[index - 2][1]
                with db.session_scope(db.session_factory(engine)) as session:
                    assert apply_result(session, "cam-b1", previous, POLICY, previous.time) == []
        with db.session_scope(db.session_factory(engine)) as session:
            if kind == "result":
                apply_result(session, "cam-b1", item, POLICY, item.time)
            else:
                apply_tick(session, "cam-b1", POLICY, item)
    with db.session_scope(db.session_factory(engine)) as session:
        rows = session.scalars(select(IncidentRow).order_by(IncidentRow.key)).all()
        assert [incident_from_row(r).to_dict() for r in rows] == expected
        assert count(session, SupervisionEvent) == expected_events
        seqs = session.scalars(select(SupervisionEvent.seq).order_by(SupervisionEvent.seq)).all()
        assert seqs == list(range(1, expected_events + 1))
    engine.dispose()


def test_a_stored_maintenance_window_raises_no_incident(session: Session) -> None:
    session.add(
        MaintenanceWindowRow(
            camera_id="cam-a2",
            start=T0 - timedelta(minutes=1),
            end=T0 + timedelta(hours=1),
            reason="mast repainted",
            created_by="operator",
            created_at=T0,
        )
    )
    session.flush()
    for result in outage("cam-a2", T0, failures=5, recoveries=0):
        apply_result(session, "cam-a2", result, POLICY, result.time)
    session.commit()
    assert session.get(CameraStatus, "cam-a2").state == "maintenance"
    assert count(session, IncidentRow) == 0
    # The window from the database adds to the policy's own, it does not replace them.
    extra = MaintenanceWindow(start=T0 + timedelta(hours=2), end=T0 + timedelta(hours=3))
    apply_result(
        session,
        "cam-a2",
        down("cam-a2", T0 + timedelta(hours=2, minutes=1)),
        Policy(maintenance=(extra,)),
        T0,
    )
    assert load_state(session, "cam-a2").state is State.MAINTENANCE


def test_unknown_camera_is_refused_by_name(session: Session) -> None:
    with pytest.raises(UnknownCameraError, match="camera nope: not in the inventory"):
        apply_result(session, "nope", ok("nope", T0), POLICY, T0)


def test_purge_keeps_recent_observations_and_the_latest_status(session: Session) -> None:
    for day in range(40):
        result = full("cam-a1", T0 + timedelta(days=day))
        apply_result(session, "cam-a1", result, POLICY, result.time)
    session.commit()
    now = T0 + timedelta(days=40)
    assert purge_observations(session, now=now, retention=timedelta(days=30)) == 10
    session.commit()
    assert count(session, Observation) == 30
    oldest = session.scalar(select(func.min(Observation.at)))
    assert oldest is not None and oldest.replace(tzinfo=None) >= (now - timedelta(days=30)).replace(
        tzinfo=None
    )
    assert session.get(CameraStatus, "cam-a1").last_observation["time"].startswith("2026-04-10")


def test_stored_history_gives_availability(session: Session) -> None:
    # cam-a1 UP from its 2nd check, DOWN after the 3rd failure, UP again after 2 successes.
    results = [ok("cam-a1", T0), *outage("cam-a1", T0 + timedelta(hours=1), 3, 2)]
    for result in results:
        apply_result(session, "cam-a1", result, POLICY, result.time)
    session.commit()
    end = T0 + timedelta(hours=2)
    spans = state_spans(session, ["cam-a1", "cam-a2"], end=end)
    figures = camera_availability(spans, start=T0, end=end, cameras=["cam-a1", "cam-a2"])
    down_s = (2 * STEP).total_seconds()  # DOWN at the 3rd failure, UP at the 2nd success
    assert figures["cam-a1"].down_s == down_s
    assert figures["cam-a1"].up_s == 7200 - down_s
    assert figures["cam-a2"].unknown_s == 7200


@pytest.mark.postgres
def test_two_workers_on_one_camera_are_serialised(postgres_url: str) -> None:
    """The second worker waits for the first one's commit and folds into its state, so neither
    result is lost; event numbers are committed in order."""
    engine = db.make_engine(postgres_url)
    seed(engine)
    add_cameras(engine)
    factory = db.session_factory(engine)
    with db.session_scope(factory) as session:
        apply_result(session, "cam-a1", ok("cam-a1", T0), POLICY, T0)
    first = factory()
    apply_result(first, "cam-a1", down("cam-a1", T0 + STEP), POLICY, T0)  # holds the row lock
    done = threading.Event()

    def second_worker() -> None:
        with db.session_scope(factory) as session:
            result = down("cam-a1", T0 + 2 * STEP)
            apply_result(session, "cam-a1", result, POLICY, result.time)
        done.set()

    worker = threading.Thread(target=second_worker)
    worker.start()
    assert not done.wait(0.5)  # blocked behind the first transaction
    first.commit()
    first.close()
    worker.join(10)
    assert done.is_set()
    with db.session_scope(factory) as session:
        state = load_state(session, "cam-a1")
        assert state.pending == {Cause.UNREACHABLE: 2}  # both failures counted
        assert count(session, Observation) == 3  # the first check (camera UP), both failures
    engine.dispose()


def test_events_after_a_sequence_number_in_scope(session: Session) -> None:
    for camera_id in ("cam-a1", "cam-b1"):
        for result in outage(camera_id, T0, failures=3, recoveries=0):
            apply_result(session, camera_id, result, POLICY, result.time)
    session.commit()
    everything = events_after(session, 0)
    # UNKNOWN -> DOWN: state_changed then incident_opened, for each camera in turn
    assert [(e.seq, e.camera_id) for e in everything] == [
        (1, "cam-a1"),
        (2, "cam-a1"),
        (3, "cam-b1"),
        (4, "cam-b1"),
    ]
    assert [e.seq for e in events_after(session, 2)] == [3, 4]
    assert [e.seq for e in events_after(session, 0, limit=1)] == [1]
    mairie = Principal(
        kind="user", id=1, name="m", role=Role.COMMUNE, communes=frozenset({"27056"})
    )
    assert [e.seq for e in events_after(session, 0, principal=mairie)] == [1, 2]


def test_a_tick_repeated_at_the_same_time_writes_nothing(session: Session) -> None:
    apply_result(session, "cam-a1", ok("cam-a1", T0), POLICY, T0)
    session.commit()
    silent = T0 + POLICY.silence + STEP  # nobody checked it: UNKNOWN, the supervisor's fault
    events = apply_tick(session, "cam-a1", POLICY, silent)
    assert [e.to_dict()["state"] for e in events] == ["unknown"]
    session.commit()
    before = count(session, SupervisionEvent)
    assert apply_tick(session, "cam-a1", POLICY, silent) == []
    assert count(session, SupervisionEvent) == before


def test_a_stopped_edge_recording_opens_an_incident_shown_with_its_french_label(
    session: Session,
) -> None:
    """What the camera status API reads: the cause, and the latest check's recording."""
    for index in range(POLICY.degrade_after + 1):
        at = T0 + index * STEP
        result = replace(
            full("cam-a1", at),
            recording_active=index == 0,
            recording_lag_s=60.0 * 42,
            recording_storage_failed=False,
        )
        apply_result(session, "cam-a1", result, POLICY, at)
    session.commit()
    status = session.get(CameraStatus, "cam-a1")
    assert status is not None and status.state == "degraded"
    assert status.last_observation is not None
    assert status.last_observation["recording"] == {
        "active": False,
        "lag_s": 2520.0,
        "storage_failed": False,
        "label": "enregistrement arrêté depuis 42 min",
    }
    (incident,) = session.scalars(select(IncidentRow)).all()
    assert Cause.RECORDING_STOPPED.value in incident.causes


def test_the_observation_says_the_regime_and_what_was_seen_on_the_picture(
    session: Session,
) -> None:
    """A real verdict (a sticker over 60 % of a real photograph, against its day reference)
    reaches the stored observation: the regime, the reference that judged, the share covered."""
    rng = np.random.default_rng(41)
    base = pf.view(pf.scene("coffee"))
    references = RegimeReferences(day=Reference.learn([pf.camera(base, rng) for _ in range(3)]))
    report = assess(pf.camera(pf.covered(base, rng, "sticker", 0.6), rng), references)
    assert report.problems == {"covered"}
    result = replace(full("cam-a1", T0, *report.problems), picture=picture_observed(report))
    apply_result(session, "cam-a1", result, POLICY, T0)
    session.commit()
    (observation,) = session.scalars(select(Observation)).all()
    assert observation.data["picture_regime"] == "day"
    assert observation.data["picture_reference"] == "day"
    share = observation.data["picture_seen"]["covered"]["share"]
    assert share == report.seen["covered"]["share"] and 0.45 < share < 0.75
    # A check that judged no picture says nothing of it.
    apply_result(session, "cam-a1", full("cam-a1", T0 + STEP), POLICY, T0 + STEP)
    session.commit()
    latest = session.scalars(select(Observation).order_by(Observation.id.desc())).first()
    assert "picture_seen" not in latest.data
