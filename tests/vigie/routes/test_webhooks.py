"""``/api/v1/webhooks``: admin only, the secret shown once, audited, ping signed and reported;
and the app's own dispatcher delivers what the supervision writes."""

from __future__ import annotations

import time

from sqlalchemy import select

from tests.helpers.service import ROLE_USER, Service
from tests.helpers.supervision_data import OUTAGE, T0, add_cameras, feed, ok, outage
from tests.helpers.webhook_receiver import Receiver, always
from vigie import db
from vigie.auth.roles import Role
from vigie.models import AuditEvent, SupervisionEvent, Webhook


def audit_actions(service: Service) -> list[str]:
    with db.session_factory(service.engine)() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_only_administrators_manage_webhooks(service: Service) -> None:
    body = {"name": "hypervision", "url": "https://centre.example/hooks"}
    for role, username in ROLE_USER.items():
        if role is Role.ADMIN:
            continue
        headers = service.headers(username)
        assert (
            service.client.post("/api/v1/webhooks", json=body, headers=headers).status_code == 403
        )
        assert service.client.get("/api/v1/webhooks", headers=headers).status_code == 403
        assert service.client.delete("/api/v1/webhooks/1", headers=headers).status_code == 403
        assert service.client.post("/api/v1/webhooks/1/test", headers=headers).status_code == 403
    assert service.client.get("/api/v1/webhooks").status_code == 401
    with db.session_factory(service.engine)() as session:
        assert session.scalars(select(Webhook)).all() == []


def test_create_shows_the_secret_once_list_hides_it_delete_removes_all_audited(
    service: Service,
) -> None:
    admin = service.headers("admin")
    created = service.client.post(
        "/api/v1/webhooks",
        json={
            "name": "hypervision",
            "url": "https://centre.example/hooks",
            "event_types": ["incident_opened", "incident_closed"],
            "epcis": ["200040178"],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    info = created.json()
    assert info["secret"].startswith("whsec_") and len(info["secret"]) > 40
    assert (info["active"], info["healthy"], info["pending"]) == (True, True, 0)
    listed = service.client.get("/api/v1/webhooks", headers=admin)
    assert listed.status_code == 200
    assert info["secret"] not in listed.text
    (item,) = listed.json()
    assert item["event_types"] == ["incident_closed", "incident_opened"]
    assert item["epcis"] == ["200040178"]
    assert "secret" not in item
    bad = service.client.post(
        "/api/v1/webhooks", json={"name": "x", "url": "ftp://centre.example/"}, headers=admin
    )
    assert bad.status_code == 400
    assert "only http:// and https://" in bad.json()["detail"]
    gone = service.client.delete(f"/api/v1/webhooks/{info['id']}", headers=admin)
    assert gone.status_code == 204
    assert service.client.delete(f"/api/v1/webhooks/{info['id']}", headers=admin).status_code == 404
    assert service.client.get("/api/v1/webhooks", headers=admin).json() == []
    actions = audit_actions(service)
    assert actions.count("webhook.create") == 1 and actions.count("webhook.remove") == 1
    with db.session_factory(service.engine)() as session:
        details = session.scalars(select(AuditEvent.detail)).all()
    assert not any(info["secret"] in detail for detail in details)


def test_ping_is_signed_with_the_secret_and_reports_the_answer(service: Service) -> None:
    receiver = Receiver().start()
    try:
        admin = service.headers("admin")
        info = service.client.post(
            "/api/v1/webhooks", json={"name": "centre", "url": receiver.url}, headers=admin
        ).json()
        receiver.secret = info["secret"]
        answer = service.client.post(f"/api/v1/webhooks/{info['id']}/test", headers=admin)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"delivered": True, "status": 200, "error": None}
        (ping,) = receiver.snapshot()
        assert ping.valid
        assert ping.json["type"] == "ping" and ping.json["seq"] is None
        assert ping.headers["X-Vigie-Event-Type"] == "ping"
        assert "X-Vigie-Event-Seq" not in ping.headers
        receiver.behaviour = always(500)
        failed = service.client.post(f"/api/v1/webhooks/{info['id']}/test", headers=admin)
        assert failed.json() == {"delivered": False, "status": 500, "error": "HTTP 500"}
        assert audit_actions(service).count("webhook.test") == 2
    finally:
        receiver.stop()
    down = service.client.post(f"/api/v1/webhooks/{info['id']}/test", headers=admin).json()
    assert down["delivered"] is False and "ConnectError" in down["error"]


def test_the_service_delivers_supervision_events_to_subscribers(service: Service) -> None:
    receiver = Receiver().start()
    try:
        admin = service.headers("admin")
        info = service.client.post(
            "/api/v1/webhooks",
            json={"name": "centre", "url": receiver.url, "communes": ["27056"]},
            headers=admin,
        ).json()
        receiver.secret = info["secret"]
        add_cameras(service.engine)
        feed(service, [ok("cam-a1", T0), ok("cam-b1", T0)])
        feed(service, outage("cam-a1", OUTAGE, 3, 0) + outage("cam-b1", OUTAGE, 3, 0))
        with db.session_factory(service.engine)() as session:
            expected = list(
                session.scalars(
                    select(SupervisionEvent.seq)
                    .where(SupervisionEvent.camera_id == "cam-a1")
                    .order_by(SupervisionEvent.seq)
                )
            )
        deadline = time.monotonic() + 15
        while len(receiver.accepted()) < len(expected) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert receiver.accepted() == expected
        assert all(r.valid for r in receiver.snapshot())
        (item,) = service.client.get("/api/v1/webhooks", headers=admin).json()
        assert item["pending"] == 0 and item["last_success_at"] is not None
    finally:
        receiver.stop()
