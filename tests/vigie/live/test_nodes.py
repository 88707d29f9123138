"""Several ``vigie serve`` nodes over one PostgreSQL database: every node serves the whole live
stream, whoever wrote the events; a client cut from one node resumes on another with
``Last-Event-ID`` and misses nothing; the feeds are woken by ``NOTIFY vigie_events`` (README:
Live status), and poll while their LISTEN connection is down until it is back."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import make_url, select, text
from websockets.asyncio.client import connect

from supervision.live import LiveHub
from supervision.states import Policy
from tests.helpers.http_server import free_port
from tests.helpers.live_server import LiveServer, start
from tests.helpers.service import make_settings, seed
from tests.helpers.sse import SseStream
from tests.helpers.supervision_data import (
    OUTAGE,
    T0,
    add_cameras,
    head,
    head_of,
    ok,
    outage,
    stored,
)
from vigie import db
from vigie.credentials import generate_key
from vigie.live.feed import LiveFeed, listen_url
from vigie.models import IncidentRow
from vigie.settings import generate_secret_key
from vigie.supervisor.store import append_events, apply_result

pytestmark = pytest.mark.postgres

WAIT = 15.0  # seconds: a bound for what should take milliseconds, never a measured time


def fold(sessions, results) -> int:
    """Fold check results as the scheduler does, one transaction each; how many transactions
    appended events (each sends one notification)."""
    notified = 0
    for result in results:
        with db.session_scope(sessions) as session:
            before = head_of(session)
            apply_result(session, result.camera_id, result, Policy(), result.time)
            notified += head_of(session) > before
    return notified


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"not within {WAIT} s: {what}"
        time.sleep(0.02)


@pytest.fixture
def nodes(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[LiveServer]]:
    """Two nodes (two apps, each with its engine, live feed and hub) over one database, with
    the same keys as every node of a deployment; their feeds poll only every hour, so what they
    publish came through LISTEN/NOTIFY."""
    monkeypatch.setattr("vigie.live.feed.FALLBACK_POLL", 3600.0)
    engine = db.make_engine(postgres_url)
    seed(engine)
    add_cameras(engine)
    fold(db.session_factory(engine), [ok("cam-a1", T0), ok("cam-a2", T0), ok("cam-b1", T0)])
    keys = {"secret_key": generate_secret_key(), "credentials_keys": generate_key()}
    servers = [
        start(make_settings(postgres_url, live_heartbeat_seconds=30.0, **keys), engine)
        for _ in range(2)
    ]
    for server in servers:
        until(lambda s=server: s.app.state.live_feed.listening, "the feed listens")
    yield servers
    for server in servers:
        server.stop()
    engine.dispose()


def test_events_written_through_node_a_reach_node_b_in_order_each_once(
    nodes: list[LiveServer],
) -> None:
    a, b = nodes
    feed_b = b.app.state.live_feed

    async def scenario() -> tuple[int, list[dict], list[dict]]:
        token = await asyncio.to_thread(b.token, "operator")
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            connect(b.ws_url, additional_headers=headers) as on_b,
            connect(a.ws_url, additional_headers=headers) as on_a,
        ):
            snapshot = json.loads(await on_b.recv())
            assert json.loads(await on_a.recv())["seq"] == snapshot["seq"]
            before = feed_b.notifications
            # Node A's process folds check results (its own sessions), then its API
            # acknowledges the incident they opened: two kinds of writer, one stream.
            notified = await asyncio.to_thread(
                fold, a.app.state.sessions, outage("cam-a1", OUTAGE, failures=3, recoveries=0)
            )
            incident = await asyncio.to_thread(open_incident, a)
            answer = await asyncio.to_thread(
                httpx.post,
                f"{a.http_url}/api/v1/incidents/{incident}/ack",
                headers=headers,
                json={"comment": "on it"},
            )
            assert answer.status_code == 200, answer.text
            notified += 1
            last = await asyncio.to_thread(head, a.engine)
            got_b = await events_until(on_b, last)
            got_a = await events_until(on_a, last)
            assert feed_b.notifications - before == notified
            return snapshot["seq"], got_b, got_a

    first, got_b, got_a = asyncio.run(scenario())
    written = stored(a.engine, first)
    assert [e["type"] for e in written][-1] == "incident_acknowledged"
    assert got_b == written == got_a  # in order, without gaps, each once
    assert [e["seq"] for e in got_b] == list(range(first + 1, first + 1 + len(written)))


def open_incident(server: LiveServer) -> int:
    with db.session_scope(db.session_factory(server.engine)) as session:
        return session.scalar(select(IncidentRow.id).where(IncidentRow.camera_id == "cam-a1"))


async def events_until(socket, last_seq: int) -> list[dict]:
    got: list[dict] = []
    while not got or got[-1]["seq"] < last_seq:
        message = json.loads(await asyncio.wait_for(socket.recv(), WAIT))
        if message["type"] != "heartbeat":
            got.append(message)
    return got


def test_a_client_cut_from_its_node_resumes_on_another_with_last_event_id(
    nodes: list[LiveServer],
) -> None:
    """While events keep coming: read some on node B, B stops, resume on node A with the last
    id: the events written meanwhile are replayed, then the live ones follow, none twice."""
    a, b = nodes
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:  # through node A's sessions, one camera going up and down
        sessions = a.app.state.sessions
        at = OUTAGE
        while not stop.is_set():
            written.append(fold(sessions, outage("cam-a2", at, failures=3, recoveries=3)))
            at += timedelta(minutes=10)
            time.sleep(0.02)

    token = b.token("operator")
    headers = {"Authorization": f"Bearer {token}"}
    ids: list[int] = []
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        with httpx.stream("GET", f"{b.http_url}/api/v1/live/sse", headers=headers) as response:
            stream = SseStream(response)
            first = stream.next()
            assert first is not None and first["event"] == "snapshot"
            while len(ids) < 10:
                event = stream.next()
                assert event is not None
                ids.append(int(event["id"]))
            b.stop_as_serve()  # the node goes away; its stream ends with a reconnect hint
            while (event := stream.next()) is not None and event["event"] != "close":
                ids.append(int(event["id"]))
            assert event is not None and event["data"]["code"] == 1012
        away = ids[-1]
        until(lambda: head(a.engine) > away + 5, "events written while the client is away")
        resumed = {**headers, "Last-Event-ID": str(away)}
        with httpx.stream("GET", f"{a.http_url}/api/v1/live/sse", headers=resumed) as response:
            stream = SseStream(response)
            while len(ids) < 40:  # the missed ones, then live ones
                event = stream.next()
                assert event is not None and event["event"] != "snapshot"
                ids.append(int(event["id"]))
            stop.set()
            thread.join()
            last = head(a.engine)
            while ids[-1] < last:
                event = stream.next()
                assert event is not None
                ids.append(int(event["id"]))
    finally:
        stop.set()
        thread.join()
    assert ids == list(range(ids[0], ids[-1] + 1))  # none missed, none twice
    assert [e["seq"] for e in stored(a.engine, ids[0] - 1)] == ids
    assert sum(written) > 10


def test_the_feed_polls_while_its_listen_connection_is_down_then_listens_again(
    postgres_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Trust authentication ignores the password: it is there to be kept out of the logs.
    url = make_url(postgres_url).set(password="not-in-the-logs")
    nowhere = listen_url(url.set(port=free_port()))
    engine = db.make_engine(url.render_as_string(hide_password=False))
    seed(engine)
    sessions = db.session_factory(engine)

    def write() -> int:
        with db.session_scope(sessions) as session:
            (seq,) = append_events(
                session, [("cam-a1", "27056", T0, {"type": "state_changed", "camera_id": "x"})]
            )
            return seq

    def cut() -> int:
        """Terminate the feed's LISTEN connection, as a database restart would."""
        with engine.connect() as connection:
            return connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = 'vigie live feed' AND datname = current_database()"
                )
            ).scalar_one()

    async def scenario() -> None:
        hub = LiveHub()
        feed = LiveFeed(sessions, hub, interval=0.05, fallback=3600.0)
        await feed.start()
        try:
            await wait_until(lambda: feed.listening)
            subscriber = hub.subscribe()
            seq = await asyncio.to_thread(write)
            assert (await asyncio.wait_for(subscriber.get(), WAIT)).seq == seq
            assert feed.notifications == 1  # the hourly poll did not deliver it
            # The database goes away for the listener (its reconnections are refused): the
            # events still arrive, read by the poll every 50 ms.
            monkeypatch.setattr(feed, "_listen_url", nowhere)
            assert await asyncio.to_thread(cut) == 1
            await wait_until(lambda: not feed.listening)
            seq = await asyncio.to_thread(write)
            assert (await asyncio.wait_for(subscriber.get(), WAIT)).seq == seq
            assert not feed.listening and feed.notifications == 1
            monkeypatch.undo()  # the database is back: the feed listens again
            await wait_until(lambda: feed.listening)
            seq = await asyncio.to_thread(write)
            assert (await asyncio.wait_for(subscriber.get(), WAIT)).seq == seq
            await wait_until(lambda: feed.notifications == 2)
            assert subscriber.queue.empty()
        finally:
            await feed.stop()
            engine.dispose()

    with caplog.at_level(logging.INFO, logger="vigie.live.feed"):
        asyncio.run(scenario())
    logged = caplog.text
    assert "no LISTEN connection" in logged and "polling every 50 ms" in logged
    assert logged.count("woken by LISTEN vigie_events") == 2
    assert "not-in-the-logs" not in logged


async def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"not within {WAIT} s"
        await asyncio.sleep(0.02)


def test_the_listen_url_is_the_engine_url_without_the_driver() -> None:
    url = make_url("postgresql+psycopg://vigie:p%40ss@db.example:5433/vigie?sslmode=require")
    assert listen_url(url) == "postgresql://vigie:p%40ss@db.example:5433/vigie?sslmode=require"
    assert listen_url(make_url("sqlite:///vigie.db")) is None
