"""The uvicorn server ``vigie serve`` runs: a stop (SIGINT, SIGTERM) ends the live streams first.

Uvicorn stops accepting connections at once but runs the app's lifespan shutdown (which stops
the supervisor) only once every connection has closed, and a live stream never closes on its
own: the service went on polling until systemd or Docker killed it. So the signal tells the live
hub at once (its streams end with 1012 and a reconnect hint, README: Live status), and
``timeout_graceful_shutdown`` (``VIGIE_SHUTDOWN_GRACE_S``) bounds the wait for the rest.

Uvicorn itself is told a moment later, once the streams have said goodbye (at most
:data:`LIVE_DRAIN_S`): told at once, on a loaded machine it could close a WebSocket itself,
with 1012 but without the reason the client shows, before the stream had sent its own.
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

LIVE_DRAIN_S = 1.0
"""How long a stop waits for the live streams to close themselves before uvicorn closes the
rest: their goodbye is a few bytes each."""


class VigieServer(uvicorn.Server):
    """A uvicorn server that calls ``on_exit`` in its event loop as soon as it is told to stop,
    and stops once ``drained()`` (or after :data:`LIVE_DRAIN_S`)."""

    def __init__(
        self,
        config: uvicorn.Config,
        on_exit: Callable[[], None],
        drained: Callable[[], bool] = lambda: True,
    ) -> None:
        super().__init__(config)
        self._on_exit = on_exit
        self._drained = drained
        self._loop: asyncio.AbstractEventLoop | None = None
        self._told = False
        self._draining: asyncio.Task[None] | None = None

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
        if self._loop is None or self._told:  # not serving yet, or told twice: uvicorn's way
            super().handle_exit(sig, frame)
            return
        self._told = True
        # A signal handler: hand the work to the loop (thread-safe, wakes it up).
        self._loop.call_soon_threadsafe(self._begin_stop, sig, frame)

    def _begin_stop(self, sig: int, frame: FrameType | None) -> None:
        self._on_exit()
        self._draining = asyncio.ensure_future(self._stop_when_drained(sig, frame))

    async def _stop_when_drained(self, sig: int, frame: FrameType | None) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LIVE_DRAIN_S
        while not self._drained() and loop.time() < deadline:
            await asyncio.sleep(0.02)
        super().handle_exit(sig, frame)


def stop_live(app: Any) -> Callable[[], None]:
    """What to do on a stop: end the app's live streams (once the lifespan has made the hub)."""

    def stop() -> None:
        hub = getattr(app.state, "live_hub", None)
        if hub is not None:
            log.info("stopping: closing %d live streams", hub.stats().clients)
            hub.stop()

    return stop


def live_drained(app: Any) -> Callable[[], bool]:
    """Whether the app's live streams have all closed (no hub yet: nothing to wait for)."""

    def drained() -> bool:
        hub = getattr(app.state, "live_hub", None)
        return hub is None or hub.stats().clients == 0

    return drained
