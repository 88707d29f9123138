"""zeep's asynchronous transport on one shared httpx client, with replies capped and checked.

One :class:`httpx.AsyncClient` (one connection pool) serves every camera of the process, instead
of the aiohttp session per service and per camera that onvif-zeep-async opens. A reply is read
as a stream and abandoned as soon as it passes the cap, then parsed strictly
(:func:`cameras.safexml.parse_strict`) before zeep sees it.
"""

from __future__ import annotations

from typing import Any

import httpx
from requests import Response
from zeep.transports import AsyncTransport
from zeep.wsdl.utils import etree_to_string

from cameras.safexml import MAX_SOAP_BYTES, UnsafeXmlError, parse_strict


class ReplyRefusedError(Exception):
    """A reply was refused before use (too large, not plain XML); the client adds host:port."""


async def read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """The body of a streamed response, or CameraProtocolError once it exceeds ``max_bytes``."""
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise ReplyRefusedError(f"reply of {int(declared):,} bytes refused (limit {max_bytes:,})")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise ReplyRefusedError(f"reply longer than {max_bytes:,} bytes, abandoned")
        chunks.append(chunk)
    return b"".join(chunks)


class CappedTransport(AsyncTransport):
    """zeep AsyncTransport whose replies are capped in size and parsed strictly first."""

    def __init__(self, http: httpx.AsyncClient, *, max_bytes: int = MAX_SOAP_BYTES) -> None:
        # The WSDLs are local files (onvif-zeep-async's), loaded by its own file-only transport:
        # no synchronous client is needed, so none is created.
        self.cache = None
        self.client = http
        self.wsdl_client = None
        self.max_bytes = max_bytes
        self._close_session = False

    async def post(self, address: str, message: Any, headers: dict[str, str]) -> Response:
        """POST a SOAP envelope and return the capped, checked reply."""
        async with self.client.stream(
            "POST", address, content=message, headers=headers
        ) as response:
            body = await read_capped(response, self.max_bytes)
        if body.strip():
            try:
                parse_strict(body)
            except UnsafeXmlError as error:
                raise ReplyRefusedError(
                    f"HTTP {response.status_code} reply refused: {error}"
                ) from error
        reply = Response()
        reply._content = body
        reply.status_code = response.status_code
        reply.headers = response.headers
        reply.encoding = response.encoding
        return reply

    async def post_xml(self, address: str, envelope: Any, headers: dict[str, str]) -> Response:
        """What zeep calls: serialise the envelope, then :meth:`post`."""
        return await self.post(address, etree_to_string(envelope), headers)

    def load(self, url: str) -> bytes:
        """Refuse to fetch anything a reply points at (imports are resolved from local WSDLs)."""
        raise ReplyRefusedError(f"{url}: fetching documents a reply points at is forbidden")

    async def aclose(self) -> None:
        """The shared HTTP client belongs to :class:`cameras.client.OnvifClient`: nothing here."""
