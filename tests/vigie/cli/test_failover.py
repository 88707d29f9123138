"""Three `vigie serve` nodes on one PostgreSQL database over the simulator; one is killed -9.

Its cameras' checks resume on the other two within the lease's bound, the incident it had opened
is neither lost nor opened again, no camera goes DOWN or UNKNOWN because of the kill, and a live
client of the killed node resumes on another with ``Last-Event-ID`` and misses no event. (The
database cut and the graceful hand-over: tests/vigie/supervisor/test_nodes.py.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from tests.helpers.edge_server import EdgeServer, answering, launch
from tests.helpers.sse import SseStream
from tests.helpers.supervisor_harness import World, world
from vigie.clock import as_utc
from vigie.models import CameraStatus, IncidentRow, StateChange

pytestmark = pytest.mark.postgres

CAMERAS = 9
LIVENESS_S = 1.0
TTL_S = 2.0
ROUND_S = TTL_S / 3  # SupervisorConfig.lease_round_s
TAKE_OVER_BOUND_S = TTL_S + ROUND_S
"""A dead node's leases expire within the lease's life; the next round of another node takes
them (README: Several nodes)."""
RESUME_BOUND_S = TAKE_OVER_BOUND_S + min(LIVENESS_S, ROUND_S) + 2 * 0.5
"""...and checks them at once: within a round, and a check's timeout (2 x 0.5 s)."""


@contextmanager
def nodes(w: World, folder: Path, count: int) -> Iterator[list[EdgeServer]]:
    assert w.settings.secret_key is not None and w.settings.credentials_keys is not None
    env = {
        "PATH": "/usr/bin:/bin",
        "VIGIE_DATABASE_URL": w.settings.database_url,
        "VIGIE_ENVIRONMENT": "production",
        "VIGIE_SECRET_KEY": w.settings.secret_key.get_secret_value(),
        "VIGIE_CREDENTIALS_KEYS": w.settings.credentials_keys.get_secret_value(),
        "VIGIE_SUPERVISE": "true",
        "VIGIE_SUPERVISE_LIVENESS_INTERVAL_S": str(LIVENESS_S),
        "VIGIE_SUPERVISE_FULL_INTERVAL_S": "10",
        "VIGIE_SUPERVISE_STREAM_INTERVAL_S": "0",
        "VIGIE_SUPERVISE_EVENTS_INTERVAL_S": "0",
        "VIGIE_SUPERVISE_CAMERA_TIMEOUT_S": "0.5",
        "VIGIE_SUPERVISE_RETRY_S": "0.5",
        "VIGIE_SUPERVISE_LEASE_TTL_S": str(TTL_S),
        "VIGIE_SUPERVISE_INVENTORY_RELOAD_S": "2",
    }
    launched: list[EdgeServer] = []
    try:
        for _ in range(count):  # side by side: each takes seconds to start
            launched.append(launch(env, folder, besides=[n.port for n in launched]))
        for i, node in enumerate(launched):
            launched[i] = answering(node, besides=[n.port for n in launched])
        yield launched
    finally:
        for node in launched:  # all told first: they hand their cameras over as they stop
            node.process.terminate()
        for node in launched:
            node.stop()


def until(condition: Callable[[], Any], what: str, *, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.05)
    return value


def leases_by_run(w: World) -> dict[int, set[str]]:
    with w.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT run_id, camera_id FROM camera_leases WHERE run_id IS NOT NULL")
        ).all()
    held: dict[int, set[str]] = {}
    for run_id, camera_id in rows:
        held.setdefault(run_id, set()).add(camera_id)
    return held


def run_of(w: World, pid: int) -> int:
    with w.engine.connect() as connection:
        return connection.execute(
            text("SELECT id FROM supervisor_runs WHERE node LIKE :node"), {"node": f"%:{pid}"}
        ).scalar_one()


def last_checks(w: World) -> dict[str, datetime]:
    with w.sessions() as session:
        return {
            row.camera_id: as_utc(datetime.fromisoformat(row.saved["last_check_at"]))
            for row in session.scalars(select(CameraStatus))
            if row.saved.get("last_check_at")
        }


def head(w: World) -> int:
    with w.engine.connect() as connection:
        return connection.execute(text("SELECT last_seq FROM event_head")).scalar_one()


def test_a_killed_node_is_taken_over_and_its_live_client_misses_nothing(
    tmp_path: Path, postgres_url: str
) -> None:
    with (
        world(tmp_path, postgres_url, cameras=CAMERAS, faults={}) as w,
        nodes(w, tmp_path, 3) as ns,
    ):
        runs = {run_of(w, n.process.pid): n for n in ns}
        until(
            lambda: sorted(len(c) for c in leases_by_run(w).values()) == [3, 3, 3],
            "the three nodes balanced",
        )
        owners_before = leases_by_run(w)
        victim = ns[2]
        victim_run = run_of(w, victim.process.pid)
        victims = leases_by_run(w)[victim_run]
        down = sorted(victims, key=lambda c: int(c.split("-")[1]))[0]
        first = head(w)
        w.set_fault(int(down.split("-")[1]), {"kind": "offline"})
        until(lambda: _open_incidents(w, down) == 1, f"{down}'s incident opened by its node")

        # a live client of the node about to die
        token = victim.token("operator")
        headers = {"Authorization": f"Bearer {token}"}
        ids: list[int] = []
        reading = threading.Event()

        def read(url: str, extra: dict[str, str]) -> None:
            try:
                with httpx.stream(
                    "GET", f"{url}/api/v1/live/sse", headers=extra, timeout=30
                ) as response:
                    stream = SseStream(response)
                    reading.set()
                    while (event := stream.next()) is not None:
                        if event["event"] not in ("snapshot", "close"):
                            ids.append(int(event["id"]))
            except httpx.TransportError:
                return  # the node died under it

        client = threading.Thread(
            target=read, args=(victim.url, {**headers, "Last-Event-ID": str(first)})
        )
        client.start()
        until(reading.is_set, "the live client connected")
        time.sleep(1.5)

        victim.process.kill()  # kill -9: no hand-over, no stop recorded
        killed = time.monotonic()
        killed_at = datetime.now().astimezone()
        victim.process.wait(timeout=10)
        # while the client is away: a camera of a live node goes down (events to catch up on)
        later = sorted(owners_before[run_of(w, ns[0].process.pid)])[0]
        w.set_fault(int(later.split("-")[1]), {"kind": "offline"})
        client.join(timeout=30)
        took = until(
            lambda: (time.monotonic() - killed) if victim_run not in leases_by_run(w) else None,
            "the dead node's cameras taken",
            timeout=15,
        )
        assert took <= TAKE_OVER_BOUND_S + 1.0  # + the poll's step and a loaded machine's delays
        owners = leases_by_run(w)
        assert set(owners) == set(runs) - {victim_run}
        assert set().union(*owners.values()) == {f"cam-{i}" for i in range(CAMERAS)}
        resumed = until(
            lambda: (
                (time.monotonic() - killed)
                if all(last_checks(w)[c] > killed_at for c in victims)
                else None
            ),
            "every one of its cameras checked again",
            timeout=15,
        )
        assert resumed <= RESUME_BOUND_S + 1.0

        # the client resumes on another node from the last event it got
        assert ids, "the client received events before the kill"
        other = ns[0]
        until(lambda: _open_incidents(w, later) == 1, f"{later}'s incident opened")
        target = head(w)
        resume = {
            "Authorization": f"Bearer {other.token('operator')}",
            "Last-Event-ID": str(ids[-1]),
        }
        with httpx.stream("GET", f"{other.url}/api/v1/live/sse", headers=resume) as response:
            stream = SseStream(response)
            while not ids or ids[-1] < target:
                event = stream.next()
                assert event is not None
                if event["event"] != "snapshot":
                    ids.append(int(event["id"]))
        assert ids == list(range(first + 1, ids[-1] + 1))  # none missed, none twice

        # the incident of the dead node's camera: the same one, still open, not opened again
        time.sleep(2 * LIVENESS_S)
        assert _open_incidents(w, down) == 1
        with w.sessions() as session:
            assert (
                session.scalar(
                    select(IncidentRow.id).where(IncidentRow.camera_id == down).limit(2).offset(1)
                )
                is None
            )
            moved = session.scalars(select(StateChange).where(StateChange.at > killed_at)).all()
        moved_down = [(c.camera_id, c.state) for c in moved if c.state in ("down", "unknown")]
        assert moved_down == [(later, "down")]  # the kill itself downed nothing
        states = {i: s for i, (s, _) in w.states().items()}
        assert states.pop(down) == states.pop(later) == "down"
        assert set(states.values()) == {"up"}


def _open_incidents(w: World, camera_id: str) -> int:
    with w.sessions() as session:
        rows = session.scalars(
            select(IncidentRow).where(
                IncidentRow.camera_id == camera_id, IncidentRow.closed_at.is_(None)
            )
        ).all()
    return len(rows)
