"""``vigie notify``, the console script as an administrator runs it: a test message through a
real SMTP server and a real SMS gateway on loopback, a channel that is down said in French
(exit 1, audited, no secret), and the rules listed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.helpers.cli import run
from tests.helpers.http_server import free_port
from tests.helpers.notify_servers import SmsGateway, SmtpServer
from vigie import db
from vigie.models import AuditEvent

TOKEN = "sms-t0ken-not-on-screen-0123456789"


@pytest.fixture
def env(sqlite_url: str, tmp_path: Path) -> dict[str, str]:
    values = {"VIGIE_DATABASE_URL": sqlite_url, "VIGIE_ENVIRONMENT": "development"}
    assert run("db", "upgrade", env=values, cwd=tmp_path).returncode == 0
    return values


def _audited(url: str) -> list[dict]:
    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as session:
            return [
                {"object_id": e.object_id, **json.loads(e.detail)}
                for e in session.scalars(
                    select(AuditEvent).where(AuditEvent.action == "notification.test")
                )
            ]
    finally:
        engine.dispose()


def test_a_test_email_and_sms_are_handed_over(env: dict[str, str], tmp_path: Path) -> None:
    smtp, gateway = SmtpServer().start(), SmsGateway().start()
    try:
        channels = {
            **env,
            "VIGIE_NOTIFY_SMTP_HOST": "127.0.0.1",
            "VIGIE_NOTIFY_SMTP_PORT": str(smtp.port),
            "VIGIE_NOTIFY_SMTP_SECURITY": "none",
            "VIGIE_NOTIFY_SMS_URL": gateway.url,
            "VIGIE_NOTIFY_SMS_TOKEN": TOKEN,
        }
        mail = run("notify", "test", "--email", "astreinte@csu27.example", env=channels)
        sms = run("notify", "test", "--phone", "+33 6 12 34 56 78", env=channels)
    finally:
        smtp.stop()
        gateway.stop()
    assert mail.returncode == 0, mail.stdout + mail.stderr
    assert "✓ message d'essai remis (email, astreinte@csu27.example)" in mail.stdout
    (message,) = smtp.messages
    assert message["Subject"] == "[Vigie] Message d'essai des alertes"
    assert sms.returncode == 0, sms.stdout + sms.stderr
    (request,) = gateway.requests
    assert request.body["to"] == "+33612345678"
    assert request.body["text"].startswith("Ceci est un message d'essai de Vigie")
    assert TOKEN not in sms.stdout + sms.stderr
    assert [(a["object_id"], a["error"]) for a in _audited(env["VIGIE_DATABASE_URL"])] == [
        ("email", None),
        ("sms", None),
    ]


def test_a_channel_down_or_missing_is_said_and_fails(env: dict[str, str]) -> None:
    closed = free_port()
    down = run(
        "notify",
        "test",
        "--email",
        "astreinte@csu27.example",
        env={
            **env,
            "VIGIE_NOTIFY_SMTP_HOST": "127.0.0.1",
            "VIGIE_NOTIFY_SMTP_PORT": str(closed),
            "VIGIE_NOTIFY_SMTP_SECURITY": "none",
        },
    )
    assert down.returncode == 1
    assert "✗ message d'essai non remis (email, astreinte@csu27.example) : SMTP 127.0.0.1" in (
        down.stdout
    )
    missing = run("notify", "test", "--phone", "+33612345678", env=env)
    assert missing.returncode == 1
    assert "no SMS gateway configured (VIGIE_NOTIFY_SMS_URL)" in missing.stdout
    both = run("notify", "test", "--email", "a@b.example", "--phone", "+33612345678", env=env)
    assert both.returncode == 2 and "Donnez --email ou --phone" in both.stdout
    bad = run("notify", "test", "--email", "pas-une-adresse", env=env)
    assert bad.returncode == 2 and "invalide : pas-une-adresse" in bad.stdout
    errors = [a["error"] for a in _audited(env["VIGIE_DATABASE_URL"])]
    assert len(errors) == 2 and all(errors), errors
    for result in (down, missing, both, bad):
        assert "Traceback" not in result.stderr


def test_the_rules_are_listed(env: dict[str, str]) -> None:
    assert "toutes" not in run("notify", "rules", env=env).stdout  # none yet
    script = (
        "from datetime import datetime, UTC; from vigie import db; "
        "from vigie.settings import load_settings; "
        "from vigie.notify.rules import RuleSpec, create_rule; "
        "e = db.make_engine(load_settings().db_url); s = db.session_factory(e)(); "
        "create_rule(s, RuleSpec(name='[bold]nuit', severities=['critical'], "
        "schedule=[{'days': [1, 2, 3, 4, 5], 'start': '18:00', 'end': '08:00'}], "
        "levels=[{'after_minutes': 0, 'recipients': [{'email': 'op@csu27.example'}]}, "
        "{'after_minutes': 30, 'recipients': [{'phone': '+33600000002'}]}]), "
        "actor='a', role='admin', ip='', now=datetime.now(UTC)); s.commit()"
    )
    subprocess.run([sys.executable, "-c", script], env={**os.environ, **env}, check=True)
    listed = run("notify", "rules", env=env, columns=250).stdout
    assert "[bold]nuit" in listed  # a name is shown as written, never as markup
    assert "critical" in listed and "12345 18:00-08:00" in listed
    assert "0 min : op@csu27.example; 30 min : +33600000002" in listed
