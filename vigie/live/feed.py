"""The one task per app that tails the ``events`` table into the live hub.

Events are written by whichever process folds a check result (the scheduler, a worker, the
API acknowledging an incident); this task reads ``seq > last`` every ``live_poll_ms`` (100 ms)
in a thread and publishes them in order, so every client of this process sees every event,
whoever wrote it. Sequence numbers commit in order without gaps
(``vigie.supervisor.store.append_events``), so reading ``seq > last`` never skips one
committed later.

With several service processes on PostgreSQL, LISTEN/NOTIFY could wake the readers instead of
polling; one indexed query every 100 ms per process is cheap enough not to need it yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from supervision.live import LiveEvent, LiveHub
from vigie.models import Commune, EventHead, SupervisionEvent

log = logging.getLogger(__name__)

BATCH = 1000


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
    """Polls the events table and publishes what is new to ``hub``; start and stop it with
    the app (``vigie.api`` lifespan)."""

    def __init__(
        self, sessions: sessionmaker[Session], hub: LiveHub, *, interval: float = 0.1
    ) -> None:
        self.sessions = sessions
        self.hub = hub
        self.interval = interval
        self._task: asyncio.Task[Any] | None = None
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

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

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
                await asyncio.sleep(self.interval)
