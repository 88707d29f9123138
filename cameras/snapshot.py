"""A camera's JPEG snapshot over HTTP: digest authentication, falling back to basic.

Most cameras (the Bosch of our captures included) want digest on ``snap.jpg``; some older ones
only offer basic, which sends the password in clear, so basic is used only when the camera's
challenge asks for it. The body is streamed and capped like SOAP replies.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from cameras.models import CameraAddress, Snapshot
from cameras.transport import ReplyRefusedError, check_length, over_cap

JPEG_MAGIC = b"\xff\xd8\xff"


class CredentialsRefusedError(Exception):
    """The camera answered 401 to our credentials; the client adds host:port."""


async def fetch_snapshot(
    http: httpx.AsyncClient, address: CameraAddress, uri: str, *, max_bytes: int
) -> Snapshot:
    """GET ``uri`` with the camera's credentials and return the JPEG.

    Raises :class:`CredentialsRefusedError` on 401, :class:`ReplyRefusedError` for a URI on
    another host, a non-200 status, an oversized body or bytes that are not a JPEG.
    """
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        raise ReplyRefusedError(f"snapshot URI scheme {parts.scheme!r} is not HTTP")
    if parts.hostname != address.host:
        raise ReplyRefusedError(
            f"snapshot URI host {parts.hostname} is not the camera's: credentials not sent"
        )
    scheme = "digest"
    status, headers, body = await _get(
        http, uri, httpx.DigestAuth(address.username, address.password), max_bytes
    )
    if status == 401 and headers.get("www-authenticate", "").lower().startswith("basic"):
        scheme = "basic"
        status, headers, body = await _get(
            http, uri, httpx.BasicAuth(address.username, address.password), max_bytes
        )
    if status == 401:
        raise CredentialsRefusedError(f"HTTP 401 on the snapshot ({scheme} authentication)")
    if status != 200:
        raise ReplyRefusedError(f"snapshot: HTTP {status}")
    if not body.startswith(JPEG_MAGIC):
        raise ReplyRefusedError(f"snapshot: {len(body):,} bytes that are not a JPEG")
    return Snapshot(
        content=body,
        content_type=headers.get("content-type", "image/jpeg"),
        auth_scheme=scheme,
        fetched_at=datetime.now(UTC),
    )


async def read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """The body of a streamed response, refused once it exceeds ``max_bytes``."""
    declared = response.headers.get("content-length")
    check_length(int(declared) if declared and declared.isdigit() else None, max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise over_cap(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


async def _get(
    http: httpx.AsyncClient, uri: str, auth: httpx.Auth, max_bytes: int
) -> tuple[int, httpx.Headers, bytes]:
    async with http.stream("GET", uri, auth=auth) as response:
        if response.status_code != 200:
            return response.status_code, response.headers, b""
        return response.status_code, response.headers, await read_capped(response, max_bytes)
