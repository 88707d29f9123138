"""``vigie serve`` as an attacker meets it: the real console script in a subprocess on a seeded
database, and raw sockets to send what no polite HTTP client sends (bodies trickled a byte at a
time, headers never finished, a declared gigabyte, a forged ``X-Forwarded-For``).

A subprocess, not a thread: its memory is its own (``peak_rss``), and it runs uvicorn exactly as
``vigie serve`` configures it (proxy headers included).
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.helpers.cli import VIGIE
from tests.helpers.http_server import free_port, share
from tests.helpers.service import bearer_token, seed
from vigie import db
from vigie.credentials import generate_key
from vigie.settings import generate_secret_key

PORTS = share(range(7000, 8000))  # this family's range, a third per test part (port plan)


@dataclass
class EdgeServer:
    """A running ``vigie serve``; its log (stderr) goes to ``log_path``."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    env: dict[str, str]  # the service's environment, keys included (for `vigie doctor`)
    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def token(self, username: str) -> str:
        """An access token for a seeded user (over plain HTTP)."""
        return bearer_token(self.url, username)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def peak_rss(self) -> int:
        """The server's largest resident memory so far, in bytes (Linux ``VmHWM``)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="ascii")
        (line,) = [x for x in status.splitlines() if x.startswith("VmHWM:")]
        return int(line.split()[1]) * 1024

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def start_serve(
    database_url: str, folder: Path, *, tls: tuple[Path, Path] | None = None, **settings: str
) -> EdgeServer:
    """Seed ``database_url`` (users of every role), then ``vigie serve`` on it in production with
    ``VIGIE_<NAME>=value`` for each of ``settings`` (and ``tls``: certificate and key); returns
    once ``/healthz`` answers."""
    engine = db.make_engine(database_url)
    seed(engine)
    engine.dispose()
    env = {
        **os.environ,
        "VIGIE_DATABASE_URL": database_url,
        "VIGIE_ENVIRONMENT": "production",
        "VIGIE_SECRET_KEY": generate_secret_key(),
        "VIGIE_CREDENTIALS_KEYS": generate_key(),
        "VIGIE_SUPERVISE": "false",
        **{f"VIGIE_{name.upper()}": value for name, value in settings.items()},
    }
    if tls is not None:
        env |= {"VIGIE_TLS_CERT": str(tls[0]), "VIGIE_TLS_KEY": str(tls[1])}
    server = launch(env, folder, scheme="https" if tls else "http")
    return answering(server, ssl.create_default_context(cafile=str(tls[0])) if tls else True)


def launch(
    env: dict[str, str], folder: Path, *, scheme: str = "http", besides: Iterable[int] = ()
) -> EdgeServer:
    """``vigie serve`` with ``env`` on a free port of the family's range other than ``besides``
    (the ports of servers launched with it and not yet listening); does not wait for it."""
    taken = set(besides)
    port = free_port(PORTS)
    while port in taken:
        port = free_port(PORTS)
    log_path = folder / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [VIGIE, "serve", "--port", str(port)],
            env=env,
            cwd=folder,  # no stray .env
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return EdgeServer(process, port, log_path, env, scheme)


PORT_TAKEN = "address already in use"
"""What uvicorn logs when another process bound the port between ``free_port``'s probe and the
server's own bind, seconds later (a server of the machine's, or one of another test family)."""


def answering(
    server: EdgeServer,
    verify: ssl.SSLContext | bool = True,
    *,
    besides: Iterable[int] = (),
    timeout: float = 60,
    tries: int = 3,
) -> EdgeServer:
    """``server`` once its ``/healthz`` answers, or the same server launched again on another
    port (not one of ``besides``), up to ``tries`` times in all, if its port was taken before it
    could bind it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = httpx.get(f"{server.url}/healthz", timeout=2, verify=verify)
            if answer.status_code == 200 and server.process.poll() is None:
                return server
        except httpx.TransportError:
            pass
        if server.process.poll() is not None and PORT_TAKEN in server.log() and tries > 1:
            folder, taken = server.log_path.parent, [*besides, server.port]
            again = launch(server.env, folder, scheme=server.scheme, besides=taken)
            return answering(again, verify, besides=taken, timeout=timeout, tries=tries - 1)
        if server.process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"vigie serve did not start:\n{server.log()}")
        time.sleep(0.2)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def slow_body(port: int, path: str = "/api/v1/auth/logout", length: int = 1000) -> socket.socket:
    """A request whose headers are complete and whose body has begun: one byte of ``length``."""
    sock = connect(port)
    head = {"Content-Type": "application/json", "Content-Length": str(length)}
    sock.sendall(request_head("POST", path, head) + b"{")
    return sock


def slow_headers(port: int) -> socket.socket:
    """A request whose headers never end (slowloris)."""
    sock = connect(port)
    sock.sendall(b"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return sock


@dataclass
class Trickle:
    """Sends one byte every ``every`` seconds on each socket (the attack goes on), until stopped."""

    sockets: list[socket.socket]
    every: float = 1.0
    byte: bytes = b" "
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, name="trickle", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            for sock in self.sockets:
                with contextlib.suppress(OSError):  # the server cut it: that is allowed
                    sock.send(self.byte)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for sock in self.sockets:
            sock.close()


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes


def read_answer(sock: socket.socket, timeout: float) -> RawAnswer | None:
    """The server's answer on ``sock`` if one arrives within ``timeout`` seconds, else None
    (a connection closed without an answer is None too)."""
    deadline = time.monotonic() + timeout
    data = b""
    while b"\r\n\r\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            return None
        try:
            chunk = sock.recv(65536)
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length and time.monotonic() < deadline:
        if not select.select([sock], [], [], deadline - time.monotonic())[0]:
            break
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return RawAnswer(int(status_line.split()[1]), headers, body)


def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    """Whether the server closes ``sock`` within ``timeout`` seconds (after any answer)."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        if not select.select([sock], [], [], left)[0]:
            return False
        try:
            if not sock.recv(65536):
                return True
        except OSError:
            return True
    return False


def send_chunked(sock: socket.socket, total: int, chunk: int = 64 * 1024) -> RawAnswer | None:
    """Stream ``total`` bytes of a chunked JSON body, stopping as soon as the server answers or
    cuts the connection; the answer, if one came."""
    payload = b'{"everywhere": false, "pad": "' + b"a" * (chunk - 30) + b'"}'
    sent = 0
    while sent < total:
        if select.select([sock], [], [], 0)[0]:  # the server has something to say
            return read_answer(sock, 5)
        piece = payload[: min(chunk, total - sent)]
        try:
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        except OSError:
            return read_answer(sock, 1)
        sent += len(piece)
    with contextlib.suppress(OSError):
        sock.sendall(b"0\r\n\r\n")
    return read_answer(sock, 30)
