"""Webhook subscriptions and the events they deliver, written as the service writes them; the
dispatcher's short intervals (the fixtures of tests/vigie/webhooks/conftest.py use them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from supervision.states import Policy
from tests.helpers.supervision_data import STEP, T0, ok, outage
from vigie import db
from vigie.credentials import KeyRing
from vigie.models import SupervisionEvent, Webhook
from vigie.supervisor.store import apply_result
from vigie.webhooks.subscriptions import create_webhook
from vigie.webhooks.targets import parse_networks

# The webhook tests' settings: the dispatcher polls and retries on short intervals.
FAST = {
    "webhook_poll_seconds": 0.05,
    "webhook_backoff_base_seconds": 0.05,
    "webhook_backoff_cap_seconds": 0.4,
    "webhook_timeout_seconds": 2.0,  # short, yet above a loaded machine's answer time
}


def subscribe(
    sessions: sessionmaker[Session], ring: KeyRing, name: str, url: str, **options: object
) -> tuple[int, str]:
    """A subscription as the API makes one: (id, secret); the receivers listen on loopback,
    which a subscription may target only when allowed."""
    options.setdefault("allowed", parse_networks("127.0.0.0/8"))
    with db.session_scope(sessions) as session:
        row, secret = create_webhook(
            session, ring, name=name, url=url, actor="admin", actor_role="admin", **options
        )
        return row.id, secret


def write_outage(
    sessions: sessionmaker[Session], camera_id: str = "cam-a1", start: datetime = T0
) -> list[int]:
    """An outage and recovery of one camera, one transaction per result: returns the new seqs.

    Called again for the same camera, ``start`` must come after the previous call's results.
    """
    with sessions() as session:
        before = session.scalar(select(SupervisionEvent.seq).order_by(SupervisionEvent.seq.desc()))
    results = [ok(camera_id, start), *outage(camera_id, start + STEP, 3, 2)]
    for result in results:
        with db.session_scope(sessions) as session:
            apply_result(session, camera_id, result, Policy(), result.time)
    with sessions() as session:
        return list(
            session.scalars(
                select(SupervisionEvent.seq)
                .where(SupervisionEvent.seq > (before or 0))
                .order_by(SupervisionEvent.seq)
            )
        )


def webhook(sessions: sessionmaker[Session], webhook_id: int) -> Webhook:
    with sessions() as session:
        row = session.get(Webhook, webhook_id)
        assert row is not None
        return row
