"""The notifier: an asyncio task inside ``vigie serve`` that plans escalations and sends them.

Every ``notify_poll_seconds`` it plans (:func:`vigie.notify.outbox.plan`), then sends each due
row: e-mail in a thread (``smtplib``), SMS over HTTP. A failure waits its backoff
(``vigie.webhooks.retry.backoff``, the webhooks' schedule) and is tried again, without end:
nothing is lost while a server is down. Database work runs in threads, and each row is leased,
so several processes on one PostgreSQL database send each message once (at least once: a crash
between the send and its record sends it again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker

from vigie import redaction
from vigie.clock import utcnow
from vigie.db import session_scope
from vigie.notify import outbox
from vigie.notify.email import ChannelError, send_email
from vigie.notify.outbox import Job
from vigie.notify.sms import send_sms
from vigie.settings import Settings
from vigie.webhooks.retry import backoff

log = logging.getLogger(__name__)


def configured(settings: Settings) -> bool:
    """Whether at least one channel is set up (else the notifier does not run)."""
    return bool(settings.notify_smtp_host or settings.notify_sms_url)


class Notifier:
    """Plans and sends notifications; ``start()`` and ``stop()`` from the app's lifespan."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.owner = f"notifier-{secrets.token_hex(6)}"
        self.lease = timedelta(seconds=settings.notify_timeout_seconds * 2 + 60)
        self.outcomes: Counter[str] = Counter()
        """Attempts by outcome since start: sent, failed."""
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._failing = False
        for secret in (settings.notify_smtp_password, settings.notify_sms_token):
            if secret is not None:
                redaction.SECRETS.add(secret.get_secret_value())

    async def start(self) -> None:
        """Poll every ``notify_poll_seconds`` until :meth:`stop` (a test may instead call
        :meth:`run_once` on a clock of its own, then :meth:`stop`)."""
        self._task = asyncio.create_task(self._run(), name="notifier")

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.settings.notify_timeout_seconds),
                follow_redirects=False,
                trust_env=False,  # no proxy or netrc credentials picked up from the environment
            )
        return self._client

    async def stop(self) -> None:
        """Stop; a message in flight is sent again by the next notifier (its lease runs out)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
                self._failing = False
            except asyncio.CancelledError:
                raise
            except Exception:
                if not self._failing:  # once per streak
                    log.exception("notifier: polling failed; trying again")
                self._failing = True
            await asyncio.sleep(self.settings.notify_poll_seconds)

    async def run_once(self) -> int:
        """Plan, then attempt every due row once; returns the attempts made."""
        due = await asyncio.to_thread(self._plan_and_find_due)
        attempts = 0
        for notification_id in due:
            job = await asyncio.to_thread(self._claim, notification_id)
            if job is None:
                continue
            error = await self._send(job)
            await asyncio.to_thread(self._record, job, error)
            attempts += 1
        return attempts

    def _plan_and_find_due(self) -> list[int]:
        now = self.clock()
        with session_scope(self.sessions) as session:
            added = outbox.plan(
                session,
                now,
                base_url=self.settings.notify_base_url,
                hold=timedelta(seconds=self.settings.supervise_correlation_window_s),
            )
        if added:
            log.info("notifier: %d notifications queued", added)
        with session_scope(self.sessions) as session:
            return outbox.due(session, now)

    def _claim(self, notification_id: int) -> Job | None:
        with session_scope(self.sessions) as session:
            return outbox.claim(session, notification_id, self.owner, self.clock(), self.lease)

    async def _send(self, job: Job) -> str | None:
        """Send one message; None when handed over, else why not (never a secret)."""
        try:
            if job.channel == "email":
                await asyncio.to_thread(
                    send_email, self.settings, job.recipient, job.subject, job.text
                )
            else:
                await send_sms(self._http(), self.settings, job.recipient, job.text)
        except ChannelError as error:
            self.outcomes["failed"] += 1
            log.warning(
                "notification %d (%s, incident %d) not sent (attempt %d): %s",
                job.id,
                job.channel,
                job.incident_id,
                job.attempts + 1,
                error,
            )
            return str(error)
        self.outcomes["sent"] += 1
        return None

    def _record(self, job: Job, error: str | None) -> None:
        retry_in = backoff(
            job.attempts + 1,
            base=self.settings.notify_backoff_base_seconds,
            cap=self.settings.notify_backoff_cap_seconds,
        )
        with session_scope(self.sessions) as session:
            outbox.record(session, job, self.clock(), error=error, retry_in=retry_in)


async def start_notifier(sessions: sessionmaker[Session], settings: Settings) -> Notifier | None:
    """The app lifespan's hook: a running notifier, or None when no channel is configured."""
    if not configured(settings):
        log.info("escalation: no SMTP server nor SMS gateway configured, no notification sent")
        return None
    notifier = Notifier(sessions, settings)
    await notifier.start()
    return notifier
