"""The live feed: every event streamed to operators' screens (WebSocket and SSE).

- :mod:`.feed`: the one task per app tailing the ``events`` table into the hub;
- :mod:`.sessions`: one client's conversation (snapshot or replay, events, heartbeats, the end);
- :mod:`.views`: the camera status views the snapshot and ``GET /api/v1/status`` send.

``vigie.routes.live`` carries the sessions over the two transports; the hub itself is
``supervision.live`` (pure asyncio).
"""
