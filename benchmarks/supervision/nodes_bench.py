"""Two `vigie serve` nodes sharing N simulated cameras on one PostgreSQL database, against one
node, in the same run (issue 21, item 5).

1. ``vigie simulate --cameras N`` in another process (2 hung and 5 offline cameras per thousand,
   as in ``serve_bench.py``), a fresh PostgreSQL database seeded as ``serve_bench.py`` does.
2. Phase A, one node: ``vigie serve`` at the default intervals (stream check off: the simulator
   serves no RTSP), after ``--warmup`` seconds (the first checks' UNKNOWN -> UP), for
   ``--minutes``: its CPU and memory every 5 s, the scheduler lag from ``/metrics`` every 30 s
   and at the end, the events a live WebSocket client on it receives.
3. Phase B, two nodes: a second ``vigie serve`` on another port, same database and keys. Once the
   leases are balanced (``camera_leases`` grouped by run: each node at its share), the same
   figures per node for ``--minutes``, with a live client on each node: each must receive every
   event, whichever node wrote it.
   In both windows ``--flap`` healthy cameras, spread over the range (so over both nodes' shares),
   are switched off 5 s in and back on half-way through, so that the feed carries the same burst
   of state changes and incidents in both phases (at steady state it carries almost nothing).
4. ``kill -9`` of the first node: the time until the other holds all its cameras (bound: lease
   ttl + one round), until each of them has a check stored after the kill (``camera_status``'s
   ``last_check_at``; bound: ttl + two rounds + the liveness timeout, since a camera taken over is
   checked within a round), and the state changes stored after the kill (none should be DOWN or
   UNKNOWN because of it).

Usage: ``.venv/bin/python benchmarks/supervision/nodes_bench.py --cameras 10000 --minutes 6``
Writes (merges into) ``benchmarks/supervision/nodes_results.json``, keyed by N.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout: tests.helpers
sys.path.insert(0, str(Path(__file__).resolve().parent))
from scheduler_bench import cpu_seconds, faulty, quantile, start_simulator  # sibling scripts
from serve_bench import (
    LAG,
    VIGIE,
    gc_freezes,
    rss_kib,
    run,
    scrape,
    snapshot_size,
    watch_live,
    write_inventory,
)

from tests.helpers.postgres import postgres_database
from vigie.credentials import generate_key
from vigie.settings import generate_secret_key

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LEASE_TTL_S = 30.0  # the defaults: VIGIE_SUPERVISE_LEASE_TTL_S, round = min(ttl / 3, 5 s)
LEASE_ROUND_S = min(LEASE_TTL_S / 3, 5.0)
CAMERA_TIMEOUT_S = 5.0  # VIGIE_SUPERVISE_CAMERA_TIMEOUT_S; a liveness check may take two calls
SCRAPE_TIMEOUT_S = 30.0
LOGGED = {
    "lease_rounds_failed": "lease round failed",
    "deadlocks": "deadlock detected",
    "writer_batches_retried": "writer: database unreachable",
    "results_refused_lease_taken": "refused: its lease was taken",
    "cameras_lost_to_another_node": "lost to another node",
}
"""Log lines counted in each node's log (what sharing the cameras cost or went through)."""


@dataclass
class Node:
    """One ``vigie serve`` process and the live client connected to it."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    watcher: asyncio.Task[None] | None = None
    run_id: int | None = None
    scrapes_failed: int = 0
    """``/metrics`` requests unanswered within :data:`SCRAPE_TIMEOUT_S` (the node too busy)."""
    scrape_max_s: float = 0.0

    async def metrics(self, token: str) -> dict[str, float]:
        """Its ``/metrics``, read in a thread so that the live clients keep reading; a node too
        busy to answer is counted, not fatal (empty figures)."""
        started = time.monotonic()
        try:
            values = await asyncio.to_thread(scrape, self.base, token, SCRAPE_TIMEOUT_S)
        except httpx.HTTPError:
            self.scrapes_failed += 1
            return {}
        self.scrape_max_s = max(self.scrape_max_s, time.monotonic() - started)
        return values

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def raise_file_limit() -> int:
    """10,000 cameras are 10,000 listening sockets in the simulator, plus the connections of the
    checks on both sides: the soft limit goes up to the hard one (the children inherit it)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


async def start_node(
    name: str, port: int, *, env: dict[str, str], folder: Path, token: str, db: Engine
) -> Node:
    """``vigie serve`` on ``port``, once healthy, with a live client connected to it."""
    log = folder / f"serve-{name}.log"
    with log.open("w") as handle:
        process = subprocess.Popen(
            [VIGIE, "serve", "--port", str(port)], env=env, stdout=handle, stderr=handle
        )
    node = Node(name, port, process, log)
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"{node.base}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"vigie serve {name} did not start: {log.read_text()}")
        await asyncio.sleep(0.2)
    ready = asyncio.Event()
    node.watcher = asyncio.create_task(watch_live(node.base, token, node.events, ready))
    await asyncio.wait_for(ready.wait(), 60)
    with db.connect() as connection:  # the supervisor records its run as host:pid
        node.run_id = connection.execute(
            text("SELECT max(id) FROM supervisor_runs WHERE node LIKE :pid"),
            {"pid": f"%:{process.pid}"},
        ).scalar_one()
    return node


def stop_node(node: Node) -> None:
    if node.watcher is not None:
        node.watcher.cancel()
    if node.process.poll() is None:
        node.process.send_signal(signal.SIGINT)
        try:
            node.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            node.process.kill()


def leases_by_run(db: Engine) -> dict[int | None, int]:
    with db.connect() as connection:
        rows = connection.execute(
            text("SELECT run_id, count(*) FROM camera_leases GROUP BY run_id")
        ).all()
    return {run_id: count for run_id, count in rows}  # noqa: C416 (rows of two, not pairs)


async def set_faults(sim_control: str, token: str, cameras: list[int], kind: str | None) -> None:
    """Switch cameras off (``kind``) or back on (None) through the simulator's control API."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(headers=headers) as client:
        for camera in cameras:
            url = f"{sim_control}/cameras/{camera}/faults"
            if kind is None:
                response = await client.delete(url)
            else:
                response = await client.put(url, json={"kind": kind})
            response.raise_for_status()


def flapping(cameras: int, count: int, faults: dict[int, str]) -> list[int]:
    """``count`` healthy cameras spread evenly over the range (so over every node's share)."""
    chosen: list[int] = []
    for k in range(count):
        index = k * cameras // max(count, 1) + 3
        while index in faults or index in chosen:
            index = (index + 1) % cameras
        chosen.append(index)
    return chosen


CONTROL = frozenset({"snapshot", "heartbeat", "resync"})
"""Messages of the live protocol that are not stored events (a heartbeat carries a ``seq``)."""


def received(
    node: Node, since: float, until: float, cameras: frozenset[str] | None = None
) -> list[tuple[float, int]]:
    """(arrival, seq) of the stored events the node's live client received in the window (of
    ``cameras`` only, when given)."""
    return [
        (at, int(body["seq"]))
        for at, body in node.events
        if since <= at < until
        and "seq" in body
        and body.get("type") not in CONTROL
        and (cameras is None or body.get("camera_id") in cameras)
    ]


def peak_rate(arrivals: list[float]) -> int:
    """The most events received within one second (1-s buckets)."""
    buckets = Counter(int(at) for at in arrivals)
    return max(buckets.values(), default=0)


async def measure(
    nodes: list[Node],
    seconds: float,
    *,
    args: argparse.Namespace,
    token: str,
    monitoring: str,
    flap: list[int],
) -> dict[str, Any]:
    """The figures of each node over ``seconds``, and what their live clients received."""
    start = time.monotonic()
    for n in nodes:
        n.scrapes_failed, n.scrape_max_s = 0, 0.0
    cpu0 = {n.name: cpu_seconds(n.process.pid) for n in nodes}
    samples: dict[str, list[tuple[float, float, int]]] = {n.name: [] for n in nodes}
    worst_p99 = {n.name: -1.0 for n in nodes}
    off_at = on_at = None
    last_scrape = start
    while time.monotonic() - start < seconds:
        await asyncio.sleep(5)
        now = time.monotonic()
        for n in nodes:
            samples[n.name].append(
                (now - start, cpu_seconds(n.process.pid), rss_kib(n.process.pid))
            )
        if off_at is None and flap:
            await set_faults(args.sim_control, token, flap, "offline")
            off_at = time.monotonic() - start
        if on_at is None and flap and now - start >= seconds / 2:
            await set_faults(args.sim_control, token, flap, None)
            on_at = time.monotonic() - start
        if now - last_scrape >= 30:
            last_scrape = now
            for n in nodes:
                p99 = (await n.metrics(monitoring)).get(f"{LAG}{{quantile=0.99}}", -1.0)
                worst_p99[n.name] = max(worst_p99[n.name], p99)
    wall = time.monotonic() - start
    end = start + wall
    flapped = frozenset(f"cam-{i:05d}" for i in flap)
    await asyncio.sleep(3)  # events committed at the end of the window reach every client
    figures: dict[str, Any] = {}
    seqs: dict[str, dict[int, float]] = {}
    for n in nodes:
        metrics = await n.metrics(monitoring)
        s = samples[n.name]
        half = [x for x in s if x[0] >= wall / 2]
        window = received(n, start, end)
        seqs[n.name] = {seq: at for at, seq in received(n, start, end + 3)}
        figures[n.name] = {
            "cpu_share_of_a_core": round((cpu_seconds(n.process.pid) - cpu0[n.name]) / wall, 3),
            "cpu_share_second_half": round(
                (half[-1][1] - half[0][1]) / max(half[-1][0] - half[0][0], 1e-9), 3
            ),
            "rss_mib_max": round(max(x[2] for x in s) / 1024, 1),
            "rss_mib_end": round(s[-1][2] / 1024, 1),
            **{
                f"lag_{name}_ms": round(metrics.get(f"{LAG}{{quantile={q}}}", -1) * 1000, 1)
                for name, q in (("p50", "0.5"), ("p99", "0.99"), ("max", "1"))
            },
            "lag_p99_worst_of_30s_scrapes_ms": round(
                max(worst_p99[n.name], metrics.get(f"{LAG}{{quantile=0.99}}", -1)) * 1000, 1
            ),
            "checks_skipped": metrics.get("vigie_checks_skipped_total{}", 0),
            "supervisor_exceptions": metrics.get("vigie_supervisor_exceptions_total{}", 0),
            "cameras_by_state": {
                key.split("=")[1].rstrip("}"): int(value)
                for key, value in metrics.items()
                if key.startswith("vigie_cameras{")
            },
            "live_events": len(window),
            "live_events_per_s": round(len(window) / wall, 2),
            "live_events_of_flapped_cameras": len(received(n, start, end, flapped)),
            "live_events_peak_per_s": peak_rate([at for at, _ in window]),
            "live_client_alive": n.watcher is not None and not n.watcher.done(),
            "metrics_scrapes_failed": n.scrapes_failed,
            "metrics_response_max_s": round(n.scrape_max_s, 2),
            "log_counts_since_start": log_counts(n.log),
        }
    result: dict[str, Any] = {
        "seconds": round(wall, 1),
        "flap_off_at_s": off_at,
        "flap_on_at_s": on_at,
        "nodes": figures,
    }
    if len(nodes) > 1:
        # Every client should have every event: those seen by some client but not by this one
        # (within the window and 3 s after), and how much later than the first client it came.
        union = set().union(*(set(v) for v in seqs.values()))
        result["events_seen_by_any_client"] = len(union)
        for name, mine in seqs.items():
            late = [
                at - min(seqs[o][seq] for o in seqs if seq in seqs[o]) for seq, at in mine.items()
            ]
            result["nodes"][name]["events_missing_vs_other_clients"] = len(union - set(mine))
            for label, q in (("p50", 0.5), ("p99", 0.99)):
                result["nodes"][name][f"arrival_after_first_client_{label}_ms"] = (
                    round(quantile(late, q) * 1000, 1) if late else None
                )
    return result


def log_counts(log: Path) -> dict[str, int]:
    text_ = log.read_text(encoding="utf-8", errors="replace")
    return {name: text_.count(needle) for name, needle in LOGGED.items()}


def victim_cameras(db: Engine, run_id: int) -> list[str]:
    with db.connect() as connection:
        rows = connection.execute(
            text("SELECT camera_id FROM camera_leases WHERE run_id = :run"), {"run": run_id}
        )
        return [row[0] for row in rows]


async def take_over(
    victim: Node, survivor: Node, db: Engine, monitoring: str, timeout: float
) -> dict[str, Any]:
    """kill -9 the victim; time until the survivor holds, then has checked, all its cameras."""
    assert victim.run_id is not None and survivor.run_id is not None
    cameras = victim_cameras(db, victim.run_id)
    cpu0 = cpu_seconds(survivor.process.pid)
    victim.process.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    victim.process.wait()
    if victim.watcher is not None:
        victim.watcher.cancel()
    with db.connect() as connection:
        killed_db = connection.execute(text("SELECT now()")).scalar_one()
    held_after = checked_after = None
    held = checked = 0
    progress: list[tuple[float, int, int]] = []
    while time.monotonic() - killed < timeout:
        await asyncio.sleep(0.5)
        with db.connect() as connection:
            held, checked = connection.execute(
                text(
                    "SELECT count(*) FILTER (WHERE l.run_id = :run), "
                    "count(*) FILTER (WHERE (s.saved->>'last_check_at')::timestamptz > :killed) "
                    "FROM camera_leases l JOIN camera_status s USING (camera_id) "
                    "WHERE l.camera_id = ANY(:ids)"
                ),
                {"run": survivor.run_id, "killed": killed_db, "ids": cameras},
            ).one()
        at = round(time.monotonic() - killed, 1)
        if not progress or progress[-1][1:] != (held, checked):
            progress.append((at, held, checked))
        if held_after is None and held == len(cameras):
            held_after = at
        if checked_after is None and checked == len(cameras):
            checked_after = at
        if held_after is not None and checked_after is not None:
            break
    await asyncio.sleep(LEASE_ROUND_S + 2 * CAMERA_TIMEOUT_S)  # what a lapse would write, written
    wall = time.monotonic() - killed
    with db.connect() as connection:
        changes = connection.execute(
            text(
                "SELECT camera_id, previous, state, reason, at FROM state_changes "
                "WHERE at > :killed ORDER BY at"
            ),
            {"killed": killed_db},
        ).all()
    theirs = set(cameras)
    metrics = await survivor.metrics(monitoring)
    taken_lines = [
        line.strip()
        for line in survivor.log.read_text(errors="replace").splitlines()
        if "supervisor: leases:" in line or "lost to another node" in line
    ]
    return {
        "victim": victim.name,
        "victim_cameras": len(cameras),
        "bound_all_held_s": LEASE_TTL_S + LEASE_ROUND_S,
        "all_held_by_survivor_after_s": held_after,
        "bound_all_checked_s": LEASE_TTL_S + 2 * LEASE_ROUND_S + 2 * CAMERA_TIMEOUT_S,
        "all_checked_after_kill_s": checked_after,
        "held_at_timeout": held,
        "checked_at_timeout": checked,
        "progress_s_held_checked": progress,
        "state_changes_after_kill": len(changes),
        "state_changes_after_kill_of_victim_cameras": Counter(
            f"{c.previous}->{c.state} ({c.reason})" for c in changes if c.camera_id in theirs
        ),
        "state_changes_after_kill_of_others": Counter(
            f"{c.previous}->{c.state} ({c.reason})" for c in changes if c.camera_id not in theirs
        ),
        "flipped_down_or_unknown": sorted(
            c.camera_id for c in changes if c.state in ("down", "unknown")
        ),
        "survivor_cpu_share_after_kill": round(
            (cpu_seconds(survivor.process.pid) - cpu0) / wall, 3
        ),
        "survivor_lag_p99_ms_after": round(metrics.get(f"{LAG}{{quantile=0.99}}", -1) * 1000, 1),
        "survivor_lag_max_ms_after": round(metrics.get(f"{LAG}{{quantile=1}}", -1) * 1000, 1),
        "survivor_live_events_after_kill": len(received(survivor, killed, time.monotonic())),
        "survivor_lease_log": taken_lines[-6:],
    }


async def benchmark(
    args: argparse.Namespace,
    env: dict[str, str],
    folder: Path,
    tokens: dict[str, str],
    db: Engine,
    *,
    figures: dict[str, Any],
) -> None:
    """The three phases; ``figures`` is filled as they end, so a failure keeps the earlier ones."""
    faults = args.faults
    flap = flapping(args.cameras, args.flap, faults)
    seconds = args.minutes * 60
    nodes: list[Node] = []
    try:
        where: dict[str, Any] = {
            "env": env,
            "folder": folder,
            "token": tokens["operator"],
            "db": db,
        }
        how: dict[str, Any] = {
            "args": args,
            "token": tokens["simulator"],
            "monitoring": tokens["monitoring"],
            "flap": flap,
        }
        first = await start_node("a", args.serve_port, **where)
        nodes.append(first)
        await asyncio.sleep(args.warmup)  # the first checks' flood of UNKNOWN -> UP is over
        figures["single_node"] = await measure([first], seconds, **how)
        started = time.monotonic()
        second = await start_node("b", args.serve_port + 1, **where)
        nodes.append(second)
        share = -(-args.cameras // 2)
        while True:
            counts = leases_by_run(db)
            if (
                counts.get(first.run_id, 0) >= args.cameras - share
                and counts.get(second.run_id, 0) >= args.cameras - share
            ):
                break
            if time.monotonic() - started > 300:
                raise SystemExit(f"the leases never balanced: {counts}")
            await asyncio.sleep(0.5)
        balanced_after = round(time.monotonic() - started, 1)
        balanced = {f"run {k} ({'a' if k == first.run_id else 'b'})": v for k, v in counts.items()}
        figures["two_nodes"] = pair = await measure(nodes, seconds, **how)
        pair["balanced_after_second_start_s"] = balanced_after
        pair["leases_when_balanced"] = balanced
        pair["leases_at_end"] = {
            f"run {k} ({'a' if k == first.run_id else 'b'})": v
            for k, v in leases_by_run(db).items()
        }
        figures["kill"] = await take_over(
            first, second, db, tokens["monitoring"], args.kill_timeout
        )
    finally:
        figures["gc_freezes"] = {n.name: gc_freezes(n.log) for n in nodes}
        figures["log_counts"] = {n.name: log_counts(n.log) for n in nodes}
        for n in nodes:
            stop_node(n)
        for n in nodes:  # kept for a post-mortem next to the results
            if args.keep_logs:
                (args.keep_logs / n.log.name).write_bytes(n.log.read_bytes())


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=10000)
    parser.add_argument("--minutes", type=float, default=5.0, help="each phase's window")
    parser.add_argument("--flap", type=int, default=100, help="cameras switched off and on")
    parser.add_argument("--warmup", type=float, default=60.0, help="s before phase A")
    parser.add_argument("--kill-timeout", type=float, default=180.0)
    parser.add_argument("--port", type=int, default=15000, help="simulator's first camera")
    parser.add_argument("--serve-port", type=int, default=14990, help="node a; b on the next")
    parser.add_argument("--hung", type=float, default=2.0, help="hung cameras per thousand")
    parser.add_argument("--offline", type=float, default=5.0, help="offline cameras per thousand")
    parser.add_argument("--snapshot-size", type=snapshot_size, default="640x360")
    parser.add_argument("--out", type=Path, default=HERE / "nodes_results.json")
    parser.add_argument("--keep-logs", type=Path, default=None, help="copy the nodes' logs here")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    files = raise_file_limit()
    args.faults = faulty(args.cameras, args.hung, args.offline)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as name, postgres_database() as url:
        folder = Path(name)
        env = {
            **os.environ,
            "VIGIE_DATABASE_URL": url,
            "VIGIE_DATA_DIR": str(folder),
            "VIGIE_ENVIRONMENT": "production",
            "VIGIE_SECRET_KEY": generate_secret_key(),
            "VIGIE_CREDENTIALS_KEYS": generate_key(),
            "VIGIE_SUPERVISE_STREAM_INTERVAL_S": "0",  # the simulator serves no RTSP
            # the nodes run this checkout, whatever the virtualenv's editable install points at
            "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
        }
        simulator = start_simulator(
            args.cameras, args.port, args.faults, folder, snapshot_size=args.snapshot_size
        )
        args.sim_control = f"http://127.0.0.1:{args.port + args.cameras}"
        db = create_engine(url)
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
            sim_cpu0, sim_t0 = cpu_seconds(simulator.pid), time.monotonic()
            figures: dict[str, Any] = {}
            try:
                asyncio.run(benchmark(args, env, folder, tokens, db, figures=figures))
            except Exception as error:  # recorded with what was measured before it
                figures["error"] = repr(error)
            sim_share = (cpu_seconds(simulator.pid) - sim_cpu0) / (time.monotonic() - sim_t0)
        finally:
            db.dispose()
            simulator.send_signal(signal.SIGINT)
            try:
                simulator.wait(timeout=30)
            except subprocess.TimeoutExpired:
                simulator.kill()
    record = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["benchmarks/supervision/nodes_bench.py", *sys.argv[1:]]),
        "machine": f"{os.cpu_count()} CPU (simulator, PostgreSQL and every node share them), "
        f"Python {platform.python_version()}",
        "open_files_limit": files,
        "load_average_before": round(load_before, 2),
        "load_average_end": round(os.getloadavg()[0], 2),
        "simulator_cpu_share_of_a_core": round(sim_share, 3),
        "cameras": args.cameras,
        "minutes_per_phase": args.minutes,
        "snapshot_size": args.snapshot_size,
        "hung": sum(1 for k in args.faults.values() if k == "hang"),
        "offline": sum(1 for k in args.faults.values() if k == "offline"),
        "flapped": args.flap,
        "warmup_s": args.warmup,
        "lease_ttl_s": LEASE_TTL_S,
        "lease_round_s": LEASE_ROUND_S,
        **figures,
    }
    print(json.dumps(record, indent=2, default=str))
    existing = json.loads(args.out.read_text()) if args.out.exists() else {}
    existing[f"postgresql-{args.cameras}"] = record
    args.out.write_text(json.dumps(existing, indent=2, default=str) + "\n")
    if "error" in figures:
        raise SystemExit(f"failed: {figures['error']}")


if __name__ == "__main__":
    main()
