"""What a live connection's socket still holds for its client, so the hub's bound is real.

A client that stops reading is not seen by the application: the kernel takes megabytes on its
behalf (send buffers grow up to ``net.ipv4.tcp_wmem``), and the hub's queue stays empty. So
the service's HTTP protocol (:class:`LiveHttpProtocol`) puts each connection's transport in the
ASGI scope's state, and :class:`Backlog` counts the messages handed to it that the client's TCP
stack has not taken yet: the transport's buffer plus the socket's unacknowledged bytes
(``SIOCOUTQ``). The hub adds them to the queue when it checks the bound (README: Live status).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import socket
import struct
import termios
from collections import deque
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

TRANSPORT_KEY = "vigie.transport"
SEND_BUFFER = 64 * 1024
"""Socket send buffer of a live connection: the kernel's own growth would hide megabytes."""


class LiveHttpProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """Uvicorn's HTTP protocol, with each connection's transport in the scope's state (it is
    handed on to the WebSocket protocol on upgrade)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.app_state = {**self.app_state, TRANSPORT_KEY: transport}


def transport_of(scope: dict[str, Any]) -> asyncio.Transport | None:
    """The connection's transport, when the server is run with :class:`LiveHttpProtocol`."""
    return scope.get("state", {}).get(TRANSPORT_KEY)


def _unsent(sock: Any) -> int:
    """Bytes in the socket's send queue not yet acknowledged by the peer (Linux)."""
    try:
        return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
    except (OSError, ValueError):
        return 0


class Backlog:
    """Messages written to a transport that the client has not taken yet, by their sizes."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.socket = transport.get_extra_info("socket")
        self._sizes: deque[int] = deque()
        self._bytes = 0
        if self.socket is not None:
            with contextlib.suppress(OSError):
                self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)

    def written(self, size: int) -> None:
        """A message of ``size`` bytes was handed to the transport."""
        self._sizes.append(size)
        self._bytes += size

    def __call__(self) -> int:
        if self.transport.is_closing():
            return 0
        held = self.transport.get_write_buffer_size()
        if self.socket is not None:
            held += _unsent(self.socket)
        # Forget the oldest messages while the newer ones alone account for what is held.
        while self._sizes and self._bytes - self._sizes[0] >= held:
            self._bytes -= self._sizes.popleft()
        return len(self._sizes)
