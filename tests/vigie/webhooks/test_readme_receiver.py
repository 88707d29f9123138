"""The README's receiver example works: it accepts signed requests, rejects forged and replayed
ones, and ignores a redelivery. Run as a receiver would run it: a separate process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import httpx

from tests.helpers.paths import REPO
from tests.helpers.webhook_receiver import free_port
from vigie.webhooks.signing import body_of, headers

SECRET = "whsec_readme-example-secret-0123456789abcdefghijk"


def readme_receiver() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    (code,) = [block for block in blocks if "class Hook" in block]
    return code


def post(port: int, payload: dict, *, secret: str = SECRET, at: int | None = None):
    body = body_of(payload)
    sent = headers(
        secret,
        body,
        timestamp=int(time.time()) if at is None else at,
        delivery="1",
        event_type=payload["type"],
        seq=payload["seq"],
    )
    return httpx.post(f"http://127.0.0.1:{port}/", content=body, headers=sent, timeout=5)


def test_the_readme_receiver_verifies_and_dedupes() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", readme_receiver()],
        env={**os.environ, "VIGIE_WEBHOOK_SECRET": SECRET, "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        event = {"seq": 12, "type": "state_changed", "camera_id": "cam-a1", "state": "down"}
        deadline = time.monotonic() + 30
        while True:
            try:
                first = post(port, event)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the README receiver did not start"
                time.sleep(0.1)
        assert first.status_code == 204
        assert post(port, event).status_code == 204  # a redelivery: accepted, not handled twice
        assert post(port, event, secret="whsec_forged").status_code == 401
        assert post(port, event, at=int(time.time()) - 3600).status_code == 401  # replayed
        ping = {"seq": None, "type": "ping", "webhook": "centre"}
        assert post(port, ping).status_code == 204
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert output.splitlines() == ["state_changed cam-a1", "ping None"]
