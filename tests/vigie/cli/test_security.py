"""`vigie users|tokens|audit|keys`, run as an administrator would (subprocess, real database)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from sqlalchemy import text

from tests.helpers.cli import run
from tests.helpers.service import PASSWORD
from vigie import db
from vigie.credentials import generate_key


def test_first_admin_users_tokens_and_audit_from_the_command_line(
    database_url: str, tmp_path: Path
) -> None:
    env = {"VIGIE_DATABASE_URL": database_url}
    assert run("db", "upgrade", env=env).returncode == 0

    def vigie(*args: str, stdin: str | None = None):
        return run(*args, env=env, input=stdin)

    # The password never travels as an argument.
    assert vigie("users", "create", "chef", "--role", "admin", "--password", "x").returncode == 2
    no_tty = vigie("users", "create", "chef", "--role", "admin", stdin="")
    assert no_tty.returncode == 1
    assert "use --password-stdin" in no_tty.stderr
    created = vigie(
        "users", "create", "chef", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert created.returncode == 0, created.stderr
    assert "user chef created (admin)" in created.stderr

    assert (
        vigie(
            "users",
            "create",
            "op",
            "--role",
            "operator",
            "--until",
            "2027-06-30",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        ).returncode
        == 0
    )
    assert vigie("users", "set-role", "op", "gendarmerie").returncode == 0
    assert vigie("users", "disable", "chef").returncode == 0
    listed = vigie("users", "list").stdout
    assert re.search(r"chef\s+│\s+admin\s+│\s+département\s+│\s+-\s+│\s+disabled", listed), listed
    assert re.search(r"op\s+│\s+gendarmerie\s+│.*2027-06-30\s+│\s+active", listed), listed

    token = vigie("tokens", "create", "hypervision", "--role", "gendarmerie", "--days", "30")
    assert token.returncode == 0, token.stderr
    assert re.fullmatch(r"vigie_[A-Za-z0-9_-]{43}\n", token.stdout)
    assert token.stdout.strip() not in vigie("tokens", "list").stdout
    assert vigie("tokens", "revoke", "1").returncode == 0
    assert "revoked" in vigie("tokens", "list").stdout

    verified = vigie("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "audit trail intact: 6 rows" in verified.stderr
    export = tmp_path / "audit.csv"
    exported = vigie("audit", "export", "--from", "2000-01-01", "--out", str(export))
    assert exported.returncode == 0
    with export.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert [r["action"] for r in rows] == [
        "user.create",
        "user.create",
        "user.set_role",
        "user.disable",
        "token.create",
        "token.revoke",
    ]
    assert all(r["actor"].startswith("cli:") for r in rows)
    purged = vigie("audit", "purge")
    assert "0 audit events older than 1095 days purged" in purged.stderr

    engine = db.make_engine(database_url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_guard"))
        else:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
        connection.execute(text("UPDATE audit_events SET actor = 'nobody' WHERE id = 2"))
    engine.dispose()
    broken = vigie("audit", "verify")
    assert broken.returncode == 1
    assert "audit: row 2: content edited" in broken.stdout
    assert "BROKEN" in broken.stderr


def test_keys_generate_and_rotate(sqlite_url: str) -> None:
    key = run("keys", "generate").stdout.strip()
    assert re.fullmatch(r"k[0-9a-f]{6}:[A-Za-z0-9_-]{43}", key)
    secret = run("keys", "generate", "--secret").stdout.strip()
    assert len(secret) >= 60
    env = {"VIGIE_DATABASE_URL": sqlite_url}
    assert run("db", "upgrade", env=env).returncode == 0
    missing = run("keys", "rotate", env=env)
    assert missing.returncode == 1
    assert "VIGIE_CREDENTIALS_KEYS is not set" in missing.stderr
    rotated = run(
        "keys", "rotate", env={**env, "VIGIE_CREDENTIALS_KEYS": f"{generate_key()},{key}"}
    )
    assert rotated.returncode == 0, rotated.stderr
    assert "0 camera credential(s) re-encrypted" in rotated.stderr
