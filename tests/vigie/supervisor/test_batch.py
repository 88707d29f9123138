"""apply_results and apply_ticks (the writer's batches) leave exactly the database apply_result
and apply_tick leave, one by one.

Random result sequences over three cameras (outages, picture problems, redeliveries, results of
two kinds out of order, maintenance windows, ticks of several cameras between batches, one
camera with thresholds of its own) are stored both ways in one
transaction each, every supervision table is read back and compared, then rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from supervision.states import CheckKind, CheckResult, ErrorKind, MaintenanceWindow, Policy
from tests.helpers.supervision_data import CAMERAS, STEP, T0, outage
from vigie import db
from vigie.models import (
    CameraStatus,
    EventHead,
    IncidentRow,
    MaintenanceWindowRow,
    Observation,
    StateChange,
    SupervisionEvent,
)
from vigie.supervisor.store import (
    UnknownCameraError,
    apply_result,
    apply_results,
    apply_tick,
    apply_ticks,
    load_state,
)

POLICY = Policy()
# Tables whose integer ids come from a sequence: PostgreSQL does not give the numbers back on
# rollback, so their rows are compared in id order, ids as offsets from the first one.
SERIAL = {Observation: Observation.id, StateChange: StateChange.id, IncidentRow: IncidentRow.id}
KEYED = {
    CameraStatus: CameraStatus.camera_id,
    SupervisionEvent: SupervisionEvent.seq,
    EventHead: EventHead.id,
}


@pytest.fixture
def session(seeded: Engine) -> Iterator[Session]:
    with db.session_factory(seeded)() as session:
        yield session


def snapshot(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Every supervision table, as plain rows in a stable order."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for model, key in {**SERIAL, **KEYED}.items():
        table = model.__table__
        rows = [dict(r._mapping) for r in session.execute(select(table).order_by(key))]
        if model in SERIAL:
            first = rows[0]["id"] if rows else 0
            for row in rows:
                row["id"] -= first
        tables[table.name] = rows
    return tables


# A step is a batch of results or a tick of one camera (the supervisor ticks between batches).
camera_ids = st.sampled_from(sorted(CAMERAS))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[tuple[str, Any]], list[tuple[str, int, int]]]:
    clock = 0
    made: list[CheckResult] = []
    steps: list[tuple[str, Any]] = []
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.integers(0, 5)) == 0:
            clock += draw(st.integers(1, 40))
            ticked = draw(st.lists(camera_ids, min_size=1, max_size=3, unique=True))
            steps.append(("tick", (ticked, T0 + clock * STEP)))
            continue
        batch: list[CheckResult] = []
        for _ in range(draw(st.integers(0, 30))):
            if made and draw(st.integers(0, 7)) == 0:  # a redelivery, possibly of another batch
                batch.append(draw(st.sampled_from(made)))
                continue
            clock += draw(st.integers(0, 2))
            batch.append(draw(results(T0 + clock * STEP)))
            made.append(batch[-1])
        steps.append(("results", batch))
    windows = draw(
        st.lists(st.tuples(camera_ids, st.integers(0, 200), st.integers(1, 40)), max_size=2)
    )
    return steps, windows


@st.composite
def results(draw: st.DrawFn, at: datetime) -> CheckResult:
    camera_id = draw(camera_ids)
    kind = draw(st.sampled_from([CheckKind.LIVENESS] * 3 + [CheckKind.FULL]))
    # Runs of failures are what open incidents: make them likely.
    if not draw(st.booleans()):
        return CheckResult(
            camera_id=camera_id,
            kind=kind,
            time=at,
            reachable=False,
            error=draw(st.sampled_from([ErrorKind.TIMEOUT, ErrorKind.REFUSED])),
        )
    if kind is CheckKind.LIVENESS:
        offset = draw(st.sampled_from([None, 0.5, 400.0]))
        return CheckResult(
            camera_id=camera_id, kind=kind, time=at, reachable=True, clock_offset_s=offset
        )
    return CheckResult(
        camera_id=camera_id,
        kind=kind,
        time=at,
        reachable=True,
        auth_failed=draw(st.sampled_from([False, False, True])),
        picture_problems=draw(
            st.sampled_from(
                [frozenset(), frozenset(), frozenset({"blurred"}), frozenset({"covered"})]
            ),
        ),
        resolution=(1920, 1080),
        expected_resolution=(1920, 1080),
    )


def run(session: Session, steps: list[tuple[str, Any]], *, batched: bool, policy: Policy) -> list:
    # cam-a2 has thresholds of its own: DOWN at the first failure, UP at the first success.
    own = {"cam-a2": replace(policy, down_after=1, up_after=1)}
    events: list = []
    for kind, item in steps:
        if kind == "tick" and batched:
            ticked, now = item
            events += apply_ticks(session, ticked, policy, now, policies=own)
        elif kind == "tick":
            ticked, now = item
            for camera_id in ticked:
                events += apply_tick(session, camera_id, own.get(camera_id, policy), now)
        elif batched:
            now = item[-1].time if item else T0
            events += apply_results(session, item, policy, now, policies=own)
        else:
            now = item[-1].time if item else T0
            for result in item:
                camera_policy = own.get(result.camera_id, policy)
                events += apply_result(session, result.camera_id, result, camera_policy, now)
    session.flush()
    return [e.to_dict() for e in events]


def both_ways(
    session: Session, steps: list[tuple[str, Any]], windows: list[tuple[str, int, int]]
) -> tuple[tuple, tuple]:
    """(events, tables) of the result-by-result run and of the batched one, each rolled back."""
    outcomes = []
    policy = Policy(maintenance=(MaintenanceWindow(start=T0 + 50 * STEP, end=T0 + 60 * STEP),))
    for batched in (False, True):
        for camera_id, start, length in windows:
            session.add(
                MaintenanceWindowRow(
                    camera_id=camera_id,
                    start=T0 + start * STEP,
                    end=T0 + (start + length) * STEP,
                    reason="works",
                    created_by="operator",
                    created_at=T0,
                )
            )
        try:
            events = run(session, steps, batched=batched, policy=policy)
            outcomes.append((events, snapshot(session)))
        finally:
            session.rollback()
    return outcomes[0], outcomes[1]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_batches_store_exactly_what_one_result_or_tick_at_a_time_does(
    session: Session, scenario: tuple
) -> None:
    steps, windows = scenario
    sequential, batched = both_ways(session, steps, windows)
    assert batched[0] == sequential[0]
    assert batched[1] == sequential[1]


def test_outages_of_three_cameras_in_batches_of_any_size(session: Session) -> None:
    """Incidents open, flap and close across batch boundaries, interleaved cameras."""
    results: list[CheckResult] = []
    start = T0
    for failures, recoveries in ((4, 12), (3, 2), (3, 2), (3, 2), (3, 20)):
        for camera_id in sorted(CAMERAS):
            results += outage(camera_id, start, failures, recoveries)
        start += (failures + recoveries) * STEP
    results.sort(key=lambda r: (r.time, r.camera_id))
    results += results[40:45]  # redelivered after a restart
    for size in (1, 7, 50, len(results)):
        steps = [("results", results[i : i + size]) for i in range(0, len(results), size)]
        sequential, batched = both_ways(session, steps, [])
        assert batched == sequential
        tables = batched[1]
        # The scenario is not trivial: every camera opened incidents, some closed, one flapped.
        assert len(tables["incidents"]) == 6
        assert sum(i["closed_at"] is not None for i in tables["incidents"]) >= 3
        assert any(i["flapping"] for i in tables["incidents"])
        assert [e["seq"] for e in tables["events"]] == list(range(1, len(tables["events"]) + 1))


def test_a_batch_reads_an_acknowledgement_committed_before_it(session: Session) -> None:
    apply_results(session, outage("cam-a1", T0, failures=3, recoveries=0), POLICY, T0)
    session.commit()
    incident = session.scalars(select(IncidentRow)).one()
    incident.acknowledged_at, incident.acknowledged_by = T0 + STEP, "operator"
    session.commit()
    apply_results(session, outage("cam-a1", T0 + 3 * STEP, 0, 2), POLICY, T0)
    session.commit()
    session.refresh(incident)
    assert incident.acknowledged_by == "operator" and incident.state == "up"


def test_objects_the_session_holds_are_reloaded_after_a_batch(session: Session) -> None:
    apply_results(session, outage("cam-a1", T0, 1, 0), POLICY, T0)
    status = session.get(CameraStatus, "cam-a1")
    assert status is not None and status.last_observation["reachable"] is False
    apply_results(session, outage("cam-a1", T0 + STEP, 0, 1), POLICY, T0 + STEP)
    assert status.last_observation["reachable"] is True
    assert load_state(session, "cam-a1").last_success_at == T0 + STEP


def test_an_unknown_camera_refuses_the_whole_batch_by_name(session: Session) -> None:
    batch = [*outage("cam-a1", T0, 1, 1), *outage("gone-1", T0, 1, 0), *outage("gone-2", T0, 1, 0)]
    with pytest.raises(UnknownCameraError, match="camera gone-1, gone-2: not in the inventory"):
        apply_results(session, batch, POLICY, T0)
    assert session.scalar(select(func.count()).select_from(CameraStatus)) == 0


def test_an_empty_or_redelivered_batch_writes_nothing(session: Session) -> None:
    assert apply_results(session, [], POLICY, T0) == []
    batch = outage("cam-b1", T0, 3, 0)
    assert len(apply_results(session, batch, POLICY, T0)) == 2  # DOWN, incident opened
    session.commit()
    before = snapshot(session)
    assert apply_results(session, batch, POLICY, T0 + timedelta(hours=1)) == []
    session.commit()
    assert snapshot(session) == before


def test_ticks_of_silent_cameras_in_one_batch(session: Session) -> None:
    """Cameras nobody checked for longer than the silence limit turn UNKNOWN, in one batch;
    a camera never checked and a repeated id change nothing."""
    for camera_id in ("cam-a1", "cam-b1"):
        apply_results(session, outage(camera_id, T0, 0, 2), POLICY, T0)
    session.commit()
    silent = T0 + POLICY.silence + 3 * STEP
    events = apply_ticks(session, ["cam-b1", "cam-a2", "cam-a1", "cam-b1"], POLICY, silent)
    assert [(e.camera_id, e.to_dict()["state"]) for e in events] == [
        ("cam-b1", "unknown"),
        ("cam-a1", "unknown"),
    ]
    session.commit()
    assert load_state(session, "cam-a1").state.value == "unknown"
    assert session.get(CameraStatus, "cam-a2") is None
    assert session.get(CameraStatus, "cam-a1").last_observation["reachable"] is True
    assert apply_ticks(session, ["cam-a1", "cam-b1"], POLICY, silent) == []
    with pytest.raises(UnknownCameraError, match="camera gone: not in the inventory"):
        apply_ticks(session, ["cam-a1", "gone"], POLICY, silent)
