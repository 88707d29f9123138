"""The liveness scheduler against a naive sequential poller, on N simulated cameras, in one run.

1. ``vigie simulate --cameras N`` starts in another process, with a few faulty cameras as a real
   network has them: ``--hung`` per thousand never answer, ``--offline`` per thousand refuse.
2. **Scheduler**: one :class:`cameras.client.OnvifClient`, one
   :class:`supervision.probes.CameraProbe` per camera, each camera's liveness check added to a
   :class:`supervision.scheduler.Scheduler` at ``--interval`` (shortened from the default 30 s
   so a run fits in minutes), for ``--rounds`` intervals. Lag p50/p99 (due to started), CPU time
   per check (process time / checks), resident memory (VmRSS, and the peak VmHWM).
3. **Naive poller**, same process, same cameras, same schedule, for the same time: one camera
   after another (``for camera in cameras: await liveness_check(camera)``), waiting when ahead
   of each camera's due time (the same even spread), never running two checks at once. Its lag
   is measured the same way; its sweep time is how long it needs to go once through N cameras.

Usage: ``.venv/bin/python benchmarks/supervision/scheduler_bench.py --cameras 1000 --interval 5``
Writes (merges into) ``benchmarks/supervision/results.json``, keyed by camera count.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cameras.client import OnvifClient, shared_document
from cameras.errors import CameraError
from cameras.models import CameraAddress
from supervision.probes import CameraProbe, error_kind, liveness_check
from supervision.scheduler import Scheduler
from supervision.states import CheckKind, CheckResult

HERE = Path(__file__).resolve().parent
VIGIE = str(Path(sys.executable).with_name("vigie"))
USER, PASSWORD = "admin", "vigie-sim"


def status_kib(field: str, pid: str = "self") -> int:
    """A memory figure of /proc/PID/status, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of another process (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def faulty(cameras: int, hung_permille: float, offline_permille: float) -> dict[int, str]:
    """Which cameras hang or are offline, spread over the range."""
    faults: dict[int, str] = {}
    for kind, permille in (("hang", hung_permille), ("offline", offline_permille)):
        count = round(cameras * permille / 1000)
        for k in range(count):
            index = (k * 997 + (7 if kind == "hang" else 500)) % cameras
            while index in faults:
                index = (index + 1) % cameras
            faults[index] = kind
    return faults


def start_simulator(
    cameras: int,
    port: int,
    faults: dict[int, str],
    folder: Path,
    host: str = "127.0.0.1",
    *,
    snapshot_size: str | None = None,
) -> Any:
    """``vigie simulate`` in another process, once its token is written; ``snapshot_size``
    (``WxH`` or ``main``) is passed as ``--snapshot-size``, None leaves the simulator's 640x360."""
    scenario = folder / "scenario.yaml"
    lines = [f"username: {USER}", f"password: {PASSWORD}", "faults:"]
    lines += [f"  - {{cameras: {i}, kind: {kind}}}" for i, kind in sorted(faults.items())]
    scenario.write_text("\n".join(lines) + "\n")
    token = folder / "token"
    process = subprocess.Popen(
        [
            *(VIGIE, "simulate", "--cameras", str(cameras), "--port", str(port)),
            *("--scenario", str(scenario), "--token-file", str(token)),
            *("--host", host),
            *(("--snapshot-size", snapshot_size) if snapshot_size else ()),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while not (token.exists() and token.read_text().strip()):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the simulator did not start: {process.stderr.read().decode()}")
        time.sleep(0.1)
    return process


async def scheduler_phase(
    addresses: list[CameraAddress], args: argparse.Namespace, sim_pid: int
) -> dict[str, Any]:
    delivered = 0
    reachable = 0

    async def deliver(result: CheckResult) -> None:
        nonlocal delivered, reachable
        delivered += 1
        reachable += result.reachable

    async with OnvifClient() as onvif:
        # parse the WSDL once before the clock starts, as a service does at start-up
        await shared_document("devicemgmt")
        rss_before = status_kib("VmRSS")
        scheduler = Scheduler(deliver, concurrency=args.concurrency)
        for index, address in enumerate(addresses):
            probe = CameraProbe(onvif, f"cam-{index}", address, assess=_no_assess)
            check = probe.liveness
            if args.via == "zeep":
                check = functools.partial(zeep_liveness, probe.camera, probe.camera_id)
            scheduler.add(
                probe.camera_id,
                "liveness",
                check,
                interval=args.interval,
                timeout=args.check_timeout,
            )
        cpu0, wall0, sim0 = time.process_time(), time.monotonic(), cpu_seconds(sim_pid)
        async with scheduler:
            # the first round also builds each camera's SOAP proxy: reported apart
            await asyncio.sleep(args.interval)
            first = scheduler.lag()
            scheduler.reset_lag()
            await asyncio.sleep(args.interval * (args.rounds - 1))
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        sim_cpu = cpu_seconds(sim_pid) - sim0
        lag = scheduler.lag()
        return {
            "first_round_lag_p50_ms": round(first.p50 * 1000, 1),
            "first_round_lag_p99_ms": round(first.p99 * 1000, 1),
            "seconds": round(wall, 1),
            "checks": scheduler.stats.started,
            "delivered": delivered,
            "reachable": reachable,
            "timeouts": scheduler.stats.timeouts,
            "skipped": scheduler.stats.skipped,
            "lag_p50_ms": round(lag.p50 * 1000, 1),
            "lag_p99_ms": round(lag.p99 * 1000, 1),
            "lag_max_ms": round(lag.max * 1000, 1),
            "lag_checks": lag.count,
            "cpu_ms_per_check": round(cpu / max(1, delivered) * 1000, 2),
            "cpu_cores": round(cpu / wall, 2),
            "simulator_cpu_cores": round(sim_cpu / wall, 2),
            "rss_mib": round(status_kib("VmRSS") / 1024, 1),
            "rss_growth_mib": round((status_kib("VmRSS") - rss_before) / 1024, 1),
        }


async def zeep_liveness(camera: Any, camera_id: str) -> CheckResult:
    """The liveness check as it was before cameras.clock: GetSystemDateAndTime through zeep.

    Kept here only as the baseline of ``--via zeep``; same result, same error mapping.
    """

    async def call() -> float:
        proxy = await camera._proxy("devicemgmt", authenticated=False)
        sent = time.time()
        reply = await proxy.GetSystemDateAndTime()
        received = time.time()
        utc = reply.UTCDateTime
        camera_utc = datetime(
            utc.Date.Year,
            utc.Date.Month,
            utc.Date.Day,
            utc.Time.Hour,
            utc.Time.Minute,
            utc.Time.Second,
            tzinfo=UTC,
        )
        return camera_utc.timestamp() - (sent + received) / 2

    try:
        offset = await camera._run("GetSystemDateAndTime", call)
    except CameraError as error:
        return CheckResult(
            camera_id=camera_id,
            kind=CheckKind.LIVENESS,
            time=datetime.now(UTC),
            reachable=False,
            error=error_kind(error),
        )
    return CheckResult(
        camera_id=camera_id,
        kind=CheckKind.LIVENESS,
        time=datetime.now(UTC),
        reachable=True,
        clock_offset_s=offset,
    )


def _no_assess(*_: Any, **__: Any) -> Any:
    raise AssertionError("liveness checks never assess a picture")


async def naive_phase(
    addresses: list[CameraAddress], args: argparse.Namespace, seconds: float
) -> dict[str, Any]:
    """One camera after another, on the same even schedule, for ``seconds``."""
    lags: list[float] = []
    checks = reachable = 0
    n = len(addresses)
    async with OnvifClient() as onvif:
        cameras = [onvif.camera(a) for a in addresses]
        loop = asyncio.get_running_loop()
        start = loop.time()
        cpu0 = time.process_time()
        sweep_done: float | None = None
        k = 0
        while loop.time() - start < seconds:
            due = start + (k // n) * args.interval + (k % n) * args.interval / n
            now = loop.time()
            if now < due:
                await asyncio.sleep(due - now)
            lags.append(loop.time() - due)
            check = zeep_liveness if args.via == "zeep" else liveness_check
            result = await check(cameras[k % n], f"cam-{k % n}")
            checks += 1
            reachable += result.reachable
            k += 1
            if k == n and sweep_done is None:
                sweep_done = loop.time() - start
        wall = loop.time() - start
        cpu = time.process_time() - cpu0
    sweep = sweep_done if sweep_done is not None else wall * n / max(1, checks)
    return {
        "seconds": round(wall, 1),
        "checks": checks,
        "reachable": reachable,
        "lag_p50_ms": round(quantile(lags, 0.5) * 1000, 1),
        "lag_p99_ms": round(quantile(lags, 0.99) * 1000, 1),
        "cpu_ms_per_check": round(cpu / max(1, checks) * 1000, 2),
        "sweep_s": round(sweep, 1),
        "sweep_extrapolated": sweep_done is None,
    }


async def bench(args: argparse.Namespace, sim_pid: int) -> dict[str, Any]:
    addresses = [
        CameraAddress(args.host, args.port + i, USER, PASSWORD, timeout_s=args.client_timeout)
        for i in range(args.cameras)
    ]
    scheduled = await scheduler_phase(addresses, args, sim_pid)
    if args.skip_naive:
        return {"scheduler": scheduled}
    naive = await naive_phase(addresses, args, args.naive_seconds or scheduled["seconds"])
    return {"scheduler": scheduled, "naive": naive}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=5.0, help="liveness interval, s")
    parser.add_argument("--rounds", type=int, default=3, help="intervals the scheduler runs")
    parser.add_argument("--naive-seconds", type=float, default=0.0, help="default: the same")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--client-timeout", type=float, default=2.0, help="per ONVIF call, s")
    parser.add_argument("--check-timeout", type=float, default=3.0, help="per check, s")
    parser.add_argument("--hung", type=float, default=2.0, help="hung cameras per thousand")
    parser.add_argument("--offline", type=float, default=5.0, help="offline cameras per thousand")
    parser.add_argument("--port", type=int, default=14000)
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="loopback address the cameras listen on; another than 127.0.0.1 (127.0.0.3) keeps "
        "their ports clear of outgoing connections when --port is in the ephemeral range",
    )
    parser.add_argument(
        "--via",
        choices=["direct", "zeep"],
        default="direct",
        help="GetSystemDateAndTime through cameras.clock (the product) or through zeep (before)",
    )
    parser.add_argument("--skip-naive", action="store_true", help="scheduler phase only")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    faults = faulty(args.cameras, args.hung, args.offline)
    with tempfile.TemporaryDirectory() as folder:
        process = start_simulator(args.cameras, args.port, faults, Path(folder), args.host)
        try:
            results = asyncio.run(bench(args, process.pid))
        finally:
            process.send_signal(2)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    s, n = results["scheduler"], results.get("naive")
    record = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} CPU, Python {platform.python_version()}",
        "load_average": os.getloadavg()[0],
        "cameras": args.cameras,
        "hung": sum(1 for k in faults.values() if k == "hang"),
        "offline": sum(1 for k in faults.values() if k == "offline"),
        "interval_s": args.interval,
        "concurrency": args.concurrency,
        "client_timeout_s": args.client_timeout,
        "check_timeout_s": args.check_timeout,
        **results,
        "via": args.via,
        "checks_per_s": {"scheduler": round(s["delivered"] / s["seconds"], 1)},
    }
    if n is not None:
        record["lag_p99_ratio_naive_over_scheduler"] = round(
            n["lag_p99_ms"] / max(s["lag_p99_ms"], 0.1), 1
        )
        record["checks_per_s"]["naive"] = round(n["checks"] / n["seconds"], 1)
    print(json.dumps(record, indent=2))
    existing = json.loads(args.out.read_text()) if args.out.exists() else {}
    existing[str(args.cameras) + ("" if args.via == "direct" else f"-{args.via}")] = record
    args.out.write_text(json.dumps(existing, indent=2) + "\n")


if __name__ == "__main__":
    main()
