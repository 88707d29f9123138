"""Admission control (``vigie.admission``): /healthz is never behind the service's requests."""

from __future__ import annotations

import asyncio

from vigie.admission import AdmissionControl


def test_healthz_answers_while_every_slot_is_taken() -> None:
    async def main() -> list[str]:
        release = asyncio.Event()
        done: list[str] = []

        async def app(scope, receive, send) -> None:
            if scope["path"] != "/healthz":
                await release.wait()
            done.append(scope["path"])

        async def receive() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict) -> None:
            pass

        admission = AdmissionControl(app, limit=2)
        held = [
            asyncio.create_task(admission({"type": "http", "path": "/x"}, receive, send))
            for _ in range(3)
        ]
        await asyncio.sleep(0.05)
        await asyncio.wait_for(admission({"type": "http", "path": "/healthz"}, receive, send), 1)
        release.set()
        await asyncio.gather(*held)
        return done

    assert asyncio.run(main()) == ["/healthz", "/x", "/x", "/x"]
