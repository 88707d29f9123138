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
from collections import OrderedDict
from collections.abc import Callable, Iterable
from functools import lru_cache

import cv2
import numpy as np

from cameras.picture_faults import PictureFault, PictureRenderer

FRAME_SIZE = (640, 360)
"""Width x height of a snapshot unless ``vigie simulate --snapshot-size`` says otherwise (16:9)."""

MIN_SIZE = (160, 90)
MAX_SIZE = (3840, 2160)
"""The snapshot sizes accepted, per dimension: from a thumbnail to 4K UHD."""

JPEG_QUALITY = 85

BASE_CACHE_FRAMES = 32
BASE_CACHE_BYTES = 64 * 2**20
"""The clean views kept: the last 32 cameras at 640x360, the last 10 at 1920x1080."""

NOISE_FRAMES = 2
NOISE_MARGIN = (64, 36)
"""The noise bank: 2 frames a little larger than the largest snapshot, so that a window at a
random offset gives 2 x 65 x 37 different noises for the price of 2 frames."""

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


def parse_size(text: str, *, option: str = "--snapshot-size") -> tuple[int, int]:
    """``"1920x1080"`` -> (1920, 1080), refused (naming ``option``) outside MIN_SIZE..MAX_SIZE."""
    width, sep, height = text.strip().lower().partition("x")
    if not (sep and width.isdigit() and height.isdigit()):
        raise ValueError(f"{option}: {text[:40]!r} is not a size like 1920x1080 (WIDTHxHEIGHT)")
    size = int(width), int(height)
    check_size(size, option=option)
    return size


def check_size(size: tuple[int, int], *, option: str = "--snapshot-size") -> None:
    """Refuse a picture size outside MIN_SIZE..MAX_SIZE, naming where it came from."""
    (width, height), (low_w, low_h), (high_w, high_h) = size, MIN_SIZE, MAX_SIZE
    if not (low_w <= width <= high_w and low_h <= height <= high_h):
        raise ValueError(
            f"{option}: {width}x{height} is outside the sizes a snapshot can have "
            f"({low_w}x{low_h} to {high_w}x{high_h})"
        )


class _FrameCache:
    """The last cameras' clean views, least recently used first out, bounded in count and bytes.

    Without a bound in bytes, 32 frames of 4K would hold 800 MB; at 5,000 cameras almost every
    snapshot misses anyway, so the cache only spares tests and small simulations a resize.
    """

    def __init__(self, frames: int, nbytes: int) -> None:
        self._frames, self._nbytes = frames, nbytes
        self._items: OrderedDict[tuple[int, tuple[int, int]], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, tuple[int, int]], make: Callable[[], np.ndarray]) -> np.ndarray:
        with self._lock:
            frame = self._items.get(key)
            if frame is not None:
                self._items.move_to_end(key)
                return frame
        frame = make()  # outside the lock: two threads may cut the same frame, both correct
        with self._lock:
            self._items[key] = frame
            total = sum(f.nbytes for f in self._items.values())
            while len(self._items) > 1 and (
                len(self._items) > self._frames or total > self._nbytes
            ):
                _, dropped = self._items.popitem(last=False)
                total -= dropped.nbytes
        return frame

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_base_frames = _FrameCache(BASE_CACHE_FRAMES, BASE_CACHE_BYTES)


def base_frame(index: int, size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """Camera ``index``'s clean view at ``size`` (width, height), before light and noise.

    The same crop of the same photograph at every size (only the aspect ratio can change it),
    so a camera looks alike at 640x360 and 1920x1080. Read-only: it is shared.
    """
    return _base_frames.get((index, size), lambda: _cut(index, size))


def _cut(index: int, size: tuple[int, int]) -> np.ndarray:
    rng = np.random.default_rng(1_000_003 * (index + 1))
    image = photograph(PHOTOGRAPHS[index % len(PHOTOGRAPHS)])
    height, width = image.shape[:2]
    aspect = size[0] / size[1]
    crop_w = min(width, int(height * aspect)) * rng.uniform(0.55, 1.0)
    crop_h = crop_w / aspect
    x = rng.uniform(0, width - crop_w)
    y = rng.uniform(0, height - crop_h)
    crop = image[int(y) : int(y + crop_h), int(x) : int(x + crop_w)]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    # the photographs are 300-740 pixels wide, so large snapshots are enlarged: area keeps the
    # pixels' edges (bilinear would smooth them: a 1080p JPEG of 200 KB instead of 250)
    frame = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    frame.flags.writeable = False
    return frame


_noise: np.ndarray | None = None
_noise_lock = threading.Lock()


def noise_bank(size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """Sensor noise (sigma about 2.5 grey levels) drawn once; each snapshot takes a window of it.

    Drawing fresh Gaussian noise for every snapshot costs more than encoding the JPEG; a bank
    of frames, windows of it at random offsets, looks the same to any image-health check. One
    bank serves every size (smaller ones take smaller windows): it is drawn again, larger, only
    when a snapshot is larger than it (``warm_up`` draws it at the largest size to be served).
    Shape: (frames, 2, height, width, 3), the positive and the negative part of the noise, so
    that saturating ``uint8`` adds apply it.
    """
    global _noise  # noqa: PLW0603 -- one bank for the process, replaced only to grow
    need_w, need_h = size[0] + NOISE_MARGIN[0], size[1] + NOISE_MARGIN[1]
    with _noise_lock:
        bank = _noise
        if bank is None or bank.shape[3] < need_w or bank.shape[2] < need_h:
            if bank is not None:
                need_w, need_h = max(need_w, bank.shape[3]), max(need_h, bank.shape[2])
            rng = np.random.default_rng(7)
            bank = np.empty((NOISE_FRAMES, 2, need_h, need_w, 3), np.uint8)
            for frame in bank:  # one frame at a time: float32 noise of 4K is 100 MB
                noise = rng.standard_normal((need_h, need_w, 3), dtype=np.float32) * 2.5
                np.clip(noise, 0, 255, out=frame[0], casting="unsafe")
                np.clip(-noise, 0, 255, out=frame[1], casting="unsafe")
            bank.flags.writeable = False
            _noise = bank
    return bank


def warm_up(sizes: Iterable[tuple[int, int]] = (FRAME_SIZE,)) -> None:
    """Load the photographs, and draw the noise bank for the largest of ``sizes``, now, so that
    the first snapshots are not slow."""
    for name in PHOTOGRAPHS:
        photograph(name)
    sizes = list(sizes)
    noise_bank((max(w for w, _ in sizes), max(h for _, h in sizes)))


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
    size: tuple[int, int] = FRAME_SIZE,
) -> bytes:
    """A JPEG of camera ``index`` now, ``size`` (width, height): its scene, light, fresh noise,
    then its picture faults."""
    now = time.time() if now is None else now
    width, height = size
    rng = np.random.default_rng((index << 32) ^ sequence)
    frame = cv2.convertScaleAbs(base_frame(index, size), alpha=light_gain(index, now))
    bank = noise_bank(size)
    x = int(rng.integers(bank.shape[3] - width + 1))
    y = int(rng.integers(bank.shape[2] - height + 1))
    noise = bank[int(rng.integers(len(bank))), :, y : y + height, x : x + width]
    cv2.add(frame, noise[0], dst=frame, dtype=cv2.CV_8U)  # in place: no 6 MB copy at 1080p
    cv2.subtract(frame, noise[1], dst=frame, dtype=cv2.CV_8U)
    shown = renderer.render(frame, faults, rng)
    ok, jpeg = cv2.imencode(".jpg", shown, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError(f"camera {index}: JPEG encoding failed")
    return jpeg.tobytes()
