"""Account lockout per (client address, account), in the database (OWASP, Authentication cheat
sheet: "account lockout ... can be abused to lock out legitimate users").

After ``login_max_failures`` failed logins in a row for one user name from one address, that
address may not log in to that account for ``lockout_minutes``; other addresses still may, so a
stranger's wrong passwords never lock the admin out of their desk. The count starts again after a
success from that address, after a lock, or after ``lockout_minutes`` without failure. Unknown user
names are counted like real ones, so the database work does not tell them apart either.

What slows a guesser spread over many addresses is the per-address rate limit
(:mod:`vigie.auth.ratelimit`), the slow hash and the password policy; every failure is audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigie.clock import as_utc
from vigie.models import LoginThrottle

FORGET_AFTER = timedelta(days=1)
"""Rows with no failure and no lock for this long are deleted (the table stays small)."""


def _row(session: Session, client: str, username: str) -> LoginThrottle | None:
    return session.scalar(
        select(LoginThrottle).where(
            LoginThrottle.client == client, LoginThrottle.username == username
        )
    )


def is_locked(session: Session, client: str, username: str, now: datetime) -> bool:
    """True while ``client`` may not log in as ``username``."""
    row = _row(session, client, username)
    return row is not None and row.locked_until is not None and as_utc(row.locked_until) > now


def record_failure(
    session: Session,
    client: str,
    username: str,
    now: datetime,
    *,
    max_failures: int,
    lock_for: timedelta,
) -> bool:
    """Count one failure of ``client`` at ``username``; True when it locks the pair now."""
    client, username = client[:45], username[:64]
    row = _row(session, client, username)
    if row is None:
        try:
            with session.begin_nested():  # a concurrent first failure may insert it too
                row = LoginThrottle(
                    client=client, username=username, failures=0, last_failure_at=now
                )
                session.add(row)
        except IntegrityError:
            row = _row(session, client, username)
            assert row is not None
    if row.locked_until is not None and as_utc(row.locked_until) > now:
        row.last_failure_at = now  # tried while locked: noted, the lock is not extended
        session.flush()
        _forget_old(session, now)
        return False
    if as_utc(row.last_failure_at) < now - lock_for:
        row.failures = 0  # a failure long ago is not "in a row"
    row.failures += 1
    row.last_failure_at = now
    locks = row.failures >= max_failures
    if locks:
        row.failures, row.locked_until = 0, now + lock_for
    session.flush()
    _forget_old(session, now)
    return locks


def clear(session: Session, client: str, username: str) -> None:
    """A success from ``client``: its count at ``username`` starts again."""
    session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.client == client[:45], LoginThrottle.username == username[:64]
        )
    )


def lift(session: Session, username: str) -> int:
    """Lift every lock and count on ``username`` (``vigie users enable``); how many there were."""
    return session.execute(delete(LoginThrottle).where(LoginThrottle.username == username)).rowcount


def locked_addresses(session: Session, username: str, now: datetime) -> int:
    """How many client addresses are locked out of ``username`` now."""
    return session.scalar(
        select(func.count())
        .select_from(LoginThrottle)
        .where(LoginThrottle.username == username, LoginThrottle.locked_until > now)
    )


def _forget_old(session: Session, now: datetime) -> None:
    old = now - FORGET_AFTER
    session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.last_failure_at < old,
            (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < old),
        )
    )
