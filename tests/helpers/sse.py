"""Reading a live SSE stream in the tests, one event at a time."""

from __future__ import annotations

import json

import httpx


class SseStream:
    """The SSE events (id, event, data) of a streaming response, one at a time."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.iter_lines()

    def next(self) -> dict | None:
        """The next event, or None when the stream ended."""
        current: dict = {}
        for line in self.lines:
            if not line:
                if "event" in current:
                    return current
                continue
            field, _, value = line.partition(": ")
            current[field] = json.loads(value) if field == "data" else value
        return None
