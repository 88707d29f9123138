"""Account rules, checked where they live (the CLI and any future API share them)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, select

from tests.helpers.service import EPCI_B, PASSWORD, seed
from vigie import db
from vigie.auth.accounts import UserError, create_user, set_password, set_role
from vigie.auth.passwords import WeakPasswordError, verify_password
from vigie.auth.roles import Role
from vigie.models import AuditEvent, User


@pytest.fixture
def factory(engine: Engine):
    seed(engine)
    return db.session_factory(engine)


def test_create_stores_an_argon2id_hash_and_audits(factory) -> None:
    with db.session_scope(factory) as session:
        create_user(
            session,
            username="Agent.Martin",
            password=PASSWORD,
            role=Role.COMMUNE,
            epcis=[EPCI_B],
            habilitation_until=date(2027, 1, 31),
            actor="cli:root",
        )
    with db.session_scope(factory) as session:
        user = session.scalar(select(User).where(User.username == "agent.martin"))
        assert user is not None
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert verify_password(user.password_hash, PASSWORD)
        event = session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
        assert (event.action, event.object_id, event.actor) == (
            "user.create",
            "agent.martin",
            "cli:root",
        )
        assert PASSWORD not in event.detail


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"username": "admin"}, UserError, "already exists"),
        ({"username": "bad name"}, UserError, "use 1-64 of"),
        ({"password": "short"}, WeakPasswordError, "at least 12"),
        ({"role": Role.COMMUNE}, UserError, "needs a scope"),
        (
            {"role": Role.COMMUNE, "communes": ["27999"]},
            UserError,
            "unknown communes or EPCIs: 27999",
        ),
    ],
)
def test_create_refuses_with_a_clear_message(factory, kwargs, error, message) -> None:
    values = {"username": "newcomer", "password": PASSWORD, "role": Role.OPERATOR, **kwargs}
    with pytest.raises(error, match=message), db.session_scope(factory) as session:
        create_user(session, actor="test", **values)


def test_role_and_password_changes_bump_the_token_version(factory) -> None:
    with db.session_scope(factory) as session:
        before = session.scalar(select(User.token_version).where(User.username == "engineer"))
        set_role(session, "engineer", Role.OPERATOR, actor="test")
        set_password(session, "engineer", "another long pass phrase", actor="test")
    with db.session_scope(factory) as session:
        user = session.scalar(select(User).where(User.username == "engineer"))
        assert user.role == "operator"
        assert user.token_version == before + 2
        assert verify_password(user.password_hash, "another long pass phrase")
    with pytest.raises(UserError, match="no user 'ghost'"), db.session_scope(factory) as session:
        set_role(session, "ghost", Role.ADMIN, actor="test")
