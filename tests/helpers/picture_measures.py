"""Measures of a snapshot shared by the simulator's tests: detail, and likeness to a scene."""

from __future__ import annotations

import cv2
import numpy as np


def sharpness(picture: np.ndarray) -> float:
    """Variance of the Laplacian: fine detail, which a blur removes."""
    return float(cv2.Laplacian(cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of the grey levels: insensitive to the light changing."""
    grey = [cv2.cvtColor(x, cv2.COLOR_BGR2GRAY).astype(float).ravel() for x in (a, b)]
    return float(np.corrcoef(grey[0], grey[1])[0, 1])


def dark_cover_share(picture: np.ndarray) -> float:
    """Share of the picture that is the cover's dark surface (BGR about 38, 36, 40)."""
    return float(np.all(np.abs(picture.astype(int) - (38, 36, 40)) < 16, axis=2).mean())


def saturated_share(picture: np.ndarray) -> float:
    """Share of the picture that is white in every channel (glare)."""
    return float((picture.min(axis=2) > 245).mean())
