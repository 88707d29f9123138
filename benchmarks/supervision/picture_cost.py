"""CPU of a full check's picture work in `vigie serve`: decode, assess, learn, store.

``Supervisor._full`` runs as the service runs it (same code, same worker threads, a real SQLite
file or PostgreSQL database, the pictures encrypted with a real key ring) on N cameras whose
ONVIF answers are canned in this process: the ONVIF calls' own cost is ``full_check_cost.py``'s,
and leaving the network out makes the picture work's CPU readable. Each camera's snapshot is a
real photograph (scikit-image's samples) at 1920x1080 with fresh sensor noise each round, JPEG
quality 85, so no check is ``frozen`` and every one is healthy.

Rounds 1-3 are the learning phase (the reference learns one snapshot per check, stored each
time), the later rounds the steady state. Measured per full check, for each phase: the whole
process's CPU (``time.process_time``) and the event loop thread's alone (``time.thread_time`` in
it), median of the rounds; on PostgreSQL also the server's (its backends' CPU from ``/proc``).
Checks run one after another (no overlap: the figures are per check).

With ``--onvif``, the cameras are ``vigie simulate``'s instead, in another process, reached
over real HTTP with the real client (snapshots 1920x1080, the simulator's scenes): the whole
full check's CPU, its ONVIF calls included, as ``vigie serve`` spends it.

Usage: ``.venv/bin/python benchmarks/supervision/picture_cost.py --cameras 200 [--postgres]
[--onvif]`` (``--postgres`` makes a throw-away database on ``VIGIE_TEST_POSTGRES_URL``'s
server).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from sqlalchemy import text

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling scripts

from scheduler_bench import PASSWORD, USER, start_simulator  # noqa: E402  # a sibling script
from store import seed  # noqa: E402  # a sibling script: the same inventory as store.py's

from cameras.client import OnvifClient  # noqa: E402
from cameras.models import (  # noqa: E402
    CameraAddress,
    ClockReading,
    DeviceInformation,
    MediaUri,
    Profile,
    Snapshot,
)
from supervision.states import Policy  # noqa: E402
from tests.helpers import picture_faults as pf  # noqa: E402
from tests.helpers.postgres import postgres_database  # noqa: E402
from vigie import db  # noqa: E402
from vigie.credentials import KeyRing  # noqa: E402
from vigie.models import CameraPicture  # noqa: E402
from vigie.supervisor.runtime import Supervisor, SupervisorConfig, _Inventoried, _Watched  # noqa: E402

SCENES = ("astronaut", "coffee", "chelsea", "rocket", "camera")


class CannedCamera:
    """A camera's ONVIF answers, without a network: the full check's picture work alone."""

    scheme = None
    clock_needs_auth = False
    media = "media1"
    pinned = None

    def __init__(self, address: CameraAddress, jpegs: list[bytes]) -> None:
        self.address = address
        self.jpegs = jpegs
        self.round = 0
        self.unsupported: dict[str, str] = {}

    def offers(self, _service: str) -> bool:
        return False

    async def get_recording_status(self) -> None:
        return None  # not recording at the edge

    async def get_system_date_and_time(self) -> ClockReading:
        return ClockReading(datetime.now(UTC), 0.1, "NTP", "UTC", 0.001)

    async def get_device_information(self) -> DeviceInformation:
        return DeviceInformation("Vigie", "SIM", "1.0", "1", "1")

    async def get_profiles(self) -> list[Profile]:
        return [Profile("main", "main", "H264", 1920, 1080, 25, 4000, "vs0")]

    async def get_stream_uri(self, _token: str) -> MediaUri:
        return MediaUri("rtsp://127.0.0.1:554/main", False, False, None)

    async def get_snapshot_uri(self, _token: str) -> MediaUri:
        return MediaUri("http://127.0.0.1/snapshot.jpg", False, False, None)

    async def get_snapshot(self, _uri: str) -> Snapshot:
        return Snapshot(self.jpegs[self.round], "image/jpeg", "digest", datetime.now(UTC))


def snapshots(rounds: int) -> dict[str, list[bytes]]:
    """Per scene, one 1920x1080 JPEG per round (fresh sensor noise each)."""
    rng = np.random.default_rng(7)
    found = {}
    for name in SCENES:
        view = pf.view(pf.scene(name))
        found[name] = [
            cv2.imencode(".jpg", pf.sensor(view, rng, 2.0), [cv2.IMWRITE_JPEG_QUALITY, 85])[
                1
            ].tobytes()
            for _ in range(rounds)
        ]
    return found


def backends_cpu(engine: Any) -> Callable[[], dict[int, float]]:
    """CPU seconds of each PostgreSQL backend serving ``engine``'s database, by pid."""
    name = engine.url.database

    def read() -> dict[int, float]:
        with engine.connect() as connection:
            pids = connection.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :name"), {"name": name}
            ).scalars()
            found = {}
            for pid in pids:
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            return found

    return read


SIMULATOR_PORT = 15000


async def run(
    database_url: str, cameras: int, rounds: int, *, onvif: bool = False
) -> dict[str, Any]:
    if not onvif:
        return await _run(database_url, cameras, rounds, None)
    with tempfile.TemporaryDirectory() as folder:
        simulator = start_simulator(
            cameras, SIMULATOR_PORT, {}, Path(folder), snapshot_size="1920x1080"
        )
        try:
            async with OnvifClient() as client:
                return await _run(database_url, cameras, rounds, client)
        finally:
            simulator.send_signal(2)
            simulator.wait(timeout=30)


async def _run(
    database_url: str, cameras: int, rounds: int, client: OnvifClient | None
) -> dict[str, Any]:
    engine = db.make_engine(database_url)
    server = backends_cpu(engine) if engine.dialect.name == "postgresql" else None
    seed(engine, cameras)
    sessions = db.session_factory(engine)
    supervisor = Supervisor(
        sessions,
        keys=KeyRing([("k1", os.urandom(32))]),
        config=SupervisorConfig(stream_interval_s=0),
    )
    jpegs = snapshots(rounds) if client is None else {name: [] for name in SCENES}
    watched = []
    for i in range(cameras):
        address = CameraAddress(host="127.0.0.1", port=8000, username="u", password="p")
        camera: Any = CannedCamera(address, jpegs[SCENES[i % len(SCENES)]])
        if client is not None:
            address = CameraAddress("127.0.0.1", SIMULATOR_PORT + i, USER, PASSWORD, 10.0)
            camera = client.camera(address)
        spec = _Inventoried(f"cam-{i:05d}", address, "", False, ())
        watched.append(_Watched(spec, camera, Policy(), None, time.monotonic()))  # type: ignore[arg-type]
    per_round = []
    for index in range(rounds):
        for w in watched:
            if client is None:
                w.camera.round = index  # type: ignore[attr-defined]
        backends = server() if server is not None else {}
        cpu, loop = time.process_time(), time.thread_time()
        problems = 0
        for w in watched:
            result = await supervisor._full(w)
            problems += bool(result.picture_problems)
        row = {
            "round": index + 1,
            "cpu_ms_per_check": round((time.process_time() - cpu) * 1000 / cameras, 2),
            "loop_ms_per_check": round((time.thread_time() - loop) * 1000 / cameras, 2),
            "checks_with_problems": problems,
        }
        if server is not None:
            spent = sum(s - backends.get(pid, 0.0) for pid, s in server().items())
            row["server_cpu_ms_per_check"] = round(spent * 1000 / cameras, 2)
        per_round.append(row)
        print(per_round[-1], flush=True)
    with sessions() as session:
        frames = {row.reference_frames for row in session.query(CameraPicture)}
    engine.dispose()
    learning, steady = per_round[:3], per_round[3:]

    def median(rows: list[dict[str, Any]], key: str) -> float:
        return round(statistics.median(r[key] for r in rows), 2) if rows else float("nan")

    figures = {
        "cameras": cameras,
        "database": engine.dialect.name,
        "onvif": "vigie simulate over HTTP" if client is not None else "canned",
        "reference_frames_at_end": sorted(frames),
        "learning_cpu_ms": median(learning, "cpu_ms_per_check"),
        "learning_loop_ms": median(learning, "loop_ms_per_check"),
        "steady_cpu_ms": median(steady, "cpu_ms_per_check"),
        "steady_loop_ms": median(steady, "loop_ms_per_check"),
        "rounds": per_round,
    }
    if server is not None:
        figures["learning_server_ms"] = median(learning, "server_cpu_ms_per_check")
        figures["steady_server_ms"] = median(steady, "server_cpu_ms_per_check")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL, not SQLite")
    parser.add_argument("--label", default="run")
    parser.add_argument("--onvif", action="store_true", help="the simulator's cameras over HTTP")
    args = parser.parse_args()
    if args.postgres:
        with postgres_database() as url:
            figures = asyncio.run(run(url, args.cameras, args.rounds, onvif=args.onvif))
    else:
        with tempfile.TemporaryDirectory() as folder:
            database = f"sqlite:///{folder}/bench.db"
            figures = asyncio.run(run(database, args.cameras, args.rounds, onvif=args.onvif))
    figures["label"] = args.label
    figures["load_average"] = os.getloadavg()[0]
    print(json.dumps({k: v for k, v in figures.items() if k != "rounds"}))


if __name__ == "__main__":
    main()
