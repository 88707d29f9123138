"""Clients that stop reading are dropped by the hub after the documented number of messages
(README: Live status), whatever the kernel buffers on their behalf: over SSE the connection is
closed, over a WebSocket the client gets ``resync`` and 4008, never uvicorn's keepalive 1011."""

from __future__ import annotations

import asyncio
import json
import select
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select as sql_select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.helpers.live_server import LiveServer, start
from tests.helpers.service import make_settings, seed
from tests.helpers.supervision_data import add_cameras
from vigie import db
from vigie.models import AuditEvent
from vigie.routes import live as live_routes
from vigie.supervisor.store import append_events

QUEUE = 1000  # the documented bound (VIGIE_LIVE_QUEUE_SIZE's default)
BOUND = 1200  # dropped after about QUEUE messages: the client's own small buffer, no more
BURST = 50
GRACE = 1.0  # seconds a dropped client has to read (10 in production)


@pytest.fixture
def live(sqlite_url: str) -> Iterator[LiveServer]:
    engine = db.make_engine(sqlite_url)
    seed(engine)
    add_cameras(engine)
    server = start(make_settings(sqlite_url, live_heartbeat_seconds=60.0, live_poll_ms=20), engine)
    yield server
    server.stop()
    engine.dispose()


def _append(server: LiveServer, count: int, size: int = 100) -> None:
    event = {"type": "state_changed", "camera_id": "cam-a1", "note": "x" * size}
    with db.session_scope(db.session_factory(server.engine)) as session:
        now = datetime.now(UTC)
        append_events(session, [("cam-a1", "27056", now, dict(event)) for _ in range(count)])


def _produce_until_dropped(server: LiveServer) -> int:
    """Events published until the hub drops a client (or 3 * QUEUE without a drop)."""
    hub = server.app.state.live_hub
    produced = 0
    while produced < 3 * QUEUE and not hub.stats().dropped:
        published = hub.stats().published
        _append(server, BURST)
        produced += BURST
        deadline = time.monotonic() + 5
        while hub.stats().published < published + BURST and time.monotonic() < deadline:
            time.sleep(0.005)
    return produced


def _dropped_metric(server: LiveServer, token: str) -> float:
    response = httpx.get(
        f"{server.http_url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    (line,) = [x for x in response.text.splitlines() if x.startswith("vigie_live_dropped_total")]
    return float(line.split()[-1])


def _disconnect_reasons(server: LiveServer, count: int = 1) -> list[str]:
    deadline = time.monotonic() + 15
    while True:
        with db.session_scope(db.session_factory(server.engine)) as session:
            rows = session.scalars(
                sql_select(AuditEvent).where(AuditEvent.action == "live.disconnect")
            ).all()
            reasons = [json.loads(row.detail)["reason"] for row in rows]
        if len(reasons) >= count or time.monotonic() > deadline:
            return reasons
        time.sleep(0.05)


def _small_socket() -> socket.socket:
    """A client socket with a small receive buffer: what it takes is its own memory."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return raw


def _open_sse(live: LiveServer, token: str) -> socket.socket:
    """An SSE stream on a raw socket, once the hub counts it; only its headers are read."""
    raw = _small_socket()
    raw.connect(("127.0.0.1", live.port))
    raw.sendall(
        b"GET /api/v1/live/sse HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + token.encode() + b"\r\n\r\n"
    )
    head = b""
    while b"\r\n\r\n" not in head:
        assert select.select([raw], [], [], 10)[0], "no answer"
        head += raw.recv(1)
    assert head.startswith(b"HTTP/1.1 200")
    hub = live.app.state.live_hub
    deadline = time.monotonic() + 10
    while hub.stats().clients < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    return raw


def test_an_sse_client_that_stops_reading_is_dropped_after_the_queue_size(
    live: LiveServer, monkeypatch
) -> None:
    monkeypatch.setattr(live_routes, "DROP_GRACE", GRACE)
    token = live.token("operator")
    admin = live.token("admin")
    raw = _open_sse(live, token)
    hub = live.app.state.live_hub
    produced = _produce_until_dropped(live)

    assert hub.stats().dropped == 1, f"not dropped after {produced} messages"
    assert produced <= BOUND
    assert _dropped_metric(live, admin) == 1.0
    # Its stream is stuck on the full socket: once the grace is over the server cuts it.
    time.sleep(GRACE + 0.5)
    raw.settimeout(5)
    try:
        while raw.recv(65536):
            pass
    except TimeoutError:
        pytest.fail("the server kept the connection of a dropped client")
    except ConnectionResetError:
        pass
    assert _disconnect_reasons(live) == ["slow consumer"]
    raw.close()


def test_a_slow_sse_client_that_reads_again_gets_resync_then_close(live: LiveServer) -> None:
    token = live.token("operator")
    raw = _open_sse(live, token)
    produced = _produce_until_dropped(live)
    assert live.app.state.live_hub.stats().dropped == 1, f"not dropped after {produced}"
    raw.settimeout(5)
    data = b""
    while chunk := raw.recv(65536):  # the stream ends, the connection stays (keep-alive)
        data += chunk
        if b"event: close" in data and data.endswith(b"0\r\n\r\n"):
            break
    events = [e for e in data.split(b"\n\n") if b"event: " in e]
    assert b'data: {"type":"resync","reason":"slow consumer"}' in events[-2]
    assert b'"code": 4008' in events[-1] and b"retry:" not in events[-1]
    assert _disconnect_reasons(live) == ["slow consumer"]
    raw.close()


def test_a_websocket_client_that_stops_reading_gets_resync_and_4008(live: LiveServer) -> None:
    token = live.token("operator")
    admin = live.token("admin")

    async def scenario() -> tuple[int, list[dict], int]:
        raw = _small_socket()
        raw.connect(("127.0.0.1", live.port))
        async with await connect(
            f"ws://127.0.0.1:{live.port}/api/v1/live",
            additional_headers={"Authorization": f"Bearer {token}"},
            sock=raw,
            max_queue=1,  # the library stops reading the socket too
            compression=None,
            open_timeout=10,
        ) as client:
            assert json.loads(await client.recv())["type"] == "snapshot"
            produced = await asyncio.to_thread(_produce_until_dropped, live)
            messages: list[dict] = []
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    messages.append(json.loads(await asyncio.wait_for(client.recv(), 15)))
            assert closed.value.rcvd is not None
            return produced, messages, closed.value.rcvd.code

    started = time.monotonic()
    produced, messages, code = asyncio.run(scenario())
    assert live.app.state.live_hub.stats().dropped == 1, f"not dropped after {produced}"
    assert produced <= BOUND
    assert messages[-1] == {"type": "resync", "reason": "slow consumer"}
    assert code == 4008
    assert time.monotonic() - started < 30  # the hub, not uvicorn's keepalive (40 s)
    assert _dropped_metric(live, admin) == 1.0
    assert _disconnect_reasons(live) == ["slow consumer"]


def test_a_websocket_send_that_does_not_complete_drops_the_client(
    live: LiveServer, monkeypatch
) -> None:
    """Few, big messages: far from the queue's bound, but the socket is full and the send
    waits; the client is dropped after the send timeout, not after uvicorn's 40 s."""
    monkeypatch.setattr(live_routes, "SEND_TIMEOUT", 0.5)
    live.app.state.live_hub.queue_size = 100_000  # only the send timeout can drop it
    token = live.token("operator")

    async def scenario() -> tuple[list[dict], int]:
        raw = _small_socket()
        raw.connect(("127.0.0.1", live.port))
        async with await connect(
            f"ws://127.0.0.1:{live.port}/api/v1/live",
            additional_headers={"Authorization": f"Bearer {token}"},
            sock=raw,
            max_queue=1,
            compression=None,
            open_timeout=10,
        ) as client:
            assert json.loads(await client.recv())["type"] == "snapshot"
            hub = live.app.state.live_hub
            for _ in range(20):  # 20 * 10 * 20 kB: more than every buffer on the way holds
                await asyncio.to_thread(_append, live, 10, 20_000)
                if hub.stats().dropped:
                    break
            deadline = time.monotonic() + 5
            while not hub.stats().dropped and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert hub.stats().dropped == 1
            messages: list[dict] = []
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    messages.append(json.loads(await asyncio.wait_for(client.recv(), 15)))
            assert closed.value.rcvd is not None
            return messages, closed.value.rcvd.code

    messages, code = asyncio.run(scenario())
    assert messages[-1] == {"type": "resync", "reason": "slow consumer"}
    assert code == 4008
    assert _disconnect_reasons(live) == ["slow consumer"]
