"""The live stream on a real server with real clients (websockets, httpx streaming for SSE):
snapshot and scope, order, resume without loss or duplicate, heartbeats, slow consumers,
refusals, token expiry and revocation, the audit trail. Both databases."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from supervision.states import Policy
from tests.helpers.live_server import LiveServer, start
from tests.helpers.service import make_settings, seed
from tests.helpers.supervision_data import (
    OUTAGE,
    STEP,
    T0,
    add_cameras,
    head,
    ok,
    outage,
    stored,
)
from vigie import db
from vigie.auth.apitokens import create_api_token, revoke_api_token
from vigie.auth.roles import Role
from vigie.auth.tokens import issue_access_token
from vigie.models import AuditEvent, SupervisionEvent, User
from vigie.supervisor.store import append_events, apply_result

LATER = OUTAGE + timedelta(hours=1)


def write(engine: Engine, results) -> None:
    """Apply check results as the scheduler does, in one transaction."""
    with db.session_scope(db.session_factory(engine)) as session:
        for result in results:
            apply_result(session, result.camera_id, result, Policy(), result.time)


def audit_rows(engine: Engine, action: str) -> list[tuple[str, dict]]:
    with db.session_scope(db.session_factory(engine)) as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return [(row.actor, {**json.loads(row.detail), "_object": row.object_id}) for row in rows]


def wait_for_rows(engine: Engine, action: str, count: int) -> list[tuple[str, dict]]:
    """The audit rows of ``action`` once there are ``count`` (the server writes a disconnect
    row after the client saw the close)."""
    deadline = time.monotonic() + 10
    while len(rows := audit_rows(engine, action)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return rows


@pytest.fixture
def live_factory(database_url: str) -> Iterator[Callable[..., LiveServer]]:
    """Start servers over one database where cam-a1 (27056) and cam-b1 (27681, EPCI B) are
    DOWN with an incident and cam-a2 (27229) is UP."""
    engine = db.make_engine(database_url)
    seed(engine)
    add_cameras(engine)
    write(
        engine,
        [
            ok("cam-a1", T0),
            ok("cam-a2", T0),
            ok("cam-b1", T0),
            *outage("cam-a1", OUTAGE, failures=3, recoveries=0),
            *outage("cam-b1", OUTAGE, failures=3, recoveries=0),
        ],
    )
    servers: list[LiveServer] = []

    def make(**overrides: object) -> LiveServer:
        values: dict[str, object] = {"live_heartbeat_seconds": 30.0, "live_poll_ms": 50}
        values.update(overrides)
        server = start(make_settings(database_url, **values), engine)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
    engine.dispose()


@pytest.fixture
def live(live_factory) -> LiveServer:
    return live_factory()


async def open_socket(
    server: LiveServer,
    token: str | None,
    *,
    after: int | None = None,
    subprotocol: bool = False,
    query: str = "",
    **options: object,
) -> ClientConnection:
    headers = {"Authorization": f"Bearer {token}"} if token and not subprotocol else {}
    protocols = ["vigie.v1", f"bearer.{token}"] if subprotocol else None
    params = [f"after={after}"] if after is not None else []
    params += [query] if query else []
    url = server.ws_url + ("?" + "&".join(params) if params else "")
    # A client that stopped reading cannot see the server's close frame: without a bound on its
    # queue, closing while events stream in does not wait for the close timeout.
    options.setdefault("max_queue", None)
    return await connect(
        url, additional_headers=headers, subprotocols=protocols, open_timeout=10, **options
    )


async def receive(socket: ClientConnection, *, heartbeats: bool = False, timeout=10.0) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), timeout))
        if heartbeats or message["type"] != "heartbeat":
            return message


async def events_until(socket: ClientConnection, last_seq: int) -> list[dict]:
    """Events received until the one numbered ``last_seq`` (heartbeats left out)."""
    got: list[dict] = []
    while not got or got[-1]["seq"] < last_seq:
        got.append(await receive(socket))
    return got


async def close_code(socket: ClientConnection, timeout: float = 10.0) -> int:
    """Read until the server closes; its close code."""
    try:
        while True:
            await asyncio.wait_for(socket.recv(), timeout)
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, "closed without a close frame"
        return closed.rcvd.code


async def in_thread(function, *args):
    return await asyncio.to_thread(function, *args)


# --- snapshot and scope ---------------------------------------------------------------------


def test_snapshot_is_the_status_list_with_the_last_seq(live: LiveServer) -> None:
    token = live.token("operator")
    status = httpx.get(
        f"{live.http_url}/api/v1/status", headers={"Authorization": f"Bearer {token}"}
    ).json()

    async def scenario() -> None:
        async with await open_socket(live, token) as socket:
            snapshot = await receive(socket)
        assert snapshot["type"] == "snapshot"
        assert snapshot["seq"] == head(live.engine) > 0
        assert snapshot["cameras"] == status  # exactly the items of GET /api/v1/status
        assert datetime.fromisoformat(snapshot["at"]).tzinfo is not None
        states = {camera["camera_id"]: camera["state"] for camera in snapshot["cameras"]}
        assert states == {"cam-a1": "down", "cam-a2": "up", "cam-b1": "down"}

    asyncio.run(scenario())


def test_browsers_authenticate_with_a_subprotocol_answered_vigie_v1(live: LiveServer) -> None:
    async def scenario() -> None:
        token = await in_thread(live.token, "gendarme")
        async with await open_socket(live, token, subprotocol=True) as socket:
            assert socket.subprotocol == "vigie.v1"
            assert (await receive(socket))["type"] == "snapshot"

    asyncio.run(scenario())


def test_commune_users_see_only_their_cameras_and_their_events(live: LiveServer) -> None:
    async def scenario() -> None:
        mairie, epci_b, operator = [
            await in_thread(live.token, user) for user in ("mairie-27056", "epci-b", "operator")
        ]
        async with (
            await open_socket(live, mairie) as commune_socket,
            await open_socket(live, epci_b) as epci_socket,
            await open_socket(live, operator) as operator_socket,
        ):
            snapshots = [await receive(s) for s in (commune_socket, epci_socket)]
            assert [c["camera_id"] for c in snapshots[0]["cameras"]] == ["cam-a1"]
            assert [c["camera_id"] for c in snapshots[1]["cameras"]] == ["cam-b1"]
            first = (await receive(operator_socket))["seq"]
            # cam-a2 (27229) goes down, then cam-a1 (27056) and cam-b1 (27681) come back.
            await in_thread(
                write,
                live.engine,
                [
                    *outage("cam-a2", LATER, failures=3, recoveries=0),
                    *outage("cam-a1", LATER, failures=0, recoveries=3),
                    *outage("cam-b1", LATER, failures=0, recoveries=3),
                ],
            )
            everything = await in_thread(stored, live.engine, first)
            last = everything[-1]["seq"]
            seen = await events_until(operator_socket, last)
            assert seen == everything  # every event, in order, as stored
            mine = [e for e in everything if _camera(e) == "cam-a1"]
            assert mine and await events_until(commune_socket, mine[-1]["seq"]) == mine
            theirs = [e for e in everything if _camera(e) == "cam-b1"]
            assert await events_until(epci_socket, theirs[-1]["seq"]) == theirs
            # cam-a1's events never reach the EPCI B user: its next event is cam-b1's.
            await in_thread(write, live.engine, outage("cam-a1", LATER + STEP * 9, 3, 0))
            await in_thread(write, live.engine, outage("cam-b1", LATER + STEP * 9, 3, 0))
            assert _camera(await receive(epci_socket)) == "cam-b1"

    asyncio.run(scenario())


def _camera(event: dict) -> str | None:
    return event.get("camera_id") or event.get("incident", {}).get("camera_id")


def test_events_arrive_in_order_with_incident_events(live: LiveServer) -> None:
    async def scenario() -> None:
        token = await in_thread(live.token, "operator")
        async with await open_socket(live, token) as socket:
            first = (await receive(socket))["seq"]
            await in_thread(write, live.engine, outage("cam-a2", LATER, 3, 0))
            events = await events_until(socket, head(live.engine))
        assert [e["seq"] for e in events] == list(range(first + 1, first + 1 + len(events)))
        types = [e["type"] for e in events]
        assert "state_changed" in types and "incident_opened" in types
        change = next(e for e in events if e["type"] == "state_changed")
        assert change["camera_id"] == "cam-a2" and change["state"] == "down"
        assert change["causes"] == ["unreachable"] and change["previous"] == "up"
        opened = next(e for e in events if e["type"] == "incident_opened")
        assert opened["incident"]["camera_id"] == "cam-a2"

    asyncio.run(scenario())


# --- resume ------------------------------------------------------------------------------------


def test_reconnect_with_after_loses_nothing_and_duplicates_nothing(live: LiveServer) -> None:
    """Events written while disconnected, and while reconnecting, all arrive exactly once."""
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            _append(live.engine, 2, "")
            time.sleep(0.01)

    async def scenario() -> list[int]:
        token = await in_thread(live.token, "operator")
        received: list[int] = []
        async with await open_socket(live, token) as socket:
            received.append((await receive(socket))["seq"])
        thread = threading.Thread(target=writer)
        thread.start()
        try:
            for _ in range(4):  # disconnect and resume four times while events keep coming
                await asyncio.sleep(0.3)
                async with await open_socket(live, token, after=received[-1]) as socket:
                    for _ in range(5):
                        message = await receive(socket)
                        assert message["type"] != "snapshot"
                        received.append(message["seq"])
        finally:
            stop.set()
            await in_thread(thread.join)
        async with await open_socket(live, token, after=received[-1]) as socket:
            last = head(live.engine)
            if last > received[-1]:
                received.extend(e["seq"] for e in await events_until(socket, last))
        return received

    received = asyncio.run(scenario())
    assert received == list(range(received[0], received[0] + len(received)))
    assert len(received) > 20


def test_after_too_old_too_far_or_too_many_gives_a_snapshot(live: LiveServer, monkeypatch) -> None:
    last = head(live.engine)

    async def first_type(after: int) -> str:
        token = await in_thread(live.token, "operator")
        async with await open_socket(live, token, after=after) as socket:
            return (await receive(socket))["type"]

    async def scenario() -> None:
        assert await first_type(last + 100) == "snapshot"  # from another database
        monkeypatch.setattr("vigie.live.sessions.MAX_REPLAY", 2)
        assert await first_type(last - 3) == "snapshot"  # more missed than the replay limit
        monkeypatch.setattr("vigie.live.sessions.MAX_REPLAY", 10_000)
        assert await first_type(last - 3) != "snapshot"
        with db.session_scope(db.session_factory(live.engine)) as session:
            session.execute(delete(SupervisionEvent).where(SupervisionEvent.seq <= 2))
        assert await first_type(0) == "snapshot"  # events 1 and 2 purged: cannot replay
        assert await first_type(1) == "snapshot"
        assert await first_type(2) != "snapshot"

    asyncio.run(scenario())


def test_replay_from_a_replayable_point_sends_the_missed_events_then_live_ones(
    live_factory,
) -> None:
    live = live_factory(live_heartbeat_seconds=0.5)

    async def scenario() -> None:
        token = await in_thread(live.token, "mairie-27056")
        mine = [e for e in stored(live.engine) if _camera(e) == "cam-a1"]
        async with await open_socket(live, token, after=0) as socket:
            assert await events_until(socket, mine[-1]["seq"]) == mine
            await in_thread(write, live.engine, outage("cam-a1", LATER, 0, 3))
            new = [e for e in stored(live.engine, mine[-1]["seq"]) if _camera(e) == "cam-a1"]
            assert new and await events_until(socket, new[-1]["seq"]) == new
        async with await open_socket(live, token, after=head(live.engine)) as socket:
            beat = await receive(socket, heartbeats=True, timeout=5)  # nothing missed
            assert beat["type"] == "heartbeat"

    asyncio.run(scenario())


# --- heartbeats, slow consumers ------------------------------------------------------------------


def test_heartbeats_carry_the_last_seq(live_factory) -> None:
    server = live_factory(live_heartbeat_seconds=0.3)

    async def scenario() -> None:
        token = await in_thread(server.token, "mairie-27056")
        async with await open_socket(server, token) as socket:
            snapshot = await receive(socket)
            started = time.monotonic()
            beat = await receive(socket, heartbeats=True, timeout=3)
            assert time.monotonic() - started < 2
            assert beat["type"] == "heartbeat" and beat["seq"] == snapshot["seq"]
            datetime.fromisoformat(beat["at"])
            # An event out of this user's scope moves the heartbeat's seq on all the same.
            await in_thread(write, server.engine, outage("cam-b1", LATER, 0, 3))
            last = head(server.engine)
            for _ in range(20):
                beat = await receive(socket, heartbeats=True, timeout=3)
                if beat["seq"] == last:
                    break
            assert beat == {**beat, "type": "heartbeat", "seq": last}

    asyncio.run(scenario())


def test_a_slow_client_is_dropped_while_a_fast_one_keeps_receiving(live_factory) -> None:
    server = live_factory(live_queue_size=20)
    padding = "x" * 4000  # big messages fill the socket buffers of the client that never reads

    async def scenario() -> None:
        token = await in_thread(server.token, "operator")
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", server.port))
        async with (
            await open_socket(server, token, sock=raw, max_queue=1, compression=None) as slow,
            await open_socket(server, token) as fast,
        ):
            start_seq = (await receive(slow))["seq"]
            assert (await receive(fast))["seq"] == start_seq
            received: list[int] = []
            seq = start_seq
            for _ in range(400):  # until the hub gives up on the slow one
                await in_thread(_append, server.engine, 10, padding)  # bursts within the queue
                seq += 10
                received += [e["seq"] for e in await events_until(fast, seq)]
                if server.app.state.live_hub.stats().dropped:
                    break
            assert server.app.state.live_hub.stats().dropped == 1
            # The fast client got everything in order, and keeps getting new events.
            await in_thread(_append, server.engine, 5, "")
            received += [e["seq"] for e in await events_until(fast, seq + 5)]
            assert received == list(range(start_seq + 1, seq + 6))
            # The slow one, when it finally reads: some events, then resync, then 4008.
            messages: list[dict] = []
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    messages.append(json.loads(await asyncio.wait_for(slow.recv(), 15)))
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4008
            assert messages[-1] == {"type": "resync", "reason": "slow consumer"}
            seqs = [m["seq"] for m in messages[:-1] if m["type"] != "heartbeat"]
            assert seqs == list(range(start_seq + 1, start_seq + 1 + len(seqs)))
        # Both gone from the hub once the server has seen the fast one close.
        for _ in range(100):
            if server.app.state.live_hub.stats().clients == 0:
                break
            await asyncio.sleep(0.05)
        assert server.app.state.live_hub.stats().clients == 0
        ends = await in_thread(wait_for_rows, server.engine, "live.disconnect", 2)
        reasons = [detail["reason"] for _actor, detail in ends]
        assert "slow consumer" in reasons

    asyncio.run(scenario())


def _append(engine: Engine, count: int, padding: str) -> None:
    with db.session_scope(db.session_factory(engine)) as session:
        append_events(
            session,
            [
                (
                    "cam-a1",
                    "27056",
                    LATER,
                    {"type": "state_changed", "camera_id": "cam-a1", "note": padding},
                )
                for _ in range(count)
            ],
        )


# --- refusals, expiry, revocation ----------------------------------------------------------------


def test_refused_without_token_with_a_bad_one_in_the_url_or_with_a_wrong_role(
    live: LiveServer,
) -> None:
    async def scenario() -> None:
        operator = await in_thread(live.token, "operator")
        amo = await in_thread(live.token, "amo")
        cases = [
            (None, "", 4401),
            ("not-a-token", "", 4401),
            (None, f"access_token={operator}", 4401),  # tokens are never read from the URL
            (None, f"token={operator}", 4401),
            (amo, "", 4403),
        ]
        for token, query, code in cases:
            async with await open_socket(live, token, query=query) as socket:
                assert await close_code(socket) == code, (token, query)
        async with await open_socket(live, amo, subprotocol=True) as socket:
            assert await close_code(socket) == 4403

    asyncio.run(scenario())
    sse = f"{live.http_url}/api/v1/live/sse"
    for headers, status in (
        ({}, 401),
        ({"Authorization": "Bearer nope"}, 401),
        ({"Authorization": f"Bearer {live.token('amo')}"}, 403),
    ):
        response = httpx.get(sse, headers=headers)
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"
    response = httpx.get(f"{sse}?access_token={live.token('operator')}")
    assert response.status_code == 401


def test_every_reader_role_may_open_the_sse_stream(live: LiveServer) -> None:
    for username in ("admin", "engineer", "operator", "gendarme", "mairie-27056"):
        headers = {"Authorization": f"Bearer {live.token(username)}"}
        with httpx.stream("GET", f"{live.http_url}/api/v1/live/sse", headers=headers) as stream:
            assert stream.status_code == 200, username
            assert stream.headers["content-type"].startswith("text/event-stream")
            first = SseReader(stream).take(1)[0]
            assert first["event"] == "snapshot"


class SseReader:
    """Parses SSE events (id, event, data) from a streaming response, a few at a time."""

    def __init__(self, stream: httpx.Response) -> None:
        self.lines = stream.iter_lines()

    def take(self, count: int) -> list[dict]:
        events: list[dict] = []
        current: dict = {}
        for line in self.lines:
            if not line:
                if current:
                    events.append(current)
                    current = {}
                    if len(events) == count:
                        return events
                continue
            field, _, value = line.partition(": ")
            current[field] = json.loads(value) if field == "data" else value
        raise AssertionError(f"the stream ended after {len(events)} events")


def test_sse_stream_resumes_with_last_event_id(live: LiveServer) -> None:
    token = live.token("operator")
    url = f"{live.http_url}/api/v1/live/sse"
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.stream("GET", url, headers=headers, timeout=10) as stream:
        reader = SseReader(stream)
        (snapshot,) = reader.take(1)
        assert snapshot["event"] == "snapshot" and int(snapshot["id"]) == snapshot["data"]["seq"]
        write(live.engine, outage("cam-a2", LATER, 3, 0))
        new = stored(live.engine, snapshot["data"]["seq"])
        got = reader.take(len(new))
        assert [e["data"] for e in got] == new
        assert [int(e["id"]) for e in got] == [e["seq"] for e in new]
        assert [e["event"] for e in got] == [e["type"] for e in new]
    write(live.engine, outage("cam-a2", LATER + timedelta(hours=1), 0, 3))
    missed = stored(live.engine, new[-1]["seq"])
    resumed = {**headers, "Last-Event-ID": str(new[-1]["seq"])}
    with httpx.stream("GET", url, headers=resumed, timeout=10) as stream:
        assert [e["data"] for e in SseReader(stream).take(len(missed))] == missed


def test_an_expiring_access_token_closes_the_socket_with_4401(live: LiveServer) -> None:
    with db.session_scope(db.session_factory(live.engine)) as session:
        user = session.scalar(select(User).where(User.username == "operator"))
        token, _ = issue_access_token(
            live.app.state.signing_key,
            subject=user.subject,
            token_version=user.token_version,
            lifetime=timedelta(seconds=6),  # 2 s expired before the snapshot on a loaded CI
        )

    async def scenario() -> None:
        async with await open_socket(live, token) as socket:
            assert (await receive(socket))["type"] == "snapshot"
            started = time.monotonic()
            assert await close_code(socket) == 4401
            assert time.monotonic() - started < 9

    asyncio.run(scenario())
    (_actor, detail), *_ = wait_for_rows(live.engine, "live.disconnect", 1)
    assert detail["reason"] == "token expired" and detail["code"] == 4401


def test_a_revoked_api_token_is_closed_at_the_next_heartbeat(live_factory) -> None:
    server = live_factory(live_heartbeat_seconds=0.3)
    with db.session_scope(db.session_factory(server.engine)) as session:
        row, token = create_api_token(
            session, name="centre", role=Role.OPERATOR, days=1, actor="admin", actor_role="admin"
        )
        token_id = row.id

    stop = threading.Event()

    def steady_flow() -> None:  # the queue is seldom empty: the check must run all the same
        while not stop.is_set():
            _append(server.engine, 1, "")
            time.sleep(0.02)

    async def scenario() -> None:
        async with await open_socket(server, token) as socket:
            assert (await receive(socket))["type"] == "snapshot"
            flow = threading.Thread(target=steady_flow)
            flow.start()
            try:
                assert (await receive(socket))["type"] == "state_changed"
                with db.session_scope(db.session_factory(server.engine)) as session:
                    revoke_api_token(session, token_id, actor="admin", actor_role="admin")
                assert await asyncio.wait_for(close_code(socket), 5) == 4401
            finally:
                stop.set()
                await in_thread(flow.join)

    asyncio.run(scenario())
    detail = wait_for_rows(server.engine, "live.disconnect", 1)[0][1]
    assert detail["reason"] == "credential no longer valid"


# --- audit ------------------------------------------------------------------------------------


def test_every_connection_and_disconnection_is_audited(live: LiveServer) -> None:
    async def scenario() -> None:
        token = await in_thread(live.token, "mairie-27056")
        async with await open_socket(live, token) as socket:
            snapshot = await receive(socket)
        async with await open_socket(live, token, after=snapshot["seq"]) as socket:
            await asyncio.sleep(0.2)
        return snapshot["seq"]

    seq = asyncio.run(scenario())
    with httpx.stream(
        "GET",
        f"{live.http_url}/api/v1/live/sse?after={seq}",
        headers={"Authorization": f"Bearer {live.token('gendarme')}"},
    ) as stream:
        assert stream.status_code == 200
    disconnects = wait_for_rows(live.engine, "live.disconnect", 3)
    connects = audit_rows(live.engine, "live.connect")
    assert connects == [
        ("mairie-27056", {"after": None, "start": "snapshot", "seq": seq, "_object": "websocket"}),
        ("mairie-27056", {"after": seq, "start": "replay", "seq": seq, "_object": "websocket"}),
        ("gendarme", {"after": seq, "start": "replay", "seq": seq, "_object": "sse"}),
    ]
    assert [actor for actor, _ in disconnects] == ["mairie-27056", "mairie-27056", "gendarme"]
    assert all(d["reason"] == "client closed" and d["seconds"] >= 0 for _, d in disconnects)
    with db.session_scope(db.session_factory(live.engine)) as session:
        row = session.scalar(select(AuditEvent).where(AuditEvent.action == "live.connect"))
        assert row.ip == "127.0.0.1" and row.role == "commune"


def test_until_the_feed_knows_where_events_end_clients_are_told_to_retry(
    live: LiveServer, monkeypatch
) -> None:
    """A snapshot read before the feed's starting point could miss the events in between."""
    # As when the database could not be read at start-up (the feed keeps trying meanwhile).
    monkeypatch.setattr(type(live.app.state.live_feed), "ready", property(lambda _: False))
    token = live.token("operator")

    async def scenario() -> int:
        async with await open_socket(live, token) as socket:
            return await close_code(socket)

    assert asyncio.run(scenario()) == 1013
    response = httpx.get(
        f"{live.http_url}/api/v1/live/sse", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 503
    assert response.json()["detail"] == "live feed not ready, try again"
