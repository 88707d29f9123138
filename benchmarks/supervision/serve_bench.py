"""One `vigie serve` process supervising N simulated cameras at the default intervals, end to end.

1. ``vigie simulate --cameras N`` starts in another process (as in ``scheduler_bench.py``, a few
   cameras hang or are offline, as on a real network). ``--snapshot-size`` is passed on: the
   default 640x360 JPEGs (about 40 KB) under-measure the full check's decoding and ``assess``;
   ``1920x1080`` or ``main`` give a real camera's (about 250 KB).
2. A fresh database (SQLite file, or a throw-away PostgreSQL database with ``--db postgresql``)
   is migrated, given the Eure's communes, an inventory of N cameras (``vigie cameras import``,
   passwords encrypted), a ``monitoring`` API token (for ``/metrics``) and an ``operator`` one
   (for the live WebSocket).
3. ``vigie serve`` starts in a third process with the default intervals (liveness 30 s, full
   5 min; the simulator serves no RTSP, so the stream check is off). The benchmark samples its CPU
   time and resident memory every 5 s and reads the scheduler lag from ``/metrics`` at the end
   (the scheduler keeps the lag of the latest 20,000 checks: the last two minutes at 167/s).
4. A WebSocket client stays connected to ``/api/v1/live``. ``--switch-off-at`` seconds into the
   run, one healthy camera is switched off through the simulator's control API; the time until
   the ``state_changed`` event saying it is DOWN reaches the client is the detection time
   (target: within two liveness intervals plus the check timeout).
5. After ``vigie serve`` stops, the baseline runs in this process, on the same cameras, for
   ``--naive-seconds``: the naive sequential poller of ``scheduler_bench.py`` (one liveness
   check after another on the same even schedule).

Usage: ``.venv/bin/python benchmarks/supervision/serve_bench.py --cameras 5000 --minutes 8``
Writes (merges into) ``benchmarks/supervision/serve_results.json``, keyed by database and N,
and the snapshot size when it is not the default (``sqlite-5000-1920x1080``).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout: tests.helpers
sys.path.insert(0, str(Path(__file__).resolve().parent))
from scheduler_bench import (  # a sibling script, not a package
    PASSWORD,
    USER,
    cpu_seconds,
    faulty,
    naive_phase,
    start_simulator,
)

from cameras.models import CameraAddress
from cameras.simulator.server import parse_snapshot_size
from tests.helpers.postgres import postgres_database
from vigie.credentials import generate_key
from vigie.settings import generate_secret_key

HERE = Path(__file__).resolve().parent
LAG = "vigie_scheduler_lag_seconds"
VIGIE = str(Path(sys.executable).with_name("vigie"))
# Eure communes (INSEE) the cameras are spread over: the sample's, in several EPCIs.
COMMUNES = ("27056", "27229", "27681", "27284", "27375", "27467", "27701", "27016")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([VIGIE, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"vigie {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """The database URL: a file in ``folder``, or a throw-away PostgreSQL database on the server
    of VIGIE_TEST_POSTGRES_URL, dropped at the end."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'vigie.db'}"
        return
    with postgres_database() as url:
        yield url


def write_inventory(path: Path, cameras: int, port: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["id", "name", "commune", "latitude", "longitude", "host", "port", "username",
             "password"]
        )  # fmt: skip
        for i in range(cameras):
            writer.writerow(
                [f"cam-{i:05d}", f"Caméra {i}", COMMUNES[i % len(COMMUNES)],
                 49.0 + (i % 100) * 0.003, 1.0 + (i // 100) * 0.01,
                 "127.0.0.1", port + i, USER, PASSWORD]
            )  # fmt: skip


def scrape(base: str, token: str, timeout: float = 5.0) -> dict[str, float]:
    response = httpx.get(
        f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=timeout
    )
    response.raise_for_status()
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{labels}}}"] = sample.value
    return values


async def watch_live(
    base: str, token: str, events: list[tuple[float, dict[str, Any]]], ready: asyncio.Event
) -> None:
    """Keep a live WebSocket open, recording each event with its arrival time."""
    url = base.replace("http", "ws", 1) + "/api/v1/live"
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(
            url, headers={"Authorization": f"Bearer {token}"}, heartbeat=None, max_msg_size=0
        ) as socket,
    ):
        async for message in socket:
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            body = json.loads(message.data)
            if body.get("type") == "snapshot":
                ready.set()
            events.append((time.monotonic(), body))


async def control(sim_control: str, token: str, camera: int, fault: dict[str, Any]) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.put(
            f"{sim_control}/cameras/{camera}/faults",
            json=fault,
            headers={"Authorization": f"Bearer {token}"},
        )
        response.raise_for_status()


async def serve_phase(
    args: argparse.Namespace,
    env: dict[str, str],
    folder: Path,
    tokens: dict[str, str],
    faults: dict[int, str],
) -> dict[str, Any]:
    base = f"http://127.0.0.1:{args.serve_port}"
    log = (folder / "serve.log").open("w")
    serve = subprocess.Popen(
        [VIGIE, "serve", "--port", str(args.serve_port)], env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if serve.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"vigie serve did not start: {(folder / 'serve.log').read_text()}")
            await asyncio.sleep(0.2)
        events: list[tuple[float, dict[str, Any]]] = []
        ready = asyncio.Event()
        watcher = asyncio.create_task(watch_live(base, tokens["operator"], events, ready))
        await asyncio.wait_for(ready.wait(), 60)
        start = time.monotonic()
        cpu0 = cpu_seconds(serve.pid)
        samples: list[tuple[float, float, int]] = []
        victim = next(i for i in range(args.cameras // 2, args.cameras) if i not in faults)
        victim_id = f"cam-{victim:05d}"
        switched_at: float | None = None
        while time.monotonic() - start < args.minutes * 60:
            await asyncio.sleep(5)
            now = time.monotonic()
            samples.append((now - start, cpu_seconds(serve.pid), rss_kib(serve.pid)))
            if switched_at is None and now - start >= args.switch_off_at:
                await control(args.sim_control, tokens["simulator"], victim, {"kind": "offline"})
                switched_at = time.monotonic()
            if watcher.done():
                raise SystemExit(f"the live WebSocket closed: {watcher.exception()!r}")
        wall = time.monotonic() - start
        cpu = cpu_seconds(serve.pid) - cpu0
        metrics = scrape(base, tokens["monitoring"])
        down_at = next(
            (
                at
                for at, body in events
                if body.get("type") == "state_changed"
                and body.get("camera_id") == victim_id
                and body.get("state") == "down"
            ),
            None,
        )
        watcher.cancel()
        # Steady state: the CPU share over the second half of the run (the first full-check
        # round and the references being learned are in the first half).
        half = [s for s in samples if s[0] >= wall / 2]
        steady_cpu = (half[-1][1] - half[0][1]) / max(half[-1][0] - half[0][0], 1e-9)
        return {
            "seconds": round(wall, 1),
            "cpu_share_of_a_core": round(cpu / wall, 3),
            "cpu_share_second_half": round(steady_cpu, 3),
            "rss_mib_max": round(max(s[2] for s in samples) / 1024, 1),
            "rss_mib_end": round(samples[-1][2] / 1024, 1),
            **{
                f"lag_{name}_ms": round(metrics.get(f"{LAG}{{quantile={q}}}", -1) * 1000, 1)
                for name, q in (("p50", "0.5"), ("p99", "0.99"), ("max", "1"))
            },
            "cameras_by_state": {
                key.split("=")[1].rstrip("}"): int(value)
                for key, value in metrics.items()
                if key.startswith("vigie_cameras{")
            },
            "checks_skipped": metrics.get("vigie_checks_skipped_total{}", 0),
            "supervisor_exceptions": metrics.get("vigie_supervisor_exceptions_total{}", 0),
            "live_events": len(events),
            "switched_off": victim_id,
            "down_seen_after_s": None
            if down_at is None or switched_at is None
            else round(down_at - switched_at, 1),
            "gc_freezes": gc_freezes(folder / "serve.log"),
        }
    finally:
        serve.send_signal(2)
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            serve.kill()
        log.close()


FREEZE = re.compile(r"(\d+) long-lived objects left out of garbage collection \((\d+) ms\)")


def gc_freezes(log_file: Path) -> list[dict[str, int]]:
    """What the supervisor left out of garbage collection, and the collection's pause, from
    its log (``Supervisor.freeze_heap``: at start, then after the first full interval)."""
    text = log_file.read_text(encoding="utf-8", errors="replace")
    return [{"objects": int(m[1]), "pause_ms": int(m[2])} for m in FREEZE.finditer(text)]


def snapshot_size(text: str) -> str:
    """``--snapshot-size`` checked as ``vigie simulate`` will, before anything starts."""
    try:
        parse_snapshot_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("--snapshot-size: ")) from None
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=5000)
    parser.add_argument("--minutes", type=float, default=8.0)
    parser.add_argument("--switch-off-at", type=float, default=300.0, help="s into the run")
    parser.add_argument("--naive-seconds", type=float, default=90.0)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--port", type=int, default=15000, help="simulator's first camera")
    parser.add_argument("--serve-port", type=int, default=14990)
    parser.add_argument("--hung", type=float, default=2.0, help="hung cameras per thousand")
    parser.add_argument("--offline", type=float, default=5.0, help="offline cameras per thousand")
    parser.add_argument("--out", type=Path, default=HERE / "serve_results.json")
    parser.add_argument(
        "--snapshot-size",
        type=snapshot_size,
        default="640x360",
        help="the simulator's snapshots: WxH, or main (each camera's main profile, 1920x1080)",
    )
    args = parser.parse_args()
    faults = faulty(args.cameras, args.hung, args.offline)
    with tempfile.TemporaryDirectory() as name, database(args.db, Path(name)) as url:
        folder = Path(name)
        env = {
            **os.environ,
            "VIGIE_DATABASE_URL": url,
            "VIGIE_DATA_DIR": str(folder),
            "VIGIE_ENVIRONMENT": "production",
            "VIGIE_SECRET_KEY": generate_secret_key(),
            "VIGIE_CREDENTIALS_KEYS": generate_key(),
            "VIGIE_SUPERVISE_STREAM_INTERVAL_S": "0",
        }
        simulator = start_simulator(
            args.cameras, args.port, faults, folder, snapshot_size=args.snapshot_size
        )
        args.sim_control = f"http://127.0.0.1:{args.port + args.cameras}"
        try:
            run(env, "db", "upgrade")
            run(env, "db", "load-communes")
            write_inventory(folder / "inventory.csv", args.cameras, args.port)
            run(env, "cameras", "import", str(folder / "inventory.csv"))
            tokens = {
                role: run(env, "tokens", "create", f"bench-{role}", "--role", role).strip()
                for role in ("monitoring", "operator")
            }
            tokens["simulator"] = (folder / "token").read_text().strip()
            served = asyncio.run(serve_phase(args, env, folder, tokens, faults))
            addresses = [
                CameraAddress("127.0.0.1", args.port + i, USER, PASSWORD, timeout_s=5.0)
                for i in range(args.cameras)
            ]
            args.interval = 30.0
            args.via = "clock"  # the same liveness check as the service (scheduler_bench)
            naive = asyncio.run(naive_phase(addresses, args, args.naive_seconds))
        finally:
            simulator.send_signal(2)
            try:
                simulator.wait(timeout=30)
            except subprocess.TimeoutExpired:
                simulator.kill()
    record = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} CPU, Python {platform.python_version()}",
        "load_average_end": round(os.getloadavg()[0], 2),
        "cameras": args.cameras,
        "database": args.db,
        "snapshot_size": args.snapshot_size,
        "hung": sum(1 for k in faults.values() if k == "hang"),
        "offline": sum(1 for k in faults.values() if k == "offline"),
        "serve": served,
        "naive": naive,
        "lag_p99_ratio_naive_over_serve": round(
            naive["lag_p99_ms"] / max(served["lag_p99_ms"], 0.1), 1
        ),
        "targets": {
            "lag_p99_under_1s": 0 <= served["lag_p99_ms"] < 1000,
            "under_one_core": served["cpu_share_of_a_core"] < 1.0,
            "under_1GB": served["rss_mib_max"] < 1024,
            "down_within_two_intervals_plus_timeout": served["down_seen_after_s"] is not None
            and served["down_seen_after_s"] <= 2 * 30 + 10,
        },
    }
    print(json.dumps(record, indent=2))
    existing = json.loads(args.out.read_text()) if args.out.exists() else {}
    key = f"{args.db}-{args.cameras}"
    if args.snapshot_size != "640x360":  # beside the 640x360 run, not over it
        key += f"-{args.snapshot_size}"
    existing[key] = record
    args.out.write_text(json.dumps(existing, indent=2) + "\n")


if __name__ == "__main__":
    main()
