"""``/api/v1/auth``: the OAuth2 token endpoint (password and refresh grants), logout, whoami."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select

from vigie.auth.guards import public, require_roles
from vigie.auth.login import Grant, LoginError, password_login, refresh_login, revoke_sessions
from vigie.auth.principal import Principal
from vigie.auth.roles import Role
from vigie.auth.tokens import token_digest
from vigie.clock import utcnow
from vigie.deps import ClientIp, SessionDep, SettingsDep
from vigie.models import RefreshToken, User
from vigie.problems import problem

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

AnyRole = Annotated[Principal, Depends(require_roles(*Role))]


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int
    refresh_token: str
    role: Role


class Me(BaseModel):
    kind: Literal["user", "token"]
    name: str
    role: Role
    communes: list[str]
    epcis: list[str]


def _invalid_grant(detail: str) -> JSONResponse:
    # RFC 6749 §5.2 wants "error"; RFC 9457 the rest: the document carries both.
    return problem(400, detail, error="invalid_grant")


@router.post(
    "/token",
    response_model=TokenResponse,
    summary="Log in (grant_type=password) or refresh (grant_type=refresh_token)",
    responses={400: {"description": "invalid credentials"}, 429: {"description": "slow down"}},
)
@public
def token(  # noqa: PLR0917 (FastAPI passes everything by keyword)
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    ip: ClientIp,
    grant_type: Annotated[Literal["password", "refresh_token"], Form()],
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    refresh_token: Annotated[str, Form(max_length=200)] = "",
):
    """The OAuth2 token endpoint: access tokens live minutes, refresh tokens hours."""
    wait = request.app.state.login_limiter.hit(ip)
    if wait is not None:
        return problem(
            429,
            "too many login attempts from your address; wait and retry",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    key = request.app.state.signing_key
    try:
        if grant_type == "password":
            grant: Grant = password_login(
                session, settings, key, username=username, password=password, ip=ip
            )
        else:
            grant = refresh_login(session, settings, key, refresh_token=refresh_token, ip=ip)
    except LoginError as refused:
        session.commit()  # the failure, the counter and the lockout are kept
        return _invalid_grant(str(refused))
    return TokenResponse(
        access_token=grant.access_token,
        expires_in=grant.expires_in,
        refresh_token=grant.refresh_token,
        role=Role(grant.user.role),
    )


class LogoutRequest(BaseModel):
    refresh_token: str | None = None
    everywhere: bool = False


@router.post("/logout", status_code=204, summary="Revoke a refresh token (or every session)")
def logout(principal: AnyRole, session: SessionDep, body: LogoutRequest) -> None:
    if principal.kind != "user":
        return
    if body.everywhere:  # access tokens too: they carry the version this bump retires
        user = session.get(User, principal.id)
        if user is not None:
            user.token_version += 1
        revoke_sessions(session, principal.id)
        return
    if body.refresh_token:
        row = session.scalar(
            select(RefreshToken).where(
                RefreshToken.token_hash == token_digest(body.refresh_token),
                RefreshToken.user_id == principal.id,
            )
        )
        if row is not None and row.revoked_at is None:
            row.revoked_at = utcnow()


@router.get("/me", response_model=Me, summary="Who the token belongs to, its role and scope")
def me(principal: AnyRole) -> Me:
    return Me(
        kind=principal.kind,
        name=principal.name,
        role=principal.role,
        communes=sorted(principal.communes),
        epcis=sorted(principal.epcis),
    )
