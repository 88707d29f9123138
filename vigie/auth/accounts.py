"""User accounts: creation, role and scope changes, disabling. Every change is audited."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie import audit
from vigie.auth import lockout
from vigie.auth.login import revoke_sessions
from vigie.auth.passwords import check_policy, hash_password
from vigie.auth.principal import unknown_scope
from vigie.auth.roles import SCOPED_ROLES, Role
from vigie.clock import utcnow
from vigie.errors import VigieError
from vigie.models import User

USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-@")


class UserError(VigieError):
    """The user request is not acceptable: read the message."""


def _check_scope(session: Session, role: Role, communes: list[str], epcis: list[str]) -> None:
    if role in SCOPED_ROLES and not (communes or epcis):
        raise UserError(f"a {role} user needs a scope: give --commune or --epci")
    unknown = unknown_scope(session, communes, epcis)
    if unknown:
        raise UserError(
            f"unknown communes or EPCIs: {', '.join(unknown)} (run `vigie db load-communes`?)"
        )


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"no user {username!r}")
    return user


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    communes: Iterable[str] = (),
    epcis: Iterable[str] = (),
    habilitation_until: date | None = None,
    full_name: str = "",
    actor: str,
) -> User:
    username = username.strip().lower()
    if not username or len(username) > 64 or not set(username) <= USERNAME_CHARS:
        raise UserError(f"user name {username!r}: use 1-64 of a-z 0-9 . _ - @")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(f"user {username!r} already exists")
    check_policy(password, username=username)
    scope_c, scope_e = sorted(set(communes)), sorted(set(epcis))
    _check_scope(session, role, scope_c, scope_e)
    user = User(
        username=username,
        full_name=full_name,
        role=role.value,
        password_hash=hash_password(password),
        scope_communes=scope_c,
        scope_epcis=scope_e,
        habilitation_until=habilitation_until,
        disabled=False,
        token_version=0,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        role="system",
        action="user.create",
        object_type="user",
        object_id=username,
        detail={
            "role": role.value,
            "communes": scope_c,
            "epcis": scope_e,
            "habilitation_until": habilitation_until,
        },
    )
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def set_role(
    session: Session,
    username: str,
    role: Role,
    *,
    communes: Iterable[str] | None = None,
    epcis: Iterable[str] | None = None,
    habilitation_until: date | None = None,
    actor: str,
) -> User:
    """Change role (and scope, habilitation); the user's sessions end, access tokens included."""
    user = get_user(session, username)
    scope_c = sorted(set(communes)) if communes is not None else user.scope_communes
    scope_e = sorted(set(epcis)) if epcis is not None else user.scope_epcis
    _check_scope(session, role, scope_c, scope_e)
    user.role, user.scope_communes, user.scope_epcis = role.value, scope_c, scope_e
    if habilitation_until is not None:
        user.habilitation_until = habilitation_until
    _end_sessions(session, user)
    audit.record(
        session,
        actor=actor,
        role="system",
        action="user.set_role",
        object_type="user",
        object_id=user.username,
        detail={
            "role": role.value,
            "communes": scope_c,
            "epcis": scope_e,
            "habilitation_until": user.habilitation_until,
        },
    )
    return user


def set_disabled(session: Session, username: str, disabled: bool, *, actor: str) -> User:
    """Disable (sessions end at once) or enable again (which also lifts a lockout)."""
    user = get_user(session, username)
    user.disabled = disabled
    lockout.lift(session, user.username)
    _end_sessions(session, user)
    audit.record(
        session,
        actor=actor,
        role="system",
        action="user.disable" if disabled else "user.enable",
        object_type="user",
        object_id=user.username,
    )
    return user


def set_password(session: Session, username: str, password: str, *, actor: str) -> User:
    user = get_user(session, username)
    check_policy(password, username=user.username)
    user.password_hash = hash_password(password)
    _end_sessions(session, user)
    audit.record(
        session,
        actor=actor,
        role="system",
        action="user.set_password",
        object_type="user",
        object_id=user.username,
    )
    return user


def _end_sessions(session: Session, user: User) -> None:
    # Bumping the version invalidates access tokens already issued; revoking, refresh tokens.
    user.token_version += 1
    session.flush()
    revoke_sessions(session, user.id)
