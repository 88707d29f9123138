"""Request bodies: at most ``max_bytes``, received whole within ``timeout_s``, before anything
else runs.

Two attacks found this edge open (issue 16). Bodies trickled a byte every few seconds held every
admission slot (``vigie.admission``), because FastAPI reads the body inside the route, after
admission: 35 such connections made ``/healthz``, the dashboard and logins time out. And a 1 GiB
body was read whole into memory before the route refused it. Uvicorn bounds neither: its
``timeout_keep_alive`` only runs between requests, and h11 bounds the headers' size, not the
body's. So this middleware, outside admission control, reads every body first:

- a ``Content-Length`` over the limit is a 413 at once, before a byte of the body is read;
- a chunked body is counted as it arrives and refused as soon as it passes the limit;
- a body that has not arrived whole within ``timeout_s`` is a 408;

each with ``Connection: close``, so the client's connection does not linger either. The body
read is handed to the app as one message; waiting for it costs the event loop nothing, and no
slot. Requests without a body (no ``Content-Length``, no ``Transfer-Encoding``) pass untouched,
the live stream's included.

Headers trickled slowly (slowloris) never reach the app, so they hold no slot; they hold a socket,
which a reverse proxy's header timeout bounds (README: production checklist).
"""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigie.problems import problem

log = logging.getLogger(__name__)


class _TooLargeError(Exception):
    """The body passed the limit while it was being read."""


class BodyGuard:
    """ASGI middleware bounding each request body's size and time (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout_s: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send, 413, "the request body is too large")
            return
        try:
            async with asyncio.timeout(self.timeout_s):
                body = await self._read(receive)
        except _TooLargeError:
            await self._refuse(scope, receive, send, 413, "the request body is too large")
            return
        except TimeoutError:
            await self._refuse(scope, receive, send, 408, "the request body came too slowly")
            return
        if body is None:  # the client left before sending its body: nobody to answer
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise _TooLargeError
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, detail: str
    ) -> None:
        client = scope.get("client") or ("", 0)
        log.warning(
            "%s %s from %s: %d, %s", scope["method"], scope["path"], client[0], status, detail
        )
        extra = {"limit_bytes": self.max_bytes} if status == 413 else {}
        response = problem(status, detail, headers={"Connection": "close"}, **extra)
        await response(scope, receive, send)


def _has_body(scope: Scope) -> bool:
    """Whether the request announces a body (HTTP/1.1: a length or a transfer coding)."""
    return any(name in (b"content-length", b"transfer-encoding") for name, _ in scope["headers"])


def _content_length(scope: Scope) -> int | None:
    """The declared length (the server's HTTP parser has already checked it is a number)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body read, then what the server says next (a disconnect)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
