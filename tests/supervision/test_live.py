"""The live fan-out hub: order, scope filters, a slow subscriber dropped, the others unharmed."""

from __future__ import annotations

import asyncio
import json

import pytest

from supervision.live import RESYNC, STOP, LiveEvent, LiveHub, everything, scope_filter


def event(seq: int, commune: str = "27056", epci: str | None = "200070753") -> LiveEvent:
    return LiveEvent.from_payload(
        {"seq": seq, "type": "state_changed", "camera_id": f"cam-{commune}", "state": "down"},
        commune=commune,
        epci=epci,
    )


def drain(queue: asyncio.Queue) -> list:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


def test_every_subscriber_gets_every_event_in_order_serialised_once() -> None:
    hub = LiveHub(queue_size=10)
    first, second = hub.subscribe(), hub.subscribe()
    published = [event(seq) for seq in range(1, 6)]
    for item in published:
        hub.publish(item)
    for subscriber in (first, second):
        got = drain(subscriber.queue)
        assert [e.seq for e in got] == [1, 2, 3, 4, 5]
        assert got[0] is published[0]  # the same object: serialised once for all
    assert json.loads(published[2].text) == {
        "seq": 3,
        "type": "state_changed",
        "camera_id": "cam-27056",
        "state": "down",
    }
    stats = hub.stats()
    assert (stats.clients, stats.published, stats.delivered, stats.dropped) == (2, 5, 10, 0)
    assert stats.last_seq == 5


def test_a_subscriber_only_gets_what_its_filter_accepts() -> None:
    hub = LiveHub()
    commune = hub.subscribe(scope_filter(True, {"27056"}, ()))
    epci_b = hub.subscribe(scope_filter(True, (), {"200040178"}))
    nothing = hub.subscribe(scope_filter(True, (), ()))  # a scoped role without a scope
    everyone = hub.subscribe(scope_filter(False, (), ()))
    hub.publish(event(1, "27056", "200070753"))
    hub.publish(event(2, "27229", "200070753"))
    hub.publish(event(3, "27681", "200040178"))
    hub.publish(event(4, "27999", None))  # a commune the referential does not know
    assert [e.seq for e in drain(commune.queue)] == [1]
    assert [e.seq for e in drain(epci_b.queue)] == [3]
    assert drain(nothing.queue) == []
    assert [e.seq for e in drain(everyone.queue)] == [1, 2, 3, 4]
    assert scope_filter(False, {"27056"}, ()) is everything


def test_an_overflowing_subscriber_is_dropped_with_resync_and_the_others_keep_going() -> None:
    hub = LiveHub(queue_size=3)
    slow, fast = hub.subscribe(), hub.subscribe()
    for seq in range(1, 4):
        hub.publish(event(seq))
        drain(fast.queue)
    assert not slow.dropped.is_set()
    hub.publish(event(4))  # the slow queue holds 3 already: it overflows
    assert slow.dropped.is_set()
    assert [getattr(e, "seq", e) for e in drain(slow.queue)] == [1, 2, 3, RESYNC]
    hub.publish(event(5))
    assert drain(slow.queue) == []  # removed: nothing more
    assert [e.seq for e in drain(fast.queue)] == [4, 5]
    stats = hub.stats()
    assert (stats.clients, stats.dropped) == (1, 1)


def test_publish_never_waits_and_unsubscribe_stops_delivery() -> None:
    async def scenario() -> list[int]:
        hub = LiveHub(queue_size=2)
        reader, gone = hub.subscribe(), hub.subscribe()
        hub.unsubscribe(gone)
        received: list[int] = []

        async def read() -> None:
            while len(received) < 100:
                received.append((await reader.get()).seq)

        task = asyncio.create_task(read())
        for seq in range(1, 101):
            hub.publish(event(seq))  # synchronous: cannot wait for a reader
            await asyncio.sleep(0)  # let the reader run between two events
        await asyncio.wait_for(task, 5)
        assert gone.queue.empty()
        return received

    assert asyncio.run(scenario()) == list(range(1, 101))


def test_a_queue_holds_at_least_one_message() -> None:
    with pytest.raises(ValueError, match="at least one"):
        LiveHub().subscribe(capacity=-1)


def test_what_the_transport_still_holds_counts_toward_the_bound() -> None:
    """A client that stopped reading leaves its queue empty while its socket fills up."""
    hub = LiveHub(queue_size=10)
    stuck, fine = hub.subscribe(), hub.subscribe()
    held = [0]
    stuck.backlog = lambda: held[0]
    hub.publish(event(1))
    drain(stuck.queue)  # written to the socket
    held[0] = 9
    hub.publish(event(2))  # 1 queued + 9 held: the bound is reached
    hub.publish(event(3))
    assert stuck.dropped.is_set()
    assert drain(stuck.queue) == [event(2), RESYNC]
    assert [e.seq for e in drain(fine.queue)] == [1, 2, 3]
    hub.drop(stuck)  # a transport giving up too: counted once
    assert hub.stats().dropped == 1


def test_stop_ends_every_stream_and_the_ones_that_come_after() -> None:
    hub = LiveHub(queue_size=10)
    waiting, busy = hub.subscribe(), hub.subscribe()
    hub.publish(event(1))
    drain(waiting.queue)
    hub.stop()
    assert drain(waiting.queue) == [STOP]  # woken up
    assert busy.stopping and [e.seq for e in drain(busy.queue)] == [1]  # sees the flag next
    late = hub.subscribe()
    assert late.stopping and drain(late.queue) == [STOP]
    assert hub.stats().dropped == 0  # a stop is not a slow consumer
