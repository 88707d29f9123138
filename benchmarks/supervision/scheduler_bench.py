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

``--personalities mix`` gives the simulated cameras an even mix of every vendor personality of
the simulator (``cameras/simulator/personalities.yaml``), through the scenario file, and splits
the scheduler's figures by personality: lag, results, and the CPU each check's own task used.

Usage: ``.venv/bin/python benchmarks/supervision/scheduler_bench.py --cameras 1000 --interval 5``
Writes (merges into) ``benchmarks/supervision/results.json``, keyed by camera count (``N-mix``
for the mix, ``N-zeep`` through zeep).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import json
import logging
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import types
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Generator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cameras.client import OnvifClient, shared_document
from cameras.errors import CameraError
from cameras.models import CameraAddress
from cameras.simulator.personalities import DEFAULT as DEFAULT_PERSONALITY
from cameras.simulator.personalities import personalities as known_personalities
from supervision.probes import CameraProbe, error_kind, liveness_check
from supervision.scheduler import Scheduler, phase_of
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


def personality_names(choice: str) -> list[str]:
    """``mix``: every personality of the simulator; otherwise a comma-separated list of names."""
    known = sorted(known_personalities())
    names = known if choice == "mix" else [n.strip() for n in choice.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise SystemExit(f"--personalities: {choice!r}: the personalities are {', '.join(known)}")
    return names


def mixed(cameras: int, names: list[str]) -> list[str]:
    """Each camera's personality: ``names`` in even contiguous blocks (the scheduler spreads
    cameras over the interval by a hash of their id, so blocks interleave in time)."""
    return [names[i * len(names) // cameras] for i in range(cameras)]


def start_simulator(
    cameras: int,
    port: int,
    faults: dict[int, str],
    folder: Path,
    host: str = "127.0.0.1",
    *,
    snapshot_size: str | None = None,
    personality_of: list[str] | None = None,
) -> Any:
    """``vigie simulate`` in another process, once its token is written; ``snapshot_size``
    (``WxH`` or ``main``) is passed as ``--snapshot-size``, None leaves the simulator's 640x360;
    ``personality_of`` (one name per camera) becomes the scenario's ``personalities`` rules."""
    scenario = folder / "scenario.yaml"
    lines = [f"username: {USER}", f"password: {PASSWORD}", "faults:" if faults else "faults: []"]
    lines += [f"  - {{cameras: {i}, kind: {kind}}}" for i, kind in sorted(faults.items())]
    if personality_of:
        lines.append("personalities:")
        first = 0
        for index in range(1, len(personality_of) + 1):
            if index == len(personality_of) or personality_of[index] != personality_of[first]:
                span = f'"{first}-{index - 1}"'
                lines.append(f"  - {{cameras: {span}, personality: {personality_of[first]}}}")
                first = index
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


@types.coroutine
def _cpu_timed(awaitable: Awaitable[Any], spent: list[float]) -> Generator[Any, Any, Any]:
    """Drive ``awaitable`` as the task would, adding the CPU of each of its steps to
    ``spent[0]`` (``time.thread_time``: the event loop's thread). Callbacks the loop runs
    outside the task (the sockets' reads, connection set-up) are not counted."""
    inner = awaitable.__await__()
    send: Any = None
    thrown: BaseException | None = None
    while True:
        t0 = time.thread_time()
        try:
            yielded = inner.send(send) if thrown is None else inner.throw(thrown)
        except StopIteration as stop:
            return stop.value
        finally:
            spent[0] += time.thread_time() - t0
        try:
            send, thrown = (yield yielded), None
        except BaseException as error:  # handed on to the check (cancellation too)
            send, thrown = None, error


class ByPersonality:
    """The scheduler's figures split by the camera's personality: lag (recomputed from the
    job's phase, as the scheduler plans it), CPU within each check's task, and results."""

    def __init__(self, personality_of: list[str], interval: float) -> None:
        self.personality_of = personality_of
        self.interval = interval
        self.origin = 0.0
        self.phase = "first"
        self.lags: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        self.cpu: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        self.results: dict[str, Counter[str]] = defaultdict(Counter)

    def wrap(
        self, index: int, camera_id: str, check: Callable[[], Awaitable[CheckResult]]
    ) -> Callable[[], Awaitable[CheckResult]]:
        name = self.personality_of[index]
        offset = phase_of(camera_id, "liveness", self.interval)

        async def timed() -> CheckResult:
            now = asyncio.get_running_loop().time()
            due = self.origin + offset
            due += math.floor((now - due) / self.interval) * self.interval
            phase = self.phase
            self.lags[phase][name].append(now - due)
            spent = [0.0]
            try:
                return await _cpu_timed(check(), spent)
            finally:
                self.cpu[phase][name].append(spent[0])

        return timed

    def count(self, result: CheckResult) -> None:
        name = self.personality_of[int(result.camera_id.rsplit("-", 1)[1])]
        outcome = (
            "auth_failed"
            if result.auth_failed
            else "reachable"
            if result.reachable
            else f"unreachable:{result.error}"
        )
        self.results[name][outcome] += 1

    def summary(self, faults: dict[int, str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in sorted(set(self.personality_of)):
            lags, first_cpu = self.lags["steady"][name], self.cpu["first"][name]
            cpu = self.cpu["steady"][name]
            cameras = [i for i, n in enumerate(self.personality_of) if n == name]
            out[name] = {
                "cameras": len(cameras),
                "faulty": Counter(faults[i] for i in cameras if i in faults),
                "lag_p50_ms": round(quantile(lags, 0.5) * 1000, 1),
                "lag_p99_ms": round(quantile(lags, 0.99) * 1000, 1),
                "lag_max_ms": round(max(lags, default=math.nan) * 1000, 1),
                "first_round_lag_p99_ms": round(quantile(self.lags["first"][name], 0.99) * 1000, 1),
                "task_cpu_ms_per_check": round(sum(cpu) / max(1, len(cpu)) * 1000, 3),
                "task_cpu_ms_p50": round(quantile(cpu, 0.5) * 1000, 3),
                "task_cpu_ms_p99": round(quantile(cpu, 0.99) * 1000, 3),
                "task_cpu_ms_max": round(max(cpu, default=math.nan) * 1000, 1),
                "task_cpu_ms_per_check_first_round": round(
                    sum(first_cpu) / max(1, len(first_cpu)) * 1000, 3
                ),
                "results": dict(sorted(self.results[name].items())),
            }
        return out


class GcPauses:
    """Python's garbage collections while installed (``gc.callbacks``): a full one stops the
    event loop for every check alike, so it shows in the lag."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = defaultdict(list)
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses[info["generation"]].append(time.perf_counter() - self._start)

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        gc.callbacks.remove(self)

    def summary(self) -> dict[str, Any]:
        return {
            f"gen{generation}": {
                "count": len(times),
                "total_ms": round(sum(times) * 1000, 1),
                "max_ms": round(max(times) * 1000, 1),
            }
            for generation, times in sorted(self.pauses.items())
        }


async def scheduler_phase(
    addresses: list[CameraAddress],
    args: argparse.Namespace,
    sim_pid: int,
    split: ByPersonality | None = None,
) -> dict[str, Any]:
    delivered = 0
    reachable = 0

    async def deliver(result: CheckResult) -> None:
        nonlocal delivered, reachable
        delivered += 1
        reachable += result.reachable
        if split is not None:
            split.count(result)

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
            if split is not None:
                check = split.wrap(index, probe.camera_id, check)
            scheduler.add(
                probe.camera_id,
                "liveness",
                check,
                interval=args.interval,
                timeout=args.check_timeout,
            )
        cpu0, wall0, sim0 = time.process_time(), time.monotonic(), cpu_seconds(sim_pid)
        if split is not None:
            split.origin = asyncio.get_running_loop().time()  # the scheduler's, a few µs before
        with GcPauses() as pauses:
            async with scheduler:
                # the first round also builds each camera's SOAP proxy: reported apart
                await asyncio.sleep(args.interval)
                first = scheduler.lag()
                scheduler.reset_lag()
                first_gc = pauses.summary()
                pauses.pauses.clear()
                if split is not None:
                    split.phase = "steady"
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
            "gc_first_round": first_gc,
            "gc": pauses.summary(),
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


async def bench(
    args: argparse.Namespace,
    sim_pid: int,
    personality_of: list[str],
    faults: dict[int, str],
) -> dict[str, Any]:
    addresses = [
        CameraAddress(args.host, args.port + i, USER, PASSWORD, timeout_s=args.client_timeout)
        for i in range(args.cameras)
    ]
    split = ByPersonality(personality_of, args.interval) if args.split else None
    scheduled = await scheduler_phase(addresses, args, sim_pid, split)
    out: dict[str, Any] = {"scheduler": scheduled}
    if split is not None:
        out["by_personality"] = split.summary(faults)
    if not args.skip_naive:
        out["naive"] = await naive_phase(
            addresses, args, args.naive_seconds or scheduled["seconds"]
        )
    return out


def parse_args() -> argparse.Namespace:
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
    parser.add_argument(
        "--personalities",
        default=DEFAULT_PERSONALITY,
        help="the cameras' vendor personalities, in even blocks: 'mix' (all of the simulator's) "
        f"or comma-separated names (default {DEFAULT_PERSONALITY}, the simulator's own)",
    )
    parser.add_argument(
        "--split",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="lag, results and CPU per personality (default: on with more than one personality)",
    )
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args()
    args.names = personality_names(args.personalities)
    if args.via == "zeep" and args.names != [DEFAULT_PERSONALITY]:
        parser.error("--via zeep reads the clock unauthenticated only: bosch cameras only")
    if args.split is None:
        args.split = len(args.names) > 1
    return args


def result_key(args: argparse.Namespace) -> str:
    """``N``, ``N-mix`` (every personality), ``N-a+b`` (some), then ``-zeep`` through zeep."""
    key = str(args.cameras)
    if args.names == sorted(known_personalities()):
        key += "-mix"
    elif args.names != [DEFAULT_PERSONALITY]:
        key += "-" + "+".join(args.names)
    return key + ("" if args.via == "direct" else f"-{args.via}")


def main() -> None:
    args = parse_args()
    names = args.names
    personality_of = mixed(args.cameras, names)
    logging.basicConfig(level=logging.WARNING)
    faults = faulty(args.cameras, args.hung, args.offline)
    with tempfile.TemporaryDirectory() as folder:
        process = start_simulator(
            args.cameras,
            args.port,
            faults,
            Path(folder),
            args.host,
            personality_of=None if names == [DEFAULT_PERSONALITY] else personality_of,
        )
        try:
            results = asyncio.run(bench(args, process.pid, personality_of, faults))
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
        "personalities": dict(sorted(Counter(personality_of).items())),
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
    existing[result_key(args)] = record
    args.out.write_text(json.dumps(existing, indent=2) + "\n")


if __name__ == "__main__":
    main()
