"""Realistic camera frames from real photographs, with harmless variations and picture faults.

The picture-health tests and ``benchmarks/imaging/`` build their frames here: a photograph shipped
inside scikit-image's wheel (no download) is upscaled onto a canvas larger than the camera's view,
and a 1920x1080 view is cut from it, so panning the camera reveals real scenery. Every frame then
goes through what a real camera does (sensor noise, JPEG) plus either a harmless change (light,
exposure, jitter, night) or a fault (black, frozen, blurred, covered, displaced, glare).
Independent of the camera simulator's fault renderer (``cameras/``) on purpose.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

FRAME = (1920, 1080)
"""(width, height) of every generated frame."""
CANVAS = (2700, 1519)
"""The scene canvas: room for pans up to 390 px (about 12 degrees at a 60-degree field of view)."""
PX_PER_DEGREE = FRAME[0] / 60.0
"""Horizontal pixels per degree of pan for a 60-degree horizontal field of view."""

SCENES = ("astronaut", "camera", "coffee", "chelsea", "rocket", "coins", "brick", "gravel", "clock")
"""scikit-image sample photographs that load offline (inside the wheel), of different kinds."""
HELD_OUT = ("motorcycle", "grass", "moon", "page", "text")
"""Other offline samples, never looked at while choosing thresholds: a held-out check (a street
scene with vehicles, a lawn, a smooth low-contrast surface, printed pages)."""


def scene(name: str) -> np.ndarray:
    """The canvas of a sample photograph: BGR uint8, ``CANVAS``, its centre cropped to 16:9."""
    from skimage import data

    photo = data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(data, name)()
    if photo.ndim == 2:
        photo = np.stack([photo] * 3, axis=-1)
    return photo_canvas(np.ascontiguousarray(photo[:, :, 2::-1]))  # RGB -> BGR


def photo_canvas(photo: np.ndarray) -> np.ndarray:
    """The canvas of any BGR photograph: its centre cropped to 16:9, resized to ``CANVAS``."""
    height, width = photo.shape[:2]
    target = CANVAS[0] / CANVAS[1]
    if width / height > target:
        keep = round(height * target)
        photo = photo[:, (width - keep) // 2 : (width - keep) // 2 + keep]
    else:
        keep = round(width / target)
        photo = photo[(height - keep) // 2 : (height - keep) // 2 + keep]
    return cv2.resize(photo, CANVAS, interpolation=cv2.INTER_CUBIC)


def view(canvas: np.ndarray, *, dx: float = 0.0, dy: float = 0.0, angle: float = 0.0) -> np.ndarray:
    """The camera's 1920x1080 view of the canvas, panned by (dx, dy) px and rolled by ``angle``."""
    cx, cy = canvas.shape[1] / 2 + dx, canvas.shape[0] / 2 + dy
    matrix = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    matrix[0, 2] -= cx - FRAME[0] / 2
    matrix[1, 2] -= cy - FRAME[1] / 2
    return cv2.warpAffine(
        canvas, matrix, FRAME, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )


def sensor(frame: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Sensor noise: read noise of ``sigma`` grey levels plus shot noise growing with brightness.

    At grey level 200 the shot noise alone is about 3.5 levels, as on a typical 1/2.8" CCTV sensor
    in daylight before the encoder.
    """
    cv2.setRNGSeed(int(rng.integers(2**31)))  # cv2.randn is ten times faster than numpy's normal
    unit = np.empty((frame.shape[0], frame.size // frame.shape[0]), np.float32)  # one channel
    cv2.randn(unit, 0.0, 1.0)
    unit = unit.reshape(frame.shape)
    level = frame.astype(np.float32)
    spread = cv2.sqrt(level * 0.06 + float(sigma) ** 2)
    return np.clip(level + unit * spread + 0.5, 0, 255).astype(np.uint8)


def decode_full(content: bytes) -> np.ndarray:
    """A JPEG decoded at its full size."""
    return cv2.imdecode(np.frombuffer(content, np.uint8), cv2.IMREAD_UNCHANGED)


decode: Callable[[bytes], np.ndarray | None] = decode_full
"""How :func:`jpeg` decodes; ``benchmarks/imaging`` can set the supervisor's
(``supervision.probes.decode_snapshot``: the JPEG's grey at full size)."""


def jpeg(frame: np.ndarray, quality: int) -> np.ndarray:
    """The frame after a round trip through JPEG at ``quality`` (what a snapshot URI serves)."""
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    assert ok
    decoded = decode(data.tobytes())
    assert decoded is not None
    return decoded


def camera(
    frame: np.ndarray, rng: np.random.Generator, *, sigma: float = 2.0, quality: int = 80
) -> np.ndarray:
    """What a live camera delivers of ``frame``: noise then JPEG."""
    return jpeg(sensor(frame, rng, sigma), quality)


# Harmless variations: a healthy camera's picture changes like this all day.


def light(frame: np.ndarray, gain: float, gamma: float = 1.0) -> np.ndarray:
    """Scene light or exposure change: ``gain`` on linear light, then a gamma tweak."""
    lut = np.clip(255.0 * ((np.arange(256) / 255.0) ** gamma) * gain, 0, 255).astype(np.uint8)
    return cv2.LUT(frame, lut)


def night(frame: np.ndarray, rng: np.random.Generator, *, level: float = 0.45) -> np.ndarray:
    """Day/night switch: IR cut filter out, grey picture, darker, softer and much noisier."""
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32)
    grey = cv2.GaussianBlur(grey, (0, 0), 0.8) * level + 12.0
    grey = np.clip(grey + rng.normal(0.0, 5.0, grey.shape).astype(np.float32), 0, 255)
    return cv2.cvtColor(grey.astype(np.uint8), cv2.COLOR_GRAY2BGR)


# Faults.


def black(rng: np.random.Generator, level: int = 16) -> np.ndarray:
    """An encoder's black frame (video level 16) with a trace of noise."""
    frame = np.full((FRAME[1], FRAME[0], 3), level, np.uint8)
    return sensor(frame, rng, 0.7)


def blue_screen() -> np.ndarray:
    """The uniform blue "no signal" screen of a recorder or encoder, with its small label."""
    frame = np.zeros((FRAME[1], FRAME[0], 3), np.uint8)
    frame[:] = (170, 40, 20)
    cv2.putText(frame, "NO SIGNAL", (760, 560), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (255, 255, 255), 3)
    return frame


def colour_bars() -> np.ndarray:
    """SMPTE-like colour bars (seven bars over a darker strip)."""
    colours = [
        (192, 192, 192),
        (0, 192, 192),
        (192, 192, 0),
        (0, 192, 0),
        (192, 0, 192),
        (0, 0, 192),
        (192, 0, 0),
    ]
    frame = np.zeros((FRAME[1], FRAME[0], 3), np.uint8)
    edges = np.linspace(0, FRAME[0], len(colours) + 1).astype(int)
    for colour, left, right in zip(colours, edges[:-1], edges[1:], strict=True):
        frame[: int(FRAME[1] * 0.75), left:right] = colour
        frame[int(FRAME[1] * 0.75) :, left:right] = tuple(c // 4 for c in colour)
    return frame


def blurred(frame: np.ndarray, sigma: float) -> np.ndarray:
    """Out of focus (or fogged lens): a Gaussian blur of ``sigma`` full-resolution pixels."""
    return cv2.GaussianBlur(frame, (0, 0), sigma)


def _blob_mask(rng: np.random.Generator, area: float, *, soft: float) -> np.ndarray:
    """A random smooth blob covering about ``area`` of the frame, values 0-1 (1 = covered).

    Drawn at a quarter of the resolution (the blob is smooth anyway), then upscaled.
    """
    size = (FRAME[0] // 4, FRAME[1] // 4)
    low = cv2.resize(rng.random((9, 16)).astype(np.float32), size, interpolation=cv2.INTER_CUBIC)
    low = cv2.GaussianBlur(low, (0, 0), 15)
    # Bias toward one side, as a sticker or bag hangs from an edge of the housing.
    side = rng.integers(4)
    ramp = np.linspace(1.0, 0.0, size[0] if side < 2 else size[1], dtype=np.float32)
    ramp = ramp if side % 2 == 0 else ramp[::-1]
    ramp = ramp[None, :] if side < 2 else ramp[:, None]
    field = low * 0.6 + np.broadcast_to(ramp, low.shape)
    mask = (field >= np.quantile(field, 1.0 - area)).astype(np.float32)
    if soft > 0:
        mask = cv2.GaussianBlur(mask, (0, 0), soft / 4)
    return cv2.resize(mask, FRAME, interpolation=cv2.INTER_LINEAR)


def covered(frame: np.ndarray, rng: np.random.Generator, kind: str, area: float) -> np.ndarray:
    """A sticker, a bag or spray paint over about ``area`` (0-1) of the picture, out of focus."""
    height, width = FRAME[1], FRAME[0]
    if kind == "sticker":
        mask = _blob_mask(rng, area, soft=6)
        colour = rng.integers(20, 235, 3).astype(np.float32)
        shade = np.linspace(0.9, 1.1, width, dtype=np.float32)[None, :, None]  # uneven light
        cover = np.broadcast_to(colour, (height, width, 3)) * shade
    elif kind == "bag":
        mask = _blob_mask(rng, area, soft=40)
        folds = cv2.resize(
            rng.random((6, 10)).astype(np.float32), FRAME, interpolation=cv2.INTER_CUBIC
        )
        base = rng.uniform(15, 70)
        cover = np.repeat((base * (0.7 + 0.6 * folds))[:, :, None], 3, axis=2)
    elif kind == "spray":
        mask = _blob_mask(rng, area, soft=25)
        colour = rng.integers(0, 255, 3).astype(np.float32)
        drips = cv2.resize(
            rng.random((27, 48)).astype(np.float32), FRAME, interpolation=cv2.INTER_CUBIC
        )
        drips = (drips - drips.min()) / max(float(np.ptp(drips)), 1e-6)
        cover = np.broadcast_to(colour, (height, width, 3)) * (0.85 + 0.3 * drips[:, :, None])
        mask = np.clip(mask * 1.05, 0, 1)
    else:
        raise ValueError(f"unknown cover kind {kind!r}")
    mixed = frame.astype(np.float32) * (1 - mask[:, :, None]) + cover * mask[:, :, None]
    return np.clip(mixed, 0, 255).astype(np.uint8)


def glare(frame: np.ndarray, rng: np.random.Generator, area: float) -> np.ndarray:
    """Sun or headlights in the lens: a washed-out bloom over about ``area`` of the picture."""
    cx, cy = rng.uniform(0.2, 0.8) * FRAME[0], rng.uniform(0.2, 0.8) * FRAME[1]
    yy, xx = np.mgrid[0 : FRAME[1], 0 : FRAME[0]].astype(np.float32)
    distance = np.hypot(xx - cx, (yy - cy) * 1.3)
    radius = np.quantile(distance, area)
    bloom = np.clip(1.6 - distance / radius * 0.9, 0, 1.5)
    lifted = frame.astype(np.float32) + bloom[:, :, None] * 330.0
    return np.clip(lifted, 0, 255).astype(np.uint8)
