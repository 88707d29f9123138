"""A rogue "camera" over real HTTP for the attacks on camera credentials: it plays ONVIF well
enough for a snapshot (the simulator's recorded replies, without checking any credential),
asks for HTTP Basic on every snapshot, and records every request it receives, so that a test
can say exactly what Vigie sent to an address the credentials were not stored for."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import cv2
import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cameras.simulator import soap
from tests.helpers.http_server import serve_in_thread


@dataclass(frozen=True)
class Received:
    """One request as the rogue camera saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def text(self) -> str:
        """Everything of the request, decoded Basic credentials included, to search in."""
        decoded = ""
        authorization = self.headers.get("authorization", "")
        if authorization.lower().startswith("basic "):
            decoded = base64.b64decode(authorization[6:]).decode("utf-8", "replace")
        headers = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
        body = self.body.decode("utf-8", "replace")
        return f"{self.method} {self.path}\n{headers}\n{decoded}\n{body}"


@dataclass
class RogueCamera:
    port: int = 0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def requests(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def credentials_seen(self, username: str, password: str) -> list[str]:
        """What in the received requests betrays the credentials: the password in any form, a
        Basic or Digest Authorization header, a WS-Security UsernameToken (its digest can be
        brute-forced offline), the user name. Empty when nothing was given away."""
        found = []
        for request in self.requests():
            text = request.text()
            if password in text:
                found.append(f"{request.method} {request.path}: the password")
            authorization = request.headers.get("authorization", "")
            if authorization:
                found.append(f"{request.method} {request.path}: Authorization {authorization[:6]}")
            if "UsernameToken" in text or "PasswordDigest" in text:
                found.append(f"{request.method} {request.path}: a WS-Security UsernameToken")
            if username and f">{username}<" in text:
                found.append(f"{request.method} {request.path}: the user name")
        return found


def _jpeg() -> bytes:
    ok, encoded = cv2.imencode(".jpg", np.full((90, 160, 3), 128, np.uint8))
    assert ok
    return encoded.tobytes()


def _app(rogue: RogueCamera) -> Starlette:
    jpeg = _jpeg()

    async def anything(request: Request) -> Response:
        body = await request.body()
        with rogue.lock:
            rogue.received.append(
                Received(request.method, request.url.path, dict(request.headers), body)
            )
        if request.method == "GET":  # the snapshot: Basic wanted, and given a JPEG
            if request.headers.get("authorization", "").lower().startswith("basic "):
                return Response(jpeg, media_type="image/jpeg")
            return Response(status_code=401, headers={"WWW-Authenticate": 'Basic realm="cam"'})
        operation = soap.request_operation(soap.parse_request(body))
        name = operation.tag.rsplit("}", 1)[-1]
        device = soap.Device("127.0.0.1", rogue.port, "ROGUE-0001")
        reply = soap.answer(name, soap.token_of(operation), device, datetime.now(UTC))
        return Response(reply.body, status_code=reply.status, media_type=reply.content_type)

    return Starlette(routes=[Route("/{path:path}", anything, methods=["GET", "POST"])])


@contextmanager
def rogue_camera() -> Iterator[RogueCamera]:
    """A :class:`RogueCamera` listening on a free loopback port until the block ends."""
    rogue = RogueCamera()
    server = serve_in_thread(_app(rogue))
    rogue.port = server.port
    try:
        yield rogue
    finally:
        server.stop()
