"""``/api/v1/webhooks``: the centre's systems that receive events by signed POST (admin only)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from vigie import audit
from vigie.auth.guards import require_roles
from vigie.auth.principal import Principal
from vigie.auth.roles import Role
from vigie.clock import as_utc, utcnow
from vigie.credentials import KeyRing
from vigie.deps import RowId, SessionDep, SettingsDep
from vigie.models import Webhook
from vigie.webhooks.ping import ping
from vigie.webhooks.subscriptions import (
    EVENT_TYPES,
    create_webhook,
    healthy,
    list_webhooks,
    pending_counts,
    remove_webhook,
    webhook_secret,
)
from vigie.webhooks.targets import parse_networks

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])

Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


class WebhookCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=8, max_length=2000, description="http:// or https:// only.")
    event_types: list[str] = Field(
        default_factory=list, description=f"Among {', '.join(EVENT_TYPES)}; empty: all."
    )
    communes: list[str] = Field(default_factory=list, description="INSEE codes; empty: all.")
    epcis: list[str] = Field(default_factory=list, description="EPCI SIRENs; empty: all.")


class WebhookInfo(BaseModel):
    id: int
    name: str
    url: str
    event_types: list[str]
    communes: list[str]
    epcis: list[str]
    active: bool
    healthy: bool = Field(description="Active and fewer failures in a row than the threshold.")
    disabled_reason: str | None
    consecutive_failures: int
    pending: int = Field(description="Events waiting in the outbox.")
    cursor: int = Field(description="Last event seq copied into the outbox.")
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str | None
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, row: Webhook, *, pending: int, unhealthy_after: int) -> "WebhookInfo":
        return cls(
            id=row.id,
            name=row.name,
            url=row.url,
            event_types=row.event_types,
            communes=row.scope_communes,
            epcis=row.scope_epcis,
            active=row.active,
            healthy=healthy(row, unhealthy_after),
            disabled_reason=row.disabled_reason,
            consecutive_failures=row.consecutive_failures,
            pending=pending,
            cursor=row.cursor,
            last_success_at=as_utc(row.last_success_at) if row.last_success_at else None,
            last_failure_at=as_utc(row.last_failure_at) if row.last_failure_at else None,
            last_error=row.last_error,
            created_by=row.created_by,
            created_at=as_utc(row.created_at),
        )


class WebhookCreated(WebhookInfo):
    secret: str = Field(description="Shown once: the receiver verifies signatures with it.")


class PingResult(BaseModel):
    delivered: bool
    status: int | None = Field(description="The receiver's HTTP status, if it answered.")
    error: str | None


@router.post("", response_model=WebhookCreated, status_code=201, summary="Subscribe a receiver")
def create(
    principal: Admin, session: SessionDep, settings: SettingsDep, body: WebhookCreate
) -> WebhookCreated:
    row, secret = create_webhook(
        session,
        KeyRing.from_settings(settings),
        name=body.name,
        url=body.url,
        event_types=body.event_types,
        communes=body.communes,
        epcis=body.epcis,
        actor=principal.actor,
        actor_role=principal.role,
        ip=principal.ip,
        allowed=parse_networks(settings.webhook_allowed_networks),
    )
    info = WebhookInfo.of(row, pending=0, unhealthy_after=settings.webhook_unhealthy_after)
    return WebhookCreated(**info.model_dump(), secret=secret)


@router.get("", response_model=list[WebhookInfo], summary="List subscriptions (never secrets)")
def list_(principal: Admin, session: SessionDep, settings: SettingsDep) -> list[WebhookInfo]:
    pending = pending_counts(session)
    return [
        WebhookInfo.of(
            row, pending=pending.get(row.id, 0), unhealthy_after=settings.webhook_unhealthy_after
        )
        for row in list_webhooks(session)
    ]


@router.delete("/{webhook_id}", status_code=204, summary="Remove a subscription and its outbox")
def remove(principal: Admin, session: SessionDep, webhook_id: RowId) -> None:
    row = remove_webhook(
        session, webhook_id, actor=principal.actor, actor_role=principal.role, ip=principal.ip
    )
    if row is None:
        raise HTTPException(404, f"no webhook {webhook_id}")


@router.post("/{webhook_id}/test", response_model=PingResult, summary="Send a signed ping now")
def test(
    principal: Admin, session: SessionDep, settings: SettingsDep, webhook_id: RowId
) -> PingResult:
    row = session.get(Webhook, webhook_id)
    if row is None:
        raise HTTPException(404, f"no webhook {webhook_id}")
    secret = webhook_secret(KeyRing.from_settings(settings), row)
    outcome = ping(
        row.name,
        row.url,
        secret,
        now=utcnow(),
        timeout=settings.webhook_timeout_seconds,
        allowed=parse_networks(settings.webhook_allowed_networks),
    )
    audit.record_by(
        session,
        principal,
        action="webhook.test",
        object_type="webhook",
        object_id=str(row.id),
        detail={"name": row.name, "outcome": outcome.kind, "status": outcome.status},
    )
    return PingResult(
        delivered=outcome.kind == "delivered", status=outcome.status, error=outcome.error
    )
