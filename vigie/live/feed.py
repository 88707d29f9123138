"""The one task per app that tails the ``events`` table into the live hub.

Events are written by whichever process folds a check result (the scheduler, a worker, the
API acknowledging an incident, on any node sharing the database); this task reads
``seq > last`` in a thread and publishes them in order, so every client of this process sees
every event, whoever wrote it. Sequence numbers commit in order without gaps
(``vigie.supervisor.store.append_events``), so reading ``seq > last`` never skips one
committed later.

When to read: on SQLite every ``live_poll_ms`` (100 ms). On PostgreSQL the transaction that
appends events also sends ``NOTIFY vigie_events, '<last seq>'`` (delivered at commit, so never
before the rows are visible), and a second task keeps one connection LISTENing: a notification
wakes the reader at once, and the reader still polls every :data:`FALLBACK_POLL` seconds in case
a notification is lost. While the LISTEN connection is down the feed polls every
``live_poll_ms`` and reconnects with backoff.

The listener is a psycopg ``AsyncConnection`` task in the app's event loop rather than a thread:
waking the reader is setting an :class:`asyncio.Event` in the same loop, and stopping is a
cancellation (a thread blocked in ``notifies()`` would have to time out to notice the stop).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session, sessionmaker

from supervision.live import LiveEvent, LiveHub
from vigie.models import Commune, EventHead, SupervisionEvent

log = logging.getLogger(__name__)

BATCH = 1000
CHANNEL = "vigie_events"
"""The channel ``append_events`` notifies with the last ``seq`` of its transaction."""
FALLBACK_POLL = 1.0
"""Seconds between reads while LISTEN works: only a lost notification waits this long."""
RECONNECT_MAX = 30.0
"""Longest wait between two attempts to open the LISTEN connection."""
LISTEN_OPTIONS = {
    "autocommit": True,
    "application_name": "vigie live feed",  # as pg_stat_activity shows it
    "connect_timeout": 10,
    # The connection only reads: TCP keepalives find a server that vanished without a word.
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
}


def listen_url(url: URL) -> str | None:
    """The libpq URL of a PostgreSQL engine's URL (``postgresql+psycopg`` without the driver),
    with its password: never log it. None for another database."""
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def last_seq(session: Session) -> int:
    """The last sequence number handed out (0 on an empty database)."""
    return session.scalar(select(EventHead.last_seq).where(EventHead.id == 1)) or 0


def first_seq(session: Session) -> int | None:
    """The oldest event still stored (older ones may have been purged), None when none."""
    return session.scalar(select(func.min(SupervisionEvent.seq)))


def read_events(session: Session, after: int, limit: int = BATCH) -> list[LiveEvent]:
    """Every event numbered above ``after`` (up to ``limit``), with its commune's EPCI, which
    the hub's scope filters need."""
    rows = session.execute(
        select(SupervisionEvent.payload, SupervisionEvent.commune_code, Commune.epci_siren)
        .outerjoin(Commune, Commune.code == SupervisionEvent.commune_code)
        .where(SupervisionEvent.seq > after)
        .order_by(SupervisionEvent.seq)
        .limit(limit)
    )
    return [
        LiveEvent.from_payload(payload, commune=commune, epci=epci)
        for payload, commune, epci in rows
    ]


class LiveFeed:
    """Reads the events table and publishes what is new to ``hub``; start and stop it with
    the app (``vigie.api`` lifespan). ``interval``: seconds between reads without LISTEN;
    ``fallback`` (:data:`FALLBACK_POLL`): with it; ``listen=False`` polls on PostgreSQL too."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        hub: LiveHub,
        *,
        interval: float = 0.1,
        fallback: float | None = None,
        listen: bool = True,
    ) -> None:
        self.sessions = sessions
        self.hub = hub
        self.interval = interval
        self.fallback = FALLBACK_POLL if fallback is None else fallback
        bind = sessions.kw.get("bind")
        url = bind.url if isinstance(bind, Engine) else None
        self._listen_url = listen_url(url) if listen and url is not None else None
        self._where = url.render_as_string(hide_password=True) if url is not None else ""
        self._password = str(url.password or "") if url is not None else ""
        self.listening = False
        """True while the LISTEN connection is open (the reader then polls every ``fallback``)."""
        self.notifications = 0
        """Notifications received on the LISTEN connection since the start."""
        self._wake = asyncio.Event()
        self._task: asyncio.Task[Any] | None = None
        self._listener: asyncio.Task[Any] | None = None
        self._ready = False

    @property
    def ready(self) -> bool:
        """True once the feed knows where the stored events end: before that a client could
        read a snapshot newer than the feed's starting point and miss the events in between."""
        return self._ready

    async def start(self) -> None:
        """Begin after the last event already stored (clients get older ones by replay); when
        the database cannot be read yet, the task keeps trying and the feed is not ready."""
        self._ready = False
        try:
            self.hub.last_seq = await asyncio.to_thread(self._read_last)
            self._ready = True
        except Exception as err:  # not migrated yet, or the database is down
            log.warning("live feed: cannot read the events table (%s); retrying", err)
        self._task = asyncio.create_task(self._run(), name="vigie-live-feed")
        if self._listen_url is not None:
            self._listener = asyncio.create_task(self._listen(), name="vigie-live-listen")

    async def stop(self) -> None:
        for task in (self._listener, self._task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._listener = None
        self.listening = False

    def _read_last(self) -> int:
        with self.sessions() as session:
            return last_seq(session)

    def _read_after(self, after: int) -> list[LiveEvent]:
        with self.sessions() as session:
            return read_events(session, after)

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                if not self._ready:
                    self.hub.last_seq = await asyncio.to_thread(self._read_last)
                    self._ready = True
                events = await asyncio.to_thread(self._read_after, self.hub.last_seq)
            except Exception:  # the database went away: keep trying, clients keep their sockets
                failures += 1
                if failures in (1, 10) or failures % 100 == 0:
                    log.exception("live feed: cannot read new events (attempt %d)", failures)
                await asyncio.sleep(min(5.0, self.interval * 2**failures))
                continue
            failures = 0
            for event in events:
                self.hub.publish(event)
            if len(events) < BATCH:
                await self._wait()

    async def _wait(self) -> None:
        """Until a notification, or the poll interval (the fallback one while listening).
        The flag is cleared on waking, before the read: a notification during the read sets it
        again, and the next wait returns at once."""
        timeout = self.fallback if self.listening else self.interval
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()

    def _redacted(self, err: Exception) -> str:
        """The error's message, without the password should it quote the connection string."""
        text = str(err).strip()
        if self._password:
            text = text.replace(self._password, "***")
        return text

    async def _listen(self) -> None:
        """Keep one autocommit connection LISTENing on :data:`CHANNEL`; reconnect with backoff
        when it breaks (the reader polls every ``interval`` meanwhile). Never raises."""
        assert self._listen_url is not None
        failures = 0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._listen_url, **LISTEN_OPTIONS
                ) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self.listening = True
                    log.info("live feed: woken by LISTEN %s on %s", CHANNEL, self._where)
                    failures = 0
                    self._wake.set()  # read what was committed while nobody listened
                    async for _notify in connection.notifies():
                        self.notifications += 1
                        self._wake.set()
                raise psycopg.OperationalError("the notifications ended")
            except Exception as err:
                self.listening = False
                self._wake.set()  # the reader waits for the fallback poll: poll every interval
                failures += 1
                delay = min(RECONNECT_MAX, 0.5 * 2 ** (failures - 1))
                if failures in (1, 10) or failures % 100 == 0:
                    log.warning(
                        "live feed: no LISTEN connection to %s (%s: %s, attempt %d); polling "
                        "every %d ms, retrying in %.1f s",
                        self._where,
                        type(err).__name__,
                        self._redacted(err),
                        failures,
                        round(self.interval * 1000),
                        delay,
                    )
                await asyncio.sleep(delay)
