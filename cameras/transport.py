"""zeep's asynchronous transport on one shared aiohttp session, with replies capped and checked.

One :class:`aiohttp.ClientSession` (one connection pool, keyed per camera) carries the SOAP of
every camera of the process, instead of the aiohttp session per service and per camera that
onvif-zeep-async opens. aiohttp rather than httpx here because a SOAP call is mostly overhead:
on loopback httpx costs 1.2 ms of CPU per request and aiohttp 0.1 ms (benchmarks/cameras), and
httpcore scans its whole pool on every request, so it cannot keep one idle connection per camera.
A reply is read as a stream and abandoned as soon as it passes the cap, then parsed strictly
(:func:`cameras.safexml.parse_strict`) before zeep sees it.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from lxml import etree
from requests import Response
from requests.structures import CaseInsensitiveDict
from zeep.transports import AsyncTransport
from zeep.wsdl.utils import etree_to_string

from cameras.safexml import MAX_SOAP_BYTES, UnsafeXmlError, parse_strict

KEEPALIVE_S = 10.0
"""Idle connections are kept this long: a probe's calls reuse one, polls minutes apart do not."""


class ReplyRefusedError(Exception):
    """A reply was refused before use (too large, not plain XML); the client adds host:port."""


def check_length(declared: int | None, max_bytes: int) -> None:
    """Refuse a reply whose announced length is over the cap, before reading it."""
    if declared is not None and declared > max_bytes:
        raise ReplyRefusedError(f"reply of {declared:,} bytes refused (limit {max_bytes:,})")


def over_cap(max_bytes: int) -> ReplyRefusedError:
    """The error for a reply that turned out longer than the cap while streaming."""
    return ReplyRefusedError(f"reply longer than {max_bytes:,} bytes, abandoned")


class CappedTransport(AsyncTransport):
    """zeep AsyncTransport whose replies are capped in size and parsed strictly first."""

    def __init__(self, *, max_bytes: int = MAX_SOAP_BYTES) -> None:
        # The WSDLs are local files (onvif-zeep-async's), loaded by its own file-only transport:
        # no synchronous client is needed, so none is created.
        self.cache = None
        self.client = None
        self.wsdl_client = None
        self.max_bytes = max_bytes
        self._session: aiohttp.ClientSession | None = None
        self._close_session = False  # read by zeep's Transport.__del__

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared session, made on first use (aiohttp wants a running event loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=0,  # no pool limit for hung cameras to hold: callers bound concurrency
                    keepalive_timeout=KEEPALIVE_S,
                    enable_cleanup_closed=True,
                ),
                timeout=aiohttp.ClientTimeout(total=None),  # each call runs under its camera's
                trust_env=False,  # never send camera credentials through an environment proxy
                headers={"User-Agent": "Vigie ONVIF client"},
                auto_decompress=False,  # the cap applies to what we hold, so no gzip bombs
            )
        return self._session

    async def exchange(
        self,
        address: str,
        message: Any,
        headers: dict[str, str],
        *,
        middlewares: tuple[aiohttp.ClientMiddlewareType, ...] = (),
        ssl: aiohttp.Fingerprint | bool = True,
    ) -> tuple[int, CaseInsensitiveDict, bytes, etree._Element | None]:
        """POST ``message``; the status, headers, capped body, and its strict parse (``None``
        for an empty body, and for a 401, whose body is the web server's page, not SOAP).
        ``middlewares``: HTTP digest for cameras that want it on SOAP (cameras.client).
        ``ssl``: a TLS camera's pinned fingerprint (cameras.client)."""
        async with self.session.post(
            address,
            data=message,
            headers=headers,
            allow_redirects=False,
            middlewares=middlewares,
            ssl=ssl,
        ) as response:
            check_length(response.content_length, self.max_bytes)
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.content.iter_any():
                size += len(chunk)
                if size > self.max_bytes:
                    raise over_cap(self.max_bytes)
                chunks.append(chunk)
            body = b"".join(chunks)
            status, reply_headers = response.status, CaseInsensitiveDict(response.headers)
        root = None
        if body.strip() and status != 401:
            try:
                root = parse_strict(body)
            except UnsafeXmlError as error:
                raise ReplyRefusedError(f"HTTP {status} reply refused: {error}") from error
        return status, reply_headers, body, root

    async def post(self, address: str, message: Any, headers: dict[str, str]) -> Response:
        """POST a SOAP envelope and return the capped, checked reply."""
        status, reply_headers, body, _ = await self.exchange(address, message, headers)
        reply = Response()
        reply._content = body
        reply.status_code = status
        reply.headers = reply_headers
        reply.encoding = None
        return reply

    async def post_xml(self, address: str, envelope: Any, headers: dict[str, str]) -> Response:
        """What zeep calls: serialise the envelope, then :meth:`post`."""
        return await self.post(address, etree_to_string(envelope), headers)

    def load(self, url: str) -> bytes:
        """Refuse to fetch anything a reply points at (imports are resolved from local WSDLs)."""
        raise ReplyRefusedError(f"{url}: fetching documents a reply points at is forbidden")

    async def aclose(self) -> None:
        """Close the shared session."""
        if self._session is not None:
            await self._session.close()
            self._session = None
