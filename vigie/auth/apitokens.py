"""API tokens for machines: created with a role, a scope and an expiry, shown once, revocable."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie import audit
from vigie.auth.principal import unknown_scope
from vigie.auth.roles import SCOPED_ROLES, Role
from vigie.auth.tokens import API_TOKEN_PREFIX, new_opaque_token, token_digest
from vigie.clock import utcnow
from vigie.errors import VigieError
from vigie.models import ApiToken

MAX_DAYS = 366


class TokenError(VigieError):
    """The API token request is not acceptable: read the message."""


def create_api_token(
    session: Session,
    *,
    name: str,
    role: Role,
    days: int,
    communes: Iterable[str] = (),
    epcis: Iterable[str] = (),
    actor: str,
    actor_role: str,
    ip: str = "",
) -> tuple[ApiToken, str]:
    """Store a new token's hash; return the row and the token, which is never shown again."""
    if role is Role.ADMIN:
        raise TokenError("API tokens cannot have the admin role: machines do not administer")
    if not 1 <= days <= MAX_DAYS:
        raise TokenError(f"an API token lives 1 to {MAX_DAYS} days, not {days}")
    communes, epcis = sorted(set(communes)), sorted(set(epcis))
    if role in SCOPED_ROLES and not (communes or epcis):
        raise TokenError(f"a {role} token needs a scope (communes or EPCIs)")
    unknown = unknown_scope(session, communes, epcis)
    if unknown:
        raise TokenError(f"unknown communes or EPCIs: {', '.join(unknown)}")
    token = new_opaque_token(API_TOKEN_PREFIX)
    now = utcnow()
    row = ApiToken(
        name=name,
        token_hash=token_digest(token),
        role=role.value,
        scope_communes=communes,
        scope_epcis=epcis,
        created_by=actor,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        role=actor_role,
        ip=ip,
        action="token.create",
        object_type="api_token",
        object_id=str(row.id),
        detail={
            "name": name,
            "role": role.value,
            "days": days,
            "communes": communes,
            "epcis": epcis,
        },
    )
    return row, token


def list_api_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_api_token(
    session: Session, token_id: int, *, actor: str, actor_role: str, ip: str = ""
) -> ApiToken | None:
    """Revoke a token (idempotent); None when there is no such token."""
    row = session.get(ApiToken, token_id)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(
            session,
            actor=actor,
            role=actor_role,
            ip=ip,
            action="token.revoke",
            object_type="api_token",
            object_id=str(row.id),
            detail={"name": row.name},
        )
    return row
