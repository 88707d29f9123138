"""Many clients at once on a real server: the service keeps answering.

With a connection pool smaller than FastAPI's thread pool, 100 concurrent ``GET /status`` hung
the service until the pool's 30 s timeout (found by the live fan-out benchmark): the waiting
requests held every thread, and those holding connections could not get one to commit.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from tests.vigie.conftest import PASSWORD, make_settings, seed
from tests.vigie.supervision_data import add_cameras
from vigie import db
from vigie.api import create_app


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:
        pass


@pytest.fixture
def base_url(database_url: str) -> Iterator[str]:
    settings = make_settings(database_url)
    engine = db.make_engine(settings.db_url)
    seed(engine)
    add_cameras(engine)
    engine.dispose()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = _Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_a_hundred_concurrent_requests_are_all_answered(base_url: str) -> None:
    login = httpx.post(
        f"{base_url}/api/v1/auth/token",
        data={"grant_type": "password", "username": "operator", "password": PASSWORD},
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

    async def main() -> list[int]:
        limits = httpx.Limits(max_connections=100)
        # The pool's timeout is 30 s: a hang shows as timeouts here, well before.
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=20) as client:
            answers = await asyncio.gather(
                *(client.get("/api/v1/status", headers=headers) for _ in range(100)),
                return_exceptions=True,
            )
        return [a.status_code if isinstance(a, httpx.Response) else repr(a) for a in answers]

    codes = asyncio.run(main())
    assert codes == [200] * 100, sorted(set(map(str, codes)))
