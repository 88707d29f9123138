"""The picture-fault renderer, on a real photograph."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cameras.picture_faults import PictureFault, PictureRenderer, apply_fault
from cameras.simulator.scenes import base_frame

STATELESS = [f for f in PictureFault if f is not PictureFault.frozen]


@pytest.fixture(params=[(640, 360), (1920, 1080)], ids=["640x360", "1920x1080"])
def frame(request: pytest.FixtureRequest) -> np.ndarray:
    return base_frame(0, request.param)


@pytest.mark.parametrize("fault", STATELESS)
def test_each_stateless_fault_changes_the_picture(frame: np.ndarray, fault: PictureFault) -> None:
    out = apply_fault(frame, fault, np.random.default_rng(1))
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert np.abs(out.astype(float) - frame).mean() > 2


def test_frozen_needs_the_renderer(frame: np.ndarray) -> None:
    with pytest.raises(ValueError, match="stateful"):
        apply_fault(frame, PictureFault.frozen, np.random.default_rng(1))


def test_the_renderer_freezes_on_one_frame_until_the_fault_clears(frame: np.ndarray) -> None:
    renderer = PictureRenderer()
    rng = np.random.default_rng(2)
    first = renderer.render(frame, {PictureFault.frozen}, rng)
    later = renderer.render(frame[::-1], {PictureFault.frozen}, rng)
    assert later is first
    cleared = renderer.render(frame[::-1], set(), rng)
    assert np.array_equal(cleared, frame[::-1])


def test_faults_combine_in_a_fixed_order(frame: np.ndarray) -> None:
    faults = {PictureFault.blurred, PictureFault.glare}
    a = PictureRenderer().render(frame, faults, np.random.default_rng(3))
    b = PictureRenderer().render(frame, faults, np.random.default_rng(3))
    assert np.array_equal(a, b)


@pytest.mark.parametrize("fault", STATELESS)
def test_each_fault_scales_with_the_picture(fault: PictureFault) -> None:
    """A fault covers, blurs, shifts and blooms the same share of a 1080p picture as of a
    640x360 one: the larger, reduced, is the smaller within a tenth of what the fault changes."""
    small, large = base_frame(3), base_frame(3, (1920, 1080))
    faulty_small = apply_fault(small, fault, np.random.default_rng(5))
    faulty_large = apply_fault(large, fault, np.random.default_rng(5))
    reduced = cv2.resize(faulty_large, (640, 360), interpolation=cv2.INTER_AREA)
    change = np.abs(faulty_small.astype(float) - small).mean()
    assert np.abs(reduced.astype(float) - faulty_small).mean() < 0.1 * change
