"""Request bodies bounded in size and time, read before admission (``vigie.bodies``), on the real
app; the slow and oversized attacks on a real server are in tests/security/test_http_edge.py."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.helpers.service import make_settings, seed
from vigie import db
from vigie.api import create_app
from vigie.bodies import BodyGuard


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(sqlite_url, max_body_bytes=4096)
    engine = db.make_engine(settings.db_url)
    seed(engine)
    engine.dispose()
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_declared_length_over_the_limit_is_a_413_problem(client: TestClient) -> None:
    answer = client.post(
        "/api/v1/auth/logout", content=b"x" * 5000, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["connection"] == "close"
    assert answer.headers["x-content-type-options"] == "nosniff"  # the edge's answers too
    assert answer.json()["limit_bytes"] == 4096


def test_a_chunked_body_is_counted_as_it_arrives(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"x" * 1000

    answer = client.post(
        "/api/v1/auth/logout", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413


def test_bodies_under_the_limit_reach_the_routes(client: TestClient) -> None:
    assert client.post("/api/v1/auth/logout", json={"pad": "x" * 3000}).status_code == 401
    login = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "nobody", "password": "not the one"},
    )
    assert login.status_code == 400


def test_a_body_that_does_not_arrive_in_time_is_a_408() -> None:
    """The guard alone, fed by a client that sends headers and then nothing."""
    reached: list[bytes] = []

    async def app(scope, receive, send) -> None:
        reached.append((await receive())["body"])

    async def main() -> list[dict]:
        sent: list[dict] = []

        async def receive() -> dict:
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": "/api/v1/auth/token",
            "headers": [(b"content-length", b"100")],
        }
        guard = BodyGuard(app, max_bytes=1024, timeout_s=0.2)
        await asyncio.wait_for(guard(scope, receive, send), 5)
        return sent

    sent = asyncio.run(main())
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]
    assert reached == []


def test_requests_without_a_body_pass_untouched() -> None:
    async def app(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def main() -> list[dict]:
        sent: list[dict] = []

        async def receive() -> dict:  # the live stream's receive: waits for the disconnect
            raise AssertionError("a request without a body is not read")

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": "/api/v1/live/sse", "headers": []}
        await BodyGuard(app, max_bytes=1024, timeout_s=0.2)(scope, receive, send)
        return sent

    assert asyncio.run(main())[0]["status"] == 204
