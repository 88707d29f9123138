"""Webhook counts for ``/metrics``: pending rows, oldest pending age, subscription health,
attempts by outcome. ``samples()`` gives ``(name, labels, value)`` triples to render."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigie.clock import as_utc
from vigie.models import Webhook, WebhookDelivery

HELP = {
    "vigie_webhook_pending": "Outbox rows not delivered yet.",
    "vigie_webhook_oldest_pending_seconds": "Age of the oldest undelivered outbox row.",
    "vigie_webhook_subscriptions": "Subscriptions by health (healthy, unhealthy, disabled).",
    "vigie_webhook_deliveries_total": "Delivery attempts by outcome since the process started.",
}


@dataclass(frozen=True)
class WebhookStats:
    pending: int
    oldest_pending_seconds: float
    subscriptions: Mapping[str, int]
    outcomes: Mapping[str, int] = field(default_factory=dict)

    def samples(self) -> Iterator[tuple[str, dict[str, str], float]]:
        yield "vigie_webhook_pending", {}, float(self.pending)
        yield "vigie_webhook_oldest_pending_seconds", {}, self.oldest_pending_seconds
        for health in ("healthy", "unhealthy", "disabled"):
            count = float(self.subscriptions.get(health, 0))
            yield "vigie_webhook_subscriptions", {"health": health}, count
        for outcome in ("delivered", "failed", "gone"):
            count = float(self.outcomes.get(outcome, 0))
            yield "vigie_webhook_deliveries_total", {"outcome": outcome}, count


def collect(
    session: Session,
    now: datetime,
    *,
    unhealthy_after: int,
    outcomes: Mapping[str, int] | None = None,
) -> WebhookStats:
    """Read the counts; ``outcomes`` is the running dispatcher's ``Dispatcher.outcomes``."""
    pending, oldest = session.execute(
        select(func.count(), func.min(WebhookDelivery.created_at)).where(
            WebhookDelivery.delivered_at.is_(None)
        )
    ).one()
    health: dict[str, int] = {"healthy": 0, "unhealthy": 0, "disabled": 0}
    for active, failures in session.execute(select(Webhook.active, Webhook.consecutive_failures)):
        if not active:
            health["disabled"] += 1
        elif failures >= unhealthy_after:
            health["unhealthy"] += 1
        else:
            health["healthy"] += 1
    age = 0.0 if oldest is None else max(0.0, (now - as_utc(oldest)).total_seconds())
    return WebhookStats(
        pending=pending, oldest_pending_seconds=age, subscriptions=health, outcomes=outcomes or {}
    )
