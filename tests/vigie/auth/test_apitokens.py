"""API tokens over HTTP: shown once, stored hashed, scoped, revocable, expiring, never admin."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from tests.helpers.service import Service
from vigie import db
from vigie.clock import utcnow
from vigie.models import ApiToken, AuditEvent


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_is_shown_once_stored_hashed_and_revocable(service: Service) -> None:
    admin = service.headers("admin")
    created = service.client.post(
        "/api/v1/tokens", headers=admin, json={"name": "hypervision", "role": "gendarmerie"}
    )
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("vigie_") and len(token) > 40
    listed = service.client.get("/api/v1/tokens", headers=admin)
    assert token not in listed.text
    assert listed.json()[0]["name"] == "hypervision"
    with db.session_scope(db.session_factory(service.engine)) as session:
        assert token not in session.scalars(select(ApiToken.token_hash)).all()
    me = service.client.get("/api/v1/auth/me", headers=bearer(token))
    assert me.json()["kind"] == "token"
    assert me.json()["role"] == "gendarmerie"
    assert service.client.get("/api/v1/tokens", headers=bearer(token)).status_code == 403
    token_id = created.json()["id"]
    assert service.client.delete(f"/api/v1/tokens/{token_id}", headers=admin).status_code == 204
    assert service.client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
    assert service.client.delete("/api/v1/tokens/999", headers=admin).status_code == 404
    with db.session_scope(db.session_factory(service.engine)) as session:
        logged = session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_type == "api_token")
        ).all()
    assert logged == ["token.create", "token.revoke"]


def test_an_expired_token_is_refused(service: Service) -> None:
    admin = service.headers("admin")
    created = service.client.post(
        "/api/v1/tokens", headers=admin, json={"name": "old", "role": "operator", "days": 1}
    ).json()
    assert service.client.get("/api/v1/auth/me", headers=bearer(created["token"])).is_success
    with db.session_scope(db.session_factory(service.engine)) as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == created["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert (
        service.client.get("/api/v1/auth/me", headers=bearer(created["token"])).status_code == 401
    )


def test_tokens_cannot_be_admin_and_scoped_roles_need_a_scope(service: Service) -> None:
    admin = service.headers("admin")
    as_admin = service.client.post(
        "/api/v1/tokens", headers=admin, json={"name": "root", "role": "admin"}
    )
    assert as_admin.status_code == 400
    assert "admin role" in as_admin.json()["detail"]
    unscoped = service.client.post(
        "/api/v1/tokens", headers=admin, json={"name": "mairie", "role": "commune"}
    )
    assert unscoped.status_code == 400
    assert "needs a scope" in unscoped.json()["detail"]
    unknown = service.client.post(
        "/api/v1/tokens",
        headers=admin,
        json={"name": "mairie", "role": "commune", "communes": ["27999"]},
    )
    assert unknown.status_code == 400
    assert unknown.json()["detail"] == "unknown communes or EPCIs: 27999"
    scoped = service.client.post(
        "/api/v1/tokens",
        headers=admin,
        json={"name": "mairie", "role": "commune", "communes": ["27229"]},
    )
    assert scoped.status_code == 201
    me = service.client.get("/api/v1/auth/me", headers=bearer(scoped.json()["token"])).json()
    assert me["communes"] == ["27229"]
    too_long = service.client.post(
        "/api/v1/tokens", headers=admin, json={"name": "x", "role": "operator", "days": 400}
    )
    assert too_long.status_code == 422
