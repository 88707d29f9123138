"""Live feed wake-up on PostgreSQL: how long an event takes from its commit to the live hub,
woken by ``NOTIFY vigie_events`` against polling every 100 ms, measured in the same run.

1. A database created for the run (dropped after): the schema, three communes.
2. Two :class:`vigie.live.feed.LiveFeed` over it in one event loop, each with its hub and one
   subscriber: one polling every 100 ms (``listen=False``, as on SQLite and before NOTIFY), one
   LISTENing (its fallback poll every second).
3. A writer thread appends ``--events`` events, one transaction each (``append_events``, which
   notifies), at random gaps of 10 to 60 ms so that the commits fall at every phase of the poll;
   it notes the time each commit returned.
4. Latency = the time the subscriber took the event - the time its commit returned, per event
   and per feed: p50 / p99 / max; and the reads each feed made (queries per second).

This is the feed's share of the commit-to-client latency (the part NOTIFY changes); a socket to
the client adds the same to both (``live_fanout.py`` measures the whole path).

Usage: ``.venv/bin/python benchmarks/supervision/live_notify.py [--events 500]``
Appends its figures to the runs of ``benchmarks/supervision/live_notify_results.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout: tests.helpers

from supervision.live import LiveEvent, LiveHub
from tests.helpers.postgres import postgres_database
from tests.helpers.service import seed
from vigie import db
from vigie.live.feed import LiveFeed
from vigie.supervisor.store import append_events

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "live_notify_results.json"
COMMUNES = ("27056", "27229", "27681")


class CountingFeed(LiveFeed):
    """A feed that counts its reads of the events table."""

    reads = 0

    def _read_after(self, after: int) -> list[LiveEvent]:
        self.reads += 1
        return super()._read_after(after)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def write(sessions, count: int, committed: dict[int, float], seed_value: int) -> None:
    """``count`` events, one transaction each, at random gaps; the time each commit returned."""
    rng = random.Random(seed_value)
    for i in range(count):
        commune = COMMUNES[i % len(COMMUNES)]
        event = {"type": "state_changed", "camera_id": f"cam-{i}"}
        with db.session_scope(sessions) as session:
            (seq,) = append_events(session, [(f"cam-{i}", commune, datetime.now(UTC), event)])
        committed[seq] = time.perf_counter()
        time.sleep(rng.uniform(0.010, 0.060))


async def run(url: str, events: int, seed_value: int) -> dict[str, Any]:
    engine = db.make_engine(url)
    seed(engine)
    sessions = db.session_factory(engine)
    feeds = {
        "polling 100 ms": CountingFeed(sessions, LiveHub(), interval=0.1, listen=False),
        "LISTEN/NOTIFY": CountingFeed(sessions, LiveHub(), interval=0.1),
    }
    received: dict[str, dict[int, float]] = {name: {} for name in feeds}

    async def consume(name: str, feed: LiveFeed) -> None:
        subscriber = feed.hub.subscribe()
        while len(received[name]) < events:
            item = await subscriber.get()
            assert isinstance(item, LiveEvent)
            received[name][item.seq] = time.perf_counter()

    for feed in feeds.values():
        await feed.start()
    listening = feeds["LISTEN/NOTIFY"]
    while not listening.listening:
        await asyncio.sleep(0.01)
    consumers = [asyncio.create_task(consume(name, feed)) for name, feed in feeds.items()]
    committed: dict[int, float] = {}
    started = time.perf_counter()
    writer = threading.Thread(target=write, args=(sessions, events, committed, seed_value))
    writer.start()
    await asyncio.wait_for(asyncio.gather(*consumers), 120)
    await asyncio.to_thread(writer.join)
    elapsed = time.perf_counter() - started
    for feed in feeds.values():
        await feed.stop()
    engine.dispose()
    figures: dict[str, Any] = {}
    for name, feed in feeds.items():
        assert sorted(received[name]) == sorted(committed), f"{name}: events missing"
        latencies = [(received[name][seq] - committed[seq]) * 1000 for seq in committed]
        figures[name] = {
            "p50_ms": round(percentile(latencies, 0.50), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1),
            "max_ms": round(max(latencies), 1),
            "min_ms": round(min(latencies), 1),
            "reads_per_s": round(feed.reads / elapsed, 1),
        }
    figures["LISTEN/NOTIFY"]["notifications"] = listening.notifications
    return {"events": events, "seconds": round(elapsed, 1), "feeds": figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with postgres_database() as url:
        result = asyncio.run(run(url, args.events, args.seed))
    result |= {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": os.getloadavg(),
        "machine": f"{platform.node()} {os.cpu_count()} cpus",
    }
    print(json.dumps(result, indent=2))
    runs = json.loads(RESULTS.read_text())["runs"] if RESULTS.exists() else []
    RESULTS.write_text(json.dumps({"runs": [*runs, result]}, indent=2) + "\n")


if __name__ == "__main__":
    main()
