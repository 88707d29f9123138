"""One decoding of a snapshot into its grey and its colour (libturbojpeg), against OpenCV's two."""

from __future__ import annotations

import io
import logging
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data as skimage_data

from supervision import jpeg
from supervision.regime import NIGHT_CHROMA, regime_of
from tests.helpers import picture_faults as pf
from tests.helpers.paths import REPO

SAMPLINGS = {
    "4:2:0": [],
    "4:4:4": [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444],
    "4:2:2": [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422],
    "progressive": [cv2.IMWRITE_JPEG_PROGRESSIVE, 1],
}


@pytest.fixture(scope="module")
def frames() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    day = pf.sensor(pf.view(pf.scene("coffee")), rng, 3.0)
    return {
        "day": day,
        "dusk": pf.sensor(pf.light(pf.view(pf.scene("chelsea")), 0.25), rng, 4.0),
        "night": pf.night(day, rng),
    }


def _jpeg(frame: np.ndarray, params: list[int] | tuple[int, ...] = (), quality: int = 80) -> bytes:
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality, *params])
    assert ok
    return data.tobytes()


def test_this_machine_decodes_snapshots_once() -> None:
    # scripts/system-packages installs libturbojpeg0; without it the tests below would only
    # compare OpenCV with itself.
    assert jpeg.backend() == "libturbojpeg"


@pytest.mark.parametrize("sampling", SAMPLINGS)
@pytest.mark.parametrize("light", ["day", "dusk", "night"])
def test_one_decoding_gives_opencvs_grey_and_colour(frames, light: str, sampling: str) -> None:
    content = _jpeg(frames[light], SAMPLINGS[sampling])
    grey, chroma = jpeg.decode(content)
    twice_grey, twice_chroma = jpeg.decode_twice(content)
    assert grey is not None and twice_grey is not None and chroma is not None
    assert grey.dtype == np.uint8 and grey.shape == (1080, 1920) and grey.flags.c_contiguous
    assert np.array_equal(grey, twice_grey)  # the same luma plane, to the bit
    assert chroma == pytest.approx(twice_chroma, rel=0.02, abs=0.05)  # near 1 (the threshold): 0.05
    assert (chroma < NIGHT_CHROMA) == (light == "night")


THIRD_PARTY = sorted((REPO / "benchmarks" / "imaging" / "field" / "photos").glob("*.jpg")) + [
    Path(skimage_data.__file__).parent / name
    for name in ("hubble_deep_field.jpg", "retina.jpg", "rocket.jpg")
]
"""JPEGs nobody here encoded: the field set's street photographs, as their cameras and tools
wrote them (field/photos/SOURCES.md), and scikit-image's sample photographs."""


@pytest.mark.parametrize("path", THIRD_PARTY, ids=lambda path: path.stem)
def test_jpegs_written_elsewhere_decode_as_opencv_decodes_them(path: Path) -> None:
    content = path.read_bytes()
    grey, chroma = jpeg.decode(content)
    twice_grey, twice_chroma = jpeg.decode_twice(content)
    assert grey is not None and np.array_equal(grey, twice_grey)
    # No round trip through clipped BGR: up to 10 % apart on a nearly black picture (hubble).
    assert chroma == pytest.approx(twice_chroma, rel=0.12, abs=0.05)
    assert regime_of(chroma) == regime_of(twice_chroma)


@pytest.mark.parametrize("size", [(1279, 721), (641, 359), (8, 8), (1, 1)])
def test_odd_sizes_decode_to_their_own_size(frames, size: tuple[int, int]) -> None:
    content = _jpeg(cv2.resize(frames["day"], size, interpolation=cv2.INTER_AREA))
    grey, chroma = jpeg.decode(content)
    twice_grey, twice_chroma = jpeg.decode_twice(content)
    assert grey is not None and grey.shape == (size[1], size[0]) and grey.flags.c_contiguous
    assert np.array_equal(grey, twice_grey)
    assert chroma == pytest.approx(twice_chroma, abs=0.5)


def test_a_grey_jpeg_has_no_colour(frames) -> None:
    content = _jpeg(cv2.cvtColor(frames["night"], cv2.COLOR_BGR2GRAY))  # one component
    grey, chroma = jpeg.decode(content)
    assert chroma == 0.0
    assert np.array_equal(grey, jpeg.decode_twice(content)[0])


def test_a_cmyk_jpeg_is_left_to_opencv(frames) -> None:
    # TurboJPEG cannot give a CMYK JPEG's planes as luma and chroma: OpenCV decides, as before.
    rgb = Image.fromarray(cv2.cvtColor(frames["day"][:360, :640], cv2.COLOR_BGR2RGB))
    buffer = io.BytesIO()
    rgb.convert("CMYK").save(buffer, "JPEG", quality=90)
    content = buffer.getvalue()
    grey, chroma = jpeg.decode(content)
    twice_grey, twice_chroma = jpeg.decode_twice(content)
    assert grey is not None and np.array_equal(grey, twice_grey)
    assert chroma == twice_chroma and chroma is not None and chroma > NIGHT_CHROMA


@pytest.mark.parametrize(
    "content",
    [b"", b"\xff\xd8", b"GIF89a....", b"\xff\xd8\xff\xe0\x00"],
    ids=["empty", "only-start", "not-jpeg", "cut-segment"],
)
def test_broken_jpegs_do_not_decode(content: bytes) -> None:
    assert jpeg.decode(content) == (None, None)


def test_a_cut_snapshot_does_not_decode_either_way(frames) -> None:
    content = _jpeg(frames["day"])
    cut = content[: len(content) // 2]
    assert jpeg.decode_twice(cut) == (None, None)  # OpenCV refuses it
    assert jpeg.decode(cut) == (None, None)  # TurboJPEG's warning: left to OpenCV


def _with_size(content: bytes, width: int, height: int) -> bytes:
    """``content`` with its frame header (SOF0) claiming another size."""
    at = content.index(b"\xff\xc0")
    return content[: at + 5] + struct.pack(">HH", height, width) + content[at + 9 :]


def test_a_header_claiming_a_huge_picture_is_refused_before_allocating(frames, caplog) -> None:
    content = _with_size(_jpeg(frames["day"][:64, :64]), 60000, 60000)
    with caplog.at_level(logging.WARNING, logger="supervision.jpeg"):
        assert jpeg.decode(content) == (None, None)
    assert "60000x60000" in caplog.text


def test_without_libturbojpeg_opencv_decodes_twice(frames, monkeypatch, caplog) -> None:
    content = _jpeg(frames["dusk"])
    expected = jpeg.decode(content)
    jpeg._turbojpeg.cache_clear()
    monkeypatch.setattr(jpeg.ctypes.util, "find_library", lambda name: f"lib{name}-absent.so.0")
    try:
        with caplog.at_level(logging.WARNING, logger="supervision.jpeg"):
            assert jpeg.backend() == "opencv"
            grey, chroma = jpeg.decode(content)
        assert "libturbojpeg0" in caplog.text
        assert np.array_equal(grey, expected[0])
        assert chroma == pytest.approx(expected[1], abs=0.1)
    finally:
        jpeg._turbojpeg.cache_clear()
