"""Escalation counts for ``/metrics``: messages waiting per channel, the oldest one's age, and
attempts by outcome, so that a mail server or gateway down shows before anyone misses a
message. ``samples()`` gives ``(name, labels, value)`` triples to render."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigie.clock import as_utc
from vigie.models import Notification

CHANNELS = ("email", "sms")
HELP = {
    "vigie_notifications_pending": "Notifications (e-mail, SMS) not sent yet, by channel.",
    "vigie_notifications_oldest_pending_seconds": "Age of the oldest notification not sent yet.",
    "vigie_notifications_attempts_total": "Notification attempts by outcome since start.",
}


@dataclass(frozen=True)
class NotificationStats:
    pending: Mapping[str, int]
    oldest_pending_seconds: float
    outcomes: Mapping[str, int] = field(default_factory=dict)

    def samples(self) -> Iterator[tuple[str, dict[str, str], float]]:
        for channel in CHANNELS:
            count = float(self.pending.get(channel, 0))
            yield "vigie_notifications_pending", {"channel": channel}, count
        yield "vigie_notifications_oldest_pending_seconds", {}, self.oldest_pending_seconds
        for outcome in ("sent", "failed"):
            count = float(self.outcomes.get(outcome, 0))
            yield "vigie_notifications_attempts_total", {"outcome": outcome}, count


def collect(
    session: Session, now: datetime, *, outcomes: Mapping[str, int] | None = None
) -> NotificationStats:
    """Read the counts; ``outcomes`` is the running notifier's ``Notifier.outcomes``."""
    waiting = (Notification.sent_at.is_(None), Notification.cancelled_at.is_(None))
    pending = dict(
        session.execute(
            select(Notification.channel, func.count())
            .where(*waiting)
            .group_by(Notification.channel)
        ).all()
    )
    oldest = session.scalar(select(func.min(Notification.created_at)).where(*waiting))
    age = 0.0 if oldest is None else max(0.0, (now - as_utc(oldest)).total_seconds())
    return NotificationStats(pending=pending, oldest_pending_seconds=age, outcomes=outcomes or {})
