"""The real console script, run as a user would (subprocess), on real files and databases."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

VIGIE = str(Path(sys.executable).with_name("vigie"))

COMMANDS = [
    [],
    ["validate"],
    ["demo"],
    ["db"],
    ["db", "upgrade"],
    ["db", "current"],
    ["db", "load-communes"],
    ["sample"],
    ["sample", "eure"],
    ["serve"],
]


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [VIGIE, *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=300
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "vigie")
def test_every_command_has_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage: vigie" in result.stdout


def test_usage_errors_exit_2() -> None:
    result = run("validate")
    assert result.returncode == 2
    assert "Missing argument" in result.stderr


def test_user_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    result = run("db", "current", env={"VIGIE_DATABASE_URL": "mysql://root@localhost/x"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: invalid settings: VIGIE_DATABASE_URL")
    assert result.stderr.count("\n") == 1


def test_db_upgrade_then_load_communes(database_url: str, tmp_path: Path) -> None:
    env = {"VIGIE_DATABASE_URL": database_url}
    before = run("db", "load-communes", env=env)
    assert before.returncode == 1
    assert "run `vigie db upgrade`" in before.stderr
    assert "Traceback" not in before.stderr
    upgraded = run("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "empty -> 0001" in upgraded.stderr
    loaded = run("db", "load-communes", env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert "585 communes and 15 intercommunalities" in loaded.stderr
    current = run("db", "current", env=env)
    assert current.stdout.strip() == "0001 (code: 0001)"


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


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_migrates_and_answers_healthz_over_http(sqlite_url: str) -> None:
    import time
    import urllib.request

    env = {**os.environ, "VIGIE_DATABASE_URL": sqlite_url}
    refused = run("serve", env={"VIGIE_DATABASE_URL": sqlite_url})
    assert refused.returncode == 1
    assert "run `vigie db upgrade`" in refused.stderr
    port = _free_port()
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
