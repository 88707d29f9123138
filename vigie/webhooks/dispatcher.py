"""The webhook dispatcher: an asyncio task that copies events into the outbox and POSTs them.

Every ``webhook_poll_seconds`` it enqueues new events, then starts one drain task per due
subscription (at most ``webhook_concurrency`` POSTs at once). A drain delivers that
subscription's rows one by one, in order, and stops at the first failure, which waits its
backoff. Database work runs in threads, so a slow database never blocks the event loop; every
request has a timeout, so a hanging receiver holds only its own subscription.

Delivery is at least once: the row is marked delivered in a transaction after the POST returns,
so a crash between the two sends that event again after the restart. Receivers dedupe by
``X-Vigie-Event-Seq`` (or ``X-Vigie-Delivery``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

import httpx
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from vigie import __version__
from vigie.clock import utcnow
from vigie.credentials import KeyRing
from vigie.db import session_scope
from vigie.models import Webhook
from vigie.settings import Settings
from vigie.webhooks import outbox, signing, targets
from vigie.webhooks.outbox import Job, Outcome
from vigie.webhooks.retry import backoff

log = logging.getLogger(__name__)

T = TypeVar("T")

USER_AGENT = f"Vigie-Webhooks/{__version__}"
PURGE_EVERY = 300.0  # seconds between two purges of delivered rows
FIRST_PURGE = 60.0  # seconds after start: a short-lived app (a test, a CLI) never writes for it


SEND_ERRORS = (httpx.HTTPError, httpx.InvalidURL, ValueError)
"""What sending a webhook may raise: a failed attempt, never a traceback (an invalid URL stored
before the checks included)."""


def post_outcome(response: httpx.Response) -> Outcome:
    """What a receiver's answer means: 2xx delivered, 410 gone, anything else (3xx too) failed."""
    status = response.status_code
    if 200 <= status < 300:
        return Outcome("delivered", status)
    if status == 410:
        return Outcome("gone", status, "HTTP 410 Gone: the receiver asked to stop")
    if 300 <= status < 400:
        return Outcome("failed", status, f"HTTP {status}: redirects are not followed")
    return Outcome("failed", status, f"HTTP {status}")


def error_outcome(error: Exception) -> Outcome:
    """A transport error as a failed outcome; the class name, never the request (no secret)."""
    if isinstance(error, httpx.TimeoutException):
        return Outcome("failed", None, f"timeout ({error.__class__.__name__})")
    return Outcome("failed", None, f"{error.__class__.__name__}: {error}"[: outbox.MAX_ERROR])


def request_for(job: Job, timestamp: int) -> tuple[bytes, dict[str, str]]:
    body = signing.body_of(job.payload)
    return body, signing.headers(
        job.secret,
        body,
        timestamp=timestamp,
        delivery=str(job.delivery_id),
        event_type=job.type,
        seq=job.seq,
        user_agent=USER_AGENT,
    )


class Dispatcher:
    """Delivers the outbox; ``start()`` and ``stop()`` from the app's lifespan (or a test)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        ring: KeyRing,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.ring = ring
        self.clock = clock
        self.owner = f"dispatcher-{secrets.token_hex(6)}"
        self.lease = timedelta(seconds=settings.webhook_timeout_seconds + 60)
        self.outcomes: Counter[str] = Counter()
        """Attempts by outcome since start: delivered, failed, gone (for /metrics)."""
        self._limit = asyncio.Semaphore(settings.webhook_concurrency)
        self._draining: dict[int, asyncio.Task[None]] = {}
        self._in_threads: set[asyncio.Future] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._last_purge = 0.0
        self._failing = False
        self._claimed = False
        self._allowed = targets.parse_networks(settings.webhook_allowed_networks)

    async def start(self) -> None:
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(self.settings.webhook_timeout_seconds),
            follow_redirects=False,
            trust_env=False,  # no proxy or netrc credentials picked up from the environment
        )
        self._last_purge = time.monotonic() - PURGE_EVERY + FIRST_PURGE
        self._task = asyncio.create_task(self._run(), name="webhook-dispatcher")

    async def stop(self) -> None:
        """Stop polling and cancel drains in flight: their rows stay undelivered and are sent
        again by the next dispatcher (at least once)."""
        tasks = [t for t in (self._task, *self._draining.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # A thread cannot be cancelled: let database calls under way finish (they are short),
        # so that none takes a lease after the release below.
        await asyncio.gather(*self._in_threads, return_exceptions=True)
        self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if not self._claimed:  # nothing to release: no write on an idle database
            return
        try:
            await asyncio.to_thread(self._release_all)
        except SQLAlchemyError as error:  # the leases then run out by themselves
            log.warning("webhook dispatcher: leases not released: %s", error.__class__.__name__)

    def wake(self) -> None:
        """Poll now instead of at the next interval (e.g. after events were written)."""
        self._wake.set()

    async def _in_thread(self, function: Callable[..., T], *args: object) -> T:
        """Run blocking database work in a thread; cancelling the caller does not abandon it
        half-way unseen: ``stop()`` waits for it."""
        future = asyncio.ensure_future(asyncio.to_thread(function, *args))
        self._in_threads.add(future)
        future.add_done_callback(self._in_threads.discard)
        return await asyncio.shield(future)

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
                self._failing = False
            except asyncio.CancelledError:
                raise
            except Exception:
                # Once per streak: a database down for an hour must not write 3,600 tracebacks.
                if not self._failing:
                    log.exception("webhook dispatcher: polling failed; trying again")
                self._failing = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.webhook_poll_seconds)
            self._wake.clear()

    async def run_once(self) -> list[int]:
        """Enqueue new events and start draining the due subscriptions; returns their ids."""
        due = await self._in_thread(self._enqueue_and_find_due)
        started = []
        for webhook_id in due:
            if webhook_id in self._draining:
                continue
            task = asyncio.create_task(self._drain(webhook_id), name=f"webhook-{webhook_id}")
            self._draining[webhook_id] = task
            task.add_done_callback(lambda _t, w=webhook_id: self._draining.pop(w, None))
            started.append(webhook_id)
        return started

    def _enqueue_and_find_due(self) -> list[int]:
        now = self.clock()
        with session_scope(self.sessions) as session:
            outbox.enqueue(session, now)
        if time.monotonic() - self._last_purge > PURGE_EVERY:
            self._last_purge = time.monotonic()
            with session_scope(self.sessions) as session:
                retention = timedelta(days=self.settings.webhook_retention_days)
                purged = outbox.purge_delivered(session, now=now, retention=retention)
            if purged:
                log.info("webhooks: purged %d delivered outbox rows", purged)
        with session_scope(self.sessions) as session:
            return outbox.due_webhooks(session, now)

    async def _drain(self, webhook_id: int) -> None:
        async with self._limit:
            try:
                while True:
                    jobs = await self._in_thread(self._next_jobs, webhook_id)
                    if not jobs:
                        return
                    for job in jobs:
                        outcome = await self._post(job)
                        kept = await self._in_thread(self._record, job, outcome)
                        if not kept:
                            return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook %d: delivery failed unexpectedly", webhook_id)

    def _next_jobs(self, webhook_id: int) -> list[Job]:
        self._claimed = True
        with session_scope(self.sessions) as session:
            jobs = outbox.next_jobs(
                session,
                self.ring,
                webhook_id,
                owner=self.owner,
                now=self.clock(),
                lease=self.lease,
            )
            if not jobs:
                outbox.release(session, webhook_id, self.owner)
            return jobs

    async def _post(self, job: Job) -> Outcome:
        assert self._client is not None, "start() the dispatcher first"
        body, headers = request_for(job, int(time.time()))
        try:
            # resolved and checked now, and sent to that very address (DNS rebinding)
            target = await asyncio.to_thread(targets.pin, job.url, self._allowed)
            response = await self._client.post(content=body, **target.request(headers))
        except targets.TargetError as error:
            outcome = Outcome("failed", None, f"refused: {error}")
        except SEND_ERRORS as error:
            # a URL stored before the checks (control characters) fails as a delivery, counted
            outcome = error_outcome(error)
        else:
            outcome = post_outcome(response)
        self.outcomes[outcome.kind] += 1
        if outcome.kind != "delivered":
            # The subscription's name and id: the URL may hold a receiver's token in its query.
            log.warning(
                "webhook %s (%d): event %d not delivered (attempt %d): %s",
                job.webhook_name,
                job.webhook_id,
                job.seq,
                job.attempts + 1,
                outcome.error,
            )
        return outcome

    def _record(self, job: Job, outcome: Outcome) -> bool:
        """Store the outcome; True when the drain may go on with the next row."""
        if outcome.kind == "delivered":
            with session_scope(self.sessions) as session:
                return outbox.record_delivered(
                    session, job, self.clock(), owner=self.owner, lease=self.lease
                )
        retry_in = backoff(
            job.attempts + 1,
            base=self.settings.webhook_backoff_base_seconds,
            cap=self.settings.webhook_backoff_cap_seconds,
        )
        with session_scope(self.sessions) as session:
            failures = outbox.record(session, job, outcome, self.clock(), retry_in=retry_in)
        if outcome.kind == "failed" and failures == self.settings.webhook_unhealthy_after:
            log.error(
                "webhook %s (%d): unhealthy, %d failures in a row (last: %s); retrying every %.0f s"
                " at most",
                job.webhook_name,
                job.webhook_id,
                failures,
                outcome.error,
                self.settings.webhook_backoff_cap_seconds,
            )
        if outcome.kind == "gone":
            log.warning("webhook %s (%d): 410 Gone, disabled", job.webhook_name, job.webhook_id)
        return False

    def _release_all(self) -> None:
        with session_scope(self.sessions) as session:
            session.execute(
                update(Webhook)
                .where(Webhook.lease_owner == self.owner)
                .values(lease_owner=None, lease_until=None)
            )


async def start_dispatcher(
    sessions: sessionmaker[Session], settings: Settings
) -> Dispatcher | None:
    """The app lifespan's hook: a running dispatcher, or None without a credentials key ring
    (development), since the secrets cannot be read then."""
    if settings.credentials_keys is None:
        log.warning("webhooks: VIGIE_CREDENTIALS_KEYS unset, no webhook will be delivered")
        return None
    dispatcher = Dispatcher(sessions, settings, KeyRing.from_settings(settings))
    await dispatcher.start()
    return dispatcher
