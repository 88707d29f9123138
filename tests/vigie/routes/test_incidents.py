"""/api/v1/incidents: filters, pagination, scope, and the operator's acknowledgement."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.helpers.service import Service
from tests.helpers.supervision_data import OUTAGE, STEP, feed, ok
from vigie import db
from vigie.models import AuditEvent, SupervisionEvent


def incidents(service: Service, username: str, query: str = "") -> dict:
    response = service.client.get(f"/api/v1/incidents{query}", headers=service.headers(username))
    assert response.status_code == 200, response.text
    return response.json()


def incident_id(service: Service, camera_id: str) -> int:
    (item,) = incidents(service, "operator", f"?camera={camera_id}")["items"]
    return item["id"]


def test_filters_and_pagination(supervised: Service) -> None:
    page = incidents(supervised, "operator")
    assert page["total"] == 2
    assert {i["key"] for i in page["items"]} == {"cam-a1/1", "cam-b1/1"}
    assert incidents(supervised, "operator", "?status=open")["total"] == 2
    assert incidents(supervised, "operator", "?status=closed")["total"] == 0
    assert [
        i["camera_id"] for i in incidents(supervised, "operator", "?commune=27681")["items"]
    ] == ["cam-b1"]
    one = incidents(supervised, "operator", "?limit=1&offset=1")
    assert (one["total"], len(one["items"]), one["offset"]) == (2, 1, 1)
    before = (OUTAGE - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert incidents(supervised, "operator", f"?until={before}")["total"] == 0
    assert incidents(supervised, "operator", f"?since={before}")["total"] == 2
    naive = supervised.client.get(
        "/api/v1/incidents?since=2026-03-02T08:00:00", headers=supervised.headers("operator")
    )
    assert naive.status_code == 422


def test_scoped_users_see_only_their_incidents(supervised: Service) -> None:
    assert [i["key"] for i in incidents(supervised, "mairie-27056")["items"]] == ["cam-a1/1"]
    other = incident_id(supervised, "cam-b1")
    response = supervised.client.get(
        f"/api/v1/incidents/{other}", headers=supervised.headers("mairie-27056")
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_operator_acknowledges_with_a_comment_audited_and_numbered(supervised: Service) -> None:
    target = incident_id(supervised, "cam-a1")
    headers = supervised.headers("operator")
    url = f"/api/v1/incidents/{target}/ack"
    assert supervised.client.post(url, headers=headers, json={"comment": ""}).status_code == 422
    response = supervised.client.post(
        url, headers=headers, json={"comment": "technician sent, ETA 10:30"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["acknowledged_by"] == "operator"
    assert body["comment"] == "technician sent, ETA 10:30"
    again = supervised.client.post(url, headers=headers, json={"comment": "me too"})
    assert again.status_code == 409
    assert "already acknowledged by operator" in again.json()["detail"]
    with db.session_scope(db.session_factory(supervised.engine)) as session:
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "incident.ack"))
        (row,) = audit.all()
        assert (row.actor, row.object_id) == ("operator", "cam-a1/1")
        last = session.scalars(select(SupervisionEvent).order_by(SupervisionEvent.seq.desc()))
        event = last.first()
        assert event is not None and event.type == "incident_acknowledged"
        assert event.payload["incident"]["acknowledged_by"] == "operator"


def test_the_acknowledgement_survives_later_updates_and_the_close(supervised: Service) -> None:
    target = incident_id(supervised, "cam-a1")
    supervised.client.post(
        f"/api/v1/incidents/{target}/ack",
        headers=supervised.headers("operator"),
        json={"comment": "on it"},
    )
    # Back UP (2 successes), then UP for 5 minutes: the incident closes.
    start = OUTAGE + 3 * STEP
    feed(supervised, [ok("cam-a1", start + i * STEP) for i in range(13)])
    response = supervised.client.get(
        f"/api/v1/incidents/{target}", headers=supervised.headers("operator")
    )
    body = response.json()
    assert body["closed_at"] is not None and body["close_reason"] == "recovered"
    assert (body["acknowledged_by"], body["comment"]) == ("operator", "on it")
    closed = supervised.client.post(
        f"/api/v1/incidents/{target}/ack",
        headers=supervised.headers("operator"),
        json={"comment": "late"},
    )
    assert closed.status_code == 409


def test_nobody_but_operators_acknowledges(supervised: Service) -> None:
    target = incident_id(supervised, "cam-a1")
    for username in ("admin", "gendarme", "mairie-27056"):
        response = supervised.client.post(
            f"/api/v1/incidents/{target}/ack",
            headers=supervised.headers(username),
            json={"comment": "x"},
        )
        assert response.status_code == 403, username
