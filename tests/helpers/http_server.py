"""The app served by a real uvicorn in a thread, for tests that talk HTTP or WebSocket to it."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn


def can_listen(port: int) -> bool:
    """Whether nothing holds ``port`` on 127.0.0.1 now."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


PARTS = 3
"""The test processes ``scripts/run-tests`` runs side by side."""


def partition() -> int:
    """This test process's part (``VIGIE_TEST_PARTITION``, set by ``scripts/run-tests``); 0 for
    a plain ``pytest``."""
    return int(os.environ.get("VIGIE_TEST_PARTITION") or 0) % PARTS


def share(ports: range) -> range:
    """This part's share of a family's ``ports``: a family whose tests run in several parts
    never meets itself."""
    size = len(ports) // PARTS
    start = ports.start + partition() * size
    return range(start, start + size)


def free_port(ports: range | None = None) -> int:
    """A port nobody listens on: in ``ports`` (a test family's range), or any the system gives."""
    if ports is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]
    for port in random.sample(ports, len(ports)):
        if can_listen(port):
            return port
    raise RuntimeError(f"no free port in {ports}")


class _Server(uvicorn.Server):
    loop: asyncio.AbstractEventLoop | None = None
    """The server's event loop while it runs: where to call the app's own objects from."""

    async def serve(self, sockets: Any = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def install_signal_handlers(self) -> None:  # the test's thread owns no signals
        pass


@dataclass
class ThreadServer:
    port: int
    server: _Server
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def serve_in_thread(app: Any, *, ports: range | None = None, **config: Any) -> ThreadServer:
    """Start ``app`` on 127.0.0.1 and return once it accepts connections.

    ``log_config=None``: uvicorn would otherwise reconfigure logging for the whole test session
    (its loggers stop propagating, and later tests capture nothing).
    """
    port = free_port(ports)
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, **config))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the test server on port {port} did not start")
        time.sleep(0.02)
    return ThreadServer(port, server, thread)
