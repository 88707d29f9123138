"""The live fan-out hub: one published event, many subscribers, none able to stall another.

Pure asyncio, no database and no web: ``vigie.live.feed`` publishes the events it reads from
the ``events`` table, and each live connection (``vigie.routes.live``) subscribes with a filter
(its caller's scope). :meth:`LiveHub.publish` never waits: a subscriber whose bounded queue is
full is *dropped* (marked, sent :data:`RESYNC` in the one slot kept for it, and removed), and
reconnects from its last sequence number. A subscriber may also count the messages its
transport still holds (``backlog``: handed to the socket, not yet taken by the client), so that
kernel buffers cannot hide a client that stopped reading. :meth:`LiveHub.stop` ends every stream
when the service stops. Call the hub from its event loop's thread only.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

DEFAULT_QUEUE_SIZE: Final = 1000


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One stored event as every subscriber receives it, serialised once for all of them."""

    seq: int
    type: str
    commune: str
    epci: str | None
    payload: Mapping[str, Any]
    text: str

    @classmethod
    def from_payload(
        cls, payload: Mapping[str, Any], *, commune: str, epci: str | None
    ) -> LiveEvent:
        return cls(
            seq=int(payload["seq"]),
            type=str(payload["type"]),
            commune=commune,
            epci=epci,
            payload=payload,
            text=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        )


class Resync:
    """The last item of a dropped subscriber's queue: it must reconnect (protocol: ``resync``)."""

    message: Final = {"type": "resync", "reason": "slow consumer"}

    def __repr__(self) -> str:
        return "RESYNC"


RESYNC: Final = Resync()


class Stop:
    """Wakes a subscriber waiting on an empty queue: the service is stopping (close 1012)."""

    def __repr__(self) -> str:
        return "STOP"


STOP: Final = Stop()

Filter = Callable[[LiveEvent], bool]


def everything(_event: LiveEvent) -> bool:
    return True


def scope_filter(restricted: bool, communes: Iterable[str], epcis: Iterable[str]) -> Filter:
    """The in-memory twin of ``vigie.auth.principal.scope_condition``: an unrestricted caller
    sees every event; a restricted one only those of its communes or of communes in its EPCIs
    (none at all with an empty scope)."""
    if not restricted:
        return everything
    communes, epcis = frozenset(communes), frozenset(epcis)

    def accepts(event: LiveEvent) -> bool:
        return event.commune in communes or (event.epci is not None and event.epci in epcis)

    return accepts


@dataclass(eq=False)
class Subscriber:
    """One connection's queue. ``dropped`` is set when the hub gave up on it, ``stopping``
    when the service stops."""

    accepts: Filter
    capacity: int
    queue: asyncio.Queue[LiveEvent | Resync | Stop] = field(init=False)
    dropped: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    stopping: bool = field(init=False, default=False)
    backlog: Callable[[], int] | None = field(init=False, default=None)
    """Messages the transport still holds for the client (set by the transport, if it can)."""

    def __post_init__(self) -> None:
        if self.capacity < 1:
            raise ValueError(f"a live queue holds at least one message, not {self.capacity}")
        # One slot more than the capacity: room for RESYNC when the events fill the rest.
        self.queue = asyncio.Queue(maxsize=self.capacity + 1)

    async def get(self) -> LiveEvent | Resync | Stop:
        return await self.queue.get()

    def behind(self) -> int:
        """Messages published to this subscriber that the client has not taken yet."""
        held = self.backlog() if self.backlog is not None else 0
        return self.queue.qsize() + held


@dataclass
class HubStats:
    """Counters for metrics: connected subscribers, events published, deliveries, drops."""

    clients: int
    published: int
    delivered: int
    dropped: int
    last_seq: int


class LiveHub:
    """Fan-out of :class:`LiveEvent` to subscribers, each with its own bounded queue."""

    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE, last_seq: int = 0) -> None:
        self.queue_size = queue_size
        self.last_seq = last_seq
        """The highest sequence number published (or known at start)."""
        self._subscribers: set[Subscriber] = set()
        self._published = 0
        self._delivered = 0
        self._dropped = 0
        self._stopping = False

    def subscribe(self, accepts: Filter = everything, capacity: int | None = None) -> Subscriber:
        """A new subscriber that receives every event published from now on that it accepts."""
        subscriber = Subscriber(accepts, capacity or self.queue_size)
        if self._stopping:
            subscriber.stopping = True
            subscriber.queue.put_nowait(STOP)
            return subscriber
        self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def publish(self, event: LiveEvent) -> None:
        """Queue ``event`` for every subscriber that accepts it; never waits."""
        self._published += 1
        self.last_seq = max(self.last_seq, event.seq)
        for subscriber in list(self._subscribers):
            if not subscriber.accepts(event):
                continue
            if subscriber.queue.qsize() >= subscriber.capacity or (
                subscriber.backlog is not None and subscriber.behind() >= subscriber.capacity
            ):
                self.drop(subscriber)
                continue
            subscriber.queue.put_nowait(event)
            self._delivered += 1

    def drop(self, subscriber: Subscriber) -> None:
        """Give up on a client that does not keep up (also called by a transport whose send
        does not complete): counted once, it gets RESYNC and must reconnect."""
        if subscriber.dropped.is_set():
            return
        self._subscribers.discard(subscriber)
        self._dropped += 1
        if not subscriber.queue.full():
            subscriber.queue.put_nowait(RESYNC)
        subscriber.dropped.set()

    def stop(self) -> None:
        """The service is stopping: every stream ends (with a reconnect hint) instead of
        holding the shutdown until its client leaves; new subscribers end at once."""
        self._stopping = True
        for subscriber in list(self._subscribers):
            subscriber.stopping = True
            if subscriber.queue.empty():  # waiting on it: wake it; otherwise it sees the flag
                subscriber.queue.put_nowait(STOP)

    def stats(self) -> HubStats:
        return HubStats(
            clients=len(self._subscribers),
            published=self._published,
            delivered=self._delivered,
            dropped=self._dropped,
            last_seq=self.last_seq,
        )
