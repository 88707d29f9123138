"""Many clients at once on a real server: the service keeps answering.

With a connection pool smaller than FastAPI's thread pool, 100 concurrent ``GET /status`` hung
the service until the pool's 30 s timeout (found by the live fan-out benchmark): the waiting
requests held every thread, and those holding connections could not get one to commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers.http_server import serve_in_thread
from tests.helpers.service import PASSWORD, make_settings, seed
from tests.helpers.supervision_data import add_cameras
from vigie import db
from vigie.api import create_app


@pytest.fixture
def base_url(database_url: str) -> Iterator[str]:
    settings = make_settings(database_url)
    engine = db.make_engine(settings.db_url)
    seed(engine)
    add_cameras(engine)
    engine.dispose()
    running = serve_in_thread(create_app(settings))
    yield running.url
    running.stop()


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
