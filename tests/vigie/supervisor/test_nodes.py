"""Two supervisors on one PostgreSQL database, over the simulator: cameras shared, taken over
from a node that dies, handed over by a node that stops, and kept through a database cut.

The nodes run in one event loop here (the kill -9 of real `vigie serve` processes is in
tests/vigie/cli/test_failover.py). Every result a node delivers is recorded beside the
database, to see who checked what and when.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from supervision.conditions import State
from supervision.states import CheckKind, CheckResult
from tests.helpers.supervisor_harness import FAST, World, until, world
from tests.helpers.tcp_proxy import proxied
from vigie import db
from vigie.models import CameraStatus, StateChange
from vigie.supervisor import leases
from vigie.supervisor.runtime import Supervisor, SupervisorConfig

pytestmark = pytest.mark.postgres

CAMERAS = 8
NODES = replace(FAST, lease_ttl_s=1.5, full_interval_s=5.0, events_interval_s=0)
"""Liveness every 0.5 s, leases of 1.5 s renewed every 0.5 s."""


class Seen:
    """Every liveness result each node delivered: (monotonic time, node)."""

    def __init__(self) -> None:
        self.by_camera: dict[str, list[tuple[float, str]]] = defaultdict(list)

    def watch(self, supervisor: Supervisor, name: str) -> Supervisor:
        deliver = supervisor._deliver

        async def recorded(result: CheckResult) -> None:
            if result.kind is CheckKind.LIVENESS and result.camera_id in supervisor.held:
                self.by_camera[result.camera_id].append((time.monotonic(), name))
            await deliver(result)

        supervisor._deliver = recorded  # type: ignore[method-assign]
        supervisor.scheduler.deliver = recorded
        return supervisor

    def longest_gap(self, since: float) -> float:
        gaps = []
        for seen in self.by_camera.values():
            times = [t for t, _ in seen if t >= since]
            gaps += [b - a for a, b in itertools.pairwise(times)]
        return max(gaps)

    def checked_by(self, camera_id: str, since: float) -> set[str]:
        return {name for t, name in self.by_camera[camera_id] if t >= since}


def node(w: World, seen: Seen, name: str, config: SupervisorConfig = NODES) -> Supervisor:
    return seen.watch(w.supervisor(config), name)


def held_by_both(a: Supervisor, b: Supervisor) -> set[str]:
    return set(a.held) & set(b.held)


def holders(w: World) -> dict[str, int | None]:
    with w.sessions() as session:
        return leases.holders(session)


def downs(w: World) -> int:
    with w.sessions() as session:
        return len(session.scalars(select(StateChange).where(StateChange.state == "down")).all())


def test_two_nodes_share_the_cameras_and_take_over_a_dead_one(
    tmp_path: Path, postgres_url: str
) -> None:
    seen = Seen()

    async def scenario(w: World) -> None:
        a, b = node(w, seen, "a"), node(w, seen, "b")
        await a.start()
        await b.start()
        try:
            await until(lambda: len(a.held) == len(b.held) == CAMERAS // 2, timeout=15)
            assert not held_by_both(a, b)
            assert set(a._watched) == set(a.held) and set(b._watched) == set(b.held)
            start = time.monotonic()
            await asyncio.sleep(2)
            for camera_id in a.held:
                assert seen.checked_by(camera_id, start) == {"a"}
            for camera_id in b.held:
                assert seen.checked_by(camera_id, start) == {"b"}

            # B dies: no release, no stop recorded, it just stops (kill -9 in one process)
            b_cameras = set(b.held)
            b_run = b._run_id
            assert b._lease_task is not None and b._housekeeping is not None
            b._lease_task.cancel()
            b._housekeeping.cancel()
            await b.scheduler.stop(grace=0)
            died = time.monotonic()
            await until(lambda: set(a.held) >= b_cameras, timeout=10, every=0.05)
            took = time.monotonic() - died
            # within the lease's life and a round, plus the poll's own step
            assert took <= NODES.lease_ttl_s + NODES.lease_round_s + 0.5
            await until(
                lambda: all(seen.checked_by(i, died) == {"a"} for i in b_cameras), timeout=5
            )
            assert b_run not in set(holders(w).values())
            assert all(state == State.UP.value for state, _ in w.states().values())
            assert downs(w) == 0
        finally:
            await a.stop()
            b._held.clear()
            await b.writer.close()

    with world(tmp_path, postgres_url, cameras=CAMERAS, faults={}) as w:
        asyncio.run(scenario(w))


def test_a_node_that_stops_hands_its_cameras_over_without_a_gap(
    tmp_path: Path, postgres_url: str
) -> None:
    seen = Seen()

    async def scenario(w: World) -> None:
        a, b = node(w, seen, "a"), node(w, seen, "b")
        await a.start()
        await b.start()
        try:
            await until(lambda: len(a.held) == len(b.held) == CAMERAS // 2, timeout=15)
            b_cameras = set(b.held)
            since = time.monotonic()
            await b.stop()  # graceful: hands over, then stops
            await until(lambda: len(a.held) == CAMERAS, timeout=10, every=0.05)
            await asyncio.sleep(1.5)
            for camera_id in b_cameras:
                assert "a" in seen.checked_by(camera_id, since)
            # no liveness interval without a check while the cameras moved
            assert seen.longest_gap(since) < 2 * NODES.liveness_interval_s
            states = w.states()
            assert all(state == State.UP.value for state, _ in states.values())
            assert downs(w) == 0
        finally:
            await a.stop()

    with world(tmp_path, postgres_url, cameras=CAMERAS, faults={}) as w:
        asyncio.run(scenario(w))


def test_a_database_cut_loses_no_result_and_downs_no_camera(
    tmp_path: Path, postgres_url: str
) -> None:
    seen = Seen()

    async def scenario(w: World, url: str, proxy) -> None:  # type: ignore[no-untyped-def]
        engine = db.make_engine(url)
        sessions = db.session_factory(engine)
        nodes = [seen.watch(Supervisor(sessions, keys=w.keys, config=NODES), name) for name in "ab"]
        for supervisor in nodes:
            await supervisor.start()
        try:
            await until(lambda: all(len(s.held) == CAMERAS // 2 for s in nodes), timeout=15)
            await asyncio.sleep(1)  # results checked before the balance are written (or refused)
            held = [dict(s.held) for s in nodes]
            refused = sum(s.writer.stats.refused for s in nodes)
            w.set_fault(0, {"kind": "offline"})  # goes DOWN while the database is away
            proxy.cut()
            cut_at = time.monotonic()
            await asyncio.sleep(6)  # four lease lives
            queued = sum(len(s.writer) for s in nodes)
            assert queued > 0  # the results checked meanwhile wait, in memory
            proxy.restore()
            await until(lambda: all(len(s.writer) == 0 for s in nodes), timeout=20)
            await until(lambda: all(not s._lease_failing for s in nodes), timeout=10)
            await asyncio.sleep(1)
            # each node kept its own cameras: nobody was taken for dead
            assert [dict(s.held) for s in nodes] == held
            assert sum(s.writer.stats.refused for s in nodes) == refused
            assert sum(s.writer.stats.outages for s in nodes) >= 1
            with w.sessions() as session:
                changes = session.scalars(select(StateChange).order_by(StateChange.id)).all()
                down = [c for c in changes if c.state == "down"]
                status = {r.camera_id: r.state for r in session.scalars(select(CameraStatus))}
            # camera 0's fault, seen during the cut, is written; no other camera went DOWN
            assert [c.camera_id for c in down] == ["cam-0"]
            assert status["cam-0"] == State.DOWN.value
            assert all(status[f"cam-{i}"] == State.UP.value for i in range(1, CAMERAS))
            # the results of the cut were written with their own times
            assert any(t >= cut_at + 1 for t, _ in seen.by_camera["cam-1"])
        finally:
            for supervisor in nodes:
                await supervisor.stop()
            engine.dispose()

    with (
        world(tmp_path, postgres_url, cameras=CAMERAS, faults={}) as w,
        proxied(postgres_url) as (url, proxy),
    ):
        asyncio.run(scenario(w, url, proxy))
