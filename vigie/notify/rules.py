"""Notification rules: which incidents (severity, commune), when (on-call schedule), to whom
(escalation levels). Every change is audited (``notification_rule.create|update|delete``).

A rule is matched at an incident's first notification: the most specific active rule on call
then (one naming the incident's commune before one for the whole département, then the oldest)
follows the incident to its end, so an escalation never changes hands half-way; turned off
(``active`` false), it tells nobody more.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie import audit
from vigie.models import NotificationRule
from vigie.notify.schedule import on_call, parse_hhmm
from vigie.plain_text import Line

SEVERITIES = ("minor", "major", "critical")
"""The incidents' severities (``supervision.incidents``)."""

EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251})\.[A-Za-z]{2,63}$")
PHONE = re.compile(r"^\+?[0-9]{6,15}$")


def _hhmm(text: str) -> str:
    parse_hhmm(text)
    return text


def _email(text: str) -> str:
    if not EMAIL.match(text):
        raise ValueError("not an e-mail address")
    return text


def _phone(text: str) -> str:
    compact = re.sub(r"[ .-]", "", text)
    if not PHONE.match(compact):
        raise ValueError("not a phone number (digits, optionally starting with +)")
    return compact


Email = Annotated[str, Field(max_length=254), AfterValidator(_email)]
Phone = Annotated[str, Field(max_length=32), AfterValidator(_phone)]
HHMM = Annotated[str, Field(max_length=5, examples=["08:00"]), AfterValidator(_hhmm)]


class Recipient(BaseModel):
    name: Line = Field(default="", max_length=200)
    email: Email | None = None
    phone: Phone | None = Field(default=None, description="For SMS, e.g. +33612345678.")

    @model_validator(mode="after")
    def _reachable(self) -> Recipient:
        if self.email is None and self.phone is None:
            raise ValueError("a recipient needs an e-mail address or a phone number")
        return self


class Level(BaseModel):
    after_minutes: int = Field(
        ge=0, le=10080, description="Minutes unacknowledged before this level is told."
    )
    recipients: list[Recipient] = Field(min_length=1, max_length=50)


class TimeRange(BaseModel):
    days: list[Annotated[int, Field(ge=1, le=7)]] = Field(
        min_length=1, max_length=7, description="ISO weekdays: 1 Monday ... 7 Sunday."
    )
    start: HHMM
    end: HHMM = Field(description="At or before start: runs into the next day.")


class RuleSpec(BaseModel):
    """What an administrator writes; the API's body for create and replace."""

    name: Line = Field(min_length=1, max_length=100)
    severities: list[Literal["minor", "major", "critical"]] = Field(
        default_factory=list, max_length=3, description="Empty: every severity."
    )
    communes: list[Annotated[str, Field(pattern=r"^[0-9][0-9AB][0-9]{3}$")]] = Field(
        default_factory=list, max_length=1000, description="INSEE codes; empty: all."
    )
    schedule: list[TimeRange] = Field(
        default_factory=list, max_length=50, description="Europe/Paris; empty: always."
    )
    levels: list[Level] = Field(min_length=1, max_length=10)
    repeat_minutes: int = Field(
        default=15, ge=1, le=1440, description="Repeat to each reached level until acknowledged."
    )
    active: bool = True

    @model_validator(mode="after")
    def _levels_in_order(self) -> RuleSpec:
        afters = [level.after_minutes for level in self.levels]
        if afters[0] != 0:
            raise ValueError("level 1 is told at once: its after_minutes must be 0")
        if any(b <= a for a, b in itertools.pairwise(afters)):
            raise ValueError("each level's after_minutes must be greater than the previous one's")
        return self


def _apply(row: NotificationRule, spec: RuleSpec) -> None:
    row.name = spec.name
    row.severities = list(spec.severities)
    row.communes = list(spec.communes)
    row.schedule = [entry.model_dump() for entry in spec.schedule]
    row.levels = [level.model_dump() for level in spec.levels]
    row.repeat_minutes = spec.repeat_minutes
    row.active = spec.active


def _summary(row: NotificationRule) -> dict:
    """What the audit trail keeps of a rule: its shape and who it reaches."""
    return {
        "name": row.name,
        "severities": row.severities,
        "communes": row.communes,
        "schedule": row.schedule,
        "levels": row.levels,
        "repeat_minutes": row.repeat_minutes,
        "active": row.active,
    }


class RuleNameTakenError(ValueError):
    """Another rule already has this name."""


def _check_name(session: Session, name: str, rule_id: int | None) -> None:
    other = session.scalar(select(NotificationRule.id).where(NotificationRule.name == name))
    if other is not None and other != rule_id:
        raise RuleNameTakenError(f"a notification rule named {name!r} exists already")


def create_rule(
    session: Session, spec: RuleSpec, *, actor: str, role: str, ip: str, now: datetime
) -> NotificationRule:
    _check_name(session, spec.name, None)
    row = NotificationRule(created_by=actor, created_at=now, updated_at=now)
    _apply(row, spec)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        role=role,
        ip=ip,
        action="notification_rule.create",
        object_type="notification_rule",
        object_id=str(row.id),
        detail=_summary(row),
    )
    return row


def update_rule(
    session: Session,
    rule_id: int,
    spec: RuleSpec,
    *,
    actor: str,
    role: str,
    ip: str,
    now: datetime,
) -> NotificationRule | None:
    row = session.get(NotificationRule, rule_id)
    if row is None:
        return None
    _check_name(session, spec.name, rule_id)
    _apply(row, spec)
    row.updated_at = now
    session.flush()
    audit.record(
        session,
        actor=actor,
        role=role,
        ip=ip,
        action="notification_rule.update",
        object_type="notification_rule",
        object_id=str(row.id),
        detail=_summary(row),
    )
    return row


def delete_rule(session: Session, rule_id: int, *, actor: str, role: str, ip: str) -> bool:
    row = session.get(NotificationRule, rule_id)
    if row is None:
        return False
    detail = _summary(row)
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        role=role,
        ip=ip,
        action="notification_rule.delete",
        object_type="notification_rule",
        object_id=str(rule_id),
        detail=detail,
    )
    return True


def list_rules(session: Session) -> list[NotificationRule]:
    return list(session.scalars(select(NotificationRule).order_by(NotificationRule.id)))


def applies(rule: NotificationRule, severity: str, commune: str, moment: datetime) -> bool:
    """Whether an active rule covers an incident of ``severity`` in ``commune`` at ``moment``."""
    return (
        rule.active
        and (not rule.severities or severity in rule.severities)
        and (not rule.communes or commune in rule.communes)
        and on_call(rule.schedule, moment)
    )


def matching_rule(
    rules: list[NotificationRule], severity: str, commune: str, moment: datetime
) -> NotificationRule | None:
    """The most specific rule that applies: one naming the commune first, then the oldest."""
    found = [rule for rule in rules if applies(rule, severity, commune, moment)]
    found.sort(key=lambda rule: (not rule.communes, rule.id))
    return found[0] if found else None
