"""The notifications outbox: what escalation asks for, and what happened to each attempt.

:func:`plan` looks at every open, unacknowledged incident and adds the rows its rule asks for
now: level ``k`` is reached ``after_minutes`` after the incident opened, and each reached level
is told again every ``repeat_minutes`` (round 0, 1, 2 ...). Rows are keyed by (incident, level,
round, channel, recipient), so planning twice, or in two processes, adds nothing twice; after a
stop, only the current round is added (no burst of missed reminders). A camera inside a
maintenance window, or back up while its incident waits to close, is silent. A camera on a mast
is told only once ``hold`` (the correlation window) has passed since its incident opened: if its
mast or fibre branch failed, correlation folds it under the cause meanwhile, and only the cause is
told (one message per fault, not one per camera).

Rows are sent by the dispatcher, each claimed with a lease so that one process sends it; a
failed attempt waits its backoff and is tried again, never given up: nothing is lost while the
mail server or the gateway is down. A row whose incident was acknowledged or closed meanwhile
(or whose camera is back up or in maintenance) is cancelled instead of sent. Every outcome is
audited (``notification.sent|failed|cancelled``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from vigie import audit
from vigie.clock import as_utc
from vigie.models import (
    Camera,
    Commune,
    IncidentRow,
    MaintenanceWindowRow,
    Notification,
    NotificationRule,
)
from vigie.notify import message
from vigie.notify.rules import matching_rule

ACTOR = "vigie:notify"
ROLE = "system"
MAX_ERROR = 500
CAMERA = "camera"
RECOVERED = "up"
"""An incident's state while its camera is back and it waits its quiet period to close: no
reminder then (a false alarm teaches people to ignore the next one); if the problem returns, the
same incident goes on, and so do its notifications."""
CHANNELS = (("email", "email"), ("sms", "phone"))
"""Each channel and the recipient field it uses."""


@dataclass(frozen=True)
class Job:
    """One message to send, read in one transaction."""

    id: int
    incident_id: int
    channel: str
    recipient: str
    subject: str
    text: str
    attempts: int


def _in_maintenance(session: Session, camera_ids: list[str], now: datetime) -> set[str]:
    if not camera_ids:
        return set()
    return set(
        session.scalars(
            select(MaintenanceWindowRow.camera_id).where(
                MaintenanceWindowRow.camera_id.in_(camera_ids),
                MaintenanceWindowRow.start <= now,
                MaintenanceWindowRow.end > now,
            )
        )
    )


def plan(session: Session, now: datetime, *, base_url: str, hold: timedelta = timedelta(0)) -> int:
    """Add the notifications due now for every open, unacknowledged incident; returns how many.

    The incidents are locked while planned (``FOR UPDATE SKIP LOCKED`` on PostgreSQL: another
    process plans the others; SQLite has one writer); the unique key is a second guard.
    """
    rules = list(session.scalars(select(NotificationRule).order_by(NotificationRule.id)))
    if not rules:  # nobody to tell: lock nothing
        return 0
    found = session.execute(
        select(IncidentRow, Camera.name, Camera.commune_code, Commune.nom)
        .join(Camera, Camera.id == IncidentRow.camera_id)
        .join(Commune, Commune.code == Camera.commune_code)
        .where(
            IncidentRow.closed_at.is_(None),
            IncidentRow.acknowledged_at.is_(None),
            IncidentRow.state != RECOVERED,
            IncidentRow.parent_id.is_(None),  # told through its cause incident (correlation)
            or_(  # a mast's camera waits to see whether correlation folds it under a cause
                IncidentRow.kind != CAMERA,
                Camera.mast_id.is_(None),
                IncidentRow.opened_at <= now - hold,
            ),
        )
        .order_by(IncidentRow.id)
        .with_for_update(of=IncidentRow, skip_locked=True)
    ).all()
    if not found:
        return 0
    silent = _in_maintenance(session, [row.camera_id for row, *_ in found], now)
    held = _held_cameras(session, [row.id for row, *_ in found if row.kind != CAMERA])
    by_id = {rule.id: rule for rule in rules}
    ids = [row.id for row, *_ in found]
    existing: dict[int, set[tuple]] = {}
    chosen: dict[int, int] = {}
    for incident_id, rule_id, level, round_, channel, recipient in session.execute(
        select(
            Notification.incident_id,
            Notification.rule_id,
            Notification.level,
            Notification.round,
            Notification.channel,
            Notification.recipient,
        )
        .where(Notification.incident_id.in_(ids))
        .order_by(Notification.id.desc())  # the latest rule an incident was told by goes on
    ):
        existing.setdefault(incident_id, set()).add((level, round_, channel, recipient))
        if rule_id in by_id:
            chosen.setdefault(incident_id, rule_id)
    added = 0
    for row, camera_name, commune_code, commune_name in found:
        if row.camera_id in silent:
            continue
        rule = by_id.get(chosen.get(row.id, -1))
        if rule is None:
            rule = matching_rule(rules, row.severity, commune_code, now)
        if rule is None or not rule.active:  # a rule turned off tells nobody more
            continue
        opened = as_utc(row.opened_at)
        elapsed = (now - opened).total_seconds() / 60
        seen = existing.get(row.id, set())
        for level_no, level in enumerate(rule.levels, start=1):
            if elapsed < level["after_minutes"]:
                break
            round_ = int((elapsed - level["after_minutes"]) // rule.repeat_minutes)
            facts = message.Facts(
                incident_id=row.id,
                key=row.key,
                camera_id=row.camera_id,
                camera_name=camera_name,
                commune_code=commune_code,
                commune_name=commune_name,
                severity=row.severity,
                causes=list(row.causes),
                opened_at=opened,
                level=level_no,
                round=round_,
                # A cause incident (correlation) says what probably failed, and its cameras.
                cause=row.cause_label if row.kind != CAMERA else None,
                cameras=held.get(row.id, ()),
            )
            for notification in _rows(facts, rule.id, level["recipients"], now, base_url):
                key = (level_no, round_, notification.channel, notification.recipient)
                if key not in seen:
                    seen.add(key)
                    session.add(notification)
                    added += 1
    session.flush()
    return added


def _held_cameras(session: Session, cause_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """Each cause incident's cameras (its open camera incidents), as « name (id) »."""
    found: dict[int, list[str]] = {}
    if cause_ids:
        for parent_id, camera_id, name in session.execute(
            select(IncidentRow.parent_id, Camera.id, Camera.name)
            .join(Camera, Camera.id == IncidentRow.camera_id)
            .where(IncidentRow.parent_id.in_(cause_ids), IncidentRow.closed_at.is_(None))
            .order_by(Camera.id)
        ):
            found.setdefault(parent_id, []).append(f"{name} ({camera_id})")
    return {cause: tuple(names) for cause, names in found.items()}


def _rows(
    facts: message.Facts, rule_id: int, recipients: list[dict], now: datetime, base_url: str
) -> list[Notification]:
    """One row per recipient and channel it has (e-mail, SMS) for one level and round."""
    rows = []
    for recipient in recipients:
        for channel, field in CHANNELS:
            address = recipient.get(field)
            if not address:
                continue
            if channel == "email":
                subject = message.subject(facts)
                text = message.email_text(facts, now, base_url)
            else:
                subject, text = "", message.sms_text(facts, now, base_url)
            rows.append(
                Notification(
                    incident_id=facts.incident_id,
                    rule_id=rule_id,
                    level=facts.level,
                    round=facts.round,
                    channel=channel,
                    recipient=address,
                    name=recipient.get("name") or "",
                    subject=subject,
                    text=text,
                    created_at=now,
                    attempts=0,
                    next_attempt_at=now,
                )
            )
    return rows


def due(session: Session, now: datetime, *, limit: int = 100) -> list[int]:
    """Rows to attempt now, oldest first, whose lease is free."""
    return list(
        session.scalars(
            select(Notification.id)
            .where(
                Notification.sent_at.is_(None),
                Notification.cancelled_at.is_(None),
                Notification.next_attempt_at <= now,
                or_(Notification.lease_until.is_(None), Notification.lease_until < now),
            )
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(limit)
        )
    )


def claim(
    session: Session, notification_id: int, owner: str, now: datetime, lease: timedelta
) -> Job | None:
    """Take the row's lease and read it; None when another process has it, it is done, or it
    was cancelled now because its incident was acknowledged, closed, folded under a cause
    incident (correlation) or is in maintenance."""
    taken = session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.sent_at.is_(None),
            Notification.cancelled_at.is_(None),
            or_(Notification.lease_until.is_(None), Notification.lease_until < now),
        )
        .values(lease_owner=owner, lease_until=now + lease)
    )
    if taken.rowcount != 1:
        return None
    row = session.get(Notification, notification_id, populate_existing=True)
    assert row is not None
    incident = session.get(IncidentRow, row.incident_id)
    reason = None
    if incident is None or incident.closed_at is not None:
        reason = "closed"
    elif incident.acknowledged_at is not None:
        reason = "acknowledged"
    elif incident.state == RECOVERED:
        reason = "recovered"
    elif incident.parent_id is not None:
        reason = "suppressed"  # its cause incident is told instead (correlation)
    elif _in_maintenance(session, [incident.camera_id], now):
        reason = "maintenance"
    if reason is not None:
        row.cancelled_at, row.cancel_reason = now, reason
        row.lease_owner = row.lease_until = None
        _audit(session, row, "notification.cancelled", {"reason": reason})
        return None
    return Job(
        id=row.id,
        incident_id=row.incident_id,
        channel=row.channel,
        recipient=row.recipient,
        subject=row.subject,
        text=row.text,
        attempts=row.attempts,
    )


def record(
    session: Session, job: Job, now: datetime, *, error: str | None, retry_in: float
) -> None:
    """Store one attempt: sent, or failed and due again in ``retry_in`` seconds; audited."""
    row = session.get(Notification, job.id)
    if row is None:  # its incident was deleted with its camera meanwhile
        return
    row.attempts += 1
    row.lease_owner = row.lease_until = None
    if error is None:
        row.sent_at = now
        row.last_error = None
        _audit(session, row, "notification.sent", {})
        return
    row.last_error = error[:MAX_ERROR]
    row.next_attempt_at = now + timedelta(seconds=retry_in)
    _audit(session, row, "notification.failed", {"error": row.last_error})


def _audit(session: Session, row: Notification, action: str, extra: dict) -> None:
    audit.record(
        session,
        actor=ACTOR,
        role=ROLE,
        action=action,
        object_type="notification",
        object_id=str(row.id),
        detail={
            "incident": row.incident_id,
            "rule": row.rule_id,
            "level": row.level,
            "round": row.round,
            "channel": row.channel,
            "recipient": row.recipient,
            "attempt": row.attempts,
            **extra,
        },
    )


def status_of(row: Notification) -> str:
    """``sent``, ``cancelled``, ``failed`` (tried, will be tried again) or ``pending``."""
    if row.sent_at is not None:
        return "sent"
    if row.cancelled_at is not None:
        return "cancelled"
    return "failed" if row.attempts else "pending"


def of_incident(session: Session, incident_id: int) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.incident_id == incident_id)
            .order_by(Notification.id)
        )
    )
