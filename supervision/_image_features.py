"""What picture health measures on one frame: a few small images and numbers, computed once.

Every check of :mod:`supervision.imaging` reads these features instead of the full frame, so a
1920x1080 snapshot costs a couple of milliseconds: the frame is halved (an exact 2x area average,
OpenCV's fast path) to 960x540, turned grey, then halved again twice. Working sizes are fixed
whatever the camera's resolution or aspect ratio, so a camera is always compared with its own
reference at the same scale. Pure: numpy and OpenCV, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

HALF_SIZE = (960, 540)
"""(width, height) of the first, exact halving of a 1920x1080 frame."""
WORK_SIZE = (480, 270)
"""(width, height) of the grey image the block, frozen and glare checks use."""
SMALL_SIZE = (240, 135)
"""(width, height) of the edge template compared by phase correlation (displaced)."""
GRID = (16, 9)
"""(columns, rows) of the blocks of 30x30 working pixels the covered check counts."""

SATURATED = 245.0
"""Grey level (0-255, working scale) from which a pixel is washed out (glare)."""
DIGITAL_FLAT = 0.3
"""Gradient (grey levels per working pixel) below which a pixel is flat beyond sensor noise."""
CONTRAST_SIGMA = 10.0
"""Gaussian sigma (small-image pixels, 1/16 of the picture's height) of the light a scene's
contrast is measured against: slower changes (a headlight's beam, an infrared illuminator's
fall-off, a fog thicker with distance) are the light, not the scene."""
_LAMP_MARGIN = np.ones((9, 9), np.uint8)
"""Neighbourhood (small-image pixels) of a washed-out pixel left out of the contrast: a lamp's
disc and the halo around it."""


@dataclass(frozen=True, eq=False)
class Features:
    """Downscaled images and per-frame numbers of one frame (see the module docstring)."""

    grey: np.ndarray
    """Working grey image, float32, ``WORK_SIZE``."""
    edges: np.ndarray
    """Gradient magnitude of the small grey image, float32, ``SMALL_SIZE``: structure, not light."""
    block_texture: np.ndarray
    """Mean gradient magnitude per block (``GRID``, rows x columns) of the small image: detail
    at a scale where sensor noise is averaged away."""
    block_mean: np.ndarray
    """Mean grey level per block (``GRID``)."""
    mean: float
    """Mean grey level of the frame, 0-255."""
    std: float
    """Standard deviation of the grey levels (small image), 0-255: 0 for a uniform picture."""
    p99: float
    """99th percentile of the grey levels (small image): under ~30 the frame is black."""
    saturated: float
    """Share of working pixels at or above ``SATURATED``, 0-1."""
    flat: float
    """Share of working pixels with a gradient under ``DIGITAL_FLAT``: synthetic screens, 0-1."""
    fine: float
    """Mean gradient of the most detailed tenth of the blocks, working scale (fine detail)."""
    noise: float
    """Sensor noise estimate at the working scale (grey levels), from the flattest blocks."""
    brightness: float
    """Median of the blocks' mean grey levels: the picture's brightness, which a local glare
    hardly moves and an over-exposure raises."""
    contrast: float
    """The scene's own contrast: standard deviation of the small image above its slow light
    changes (:data:`CONTRAST_SIGMA`), washed-out pixels and their surroundings left out."""
    fine_share: float = float("nan")
    """The most detailed tenth of the blocks' gradient at the working scale over the same
    blocks' gradient at the small scale (half the resolution), blocks with a washed-out pixel
    left out (a lamp's halo is smooth): how much of the detail is finer than the small scale.
    Unchanged by gain, exposure and a veil (they scale both scales alike), raised by noise,
    rain and flakes (fine), lowered by a blur whatever the scene's contrast does: a smooth ramp
    gives 0.5, what any strong blur tends to."""

    @property
    def sharpness(self) -> float:
        """Fine detail over overall contrast: unchanged by gain or exposure, falls with blur.

        The overall contrast counts the light: two headlights, their beam, the illuminator's
        fall-off at night double it and halve this. :attr:`detail` does not; this one is kept
        for the judgement without a reference and for references stored before it."""
        return self.fine / (self.std + 1.0)

    @property
    def detail(self) -> float:
        """Fine detail over the scene's own :attr:`contrast`: falls with blur, unchanged by gain,
        exposure, lamps, a beam or a veil of fog (they change the light, not the detail's share
        of the scene's contrast). Judged against the reference's (the scale depends on the
        scene)."""
        return self.fine / (self.contrast + 1.0)


def quantile(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, 100 * q)`` (linear interpolation), by partition: the same value,
    ten times faster on these small arrays (numpy's percentile costs 0.1-0.5 ms a call)."""
    flat = values.ravel()
    position = q * (flat.size - 1)
    low = int(position)
    high = min(low + 1, flat.size - 1)
    parted = np.partition(flat, (low, high))
    return float(parted[low] + (parted[high] - parted[low]) * (position - low))


def grey_quantile(values: np.ndarray, q: float) -> float:
    """:func:`quantile` of grey levels (0-255), the same value, partitioning only the values of
    the histogram's bins that hold it: 0.3 of the cost for the small image's 99th percentile,
    where :func:`quantile` partitions 32,400 values (1.15 M instructions, a tenth of
    :func:`features`). The same value for any finite values (the histogram only chooses which
    to partition); values outside 0-255 may fall back to :func:`quantile`. Not for NaN."""
    flat = values.ravel()
    position = q * (flat.size - 1)
    low = int(position)
    high = min(low + 1, flat.size - 1)
    needed = flat.size - low  # values at rank ``low`` or above
    counts = cv2.calcHist([flat.reshape(1, -1)], [0], None, [256], [0, 256]).ravel()
    at_or_above = np.cumsum(counts[::-1])[::-1]
    bins = np.flatnonzero(at_or_above >= needed)
    if not bins.size:
        return quantile(values, q)
    candidates = flat[flat >= bins[-1]]
    if candidates.size < needed:
        return quantile(values, q)
    skipped = flat.size - candidates.size
    parted = np.partition(candidates, (low - skipped, high - skipped))
    below, above = parted[low - skipped], parted[high - skipped]
    return float(below + (above - below) * (position - low))


def halve_to(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-average ``image`` down to ``size`` through exact halvings (fast) where possible."""
    width, height = size
    while image.shape[1] >= 2 * width and image.shape[0] >= 2 * height:
        half = (image.shape[1] // 2, image.shape[0] // 2)
        image = cv2.resize(image[: 2 * half[1], : 2 * half[0]], half, interpolation=cv2.INTER_AREA)
    if image.shape[1] != width or image.shape[0] != height:
        shrinking = image.shape[1] >= width and image.shape[0] >= height
        image = cv2.resize(
            image, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        )
    return image


_HALF_DIFFERENCE = np.array([[-0.5, 0.0, 0.5]], np.float32)


def _gradient(grey: np.ndarray) -> np.ndarray:
    """Gradient magnitude (L1 of central differences / 2): grey levels per pixel.

    The same values as two 1-pixel Sobels, halved and summed, in half the time (fewer passes).
    """
    gx = cv2.filter2D(grey, cv2.CV_32F, _HALF_DIFFERENCE, borderType=cv2.BORDER_REFLECT_101)
    gy = cv2.filter2D(grey, cv2.CV_32F, _HALF_DIFFERENCE.T, borderType=cv2.BORDER_REFLECT_101)
    return cv2.add(np.abs(gx, out=gx), np.abs(gy, out=gy))


def _block_means(image: np.ndarray) -> np.ndarray:
    """Mean of each block of ``GRID`` (rows x columns); sizes are exact multiples of it, so
    OpenCV's area resize is an exact block average (and several times faster than numpy's)."""
    return cv2.resize(image, GRID, interpolation=cv2.INTER_AREA)


def block_view(image: np.ndarray) -> np.ndarray:
    """``image`` (a size multiple of ``GRID``) as rows x columns x pixels of each block."""
    columns, rows = GRID
    height, width = image.shape
    blocks = image.reshape(rows, height // rows, columns, width // columns).transpose(0, 2, 1, 3)
    return blocks.reshape(rows, columns, -1)


def _structure(small: np.ndarray) -> np.ndarray:
    """Local contrast of the small image: detail over its neighbourhood's spread.

    What stays of a scene when light changes (gain, gamma, day/night): phase correlation on it
    finds a camera's move whatever the exposure.
    """
    # Gaussian, not box, filters: a box's ringing made noise look like structure in tests.
    local = cv2.GaussianBlur(small, (13, 13), 3.0)  # kernels cut at 2 sigma: half the taps
    detail = small - local
    spread = cv2.sqrt(cv2.GaussianBlur(detail * detail, (25, 25), 6.0)) + 2.0
    return detail / spread


def features(image: np.ndarray) -> Features:
    """Measure a validated uint8 image (H x W grey, or H x W x 3 BGR)."""
    half = halve_to(image, HALF_SIZE)
    if half.ndim == 3:
        half = cv2.cvtColor(half, cv2.COLOR_BGR2GRAY)
    half_f = half.astype(np.float32)
    work = halve_to(half_f, WORK_SIZE)
    small = halve_to(work, SMALL_SIZE)

    work_grad = _gradient(work)
    small_grad = _gradient(small)
    work_blocks = _block_means(work_grad)
    block_mean = _block_means(work)
    small_blocks = _block_means(small_grad)
    # Sharpness from the most detailed tenth of the blocks: blur flattens their edges, while the
    # sensor noise a Laplacian of the full frame would mostly measure is averaged away here.
    top = GRID[0] * GRID[1] // 10
    fine = float(np.partition(work_blocks.ravel(), -top)[-top:].mean())
    # The flattest tenth of the blocks shows mostly noise: its texture estimates the noise.
    noise = quantile(work_blocks, 0.1)
    mean, std = cv2.meanStdDev(small)
    washed = work >= SATURATED
    return Features(
        grey=work,
        edges=_structure(small),
        block_texture=small_blocks,
        block_mean=block_mean,
        mean=float(mean[0, 0]),
        std=float(std[0, 0]),
        p99=grey_quantile(small, 0.99),
        saturated=float(np.count_nonzero(washed)) / work.size,
        flat=float(np.count_nonzero(work_grad < DIGITAL_FLAT)) / work.size,
        fine=fine,
        noise=noise,
        brightness=quantile(block_mean, 0.5),
        contrast=_scene_contrast(small),
        fine_share=_fine_share(work_blocks, small_blocks, washed),
    )


def _fine_share(work_blocks: np.ndarray, small_blocks: np.ndarray, washed: np.ndarray) -> float:
    """:attr:`Features.fine_share` from the blocks' gradients at both scales."""
    lamps = _block_means(washed.astype(np.float32)).ravel() > 0
    work = work_blocks.ravel()
    candidates = np.where(lamps, -1.0, work)
    top = GRID[0] * GRID[1] // 10
    sharpest = np.argpartition(candidates, -top)[-top:]
    return float(work[sharpest].mean() / (small_blocks.ravel()[sharpest].mean() + 1e-3))


def _scene_contrast(small: np.ndarray) -> float:
    """Standard deviation of ``small`` over its slow light changes, lamps left out.

    Why: sharpness is detail over contrast, and the frame's plain standard deviation counts the
    light as contrast. A car's headlights at night (saturated discs, halos, a beam on the road)
    doubled it and made a sharp picture look blurred. Subtracting the light (a wide Gaussian)
    and leaving out the washed-out pixels' neighbourhoods keeps the scene's own contrast, which
    a blur lowers far less than the fine detail.
    """
    light = cv2.GaussianBlur(small, (41, 41), CONTRAST_SIGMA)  # cut at 2 sigma, as elsewhere
    scene = small - light
    lamps = cv2.dilate(cv2.compare(small, SATURATED, cv2.CMP_GE), _LAMP_MARGIN)
    keep = cv2.bitwise_not(lamps)
    if cv2.countNonZero(keep) < keep.size // 4:  # mostly washed out: glare judges it
        keep = None
    _mean, deviation = cv2.meanStdDev(scene, mask=keep)
    return float(deviation[0, 0])
