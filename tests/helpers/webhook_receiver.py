"""A real HTTP receiver of webhooks on a port of this worktree's range (32000-32999).

A threaded ``http.server``: it serves the asyncio dispatcher and the synchronous ping route
alike, and a request told to hang blocks only its own thread. Every request is recorded with
whether its signature verified (with the README's ``verify``) and what was answered.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.helpers.http_server import free_port as any_free_port
from vigie.webhooks.signing import SignatureError, verify

PORTS = range(32000, 33000)


def free_port() -> int:
    """A port of the range nobody listens on now (tests of other helpers use other ranges)."""
    return any_free_port(PORTS)


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    valid: bool
    status: int
    at: float
    """When it arrived (time.monotonic)."""

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def seq(self) -> int | None:
        return self.json["seq"]


Behaviour = Callable[[int, dict], int | float]
"""(request number from 0, JSON body) -> HTTP status to answer, or a float: seconds to hang."""


def always(status: int) -> Behaviour:
    return lambda _n, _body: status


class Receiver:
    def __init__(self, secret: str = "", port: int | None = None) -> None:
        self.secret = secret
        self.port = port or free_port()
        self.behaviour: Behaviour = always(200)
        self.requests: list[Received] = []
        self.arrived: list[dict] = []
        """Every body as it arrives, answered yet or not (a hanging request is here only)."""
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/vigie"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.monotonic()
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = dict(self.headers.items())
                try:
                    verify(receiver.secret, headers.get("X-Vigie-Signature", ""), body)
                    valid = True
                except SignatureError:
                    valid = False
                with receiver._lock:
                    number = len(receiver.requests)
                    receiver.arrived.append(json.loads(body))
                answer = receiver.behaviour(number, json.loads(body))
                if isinstance(answer, float):
                    time.sleep(answer)
                    answer = 200
                with receiver._lock:
                    receiver.requests.append(Received(headers, body, valid, answer, arrived))
                self.send_response(answer)
                if 300 <= answer < 400:
                    self.send_header("Location", "http://127.0.0.1:1/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def accepted(self) -> list[int | None]:
        """The seqs answered 2xx, in the order they arrived."""
        return [r.seq for r in self.snapshot() if 200 <= r.status < 300]

    def snapshot(self) -> list[Received]:
        """Every request answered so far, in the order they arrived (a slow answer is recorded
        when it is sent, possibly after later requests)."""
        with self._lock:
            return sorted(self.requests, key=lambda r: r.at)
