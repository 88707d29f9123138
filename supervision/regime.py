"""Lighting regime of a snapshot: ``day`` (a colour picture) or ``night`` (infrared, no colour).

A street camera switches to infrared at dusk: it drops its IR-cut filter, lights the scene with
its own illuminator and sends a picture without colour. That picture is another scene to judge
(foliage bright, sky dark, lamps blooming), so a camera learns one reference per regime
(``supervision.imaging.RegimeReferences``). The regime is told from the picture itself, not
from the hour: a colour picture is ``day`` however dark (dusk, street lights), a picture
without colour is ``night``. A camera that never sends colour (a monochrome sensor) stays in
one regime, ``night``.

The supervisor reads the colour from the JPEG's chroma planes, which the same decoding as the
grey gives (:func:`plane_chroma`, ``supervision.jpeg``). :func:`snapshot_chroma` reads it from a
JPEG alone, decoded at an eighth of its size (the JPEG library skips the inverse transforms at
that scale, not the entropy decoding): 2.9-3.2 ms for a 1920x1080 snapshot on one core of the
loaded reference machine, OpenCV's fallback. Pure: numpy and OpenCV, no I/O.
"""

from __future__ import annotations

import cv2
import numpy as np

from supervision._image_features import halve_to

REGIMES = ("day", "night")
"""Every lighting regime, the colour one first."""

NIGHT_CHROMA = 1.0
"""A picture whose mean chroma (distance of each pixel's colour from grey, 0-255 units, at an
eighth of its size) is under this is ``night``. Chosen on the field set's tuning part: every
infrared frame measured 0.0 (a grey picture the camera encodes as such), every harmless colour
frame 2.1 and more (the darkest dusk, 0.2 of the daylight, keeps its warm street light and its
sensor's colour noise); a glare over 60 % of a day picture washes its colour down to 1.4, a grey
bag over 95 % of it to 0.1-0.6 (judged against the night reference then: covered all the same)."""


def chroma(image: np.ndarray) -> float:
    """Mean chroma of a BGR ``uint8`` image (any size): 0 for a grey picture.

    A grey array (H x W, or H x W x 1) has none. A large image is sampled at most 240 pixels
    wide (every n-th pixel: 0.1 ms at 1080p, where an area average costs 1.9 ms; the sensor's
    colour noise then adds a little, which only moves a colour picture further from grey).
    """
    if image.ndim == 2 or image.shape[2] == 1:
        return 0.0
    step = max(1, image.shape[1] // 240)
    bgr = np.ascontiguousarray(image[::step, ::step, :3])
    ycrcb = cv2.cvtColor(bgr, cv2.COLOR_BGR2YCrCb)
    cr = ycrcb[:, :, 1].astype(np.float32) - 128.0
    cb = ycrcb[:, :, 2].astype(np.float32) - 128.0
    return float(cv2.mean(cv2.magnitude(cr, cb))[0])


def plane_chroma(cb: np.ndarray, cr: np.ndarray, size: tuple[int, int]) -> float:
    """Mean chroma of a picture of ``size`` (width, height) from its JPEG's two chroma planes
    (``uint8``, coded size: half the picture's in 4:2:0), averaged over blocks of 8x8 picture
    pixels as :func:`snapshot_chroma`'s reduced decode does. Not through BGR: the reduced
    decode clips dark colours on the way, so the two differ by a few hundredths on street
    pictures and by up to 10 % on a nearly black one (hubble_deep_field, 1.97 against 2.19:
    ``tests/supervision/test_jpeg.py``), never across :data:`NIGHT_CHROMA` on the field set,
    whose verdicts were the same frame by frame. By exact halvings, OpenCV's fast path:
    0.1 ms for a 1080p picture's two 4:2:0 planes, where resizing each by four takes 0.2."""
    width, height = size
    small = (max(1, -(-width // 8)), max(1, -(-height // 8)))
    means = [halve_to(plane, small).astype(np.float32) - 128.0 for plane in (cb, cr)]
    return float(cv2.mean(cv2.magnitude(means[1], means[0]))[0])


def snapshot_chroma(content: bytes) -> float | None:
    """Mean chroma of a JPEG snapshot, decoded at an eighth of its size (0 for a grey JPEG);
    ``None`` if it does not decode."""
    if not content:
        return None
    small = cv2.imdecode(np.frombuffer(content, np.uint8), cv2.IMREAD_REDUCED_COLOR_8)
    if small is None or not small.size:
        return None
    return chroma(small)


def regime_of(measured_chroma: float | None) -> str:
    """The regime of a picture of this chroma; ``day`` when it is unknown (``None``)."""
    if measured_chroma is None:
        return "day"
    return "night" if measured_chroma < NIGHT_CHROMA else "day"
