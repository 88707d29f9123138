"""Logins over real HTTP on a real database: lockout, rate limit, refresh rotation, revocation."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.helpers.service import PASSWORD, Service, make_settings, seed
from vigie import db
from vigie.api import create_app
from vigie.auth.accounts import set_disabled, set_role
from vigie.auth.roles import Role
from vigie.clock import utcnow
from vigie.models import AuditEvent, LoginThrottle, RefreshToken, User


def actions(service: Service) -> list[tuple[str, str]]:
    with db.session_scope(db.session_factory(service.engine)) as session:
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.object_id).order_by(AuditEvent.id)
        )
        return [tuple(row) for row in rows]


def test_login_gives_a_short_lived_access_token_and_a_refresh_token(service: Service) -> None:
    response = service.login("operator")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["role"] == "operator"
    me = service.client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json() == {
        "kind": "user",
        "name": "operator",
        "role": "operator",
        "communes": [],
        "epcis": [],
    }
    assert ("login.success", "operator") in actions(service)


def test_wrong_password_and_unknown_user_get_the_same_answer(service: Service) -> None:
    wrong = service.login("operator", "not the password at all")
    unknown = service.login("nobody", "not the password at all")
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json()["detail"] == unknown.json()["detail"] == "invalid credentials"
    assert wrong.json()["error"] == "invalid_grant"
    assert ("login.failure", "operator") in actions(service)
    assert ("login.failure", "nobody") in actions(service)


def test_lockout_after_repeated_failures_refuses_even_the_right_password(
    service: Service,
) -> None:
    for _ in range(service.settings.login_max_failures):
        assert service.login("gendarme", "wrong password, again").status_code == 400
    assert ("login.lockout", "gendarme") in actions(service)
    assert service.login("gendarme").status_code == 400  # locked, though the password is right
    assert service.login("operator").status_code == 200  # other accounts are not affected
    with db.session_scope(db.session_factory(service.engine)) as session:
        session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.username == "gendarme")
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )
    assert service.login("gendarme").status_code == 200  # the lock expires


def test_login_attempts_are_rate_limited_per_address(database_url: str) -> None:

    settings = make_settings(database_url, login_rate_per_minute=3)
    engine = db.make_engine(settings.db_url)
    seed(engine)
    with TestClient(create_app(settings)) as client:
        form = {"grant_type": "password", "username": "admin", "password": PASSWORD}
        codes = [client.post("/api/v1/auth/token", data=form).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = client.post("/api/v1/auth/token", data=form)
        assert 1 <= int(limited.headers["retry-after"]) <= 61
        assert limited.headers["content-type"] == "application/problem+json"
    engine.dispose()


def test_refresh_rotates_and_a_reused_refresh_token_ends_the_session(service: Service) -> None:
    first = service.login("engineer").json()
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    second = service.client.post("/api/v1/auth/token", data=refresh)
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    replay = service.client.post("/api/v1/auth/token", data=refresh)
    assert replay.status_code == 400
    # The stolen-token alarm also killed the legitimate successor.
    successor = {"grant_type": "refresh_token", "refresh_token": second.json()["refresh_token"]}
    assert service.client.post("/api/v1/auth/token", data=successor).status_code == 400
    access = {"Authorization": f"Bearer {second.json()['access_token']}"}
    assert service.client.get("/api/v1/auth/me", headers=access).status_code == 401
    assert ("token.refresh_reuse", "engineer") in actions(service)


def test_refresh_tokens_are_stored_hashed(service: Service) -> None:
    token = service.login("engineer").json()["refresh_token"]
    with db.session_scope(db.session_factory(service.engine)) as session:
        stored = list(session.scalars(select(RefreshToken.token_hash)))
    assert stored and token not in stored and all(len(h) == 64 for h in stored)


def test_disabling_a_user_ends_access_at_once(service: Service) -> None:
    headers = service.headers("operator")
    refresh = service.login("operator").json()["refresh_token"]
    assert service.client.get("/api/v1/auth/me", headers=headers).status_code == 200
    with db.session_scope(db.session_factory(service.engine)) as session:
        set_disabled(session, "operator", True, actor="test")
    assert service.client.get("/api/v1/auth/me", headers=headers).status_code == 401
    again = service.client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": refresh}
    )
    assert again.status_code == 400
    assert service.login("operator").status_code == 400


def test_a_role_change_applies_to_the_next_request(service: Service) -> None:
    headers = service.headers("engineer")
    with db.session_scope(db.session_factory(service.engine)) as session:
        set_role(session, "engineer", Role.AMO, actor="test")
    assert service.client.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert service.login("engineer").json()["role"] == "amo"


def test_an_ended_habilitation_refuses_access(service: Service) -> None:
    headers = service.headers("mairie-27056")
    with db.session_scope(db.session_factory(service.engine)) as session:
        session.execute(
            update(User)
            .where(User.username == "mairie-27056")
            .values(habilitation_until=date.today() - timedelta(days=1))
        )
    assert service.client.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert service.login("mairie-27056").status_code == 400


def test_logout_revokes_the_refresh_token(service: Service) -> None:
    grant = service.login("admin").json()
    headers = {"Authorization": f"Bearer {grant['access_token']}"}
    response = service.client.post(
        "/api/v1/auth/logout", headers=headers, json={"refresh_token": grant["refresh_token"]}
    )
    assert response.status_code == 204
    refresh = {"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
    assert service.client.post("/api/v1/auth/token", data=refresh).status_code == 400


def test_logout_everywhere_ends_every_session(service: Service) -> None:
    grants = [service.login("admin").json() for _ in range(2)]
    headers = {"Authorization": f"Bearer {grants[0]['access_token']}"}
    response = service.client.post(
        "/api/v1/auth/logout", headers=headers, json={"everywhere": True}
    )
    assert response.status_code == 204
    for grant in grants:
        refresh = {"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
        assert service.client.post("/api/v1/auth/token", data=refresh).status_code == 400
        access = {"Authorization": f"Bearer {grant['access_token']}"}
        assert service.client.get("/api/v1/auth/me", headers=access).status_code == 401
