"""Day and night references, and what a report says was seen, on real photographs."""

from __future__ import annotations

import numpy as np
import pytest

from supervision import imaging
from supervision.imaging import (
    REGIME_REFERENCE_FORMAT,
    ImageError,
    Reference,
    RegimeReferences,
    assess,
)
from tests.helpers import picture_faults as pf


def _night(base: np.ndarray, seed: int) -> np.ndarray:
    return pf.jpeg(pf.night(base, np.random.default_rng(seed)), 80)


def test_a_night_picture_is_judged_by_the_day_reference_until_its_own_judges(
    base, reference
) -> None:
    references = RegimeReferences(day=reference)
    night = _night(base, 2)
    report = assess(night, references)
    assert report.regime == "night" and report.reference_regime == "day"
    assert not report.problems  # today's single-reference verdict, which holds at the switch
    references = references.learned("night", references.night.update(night, report=report))
    assert references.counts == {"day": 3, "night": 1}
    later = assess(_night(base, 3), references, night)
    assert later.regime == "night" and later.reference_regime == "night"
    assert not later.problems
    day = assess(pf.camera(base, np.random.default_rng(4)), references)
    assert day.regime == "day" and day.reference_regime == "day" and not day.problems
    # A plain Reference judges every picture, and says no regime's reference did.
    assert assess(night, reference).reference_regime is None


def test_a_regime_without_any_reference_falls_back_to_the_absolute_checks(base) -> None:
    report = assess(_night(base, 5), RegimeReferences())
    assert report.reference_regime is None and "displaced" in report.unjudged


def test_a_fault_at_night_is_found_against_the_night_reference(base) -> None:
    rng = np.random.default_rng(6)
    night_reference = Reference.learn([_night(base, seed) for seed in (7, 8, 9)])
    references = RegimeReferences(night=night_reference)
    covered = pf.jpeg(pf.covered(pf.night(base, rng), rng, "sticker", 0.6), 80)
    report = assess(covered, references)
    assert report.reference_regime == "night" and report.problems == {"covered"}


def test_both_references_round_trip_and_a_single_one_reads_as_day(base, reference) -> None:
    night = _night(base, 10)
    references = RegimeReferences(day=reference, night=Reference.learn([night]))
    restored = RegimeReferences.from_bytes(references.to_bytes())
    assert restored.counts == {"day": 3, "night": 1} and restored.count == 4
    assert restored.day.to_bytes() == reference.to_bytes()
    assert restored.night.to_bytes() == references.night.to_bytes()
    # A reference stored before the regimes (format 3) is the day one; the night one learns.
    single = RegimeReferences.from_bytes(reference.to_bytes())
    assert single.counts == {"day": 3, "night": 0}
    assert single.day.to_bytes() == reference.to_bytes()
    assert RegimeReferences.from_bytes(RegimeReferences().to_bytes()).count == 0
    with pytest.raises(ImageError, match=f"format {REGIME_REFERENCE_FORMAT}"):
        Reference.from_bytes(references.to_bytes())  # a pair is not one reference
    with pytest.raises(ValueError, match="unknown lighting regime"):
        references.of("dusk")


def test_a_pair_is_stored_as_its_arrays_and_one_of_format_4_is_still_read(base, reference) -> None:
    references = RegimeReferences(day=reference, night=Reference.learn([_night(base, 11)]))
    stored = references.to_bytes()
    assert stored.startswith(b"VIGIEREF") and len(stored) == 12 + 2 * 33_040
    assert stored == RegimeReferences.from_bytes(stored).to_bytes()  # nothing lost either way
    format_4 = imaging._npz(
        version=np.asarray(4),
        **references.day._arrays("day_"),
        **references.night._arrays("night_"),
    )
    assert RegimeReferences.from_bytes(format_4).to_bytes() == stored
    half = RegimeReferences(night=references.night).to_bytes()  # no day reference yet
    assert RegimeReferences.from_bytes(half).counts == {"day": 0, "night": 1}


def _with_count(stored: bytes, count: int) -> bytes:
    return stored[:12] + count.to_bytes(8, "little", signed=True) + stored[20:]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: b[:-1], "unreadable .66091 bytes, format 5 has 66092"),
        (lambda b: b + b"\0", "unreadable .66093 bytes"),
        (lambda b: b[:12], "unreadable .12 bytes"),
        (lambda b: b[:8] + (6).to_bytes(4, "little") + b[12:], "format 6; this version reads"),
        (lambda b: _with_count(b, -1), "counts -1 snapshots"),
        (lambda b: b[:10], "unreadable"),  # too short for its format: read as a zip, not one
    ],
    ids=["cut-by-one", "one-too-many", "header-only", "future-format", "negative", "cut-header"],
)
def test_a_damaged_pair_says_to_reset_it(reference, damage, message: str) -> None:
    stored = RegimeReferences(day=reference).to_bytes()
    with pytest.raises(ImageError, match=message) as caught:
        RegimeReferences.from_bytes(damage(stored))
    assert "reset" in str(caught.value)


# What was seen: the numbers behind each problem.


def test_a_shift_is_measured_in_the_picture_s_own_pixels(canvas, reference) -> None:
    for dx, dy in ((150, 0), (-200, 0), (0, 120)):
        # The camera turned right by dx: the scene moves left in its picture.
        frame = pf.camera(pf.view(canvas, dx=dx, dy=dy), np.random.default_rng(11))
        report = assess(frame, reference)
        assert report.problems == {"displaced"}
        seen = report.seen["displaced"]
        assert seen["kind"] == "shift"
        assert seen["dx"] == pytest.approx(-dx, abs=8)
        assert seen["dy"] == pytest.approx(-dy, abs=8)


def test_another_view_is_said_so(reference) -> None:
    other = pf.camera(pf.view(pf.scene("coffee")), np.random.default_rng(12))
    report = assess(other, reference)
    assert report.problems == {"displaced"}
    assert report.seen["displaced"]["kind"] == "other_view"


@pytest.mark.parametrize("area", [0.4, 0.6])
def test_a_cover_reports_its_share_of_the_picture(base, reference, area) -> None:
    rng = np.random.default_rng(13)
    frame = pf.camera(pf.covered(base, rng, "sticker", area), rng)
    report = assess(frame, reference)
    assert report.problems == {"covered"}
    assert report.seen["covered"]["share"] == pytest.approx(area, abs=0.12)


def test_glare_reports_the_washed_out_share_beyond_the_reference_s(base, reference) -> None:
    rng = np.random.default_rng(14)
    frame = pf.camera(pf.glare(base, rng, 0.45), rng)
    report = assess(frame, reference)
    assert report.problems == {"glare"}
    share = report.seen["glare"]["share"]
    excess = report.measurements.saturated - reference.saturated
    assert share == pytest.approx(excess, abs=1e-3)
    assert 0.2 < share < 0.6


def test_a_blur_reports_the_detail_left_as_a_share_of_the_reference_s(base, reference) -> None:
    sharp = assess(pf.camera(base, np.random.default_rng(15)), reference)
    assert sharp.seen == {}  # nothing to say of a healthy picture
    frame = pf.camera(pf.blurred(base, 16.0), np.random.default_rng(15))
    report = assess(frame, reference)
    assert report.problems == {"blurred"}
    assert 0.0 < report.seen["blurred"]["detail"] < 0.595


def test_video_loss_says_what_the_screen_shows(reference) -> None:
    rng = np.random.default_rng(16)
    for frame, kind in (
        (pf.black(rng), "black"),
        (pf.colour_bars(), "synthetic"),
        (pf.blue_screen(), "synthetic"),
    ):
        report = assess(frame, reference)
        assert report.problems == {"video_loss"}
        assert report.seen == {"video_loss": {"kind": kind}}


def test_a_frozen_picture_reports_how_little_it_changed(base, reference) -> None:
    shot = pf.camera(base, np.random.default_rng(17))
    report = assess(shot, reference, shot.copy())
    assert report.problems == {"frozen"}
    assert report.seen["frozen"]["difference"] == pytest.approx(0.0, abs=0.01)
