"""The outbox: what each subscription still has to receive, and what happened to each attempt.

:func:`enqueue` copies the events after a subscription's cursor into the outbox and moves the
cursor in the same transaction: committed together or not at all, so a crash loses and doubles
nothing (the unique ``(webhook_id, seq)`` is a second guard). Events are gapless and committed in
``seq`` order (``vigie.supervisor.store.append_events``), so reading "after the cursor" never
skips one committed later.

A subscription is delivered by one dispatcher at a time (a lease on its row) and strictly in
order: only its oldest undelivered row is ever attempted, so a failing event holds the later
ones of that subscription and no other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from vigie.clock import as_utc
from vigie.credentials import KeyRing
from vigie.models import EventHead, SupervisionEvent, Webhook, WebhookDelivery
from vigie.webhooks.subscriptions import scope_codes, webhook_secret

BATCH = 1000
MAX_ERROR = 500


@dataclass(frozen=True)
class Job:
    """One delivery to attempt: everything the HTTP side needs, read in one transaction."""

    delivery_id: int
    webhook_id: int
    webhook_name: str
    url: str
    secret: str
    seq: int
    type: str
    payload: dict
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """What one attempt gave: ``delivered`` (2xx), ``gone`` (410) or ``failed`` (anything else)."""

    kind: str
    status: int | None = None
    error: str | None = None


def enqueue(session: Session, now: datetime, *, batch: int = BATCH) -> int:
    """Copy new events into the outbox of every active subscription; returns rows added.

    Each subscription's row is locked while its cursor moves (PostgreSQL ``FOR UPDATE``; SQLite
    has one writer), so two processes enqueueing at once never copy an event twice.
    """
    head = session.scalar(select(EventHead.last_seq).where(EventHead.id == 1)) or 0
    ids = session.scalars(
        select(Webhook.id).where(Webhook.active, Webhook.cursor < head).order_by(Webhook.id)
    ).all()
    added = 0
    for webhook_id in ids:
        row = session.scalar(
            select(Webhook)
            .where(Webhook.id == webhook_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if row is None or not row.active:
            continue
        events = session.scalars(
            select(SupervisionEvent)
            .where(SupervisionEvent.seq > row.cursor)
            .order_by(SupervisionEvent.seq)
            .limit(batch)
        ).all()
        if not events:
            continue
        codes = scope_codes(session, row)
        types = frozenset(row.event_types)
        for event in events:
            if types and event.type not in types:
                continue
            if codes is not None and event.commune_code not in codes:
                continue
            session.add(
                WebhookDelivery(
                    webhook_id=row.id,
                    seq=event.seq,
                    type=event.type,
                    payload=event.payload,
                    created_at=now,
                    attempts=0,
                    next_attempt_at=now,
                )
            )
            added += 1
        row.cursor = events[-1].seq
        session.flush()
    return added


def due_webhooks(session: Session, now: datetime) -> list[int]:
    """Active subscriptions whose oldest undelivered row may be attempted now."""
    oldest = (
        select(WebhookDelivery.webhook_id, func.min(WebhookDelivery.id).label("head"))
        .where(WebhookDelivery.delivered_at.is_(None))
        .group_by(WebhookDelivery.webhook_id)
        .subquery()
    )
    statement = (
        select(Webhook.id)
        .join(oldest, oldest.c.webhook_id == Webhook.id)
        .join(WebhookDelivery, WebhookDelivery.id == oldest.c.head)
        .where(Webhook.active, WebhookDelivery.next_attempt_at <= now)
        .order_by(Webhook.id)
    )
    return list(session.scalars(statement))


def claim(session: Session, webhook_id: int, owner: str, now: datetime, lease: timedelta) -> bool:
    """Take or renew the subscription's lease; False when another dispatcher holds it."""
    result = session.execute(
        update(Webhook)
        .where(
            Webhook.id == webhook_id,
            Webhook.active,
            or_(
                Webhook.lease_owner.is_(None),
                Webhook.lease_owner == owner,
                Webhook.lease_until < now,
            ),
        )
        .values(lease_owner=owner, lease_until=now + lease)
    )
    return result.rowcount == 1


def release(session: Session, webhook_id: int, owner: str) -> None:
    session.execute(
        update(Webhook)
        .where(Webhook.id == webhook_id, Webhook.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )


def next_jobs(
    session: Session,
    ring: KeyRing,
    webhook_id: int,
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int = 100,
) -> list[Job]:
    """The subscription's oldest undelivered rows, in order, if the oldest is due and the lease
    is ours; else none. The rows behind the oldest wait only for it, so they are due with it;
    they are attempted one by one and the batch stops at the first failure."""
    if not claim(session, webhook_id, owner, now, lease):
        return []
    rows = session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.delivered_at.is_(None))
        .order_by(WebhookDelivery.id)
        .limit(limit)
    ).all()
    if not rows or as_utc(rows[0].next_attempt_at) > now:
        return []
    webhook = session.get(Webhook, webhook_id)
    assert webhook is not None  # the lease update matched it
    secret = webhook_secret(ring, webhook)
    return [
        Job(
            delivery_id=row.id,
            webhook_id=webhook_id,
            webhook_name=webhook.name,
            url=webhook.url,
            secret=secret,
            seq=row.seq,
            type=row.type,
            payload=dict(row.payload),
            attempts=row.attempts,
        )
        for row in rows
    ]


def record_delivered(
    session: Session, job: Job, now: datetime, *, owner: str, lease: timedelta
) -> bool:
    """Mark a row delivered and renew the lease, in two UPDATEs (the common path: cheap).

    False when the lease was lost meanwhile (another dispatcher took over after it ran out):
    the caller stops its batch. The row is marked anyway, since it was delivered.
    """
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == job.delivery_id)
        .values(delivered_at=now, attempts=WebhookDelivery.attempts + 1, last_error=None)
    )
    renewed = session.execute(
        update(Webhook)
        .where(Webhook.id == job.webhook_id, Webhook.lease_owner == owner)
        .values(consecutive_failures=0, last_success_at=now, lease_until=now + lease)
    )
    return renewed.rowcount == 1


def record(
    session: Session,
    job: Job,
    outcome: Outcome,
    now: datetime,
    *,
    retry_in: float,
) -> int:
    """Store an attempt's outcome on the row and its subscription (:func:`record_delivered` is
    the faster path for a success).

    Delivered: the row is done and the failure count resets. Gone (410): the receiver asked to
    stop; the subscription is disabled and the row stays undelivered. Failed: the row waits
    ``retry_in`` seconds, holding the rows after it. Returns the subscription's failures in a
    row.
    """
    row = session.get(WebhookDelivery, job.delivery_id)
    webhook = session.get(Webhook, job.webhook_id)
    if row is None or webhook is None:  # removed while the request was in flight
        return 0
    row.attempts += 1
    if outcome.kind == "delivered":
        row.delivered_at = now
        row.last_error = None
        webhook.consecutive_failures = 0
        webhook.last_success_at = now
        return 0
    error = (outcome.error or "failed")[:MAX_ERROR]
    row.last_error = error
    webhook.last_failure_at = now
    webhook.last_error = error
    if outcome.kind == "gone":
        webhook.active = False
        webhook.disabled_reason = f"the receiver answered 410 Gone at {now.isoformat()}"
        webhook.lease_owner = webhook.lease_until = None
        return webhook.consecutive_failures
    webhook.consecutive_failures += 1
    row.next_attempt_at = now + timedelta(seconds=retry_in)
    return webhook.consecutive_failures


def purge_delivered(session: Session, *, now: datetime, retention: timedelta) -> int:
    """Delete rows delivered more than ``retention`` ago; returns how many went."""
    result = session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.delivered_at < now - retention)
    )
    return result.rowcount or 0
