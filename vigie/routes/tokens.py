"""``/api/v1/tokens``: API tokens for the centre's other systems (admin only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from vigie.auth.apitokens import MAX_DAYS, create_api_token, list_api_tokens, revoke_api_token
from vigie.auth.guards import require_roles
from vigie.auth.principal import Principal
from vigie.auth.roles import Role
from vigie.clock import as_utc
from vigie.deps import RowId, SessionDep
from vigie.models import ApiToken

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])

Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: Role
    days: int = Field(default=90, ge=1, le=MAX_DAYS)
    communes: list[str] = Field(default_factory=list)
    epcis: list[str] = Field(default_factory=list)


class TokenInfo(BaseModel):
    id: int
    name: str
    role: Role
    communes: list[str]
    epcis: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, row: ApiToken) -> TokenInfo:
        return cls(
            id=row.id,
            name=row.name,
            role=Role(row.role),
            communes=row.scope_communes,
            epcis=row.scope_epcis,
            created_by=row.created_by,
            created_at=as_utc(row.created_at),
            expires_at=as_utc(row.expires_at),
            revoked_at=as_utc(row.revoked_at) if row.revoked_at else None,
            last_used_at=as_utc(row.last_used_at) if row.last_used_at else None,
        )


class TokenCreated(TokenInfo):
    token: str = Field(description="Shown once: store it now, it cannot be read again.")


@router.post("", response_model=TokenCreated, status_code=201, summary="Create an API token")
def create(principal: Admin, session: SessionDep, body: TokenCreate) -> TokenCreated:
    row, token = create_api_token(
        session,
        name=body.name,
        role=body.role,
        days=body.days,
        communes=body.communes,
        epcis=body.epcis,
        actor=principal.actor,
        actor_role=principal.role,
        ip=principal.ip,
    )
    return TokenCreated(**TokenInfo.of(row).model_dump(), token=token)


@router.get("", response_model=list[TokenInfo], summary="List API tokens (never the secrets)")
def list_(principal: Admin, session: SessionDep) -> list[TokenInfo]:
    return [TokenInfo.of(row) for row in list_api_tokens(session)]


@router.delete("/{token_id}", status_code=204, summary="Revoke an API token")
def revoke(principal: Admin, session: SessionDep, token_id: RowId) -> None:
    row = revoke_api_token(
        session, token_id, actor=principal.actor, actor_role=principal.role, ip=principal.ip
    )
    if row is None:
        raise HTTPException(404, f"no API token {token_id}")
