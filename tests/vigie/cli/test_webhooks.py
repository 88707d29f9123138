"""`vigie webhooks add|list|remove`, run as an administrator would (subprocess, real database)."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.helpers.cli import run
from vigie import db
from vigie.credentials import generate_key
from vigie.models import AuditEvent, Webhook


def test_add_list_remove_from_the_command_line(database_url: str) -> None:
    env = {"VIGIE_DATABASE_URL": database_url, "VIGIE_CREDENTIALS_KEYS": generate_key()}
    assert run("db", "upgrade", env=env).returncode == 0

    added = run(
        "webhooks", "add", "hypervision", "https://centre.example/hooks",
        "--event", "incident_opened", "--event", "incident_closed", env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert re.fullmatch(r"whsec_[A-Za-z0-9_-]{43}\n", added.stdout)
    secret = added.stdout.strip()
    assert "not shown again" in added.stderr

    listed = run("webhooks", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"hypervision\s+│\s+https://centre\.example/hooks", listed.stdout)
    assert "incident_closed, incident_opened" in listed.stdout
    assert "healthy" in listed.stdout
    assert secret not in listed.stdout

    refused = run("webhooks", "add", "other", "ftp://centre.example/", env=env)
    assert refused.returncode == 1
    assert "only http:// and https://" in refused.stderr
    assert "Traceback" not in refused.stderr
    missing = run("webhooks", "remove", "99", env=env)
    assert missing.returncode == 1 and "no webhook 99" in missing.stderr

    no_keys = run(
        "webhooks", "add", "x", "https://c.example/", env={**env, "VIGIE_CREDENTIALS_KEYS": ""}
    )
    assert no_keys.returncode == 1

    assert run("webhooks", "remove", "1", env=env).returncode == 0
    engine = db.make_engine(database_url)
    try:
        with db.session_factory(engine)() as session:
            assert session.scalars(select(Webhook)).all() == []
            actions = session.scalars(select(AuditEvent.action)).all()
            assert actions.count("webhook.create") == 1
            assert actions.count("webhook.remove") == 1
    finally:
        engine.dispose()
