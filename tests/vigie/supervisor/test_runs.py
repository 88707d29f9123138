"""Unsupervised time in the database (issue 21): stops, crashes and first starts, both databases.

The supervisor's clock is injected: a 20-minute stop costs nothing. What is checked is what
availability, the requisitions' intervals and the incidents read back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from supervision.availability import camera_availability
from supervision.states import CheckResult, Policy
from tests.helpers.supervision_data import STEP, T0, down, ok, outage
from vigie import db
from vigie.clock import as_utc
from vigie.models import IncidentRow, StateChange, SupervisorRun
from vigie.register.requisitions import intervals
from vigie.supervisor.runs import beat, begin_run, end_run, unwatched_from
from vigie.supervisor.store import apply_results, apply_ticks, state_spans

POLICY = Policy()  # close_after 5 min
BOUND = timedelta(seconds=70)  # 2 x 30 s + a liveness check's 10 s


def _feed(engine: Engine, results: Iterable[CheckResult]) -> None:
    """As the writer does: one batch per result time."""
    for result in results:
        with db.session_scope(db.session_factory(engine)) as session:
            apply_results(session, [result], POLICY, result.time)


def _start(engine: Engine, now: datetime) -> int:
    with db.session_scope(db.session_factory(engine)) as session:
        run_id, _ = begin_run(session, now, bound=BOUND, policy=POLICY)
    return run_id


def _stop(engine: Engine, run_id: int, now: datetime) -> None:
    with db.session_scope(db.session_factory(engine)) as session:
        end_run(session, run_id, now)


def _history(engine: Engine, camera_id: str) -> list[tuple[str, str, datetime]]:
    with db.session_factory(engine)() as session:
        rows = session.scalars(
            select(StateChange)
            .where(StateChange.camera_id == camera_id)
            .order_by(StateChange.at, StateChange.id)
        ).all()
        return [(r.state, r.reason, db_time(r.at)) for r in rows]


def db_time(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back: UTC."""
    return None if value is None else as_utc(value)


def test_a_graceful_stop_is_unknown_until_the_first_checks_after_it(seeded: Engine) -> None:
    run = _start(seeded, T0 - STEP)
    _feed(seeded, [ok("cam-a1", T0 + i * STEP) for i in range(5)])  # up, last check T0+120 s
    _feed(seeded, [ok("cam-a2", T0), *outage("cam-a2", T0 + STEP, failures=3, recoveries=0)])
    stop = T0 + 4 * STEP + timedelta(seconds=1)
    _stop(seeded, run, stop)
    # 31 s later: cam-a1 was switched off meanwhile, cam-a2 came back
    restart = stop + timedelta(seconds=31)
    _start(seeded, restart)
    _feed(seeded, [down("cam-a1", restart + i * STEP) for i in range(3)])
    _feed(seeded, [ok("cam-a2", restart + i * STEP) for i in range(2)])

    assert _history(seeded, "cam-a1") == [
        ("up", "check", T0),
        ("unknown", "unsupervised", stop),
        ("down", "check", restart + 2 * STEP),
    ], "no UP after the stop"
    assert _history(seeded, "cam-a2")[-2:] == [
        ("unknown", "unsupervised", stop),
        ("up", "check", restart + STEP),
    ], "no DOWN after the stop"
    end = restart + 4 * STEP
    with db.session_factory(seeded)() as session:
        spans = state_spans(session, ["cam-a1", "cam-a2"], end=end)
    a1 = camera_availability(spans, start=T0, end=end)["cam-a1"]
    assert (a1.up_s, a1.unknown_s, a1.down_s) == (121.0, 31.0 + 60.0, 60.0)
    shown = intervals([s for s in spans if s.camera_id == "cam-a1"], T0, end)
    assert [(i["state"], i["start"], i["end"]) for i in shown] == [
        ("up", T0, stop),
        ("unknown", stop, restart + 2 * STEP),
        ("down", restart + 2 * STEP, end),
    ]


def test_an_incident_quiet_across_a_crash_closes_after_supervised_up_time_only(
    seeded: Engine,
) -> None:
    run = _start(seeded, T0 - STEP)
    _feed(seeded, outage("cam-a1", T0, failures=3, recoveries=2))  # UP again at T0+120 s
    last = T0 + 4 * STEP
    with db.session_scope(db.session_factory(seeded)) as session:
        beat(session, run, last + timedelta(seconds=5))
    # crash at about T0+125 s; 20 minutes without supervision
    restart = last + timedelta(minutes=20)
    _start(seeded, restart)
    with db.session_scope(db.session_factory(seeded)) as session:
        apply_ticks(session, ["cam-a1"], POLICY, restart)
    (incident,) = _incidents(seeded)
    assert incident.closed_at is None, "not closed at the restart: nobody watched the camera"
    first = restart + timedelta(seconds=7)
    _feed(seeded, [ok("cam-a1", first + i * STEP) for i in range(11)])
    (incident,) = _incidents(seeded)
    assert db_time(incident.closed_at) == first + POLICY.close_after
    assert _history(seeded, "cam-a1")[-2:] == [
        ("unknown", "unsupervised", last + timedelta(seconds=5)),
        ("up", "check", first),
    ]
    with db.session_factory(seeded)() as session:
        runs = session.scalars(select(SupervisorRun).order_by(SupervisorRun.id)).all()
        assert [r.stopped_at for r in runs] == [None, None]


def _incidents(engine: Engine) -> list[IncidentRow]:
    with db.session_factory(engine)() as session:
        return list(session.scalars(select(IncidentRow).order_by(IncidentRow.key)))


def test_a_first_start_without_a_run_bounds_the_gap_by_the_last_check(seeded: Engine) -> None:
    _feed(seeded, [ok("cam-a1", T0 + i * STEP) for i in range(2)])  # last check T0+30 s
    _feed(seeded, [ok("cam-a2", T0 + 9 * STEP)])  # last check T0+270 s
    _start(seeded, T0 + 10 * STEP)  # no run recorded before
    assert _history(seeded, "cam-a1")[-1] == ("unknown", "unsupervised", T0 + STEP + BOUND)
    assert _history(seeded, "cam-a2") == [("up", "check", T0 + 9 * STEP)], "30 s is not a gap"


def test_unwatched_from_never_before_the_last_check_nor_after_the_bound() -> None:
    last = T0
    now = T0 + timedelta(hours=1)
    assert unwatched_from(None, T0, BOUND, now) is None
    assert unwatched_from(last, T0 + STEP, BOUND, now) == T0 + STEP  # a stop
    assert unwatched_from(last, T0 - STEP, BOUND, now) == last  # stopped before the check
    assert unwatched_from(last, T0 + timedelta(minutes=9), BOUND, now) == last + BOUND
    assert unwatched_from(last, None, BOUND, T0 + STEP) is None  # no run, not late yet
    assert unwatched_from(last, T0 + STEP, BOUND, T0 + STEP) is None  # nothing unwatched yet
