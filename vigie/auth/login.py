"""Logins: password checks with lockout per address, and refresh tokens rotated at every use.

Every outcome lands in the audit trail, failures included; the caller only ever learns
"invalid credentials", so the answer does not reveal which accounts exist or are locked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vigie import audit
from vigie.auth import lockout
from vigie.auth.passwords import burn_time, hash_password, needs_rehash, verify_password
from vigie.auth.principal import user_refusal
from vigie.auth.tokens import issue_access_token, new_opaque_token, token_digest
from vigie.clock import as_utc, utcnow
from vigie.errors import VigieError
from vigie.models import RefreshToken, User
from vigie.settings import Settings


class LoginError(VigieError):
    """The credentials are not accepted (the audit trail holds the precise reason)."""


@dataclass(frozen=True)
class Grant:
    access_token: str
    expires_in: int
    refresh_token: str
    user: User


def _fail(session: Session, username: str, role: str, ip: str, why: str) -> LoginError:
    audit.record(
        session,
        actor=username,
        role=role,
        ip=ip,
        action="login.failure",
        object_type="user",
        object_id=username,
        detail={"why": why},
    )
    return LoginError("invalid credentials")


def password_login(
    session: Session,
    settings: Settings,
    signing_key: str,
    *,
    username: str,
    password: str,
    ip: str,
) -> Grant:
    """Check a password; after ``login_max_failures`` failures from one address, lock that
    address out of that account (:mod:`vigie.auth.lockout`).

    Known, unknown and locked accounts cost the same: one password-hash verification each, so
    the answer's timing does not tell them apart (nor does its text)."""
    username = username[:64]
    user = session.scalar(select(User).where(User.username == username))
    now = utcnow()
    locked = lockout.is_locked(session, ip, username, now)
    if user is None:
        burn_time(password)
        correct = False
    else:
        correct = verify_password(user.password_hash, password)
    role = user.role if user is not None else ""
    if locked or not correct:  # the same database work either way
        lock_for = timedelta(minutes=settings.lockout_minutes)
        if lockout.record_failure(
            session, ip, username, now, max_failures=settings.login_max_failures, lock_for=lock_for
        ):
            audit.record(
                session,
                actor=username,
                role=role,
                ip=ip,
                action="login.lockout",
                object_type="user",
                object_id=username,
                detail={"minutes": settings.lockout_minutes, "address": ip},
            )
        why = "locked out from this address" if locked else "wrong password"
        raise _fail(session, username, role, ip, why if user else "unknown user")
    assert user is not None
    refusal = user_refusal(user)
    if refusal:
        raise _fail(session, username, user.role, ip, refusal)
    lockout.clear(session, ip, username)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record(
        session,
        actor=username,
        role=user.role,
        ip=ip,
        action="login.success",
        object_type="user",
        object_id=username,
    )
    return _grant(session, settings, signing_key, user)


def refresh_login(
    session: Session, settings: Settings, signing_key: str, *, refresh_token: str, ip: str
) -> Grant:
    """Trade a refresh token for a new pair; a token used twice revokes the whole session
    family (it was stolen, or the client is broken)."""
    row = session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == token_digest(refresh_token))
    )
    now = utcnow()
    if row is None:
        raise LoginError("invalid refresh token")
    user = session.get(User, row.user_id)
    assert user is not None  # the foreign key cascades
    if row.revoked_at is not None:
        user.token_version += 1  # the thief's access token dies with the refresh tokens
        revoke_sessions(session, user.id)
        audit.record(
            session,
            actor=user.username,
            role=user.role,
            ip=ip,
            action="token.refresh_reuse",
            object_type="user",
            object_id=user.username,
        )
        raise LoginError("invalid refresh token")
    if as_utc(row.expires_at) <= now or row.token_version != user.token_version:
        raise LoginError("invalid refresh token")
    if user_refusal(user):
        raise _fail(session, user.username, user.role, ip, user_refusal(user) or "")
    row.revoked_at = now
    return _grant(session, settings, signing_key, user)


def _grant(session: Session, settings: Settings, signing_key: str, user: User) -> Grant:
    access, expires_in = issue_access_token(
        signing_key,
        subject=user.subject,
        token_version=user.token_version,
        lifetime=timedelta(minutes=settings.access_token_minutes),
    )
    refresh = new_opaque_token()
    session.add(
        RefreshToken(
            token_hash=token_digest(refresh),
            user_id=user.id,
            token_version=user.token_version,
            expires_at=utcnow() + timedelta(hours=settings.refresh_token_hours),
        )
    )
    session.flush()
    return Grant(access_token=access, expires_in=expires_in, refresh_token=refresh, user=user)


def revoke_sessions(session: Session, user_id: int) -> int:
    """Revoke every live refresh token of a user (logout everywhere, disable, reuse)."""
    result = session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount
