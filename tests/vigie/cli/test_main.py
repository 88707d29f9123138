"""The real console script, run as a user would (subprocess): every command answers --help, and
errors are one line (the commands themselves: test_plan, test_serve, test_estimate, ...)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.cli import run

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
    ["plan"],
    ["estimate"],
    ["simulate"],
    *[["users", c] for c in ("create", "list", "disable", "enable", "set-role", "set-password")],
    *[["tokens", c] for c in ("create", "list", "revoke")],
    *[["audit", c] for c in ("verify", "export", "purge")],
    *[["keys", c] for c in ("generate", "rotate")],
]


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
