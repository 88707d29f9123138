"""Picture health on the simulator's own cameras, at a given snapshot size, as the supervisor
judges them: the first snapshot against no reference, the next ones against the reference that
first snapshot started, each picture fault of the simulator against that reference.

Shared by ``tests/supervision/test_imaging_sizes.py`` (a sample of cameras) and
``benchmarks/imaging/snapshot_sizes.py`` (every camera of the Eure demo, recorded results).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from cameras.catalogue import load_catalogue
from cameras.picture_faults import PictureFault, PictureRenderer
from cameras.simulator.scenes import FRAME_SIZE, render_snapshot
from supervision import imaging

DEMO_CAMERAS = 253
"""The Eure sample's cameras: the demo simulates that many and picks its faults among them."""
SMOOTH = (62, 134, 188)
"""Healthy demo scenes (crops of skimage's clock) whose sharpness sits just under the fixed blur
threshold at 640x360: the cameras the first wave called blurred."""
MARGINAL = 1.25
"""A fallback verdict under this score is learned by the supervisor (``runtime._learnable``)."""
FALLBACK_PROBLEMS = frozenset({"blurred", "covered", "glare"})
NAMED = (PictureFault.video_loss, PictureFault.frozen, PictureFault.blurred, PictureFault.covered)
"""Faults that must be reported under their own name."""
FLAGGED = (PictureFault.glare, PictureFault.displaced)
"""Faults that must raise a problem; its name may be another (see README, Picture health)."""
HEALTHY_TIMES = (1060.0, 1120.0, 1180.0, 1300.0)
"""Later snapshots (seconds): the light swings a few percent between them."""


def snapshot_sizes() -> list[tuple[int, int]]:
    """The simulator's default snapshot and every catalogue camera's main profile."""
    sizes = {FRAME_SIZE} | {c.frame_size for c in load_catalogue().cameras.values()}
    return sorted(sizes)


def snapshot(
    index: int,
    faults: frozenset[PictureFault],
    *,
    sequence: int,
    now: float,
    size: tuple[int, int],
    renderer: PictureRenderer | None = None,
) -> np.ndarray:
    """Camera ``index``'s snapshot as the supervisor decodes it (JPEG to grey)."""
    data = render_snapshot(
        index, faults, renderer or PictureRenderer(), sequence=sequence, now=now, size=size
    )
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)


@dataclass
class CameraVerdicts:
    """What went wrong for one camera at one size (all empty: judged right)."""

    index: int
    size: tuple[int, int]
    first: dict[str, float] = field(default_factory=dict)
    """The first snapshot's problems and scores, judged without reference."""
    false_alarms: list[tuple[int, list[str]]] = field(default_factory=list)
    """Healthy later snapshots (their number) found with problems."""
    missed: list[tuple[str, list[str]]] = field(default_factory=list)
    """Faults not reported as required, with the problems found instead."""

    @property
    def first_alarms(self) -> bool:
        """Whether the first snapshot raised a problem the supervisor would not learn."""
        return any(
            name not in FALLBACK_PROBLEMS or score >= MARGINAL for name, score in self.first.items()
        )

    @property
    def right(self) -> bool:
        return not self.first_alarms and not self.false_alarms and not self.missed


def judge_camera(
    index: int, size: tuple[int, int], thresholds: imaging.Thresholds | None = None
) -> CameraVerdicts:
    """Camera ``index`` judged at ``size`` the way the supervisor does."""
    thresholds = thresholds or imaging.Thresholds()
    verdicts = CameraVerdicts(index, size)
    first = snapshot(index, frozenset(), sequence=0, now=1000.0, size=size)
    report = imaging.assess(first, thresholds=thresholds)
    verdicts.first = {name: round(report.scores[name], 3) for name in sorted(report.problems)}
    reference = imaging.Reference().update(first, report=report)
    previous: imaging.ImageReport = report
    for number, now in enumerate(HEALTHY_TIMES, start=1):
        picture = snapshot(index, frozenset(), sequence=number, now=now, size=size)
        previous = imaging.assess(picture, reference, previous, thresholds=thresholds)
        if previous.problems:
            verdicts.false_alarms.append((number, sorted(previous.problems)))
    for fault in (*NAMED, *FLAGGED):
        renderer = PictureRenderer()
        before = previous
        if fault is PictureFault.frozen:  # the frame it froze on, then the same again
            frozen = frozenset({fault})
            before = snapshot(index, frozen, sequence=10, now=1240.0, size=size, renderer=renderer)
        picture = snapshot(
            index, frozenset({fault}), sequence=11, now=1250.0, size=size, renderer=renderer
        )
        found = imaging.assess(picture, reference, before, thresholds=thresholds).problems
        if (fault in NAMED and fault.value not in found) or not found:
            verdicts.missed.append((fault.value, sorted(found)))
    return verdicts
