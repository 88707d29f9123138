"""A camera's pictures between two full checks (``vigie.supervisor.pictures``), on both
databases: real photographs, real encryption, the statements each check costs."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
from sqlalchemy import delete
from sqlalchemy.engine import Engine

from supervision.imaging import ImageReport, Reference, RegimeReferences, assess
from tests.helpers import picture_faults as pf
from tests.helpers.statements import statements
from tests.helpers.supervision_data import T0, add_cameras
from vigie import db
from vigie.credentials import KeyRing
from vigie.models import Camera, CameraPicture
from vigie.supervisor.pictures import last_snapshot, load_memory, reset_reference, save_check

CAMERA = "cam-a1"


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    base = pf.view(pf.scene("coffee"))
    rng = np.random.default_rng(31)
    return [pf.camera(base, rng) for _ in range(4)]


@pytest.fixture
def keys() -> KeyRing:
    return KeyRing([("k1", os.urandom(32))])


def _jpeg(frame: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return data.tobytes()


def _check(
    engine: Engine,
    keys: KeyRing,
    frame: np.ndarray,
    *,
    learn: bool = True,
    camera_id: str = CAMERA,
) -> tuple[bool, ImageReport]:
    """One full check's picture work, as the supervisor does it."""
    sessions = db.session_factory(engine)
    with sessions() as session:
        memory = load_memory(session, camera_id)
    report = assess(frame, memory.reference, memory.previous)
    references = memory.reference or RegimeReferences()
    current = references.of(report.regime)  # the picture's regime's reference learns it
    learned = (
        references.learned(report.regime, current.update(frame, report=report))
        if learn and not current.ready()
        else None
    )
    with db.session_scope(sessions) as session:
        stored = save_check(
            session,
            camera_id,
            keys=keys,
            loaded_frames=memory.reference_frames,
            reference=learned,
            report=report,
            jpeg=_jpeg(frame),
            at=T0,
            loaded=memory.reference,
        )
    return stored, report


def test_checks_learn_the_reference_then_keep_it(seeded, keys, frames) -> None:
    for frame in frames:
        stored, report = _check(seeded, keys, frame)
        assert stored and report.healthy
    with db.session_factory(seeded)() as session:
        memory = load_memory(session, CAMERA)
        assert memory.reference is not None and memory.reference_frames == 3
        # The first three learned it; the fourth, once it was ready, left it as it was.
        assert memory.reference.day.to_bytes() == Reference.learn(frames[:3]).to_bytes()
        assert memory.reference.night.count == 0
        assert memory.previous == report.fingerprint
        jpeg, _at = last_snapshot(session, CAMERA, keys=keys)
        assert jpeg == _jpeg(frames[-1])
        row = session.get(CameraPicture, CAMERA)
        assert row.problems == [] and set(row.scores) == set(report.scores)


def test_a_check_reads_no_snapshot_and_writes_with_one_select(seeded, keys, frames) -> None:
    _check(seeded, keys, frames[0])  # the first check creates the row
    with statements(seeded) as seen:
        _check(seeded, keys, frames[1])
    selects = [s for s in seen if s.startswith("SELECT")]
    assert len(selects) == 2, seen  # load_memory's, then the locked row to update
    assert all("snapshot" not in s.split(" FROM ")[0] for s in selects), selects
    assert not any("FROM cameras" in s for s in seen), seen
    assert sum(s.startswith("UPDATE camera_pictures") for s in seen) == 1, seen


def test_a_camera_deleted_during_its_check_stores_nothing(seeded, keys, frames) -> None:
    add_cameras(seeded, {"cam-new": "27056"})
    sessions = db.session_factory(seeded)
    _check(seeded, keys, frames[0])
    for camera_id in ("cam-new", CAMERA):  # before its first check's row, and after
        with db.session_scope(sessions) as session:
            session.execute(delete(Camera).where(Camera.id == camera_id))
        stored, _report = _check(seeded, keys, frames[1], camera_id=camera_id)
        assert not stored
        with sessions() as session:
            assert session.get(CameraPicture, camera_id) is None


def test_a_reset_during_a_check_is_not_undone(seeded, keys, frames) -> None:
    sessions = db.session_factory(seeded)
    _check(seeded, keys, frames[0])
    with sessions() as session:
        memory = load_memory(session, CAMERA)
    with db.session_scope(sessions) as session:
        assert reset_reference(session, CAMERA) == 1
    assert memory.reference is not None
    report = assess(frames[1], memory.reference, memory.previous)
    with db.session_scope(sessions) as session:
        stored = save_check(
            session,
            CAMERA,
            keys=keys,
            loaded_frames=memory.reference_frames,
            reference=memory.reference.learned(
                "day", memory.reference.day.update(frames[1], report=report)
            ),
            report=report,
            jpeg=_jpeg(frames[1]),
            at=T0,
        )
    assert stored
    with sessions() as session:
        after = load_memory(session, CAMERA)
        assert after.reference is None and after.reference_frames == 0
        assert after.previous == report.fingerprint  # the rest of the check is stored
        assert last_snapshot(session, CAMERA, keys=keys)[0] == _jpeg(frames[1])
        # What it judged is stored; not the stale references' counts.
        assert session.get(CameraPicture, CAMERA).judged["learned"] is None


def test_night_pictures_learn_their_own_reference_and_say_which_judged(
    seeded, keys, frames
) -> None:
    """Colour day pictures learn the day reference, infrared ones (grey) the night one: judged
    against the day reference until the night one judges. Reset forgets both."""
    rng = np.random.default_rng(32)
    base = pf.view(pf.scene("coffee"))
    night = [pf.jpeg(pf.night(base, rng), 80) for _ in range(3)]
    for frame in frames[:3]:
        _check(seeded, keys, frame)
    sessions = db.session_factory(seeded)
    expected = [("day", {"day": 3, "night": 1}), ("night", {"day": 3, "night": 2})]
    for frame, (judge, learned) in zip(night, expected, strict=False):
        stored, report = _check(seeded, keys, frame)
        assert stored and report.healthy and report.regime == "night"
        assert report.reference_regime == judge
        with sessions() as session:
            row = session.get(CameraPicture, CAMERA)
            assert row.judged["regime"] == "night" and row.judged["reference_regime"] == judge
            assert row.judged["learned"] == learned and row.reference_frames == sum(
                learned.values()
            )
    with sessions() as session:
        memory = load_memory(session, CAMERA)
        assert memory.reference.counts == {"day": 3, "night": 2}
    # A covered picture: the row says what was seen.
    _stored, report = _check(seeded, keys, pf.camera(pf.covered(base, rng, "bag", 0.6), rng))
    assert report.problems == {"covered"}
    with sessions() as session:
        seen = session.get(CameraPicture, CAMERA).judged["seen"]
        assert seen == {"covered": dict(report.seen["covered"])}
    with db.session_scope(sessions) as session:
        assert reset_reference(session, CAMERA) == 5
    with sessions() as session:
        memory = load_memory(session, CAMERA)
        assert memory.reference is None and session.get(CameraPicture, CAMERA).judged is None


def test_a_reference_stored_before_the_regimes_is_read_as_the_day_one(seeded, keys, frames) -> None:
    single = Reference.learn(frames[:3])
    sessions = db.session_factory(seeded)
    _check(seeded, keys, frames[0], learn=False)
    with db.session_scope(sessions) as session:
        row = session.get(CameraPicture, CAMERA)
        row.reference, row.reference_frames = single.to_bytes(), 3  # format 3
    with sessions() as session:
        memory = load_memory(session, CAMERA)
    assert memory.reference.counts == {"day": 3, "night": 0}
    assert memory.reference.day.to_bytes() == single.to_bytes()
    _stored, report = _check(seeded, keys, frames[3])
    assert report.healthy and report.reference_regime == "day"
