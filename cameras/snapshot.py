"""A camera's JPEG snapshot over HTTP: digest authentication, basic only where allowed.

Most cameras (the Bosch of our captures included) want digest on ``snap.jpg``; some older ones
only offer basic, which sends the password in clear. Basic is used only for a camera configured
for it (``CameraAddress.basic_auth``) and only when its challenge asks for it; any other basic
challenge is refused without sending anything (:class:`BasicRefusedError`): a camera moved or
impersonated must not get the password by asking for it in clear. The body is streamed and
capped like SOAP replies.

Snapshots go through the SOAP transport's shared aiohttp session (cameras.transport): through
httpx a snapshot cost 4 ms of CPU, most of it httpx's overhead on its two requests (the 401
challenge, then the authenticated GET). Digest is aiohttp's ``DigestAuthMiddleware`` (RFC 7616:
MD5, SHA-256..., qop=auth), one per camera kept in :class:`DigestChallenges`: it answers the
camera's last challenge again with the nonce count incremented, as RFC 7616 allows, so a
camera that still accepts that nonce costs one request; on any 401 it takes the new challenge
and retries once, which is the two requests a fresh challenge costs anyway.
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from cameras.models import CameraAddress, Snapshot
from cameras.transport import ReplyRefusedError, check_length, over_cap

JPEG_MAGIC = b"\xff\xd8\xff"

MAX_REMEMBERED = 20_000
"""Cameras whose digest challenge is remembered; beyond, the least recently used is forgotten
(it costs that camera one more request next time, nothing else)."""


class CredentialsRefusedError(Exception):
    """The camera answered 401 to our credentials; the client adds host:port."""


class BasicRefusedError(CredentialsRefusedError):
    """The camera asks for HTTP Basic, which is not allowed for it: nothing was sent."""


class DigestChallenges:
    """Per camera origin and credentials, the digest middleware holding its last challenge.

    Keyed by the snapshot URI's origin and the credentials, so a changed password or port starts
    afresh and a middleware only ever serves its own origin. Only the challenge and its nonce
    count are learned from the camera. About 1.7 KB per camera (8.5 MB for 5,000).
    """

    def __init__(self, limit: int = MAX_REMEMBERED) -> None:
        self.limit = limit
        self._by_camera: OrderedDict[tuple[str, str, str], aiohttp.DigestAuthMiddleware] = (
            OrderedDict()
        )

    def __len__(self) -> int:
        return len(self._by_camera)

    def middleware(self, origin: str, address: CameraAddress) -> aiohttp.DigestAuthMiddleware:
        """The middleware for this camera's snapshots, made on first use."""
        key = (origin, address.username, address.password)
        middleware = self._by_camera.get(key)
        if middleware is None:
            # Preemptive: the next snapshot answers the last challenge without waiting for a 401.
            middleware = aiohttp.DigestAuthMiddleware(
                address.username, address.password, preemptive=True
            )
            self._by_camera[key] = middleware
            if len(self._by_camera) > self.limit:
                self._by_camera.popitem(last=False)
        else:
            self._by_camera.move_to_end(key)
        return middleware

    def forget(self) -> None:
        """Drop every remembered challenge (the next snapshots start with a 401)."""
        self._by_camera.clear()


async def fetch_snapshot(
    session: aiohttp.ClientSession,
    challenges: DigestChallenges,
    address: CameraAddress,
    uri: str,
    *,
    max_bytes: int,
    ssl: aiohttp.Fingerprint | bool = True,
) -> Snapshot:
    """GET ``uri`` with the camera's credentials and return the JPEG (``ssl``: a TLS camera's
    pinned fingerprint).

    Raises :class:`CredentialsRefusedError` on 401 (:class:`BasicRefusedError` for a basic
    challenge the camera is not allowed), :class:`ReplyRefusedError` for a URI on
    another host, a non-200 status, an oversized body or bytes that are not a JPEG.
    """
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        raise ReplyRefusedError(f"snapshot URI scheme {parts.scheme!r} is not HTTP")
    if parts.hostname != address.host:
        raise ReplyRefusedError(
            f"snapshot URI host {parts.hostname} is not the camera's: credentials not sent"
        )
    # Without any user:password@ the URI carries: aiohttp would send those in basic.
    where = parts.netloc.rpartition("@")[2]
    uri = urlunsplit((parts.scheme, where, parts.path, parts.query, ""))
    scheme = "digest"
    digest = challenges.middleware(f"{parts.scheme}://{where}".lower(), address)
    status, challenge, content_type, body = await _get(
        session, uri, max_bytes, middlewares=(digest,), ssl=ssl
    )
    if status == 401 and challenge.lower().startswith("basic"):
        if not address.basic_auth:
            raise BasicRefusedError(
                "the camera asks for HTTP Basic authentication (password in clear), which is "
                "not allowed for this camera: credentials not sent (allow Basic for it only if "
                "it offers nothing better, or switch it to Digest)"
            )
        scheme = "basic"
        credentials = f"{address.username}:{address.password}".encode()
        basic = {"Authorization": "Basic " + base64.b64encode(credentials).decode("ascii")}
        status, challenge, content_type, body = await _get(
            session, uri, max_bytes, headers=basic, ssl=ssl
        )
    if status == 401:
        raise CredentialsRefusedError(f"HTTP 401 on the snapshot ({scheme} authentication)")
    if status != 200:
        raise ReplyRefusedError(f"snapshot: HTTP {status}")
    if not body.startswith(JPEG_MAGIC):
        raise ReplyRefusedError(f"snapshot: {len(body):,} bytes that are not a JPEG")
    return Snapshot(
        content=body,
        content_type="image/jpeg" if content_type is None else content_type,
        auth_scheme=scheme,
        fetched_at=datetime.now(UTC),
    )


async def read_capped(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """The body of a streamed response, refused once it exceeds ``max_bytes``."""
    check_length(response.content_length, max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        size += len(chunk)
        if size > max_bytes:
            raise over_cap(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


async def _get(
    session: aiohttp.ClientSession,
    uri: str,
    max_bytes: int,
    *,
    middlewares: tuple[aiohttp.DigestAuthMiddleware, ...] = (),
    headers: dict[str, str] | None = None,
    ssl: aiohttp.Fingerprint | bool = True,
) -> tuple[int, str, str | None, bytes]:
    """Status, WWW-Authenticate, Content-Type and (on 200) the capped body of one GET."""
    async with session.get(
        uri, allow_redirects=False, middlewares=middlewares, headers=headers, ssl=ssl
    ) as response:
        challenge = response.headers.get("WWW-Authenticate", "")
        content_type = response.headers.get("Content-Type")
        if response.status != 200:
            return response.status, challenge, content_type, b""
        return response.status, challenge, content_type, await read_capped(response, max_bytes)
