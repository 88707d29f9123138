"""The dispatcher against a real HTTP receiver on a real database: order, signatures, retries,
restarts, 410, hanging receivers, and no secret in the database or the logs."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.helpers.supervision_data import STEP, T0
from tests.helpers.webhook_data import subscribe, webhook, write_outage
from tests.helpers.webhook_receiver import Receiver, always
from vigie.clock import utcnow
from vigie.credentials import KeyRing
from vigie.models import SupervisionEvent, WebhookDelivery
from vigie.settings import Settings
from vigie.webhooks.dispatcher import Dispatcher
from vigie.webhooks.metrics import collect


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def run_dispatcher(
    sessions: sessionmaker[Session],
    settings: Settings,
    ring: KeyRing,
    condition: Callable[[], bool],
    *,
    timeout: float = 10.0,
    linger: float = 0.0,
) -> Dispatcher:
    """Start a dispatcher, wait for ``condition`` (then ``linger`` s more), stop it."""

    async def main() -> Dispatcher:
        dispatcher = Dispatcher(sessions, settings, ring)
        await dispatcher.start()
        try:
            await until(condition, timeout)
            await asyncio.sleep(linger)
        finally:
            await dispatcher.stop()
        return dispatcher

    return asyncio.run(main())


def payloads(sessions: sessionmaker[Session], seqs: list[int]) -> dict[int, dict]:
    with sessions() as session:
        events = session.scalars(select(SupervisionEvent).where(SupervisionEvent.seq.in_(seqs)))
        return {e.seq: e.payload for e in events}


def outbox_rows(sessions: sessionmaker[Session], webhook_id: int) -> list[WebhookDelivery]:
    with sessions() as session:
        return list(
            session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.webhook_id == webhook_id)
                .order_by(WebhookDelivery.id)
            )
        )


@pytest.fixture
def receiver() -> Receiver:
    receiver = Receiver()
    yield receiver.start()
    receiver.stop()


def test_events_are_delivered_in_order_signed_with_the_subscription_secret(
    sessions: sessionmaker[Session], settings: Settings, ring: KeyRing, receiver: Receiver
) -> None:
    webhook_id, receiver.secret = subscribe(sessions, ring, "hypervision", receiver.url)
    seqs = write_outage(sessions, "cam-a1") + write_outage(sessions, "cam-b1")
    dispatcher = run_dispatcher(
        sessions, settings, ring, lambda: len(receiver.accepted()) == len(seqs), linger=0.2
    )
    requests = receiver.snapshot()
    assert [r.seq for r in requests] == seqs  # in order, each once
    assert all(r.valid for r in requests)
    stored = payloads(sessions, seqs)
    rows = outbox_rows(sessions, webhook_id)
    for request, row in zip(requests, rows, strict=True):
        assert request.json == stored[request.seq]
        assert request.headers["X-Vigie-Event-Seq"] == str(request.seq)
        assert request.headers["X-Vigie-Event-Type"] == stored[request.seq]["type"]
        assert request.headers["X-Vigie-Delivery"] == str(row.id)
        assert request.headers["Content-Type"] == "application/json"
        assert row.delivered_at is not None and row.attempts == 1
    assert dispatcher.outcomes == {"delivered": len(seqs)}


def test_receiver_down_then_up_gets_everything_once_after_backoff(
    sessions: sessionmaker[Session], settings: Settings, ring: KeyRing
) -> None:
    receiver = Receiver()  # not started: connections are refused
    webhook_id, receiver.secret = subscribe(sessions, ring, "centre", receiver.url)
    seqs = write_outage(sessions)

    async def main() -> None:
        dispatcher = Dispatcher(sessions, settings, ring)
        await dispatcher.start()
        try:
            await until(lambda: webhook(sessions, webhook_id).consecutive_failures >= 4)
            receiver.start()
            await until(lambda: len(receiver.accepted()) == len(seqs))
            await asyncio.sleep(0.2)
        finally:
            await dispatcher.stop()
            receiver.stop()

    asyncio.run(main())
    assert receiver.accepted() == seqs  # nothing lost, nothing doubled, in order
    assert all(r.valid for r in receiver.snapshot())
    first, *rest = outbox_rows(sessions, webhook_id)
    assert first.attempts >= 5 and all(r.attempts == 1 for r in rest)
    assert all(r.delivered_at is not None for r in [first, *rest])
    row = webhook(sessions, webhook_id)
    assert row.consecutive_failures == 0 and "ConnectError" in (row.last_error or "")


def test_retries_back_off_exponentially(
    sessions: sessionmaker[Session], settings: Settings, ring: KeyRing, receiver: Receiver
) -> None:
    webhook_id, receiver.secret = subscribe(sessions, ring, "centre", receiver.url)
    receiver.behaviour = lambda n, _body: 503 if n < 5 else 200
    seqs = write_outage(sessions)
    # Stopped once every delivery is committed, not when the last request arrives: its
    # attempt is counted in the same transaction as its delivery (seen racing once in CI).
    run_dispatcher(
        sessions,
        settings,
        ring,
        lambda: (
            len(receiver.accepted()) == len(seqs)
            and all(r.delivered_at for r in outbox_rows(sessions, webhook_id))
        ),
    )
    arrivals = [r.at for r in receiver.snapshot()[:6]]
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    # base 0.05 s, doubling, -20 % jitter at worst, capped at 0.4 s: each retry waits at least
    # that long after the previous answer (only lower bounds: a loaded machine is late, never
    # early).
    for gap, nominal in zip(gaps, [0.05, 0.1, 0.2, 0.4, 0.4], strict=True):
        assert gap >= 0.8 * nominal - 0.005, gaps
    rows = outbox_rows(sessions, webhook_id)
    # Each row counts the requests the receiver got for it: 6 for the first (5 answered 503);
    # one for the others, unless a loaded machine let a request outlive the client's timeout,
    # which is a failed attempt retried, counted as such (seen once in CI).
    sent = Counter(body["seq"] for body in receiver.arrived)
    assert [r.attempts for r in rows] == [sent[r.seq] for r in rows]
    assert rows[0].attempts >= 6
    assert list(dict.fromkeys(receiver.accepted())) == seqs  # in order; a retried one twice
    assert [r.status for r in receiver.snapshot()[:5]] == [503] * 5


def test_a_restart_between_deliveries_loses_and_doubles_nothing(
    sessions: sessionmaker[Session], settings: Settings, ring: KeyRing, receiver: Receiver
) -> None:
    webhook_id, receiver.secret = subscribe(sessions, ring, "centre", receiver.url)
    first = write_outage(sessions, "cam-a1")
    # Stopped once every delivery is committed: between two deliveries, not during one.
    run_dispatcher(
        sessions,
        settings,
        ring,
        lambda: sum(bool(r.delivered_at) for r in outbox_rows(sessions, webhook_id)) == len(first),
    )
    # Written while no dispatcher runs: the cursor and the outbox resume from the database.
    second = write_outage(sessions, "cam-a1", start=T0 + 20 * STEP)
    total = len(first) + len(second)
    run_dispatcher(sessions, settings, ring, lambda: len(receiver.accepted()) == total, linger=0.3)
    assert receiver.accepted() == first + second


def test_a_restart_during_a_request_sends_at_most_that_event_again(
    sessions: sessionmaker[Session], settings: Settings, ring: KeyRing, receiver: Receiver
) -> None:
    webhook_id, receiver.secret = subscribe(sessions, ring, "centre", receiver.url)
    seqs = write_outage(sessions, "cam-a1") + write_outage(sessions, "cam-b1")
    receiver.behaviour = always(0.15)  # each request takes 0.15 s: the stop lands mid-request
    run_dispatcher(sessions, settings, ring, lambda: len(receiver.snapshot()) >= 3, linger=0.05)
    delivered_before = [r.seq for r in outbox_rows(sessions, webhook_id) if r.delivered_at]
    assert 0 < len(delivered_before) < len(seqs)
    receiver.behaviour = always(200)
    run_dispatcher(
        sessions,
        settings,
        ring,
        lambda: all(r.delivered_at for r in outbox_rows(sessions, webhook_id)),
        linger=0.2,
    )
    received = [r.seq for r in receiver.snapshot()]
    assert sorted(set(received)) == seqs  # nothing lost
    doubled = [seq for seq in set(received) if received.count(seq) > 1]
    # Only the event in flight when the first dispatcher stopped (POSTed, not yet committed).
    assert len(doubled) <= 1
    if doubled:
        assert doubled == [seqs[len(delivered_before)]]
    assert received == sorted(received)  # still in order


def test_410_disables_the_subscription_and_leaves_the_others(
    sessions: sessionmaker[Session], settings: Settings, ring: KeyRing, receiver: Receiver
) -> None:
    gone = Receiver().start()
    try:
        gone.behaviour = always(410)
        gone_id, gone.secret = subscribe(sessions, ring, "retired", gone.url)
        _, receiver.secret = subscribe(sessions, ring, "centre", receiver.url)
        seqs = write_outage(sessions)
        run_dispatcher(
            sessions, settings, ring, lambda: len(receiver.accepted()) == len(seqs), linger=0.3
        )
    finally:
        gone.stop()
    assert len(gone.snapshot()) == 1  # asked to stop: never called again
    row = webhook(sessions, gone_id)
    assert not row.active and "410 Gone" in (row.disabled_reason or "")
    assert not any(r.delivered_at for r in outbox_rows(sessions, gone_id))
    assert receiver.accepted() == seqs


def test_redirects_are_not_followed(
    sessions: sessionmaker[Session], settings: Settings, ring: KeyRing, receiver: Receiver
) -> None:
    webhook_id, receiver.secret = subscribe(sessions, ring, "centre", receiver.url)
    receiver.behaviour = always(307)
    write_outage(sessions)
    run_dispatcher(sessions, settings, ring, lambda: len(receiver.snapshot()) >= 2)
    row = webhook(sessions, webhook_id)
    assert "redirects are not followed" in (row.last_error or "")
    assert not any(r.delivered_at for r in outbox_rows(sessions, webhook_id))


def test_a_hanging_receiver_times_out_and_holds_only_its_own_events(
    sessions: sessionmaker[Session], settings: Settings, ring: KeyRing, receiver: Receiver
) -> None:
    hanging = Receiver().start()
    try:
        hanging.behaviour = always(60.0)
        hanging_id, hanging.secret = subscribe(sessions, ring, "stuck", hanging.url)
        _, receiver.secret = subscribe(sessions, ring, "centre", receiver.url)
        seqs = write_outage(sessions)
        started = time.monotonic()
        run_dispatcher(
            sessions,
            settings,
            ring,
            lambda: webhook(sessions, hanging_id).consecutive_failures >= 2,
        )
        assert time.monotonic() - started < 20  # timeouts of 2 s, not the receiver's 60 s
        assert receiver.accepted() == seqs
        row = webhook(sessions, hanging_id)
        assert (row.last_error or "").startswith("timeout")
        # In order: only the first event was ever attempted on the stuck subscription.
        assert len(hanging.arrived) >= 2
        assert {body["seq"] for body in hanging.arrived} == {seqs[0]}
        rows = outbox_rows(sessions, hanging_id)
        assert rows[0].attempts >= 2 and all(r.attempts == 0 for r in rows[1:])
    finally:
        hanging.stop()


def test_a_subscription_failing_n_times_in_a_row_is_unhealthy_until_it_recovers(
    sessions: sessionmaker[Session], settings: Settings, ring: KeyRing, receiver: Receiver
) -> None:
    settings = settings.model_copy(update={"webhook_unhealthy_after": 3})
    webhook_id, receiver.secret = subscribe(sessions, ring, "centre", receiver.url)
    receiver.behaviour = always(500)
    seqs = write_outage(sessions)

    def stats():
        with sessions() as session:
            return collect(session, utcnow(), unhealthy_after=3)

    async def main() -> None:
        dispatcher = Dispatcher(sessions, settings, ring)
        await dispatcher.start()
        try:
            await until(lambda: webhook(sessions, webhook_id).consecutive_failures >= 3)
            assert stats().subscriptions["unhealthy"] == 1
            assert stats().pending == len(seqs)
            receiver.behaviour = always(200)
            await until(lambda: len(receiver.accepted()) == len(seqs))
            await asyncio.sleep(0.2)
            assert dispatcher.outcomes["failed"] >= 3
            assert dispatcher.outcomes["delivered"] == len(seqs)
        finally:
            await dispatcher.stop()

    asyncio.run(main())
    assert stats().subscriptions == {"healthy": 1, "unhealthy": 0, "disabled": 0}
    assert stats().pending == 0


def test_secrets_are_neither_in_the_database_nor_in_the_logs(
    sessions: sessionmaker[Session],
    settings: Settings,
    ring: KeyRing,
    receiver: Receiver,
    seeded: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    webhook_id, receiver.secret = subscribe(sessions, ring, "centre", receiver.url)
    receiver.behaviour = lambda n, _body: 500 if n < 2 else 200
    seqs = write_outage(sessions)
    run_dispatcher(sessions, settings, ring, lambda: len(receiver.accepted()) == len(seqs))
    assert all(r.valid for r in receiver.snapshot())
    metadata = MetaData()
    metadata.reflect(seeded)
    with seeded.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(table.select()):
                assert receiver.secret not in repr(tuple(row)), table.name
                assert receiver.secret.removeprefix("whsec_") not in repr(tuple(row))
    assert "not delivered" in caplog.text  # the failures were logged...
    assert receiver.secret not in caplog.text  # ...without the secret
    assert webhook(sessions, webhook_id).secret_encrypted.startswith("v1:")
