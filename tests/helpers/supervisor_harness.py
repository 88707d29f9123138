"""A simulator, a seeded database and a supervisor on short intervals, for the supervisor tests."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from supervision.states import Policy
from tests.helpers.http_server import share
from tests.helpers.service import make_settings, seed
from tests.helpers.simulator import running_simulator, set_fault
from vigie import db
from vigie.clock import utcnow
from vigie.credentials import KeyRing
from vigie.inventory.cameras import InventoryRow, import_cameras
from vigie.models import CameraStatus, IncidentRow
from vigie.settings import Settings
from vigie.supervisor.runtime import Supervisor, SupervisorConfig

USERNAME = "vigie"
PASSWORD = "Sup3rvision-runtime"
COMMUNE = "27056"

_RANGE = share(range(30000, 30960))
"""This test part's third of 30000-30959 (30989 is tests/vigie/supervisor/test_runtime.py's RTSP
server): 320 ports per part of ``scripts/run-tests``."""
_PORTS = itertools.cycle(range(_RANGE.start, _RANGE.stop - 39, 40))
"""Each simulator gets 40 ports of the range, reused in turn (one simulator at a time runs per
process; other tests' servers have ranges of their own). A simulator of more than 39 cameras
takes the range from its start."""
LARGE_BASE = _RANGE.start

FAST = SupervisorConfig(
    liveness_interval_s=0.5,
    full_interval_s=1.0,
    stream_interval_s=0,  # the simulator serves no RTSP (tests/supervision/test_stream.py does)
    events_interval_s=0.5,
    camera_timeout_s=0.5,
    concurrency=16,
    inventory_reload_s=1.0,
    flush_s=0.1,
    stop_grace_s=1.0,
    policy=Policy(
        check_interval=timedelta(seconds=0.5),
        close_after=timedelta(seconds=1),
        flap_quiet=timedelta(seconds=1),
    ),
)


@dataclass
class World:
    """The simulator's cameras imported as ``cam-<index>`` into a seeded database."""

    settings: Settings
    engine: Engine
    base_port: int
    control_port: int
    token: str
    keys: KeyRing = field(init=False)

    def __post_init__(self) -> None:
        self.keys = KeyRing.from_settings(self.settings)
        self.sessions = db.session_factory(self.engine)

    def set_fault(self, index: int, fault: dict[str, Any] | None) -> None:
        set_fault(self.control_port, self.token, index, fault)

    def supervisor(self, config: SupervisorConfig = FAST, **kwargs: Any) -> Supervisor:
        return Supervisor(self.sessions, keys=self.keys, config=config, **kwargs)

    def states(self) -> dict[str, tuple[str, list[str]]]:
        """camera id -> (state, active causes)."""
        with self.sessions() as session:
            return {
                row.camera_id: (row.state, sorted(row.saved.get("causes", [])))
                for row in session.scalars(select(CameraStatus))
            }

    def incidents(self) -> list[IncidentRow]:
        with self.sessions() as session:
            return list(session.scalars(select(IncidentRow).order_by(IncidentRow.key)))


def inventory(
    cameras: int | Iterable[int], base_port: int, **overrides: dict[str, Any]
) -> list[InventoryRow]:
    """``cam-<i>`` on the simulator's port ``base_port + i`` for each index (``range(cameras)``
    for a number); ``overrides`` per camera id."""
    rows = []
    for index in range(cameras) if isinstance(cameras, int) else cameras:
        camera_id = f"cam-{index}"
        values: dict[str, Any] = {
            "where": f"line {index + 2}",
            "id": camera_id,
            "name": f"Caméra {index}",
            "commune": COMMUNE,
            "latitude": 49.0,
            "longitude": 1.15,
            "host": "127.0.0.1",
            "port": base_port + index,
            "username": USERNAME,
            "password": PASSWORD,
            "model": "ptz_2mp_30x",  # 1920x1080, the simulator's recorded main profile
        }
        values.update(overrides.get(camera_id, {}))
        rows.append(InventoryRow(**values))
    return rows


@contextmanager
def world(
    tmp_path: Path,
    database_url: str,
    *,
    cameras: int,
    faults: dict[int, dict[str, Any]],
    overrides: dict[str, dict[str, Any]] | None = None,
    supervised: Iterable[int] | None = None,
    extra_args: tuple[str, ...] = (),
    personalities: dict[int, str] | None = None,
    tls: list[int] | None = None,
) -> Iterator[World]:
    """A simulator with ``faults`` and its cameras imported into a seeded database: all of
    them, or only the indices in ``supervised``; ``extra_args`` go to ``vigie simulate``."""
    if cameras > len(_RANGE):
        raise ValueError(f"{cameras} cameras do not fit the harness's {_RANGE} range")
    base_port = next(_PORTS) if cameras < 40 else LARGE_BASE
    settings = make_settings(database_url)
    engine = db.make_engine(database_url)
    seed(engine)
    keys = KeyRing.from_settings(settings)
    with db.session_scope(db.session_factory(engine)) as session:
        rows = inventory(
            cameras if supervised is None else supervised, base_port, **(overrides or {})
        )
        import_cameras(session, tmp_path / "inventory.csv", rows, keys=keys, now=utcnow())
    try:
        with running_simulator(
            tmp_path,
            cameras=cameras,
            base_port=base_port,
            username=USERNAME,
            password=PASSWORD,
            faults=faults,
            extra_args=extra_args,
            personalities=personalities,
            tls=tls,
        ) as token:
            yield World(settings, engine, base_port, base_port + cameras, token)
    finally:
        engine.dispose()


async def until(predicate: Callable[[], Any], *, timeout: float = 40.0, every: float = 0.25) -> Any:
    """Poll ``predicate`` (in a thread: it reads the database) until it is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(predicate)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s: {predicate}")
        await asyncio.sleep(every)
