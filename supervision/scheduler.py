"""The check scheduler: every camera checked every interval, evenly spread, bounded, hang-safe.

One dispatcher task keeps a heap of due times; when a job is due it starts one task for that
check. Each check:

- waits for a slot of the semaphore (``concurrency``), so thousands of cameras never open
  thousands of connections at once;
- runs under its own timeout (``asyncio.timeout``), so a hanging camera costs one slot for at
  most that long and never delays the others' dispatch; the timeout becomes a
  ``CheckResult(reachable=False, error=TIMEOUT)``, the camera's fault;
- hands its :class:`~supervision.states.CheckResult` to the async ``deliver`` callback (the caller
  applies :func:`~supervision.states.step` and stores it).

Start times are spread over the interval: each (camera, kind) has a stable phase, a hash of its id
mapped to ``[0, interval)``, so the checks of N cameras arrive uniformly rather than in bursts, the
same after a restart and on any worker. A job runs at fixed rate (``phase + k * interval``); an
occurrence that comes due while the previous run of the same job is still going is skipped (and
counted) rather than piled up.

**Lag** is the time from when a check was due to when it started (its slot acquired): the
scheduler's own delay, p50/p99 over the last checks in :meth:`Scheduler.lag`.

An exception other than a timeout from a check is a bug in the supervisor, not the camera's
fault: it is logged with its traceback and counted, and no result is delivered (the state
machine's :func:`~supervision.states.tick` then calls the camera UNKNOWN, the supervisor's
failure). Likewise an exception from ``deliver`` is logged and counted.

Lifecycle: :meth:`Scheduler.start`, then :meth:`Scheduler.stop` (stop dispatching, wait for the
checks in flight up to a grace period, cancel the rest), or ``async with``.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import itertools
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from supervision.probes import CameraProbe
from supervision.states import CheckKind, CheckResult, ErrorKind

__all__ = [
    "DEFAULT_INTERVALS",
    "DEFAULT_TIMEOUTS",
    "Check",
    "Deliver",
    "Lag",
    "Scheduler",
    "SchedulerStats",
    "phase_of",
]

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[CheckResult | None]]
"""One check of one camera, ready to run (e.g. ``CameraProbe.liveness``)."""
Deliver = Callable[[CheckResult], Awaitable[None]]
"""Where results go: the caller applies ``step`` and stores."""

DEFAULT_INTERVALS = {
    CheckKind.LIVENESS: 30.0,
    CheckKind.FULL: 300.0,
    CheckKind.STREAM: 300.0,
    CheckKind.EVENTS: 15.0,
}
"""Seconds between two checks of one camera (issue 7; the stream check's is ours)."""
DEFAULT_TIMEOUTS = {
    CheckKind.LIVENESS: 10.0,
    CheckKind.FULL: 60.0,
    CheckKind.STREAM: 20.0,
    CheckKind.EVENTS: 20.0,
}
"""Seconds a whole check may take. The client bounds each call (5 s by default); a full check
makes about seven calls (eleven with edge recording), so its bound is the total's backstop. The
stream check bounds its own steps (about 16 s in all) in a worker thread, which a timeout cannot
stop: 20 s leaves it room."""

LAG_SAMPLES = 20_000
"""Lags kept for the percentiles: several intervals of 5,000 cameras' liveness checks."""


def phase_of(camera_id: str, kind: CheckKind | str, interval: float) -> float:
    """A stable offset in ``[0, interval)`` for a camera's checks of one kind.

    A hash (not Python's ``hash``, which changes per process) of the id, so a camera keeps its
    phase across restarts and workers, and N cameras' phases are uniformly spread.
    """
    digest = hashlib.blake2b(f"{kind}:{camera_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 * interval


@dataclass(frozen=True, slots=True)
class Lag:
    """Scheduler lag (due to started), in seconds, over the last ``count`` checks."""

    count: int
    p50: float
    p99: float
    max: float


@dataclass(slots=True)
class SchedulerStats:
    """Counters since start, for metrics and benchmarks."""

    started: int = 0
    delivered: int = 0
    timeouts: int = 0
    skipped: int = 0
    """Occurrences not run because the previous run of the same job was still going."""
    errors: int = 0
    """Checks or deliveries that raised: bugs of ours, logged with their traceback."""
    cancelled: int = 0
    """Checks cancelled at shutdown after the grace period, or when their camera was removed."""
    retries: int = 0
    """Re-checks run to confirm a failure (``retry``), beside the fixed schedule."""


@dataclass(slots=True, eq=False)
class _Job:
    camera_id: str
    kind: CheckKind
    check: Check
    interval: float
    timeout: float
    due: float
    retry: float | None = None
    """Seconds after a failed (unreachable) result to check again, off the fixed schedule."""
    running: asyncio.Task[None] | None = None
    removed: bool = field(default=False)
    first_within: float | None = None
    """Run the first check within this many seconds, not at the next instant of its phase."""


class Scheduler:
    """Runs every added check at its interval and hands results to ``deliver``.

    ``concurrency`` bounds the checks running at once. Cameras are added and removed at any
    time, before or after :meth:`start`.
    """

    def __init__(
        self,
        deliver: Deliver,
        *,
        concurrency: int = 64,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1 (got {concurrency})")
        self.deliver = deliver
        self.concurrency = concurrency
        self.stats = SchedulerStats()
        self._now = clock or (lambda: datetime.now(UTC))
        self._jobs: dict[tuple[str, CheckKind], _Job] = {}
        self._heap: list[tuple[float, int, _Job, bool]] = []  # due, order, job, re-check?
        self._order = itertools.count()
        self._tasks: set[asyncio.Task[None]] = set()
        self._lags: deque[float] = deque(maxlen=LAG_SAMPLES)
        self._semaphore: asyncio.Semaphore | None = None
        self._wakeup: asyncio.Event | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._origin = 0.0

    # --- cameras ---------------------------------------------------------------------------

    def add(
        self,
        camera_id: str,
        kind: CheckKind | str,
        check: Check,
        *,
        interval: float | None = None,
        timeout: float | None = None,
        retry: float | None = None,
        first_within: float | None = None,
    ) -> None:
        """Check ``camera_id`` with ``check`` every ``interval`` s (replaces the same kind).

        With ``first_within``, the first check runs within that many seconds (at the camera's
        phase scaled to it) instead of at the next instant of its phase: a camera taken over
        from another node is checked at once, not up to an interval later.

        With ``retry``, a result saying the camera is unreachable is confirmed sooner: the
        check runs again ``retry`` s later, off its schedule, until the camera answers. The
        state machine wants K failures in a row before DOWN; at the fixed rate alone that
        would take K intervals (90 s at 30 s), too slow for the centre.
        """
        kind = CheckKind(kind)
        interval = DEFAULT_INTERVALS[kind] if interval is None else interval
        timeout = DEFAULT_TIMEOUTS[kind] if timeout is None else timeout
        if not (math.isfinite(interval) and interval > 0):
            raise ValueError(f"camera {camera_id}: {kind} interval must be > 0 s (got {interval})")
        if not (math.isfinite(timeout) and timeout > 0):
            raise ValueError(f"camera {camera_id}: {kind} timeout must be > 0 s (got {timeout})")
        if retry is not None and not (math.isfinite(retry) and 0 < retry < interval):
            raise ValueError(
                f"camera {camera_id}: {kind} retry must be > 0 s and shorter than its "
                f"interval (got {retry})"
            )
        self._drop((camera_id, kind))
        if first_within is not None and not (math.isfinite(first_within) and first_within >= 0):
            raise ValueError(f"camera {camera_id}: first_within must be >= 0 s")
        job = _Job(
            camera_id,
            kind,
            check,
            interval,
            timeout,
            due=0.0,
            retry=retry,
            first_within=first_within,
        )
        self._jobs[(camera_id, kind)] = job
        if self._dispatcher is not None:
            self._plan_first(job, asyncio.get_running_loop().time())

    def add_camera(
        self,
        probe: CameraProbe,
        *,
        liveness_interval: float = DEFAULT_INTERVALS[CheckKind.LIVENESS],
        full_interval: float = DEFAULT_INTERVALS[CheckKind.FULL],
        liveness_timeout: float = DEFAULT_TIMEOUTS[CheckKind.LIVENESS],
        full_timeout: float = DEFAULT_TIMEOUTS[CheckKind.FULL],
        liveness_retry: float | None = None,
    ) -> None:
        """Schedule a camera's liveness and full checks (``liveness_retry``: see :meth:`add`)."""
        self.add(
            probe.camera_id,
            CheckKind.LIVENESS,
            probe.liveness,
            interval=liveness_interval,
            timeout=liveness_timeout,
            retry=liveness_retry,
        )
        self.add(
            probe.camera_id,
            CheckKind.FULL,
            probe.full,
            interval=full_interval,
            timeout=full_timeout,
        )

    def remove(self, camera_id: str) -> None:
        """Stop checking a camera; a check of it in flight is cancelled, its result dropped."""
        for kind in list(CheckKind):
            self._drop((camera_id, kind))

    def discard(self, camera_id: str, kind: CheckKind | str) -> None:
        """Stop one kind of check of a camera (its other checks go on); safe from inside that
        check itself, which then finishes and delivers nothing."""
        self._drop((camera_id, CheckKind(kind)))

    def _drop(self, key: tuple[str, CheckKind]) -> None:
        job = self._jobs.pop(key, None)
        if job is None:
            return
        job.removed = True  # its heap entry is discarded when it comes up
        running = job.running
        if running is not None and not running.done() and running is not asyncio.current_task():
            running.cancel()

    def __len__(self) -> int:
        return len(self._jobs)

    # --- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Scheduler:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start dispatching; each job first runs at its phase within the first interval."""
        if self._dispatcher is not None:
            raise RuntimeError("the scheduler is already running")
        loop = asyncio.get_running_loop()
        self._semaphore = asyncio.Semaphore(self.concurrency)
        self._wakeup = asyncio.Event()
        self._origin = loop.time()
        self._heap.clear()
        for job in self._jobs.values():
            self._plan_first(job, self._origin)
        self._dispatcher = loop.create_task(self._dispatch(), name="vigie-scheduler")

    async def stop(self, grace: float = 5.0) -> None:
        """Stop dispatching, let checks in flight finish for ``grace`` s, cancel the rest.

        Results of the checks that finish are delivered; the cancelled ones deliver nothing.
        No task is left behind.
        """
        dispatcher, self._dispatcher = self._dispatcher, None
        if dispatcher is None:
            return
        dispatcher.cancel()
        await asyncio.gather(dispatcher, return_exceptions=True)
        pending = set(self._tasks)
        if pending:
            _, pending = await asyncio.wait(pending, timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
            log.info("scheduler: %d check(s) cancelled at shutdown", len(pending))

    @property
    def running(self) -> bool:
        return self._dispatcher is not None

    def in_flight(self) -> int:
        """Checks started or waiting for a slot."""
        return len(self._tasks)

    def lag(self) -> Lag:
        """p50 and p99 of the scheduler lag over the last checks (zeros before any)."""
        if not self._lags:
            return Lag(0, 0.0, 0.0, 0.0)
        ordered = sorted(self._lags)
        return Lag(len(ordered), _quantile(ordered, 0.5), _quantile(ordered, 0.99), ordered[-1])

    # --- the loop --------------------------------------------------------------------------

    def reset_lag(self) -> None:
        """Forget the lags measured so far (e.g. after start-up, or per metrics window)."""
        self._lags.clear()

    def _plan_first(self, job: _Job, now: float) -> None:
        """First due time: the next instant at the job's phase (fixed rate from the origin)."""
        if job.first_within is not None:
            job.due = now + phase_of(job.camera_id, job.kind, job.first_within or 1e-9)
        else:
            phase = phase_of(job.camera_id, job.kind, job.interval)
            cycles = max(0, math.ceil((now - self._origin - phase) / job.interval))
            job.due = self._origin + phase + cycles * job.interval
        heapq.heappush(self._heap, (job.due, next(self._order), job, False))
        if self._wakeup is not None:
            self._wakeup.set()

    async def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._wakeup is not None
        while True:
            now = loop.time()
            while self._heap and self._heap[0][0] <= now:
                due, _, job, extra = heapq.heappop(self._heap)
                if job.removed:
                    continue
                if extra:  # a re-check: runs once, the fixed schedule is untouched
                    if job.running is not None and not job.running.done():
                        continue
                    self.stats.retries += 1
                else:
                    job.due = due + job.interval
                    heapq.heappush(self._heap, (job.due, next(self._order), job, False))
                    if job.running is not None and not job.running.done():
                        self.stats.skipped += 1
                        continue
                task = loop.create_task(self._run(job, due), name=f"check {job.camera_id}")
                job.running = task
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            self._wakeup.clear()
            delay = self._heap[0][0] - loop.time() if self._heap else 3600.0
            if delay > 0:
                try:
                    async with asyncio.timeout(delay):
                        await self._wakeup.wait()
                except TimeoutError:
                    pass

    def _recheck(self, job: _Job, at: float) -> None:
        """Run ``job`` once more at ``at``, unless its fixed schedule comes first."""
        if at >= job.due:
            return
        heapq.heappush(self._heap, (at, next(self._order), job, True))
        if self._wakeup is not None:
            self._wakeup.set()

    async def _run(self, job: _Job, due: float) -> None:
        loop = asyncio.get_running_loop()
        assert self._semaphore is not None
        try:
            async with self._semaphore:
                self._lags.append(max(0.0, loop.time() - due))
                self.stats.started += 1
                try:
                    async with asyncio.timeout(job.timeout):
                        result = await job.check()
                except TimeoutError:
                    self.stats.timeouts += 1
                    result = CheckResult(
                        camera_id=job.camera_id,
                        kind=job.kind,
                        time=self._now(),
                        reachable=False,
                        error=ErrorKind.TIMEOUT,
                    )
            if job.removed or result is None:
                return  # removed meanwhile, or a check with nothing to say (events unsupported)
            await self.deliver(result)
            self.stats.delivered += 1
            if job.retry is not None and not result.reachable:
                self._recheck(job, loop.time() + job.retry)
        except asyncio.CancelledError:
            self.stats.cancelled += 1
            raise
        except Exception:
            self.stats.errors += 1
            log.exception(
                "camera %s: %s check: supervisor error (not the camera's fault)",
                job.camera_id,
                job.kind,
            )


def _quantile(ordered: list[float], q: float) -> float:
    """Nearest-rank quantile of sorted values."""
    index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[index]
