"""Storing check results: apply_results in batches against apply_result one by one, both databases.

The supervisor of 5,000 cameras produces about 167 liveness and 17 full results a second (30 s
and 5 min intervals). This stores a realistic stream of them (every camera in turn; one result
in ten a full check; 7 cameras per thousand always failing, as the scheduler benchmark's
network has them; the rest healthy, so most results are liveness successes that write no
observation row) and measures, per way of storing, results per second and CPU per result:

- ``one_by_one_commit_each``: ``apply_result`` then ``commit`` for every result;
- ``one_by_one_commit_per_200``: ``apply_result`` for each, one commit per 200 results;
- ``batch_N``: ``apply_results`` on batches of N (1, 50, 200), one commit per batch;
- then ticks (the supervisor ticks every camera about once per interval, 167 a second at 5,000
  cameras; most change nothing): ``apply_tick`` and a commit per camera, against
  ``apply_ticks`` on 200 cameras per commit.

CPU is this process's (``time.process_time``) and, on PostgreSQL, the server backend's as well
(``/proc`` of ``pg_backend_pid()``; the server runs on this machine). Every way stores the same
number of results, the stream continuing in time from the previous one, after a first round
over all cameras (not measured) has brought them UP.

Usage: ``.venv/bin/python benchmarks/supervision/store.py --cameras 5000 --results 2000``
Writes (merges into) ``benchmarks/supervision/store_results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout: tests.helpers

from supervision.states import CheckKind, CheckResult, ErrorKind, Policy
from tests.helpers.postgres import POSTGRES_ADMIN_URL, postgres_database
from vigie import db
from vigie.models import Camera, Commune, Epci
from vigie.supervisor.store import apply_result, apply_results, apply_tick, apply_ticks

HERE = Path(__file__).resolve().parent
POLICY = Policy()
T0 = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)
RATE = 184.0  # results per second at 5,000 cameras: 5,000 / 30 s + 5,000 / 300 s
FAILING_PER_THOUSAND = 7  # 2 hung + 5 offline, as in scheduler_bench.py
WAYS = (
    "one_by_one_commit_each",
    "one_by_one_commit_per_200",
    "batch_1",
    "batch_50",
    "batch_200",
)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of another process (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stream(cameras: int) -> Iterator[CheckResult]:
    """Results as the supervisor hands them: cameras in turn, time advancing at RATE."""
    index = 0
    while True:
        camera = index % cameras
        at = T0 + timedelta(seconds=index / RATE)
        camera_id = f"cam-{camera:05d}"
        # Each camera's full check comes every tenth round (5 min of 30 s rounds).
        full = (index // cameras + camera) % 10 == 0
        kind = CheckKind.FULL if full else CheckKind.LIVENESS
        if camera % 1000 < FAILING_PER_THOUSAND:
            yield CheckResult(
                camera_id=camera_id, kind=kind, time=at, reachable=False, error=ErrorKind.TIMEOUT
            )
        elif kind is CheckKind.LIVENESS:
            yield CheckResult(
                camera_id=camera_id, kind=kind, time=at, reachable=True, clock_offset_s=0.2
            )
        else:
            yield CheckResult(
                camera_id=camera_id,
                kind=kind,
                time=at,
                reachable=True,
                clock_offset_s=0.2,
                auth_failed=False,
                picture_problems=frozenset(),
                resolution=(1920, 1080),
                expected_resolution=(1920, 1080),
            )
        index += 1


def seed(engine: Engine, cameras: int) -> None:
    db.upgrade(engine)
    with db.session_scope(db.session_factory(engine)) as session:
        session.add(Epci(siren="200070753", nom="EPCI"))
        session.flush()
        session.add(Commune(code="27056", nom="Commune", population=1000, epci_siren="200070753"))
        session.flush()
        session.add_all(
            Camera(
                id=f"cam-{i:05d}",
                name=f"Camera {i}",
                commune_code="27056",
                latitude=49.0,
                longitude=1.15,
                host="127.0.0.1",
                port=8000,
                created_at=T0,
                updated_at=T0,
            )
            for i in range(cameras)
        )


def store(way: str, session: Session, results: list[CheckResult]) -> None:
    if way == "one_by_one_commit_each":
        for result in results:
            apply_result(session, result.camera_id, result, POLICY, result.time)
            session.commit()
    elif way == "one_by_one_commit_per_200":
        for index, result in enumerate(results, start=1):
            apply_result(session, result.camera_id, result, POLICY, result.time)
            if index % 200 == 0:
                session.commit()
        session.commit()
    else:
        size = int(way.removeprefix("batch_"))
        for index in range(0, len(results), size):
            batch = results[index : index + size]
            apply_results(session, batch, POLICY, batch[-1].time)
            session.commit()


def measure(
    engine: Engine, cameras: int, count: int, backend_cpu: Callable[[Session], float] | None
) -> dict[str, Any]:
    results = stream(cameras)
    factory = db.session_factory(engine)
    with factory() as session:  # the first round: every camera UNKNOWN -> UP (or DOWN)
        warm = [next(results) for _ in range(cameras * 2)]
        for index in range(0, len(warm), 500):
            apply_results(session, warm[index : index + 500], POLICY, warm[-1].time)
            session.commit()
    figures: dict[str, Any] = {}
    for way in WAYS:
        chunk = [next(results) for _ in range(count)]
        with factory() as session:
            server0 = backend_cpu(session) if backend_cpu else 0.0
            cpu0, wall0 = time.process_time(), time.perf_counter()
            store(way, session, chunk)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            server = (backend_cpu(session) - server0) if backend_cpu else None
        figures[way] = {
            "results_per_s": round(count / wall, 1),
            "client_cpu_ms_per_result": round(cpu / count * 1000, 3),
            "server_cpu_ms_per_result": None if server is None else round(server / count * 1000, 3),
            "core_share_at_184_per_s": round(
                (cpu + (server or 0.0)) / count * RATE, 3
            ),  # the fraction of a core storing 5,000 cameras' results takes
        }
        print(way, figures[way], flush=True)
    # Ticks: every camera once per interval (167 a second at 5,000), most changing nothing.
    now = chunk[-1].time
    for way in ("ticks_one_by_one_commit_each", "ticks_batch_200"):
        cameras_ticked = [f"cam-{i:05d}" for i in range(min(count, cameras))]
        now += timedelta(seconds=1)
        with factory() as session:
            server0 = backend_cpu(session) if backend_cpu else 0.0
            cpu0, wall0 = time.process_time(), time.perf_counter()
            if way == "ticks_batch_200":
                for index in range(0, len(cameras_ticked), 200):
                    apply_ticks(session, cameras_ticked[index : index + 200], POLICY, now)
                    session.commit()
            else:
                for camera_id in cameras_ticked:
                    apply_tick(session, camera_id, POLICY, now)
                    session.commit()
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            server = (backend_cpu(session) - server0) if backend_cpu else None
        n = len(cameras_ticked)
        figures[way] = {
            "ticks_per_s": round(n / wall, 1),
            "client_cpu_ms_per_tick": round(cpu / n * 1000, 3),
            "server_cpu_ms_per_tick": None if server is None else round(server / n * 1000, 3),
            "core_share_at_167_per_s": round((cpu + (server or 0.0)) / n * 167, 3),
        }
        print(way, figures[way], flush=True)
    return figures


def postgres_backend_cpu(session: Session) -> float:
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    session.commit()
    return cpu_seconds(pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cameras", type=int, default=5000)
    parser.add_argument("--results", type=int, default=2000, help="results stored per way")
    parser.add_argument(
        "--postgres",
        default=POSTGRES_ADMIN_URL,
        help="an administrator URL; a throw-away database is made on its server",
    )
    args = parser.parse_args()
    run: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "cameras": args.cameras,
        "results_per_way": args.results,
    }
    with tempfile.TemporaryDirectory() as folder:
        print("SQLite", flush=True)
        engine = db.make_engine(f"sqlite:///{folder}/store.db")
        seed(engine, args.cameras)
        run["sqlite"] = measure(engine, args.cameras, args.results, None)
        engine.dispose()
    print("PostgreSQL", flush=True)
    with postgres_database(args.postgres) as url:
        engine = db.make_engine(url)
        seed(engine, args.cameras)
        run["postgresql"] = measure(engine, args.cameras, args.results, postgres_backend_cpu)
        engine.dispose()
    run["machine_after"] = f"load {os.getloadavg()[0]:.1f}"
    out = HERE / "store_results.json"
    recorded = json.loads(out.read_text()) if out.exists() else {}
    recorded[f"{args.cameras}_cameras"] = run
    out.write_text(json.dumps(recorded, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
