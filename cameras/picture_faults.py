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


def video_loss(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Black, with the faint sensor noise a powered encoder without a signal still shows."""
    return rng.integers(0, 6, size=frame.shape, dtype=np.uint8)


def blurred(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Out of focus (or a wet, dirty dome): a wide Gaussian blur."""
    sigma = max(frame.shape[:2]) / 90 * rng.uniform(0.9, 1.1)
    return cv2.GaussianBlur(frame, (0, 0), sigmaX=sigma)


def covered(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Most of the view masked by something close and dark (a bag, paint, foliage)."""
    height, width = frame.shape[:2]
    mask = np.zeros((height, width), np.uint8)
    centre = (int(width * rng.uniform(0.4, 0.6)), int(height * rng.uniform(0.4, 0.6)))
    axes = (int(width * 0.55), int(height * 0.6))
    cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 30)), 0, 360, 255, -1)
    cover = np.full_like(frame, (38, 36, 40)) + rng.integers(0, 8, frame.shape, dtype=np.uint8)
    out = frame.copy()
    out[mask > 0] = cover[mask > 0]
    return out


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
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = width * rng.uniform(0.3, 0.7), height * rng.uniform(0.2, 0.5)
    radius = max(width, height) * 0.22
    bloom = np.clip(1.4 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * radius**2)), 0, 1)
    bloom = bloom[..., None]
    washed = frame.astype(np.float32) * 0.6 + 90
    out = washed * (1 - bloom) + 255 * bloom
    return np.clip(out, 0, 255).astype(np.uint8)


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
