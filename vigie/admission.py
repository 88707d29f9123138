"""Admission control: at most N requests in the application at once; the others wait their turn.

FastAPI runs blocking routes and their dependencies in a pool of 40 threads, and a request holds
its database connection from its first query to its commit, across several of those threads. If
more requests run than there are connections, the ones waiting for a connection hold every
thread, and those holding the connections cannot get a thread to commit and give them back: the
service hangs until the pool's timeout (seen at 100 concurrent ``GET /status``). Letting in fewer
requests than there are threads and connections makes that impossible; the others wait in the
event loop, where waiting costs nothing.

Long-lived streams (the live WebSocket and SSE) are not counted: they hold no connection between
their messages. ``/healthz`` has a lane of its own (:data:`HEALTH_SLOTS`): a load balancer asks it
whether the service works, and it must not wait behind the service's own requests to hear the
answer; its lane is small, so that a flood of health checks can neither starve the threads and
connections the admitted requests need (30 + 2 stays under 40). Request bodies are read before
admission (``vigie.bodies``), so a slow client never holds a slot while it sends.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

STREAMS = ("/api/v1/live",)
HEALTH = "/healthz"
HEALTH_SLOTS = 2


class AdmissionControl:
    """ASGI middleware letting ``limit`` HTTP requests in at once (see the module docstring)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._slots: asyncio.Semaphore | None = None
        self._health_slots: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(STREAMS):
            await self.app(scope, receive, send)
            return
        if self._slots is None or self._health_slots is None:  # made in the server's event loop
            self._slots = asyncio.Semaphore(self.limit)
            self._health_slots = asyncio.Semaphore(HEALTH_SLOTS)
        slots = self._health_slots if scope["path"] == HEALTH else self._slots
        async with slots:
            await self.app(scope, receive, send)
