"""``/api/v1/live``: the live status stream over a WebSocket and ``/api/v1/live/sse`` over
Server-Sent Events (README: Live status; the dashboard relies on this protocol).

Tokens are read from the ``Authorization`` header or, for browsers' WebSockets, from the
offered subprotocol ``bearer.<token>`` (the answer is ``vigie.v1``, never the token); never from
the URL, which ends up in logs. A refused WebSocket is accepted and closed at once with 4401 or
4403, so the client can tell why; over SSE the refusal is a 401/403 problem document.
"""

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Annotated

import anyio
from fastapi import (
    APIRouter,
    Depends,
    Header,
    HTTPException,
    Query,
    Request,
    WebSocket,
    WebSocketDisconnect,
)
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask
from starlette.requests import HTTPConnection

from vigie.auth.guards import Authenticated, authenticate, unauthorized
from vigie.auth.roles import STATUS_READERS, Role
from vigie.db import session_scope
from vigie.live.sessions import (
    FORBIDDEN,
    SERVICE_RESTART,
    SLOW_CONSUMER,
    UNAUTHORIZED,
    LiveSession,
    Outgoing,
)
from vigie.live.transport import Backlog, transport_of

router = APIRouter(prefix="/api/v1/live", tags=["supervision"])

SUBPROTOCOL = "vigie.v1"
TOKEN_SUBPROTOCOL = "bearer."  # noqa: S105 (a prefix, not a secret)
UNAVAILABLE = 1013  # "try again later": the feed cannot read the database yet
DROP_GRACE = 10.0
"""Seconds a dropped client has to take its resync message and close frame."""
SEND_TIMEOUT = 5.0
"""Seconds a WebSocket send may wait for a client that does not read before it is dropped
(well before uvicorn's keepalive, 20 s ping + 20 s timeout, would close it with 1011)."""
RETRY_MS = 1000
"""The SSE ``retry:`` hint when the service stops: reconnect after a second."""


@dataclass(frozen=True)
class LiveCaller:
    """The outcome of the live guard: who, with which token, or why not (WebSocket only)."""

    found: Authenticated | None
    token: str
    subprotocol: str | None
    refusal: tuple[int, str] | None = None


def _credential(connection: HTTPConnection) -> tuple[str, str | None]:
    """The bearer token (header, or WebSocket subprotocol) and the subprotocol to answer."""
    scheme, _, value = connection.headers.get("authorization", "").partition(" ")
    token = value.strip() if scheme.lower() == "bearer" else ""
    subprotocol = None
    if connection.scope["type"] == "websocket":
        offered = [
            p.strip() for p in connection.headers.get("sec-websocket-protocol", "").split(",")
        ]
        subprotocol = SUBPROTOCOL if SUBPROTOCOL in offered else None
        for protocol in offered:
            if protocol.startswith(TOKEN_SUBPROTOCOL) and not token:
                token = protocol.removeprefix(TOKEN_SUBPROTOCOL)
    return token, subprotocol


def _authenticate(connection: HTTPConnection, token: str) -> Authenticated | None:
    ip = connection.client.host if connection.client else ""
    with session_scope(connection.app.state.sessions) as session:
        return authenticate(connection.app.state.signing_key, session, token, ip)


def require_live_roles(*roles: Role):
    """``require_roles`` for the live stream: the same 401/403 over SSE, a close code over a
    WebSocket (which must be accepted before a client can read one)."""
    allowed = frozenset(Role(r) for r in roles)

    def guard(connection: HTTPConnection) -> LiveCaller:
        socket = connection.scope["type"] == "websocket"
        token, subprotocol = _credential(connection)
        found = _authenticate(connection, token) if token else None
        if found is None:
            detail = "invalid, expired or revoked token" if token else "authentication required"
            if not socket:
                raise unauthorized(detail)
            return LiveCaller(None, token, subprotocol, (UNAUTHORIZED, detail))
        if found.principal.role not in allowed:
            if not socket:
                raise HTTPException(403, "your role may not do this")
            return LiveCaller(found, token, subprotocol, (FORBIDDEN, "your role may not do this"))
        return LiveCaller(found, token, subprotocol)

    guard.__vigie_roles__ = allowed  # type: ignore[attr-defined]
    guard.__name__ = "require_live_" + "_or_".join(sorted(allowed))
    return guard


Caller = Annotated[LiveCaller, Depends(require_live_roles(*STATUS_READERS))]
After = Annotated[
    int | None,
    Query(ge=0, description="Resume after this seq (the last one received); none: a snapshot."),
]


def _live_session(connection: HTTPConnection, caller: LiveCaller, transport: str) -> LiveSession:
    assert caller.found is not None
    settings = connection.app.state.settings
    return LiveSession(
        hub=connection.app.state.live_hub,
        sessions=connection.app.state.sessions,
        caller=caller.found,
        transport=transport,
        heartbeat=settings.live_heartbeat_seconds,
        recheck=lambda: _authenticate(connection, caller.token),
        allowed=frozenset(STATUS_READERS),
    )


@router.websocket("")
async def live_socket(websocket: WebSocket, caller: Caller, after: After = None) -> None:
    """A snapshot (or the events missed since ``after``), then every change, as JSON frames."""
    await websocket.accept(subprotocol=caller.subprotocol)
    if caller.refusal is not None:
        await websocket.close(*caller.refusal)
        return
    if not websocket.app.state.live_feed.ready:
        await websocket.close(UNAVAILABLE, "live feed not ready, try again")
        return
    live = _live_session(websocket, caller, "websocket")
    try:
        first = await live.open(after)
        await _serve_socket(websocket, live, first)
    finally:
        await live.close()


async def _serve_socket(websocket: WebSocket, live: LiveSession, first: list[Outgoing]) -> None:
    assert live.subscriber is not None
    subscriber = live.subscriber
    dropped = subscriber.dropped
    ended: list[str] = []
    resynced: list[Outgoing] = []
    transport = transport_of(websocket.scope)
    backlog = Backlog(transport) if transport is not None else None
    subscriber.backlog = backlog

    async def send(message: Outgoing) -> None:
        # A send that waits this long: the client stopped reading and every buffer is full.
        with anyio.move_on_after(SEND_TIMEOUT) as waited:
            await websocket.send_text(message.text)
        if waited.cancelled_caught:
            live.hub.drop(subscriber)
            await anyio.sleep_forever()  # the drop ends the group
        if backlog is not None:
            backlog.written(len(message.text.encode()))
        if message.type == "resync":
            resynced.append(message)

    async def send_all() -> None:
        try:
            for message in first:
                await send(message)
            async with contextlib.aclosing(live.messages()) as messages:
                async for message in messages:
                    await send(message)
        except (WebSocketDisconnect, RuntimeError, OSError):
            ended.append("gone")  # the client went away while we were sending

    async def until_closed() -> None:
        # Client messages are ignored (no commands on this channel); only its close matters.
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass
        ended.append("gone")

    async def first_of(name: str, task) -> None:
        await task()
        ended.append(name)
        group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        group.start_soon(first_of, "sent", send_all)
        group.start_soon(first_of, "gone", until_closed)
        group.start_soon(first_of, "dropped", dropped.wait)
    if ended[0] == "gone":
        return
    if ended[0] == "dropped":
        # The sender may have been stuck on a full socket: give the client time to read.
        subscriber.backlog = None
        resync = live.resync()
        if not resynced:  # the sender had not sent it before the drop stopped it
            with anyio.move_on_after(DROP_GRACE):
                await websocket.send_text(resync.text)
    with anyio.move_on_after(DROP_GRACE), contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.close(live.close_code or 1000, live.close_reason)


def _sse(message: Outgoing, retry: int | None = None) -> bytes:
    head = f"id: {message.seq}\n" if message.seq is not None else ""
    if retry is not None:
        head += f"retry: {retry}\n"
    return f"{head}event: {message.type}\ndata: {message.text}\n\n".encode()


async def _cut_when_stuck(live: LiveSession, transport: asyncio.BaseTransport) -> None:
    """A dropped SSE client whose stream is stuck on a full socket never reads its resync:
    close its connection after the grace (the stream's end would otherwise never come)."""
    assert live.subscriber is not None
    await live.subscriber.dropped.wait()
    live.end(SLOW_CONSUMER, "slow consumer")
    await asyncio.sleep(DROP_GRACE)
    transport.abort()


@router.get(
    "/sse",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The live stream."}},
)
async def live_sse(
    request: Request,
    caller: Caller,
    after: After = None,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", description="Resume point, as after.")
    ] = None,
) -> StreamingResponse:
    """The same stream as the WebSocket, as Server-Sent Events (``id``, ``event``, ``data``)."""
    if after is None and last_event_id:
        if not last_event_id.strip().isdigit():
            raise HTTPException(422, "Last-Event-ID must be a sequence number")
        after = int(last_event_id)
    if not request.app.state.live_feed.ready:
        raise HTTPException(503, "live feed not ready, try again")
    live = _live_session(request, caller, "sse")
    first = await live.open(after)
    assert live.subscriber is not None
    transport = transport_of(request.scope)
    backlog = Backlog(transport) if transport is not None else None
    live.subscriber.backlog = backlog

    async def body():
        watch = asyncio.create_task(_cut_when_stuck(live, transport)) if transport else None
        try:
            for message in first:
                chunk = _sse(message)
                yield chunk
                if backlog is not None:
                    backlog.written(len(chunk))
            async for message in live.messages():
                chunk = _sse(message)
                yield chunk
                if backlog is not None:
                    backlog.written(len(chunk))
            if live.close_code is not None:
                end = {"type": "close", "code": live.close_code, "reason": live.close_reason}
                # When the service stops: reconnect (with Last-Event-ID) after RETRY_MS.
                retry = RETRY_MS if live.close_code == SERVICE_RESTART else None
                yield _sse(Outgoing("close", None, json.dumps(end)), retry)
        finally:
            if watch is not None:
                watch.cancel()
            await live.close()

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},
        background=BackgroundTask(live.close),
    )
