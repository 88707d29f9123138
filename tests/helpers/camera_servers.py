"""Cameras over real HTTP for the tests of cameras/: the simulator every test shares (its
cameras, faults and credentials; started by the ``simulator`` fixture of tests/cameras/conftest.py),
and one-route servers for crafted replies the simulator does not send."""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from aiohttp import web

from cameras.models import CameraAddress
from tests.helpers.http_server import can_listen

T = TypeVar("T")

BLOCK = 110
"""Ports a run of tests/cameras uses from its block's start: the shared simulator's cameras and
control port, then test_snapshot_size's simulators (from +70 to +107)."""

BLOCKS = 87
"""Blocks of 100 from 21000: the last one, 29600 + 110, ends before 29800."""


@functools.cache
def camera_block() -> int:
    """The first port of this run's block of 21000-29799, the same all session.

    Chosen by the process id, so that runs on one machine spread, and past any block where
    something already listens (this kind of machine runs RabbitMQ, whose 25672 is in the range).
    29800-29999 stay for the simulator tests of fixed ports (test_server's 29899-29902): a run
    whose process id chose the last block once failed on them.
    """
    start = os.getpid() % BLOCKS
    for step in range(BLOCKS):
        base = 21000 + (start + step) % BLOCKS * 100
        if all(can_listen(port) for port in range(base, base + BLOCK)):
            return base
    raise RuntimeError("no block of 110 free ports in 21000-29799 for the cameras tests")


USERNAME = "operator"
PASSWORD = "s3cret-Test"

# camera index -> fault rule (the other cameras are healthy)
FAULTS: dict[int, dict[str, Any]] = {
    1: {"kind": "clock_drift", "seconds": 3600},
    2: {"kind": "offline"},
    3: {"kind": "hang"},
    4: {"kind": "slow", "delay_s": 0.3},
    5: {"kind": "auth_failure"},
    6: {"kind": "soap_fault"},
    7: {"kind": "garbage"},
    8: {"kind": "hostile_xml", "variant": "billion_laughs"},
    9: {"kind": "hostile_xml", "variant": "xxe"},
    10: {"kind": "hostile_xml", "variant": "deep_nesting"},
    11: {"kind": "hostile_xml", "variant": "huge_text"},
    12: {"kind": "basic_auth"},
    13: {"kind": "flapping", "period_s": 1.0},
    14: {"kind": "video_loss"},
    15: {"kind": "frozen"},
    16: {"kind": "blurred"},
    17: {"kind": "covered"},
    18: {"kind": "displaced"},
    19: {"kind": "glare"},
}
CAMERAS = 60  # 20 with faults, 40 healthy (20-59), the last ones left to tests that change faults


@dataclass(frozen=True)
class RunningSimulator:
    """The simulator under test: ports, credentials and its control API."""

    base_port: int
    control_port: int
    token: str

    def address(
        self, index: int, *, password: str = PASSWORD, timeout_s: float = 3.0
    ) -> CameraAddress:
        return CameraAddress("127.0.0.1", self.base_port + index, USERNAME, password, timeout_s)

    def control(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.request(
            method, f"http://127.0.0.1:{self.control_port}{path}", headers=headers, **kwargs
        )


@asynccontextmanager
async def serving(
    method: str, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> AsyncIterator[int]:
    """A one-route HTTP server on a free loopback port (yielded): every ``method`` request, to
    any path, goes to ``handler``. For crafted camera replies the simulator does not send."""
    app = web.Application()
    app.router.add_route(method, "/{path:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    finally:
        await runner.cleanup()


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine in a fresh event loop (the tests are plain functions)."""
    return asyncio.run(coroutine)
