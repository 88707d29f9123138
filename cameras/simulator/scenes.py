"""Each virtual camera's view: a crop of a real photograph, with light and noise that vary.

The photographs are scikit-image's sample images that ship inside its wheel (``skimage.data``;
those that need a download are not used). A camera's crop (photograph, position, zoom, mirror)
follows from its index, so camera 17 shows the same scene at every run; each snapshot then gets
its own sensor noise and a slow change of light, as a real camera's pictures do.
"""

from __future__ import annotations

import math
import threading
import time
from functools import lru_cache

import cv2
import numpy as np

from cameras.picture_faults import PictureFault, PictureRenderer

FRAME_SIZE = (640, 360)
"""Width x height of a snapshot (16:9, like the real camera's profiles)."""

JPEG_QUALITY = 85

PHOTOGRAPHS = (
    "rocket",
    "camera",
    "astronaut",
    "coffee",
    "chelsea",
    "motorcycle_left",
    "motorcycle_right",
    "coins",
    "clock",
)
"""The real photographs in skimage.data that load offline (checked with scikit-image 0.26)."""

_lock = threading.Lock()


@lru_cache(maxsize=len(PHOTOGRAPHS))
def photograph(name: str) -> np.ndarray:
    """A sample photograph as BGR ``uint8``, loaded once."""
    from skimage import data  # noqa: PLC0415 -- scikit-image takes a second to import

    with _lock:
        if name.startswith("motorcycle_"):
            left, right, _ = data.stereo_motorcycle()
            image = left if name == "motorcycle_left" else right
        else:
            image = getattr(data, name)()
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2BGR)


@lru_cache(maxsize=32)
def base_frame(index: int) -> np.ndarray:
    """Camera ``index``'s clean view, before light and noise.

    Cut again on each snapshot (a few ms) except for the last few cameras asked: a cache for
    5,000 cameras would hold 3.4 GB of frames.
    """
    rng = np.random.default_rng(1_000_003 * (index + 1))
    image = photograph(PHOTOGRAPHS[index % len(PHOTOGRAPHS)])
    height, width = image.shape[:2]
    aspect = FRAME_SIZE[0] / FRAME_SIZE[1]
    crop_w = min(width, int(height * aspect)) * rng.uniform(0.55, 1.0)
    crop_h = crop_w / aspect
    x = rng.uniform(0, width - crop_w)
    y = rng.uniform(0, height - crop_h)
    crop = image[int(y) : int(y + crop_h), int(x) : int(x + crop_w)]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return cv2.resize(crop, FRAME_SIZE, interpolation=cv2.INTER_AREA)


@lru_cache(maxsize=1)
def noise_bank() -> np.ndarray:
    """Sensor noise (sigma about 2.5 grey levels) drawn once; each snapshot takes a shifted one.

    Drawing fresh Gaussian noise for every snapshot costs more than encoding the JPEG; a bank
    of frames, picked and rolled at random, looks the same to any image-health check.
    """
    rng = np.random.default_rng(7)
    noise = rng.normal(0.0, 2.5, size=(4, FRAME_SIZE[1], FRAME_SIZE[0], 3))
    # stored as (positive part, negative part) so that saturating uint8 adds apply it
    return np.stack([np.clip(noise, 0, 255), np.clip(-noise, 0, 255)], axis=1).astype(np.uint8)


def warm_up() -> None:
    """Load the photographs and the noise bank now, so the first snapshots are not slow."""
    for name in PHOTOGRAPHS:
        photograph(name)
    noise_bank()


def light_gain(index: int, now: float) -> float:
    """A slow swing of light (clouds, lamps), a few percent, phase-shifted per camera."""
    return 1.0 + 0.06 * math.sin(now / 47.0 + index) + 0.02 * math.sin(now / 7.3 + 2 * index)


def render_snapshot(
    index: int,
    faults: frozenset[PictureFault],
    renderer: PictureRenderer,
    *,
    sequence: int,
    now: float | None = None,
) -> bytes:
    """A JPEG of camera ``index`` now: its scene, light, fresh noise, then its picture faults."""
    now = time.time() if now is None else now
    rng = np.random.default_rng((index << 32) ^ sequence)
    lit = cv2.convertScaleAbs(base_frame(index), alpha=light_gain(index, now))
    bank = noise_bank()
    noise = np.roll(bank[int(rng.integers(len(bank)))], int(rng.integers(FRAME_SIZE[0])), axis=2)
    clean = cv2.add(lit, noise[0], dtype=cv2.CV_8U)
    clean = cv2.subtract(clean, noise[1], dtype=cv2.CV_8U)
    shown = renderer.render(clean, faults, rng)
    ok, jpeg = cv2.imencode(".jpg", shown, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError(f"camera {index}: JPEG encoding failed")
    return jpeg.tobytes()
