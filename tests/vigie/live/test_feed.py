"""The feed tails the events table into the hub: in order, with each commune's EPCI, from
whichever process wrote them; not ready (and retrying) while the database cannot be read."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from supervision.live import LiveHub
from tests.helpers.service import COMMUNES, seed
from vigie import db
from vigie.live.feed import LiveFeed
from vigie.supervisor.store import append_events

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def write(engine: Engine, communes: list[str]) -> list[int]:
    with db.session_scope(db.session_factory(engine)) as session:
        return append_events(
            session,
            [
                (f"cam-{c}", c, AT, {"type": "state_changed", "camera_id": f"cam-{c}"})
                for c in communes
            ],
        )


def test_the_feed_publishes_new_events_in_order_with_their_epci(engine: Engine) -> None:
    seed(engine)
    write(engine, ["27056"])  # before the start: for replays, not for the feed

    async def scenario() -> None:
        hub = LiveHub(queue_size=5000)  # the test reads after the writes
        feed = LiveFeed(db.session_factory(engine), hub, interval=0.02)
        await feed.start()
        try:
            assert feed.ready and hub.last_seq == 1
            subscriber = hub.subscribe()
            communes = ["27056", "27681", "27229", "99999"] * 300  # more than one batch
            seqs = await asyncio.to_thread(write, engine, communes)
            got = [await asyncio.wait_for(subscriber.get(), 10) for _ in seqs]
            assert [e.seq for e in got] == seqs == list(range(2, 2 + len(communes)))
            assert [e.commune for e in got] == communes
            assert [e.epci for e in got[:4]] == [
                COMMUNES["27056"],
                COMMUNES["27681"],
                COMMUNES["27229"],
                None,
            ]
            assert got[0].payload == {"seq": 2, "type": "state_changed", "camera_id": "cam-27056"}
            assert subscriber.queue.empty()
        finally:
            await feed.stop()

    asyncio.run(scenario())


def test_the_feed_waits_for_a_readable_database(empty_database_url: str) -> None:
    engine = db.make_engine(empty_database_url)  # not migrated: no events table yet

    async def scenario() -> None:
        hub = LiveHub()
        feed = LiveFeed(db.session_factory(engine), hub, interval=0.02)
        await feed.start()
        try:
            assert not feed.ready
            await asyncio.to_thread(seed, engine)
            for _ in range(200):
                if feed.ready:
                    break
                await asyncio.sleep(0.05)
            assert feed.ready and hub.last_seq == 0
            subscriber = hub.subscribe()
            await asyncio.to_thread(write, engine, ["27056"])
            assert (await asyncio.wait_for(subscriber.get(), 10)).seq == 1
        finally:
            await feed.stop()
            engine.dispose()

    asyncio.run(scenario())
