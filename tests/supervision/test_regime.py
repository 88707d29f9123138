"""The lighting regime of a snapshot, told from its JPEG's colour, on real photographs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from supervision.regime import NIGHT_CHROMA, chroma, regime_of, snapshot_chroma
from tests.helpers import picture_faults as pf


@pytest.fixture(scope="module")
def day() -> np.ndarray:
    return pf.view(pf.scene("coffee"))


def _jpeg(frame: np.ndarray, quality: int = 80) -> bytes:
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return data.tobytes()


def test_a_colour_snapshot_is_day_even_at_dusk(day) -> None:
    rng = np.random.default_rng(1)
    for gain in (1.0, 0.3):
        measured = snapshot_chroma(_jpeg(pf.sensor(pf.light(day, gain), rng, 4.0)))
        assert measured is not None and measured > 2 * NIGHT_CHROMA
        assert regime_of(measured) == "day"


def test_an_infrared_snapshot_is_night_whether_encoded_grey_or_in_colour(day) -> None:
    ir = pf.night(day, np.random.default_rng(2))  # grey, sent as a three-channel JPEG
    assert snapshot_chroma(_jpeg(ir)) < NIGHT_CHROMA / 4
    grey = cv2.cvtColor(ir, cv2.COLOR_BGR2GRAY)  # a one-component JPEG
    assert snapshot_chroma(_jpeg(grey)) == 0.0
    assert regime_of(snapshot_chroma(_jpeg(ir))) == "night"


def test_the_reduced_decode_measures_what_the_full_picture_shows(day) -> None:
    content = _jpeg(day)
    full = cv2.imdecode(np.frombuffer(content, np.uint8), cv2.IMREAD_COLOR)
    assert snapshot_chroma(content) == pytest.approx(chroma(full), rel=0.15)


def test_no_colour_and_no_picture() -> None:
    assert chroma(np.zeros((20, 30), np.uint8)) == 0.0
    assert chroma(np.zeros((20, 30, 1), np.uint8)) == 0.0
    assert snapshot_chroma(b"") is None
    assert snapshot_chroma(b"not a jpeg") is None
    assert regime_of(None) == "day"
