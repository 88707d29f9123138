"""Picture health at every snapshot size the simulator and the camera catalogue produce.

At 640x360 (the demo's snapshots) every sixth camera of the Eure demo's 253 (each of the nine
photographs several times), and the smooth scenes a fixed blur threshold calls blurred; at each
catalogue camera's main profile the cameras the demo faults and the smooth ones. The whole
sweep, every camera at every size, is ``benchmarks/imaging/snapshot_sizes.py``.
"""

from __future__ import annotations

import pytest

from cameras.simulator.scenes import FRAME_SIZE
from tests.helpers.snapshot_sizes import DEMO_CAMERAS, SMOOTH, judge_camera, snapshot_sizes
from vigie.cli.demo import fault_schedule

DEMO_FAULTED = tuple(sorted({i for f in fault_schedule(DEMO_CAMERAS) for i in f.indices}))


def _cameras(size: tuple[int, int]) -> list[int]:
    if size == FRAME_SIZE:
        return sorted(set(range(0, DEMO_CAMERAS, 6)) | set(SMOOTH) | set(DEMO_FAULTED))
    return sorted(set(SMOOTH) | set(DEMO_FAULTED))


@pytest.mark.parametrize("size", snapshot_sizes(), ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_fault_is_seen_and_no_healthy_snapshot_alarms(size: tuple[int, int]) -> None:
    wrong = [v for v in (judge_camera(i, size) for i in _cameras(size)) if not v.right]
    assert not wrong, "\n".join(
        f"camera {v.index}: first {v.first}, false alarms {v.false_alarms}, missed {v.missed}"
        for v in wrong
    )


def test_the_sizes_cover_the_demo_and_the_catalogue() -> None:
    sizes = snapshot_sizes()
    assert FRAME_SIZE in sizes and (1920, 1080) in sizes and len(sizes) >= 3


def test_a_smooth_scene_raises_only_a_marginal_fallback_verdict() -> None:
    # The check would pass with no smooth scene at all: this one is, at the demo's size.
    verdicts = judge_camera(62, FRAME_SIZE)
    assert set(verdicts.first) == {"blurred"} and not verdicts.first_alarms
    assert verdicts.right
