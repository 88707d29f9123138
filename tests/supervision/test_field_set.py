"""The field set of ``benchmarks/imaging/field``: its photographs, their sources and licences,
the tuning/held-out split and the frames its sequences make.

The benchmark's numbers are only worth something if every photograph may be redistributed (a
listed source and a permissive licence), if no scene seen while tuning is in the held-out part,
and if every condition really produces a camera's frame.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmarks.imaging.field import sequences as seq
from supervision.imaging import PROBLEMS
from tests.helpers import picture_faults as pf

SCENE = "lund_19"
"""One small photograph (1024x768) for the frame checks: the fast path."""


def test_every_photo_is_listed_with_an_allowed_licence_and_nothing_else() -> None:
    listed = seq.photos()
    files = sorted(p.name for p in seq.PHOTOS.iterdir() if p.name != "SOURCES.md")
    assert sorted(photo.file for photo in listed) == files, "photos/ and SOURCES.md disagree"
    assert len({photo.file for photo in listed}) == len(listed), "a photo is listed twice"
    for photo in listed:
        assert photo.licence in seq.ALLOWED_LICENCES, f"{photo.file}: licence {photo.licence!r}"
        assert "/" in photo.repository, f"{photo.file}: repository {photo.repository!r}"
        assert len(photo.commit) == 40 and int(photo.commit, 16) >= 0, photo.file
        assert photo.path and photo.credit and photo.place and photo.shows, photo.file


def test_photos_are_jpegs_within_1080p_and_the_set_stays_small() -> None:
    total = 0
    for photo in seq.photos():
        path = seq.PHOTOS / photo.file
        total += path.stat().st_size
        assert path.read_bytes()[:2] == b"\xff\xd8", f"{photo.file} is not a JPEG"
        image = cv2.imread(str(path))
        assert image is not None, photo.file
        height, width = image.shape[:2]
        assert width <= 1920 and height <= 1080, f"{photo.file} is {width}x{height}"
    assert total < 25_000_000


def test_the_split_is_disjoint_covers_every_scene_and_follows_its_rule() -> None:
    parts = seq.split()
    tuning, held_out = set(parts["tuning"]), set(parts["held_out"])
    scenes = {photo.scene for photo in seq.photos()}
    assert not tuning & held_out
    assert tuning | held_out == scenes
    assert 0.5 <= len(tuning) / len(scenes) <= 0.7
    place_of = {photo.scene: photo.place for photo in seq.photos()}
    assert not {place_of[s] for s in tuning} & {place_of[s] for s in held_out}, (
        "a place is in both parts"
    )
    assert seq.make_split(seq.photos()) == parts, "split.json no longer follows make_split"
    assert "rule" in json.loads(seq.SPLIT.read_text(encoding="utf-8"))


def test_make_split_keeps_places_whole() -> None:
    photos = [
        seq.Photo(f"{place}_{i}.jpg", "o/r", "p", "0" * 40, "CC0-1.0", "c", place, "day")
        for place, count in (("a", 3), ("b", 2), ("c", 4), ("d", 1))
        for i in range(count)
    ]
    parts = seq.make_split(photos)
    for place in "abcd":
        names = {f"{place}_{i}" for i in range(4)}
        assert not (names & set(parts["tuning"]) and names & set(parts["held_out"]))
    assert len(parts["tuning"]) <= round(seq.TUNING_SHARE * len(photos))


@pytest.fixture(scope="module")
def harmless() -> list[seq.Frame]:
    return list(seq.harmless(SCENE))


def test_every_harmless_condition_gives_camera_frames(harmless: list[seq.Frame]) -> None:
    conditions = {frame.condition for frame in harmless}
    assert conditions == set(seq.CONDITIONS) - set(seq.REAL_WEATHER.values())
    for frame in harmless:
        assert frame.label == ""
        for image in (frame.image, frame.previous):
            assert image.dtype == np.uint8
            assert image.shape == (pf.FRAME[1], pf.FRAME[0], 3), frame.variant
        assert not np.array_equal(frame.image, frame.previous), frame.variant


def test_night_frames_are_grey_noisy_and_lamps_saturate(harmless: list[seq.Frame]) -> None:
    day = next(f for f in harmless if f.condition == "day").image
    night = next(f for f in harmless if f.variant == "ir 0.45").image
    b, g, r = cv2.split(night.astype(np.int16))
    assert np.abs(b - g).max() <= 12 and np.abs(g - r).max() <= 12, "IR night is not grey"
    assert night.mean() < day.mean() * 0.7
    assert np.count_nonzero(night >= 250) > 50, "no lamp blooms"
    lights = next(f for f in harmless if f.variant == "ir headlights at 40%").image
    assert np.count_nonzero(lights >= 250) > np.count_nonzero(night >= 250) + 2000


def test_the_switch_frames_are_judged_with_the_other_regime(harmless: list[seq.Frame]) -> None:
    switch = {f.variant: f for f in harmless if f.condition == "switch"}
    assert set(switch) == {"day -> ir", "ir -> day", "dusk -> ir", "ir -> dawn"}

    def grey(image: np.ndarray) -> bool:
        return bool(np.abs(image[:, :, 0].astype(int) - image[:, :, 2]).max() <= 12)

    assert grey(switch["day -> ir"].image) and not grey(switch["day -> ir"].previous)
    assert not grey(switch["ir -> day"].image) and grey(switch["ir -> day"].previous)


def test_faults_cover_every_problem_on_day_and_infrared() -> None:
    frames = list(seq.faults(SCENE))
    labels = {frame.label for frame in frames}
    assert labels == set(PROBLEMS)
    for problem in PROBLEMS:
        regimes = {f.condition for f in frames if f.label == problem}
        assert {"day", "ir"} <= regimes, f"{problem} only in {regimes}"
    for frame in frames:
        assert frame.image.dtype == np.uint8
        assert frame.image.shape[:2] == (pf.FRAME[1], pf.FRAME[0])


def test_rendering_is_fixed_by_scene_and_seed() -> None:
    first = next(iter(seq.harmless(SCENE, seed=3)))
    again = next(iter(seq.harmless(SCENE, seed=3)))
    other = next(iter(seq.harmless(SCENE, seed=4)))
    assert np.array_equal(first.image, again.image)
    assert not np.array_equal(first.image, other.image)


def test_photo_canvas_keeps_the_scene_helpers_behaviour() -> None:
    photo = np.zeros((300, 400, 3), np.uint8)
    photo[:, 200:] = 255
    canvas = pf.photo_canvas(photo)
    assert canvas.shape == (pf.CANVAS[1], pf.CANVAS[0], 3)
    assert canvas[:, : pf.CANVAS[0] // 2 - 20].max() == 0
    assert Path(seq.PHOTOS / f"{SCENE}.jpg").exists()
