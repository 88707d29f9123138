"""One live client's conversation, whatever the transport: start (snapshot or replay), then
events, heartbeats and the end (slow consumer, expired or revoked credential, service stop).

``vigie.routes.live`` drives it over a WebSocket or Server-Sent Events. The order that loses
nothing and duplicates nothing: subscribe to the hub first, then read the database (snapshot or
replay), then skip every queued event numbered at or below what the database read covered.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import anyio
from sqlalchemy.orm import Session, sessionmaker

from supervision.live import LiveHub, Resync, Stop, Subscriber, scope_filter
from vigie import audit
from vigie.auth.guards import Authenticated
from vigie.auth.principal import Principal
from vigie.clock import utcnow
from vigie.db import session_scope
from vigie.live.feed import first_seq, last_seq
from vigie.live.views import status_views
from vigie.supervisor.store import events_after

MAX_REPLAY = 10_000
"""More missed events than this: a fresh snapshot is cheaper than the replay."""
PAGE = 500

# Close codes of the protocol (README: Live status).
UNAUTHORIZED = 4401
FORBIDDEN = 4403
SLOW_CONSUMER = 4008
SERVICE_RESTART = 1012


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


def _text(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Outgoing:
    """One message for the client: its type, its ``seq`` (SSE ``id``) and its JSON text."""

    type: str
    seq: int | None
    text: str


@dataclass
class Start:
    """Where a connection begins: a snapshot or the missed events, and the seq it covers."""

    messages: list[Outgoing]
    covered: int
    mode: str  # "snapshot" or "replay"


def read_start(sessions: sessionmaker[Session], principal: Principal, after: int | None) -> Start:
    """The database side of a connection's start (run it in a thread)."""
    with session_scope(sessions) as session:
        if session.get_bind().dialect.name == "postgresql":
            # One snapshot of the database for the seq and the camera states read after it.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        head = last_seq(session)
        if after is not None and _replayable(session, after, head):
            return _replay(session, principal, after, head)
        # Read after the seq: the picture is at least as new as it (exactly as new on
        # PostgreSQL); an event already in it may come again, and applying it changes nothing.
        cameras = [view.model_dump(mode="json") for view in status_views(session, principal)]
        snapshot = {"type": "snapshot", "seq": head, "at": _iso(utcnow()), "cameras": cameras}
        return Start([Outgoing("snapshot", head, _text(snapshot))], head, "snapshot")


def _replayable(session: Session, after: int, head: int) -> bool:
    if after > head or head - after > MAX_REPLAY:
        return False  # from another database, or too far behind
    if after == head:
        return True
    oldest = first_seq(session)
    return oldest is not None and oldest <= after + 1  # else some were purged


def _replay(session: Session, principal: Principal, after: int, head: int) -> Start:
    messages: list[Outgoing] = []
    last = after
    while True:
        page = events_after(session, last, principal=principal, limit=PAGE)
        if not page:
            break
        for row in page:
            messages.append(Outgoing(row.type, row.seq, _text(row.payload)))
        last = page[-1].seq
    # The scope hides some events: the pages read everything committed up to `head` at least.
    return Start(messages, max(last, head), "replay")


@dataclass
class LiveSession:
    """A connected client: its subscription and what it was sent; iterate :meth:`messages`."""

    hub: LiveHub
    sessions: sessionmaker[Session]
    caller: Authenticated
    transport: str
    heartbeat: float
    recheck: Callable[[], Authenticated | None]
    """Validates the caller's credential again (run in a thread at each heartbeat)."""
    allowed: frozenset[str]
    subscriber: Subscriber | None = None
    last_sent: int = 0
    sent: int = 0
    close_code: int | None = None
    close_reason: str = ""
    mode: str = ""
    started: float = field(default_factory=time.monotonic)
    _closed: bool = False

    @property
    def principal(self) -> Principal:
        return self.caller.principal

    async def open(self, after: int | None) -> list[Outgoing]:
        """Subscribe, read the start from the database, audit the connection."""
        principal = self.principal
        self.subscriber = self.hub.subscribe(
            scope_filter(principal.restricted, principal.communes, principal.epcis)
        )
        try:
            start = await anyio.to_thread.run_sync(read_start, self.sessions, principal, after)
            self.last_sent, self.mode = start.covered, start.mode
            await anyio.to_thread.run_sync(self._audit_connect, after)
        except BaseException:
            self.hub.unsubscribe(self.subscriber)
            self.subscriber = None
            raise
        self.sent += len(start.messages)
        return start.messages

    def _audit_connect(self, after: int | None) -> None:
        with session_scope(self.sessions) as session:
            audit.record_by(
                session,
                self.principal,
                action="live.connect",
                object_type="live",
                object_id=self.transport,
                detail={"after": after, "start": self.mode, "seq": self.last_sent},
            )

    async def close(self) -> None:
        """Unsubscribe and audit the end, once (shielded: it runs even when the task is
        cancelled because the client went away)."""
        if self._closed or self.subscriber is None:
            return
        self._closed = True
        self.hub.unsubscribe(self.subscriber)
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self._audit_disconnect)

    def _audit_disconnect(self) -> None:
        with session_scope(self.sessions) as session:
            audit.record_by(
                session,
                self.principal,
                action="live.disconnect",
                object_type="live",
                object_id=self.transport,
                detail={
                    "seconds": round(time.monotonic() - self.started, 1),
                    "reason": self.close_reason or "client closed",
                    "code": self.close_code,
                    "messages": self.sent,
                    "seq": self.last_sent,
                },
            )

    def end(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason

    def resync(self) -> Outgoing:
        self.end(SLOW_CONSUMER, "slow consumer")
        return Outgoing("resync", None, _text(Resync.message))

    async def messages(self) -> AsyncIterator[Outgoing]:
        """Events in order, a heartbeat every ``heartbeat`` seconds; ends (with
        :attr:`close_code` set) when the client is dropped or its credential is no longer
        valid."""
        assert self.subscriber is not None, "open() first"
        loop = asyncio.get_running_loop()
        next_beat = loop.time() + self.heartbeat
        while True:
            if self.subscriber.dropped.is_set():
                yield self.resync()
                return
            if self.subscriber.stopping:
                self.end(SERVICE_RESTART, "service restart")
                return
            expires_in = (self.caller.expires_at - utcnow()).total_seconds()
            if expires_in <= 0:
                self.end(UNAUTHORIZED, "token expired")
                return
            now = loop.time()
            if now >= next_beat:  # also under a steady flow: the credential check must run
                next_beat = now + self.heartbeat
                if await self._credential_refused():
                    return
                yield self._heartbeat()
                continue
            try:
                if self.subscriber.queue.empty():
                    item = await asyncio.wait_for(
                        self.subscriber.get(), min(next_beat - now, expires_in)
                    )
                else:  # the fast path under load: no timer, no task per message
                    item = self.subscriber.queue.get_nowait()
            except TimeoutError:
                continue
            if isinstance(item, Resync):
                yield self.resync()
                return
            if isinstance(item, Stop):
                self.end(SERVICE_RESTART, "service restart")
                return
            if item.seq <= self.last_sent:
                continue  # already in the snapshot or the replay
            self.last_sent = item.seq
            self.sent += 1
            yield Outgoing(item.type, item.seq, item.text)

    def _heartbeat(self) -> Outgoing:
        """The seq a client may resume from: with nothing queued, every event the hub has
        published was sent or is outside the scope, so the hub's last seq; else the last sent."""
        self.sent += 1
        assert self.subscriber is not None
        seq = self.last_sent
        if self.subscriber.queue.empty():
            seq = max(seq, self.hub.last_seq)
        return Outgoing(
            "heartbeat", seq, _text({"type": "heartbeat", "seq": seq, "at": _iso(utcnow())})
        )

    async def _credential_refused(self) -> bool:
        """Revoked token, disabled user, changed role or scope: end the stream (4401/4403)."""
        found = await anyio.to_thread.run_sync(self.recheck)
        if found is None:
            self.end(UNAUTHORIZED, "credential no longer valid")
            return True
        if found.principal.role not in self.allowed:
            self.end(FORBIDDEN, "role no longer allowed")
            return True
        mine = self.principal
        if (found.principal.communes, found.principal.epcis) != (mine.communes, mine.epcis):
            self.end(UNAUTHORIZED, "scope changed")
            return True
        self.caller = Authenticated(mine, found.expires_at)
        return False
