"""Live fan-out: how long a state change committed to the database takes to reach WebSocket
clients of ``vigie serve``, with 100 clients and, as the baseline in the same run, with one.

For each database (SQLite file, PostgreSQL database created for the run):

1. The schema, one EPCI, four communes, ``--cameras`` cameras (UP) and an operator are written.
2. ``vigie serve`` starts in another process on that database.
3. For each client count (``--clients``, then 1): the clients connect over WebSocket (the
   ``websockets`` library, all in this process) and read their snapshot; then a writer
   process folds check results as the scheduler does (``apply_result``, one transaction per
   camera): every camera fails three times (DOWN: ``state_changed`` + ``incident_opened``),
   then, after a pause, succeeds three times (UP: ``state_changed`` + ``incident_closed``).
   It notes the wall-clock time of each commit and the last ``seq`` it covered.
4. Latency = receipt time at a client - commit time of the transaction holding the event, for
   every (client, event); p50 / p99 / max. The server's CPU comes from ``/proc/PID/stat``.

Usage: ``.venv/bin/python benchmarks/supervision/live_fanout.py [--clients 100] [--cameras 100]``
Appends its figures to the runs of ``benchmarks/supervision/live_results.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout: tests.helpers

from supervision.states import CheckKind, CheckResult, ErrorKind, Policy
from tests.helpers.postgres import postgres_database
from vigie import db
from vigie.auth.passwords import hash_password
from vigie.credentials import generate_key
from vigie.models import Camera, Commune, Epci, EventHead, User
from vigie.settings import generate_secret_key
from vigie.supervisor.store import apply_result

HERE = Path(__file__).resolve().parent
VIGIE = str(Path(sys.executable).with_name("vigie"))
USERNAME, PASSWORD = "bench-operator", "bench password for the live fan-out"
EPCI = "200070753"
COMMUNES = ("27056", "27229", "27681", "27375")
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
STEP = timedelta(seconds=30)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def free_port() -> int:
    for port in range(31900, 32000):  # the live helper's range
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 31900-31999")


def camera_ids(count: int) -> list[str]:
    return [f"cam-{i:04d}" for i in range(count)]


def prepare(url: str, cameras: int) -> None:
    """Schema, referential, cameras UP, one operator."""
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.session_scope(db.session_factory(engine)) as session:
        session.add(Epci(siren=EPCI, nom="EPCI"))
        session.flush()
        for code in COMMUNES:
            session.add(Commune(code=code, nom=code, population=1000, epci_siren=EPCI))
        session.flush()
        session.add(
            User(
                username=USERNAME,
                role="operator",
                password_hash=hash_password(PASSWORD),
                scope_communes=[],
                scope_epcis=[],
                habilitation_until=date(2099, 12, 31),
                created_at=T0,
            )
        )
        for i, camera in enumerate(camera_ids(cameras)):
            session.add(
                Camera(
                    id=camera,
                    name=camera,
                    commune_code=COMMUNES[i % len(COMMUNES)],
                    latitude=49.0,
                    longitude=1.15,
                    host="127.0.0.1",
                    port=8000,
                    created_at=T0,
                    updated_at=T0,
                )
            )
        session.flush()
        for camera in camera_ids(cameras):
            result = CheckResult(camera_id=camera, kind=CheckKind.LIVENESS, time=T0, reachable=True)
            apply_result(session, camera, result, Policy(), T0)
    engine.dispose()


Commit = tuple[int, float, str, bool]
"""(last seq covered, commit time, camera, whether it went down) of one writer transaction."""


def write_burst(url: str, cameras: int, start: datetime, fail: bool) -> list[Commit]:
    """One transaction per camera: three failed (or good) checks."""
    engine = db.make_engine(url)
    factory = db.session_factory(engine)
    commits: list[Commit] = []
    for camera in camera_ids(cameras):
        with factory() as session:
            for k in range(3):
                at = start + k * STEP
                result = (
                    CheckResult(
                        camera_id=camera,
                        kind=CheckKind.LIVENESS,
                        time=at,
                        reachable=False,
                        error=ErrorKind.TIMEOUT,
                    )
                    if fail
                    else CheckResult(
                        camera_id=camera, kind=CheckKind.LIVENESS, time=at, reachable=True
                    )
                )
                apply_result(session, camera, result, Policy(), at)
            last = session.scalar(select(EventHead.last_seq).where(EventHead.id == 1))
            session.commit()
            commits.append((last, time.time(), camera, fail))
    engine.dispose()
    return commits


def writer(url: str, cameras: int, rounds: int, start: int, out) -> None:
    """The writer process: DOWN then UP bursts, ``rounds`` times, a second apart, from
    ``start`` hours after T0 (each run later than the last: older results are ignored as
    redeliveries); sends the commit times."""
    commits: list[Commit] = []
    moment = T0 + timedelta(hours=start)
    for _ in range(rounds):
        for fail in (True, False):
            commits += write_burst(url, cameras, moment, fail)
            moment += 10 * STEP
            time.sleep(1.0)
    out.send(commits)
    out.close()


class Client:
    def __init__(self) -> None:
        self.received: dict[int, float] = {}
        self.socket: ClientConnection | None = None
        self.snapshot_seq = -1

    async def run(
        self, url: str, token: str, ready: asyncio.Event, count: list[int], deflate: bool
    ) -> None:
        async with connect(
            url,
            additional_headers={"Authorization": f"Bearer {token}"},
            max_queue=None,
            compression="deflate" if deflate else None,
        ) as socket:
            self.socket = socket
            snapshot = json.loads(await socket.recv())
            self.snapshot_seq = snapshot["seq"]
            count[0] += 1
            ready.set()
            async for frame in socket:
                now = time.time()
                # Events start with their seq (the stored payload); heartbeats with their type.
                # Reading it without parsing the JSON keeps this process's CPU, which competes
                # with the server's on the same machine, as low as it goes.
                if frame.startswith('{"seq":'):
                    self.received[int(frame[7 : frame.index(",", 7)])] = now


async def measure(
    port: int,
    url: str,
    server_pid: int,
    *,
    clients: int,
    cameras: int,
    rounds: int,
    start: int,
    deflate: bool,
) -> dict[str, Any]:
    token = httpx.post(
        f"http://127.0.0.1:{port}/api/v1/auth/token",
        data={"grant_type": "password", "username": USERNAME, "password": PASSWORD},
    ).json()["access_token"]
    ws_url = f"ws://127.0.0.1:{port}/api/v1/live"
    people = [Client() for _ in range(clients)]
    count = [0]
    ready = asyncio.Event()
    started = time.monotonic()
    tasks = [asyncio.create_task(c.run(ws_url, token, ready, count, deflate)) for c in people]
    while count[0] < clients:
        await asyncio.sleep(0.05)
        if time.monotonic() - started > 60:
            raise RuntimeError(f"only {count[0]} of {clients} clients connected")
    connect_s = time.monotonic() - started
    receiving, sending = multiprocessing.Pipe(duplex=False)
    cpu_before, wall_before = cpu_seconds(server_pid), time.monotonic()
    own_before = time.process_time()
    process = multiprocessing.get_context("spawn").Process(
        target=writer, args=(url, cameras, rounds, start, sending)
    )
    process.start()
    while not receiving.poll():
        await asyncio.sleep(0.1)
    commits = receiving.recv()
    process.join()
    last_seq = commits[-1][0]
    deadline = time.monotonic() + 30
    while any(last_seq not in c.received for c in people) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    wall = time.monotonic() - wall_before
    cpu = cpu_seconds(server_pid) - cpu_before
    own = time.process_time() - own_before
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    # seq -> commit time of the transaction that holds it
    committed: dict[int, float] = {}
    previous = min(c.snapshot_seq for c in people)
    for seq_hi, moment, _camera, _fail in commits:
        for seq in range(previous + 1, seq_hi + 1):
            committed[seq] = moment
        previous = seq_hi
    latencies = [
        (at - committed[seq]) * 1000
        for c in people
        for seq, at in c.received.items()
        if seq in committed
    ]
    expected = len(committed) * clients
    return {
        "clients": clients,
        "events": len(committed),
        "transactions": len(commits),
        "deliveries": len(latencies),
        "missing": expected - len(latencies),
        "connect_s": round(connect_s, 2),
        "latency_p50_ms": round(quantile(latencies, 0.5), 1),
        "latency_p99_ms": round(quantile(latencies, 0.99), 1),
        "latency_max_ms": round(max(latencies), 1) if latencies else math.nan,
        "server_cpu_s": round(cpu, 2),
        "server_cpu_cores": round(cpu / wall, 3),
        "server_cpu_us_per_delivery": round(cpu / max(1, len(latencies)) * 1e6, 1),
        "clients_process_cpu_s": round(own, 2),
        "seconds": round(wall, 1),
    }


async def measure_polling(
    port: int, server_pid: int, *, clients: int, url: str, cameras: int, rounds: int, start: int
) -> dict[str, Any]:
    """The naive alternative: each client polls ``GET /api/v1/status`` every second and notices
    a camera's change when a response shows it. Latency = that response's arrival - the commit
    of the change."""
    token = httpx.post(
        f"http://127.0.0.1:{port}/api/v1/auth/token",
        data={"grant_type": "password", "username": USERNAME, "password": PASSWORD},
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    seen: list[list[tuple[str, str, float]]] = [[] for _ in range(clients)]
    stop = asyncio.Event()
    requests = [0]

    async def poll(index: int) -> None:
        last: dict[str, str] = {}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            await asyncio.sleep(index / clients)  # spread over the period
            while not stop.is_set():
                began = time.monotonic()
                response = await http.get("/api/v1/status", headers=headers)
                now = time.time()
                requests[0] += 1
                for camera in response.json():
                    state = camera["state"]
                    if camera["camera_id"] in last and last[camera["camera_id"]] != state:
                        seen[index].append((camera["camera_id"], state, now))
                    last[camera["camera_id"]] = state
                await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - began)))

    tasks = [asyncio.create_task(poll(i)) for i in range(clients)]
    await asyncio.sleep(1.5)  # every client has its first picture
    receiving, sending = multiprocessing.Pipe(duplex=False)
    cpu_before, wall_before = cpu_seconds(server_pid), time.monotonic()
    requests[0] = 0
    process = multiprocessing.get_context("spawn").Process(
        target=writer, args=(url, cameras, rounds, start, sending)
    )
    process.start()
    while not receiving.poll():
        await asyncio.sleep(0.1)
    commits = receiving.recv()
    process.join()
    await asyncio.sleep(2.5)  # the last change shows in the next poll of each client
    wall = time.monotonic() - wall_before
    cpu = cpu_seconds(server_pid) - cpu_before
    stop.set()
    failures = [r for r in await asyncio.gather(*tasks, return_exceptions=True) if r is not None]
    if failures:
        raise RuntimeError(f"{len(failures)} polling clients failed: {failures[0]!r}")
    changes: dict[str, list[tuple[str, float]]] = {}
    for _seq, moment, camera, fail in commits:
        changes.setdefault(camera, []).append(("down" if fail else "up", moment))
    latencies: list[float] = []
    for observed in seen:
        position: dict[str, int] = {}
        for camera, state, at in observed:
            # The first commit of this camera, not yet matched, that gave this state.
            for k in range(position.get(camera, 0), len(changes.get(camera, []))):
                if changes[camera][k][0] == state:
                    latencies.append((at - changes[camera][k][1]) * 1000)
                    position[camera] = k + 1
                    break
    expected = len(commits) * clients
    return {
        "clients": clients,
        "changes": len(commits),
        "noticed": len(latencies),
        "missed": expected - len(latencies),
        "latency_p50_ms": round(quantile(latencies, 0.5), 1),
        "latency_p99_ms": round(quantile(latencies, 0.99), 1),
        "latency_max_ms": round(max(latencies), 1) if latencies else math.nan,
        "requests_per_s": round(requests[0] / wall, 1),
        "server_cpu_s": round(cpu, 2),
        "server_cpu_cores": round(cpu / wall, 3),
        "seconds": round(wall, 1),
    }


def run_backend(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    prepare(url, args.cameras)
    port = free_port()
    env = {
        **os.environ,
        "VIGIE_DATABASE_URL": url,
        "VIGIE_ENVIRONMENT": "production",
        "VIGIE_SECRET_KEY": generate_secret_key(),
        "VIGIE_CREDENTIALS_KEYS": generate_key(),
    }
    server = subprocess.Popen(
        [VIGIE, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"vigie serve did not start on {name}")
            time.sleep(0.2)
        runs = {}
        for hour, clients in enumerate((args.clients, 1), start=1):
            runs[str(clients)] = asyncio.run(
                measure(
                    port,
                    url,
                    server.pid,
                    clients=clients,
                    cameras=args.cameras,
                    rounds=args.rounds,
                    start=hour,
                    deflate=args.deflate,
                )
            )
            print(name, json.dumps(runs[str(clients)]), flush=True)
        if args.polling_clients:
            runs[f"polling_{args.polling_clients}"] = asyncio.run(
                measure_polling(
                    port,
                    server.pid,
                    clients=args.polling_clients,
                    url=url,
                    cameras=args.cameras,
                    rounds=args.rounds,
                    start=3,
                )
            )
            print(name, json.dumps(runs[f"polling_{args.polling_clients}"]), flush=True)
        return runs
    finally:
        server.terminate()
        server.wait(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--cameras", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--polling-clients",
        type=int,
        default=30,
        help=(
            "Clients of the naive baseline, each polling GET /api/v1/status every second "
            "(0: skip it). Beyond about 40 concurrent requests the service's request path "
            "exhausts its database pool (see README)."
        ),
    )
    parser.add_argument(
        "--no-deflate",
        dest="deflate",
        action="store_false",
        help="Clients do not offer permessage-deflate (browsers do).",
    )
    args = parser.parse_args()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} CPU, Python {platform.python_version()}",
        "load_average": round(os.getloadavg()[0], 2),
        "cameras": args.cameras,
        "rounds": args.rounds,
        "permessage_deflate": args.deflate,
    }
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                results["sqlite"] = run_backend(backend, f"sqlite:///{folder}/vigie.db", args)
        else:  # a throw-away database on the server of VIGIE_TEST_POSTGRES_URL
            with postgres_database() as url:
                results["postgresql"] = run_backend(backend, url, args)
    results["load_average_after"] = round(os.getloadavg()[0], 2)
    path = HERE / "live_results.json"
    runs = json.loads(path.read_text())["runs"] if path.exists() else []
    path.write_text(json.dumps({"runs": [*runs, results]}, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
