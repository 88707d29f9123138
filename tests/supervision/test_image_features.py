"""The fast forms in supervision._image_features compute what their plain numpy forms do."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from supervision._image_features import (
    GRID,
    _block_means,
    _gradient,
    block_view,
    grey_quantile,
    quantile,
)


@pytest.mark.parametrize("size", [1, 2, 144, 32_400])
@pytest.mark.parametrize("q", [0.0, 0.05, 0.1, 0.5, 0.9, 0.99, 1.0])
def test_quantile_is_numpy_percentile(size, q) -> None:
    values = np.random.default_rng(size).normal(100, 40, size).astype(np.float32)
    assert quantile(values, q) == pytest.approx(np.percentile(values, 100 * q), abs=1e-4)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("q", [0.0, 0.1, 0.5, 0.99, 1.0])
def test_grey_quantile_is_quantile_to_the_bit(seed, q) -> None:
    """On grey levels (area averages, a flat picture, ties, one washed-out pixel), on values
    outside 0-255 and on a single value."""
    rng = np.random.default_rng(seed)
    pictures = [
        cv2.resize(
            rng.integers(0, 256, (540, 960), dtype=np.uint8).astype(np.float32),
            (240, 135),
            interpolation=cv2.INTER_AREA,
        ),
        np.full((135, 240), rng.uniform(0, 255), np.float32),
        np.round(rng.uniform(0, 255, (135, 240))).astype(np.float32),
        np.where(rng.random((135, 240)) < 1e-4, 255.0, 3.0).astype(np.float32),
        rng.normal(100, 300, (135, 240)).astype(np.float32),
        np.array([7.5], np.float32),
    ]
    for values in pictures:
        assert grey_quantile(values, q) == quantile(values, q)


def test_gradient_is_half_the_sum_of_central_differences() -> None:
    grey = np.random.default_rng(1).uniform(0, 255, (270, 480)).astype(np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=1)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=1)
    np.testing.assert_allclose(_gradient(grey), (np.abs(gx) + np.abs(gy)) / 2, atol=1e-4)


def test_block_means_and_views_follow_the_grid() -> None:
    image = np.random.default_rng(2).uniform(0, 255, (135, 240)).astype(np.float32)
    columns, rows = GRID
    expected = image.reshape(rows, 135 // rows, columns, 240 // columns).mean(axis=(1, 3))
    np.testing.assert_allclose(_block_means(image), expected, rtol=1e-5)
    np.testing.assert_allclose(block_view(image).mean(axis=2), expected, rtol=1e-5)
    assert block_view(image).shape == (rows, columns, (135 // rows) * (240 // columns))
