"""A real uvicorn server (in a thread) over a seeded database, for the live stream tests."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from tests.helpers.http_server import ThreadServer, serve_in_thread
from tests.helpers.service import bearer_token
from vigie.api import create_app
from vigie.cli.server import stop_live
from vigie.live.transport import LiveHttpProtocol
from vigie.settings import Settings

PORTS = range(31000, 32000)  # this test family's range (see the helpers' port plan)


@dataclass
class LiveServer:
    app: FastAPI
    settings: Settings
    engine: Engine
    running: ThreadServer

    @property
    def port(self) -> int:
        return self.running.port

    @property
    def http_url(self) -> str:
        return self.running.url

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/v1/live"

    def token(self, username: str) -> str:
        return bearer_token(self.http_url, username)

    def stop(self) -> None:
        self.running.stop()

    def stop_as_serve(self) -> None:
        """Stop as ``vigie serve`` does on SIGTERM: the live streams end first (WebSocket 1012,
        SSE ``retry`` + ``close``), then the server."""
        loop = self.running.server.loop
        assert loop is not None, "the server is not running"
        loop.call_soon_threadsafe(stop_live(self.app))
        self.stop()


def start(settings: Settings, engine: Engine) -> LiveServer:
    app = create_app(settings)
    # As `vigie serve` runs it: the live connections' transports in the scope.
    running = serve_in_thread(app, ports=PORTS, ws="websockets-sansio", http=LiveHttpProtocol)
    return LiveServer(app, settings, engine, running)
