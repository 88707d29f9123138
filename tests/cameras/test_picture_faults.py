"""The picture-fault renderer, on a real photograph."""

from __future__ import annotations

import numpy as np
import pytest

from cameras.picture_faults import PictureFault, PictureRenderer, apply_fault
from cameras.simulator.scenes import base_frame


@pytest.fixture
def frame() -> np.ndarray:
    return base_frame(0)


@pytest.mark.parametrize("fault", [f for f in PictureFault if f is not PictureFault.frozen])
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
