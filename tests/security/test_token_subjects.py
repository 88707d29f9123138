"""Tokens of a deleted user (issue 16, item 8): a new user who gets the deleted user's integer id
must not inherit their access or refresh tokens. On SQLite a new row takes max(id) + 1, so the
last user deleted gives its id to the next one; on PostgreSQL the test sets the id itself."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import delete, select

from tests.helpers.service import (
    PASSWORD,
    Service,
    make_settings,
    password_hash,
    running_service,
)
from vigie import db
from vigie.auth.roles import Role
from vigie.clock import utcnow
from vigie.models import User


@pytest.fixture
def service(database_url: str) -> Iterator[Service]:
    with running_service(make_settings(database_url)) as service:
        yield service


def test_a_new_user_with_a_deleted_users_id_does_not_inherit_their_tokens(
    service: Service,
) -> None:
    sessions = db.session_factory(service.engine)
    with db.session_scope(sessions) as session:
        last = session.scalar(select(User).order_by(User.id.desc()).limit(1))
        assert last is not None
        old_id, old_name = last.id, last.username
    grant = service.login(old_name).json()
    access = {"Authorization": f"Bearer {grant['access_token']}"}
    assert service.client.get("/api/v1/auth/me", headers=access).status_code == 200

    with db.session_scope(sessions) as session:
        session.execute(delete(User).where(User.id == old_id))
    with db.session_scope(sessions) as session:
        newcomer = User(
            username="newcomer",
            role=Role.ADMIN.value,  # the worst case: the newcomer is an admin
            password_hash=password_hash(),
            scope_communes=[],
            scope_epcis=[],
            habilitation_until=date(2099, 12, 31),
            created_at=utcnow(),
        )
        if service.engine.dialect.name != "sqlite":
            newcomer.id = old_id  # PostgreSQL's sequence does not reuse ids; an import could
        session.add(newcomer)
        session.flush()
        assert newcomer.id == old_id

    assert service.client.get("/api/v1/auth/me", headers=access).status_code == 401
    refresh = {"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
    assert service.client.post("/api/v1/auth/token", data=refresh).status_code == 400
    # The newcomer's own login works, with the newcomer's name.
    mine = service.login("newcomer", PASSWORD).json()
    me = service.client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {mine['access_token']}"}
    )
    assert me.json()["name"] == "newcomer"
