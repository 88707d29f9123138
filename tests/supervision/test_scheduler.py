"""The scheduler against the real simulator: spread, bounded, hang-safe, lag, shutdown."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from cameras.client import OnvifClient
from supervision.probes import CameraProbe
from supervision.scheduler import Check, Scheduler, phase_of
from supervision.states import CameraState, CheckKind, CheckResult, ErrorKind, Policy, State, step
from tests.helpers.probe_simulator import Sim, dark_or_frozen


class Recorder:
    """The deliver callback: results in arrival order."""

    def __init__(self) -> None:
        self.results: list[CheckResult] = []

    async def __call__(self, result: CheckResult) -> None:
        self.results.append(result)

    def of(self, camera_id: str) -> list[CheckResult]:
        return [r for r in self.results if r.camera_id == camera_id]


class Trace:
    """Wraps checks to record, in order, when each started and finished."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []  # ("start" | "end", camera id)

    def wrap(self, camera_id: str, check: Check) -> Check:
        async def traced() -> CheckResult:
            self.events.append(("start", camera_id))
            try:
                return await check()
            finally:
                self.events.append(("end", camera_id))

        return traced

    def started(self, camera_id: str) -> bool:
        return ("start", camera_id) in self.events


async def wait_until(condition: Callable[[], bool], limit: float = 20.0) -> None:
    """Poll ``condition`` (a safety limit only: the tests assert on order, not on time)."""
    async with asyncio.timeout(limit):
        while not condition():
            await asyncio.sleep(0.02)


def probe(onvif: OnvifClient, sim: Sim, index: int, **address: float) -> CameraProbe:
    return CameraProbe(onvif, f"cam-{index}", sim.address(index, **address), assess=dark_or_frozen)


def test_phases_are_stable_and_uniform() -> None:
    ids = [f"27229-mat-{i}" for i in range(2000)]
    phases = [phase_of(c, CheckKind.LIVENESS, 30.0) for c in ids]
    assert phases == [phase_of(c, "liveness", 30.0) for c in ids]  # stable
    assert all(0 <= p < 30 for p in phases)
    bins = Counter(int(p // 3) for p in phases)  # ten 3 s bins of 200 expected each
    assert sorted(bins) == list(range(10))
    assert max(bins.values()) < 260 and min(bins.values()) > 140
    assert phase_of(ids[0], CheckKind.FULL, 30.0) != phases[0]  # kinds not in lockstep


def test_every_camera_is_checked_every_interval_in_phase_order(sim: Sim) -> None:
    cameras = list(range(30, 60))
    interval = 1.5
    recorder, trace = Recorder(), Trace()

    async def main() -> Scheduler:
        async with OnvifClient() as onvif:
            scheduler = Scheduler(recorder, concurrency=8)
            for index in cameras:
                p = probe(onvif, sim, index)
                scheduler.add(
                    p.camera_id,
                    "liveness",
                    trace.wrap(p.camera_id, p.liveness),
                    interval=interval,
                    timeout=1.0,
                )
            async with scheduler:
                await wait_until(lambda: all(len(recorder.of(f"cam-{i}")) >= 2 for i in cameras))
            return scheduler

    scheduler = asyncio.run(main())
    starts = [camera for what, camera in trace.events if what == "start"]
    first_round = starts[: len(cameras)]
    # the first round starts in the order of the phases: spread over the interval, not at once
    by_phase = sorted(first_round, key=lambda c: phase_of(c, CheckKind.LIVENESS, interval))
    assert first_round == by_phase
    assert sorted(first_round) == sorted(f"cam-{i}" for i in cameras)
    assert all(r.reachable for r in recorder.results)
    lag = scheduler.lag()
    assert lag.count == scheduler.stats.started and lag.p50 <= lag.p99 <= lag.max
    assert scheduler.stats.errors == 0 and scheduler.stats.timeouts == 0


def test_hanging_cameras_never_delay_the_others(sim: Sim) -> None:
    hung = [3, 70, 71]
    healthy = list(range(30, 50))
    for index in hung[1:]:
        sim.set_fault(index, {"kind": "hang"})
    recorder, trace = Recorder(), Trace()

    async def main() -> Scheduler:
        async with OnvifClient() as onvif:
            # more concurrency than hung cameras: they may hold a slot each, never all of them
            scheduler = Scheduler(recorder, concurrency=4)
            for index in hung + healthy:
                # the client's own timeout is longer: the scheduler's timeout must end the check
                p = probe(onvif, sim, index, timeout_s=30.0)
                scheduler.add(
                    p.camera_id,
                    "liveness",
                    trace.wrap(p.camera_id, p.liveness),
                    interval=2.0,
                    timeout=1.0,
                )
            async with scheduler:
                await wait_until(lambda: all(len(recorder.of(f"cam-{i}")) >= 2 for i in hung))
            return scheduler

    try:
        scheduler = asyncio.run(main())
    finally:
        for index in hung[1:]:
            sim.set_fault(index, None)
    for index in hung:
        results = recorder.of(f"cam-{index}")
        assert results and all(r.error is ErrorKind.TIMEOUT for r in results)
    # while a hung camera's check was running, the healthy checks kept starting and finishing
    events = trace.events
    for index in hung:
        camera = f"cam-{index}"
        begin = events.index(("start", camera))
        end = events.index(("end", camera), begin)
        during = events[begin:end]
        assert any(
            what == "end" and c.startswith("cam-") and int(c[4:]) in healthy for what, c in during
        ), f"{camera} held the others back"
    assert all(r.reachable for i in healthy for r in recorder.of(f"cam-{i}"))
    assert scheduler.stats.timeouts == len(
        [r for r in recorder.results if r.error is ErrorKind.TIMEOUT]
    )


def test_results_drive_the_state_machine_offline_goes_down(sim: Sim) -> None:
    policy = Policy()
    states: dict[str, CameraState] = {}
    seen: list[State] = []

    async def deliver(result: CheckResult) -> None:
        state = states.get(result.camera_id) or CameraState(camera_id=result.camera_id)
        states[result.camera_id], _ = step(state, result, policy)
        seen.append(states[result.camera_id].state)

    async def main() -> None:
        async with OnvifClient() as onvif:
            scheduler = Scheduler(deliver, concurrency=4)
            p = probe(onvif, sim, 2)
            scheduler.add(p.camera_id, "liveness", p.liveness, interval=0.2, timeout=1.0)
            async with scheduler:
                await wait_until(lambda: len(seen) >= policy.down_after)

    asyncio.run(main())
    assert seen[: policy.down_after] == [State.UNKNOWN] * (policy.down_after - 1) + [State.DOWN]


def test_cameras_added_and_removed_while_running(sim: Sim) -> None:
    recorder = Recorder()

    async def main() -> None:
        async with OnvifClient() as onvif:
            scheduler = Scheduler(recorder, concurrency=4)
            first, second = probe(onvif, sim, 50), probe(onvif, sim, 51)
            scheduler.add_camera(first, liveness_interval=0.3, full_interval=0.6)
            async with scheduler:
                await wait_until(lambda: len(recorder.of("cam-50")) >= 2)
                scheduler.add_camera(second, liveness_interval=0.3, full_interval=0.6)
                await wait_until(
                    lambda: (
                        {r.kind for r in recorder.of("cam-51")}
                        == {CheckKind.LIVENESS, CheckKind.FULL}
                    )
                )
                scheduler.remove("cam-50")
                removed_at = len(recorder.of("cam-50"))
                count = len(recorder.of("cam-51"))
                await wait_until(lambda: len(recorder.of("cam-51")) >= count + 3)
                assert len(recorder.of("cam-50")) == removed_at
                assert len(scheduler) == 2  # cam-51's two jobs

    asyncio.run(main())
    full = [r for r in recorder.of("cam-51") if r.kind is CheckKind.FULL]
    assert full and all(r.picture_problems == frozenset() for r in full)


def test_a_bug_in_a_check_is_counted_and_delivers_nothing(sim: Sim) -> None:
    recorder = Recorder()

    async def broken() -> CheckResult:
        raise RuntimeError("bug")

    async def main() -> Scheduler:
        async with OnvifClient() as onvif:
            scheduler = Scheduler(recorder, concurrency=2)
            scheduler.add("cam-bug", "liveness", broken, interval=0.2)
            p = probe(onvif, sim, 52)
            scheduler.add(p.camera_id, "liveness", p.liveness, interval=0.2)
            async with scheduler:
                await wait_until(lambda: scheduler.stats.errors >= 2 and recorder.results)
            return scheduler

    scheduler = asyncio.run(main())
    assert recorder.of("cam-bug") == []
    assert scheduler.stats.delivered == len(recorder.results)
    assert recorder.of("cam-52")[0].reachable


def test_a_check_that_has_nothing_to_say_delivers_nothing_and_may_discard_itself() -> None:
    recorder = Recorder()
    runs = {"events": 0, "liveness": 0}
    scheduler = Scheduler(recorder, concurrency=2)

    async def events() -> CheckResult | None:  # as the events check of a camera without them
        runs["events"] += 1
        if runs["events"] == 2:
            scheduler.discard("cam-x", CheckKind.EVENTS)
        return None

    async def liveness() -> CheckResult:
        runs["liveness"] += 1
        return CheckResult(
            camera_id="cam-x", kind="liveness", time=datetime.now(UTC), reachable=True
        )

    async def main() -> None:
        scheduler.add("cam-x", CheckKind.EVENTS, events, interval=0.05)
        scheduler.add("cam-x", CheckKind.LIVENESS, liveness, interval=0.05)
        async with scheduler:
            await wait_until(lambda: runs["liveness"] >= 8)

    asyncio.run(main())
    assert runs["events"] == 2  # discarded from inside its own run, which finished
    assert len(scheduler) == 1 and scheduler.stats.cancelled == 0
    assert {r.kind for r in recorder.results} == {CheckKind.LIVENESS}


def test_overrunning_check_is_skipped_not_piled_up() -> None:
    recorder = Recorder()
    running = 0
    most = 0

    async def check() -> CheckResult:  # longer than its interval, shorter than its timeout
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.35)
        running -= 1
        return CheckResult(camera_id="x", kind="liveness", time=datetime.now(UTC), reachable=True)

    async def main() -> Scheduler:
        scheduler = Scheduler(recorder, concurrency=4)
        scheduler.add("x", "liveness", check, interval=0.1, timeout=5.0)
        async with scheduler:
            await wait_until(lambda: len(recorder.results) >= 2)
        return scheduler

    scheduler = asyncio.run(main())
    assert most == 1
    assert scheduler.stats.skipped >= 2


def test_shutdown_waits_for_checks_in_flight_cancels_hung_ones_leaves_no_task(sim: Sim) -> None:
    recorder, trace = Recorder(), Trace()

    async def main() -> tuple[Scheduler, set[asyncio.Task]]:
        async with OnvifClient() as onvif:
            scheduler = Scheduler(recorder, concurrency=4)
            slow = probe(onvif, sim, 4, timeout_s=30.0)  # answers after 0.3 s
            hung = probe(onvif, sim, 3, timeout_s=30.0)  # never answers
            for p in (slow, hung):
                scheduler.add(
                    p.camera_id,
                    "liveness",
                    trace.wrap(p.camera_id, p.liveness),
                    interval=1.0,
                    timeout=30.0,
                )
            await scheduler.start()
            await wait_until(lambda: trace.started("cam-4") and trace.started("cam-3"))
            await scheduler.stop(grace=5.0)
            left = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}
            return scheduler, left

    scheduler, left = asyncio.run(main())
    assert left == set()
    assert scheduler.in_flight() == 0 and not scheduler.running
    # every slow check delivered (those in flight at stop finished within the grace), no hung one
    assert recorder.results and {r.camera_id for r in recorder.results} == {"cam-4"}
    assert all(r.reachable for r in recorder.results)
    assert trace.events.count(("start", "cam-4")) == len(recorder.results)
    assert scheduler.stats.cancelled == 1  # the hung one, and only it
    assert scheduler.stats.started == scheduler.stats.delivered + scheduler.stats.cancelled


def test_bad_intervals_are_refused() -> None:
    async def never() -> CheckResult:
        raise AssertionError

    scheduler = Scheduler(Recorder())
    with pytest.raises(ValueError, match="cam-1: liveness interval"):
        scheduler.add("cam-1", "liveness", never, interval=0)
    with pytest.raises(ValueError, match="concurrency"):
        Scheduler(Recorder(), concurrency=0)


def test_a_failure_is_confirmed_by_quick_rechecks_not_a_whole_interval_each(sim: Sim) -> None:
    """With ``retry``, an unreachable camera is checked again soon, until it answers: the K
    failures the state machine wants arrive within one interval; a healthy one gets none."""
    recorder = Recorder()
    policy = Policy()

    async def main() -> tuple[Scheduler, int, int]:
        async with OnvifClient() as onvif:
            scheduler = Scheduler(recorder, concurrency=4)
            for index in (2, 15):  # offline, healthy
                p = probe(onvif, sim, index)
                scheduler.add(
                    p.camera_id, "liveness", p.liveness, interval=4.0, timeout=2.0, retry=0.1
                )
            async with scheduler:
                await wait_until(
                    lambda: (
                        len(recorder.of("cam-2")) >= policy.down_after
                        and len(recorder.of("cam-15")) >= 1
                    ),
                    limit=30,
                )
                healthy_runs = len(recorder.of("cam-15"))
                retries = scheduler.stats.retries
        return scheduler, healthy_runs, retries

    _, healthy_runs, retries = asyncio.run(main())
    assert [r.reachable for r in recorder.of("cam-2")][: policy.down_after] == [False] * 3
    # The offline camera's failures were re-checked; the healthy camera never was: all its
    # results came from its schedule (and the retries are all the offline camera's).
    assert retries >= policy.down_after - 1
    assert all(r.reachable for r in recorder.of("cam-15"))
    assert healthy_runs >= 1


def test_retry_must_be_shorter_than_the_interval() -> None:
    async def check() -> CheckResult:
        raise AssertionError("never run")

    scheduler = Scheduler(Recorder())
    for retry in (0.0, -1.0, 30.0, float("nan")):
        with pytest.raises(ValueError, match="retry"):
            scheduler.add("x", "liveness", check, interval=30.0, retry=retry)
