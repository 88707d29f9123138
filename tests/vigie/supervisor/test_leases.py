"""Camera leases on PostgreSQL: shares, take-over of a dead node, and stale results refused."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from supervision.states import CheckKind, CheckResult, Policy
from tests.helpers.service import seed
from tests.helpers.supervisor_harness import inventory
from vigie import db
from vigie.clock import utcnow
from vigie.credentials import KeyRing, generate_key, parse_key_ring
from vigie.inventory.cameras import import_cameras
from vigie.models import CameraStatus, Observation, StateChange, SupervisorRun
from vigie.supervisor import leases
from vigie.supervisor.runtime import Supervisor, SupervisorConfig
from vigie.supervisor.store import apply_result
from vigie.supervisor.writer import ResultWriter

pytestmark = pytest.mark.postgres

TTL = timedelta(seconds=30)
CAMERAS = 10


@pytest.fixture
def pg(postgres_url: str, tmp_path: Path) -> Iterator[Engine]:
    engine = db.make_engine(postgres_url)
    seed(engine)
    keys = KeyRing(parse_key_ring(generate_key()))
    with db.session_scope(db.session_factory(engine)) as session:
        import_cameras(
            session, tmp_path / "inventory.csv", inventory(CAMERAS, 40000), keys=keys, now=utcnow()
        )
    yield engine
    engine.dispose()


def new_run(engine: Engine, node: str) -> int:
    with db.session_scope(db.session_factory(engine)) as session:
        run = SupervisorRun(started_at=utcnow(), last_beat_at=utcnow(), node=node)
        session.add(run)
        session.flush()
        return run.id


def round_of(engine: Engine, run_id: int, *, take: bool = True) -> leases.Round:
    with db.session_scope(db.session_factory(engine)) as session:
        return leases.play_round(session, run_id, TTL, take=take)


def holders(engine: Engine) -> dict[str, int | None]:
    with db.session_factory(engine)() as session:
        return leases.holders(session)


def die(engine: Engine, run_id: int) -> None:
    """What a killed node's rows look like a lease's life later: not seen, leases expired."""
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE supervisor_runs SET seen_at = now() - interval '1 hour' WHERE id = :r"),
            {"r": run_id},
        )
        connection.execute(
            text("UPDATE camera_leases SET expires_at = now() - interval '1 s' WHERE run_id = :r"),
            {"r": run_id},
        )


def test_a_node_alone_holds_every_camera(pg: Engine) -> None:
    a = new_run(pg, "a")
    played = round_of(pg, a)
    assert played.nodes == 1 and played.share == CAMERAS
    assert sorted(played.taken) == sorted(f"cam-{i}" for i in range(CAMERAS))
    assert set(played.held.values()) == {1}  # every lease taken once
    assert set(holders(pg).values()) == {a}


def test_a_joining_node_gets_half_and_nobody_holds_a_camera_twice(pg: Engine) -> None:
    a, b = new_run(pg, "a"), new_run(pg, "b")
    round_of(pg, a)
    joined = round_of(pg, b)
    assert joined.nodes == 2 and joined.share == CAMERAS // 2
    assert joined.taken == []  # nothing free yet: A holds everything
    balanced = round_of(pg, a)
    assert len(balanced.released) == CAMERAS // 2 and len(balanced.held) == CAMERAS // 2
    took = round_of(pg, b)
    assert sorted(took.taken) == sorted(balanced.released)
    owners = holders(pg)
    assert sorted(owners) == sorted(f"cam-{i}" for i in range(CAMERAS))
    assert sum(1 for r in owners.values() if r == a) == CAMERAS // 2
    assert sum(1 for r in owners.values() if r == b) == CAMERAS // 2
    # a third round changes nothing: the shares are stable
    assert round_of(pg, a).released == [] and round_of(pg, b).taken == []


def test_a_dead_nodes_cameras_are_taken_over_with_a_new_epoch(pg: Engine) -> None:
    a, b = new_run(pg, "a"), new_run(pg, "b")
    round_of(pg, a)
    round_of(pg, b)
    round_of(pg, a)
    b_cameras = round_of(pg, b).held
    assert len(b_cameras) == CAMERAS // 2
    before = round_of(pg, a)
    assert not set(before.held) & set(b_cameras)  # alive: nothing of B's taken
    die(pg, b)
    after = round_of(pg, a)
    assert after.nodes == 1
    assert sorted(after.taken) == sorted(b_cameras)
    assert all(after.held[i] == b_cameras[i] + 1 for i in b_cameras)
    assert set(holders(pg).values()) == {a}


def test_a_node_back_from_an_outage_renews_before_it_takes(pg: Engine) -> None:
    a, b = new_run(pg, "a"), new_run(pg, "b")
    round_of(pg, a)
    round_of(pg, b)
    round_of(pg, a)
    round_of(pg, b)
    die(pg, a)
    die(pg, b)  # both were cut from the database a lease's life
    back = round_of(pg, a, take=False)
    assert len(back.held) == CAMERAS // 2 and back.taken == []
    round_of(pg, b, take=False)
    assert round_of(pg, a).taken == []  # B renewed too: none of its cameras is taken
    assert sum(1 for r in holders(pg).values() if r == b) == CAMERAS // 2


def test_a_stopping_node_releases_and_the_epoch_stays(pg: Engine) -> None:
    a, b = new_run(pg, "a"), new_run(pg, "b")
    first = round_of(pg, a)
    with db.session_scope(db.session_factory(pg)) as session:
        assert leases.release(session, a) == CAMERAS
    assert set(holders(pg).values()) == {None}
    with db.session_factory(pg)() as session:
        assert leases.fence(session, first.held) == first.held  # A's last writes still count
    taken = round_of(pg, b)
    assert len(taken.taken) == CAMERAS
    assert all(taken.held[i] == first.held[i] + 1 for i in first.held)


def test_rounds_at_the_same_time_never_take_a_camera_twice(pg: Engine) -> None:
    runs = [new_run(pg, f"n{i}") for i in range(4)]
    for run in runs:  # all alive before anyone takes
        round_of(pg, run, take=False)
    barrier = threading.Barrier(len(runs))
    results: dict[int, leases.Round] = {}

    def play(run: int) -> None:
        barrier.wait()
        results[run] = round_of(pg, run)

    threads = [threading.Thread(target=play, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    taken = [camera for played in results.values() for camera in played.taken]
    assert len(taken) == len(set(taken))
    assert all(len(played.held) <= 3 for played in results.values())  # ceil(10 / 4)
    owners = holders(pg)
    assert all(owners[camera] in runs for camera in taken)


def test_deleting_a_camera_drops_its_lease(pg: Engine) -> None:
    a = new_run(pg, "a")
    round_of(pg, a)
    with pg.begin() as connection:
        connection.execute(text("DELETE FROM cameras WHERE id = 'cam-3'"))
    assert "cam-3" not in holders(pg)
    assert len(round_of(pg, a).held) == CAMERAS - 1


def result(camera_id: str, at: datetime) -> CheckResult:
    return CheckResult(camera_id=camera_id, kind=CheckKind.LIVENESS, time=at, reachable=True)


def test_the_database_refuses_a_result_of_a_lease_taken_since(pg: Engine) -> None:
    a, b = new_run(pg, "a"), new_run(pg, "b")
    old = round_of(pg, a).held["cam-0"]
    die(pg, a)
    new = round_of(pg, b).held["cam-0"]
    assert new == old + 1
    sessions = db.session_factory(pg)
    at = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)

    async def write() -> ResultWriter:
        writer = ResultWriter(sessions, lambda _: Policy(), flush_s=0.01)
        writer.start()
        writer.put(result("cam-0", at), old)  # checked by A before B took it: refused
        writer.put(result("cam-1", at), old)  # A's other camera: taken too, refused
        writer.put(result("cam-0", at + timedelta(seconds=1)), new)  # B's: stored
        await writer.close()
        return writer

    writer = asyncio.run(write())
    assert writer.stats.refused == 2
    with sessions() as session:
        status = session.get(CameraStatus, "cam-0")
        assert status is not None and status.saved["last_check_at"].startswith(
            "2026-12-07T12:00:01"
        )
        assert session.get(CameraStatus, "cam-1") is None
        assert session.scalar(select(func.count()).select_from(Observation)) >= 1


def test_live_nodes_are_the_runs_seen_within_the_lease(pg: Engine) -> None:
    a, b, c = new_run(pg, "a"), new_run(pg, "b"), new_run(pg, "c")
    for run in (a, b, c):
        round_of(pg, run, take=False)
    die(pg, b)
    with pg.begin() as connection:
        connection.execute(
            text("UPDATE supervisor_runs SET stopped_at = now() WHERE id = :r"), {"r": c}
        )
    with db.session_factory(pg)() as session:
        assert leases.live_nodes(session, TTL) == [a]


def _up(engine: Engine, camera_id: str, at: datetime) -> None:
    with db.session_scope(db.session_factory(engine)) as session:
        for offset in (0, 1):  # two answers: UP
            apply_result(
                session, camera_id, result(camera_id, at + timedelta(seconds=offset)), Policy(), at
            )


def state_of(engine: Engine, camera_id: str) -> str:
    with db.session_factory(engine)() as session:
        row = session.get(CameraStatus, camera_id)
        assert row is not None
        return row.state


def test_a_take_over_makes_unknown_only_a_camera_unchecked_for_too_long(pg: Engine) -> None:
    now = utcnow()
    _up(pg, "cam-0", now - timedelta(minutes=10))  # its node died long ago
    _up(pg, "cam-1", now - timedelta(seconds=3))  # its node died a moment ago
    dead = new_run(pg, "dead")
    round_of(pg, dead)
    die(pg, dead)
    alive = new_run(pg, "alive")
    round_of(pg, alive, take=False)  # alive, holding nothing yet
    supervisor = Supervisor(db.session_factory(pg), keys=None, config=SupervisorConfig())
    supervisor._leased = True
    supervisor._begin_run()
    # another node is alive: the start itself records no unwatched time
    assert state_of(pg, "cam-0") == state_of(pg, "cam-1") == "up"
    played = supervisor._play_round_sync(take=True)
    assert {"cam-0", "cam-1"} <= set(played.taken)
    assert state_of(pg, "cam-0") == "unknown"
    assert state_of(pg, "cam-1") == "up"
    with db.session_factory(pg)() as session:
        change = session.scalars(
            select(StateChange)
            .where(StateChange.camera_id == "cam-0")
            .order_by(StateChange.id.desc())
        ).first()
    assert change is not None and change.reason == "unsupervised"


def test_a_renewal_never_waits_for_a_batch_being_written(pg: Engine) -> None:
    """A writer's fence (key share) and the holder's renewal (no key update) do not conflict:
    with ``FOR SHARE`` they did, and in opposite orders they deadlocked (seen at 10,000)."""
    a = new_run(pg, "a")
    held = round_of(pg, a).held
    with db.session_factory(pg)() as writing:
        assert leases.fence(writing, held) == held  # a batch's transaction, still open
        with db.session_factory(pg)() as session:
            session.execute(text("SET LOCAL lock_timeout = '2s'"))
            assert leases.play_round(session, a, TTL).held == held  # would time out if it waited
            session.commit()
        writing.rollback()


def test_a_round_never_waits_for_another_nodes_renewal(pg: Engine) -> None:
    """Two rounds at once: one inserting the new cameras' rows must not wait on the rows the
    other just renewed (an insert over every camera did, and they deadlocked)."""
    a, b = new_run(pg, "a"), new_run(pg, "b")
    round_of(pg, a)
    round_of(pg, b, take=False)
    with db.session_factory(pg)() as renewing:
        assert len(leases.play_round(renewing, a, TTL, take=False).held) == CAMERAS  # open
        with db.session_factory(pg)() as session:
            session.execute(text("SET LOCAL lock_timeout = '2s'"))
            played = leases.play_round(session, b, TTL)
            assert played.taken == []  # A holds everything and is alive
            session.commit()
        renewing.commit()


def test_a_taker_skips_a_camera_whose_batch_is_being_written(pg: Engine) -> None:
    a, b = new_run(pg, "a"), new_run(pg, "b")
    held = round_of(pg, a).held
    die(pg, a)
    with db.session_factory(pg)() as writing:
        assert leases.fence(writing, {"cam-0": held["cam-0"]}) == {"cam-0": held["cam-0"]}
        with db.session_factory(pg)() as session:
            session.execute(text("SET LOCAL lock_timeout = '2s'"))
            played = leases.play_round(session, b, TTL)
            session.commit()
        assert "cam-0" not in played.taken and len(played.taken) == CAMERAS - 1
        writing.commit()
    assert "cam-0" in round_of(pg, b).taken  # the next round, once the batch committed
