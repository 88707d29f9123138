"""``vigie db``, ``vigie serve`` and ``vigie demo --plan-only`` run as a user would (subprocess),
on real databases, over real HTTP and HTTPS."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from planning.french import NNBSP
from tests.helpers.cli import VIGIE, run
from tests.helpers.edge_server import PORTS
from tests.helpers.http_server import free_port
from tests.helpers.tls import self_signed
from vigie import db

SERVICE_KEYS = {  # what `vigie serve` needs in production (made by `vigie keys generate`)
    "VIGIE_SECRET_KEY": "k7Fq2-" + "x9Z" * 10 + "Lp",
    "VIGIE_CREDENTIALS_KEYS": "k1:" + "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
}


def test_db_upgrade_then_load_communes(empty_database_url: str, tmp_path: Path) -> None:
    env = {"VIGIE_DATABASE_URL": empty_database_url}
    before = run("db", "load-communes", env=env)
    assert before.returncode == 1
    assert "run `vigie db upgrade`" in before.stderr
    assert "Traceback" not in before.stderr
    upgraded = run("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"empty -> {db.head_revision()}" in upgraded.stderr
    loaded = run("db", "load-communes", env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert "585 communes and 15 intercommunalities" in loaded.stderr
    current = run("db", "current", env=env)
    head = db.head_revision()
    assert current.stdout.strip() == f"{head} (code: {head})"


def test_default_database_lands_in_the_data_dir(tmp_path: Path) -> None:
    env = {"VIGIE_DATA_DIR": str(tmp_path / "data")}
    env_no_url = {k: v for k, v in os.environ.items() if k != "VIGIE_DATABASE_URL"}
    result = subprocess.run(
        [VIGIE, "db", "upgrade"],
        capture_output=True,
        text=True,
        env={**env_no_url, **env},
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "vigie.db").is_file()


def test_serve_migrates_and_answers_healthz_over_http(tmp_path: Path) -> None:
    import time
    import urllib.request

    secret = {"VIGIE_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", **SERVICE_KEYS}
    env = {**os.environ, **secret}
    refused = run("serve", env=secret)
    assert refused.returncode == 1
    assert "run `vigie db upgrade`" in refused.stderr
    port = free_port(PORTS)  # below the outgoing ports: bound seconds later
    server = subprocess.Popen(
        [VIGIE, "serve", "--port", str(port), "--migrate"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    assert r.read() == b'{"status":"ok"}'
                    assert "server" not in {k.lower() for k in r.headers}
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "vigie serve did not answer within 30 s"
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_demo_validates_summarises_and_plans_the_sample(tmp_path: Path) -> None:
    result = run("demo", "--plan-only", "--out", str(tmp_path / "demo"), columns=None)
    assert result.returncode == 0, result.stdout + result.stderr
    # piped, without COLUMNS (as in CI): a long line stays whole
    (written,) = [line for line in result.stdout.splitlines() if "plan écrit dans" in line]
    assert written.endswith("plan.gpkg dans QGIS"), result.stdout
    assert "eure.gpkg: utilisable — 0 erreur(s), 0 avertissement(s)." in result.stdout
    assert f"74 (113{NNBSP}337 habitants)" in result.stdout
    assert "110 (" in result.stdout  # masts
    assert "110 / 110" in result.stdout  # masts connected by the plan
    assert (tmp_path / "demo" / "plans" / "eure-echantillon" / "map.html").is_file()
    assert "Estimation de" in result.stdout and "aide FIPD sollicitée" in result.stdout
    assert (tmp_path / "demo" / "plans" / "eure-echantillon" / "dqe.xlsx").is_file()
    # The screen is for people: the libraries' logs (pyogrio, Alembic...) went to the log file.
    log = tmp_path / "demo" / "vigie.log"
    assert f"journal technique dans {log}" in result.stdout
    assert "INFO" not in result.stdout + result.stderr
    assert "pyogrio" in log.read_text(encoding="utf-8")


def test_serve_refuses_to_start_in_production_without_a_secret_key(sqlite_url: str) -> None:
    env = {**os.environ, "VIGIE_DATABASE_URL": sqlite_url}
    env.pop("VIGIE_SECRET_KEY", None)
    env.pop("VIGIE_ENVIRONMENT", None)
    refused = subprocess.run([VIGIE, "serve"], env=env, capture_output=True, text=True)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: VIGIE_SECRET_KEY is not set")
    placeholder = run(
        "serve",
        env={
            "VIGIE_DATABASE_URL": sqlite_url,
            "VIGIE_SECRET_KEY": "change-me-change-me-change-me-change-me",
        },
    )
    assert placeholder.returncode == 1
    assert "VIGIE_SECRET_KEY: Value error, looks like a placeholder" in placeholder.stderr


def test_serve_over_tls_and_log_in(sqlite_url: str, tmp_path: Path) -> None:
    """The first admin, created by the CLI, logs in over real HTTPS; its password is in no log."""
    import ssl
    import time
    import urllib.parse
    import urllib.request

    cert, key = self_signed(tmp_path)
    env = {
        **os.environ,
        "VIGIE_DATABASE_URL": sqlite_url,
        **SERVICE_KEYS,
    }
    password = "first admin pass phrase"
    assert run("db", "upgrade", env=env).returncode == 0
    created = run(
        "users",
        "create",
        "root",
        "--role",
        "admin",
        "--password-stdin",
        env=env,
        input=password + "\n",
    )
    assert created.returncode == 0, created.stderr
    port = free_port(PORTS)  # below the outgoing ports: bound seconds later
    server = subprocess.Popen(
        [
            VIGIE,
            "serve",
            "--port",
            str(port),
            "--migrate",
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    context = ssl.create_default_context(cafile=str(cert))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                url = f"https://127.0.0.1:{port}/healthz"
                with urllib.request.urlopen(url, timeout=2, context=context) as response:
                    assert response.status == 200
                    assert response.headers["strict-transport-security"] == "max-age=31536000"
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "vigie serve did not answer within 30 s"
                time.sleep(0.2)
        with pytest.raises(OSError):  # plain HTTP is not served on the TLS port
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
        form = urllib.parse.urlencode(
            {"grant_type": "password", "username": "root", "password": password}
        ).encode()
        login = urllib.request.Request(f"https://127.0.0.1:{port}/api/v1/auth/token", data=form)
        with urllib.request.urlopen(login, timeout=10, context=context) as response:
            token = json.loads(response.read())["access_token"]
        cameras = urllib.request.Request(
            f"https://127.0.0.1:{port}/api/v1/cameras",
            headers={"Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(cameras, timeout=10, context=context) as response:
            assert json.loads(response.read()) == []
    finally:
        server.terminate()
        server.wait(timeout=10)
    logs = (server.stdout.read() if server.stdout else "") + (
        server.stderr.read() if server.stderr else ""
    )
    assert "POST /api/v1/auth/token" in logs  # the access log is there...
    assert password not in logs and token not in logs  # ...without secrets


def test_sigint_closes_the_live_streams_and_stops_within_the_bound(
    sqlite_url: str, tmp_path: Path
) -> None:
    """Connected live clients must not hold a stop (uvicorn waits for every connection): the
    streams end with a reconnect hint, the supervisor stops, the process exits 0."""
    import signal
    import threading
    import time

    import httpx
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect as ws_connect

    from tests.helpers.edge_server import connect, request_head, start_serve
    from tests.helpers.service import PASSWORD

    server = start_serve(sqlite_url, tmp_path)
    received = bytearray()
    closes: list[tuple[int, str]] = []
    try:
        answer = httpx.post(
            f"{server.url}/api/v1/auth/token",
            data={"grant_type": "password", "username": "operator", "password": PASSWORD},
        )
        token = answer.json()["access_token"]
        sock = connect(server.port)
        sock.sendall(request_head("GET", "/api/v1/live/sse", {"Authorization": f"Bearer {token}"}))
        while b"event: snapshot" not in received:
            chunk = sock.recv(65536)
            assert chunk, "the stream ended before its snapshot"
            received += chunk
        sock.settimeout(STOP_BOUND + 5)
        with ws_connect(
            f"ws://127.0.0.1:{server.port}/api/v1/live",
            additional_headers={"Authorization": f"Bearer {token}"},
        ) as socket:
            socket.recv(timeout=10)  # the snapshot

            def read_to_the_end() -> None:  # clients that keep reading
                try:
                    while chunk := sock.recv(65536):
                        received.extend(chunk)
                except OSError:
                    pass
                try:
                    while True:
                        socket.recv(timeout=STOP_BOUND + 5)
                except ConnectionClosed as closed:
                    if closed.rcvd is not None:
                        closes.append((closed.rcvd.code, closed.rcvd.reason))

            reader = threading.Thread(target=read_to_the_end, daemon=True)
            reader.start()
            started = time.monotonic()
            server.process.send_signal(signal.SIGINT)
            code = server.process.wait(timeout=STOP_BOUND)
            elapsed = time.monotonic() - started
            reader.join(5)
    finally:
        server.stop()
    assert code == 0, server.log()
    assert elapsed < STOP_BOUND
    # The live streams were ended by the service, with when and why to reconnect.
    assert b"retry: 1000\nevent: close\n" in received
    assert b'"code": 1012, "reason": "service restart"' in received
    assert closes == [(1012, "service restart")]
    log = server.log()
    assert "Application shutdown complete" in log  # the lifespan ran: the supervisor stopped
    assert "Cancel" not in log  # not the backstop (VIGIE_SHUTDOWN_GRACE_S)


STOP_BOUND = 5.0  # seconds; the backstop, VIGIE_SHUTDOWN_GRACE_S, is 10


def test_a_connection_that_does_not_finish_holds_a_stop_no_longer_than_the_grace(
    sqlite_url: str, tmp_path: Path
) -> None:
    """The backstop: a request whose body trickles in (allowed 60 s here) is cut after
    VIGIE_SHUTDOWN_GRACE_S, and the stop goes on (the lifespan still runs)."""
    import signal
    import time

    from tests.helpers.edge_server import slow_body, start_serve

    server = start_serve(sqlite_url, tmp_path, shutdown_grace_s="1", body_timeout_seconds="60")
    try:
        sock = slow_body(server.port)
        time.sleep(0.3)  # the server has read the headers: a request is under way
        started = time.monotonic()
        server.process.send_signal(signal.SIGINT)
        code = server.process.wait(timeout=STOP_BOUND)
        elapsed = time.monotonic() - started
        sock.close()
    finally:
        server.stop()
    assert code == 0, server.log()
    assert 1 <= elapsed < STOP_BOUND
    log = server.log()
    assert "timeout graceful shutdown exceeded" in log
    assert "Application shutdown complete" in log
