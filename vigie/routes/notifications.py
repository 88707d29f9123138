"""``/api/v1/notification-rules`` (admin) and ``/api/v1/incidents/{id}/notifications``: who is
told of incidents by e-mail and SMS, and what each incident's notifications did (README:
Escalation)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import select

from vigie.auth.guards import require_roles
from vigie.auth.principal import Principal, apply_scope
from vigie.auth.roles import Role
from vigie.clock import as_utc, utcnow
from vigie.deps import RowId, SessionDep
from vigie.models import Camera, IncidentRow, Notification, NotificationRule
from vigie.notify import outbox
from vigie.notify.rules import (
    Level,
    RuleNameTakenError,
    RuleSpec,
    TimeRange,
    create_rule,
    delete_rule,
    list_rules,
    update_rule,
)

router = APIRouter(tags=["escalation"])

Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
Reader = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.OPERATOR))]


class RuleInfo(BaseModel):
    id: int
    name: str
    severities: list[str]
    communes: list[str]
    schedule: list[TimeRange]
    levels: list[Level]
    repeat_minutes: int
    active: bool
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: NotificationRule) -> RuleInfo:
        return cls(
            id=row.id,
            name=row.name,
            severities=row.severities,
            communes=row.communes,
            schedule=row.schedule,
            levels=row.levels,
            repeat_minutes=row.repeat_minutes,
            active=row.active,
            created_by=row.created_by,
            created_at=as_utc(row.created_at),
            updated_at=as_utc(row.updated_at),
        )


class NotificationInfo(BaseModel):
    id: int
    rule_id: int | None
    level: int = Field(description="Escalation level, 1 first.")
    round: int = Field(description="0 the first message of the level, then each repeat.")
    channel: str = Field(description="email or sms.")
    recipient: str
    name: str
    status: str = Field(description="pending, sent, failed (tried again later) or cancelled.")
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    last_error: str | None

    @classmethod
    def of(cls, row: Notification) -> NotificationInfo:
        def maybe(moment: datetime | None) -> datetime | None:
            return None if moment is None else as_utc(moment)

        return cls(
            id=row.id,
            rule_id=row.rule_id,
            level=row.level,
            round=row.round,
            channel=row.channel,
            recipient=row.recipient,
            name=row.name,
            status=outbox.status_of(row),
            attempts=row.attempts,
            created_at=as_utc(row.created_at),
            next_attempt_at=as_utc(row.next_attempt_at),
            sent_at=maybe(row.sent_at),
            cancelled_at=maybe(row.cancelled_at),
            cancel_reason=row.cancel_reason,
            last_error=row.last_error,
        )


RULES = "/api/v1/notification-rules"


@router.get(RULES, response_model=list[RuleInfo], summary="List notification rules")
def list_(principal: Admin, session: SessionDep) -> list[RuleInfo]:
    return [RuleInfo.of(row) for row in list_rules(session)]


@router.post(RULES, response_model=RuleInfo, status_code=201, summary="Add a notification rule")
def create(principal: Admin, session: SessionDep, body: RuleSpec) -> RuleInfo:
    try:
        row = create_rule(
            session,
            body,
            actor=principal.actor,
            role=principal.role,
            ip=principal.ip,
            now=utcnow(),
        )
    except RuleNameTakenError as error:
        raise HTTPException(409, str(error)) from error
    return RuleInfo.of(row)


@router.get(RULES + "/{rule_id}", response_model=RuleInfo, summary="One notification rule")
def read(principal: Admin, session: SessionDep, rule_id: RowId) -> RuleInfo:
    row = session.get(NotificationRule, rule_id)
    if row is None:
        raise HTTPException(404, f"no notification rule {rule_id}")
    return RuleInfo.of(row)


@router.put(RULES + "/{rule_id}", response_model=RuleInfo, summary="Replace a notification rule")
def replace(principal: Admin, session: SessionDep, rule_id: RowId, body: RuleSpec) -> RuleInfo:
    try:
        row = update_rule(
            session,
            rule_id,
            body,
            actor=principal.actor,
            role=principal.role,
            ip=principal.ip,
            now=utcnow(),
        )
    except RuleNameTakenError as error:
        raise HTTPException(409, str(error)) from error
    if row is None:
        raise HTTPException(404, f"no notification rule {rule_id}")
    return RuleInfo.of(row)


@router.delete(RULES + "/{rule_id}", status_code=204, summary="Remove a notification rule")
def remove(principal: Admin, session: SessionDep, rule_id: RowId) -> None:
    if not delete_rule(
        session, rule_id, actor=principal.actor, role=principal.role, ip=principal.ip
    ):
        raise HTTPException(404, f"no notification rule {rule_id}")


@router.get(
    "/api/v1/incidents/{incident_id}/notifications",
    response_model=list[NotificationInfo],
    summary="The e-mails and SMS sent (or due) for an incident",
)
def of_incident(
    principal: Reader, session: SessionDep, incident_id: RowId
) -> list[NotificationInfo]:
    statement = apply_scope(
        select(IncidentRow.id)
        .join(Camera, Camera.id == IncidentRow.camera_id)
        .where(IncidentRow.id == incident_id),
        principal,
        Camera.commune_code,
    )
    if session.scalar(statement) is None:
        raise HTTPException(404, f"no incident {incident_id}")
    return [NotificationInfo.of(row) for row in outbox.of_incident(session, incident_id)]
