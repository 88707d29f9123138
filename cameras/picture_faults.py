"""What a camera's picture looks like when something is wrong with it.

The simulator draws its faulty snapshots with this module, and supervision's image-health
benchmark can reuse it to make labelled pictures: each fault is one function of a clean BGR
frame (``uint8``, H x W x 3) to the frame a real camera would send. ``frozen`` is the only
stateful fault (the same frame again and again), kept by :class:`PictureRenderer`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum

import cv2
import numpy as np


class PictureFault(StrEnum):
    """The picture problems supervision must detect (``supervision.imaging`` names them alike)."""

    video_loss = "video_loss"
    frozen = "frozen"
    blurred = "blurred"
    covered = "covered"
    displaced = "displaced"
    glare = "glare"


WORK_SIDE = 640
"""The smooth effects (blur, bloom) are worked out about this wide at most, then enlarged: at
1920x1080 a full-size Gaussian of sigma 21 alone took 110 ms a picture."""


def _reduction(frame: np.ndarray) -> int:
    """By how much a frame is reduced for a smooth effect (1 up to 640x360; 3 at 1080p)."""
    return max(1, round(max(frame.shape[:2]) / WORK_SIDE))


def _random_levels(rng: np.random.Generator, shape: tuple[int, ...], lut: np.ndarray) -> np.ndarray:
    """Random grey levels of that shape: uniform random bytes mapped through ``lut`` (256
    entries, one column per channel), ten times faster at 1080p than ``rng.integers``."""
    noise = np.frombuffer(rng.bytes(int(np.prod(shape))), np.uint8).reshape(shape)
    return cv2.LUT(noise, lut)


_FAINT = (np.arange(256) % 6).astype(np.uint8)
"""0-5: the faint noise of an encoder without a signal."""

_COVER = (np.arange(256)[:, None, None] % 8 + np.array((38, 36, 40))).astype(np.uint8)
"""A dark surface (BGR 38, 36, 40) with a little texture (0-7)."""


def video_loss(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Black, with the faint sensor noise a powered encoder without a signal still shows."""
    return _random_levels(rng, frame.shape, _FAINT)


def blurred(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Out of focus (or a wet, dirty dome): a wide Gaussian blur (sigma 1/90 of the frame)."""
    sigma = max(frame.shape[:2]) / 90 * rng.uniform(0.9, 1.1)
    factor = _reduction(frame)
    if factor == 1:
        return cv2.GaussianBlur(frame, (0, 0), sigmaX=sigma)
    height, width = frame.shape[:2]
    small = cv2.resize(frame, (width // factor, height // factor), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=sigma / factor)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def covered(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Most of the view masked by something close and dark (a bag, paint, foliage)."""
    height, width = frame.shape[:2]
    mask = np.zeros((height, width), np.uint8)
    centre = (int(width * rng.uniform(0.4, 0.6)), int(height * rng.uniform(0.4, 0.6)))
    axes = (int(width * 0.55), int(height * 0.6))
    cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 30)), 0, 360, 255, -1)
    cover = _random_levels(rng, frame.shape, _COVER)
    return cv2.copyTo(cover, mask, frame.copy())


def displaced(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The camera knocked or turned: the scene shifted by a third and rotated."""
    height, width = frame.shape[:2]
    angle = float(rng.choice([-1, 1]) * rng.uniform(8, 14))
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.25)
    matrix[0, 2] += width * 0.33 * float(rng.choice([-1, 1]))
    matrix[1, 2] += height * 0.15
    return cv2.warpAffine(frame, matrix, (width, height), borderMode=cv2.BORDER_REFLECT_101)


def glare(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sun or headlights in the lens: a saturated bloom and washed-out contrast."""
    height, width = frame.shape[:2]
    factor = _reduction(frame)
    small_w, small_h = -(-width // factor), -(-height // factor)
    y, x = np.mgrid[0:small_h, 0:small_w].astype(np.float32) * factor
    cx, cy = width * rng.uniform(0.3, 0.7), height * rng.uniform(0.2, 0.5)
    radius = max(width, height) * 0.22
    bloom = np.clip(1.4 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * radius**2)), 0, 1)
    if factor > 1:  # a smooth bloom: worked out small, enlarged
        bloom = cv2.resize(bloom, (width, height), interpolation=cv2.INTER_LINEAR)
    washed = cv2.convertScaleAbs(frame, alpha=0.6, beta=90)
    white = np.full_like(frame, 255)
    return cv2.blendLinear(washed, white, np.ascontiguousarray(1 - bloom), bloom)


RENDERERS: dict[PictureFault, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    PictureFault.video_loss: video_loss,
    PictureFault.blurred: blurred,
    PictureFault.covered: covered,
    PictureFault.displaced: displaced,
    PictureFault.glare: glare,
}


def apply_fault(frame: np.ndarray, fault: PictureFault, rng: np.random.Generator) -> np.ndarray:
    """One stateless fault applied to a frame (``frozen`` needs :class:`PictureRenderer`)."""
    if fault is PictureFault.frozen:
        raise ValueError("frozen is stateful: use PictureRenderer")
    return RENDERERS[fault](frame, rng)


class PictureRenderer:
    """Applies a camera's picture faults frame after frame; remembers the frozen frame."""

    __slots__ = ("_frozen",)

    def __init__(self) -> None:
        self._frozen: np.ndarray | None = None

    def render(
        self, frame: np.ndarray, faults: Iterable[PictureFault], rng: np.random.Generator
    ) -> np.ndarray:
        """The frame as the camera sends it; a frozen camera repeats the first frame it froze on."""
        faults = set(faults)
        if PictureFault.frozen not in faults:
            self._frozen = None
        elif self._frozen is not None:
            return self._frozen
        for fault in PictureFault:  # a fixed order, so that combinations are reproducible
            if fault in faults and fault is not PictureFault.frozen:
                frame = RENDERERS[fault](frame, rng)
        if PictureFault.frozen in faults:
            self._frozen = frame
        return frame
