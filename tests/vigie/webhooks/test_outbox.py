"""The outbox on a real database: enqueue moves the cursor in the same transaction, filters by
type and scope, never copies an event twice; delivery outcomes; purge; metrics counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.helpers.service import EPCI_B
from tests.helpers.supervision_data import T0
from tests.helpers.webhook_data import subscribe, webhook, write_outage
from vigie import db
from vigie.credentials import CredentialsError, KeyRing, generate_key, key_id_of
from vigie.models import SupervisionEvent, WebhookDelivery
from vigie.settings import parse_key_ring
from vigie.webhooks import metrics, outbox
from vigie.webhooks.outbox import Outcome
from vigie.webhooks.subscriptions import WebhookError, rotate_secrets, webhook_secret

URL = "http://127.0.0.1:32999/hook"
LEASE = timedelta(seconds=60)


def rows(sessions: sessionmaker[Session], webhook_id: int) -> list[WebhookDelivery]:
    with sessions() as session:
        return list(
            session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.webhook_id == webhook_id)
                .order_by(WebhookDelivery.id)
            )
        )


def take(session: Session, ring: KeyRing, webhook_id: int, owner: str, now):
    """The first job of the batch the dispatcher would get, or None."""
    jobs = outbox.next_jobs(session, ring, webhook_id, owner=owner, now=now, lease=LEASE)
    return jobs[0] if jobs else None


def enqueue(sessions: sessionmaker[Session]) -> int:
    with db.session_scope(sessions) as session:
        return outbox.enqueue(session, T0)


def test_a_subscription_receives_events_from_its_creation_on(
    sessions: sessionmaker[Session], ring: KeyRing
) -> None:
    before = write_outage(sessions, "cam-a1")
    webhook_id, _ = subscribe(sessions, ring, "hypervision", URL)
    assert webhook(sessions, webhook_id).cursor == before[-1]
    after = write_outage(sessions, "cam-b1")
    assert enqueue(sessions) == len(after)
    queued = rows(sessions, webhook_id)
    assert [r.seq for r in queued] == after
    with sessions() as session:
        stored = {e.seq: e.payload for e in session.scalars(select(SupervisionEvent))}
    assert all(r.payload == stored[r.seq] for r in queued)
    assert webhook(sessions, webhook_id).cursor == after[-1]
    assert enqueue(sessions) == 0  # nothing new: nothing copied twice
    assert len(rows(sessions, webhook_id)) == len(after)


def test_the_cursor_and_the_rows_commit_or_roll_back_together(
    sessions: sessionmaker[Session], ring: KeyRing
) -> None:
    webhook_id, _ = subscribe(sessions, ring, "hypervision", URL)
    seqs = write_outage(sessions)
    with pytest.raises(RuntimeError), db.session_scope(sessions) as session:
        assert outbox.enqueue(session, T0) == len(seqs)
        raise RuntimeError("crash before commit")
    assert rows(sessions, webhook_id) == []
    assert webhook(sessions, webhook_id).cursor == seqs[0] - 1
    assert enqueue(sessions) == len(seqs)  # the restart copies them, once
    assert [r.seq for r in rows(sessions, webhook_id)] == seqs


def test_type_and_scope_filters(sessions: sessionmaker[Session], ring: KeyRing) -> None:
    everything, _ = subscribe(sessions, ring, "all", URL)
    commune, _ = subscribe(sessions, ring, "mairie", URL, communes=["27056"])
    epci, _ = subscribe(sessions, ring, "epci-b", URL, epcis=[EPCI_B])
    opened, _ = subscribe(sessions, ring, "opened", URL, event_types=["incident_opened"])
    a1 = write_outage(sessions, "cam-a1")  # commune 27056, EPCI A
    a2 = write_outage(sessions, "cam-a2")  # commune 27229, EPCI A
    b1 = write_outage(sessions, "cam-b1")  # commune 27681, EPCI B
    enqueue(sessions)
    assert [r.seq for r in rows(sessions, everything)] == a1 + a2 + b1
    assert [r.seq for r in rows(sessions, commune)] == a1
    assert [r.seq for r in rows(sessions, epci)] == b1
    assert {r.type for r in rows(sessions, opened)} == {"incident_opened"}
    assert len(rows(sessions, opened)) == 3
    for webhook_id in (everything, commune, epci, opened):  # every cursor reached the end
        assert webhook(sessions, webhook_id).cursor == b1[-1]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": "ftp://centre.example/hook"}, "only http:// and https://"),
        ({"url": "file:///etc/passwd"}, "only http:// and https://"),
        ({"url": "https://user:pw@centre.example/hook"}, "no user:password@"),
        ({"url": "https:///hook"}, "no host"),
        ({"event_types": ["camera_exploded"]}, "unknown event types camera_exploded"),
        ({"communes": ["99999"]}, "unknown communes or EPCIs: 99999"),
        ({"name": " "}, "needs a name"),
    ],
)
def test_bad_subscriptions_are_refused_with_a_reason(
    sessions: sessionmaker[Session], ring: KeyRing, options: dict, message: str
) -> None:
    values = {"name": "centre", "url": URL, **options}
    with pytest.raises(WebhookError, match=message):
        subscribe(sessions, ring, values.pop("name"), values.pop("url"), **values)


def test_names_are_unique(sessions: sessionmaker[Session], ring: KeyRing) -> None:
    subscribe(sessions, ring, "centre", URL)
    with pytest.raises(WebhookError, match="exists already"):
        subscribe(sessions, ring, "centre", URL)


def test_only_the_oldest_row_is_attempted_and_a_failure_holds_the_rest(
    sessions: sessionmaker[Session], ring: KeyRing
) -> None:
    webhook_id, secret = subscribe(sessions, ring, "centre", URL)
    seqs = write_outage(sessions)
    enqueue(sessions)
    with db.session_scope(sessions) as session:
        job = take(session, ring, webhook_id, "me", T0)
        assert job is not None and (job.seq, job.secret) == (seqs[0], secret)
        outbox.record(session, job, Outcome("failed", 503, "HTTP 503"), T0, retry_in=4)
    with db.session_scope(sessions) as session:
        assert outbox.due_webhooks(session, T0 + timedelta(seconds=3)) == []
        assert take(session, ring, webhook_id, "me", T0) is None
        assert outbox.due_webhooks(session, T0 + timedelta(seconds=4)) == [webhook_id]
        job = take(session, ring, webhook_id, "me", T0 + timedelta(seconds=4))
        assert job is not None and (job.seq, job.attempts) == (seqs[0], 1)
        outbox.record(session, job, Outcome("delivered", 200), T0, retry_in=0)
    first, second = rows(sessions, webhook_id)[:2]
    assert (first.attempts, first.last_error, first.delivered_at is not None) == (2, None, True)
    assert second.delivered_at is None
    row = webhook(sessions, webhook_id)
    assert (row.consecutive_failures, row.last_error) == (0, "HTTP 503")


def test_another_dispatcher_waits_for_the_lease(
    sessions: sessionmaker[Session], ring: KeyRing
) -> None:
    webhook_id, _ = subscribe(sessions, ring, "centre", URL)
    write_outage(sessions)
    enqueue(sessions)
    with db.session_scope(sessions) as session:
        assert take(session, ring, webhook_id, "first", T0) is not None
    with db.session_scope(sessions) as session:
        assert take(session, ring, webhook_id, "second", T0) is None
        later = T0 + LEASE + timedelta(seconds=1)  # the first one died: its lease runs out
        assert take(session, ring, webhook_id, "second", later) is not None


def test_gone_disables_and_keeps_the_row(sessions: sessionmaker[Session], ring: KeyRing) -> None:
    webhook_id, _ = subscribe(sessions, ring, "centre", URL)
    write_outage(sessions)
    enqueue(sessions)
    with db.session_scope(sessions) as session:
        job = take(session, ring, webhook_id, "me", T0)
        assert job is not None
        outbox.record(session, job, Outcome("gone", 410, "HTTP 410 Gone"), T0, retry_in=1)
    row = webhook(sessions, webhook_id)
    assert not row.active and "410 Gone" in (row.disabled_reason or "")
    assert all(r.delivered_at is None for r in rows(sessions, webhook_id))
    more = write_outage(sessions, "cam-b1")
    assert more and enqueue(sessions) == 0  # a disabled subscription no longer fills up
    with sessions() as session:
        assert outbox.due_webhooks(session, T0 + timedelta(days=1)) == []


def test_purge_and_metrics(sessions: sessionmaker[Session], ring: KeyRing) -> None:
    webhook_id, _ = subscribe(sessions, ring, "centre", URL)
    subscribe(sessions, ring, "failing", URL)
    seqs = write_outage(sessions)
    enqueue(sessions)
    with db.session_scope(sessions) as session:
        for _ in range(2):
            job = take(session, ring, webhook_id, "me", T0)
            assert job is not None
            outbox.record(session, job, Outcome("delivered", 200), T0, retry_in=0)
    with db.session_scope(sessions) as session:
        stats = metrics.collect(
            session, T0 + timedelta(seconds=90), unhealthy_after=5, outcomes={"delivered": 2}
        )
    assert stats.pending == 2 * len(seqs) - 2
    assert stats.oldest_pending_seconds == 90
    assert stats.subscriptions == {"healthy": 2, "unhealthy": 0, "disabled": 0}
    samples = {(name, tuple(labels.items())): value for name, labels, value in stats.samples()}
    assert samples["vigie_webhook_deliveries_total", (("outcome", "delivered"),)] == 2
    assert samples["vigie_webhook_pending", ()] == stats.pending
    with db.session_scope(sessions) as session:
        retention = timedelta(days=7)
        assert outbox.purge_delivered(session, now=T0 + timedelta(days=6), retention=retention) == 0
        assert outbox.purge_delivered(session, now=T0 + timedelta(days=8), retention=retention) == 2
    with sessions() as session:
        left = session.scalar(select(func.count()).select_from(WebhookDelivery))
    assert left == 2 * len(seqs) - 2  # undelivered rows are never purged


def test_key_rotation_re_encrypts_secrets_and_a_moved_ciphertext_does_not_decrypt(
    sessions: sessionmaker[Session], ring: KeyRing, settings
) -> None:
    first, secret = subscribe(sessions, ring, "centre", URL)
    second, _ = subscribe(sessions, ring, "other", URL)
    new = generate_key()
    both = KeyRing(parse_key_ring(f"{new},{settings.credentials_keys.get_secret_value()}"))
    with db.session_scope(sessions) as session:
        assert rotate_secrets(session, both) == 2
        assert rotate_secrets(session, both) == 0
    row = webhook(sessions, first)
    assert key_id_of(row.secret_encrypted) == both.current_id
    assert webhook_secret(KeyRing(parse_key_ring(new)), row) == secret
    moved = webhook(sessions, second)
    moved.secret_encrypted = row.secret_encrypted
    with pytest.raises(CredentialsError, match="do not authenticate"):
        webhook_secret(both, moved)


def test_a_batch_comes_in_order_and_a_lost_lease_stops_it(
    sessions: sessionmaker[Session], ring: KeyRing
) -> None:
    webhook_id, _ = subscribe(sessions, ring, "centre", URL)
    seqs = write_outage(sessions)
    enqueue(sessions)
    with db.session_scope(sessions) as session:
        jobs = outbox.next_jobs(session, ring, webhook_id, owner="me", now=T0, lease=LEASE)
    assert [job.seq for job in jobs] == seqs
    with db.session_scope(sessions) as session:
        assert outbox.record_delivered(session, jobs[0], T0, owner="me", lease=LEASE)
    later = T0 + LEASE + timedelta(seconds=1)  # "me" stalled: "other" takes over
    with db.session_scope(sessions) as session:
        assert take(session, ring, webhook_id, "other", later).seq == seqs[1]
    with db.session_scope(sessions) as session:
        assert not outbox.record_delivered(session, jobs[1], later, owner="me", lease=LEASE)
    delivered = [r.seq for r in rows(sessions, webhook_id) if r.delivered_at is not None]
    assert delivered == seqs[:2]
    assert webhook(sessions, webhook_id).lease_owner == "other"
