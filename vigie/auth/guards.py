"""Authentication of each request and the role check every route declares.

Deny by default: a route without :func:`require_roles` (or :func:`public`) fails the
route-table test, and a caller without a valid bearer token gets 401 before any route code runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie.auth.principal import Principal, user_principal, user_refusal
from vigie.auth.roles import Role
from vigie.auth.tokens import API_TOKEN_PREFIX, read_access_token, token_digest
from vigie.clock import as_utc, utcnow
from vigie.deps import ClientIp, SessionDep
from vigie.models import ApiToken, User
from vigie.plain_text import check_line

TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 (a URL, not a secret)

# auto_error=False: we answer 401 ourselves, as a problem document with the right header.
_bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)

F = TypeVar("F", bound=Callable[..., Any])


def public(endpoint: F) -> F:
    """Mark a route as open to anonymous callers; the route-table test lists who may be."""
    endpoint.__vigie_public__ = True  # type: ignore[attr-defined]
    return endpoint


def unauthorized(detail: str = "authentication required") -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


@dataclass(frozen=True)
class Authenticated:
    """A valid credential: who it names, and until when it is valid (long connections close
    then)."""

    principal: Principal
    expires_at: datetime


def _from_api_token(session: Session, token: str, ip: str) -> Authenticated | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None or as_utc(row.expires_at) <= now:
        return None
    if row.last_used_at is None or as_utc(row.last_used_at) < now - timedelta(minutes=1):
        row.last_used_at = now  # at most one write a minute per token
    principal = Principal(
        kind="token",
        id=row.id,
        name=row.name,
        role=Role(row.role),
        communes=frozenset(row.scope_communes or ()),
        epcis=frozenset(row.scope_epcis or ()),
        ip=ip,
    )
    return Authenticated(principal, as_utc(row.expires_at))


def _from_access_token(
    signing_key: str, session: Session, token: str, ip: str
) -> Authenticated | None:
    claims = read_access_token(signing_key, token)
    if claims is None:
        return None
    user = session.scalar(select(User).where(User.subject == claims.subject))
    # The role and scope come from the database, not the token: a change applies at once.
    if user is None or user.token_version != claims.token_version or user_refusal(user):
        return None
    return Authenticated(user_principal(user, ip), claims.expires_at)


def authenticate(signing_key: str, session: Session, token: str, ip: str) -> Authenticated | None:
    """Check a bearer token (access or API token) outside a route's dependencies (the live
    stream checks it again while a connection lasts); None when it is not valid now."""
    if token.startswith(API_TOKEN_PREFIX):
        return _from_api_token(session, token, ip)
    return _from_access_token(signing_key, session, token, ip)


def current_principal(
    request: Request,
    session: SessionDep,
    ip: ClientIp,
    token: Annotated[str | None, Depends(_bearer)],
) -> Principal:
    """The authenticated caller; 401 for a missing, invalid, expired or revoked credential."""
    if not token:
        raise unauthorized()
    found = authenticate(request.app.state.signing_key, session, token, ip)
    if found is None:
        raise unauthorized("invalid, expired or revoked token")
    return found.principal


def require_roles(*roles: Role) -> Callable[..., Principal]:
    """A dependency admitting only ``roles``: ``Annotated[Principal, Depends(require_roles(...))]``.

    A router outside ``vigie`` (which may not import it) can take such a guard as an argument.
    """
    allowed = frozenset(Role(r) for r in roles)
    if not allowed:
        raise ValueError("require_roles needs at least one role")

    def guard(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "your role may not do this")
        return principal

    guard.__vigie_roles__ = allowed  # type: ignore[attr-defined]
    guard.__name__ = "require_" + "_or_".join(sorted(allowed))
    return guard


def reason_query(
    reason: Annotated[
        str,
        Query(
            min_length=5,
            max_length=500,
            description="Why you consult this (kept in the audit trail; required by law).",
        ),
    ],
) -> str:
    """A required ``?reason=`` for consultations the law wants justified (picture views)."""
    try:
        return check_line(reason.strip())
    except ValueError as refused:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(refused)) from refused


Reason = Annotated[str, Depends(reason_query)]
