"""Attacks on the HTTP edge of ``vigie serve`` (issue 16, items 2, 3 and 8), on the real console
script over real sockets: slow bodies, oversized bodies, forged proxy headers, hostile paths and
query strings. Each was reproduced here before it was fixed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.helpers.edge_server import (
    EdgeServer,
    Trickle,
    closed_by_server,
    connect,
    read_answer,
    request_head,
    send_chunked,
    slow_body,
    slow_headers,
    start_serve,
)
from tests.helpers.postgres import postgres_database
from tests.helpers.service import PASSWORD
from vigie import db
from vigie.models import AuditEvent

MiB = 1024 * 1024


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EdgeServer]:
    """One ``vigie serve`` per database for the tests that only talk to it (starting one takes
    about 6 s); the tests that need their own settings start their own."""
    folder = tmp_path_factory.mktemp("edge")
    database = (
        nullcontext(f"sqlite:///{folder / 'vigie.db'}")
        if request.param == "sqlite"
        else postgres_database()
    )
    with database as url:
        running = start_serve(url, folder)
        yield running
        running.stop()


def _timed(call) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def _login(url: str, username: str, password: str = PASSWORD, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
        headers=headers,
        timeout=10,
    )


def test_slow_bodies_and_headers_do_not_hold_the_service(server: EdgeServer) -> None:
    """Issue 16, item 2: 35 bodies trickled a byte at a time held every request slot, and
    /healthz, the dashboard and logins timed out. Here 40 slow bodies (logout and login) and 20
    never-ending headers go on while the service must answer each of those within 2 s."""
    slow = [slow_body(server.port, "/api/v1/auth/logout") for _ in range(30)]
    slow += [slow_body(server.port, "/api/v1/auth/token") for _ in range(10)]
    slow += [slow_headers(server.port) for _ in range(20)]
    attack = Trickle(slow, every=1.0)
    try:
        time.sleep(1.0)  # every slow request is in the server
        health, health_s = _timed(lambda: httpx.get(f"{server.url}/healthz", timeout=5))
        assert health.status_code == 200 and health_s < 2, health_s
        page, page_s = _timed(lambda: httpx.get(f"{server.url}/", timeout=5))
        assert page.status_code == 200 and page_s < 2, page_s
        login, login_s = _timed(lambda: _login(server.url, "operator"))
        assert login.status_code == 200 and login_s < 2, login_s
    finally:
        attack.stop()


def test_a_body_too_slow_to_arrive_is_cut(sqlite_url: str, tmp_path: Path) -> None:
    """A body has ``VIGIE_BODY_TIMEOUT_SECONDS`` to arrive whole: then 408, and the connection
    is closed, so a slow client holds neither a slot nor a socket for long."""
    server = start_serve(sqlite_url, tmp_path, body_timeout_seconds="2")
    slow = [slow_body(server.port) for _ in range(5)]
    attack = Trickle(slow, every=0.5)
    try:
        for sock in slow:
            answer = read_answer(sock, timeout=6)
            assert answer is not None and answer.status == 408
            assert answer.headers.get("connection") == "close"
            assert closed_by_server(sock, timeout=2)
    finally:
        attack.stop()
        server.stop()


def test_a_declared_gigabyte_is_refused_before_it_is_read(server: EdgeServer) -> None:
    """Issue 16, item 3: an anonymous 1 GiB JSON body to /auth/logout was read whole before a
    422 (the server grew from 327 MiB to 2.4 GiB). A Content-Length over the limit is a 413 at
    once, before a byte of the body is sent."""
    sock = connect(server.port)
    try:
        head = {"Content-Type": "application/json", "Content-Length": str(1024 * MiB)}
        sock.sendall(request_head("POST", "/api/v1/auth/logout", head))
        answer = read_answer(sock, timeout=2)
        assert answer is not None and answer.status == 413
        assert answer.headers["content-type"] == "application/problem+json"
        assert closed_by_server(sock, timeout=2)
    finally:
        sock.close()


def test_a_chunked_flood_is_cut_at_the_limit_with_bounded_memory(server: EdgeServer) -> None:
    """A body without Content-Length (chunked) is counted as it arrives and refused past the
    limit (1 MiB by default): 64 MiB sent, the server's peak memory grows by far less."""
    before = server.peak_rss()
    sock = connect(server.port)
    try:
        head = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        sock.sendall(request_head("POST", "/api/v1/auth/logout", head))
        answer = send_chunked(sock, total=64 * MiB)
    finally:
        sock.close()
    grown = server.peak_rss() - before
    assert grown < 16 * MiB, f"peak memory grew by {grown / MiB:.0f} MiB"
    assert answer is not None and answer.status == 413
    assert httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200


def test_a_body_under_the_limit_still_reaches_the_route(server: EdgeServer) -> None:
    """The limit refuses floods, not requests: a large but allowed body is answered by the route
    (401: logout needs a token)."""
    body = b'{"everywhere": false, "pad": "' + b"a" * (MiB - 100) + b'"}'
    answer = httpx.post(
        f"{server.url}/api/v1/auth/logout",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 401


def _audited_ips(database_url: str, action: str) -> list[str]:
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(AuditEvent.ip).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
            return [row.ip for row in rows]
    finally:
        engine.dispose()


def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(
    database_url: str, tmp_path: Path
) -> None:
    """Issue 16, item 8: uvicorn trusted X-Forwarded-For from 127.0.0.1 by default, so anyone on
    the machine (or behind a proxy that passes the header on) chose the address the login rate
    limit counts and the audit trail records. With no trusted proxy (the default) the header is
    ignored: a new forged address per attempt does not reset the limit."""
    server = start_serve(database_url, tmp_path, login_rate_per_minute="5")
    try:
        codes = [
            _login(
                server.url, "nobody", "wrong password!", **{"X-Forwarded-For": f"203.0.113.{i}"}
            ).status_code
            for i in range(7)
        ]
    finally:
        server.stop()
    assert codes == [400] * 5 + [429] * 2, codes
    ips = _audited_ips(database_url, "login.failure")
    assert ips and set(ips) == {"127.0.0.1"}, ips


def test_a_trusted_proxy_gives_the_rightmost_untrusted_address(
    database_url: str, tmp_path: Path
) -> None:
    """Behind a proxy listed in VIGIE_TRUSTED_PROXIES the client is the rightmost address of
    X-Forwarded-For that is not a trusted proxy: what a client put to the left is its own
    forgery, what the proxies appended is true."""
    server = start_serve(
        database_url, tmp_path, trusted_proxies="127.0.0.1,10.9.0.0/16", login_rate_per_minute="3"
    )
    try:
        chain = {"X-Forwarded-For": "198.51.100.66, 192.0.2.10, 10.9.1.1"}
        codes = [_login(server.url, "nobody", "wrong password!", **chain).status_code]
        codes += [_login(server.url, "nobody", "wrong password!", **chain).status_code]
        codes += [_login(server.url, "nobody", "wrong password!", **chain).status_code]
        codes += [_login(server.url, "nobody", "wrong password!", **chain).status_code]
        other = {"X-Forwarded-For": "192.0.2.20"}
        codes += [_login(server.url, "nobody", "wrong password!", **other).status_code]
        https = httpx.get(
            f"{server.url}/healthz", headers={"X-Forwarded-Proto": "https"}, timeout=5
        )
    finally:
        server.stop()
    assert codes == [400, 400, 400, 429, 400], codes
    assert _audited_ips(database_url, "login.failure") == ["192.0.2.10"] * 3 + ["192.0.2.20"]
    assert https.headers["strict-transport-security"] == "max-age=31536000"


@pytest.mark.parametrize(
    "path", ["/static/%00", "/static/js/app.js%00.js", "/static/%00/../x.css", "/%00"]
)
def test_a_nul_in_a_path_is_a_plain_refusal(server: EdgeServer, path: str) -> None:
    """Issue 16, item 8: ``%00`` in a /static/ path was an anonymous 500."""
    answer = httpx.get(f"{server.url}{path}", timeout=5)
    assert answer.status_code in (400, 404), (path, answer.status_code)
    assert "Traceback" not in server.log()


def test_a_token_in_a_query_string_is_masked_in_the_access_log(server: EdgeServer) -> None:
    """Issue 16, item 8: ``?token=`` made the log redaction raise (a "Logging error" traceback
    in place of the access log line); the line is written, the token masked."""
    secret = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.c2lnbmF0dXJl"
    httpx.get(f"{server.url}/healthz?token={secret}", timeout=5)
    deadline = time.monotonic() + 5
    while "/healthz?token=" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = server.log()
    assert '"GET /healthz?token=*** HTTP/1.1" 200' in log, log[-2000:]
    assert secret not in log
    assert "Logging error" not in log and "Traceback" not in log, log[
        log.find("Traceback") - 500 :
    ][:3000]
