"""The uvicorn server ``vigie serve`` runs: a stop (SIGINT, SIGTERM) ends the live streams first.

Uvicorn stops accepting connections at once but runs the app's lifespan shutdown (which stops
the supervisor) only once every connection has closed, and a live stream never closes on its
own: the service went on polling until systemd or Docker killed it. So the signal tells the live
hub at once (its streams end with 1012 and a reconnect hint, README: Live status), and
``timeout_graceful_shutdown`` (``VIGIE_SHUTDOWN_GRACE_S``) bounds the wait for the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import uvicorn

log = logging.getLogger(__name__)


class VigieServer(uvicorn.Server):
    """A uvicorn server that calls ``on_exit`` in its event loop as soon as it is told to stop."""

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_exit = on_exit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._told = False

    async def serve(self, sockets: Any = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            # Uvicorn raises the signals again once stopped (for programs that embed it): here
            # stopping is all they asked for, and a clean stop exits 0 (not 130 or a SIGTERM).
            self._captured_signals.clear()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._loop is not None and not self._told:
            self._told = True
            # A signal handler: hand the work to the loop (thread-safe, wakes it up).
            self._loop.call_soon_threadsafe(self._on_exit)


def stop_live(app: Any) -> Callable[[], None]:
    """What to do on a stop: end the app's live streams (once the lifespan has made the hub)."""

    def stop() -> None:
        hub = getattr(app.state, "live_hub", None)
        if hub is not None:
            log.info("stopping: closing %d live streams", hub.stats().clients)
            hub.stop()

    return stop
