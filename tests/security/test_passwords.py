"""Common passwords (issue 16, item 8): ``password1234`` met the old policy (12 characters, 5
different). A password from the list of common passwords the package ships, or one of them with
digits and symbols around it (``azerty123456``), is refused when a user is created or a password
set, through the real CLI; a pass phrase still passes. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.helpers.cli import run
from tests.helpers.service import PASSWORD

GUESSABLE = [
    "password1234",  # in the list as it is: what the attack used
    "azerty123456",  # a common password, digits after it
    "chef-de-salle-2026",  # holds the user name
]
"""Through the real CLI (each call starts Python: a few cases); the whole list and its padded
forms are checked against the policy itself in tests/vigie/auth/test_passwords.py."""


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    env = {"VIGIE_DATABASE_URL": database_url}
    assert run("db", "upgrade", env=env).returncode == 0
    return env


def test_common_passwords_are_refused_from_the_command_line(env: dict[str, str]) -> None:
    for password in GUESSABLE:
        created = run(
            "users",
            "create",
            "chef-de-salle",
            "--role",
            "operator",
            "--password-stdin",
            env=env,
            input=password + "\n",
        )
        assert created.returncode == 1, password
        assert "password" in created.stderr
    created = run(
        "users", "create", "chef-de-salle", "--role", "operator", "--password-stdin",
        env=env, input=PASSWORD + "\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    changed = run(
        "users", "set-password", "chef-de-salle", "--password-stdin",
        env=env, input="password1234\n",
    )  # fmt: skip
    assert changed.returncode == 1
    assert "common" in changed.stderr
