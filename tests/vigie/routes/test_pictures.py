"""Snapshot on demand, reference reset and picture health in the camera detail, against the
simulator's real JPEGs stored by a real supervisor run; both databases."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.helpers.service import Service
from tests.helpers.statements import statements
from tests.helpers.supervision_data import add_cameras
from tests.helpers.supervisor_harness import World, until, world
from vigie import db
from vigie.api import create_app
from vigie.models import AuditEvent, CameraPicture

REASON = {"reason": "intervention 2026-118, accident RD 613"}


def _learned(w: World) -> bool:
    with w.sessions() as session:
        row = session.get(CameraPicture, "cam-0")
        return row is not None and row.snapshot is not None and row.reference_frames >= 2


@pytest.fixture
def pictured(tmp_path: Path, database_url: str) -> Iterator[tuple[World, Service]]:
    """Cameras supervised until cam-0 has a snapshot and a reference; then the API over it."""
    with world(tmp_path, database_url, cameras=2, faults={}) as w:

        async def supervise() -> None:
            async with w.supervisor():
                await until(lambda: _learned(w))

        asyncio.run(supervise())
        with TestClient(create_app(w.settings)) as client:
            yield w, Service(client=client, settings=w.settings, engine=w.engine)


def _audits(w: World, action: str) -> list[AuditEvent]:
    with w.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _jpeg(content: bytes) -> np.ndarray:
    picture = cv2.imdecode(np.frombuffer(content, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None and picture.shape[2] == 3
    return picture


def test_the_last_snapshot_is_a_real_jpeg_and_its_view_is_audited(pictured) -> None:
    w, service = pictured
    url = "/api/v1/cameras/cam-0/snapshot"
    operator = service.headers("operator")
    response = service.client.post(url, headers=operator, json=REASON)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-snapshot-time"].endswith("+00:00")
    assert _jpeg(response.content).shape[:2] == (360, 640)
    (event,) = _audits(w, "camera.snapshot")
    assert (event.actor, event.object_id, event.reason) == ("operator", "cam-0", REASON["reason"])
    assert '"fresh": false' in event.detail
    # The gendarmerie may view too; a commune may not.
    assert service.client.post(url, headers=service.headers("gendarme"), json=REASON).is_success
    commune = service.client.post(url, headers=service.headers("mairie-27056"), json=REASON)
    assert commune.status_code == 403


@pytest.mark.parametrize("reason", [None, "", "x", "aaaaaaaaaaaaaaa", "   .....   ..   "])
def test_no_picture_without_a_real_reason(service: Service, reason: str | None) -> None:
    add_cameras(service.engine)
    body = {} if reason is None else {"reason": reason}
    response = service.client.post(
        "/api/v1/cameras/cam-a1/snapshot", headers=service.headers("operator"), json=body
    )
    assert response.status_code == 422
    assert "reason" in response.text
    with db.session_scope(db.session_factory(service.engine)) as session:
        viewed = select(AuditEvent).where(AuditEvent.action == "camera.snapshot")
        assert session.scalars(viewed).all() == []


def test_no_snapshot_yet_is_a_clear_404(service: Service) -> None:
    add_cameras(service.engine)
    response = service.client.post(
        "/api/v1/cameras/cam-a1/snapshot", headers=service.headers("operator"), json=REASON
    )
    assert response.status_code == 404
    assert "cam-a1" in response.json()["detail"] and "fresh" in response.json()["detail"]


def test_a_fresh_snapshot_comes_from_the_camera_and_replaces_the_last(pictured) -> None:
    w, service = pictured
    with w.sessions() as session:
        before = session.get(CameraPicture, "cam-0").snapshot_at
    response = service.client.post(
        "/api/v1/cameras/cam-0/snapshot",
        headers=service.headers("operator"),
        json={**REASON, "fresh": True},
    )
    assert response.status_code == 200, response.text
    _jpeg(response.content)
    with w.sessions() as session:
        assert session.get(CameraPicture, "cam-0").snapshot_at > before
    (event,) = _audits(w, "camera.snapshot")
    assert '"fresh": true' in event.detail


def test_a_fresh_snapshot_of_an_unreachable_camera_is_a_clear_error(pictured) -> None:
    w, service = pictured
    w.set_fault(1, {"kind": "offline"})
    response = service.client.post(
        "/api/v1/cameras/cam-1/snapshot",
        headers=service.headers("operator"),
        json={**REASON, "fresh": True},
    )
    assert response.status_code == 502
    assert "camera cam-1" in response.json()["detail"]
    assert _audits(w, "camera.snapshot") == []


def test_the_reference_reset_forgets_it_and_is_audited(pictured) -> None:
    w, service = pictured
    response = service.client.post(
        "/api/v1/cameras/cam-0/reference/reset",
        headers=service.headers("operator"),
        json={"reason": "camera re-aimed at the roundabout"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["forgotten_frames"] >= 2
    with w.sessions() as session:
        row = session.get(CameraPicture, "cam-0")
        assert row.reference is None and row.reference_frames == 0
    (event,) = _audits(w, "camera.reference_reset")
    assert event.actor == "operator" and event.object_id == "cam-0"

    async def relearn() -> None:  # the next healthy snapshots become the reference
        async with w.supervisor():
            await until(lambda: _learned(w))

    asyncio.run(relearn())


def test_the_camera_detail_shows_the_picture_verdict_with_scores(pictured) -> None:
    _w, service = pictured
    headers = service.headers("operator")
    with statements() as seen:  # the app's own engine too
        response = service.client.get("/api/v1/status/cam-0", headers=headers)
    assert response.status_code == 200, response.text
    # The verdict only: not the references, the previous picture nor the snapshot's ciphertext.
    read = [s.split(" FROM ")[0] for s in seen if "FROM camera_pictures" in s]
    assert read and "camera_pictures.judged" in read[0], seen
    for column in ("snapshot", "reference", "previous"):
        assert not any(re.search(rf"camera_pictures\.{column}\b(?!_)", s) for s in read), read
    detail = response.json()
    picture = detail["picture"]
    assert picture["problems"] == []
    assert {"video_loss", "frozen", "blurred", "covered", "glare"} <= set(picture["scores"])
    assert all(score < 1 for score in picture["scores"].values())
    assert picture["reference_frames"] >= 2
    full = [c for c in detail["checks"] if c["kind"] == "full"]
    assert full and full[0]["observed"]["clock_offset_s"] is not None
    assert full[0]["observed"]["resolution"] == [1920, 1080]
    # The simulator sends colour snapshots: day pictures, judged by the day reference.
    assert picture["regime"] == "day" and picture["reference_regime"] == "day"
    assert picture["learned"]["day"] == picture["reference_frames"]
    assert picture["learned"]["night"] == 0 and picture["reference_target"] == 3
    assert picture["seen"] == {}
    assert full[0]["observed"]["picture_regime"] == "day"
    assert full[0]["observed"]["picture_seen"] == {}


def test_the_camera_detail_says_what_was_seen_and_which_reference_judged(pictured) -> None:
    """What the supervisor stored of a verdict reaches the API as it is; a row stored before
    the regimes shows its reference as the day one."""
    w, service = pictured
    judged = {
        "regime": "night",
        "reference_regime": "day",
        "learned": {"day": 3, "night": 1},
        "seen": {"covered": {"share": 0.32}},
    }
    with db.session_scope(w.sessions) as session:
        row = session.get(CameraPicture, "cam-0")
        row.judged, frames = judged, row.reference_frames
    picture = service.client.get(
        "/api/v1/status/cam-0", headers=service.headers("operator")
    ).json()["picture"]
    assert {key: picture[key] for key in judged} == judged
    with db.session_scope(w.sessions) as session:
        session.get(CameraPicture, "cam-0").judged = None
    picture = service.client.get(
        "/api/v1/status/cam-0", headers=service.headers("operator")
    ).json()["picture"]
    assert picture["regime"] is None and picture["seen"] == {}
    assert picture["learned"] == {"day": frames, "night": 0}
