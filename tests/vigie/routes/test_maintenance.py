"""/api/v1/maintenance: plan, list, delete windows; they put the camera in MAINTENANCE."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from supervision.states import Policy
from tests.helpers.service import Service
from tests.helpers.supervision_data import down
from vigie import db
from vigie.clock import utcnow
from vigie.models import AuditEvent, IncidentRow
from vigie.supervisor.store import apply_result


def window(camera_id: str, hours: tuple[int, int], reason: str = "lens cleaning") -> dict:
    now = utcnow()
    return {
        "camera_id": camera_id,
        "start": (now + timedelta(hours=hours[0])).isoformat(),
        "end": (now + timedelta(hours=hours[1])).isoformat(),
        "reason": reason,
    }


def test_create_list_delete_audited(supervised: Service) -> None:
    headers = supervised.headers("operator")
    created = supervised.client.post(
        "/api/v1/maintenance", headers=headers, json=window("cam-a2", (1, 3))
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["camera_id"], body["created_by"], body["reason"]) == (
        "cam-a2",
        "operator",
        "lens cleaning",
    )
    listed = supervised.client.get("/api/v1/maintenance", headers=headers).json()
    assert [w["id"] for w in listed] == [body["id"]]
    detail = supervised.client.get("/api/v1/status/cam-a2", headers=headers).json()
    assert [w["id"] for w in detail["maintenance"]] == [body["id"]]
    url = f"/api/v1/maintenance/{body['id']}"
    assert supervised.client.delete(url, headers=headers).status_code == 204
    assert supervised.client.delete(url, headers=headers).status_code == 404
    assert supervised.client.get("/api/v1/maintenance", headers=headers).json() == []
    with db.session_scope(db.session_factory(supervised.engine)) as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("maintenance.%"))
        ).all()
        assert actions == ["maintenance.create", "maintenance.delete"]


def test_bad_windows_are_refused(supervised: Service) -> None:
    headers = supervised.headers("admin")
    backwards = supervised.client.post(
        "/api/v1/maintenance", headers=headers, json=window("cam-a2", (3, 1))
    )
    assert backwards.status_code == 422
    assert backwards.headers["content-type"] == "application/problem+json"
    missing = supervised.client.post(
        "/api/v1/maintenance", headers=headers, json=window("cam-zz", (1, 2))
    )
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no camera cam-zz"
    naive = window("cam-a2", (1, 2)) | {
        "start": "2027-01-01T10:00:00",
        "end": "2027-01-01T11:00:00",
    }
    assert (
        supervised.client.post("/api/v1/maintenance", headers=headers, json=naive).status_code
        == 422
    )


def test_a_window_suppresses_incidents_from_the_next_check(supervised: Service) -> None:
    headers = supervised.headers("operator")
    created = supervised.client.post(
        "/api/v1/maintenance", headers=headers, json=window("cam-a2", (-1, 1))
    )
    assert created.status_code == 201
    now = utcnow()
    with db.session_scope(db.session_factory(supervised.engine)) as session:
        for index in range(4):
            result = down("cam-a2", now + timedelta(seconds=30 * index))
            apply_result(session, "cam-a2", result, Policy(), result.time)
    status = supervised.client.get("/api/v1/status/cam-a2", headers=headers).json()
    assert status["state"] == "maintenance"
    with db.session_scope(db.session_factory(supervised.engine)) as session:
        keys = session.scalars(select(IncidentRow.key).where(IncidentRow.camera_id == "cam-a2"))
        assert keys.all() == []
