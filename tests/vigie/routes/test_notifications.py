"""``/api/v1/notification-rules`` and ``/api/v1/incidents/{id}/notifications``: admin-only
rules, validated and audited; the incident's notifications for the centre."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.helpers.service import Service
from tests.helpers.supervision_data import OUTAGE
from vigie import db
from vigie.models import AuditEvent, IncidentRow
from vigie.notify import outbox

RULE = {
    "name": "astreinte de nuit",
    "severities": ["major", "critical"],
    "communes": [],
    "schedule": [{"days": [1, 2, 3, 4, 5], "start": "18:00", "end": "08:00"}],
    "levels": [
        {"after_minutes": 0, "recipients": [{"name": "Opérateur", "email": "op@csu.example"}]},
        {"after_minutes": 30, "recipients": [{"name": "Cadre", "phone": "+33 6 00 00 00 02"}]},
    ],
    "repeat_minutes": 10,
}


def actions(service: Service) -> list[str]:
    with db.session_scope(db.session_factory(service.engine)) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_an_admin_writes_rules_and_each_change_is_audited(service: Service) -> None:
    admin = service.headers("admin")
    created = service.client.post("/api/v1/notification-rules", json=RULE, headers=admin)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["levels"][1]["recipients"][0]["phone"] == "+33600000002"
    assert rule["schedule"] == RULE["schedule"] and rule["created_by"] == "admin"
    url = f"/api/v1/notification-rules/{rule['id']}"
    assert service.client.get("/api/v1/notification-rules", headers=admin).json() == [rule]
    assert service.client.get(url, headers=admin).json() == rule

    changed = service.client.put(url, json={**RULE, "repeat_minutes": 5}, headers=admin)
    assert changed.status_code == 200 and changed.json()["repeat_minutes"] == 5
    again = service.client.post("/api/v1/notification-rules", json=RULE, headers=admin)
    assert again.status_code == 409
    assert service.client.delete(url, headers=admin).status_code == 204
    assert service.client.get(url, headers=admin).status_code == 404
    assert service.client.delete(url, headers=admin).status_code == 404
    assert [a for a in actions(service) if a.startswith("notification_rule.")] == [
        "notification_rule.create",
        "notification_rule.update",
        "notification_rule.delete",
    ]


def test_only_the_admin_touches_rules(service: Service) -> None:
    assert service.client.get("/api/v1/notification-rules").status_code == 401
    assert service.client.post("/api/v1/notification-rules", json=RULE).status_code == 401
    for user in ("operator", "engineer", "gendarme", "mairie-27056"):
        headers = service.headers(user)
        listed = service.client.get("/api/v1/notification-rules", headers=headers)
        made = service.client.post("/api/v1/notification-rules", json=RULE, headers=headers)
        assert (listed.status_code, made.status_code) == (403, 403), user


def test_rules_are_validated(service: Service) -> None:
    admin = service.headers("admin")
    level = RULE["levels"][0]
    bad = [
        {**RULE, "levels": [{**level, "after_minutes": 5}]},  # level 1 is told at once
        {**RULE, "levels": [level, {**level, "after_minutes": 0}]},  # not after the previous
        {**RULE, "levels": [{"after_minutes": 0, "recipients": [{"name": "personne"}]}]},
        {**RULE, "levels": [{"after_minutes": 0, "recipients": [{"email": "pas-une-adresse"}]}]},
        {**RULE, "levels": [{"after_minutes": 0, "recipients": [{"phone": "06 abc"}]}]},
        {**RULE, "schedule": [{"days": [1], "start": "25:00", "end": "08:00"}]},
        {**RULE, "schedule": [{"days": [8], "start": "18:00", "end": "08:00"}]},
        {**RULE, "severities": ["grave"]},
        {**RULE, "communes": ["Évreux"]},
        {**RULE, "name": "nuit\u202e"},
    ]
    for body in bad:
        answer = service.client.post("/api/v1/notification-rules", json=body, headers=admin)
        assert answer.status_code == 422, body
    assert service.client.get("/api/v1/notification-rules", headers=admin).json() == []


def test_the_incident_shows_its_notifications_to_the_centre(supervised: Service) -> None:
    admin = supervised.headers("admin")
    rule = supervised.client.post(
        "/api/v1/notification-rules", json={**RULE, "schedule": []}, headers=admin
    ).json()
    sessions = db.session_factory(supervised.engine)
    with db.session_scope(sessions) as session:
        incident = session.scalars(
            select(IncidentRow).where(IncidentRow.camera_id == "cam-a1")
        ).one()
        incident_id = incident.id
        now = OUTAGE + timedelta(minutes=31)
        # cam-a1 and cam-b1 are both down: two rows each (level 1 e-mail, level 2 SMS)
        assert outbox.plan(session, now, base_url="https://vigie.example.fr") == 4

    url = f"/api/v1/incidents/{incident_id}/notifications"
    answer = supervised.client.get(url, headers=supervised.headers("operator"))
    assert answer.status_code == 200, answer.text
    assert [
        (n["level"], n["channel"], n["recipient"], n["status"], n["rule_id"]) for n in answer.json()
    ] == [
        (1, "email", "op@csu.example", "pending", rule["id"]),
        (2, "sms", "+33600000002", "pending", rule["id"]),
    ]
    assert supervised.client.get(url, headers=admin).status_code == 200
    assert supervised.client.get(url).status_code == 401
    for user in ("gendarme", "engineer", "mairie-27056"):
        assert supervised.client.get(url, headers=supervised.headers(user)).status_code == 403
    missing = supervised.client.get(
        "/api/v1/incidents/999999/notifications", headers=supervised.headers("operator")
    )
    assert missing.status_code == 404
