"""The demo's scripted faults, each reported on its own camera and on no other, on time.

The demo's own schedule (``fault_schedule``) and intervals (``DEMO_INTERVALS``), time compressed
30 times, run against the simulator's cameras of the same indices (so the same scenes: the
smooth "clock" crops a fixed blur threshold called blurred, the cameras the demo faults), at
the demo's snapshot size and at the largest catalogue camera's. A first wave judged pictures by
fixed thresholds until three snapshots were learned, and learned the faults scripted in those
minutes as the scene: a blur went unseen for minutes while three healthy cameras were "blurred".
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cameras.simulator.scenes import FRAME_SIZE
from supervision.conditions import Cause
from supervision.states import Policy
from tests.helpers.snapshot_sizes import DEMO_CAMERAS, SMOOTH, snapshot_sizes
from tests.helpers.supervisor_harness import FAST, World, world
from vigie.cli.demo import CAUSES_FR, DEMO_INTERVALS, fault_schedule
from vigie.clock import utcnow

SCALE = 1 / 30
"""Test seconds per demo second: the demo's 60 s full check every 2 s."""
SCHEDULE = [f for f in fault_schedule(DEMO_CAMERAS) if f.fault is not None]
"""The single-camera faults (the mast and branch failures are tested in test_demo.py)."""
OTHERS = (0, 1, 5, 100, 200, 252)
SUPERVISED = tuple(sorted({f.indices[0] for f in SCHEDULE} | set(SMOOTH) | set(OTHERS)))
CAUSE = {
    "offline": "unreachable",
    "hang": "unreachable",
    "blurred": "blurred",
    "covered": "covered",
    "frozen": "frozen",
    "clock_drift": "clock_offset",
}
"""The cause each scripted fault must open its camera's incident with."""
FULL_S = DEMO_INTERVALS["supervise_full_interval_s"] * SCALE
DEADLINE = timedelta(seconds=4 * FULL_S)
"""A picture fault is seen at the next full check and counts at the second (``degrade_after``);
an unreachable camera after three liveness checks: both well within four full intervals."""

CONFIG = replace(
    FAST,
    liveness_interval_s=DEMO_INTERVALS["supervise_liveness_interval_s"] * SCALE,
    full_interval_s=FULL_S,
    retry_s=DEMO_INTERVALS["supervise_retry_s"] * SCALE,
    camera_timeout_s=1.0,
    concurrency=8,
    policy=Policy(
        check_interval=timedelta(seconds=DEMO_INTERVALS["supervise_liveness_interval_s"] * SCALE),
        close_after=timedelta(minutes=5) * SCALE,
        flap_quiet=timedelta(minutes=30) * SCALE,
    ),
)


def _sizes() -> list[str]:
    """The demo's snapshots (the simulator's default size) and the largest catalogue camera's
    main profile (``--snapshot-size main`` sends it, as real cameras do; 4:3). Every catalogue
    size is judged camera by camera in tests/supervision/test_imaging_sizes.py, and for all 253
    demo cameras in benchmarks/imaging/snapshot_sizes.py."""
    largest = max(snapshot_sizes(), key=lambda size: size[0] * size[1])
    return [f"{w}x{h}" for w, h in (FRAME_SIZE, largest)]


async def _play(w: World) -> dict[int, datetime]:
    """The schedule played on the compressed clock; when each camera's fault began."""
    began: dict[int, datetime] = {}
    async with w.supervisor(CONFIG) as supervisor:
        assert len(supervisor) == len(SUPERVISED)
        start = asyncio.get_running_loop().time()
        for fault in SCHEDULE:
            delay = start + fault.after * SCALE - asyncio.get_running_loop().time()
            await asyncio.sleep(max(delay, 0.0))
            (index,) = fault.indices
            await asyncio.to_thread(w.set_fault, index, fault.fault)
            began[index] = utcnow()
        await asyncio.sleep(DEADLINE.total_seconds() + FULL_S)
    return began


@pytest.mark.parametrize("size", _sizes())
def test_each_scripted_fault_lands_on_its_camera_and_no_other(
    tmp_path: Path, sqlite_url: str, size: str
) -> None:
    with world(
        tmp_path,
        sqlite_url,
        cameras=max(SUPERVISED) + 1,
        faults={},
        supervised=SUPERVISED,
        extra_args=("--snapshot-size", size),
    ) as w:
        began = asyncio.run(_play(w))
        incidents = w.incidents()

    expected = {f"cam-{f.indices[0]}": f for f in SCHEDULE}
    flagged = {i.camera_id for i in incidents}
    assert flagged == set(expected), (
        f"at {size}: incidents on cameras without a fault: {sorted(flagged - set(expected))}; "
        f"faults without an incident: {sorted(set(expected) - flagged)}"
    )
    for incident in incidents:
        fault = expected[incident.camera_id]
        kind = fault.fault["kind"]
        assert CAUSE[kind] in incident.seen_causes, (size, incident.camera_id, kind, incident)
        opened = incident.opened_at.replace(tzinfo=incident.opened_at.tzinfo or UTC)
        late = opened - began[fault.indices[0]]
        assert timedelta(0) <= late <= DEADLINE, (size, incident.camera_id, kind, late)


def test_the_demo_names_every_cause_in_french() -> None:
    assert set(CAUSES_FR) == {cause.value for cause in Cause}
