"""Escalation end to end on a real database, a real SMTP server and a real SMS gateway, on a
clock the test moves: French content, levels, repeats, acknowledgement, maintenance, an SMTP
server down then up, and no secret in the logs or the database."""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from supervision.states import Policy
from tests.helpers.http_server import free_port
from tests.helpers.notify_data import (
    SMS_TOKEN,
    SMTP_PASSWORD,
    Clock,
    add_rule,
    notify_settings,
    open_incident,
)
from tests.helpers.notify_servers import SmsGateway, SmtpServer
from tests.helpers.supervision_data import ok
from tests.helpers.tls import self_signed
from vigie import db
from vigie.models import (
    AuditEvent,
    IncidentRow,
    MaintenanceWindowRow,
    Notification,
    NotificationRule,
)
from vigie.notify import outbox
from vigie.notify.dispatcher import Notifier
from vigie.notify.metrics import collect
from vigie.supervisor.store import apply_result

ONE_LEVEL = [
    {
        "after_minutes": 0,
        "recipients": [
            {"name": "Opérateur", "email": "op@csu.example", "phone": "+33 6 12 34 56 78"}
        ],
    }
]


def once(notifier: Notifier) -> int:
    """One poll of the notifier (plan, then send what is due); returns the attempts made."""

    async def main() -> int:
        try:
            return await notifier.run_once()
        finally:
            await notifier.stop()

    return asyncio.run(main())


def rows(sessions: sessionmaker[Session]) -> list[Notification]:
    with sessions() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def audited(sessions: sessionmaker[Session], action: str) -> int:
    with sessions() as session:
        return len(session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all())


def acknowledge(sessions: sessionmaker[Session], incident_id: int, at: datetime) -> None:
    with db.session_scope(sessions) as session:
        session.execute(
            update(IncidentRow)
            .where(IncidentRow.id == incident_id)
            .values(acknowledged_at=at, acknowledged_by="operator", comment="technicien envoyé")
        )


def test_level_one_gets_an_email_and_an_sms_in_french(
    sessions, smtp: SmtpServer, gateway: SmsGateway, database_url: str
) -> None:
    settings = notify_settings(database_url, smtp_port=smtp.port, sms_url=gateway.url)
    incident_id, opened = open_incident(sessions)
    add_rule(sessions, opened, levels=ONE_LEVEL)
    notifier = Notifier(sessions, settings, clock=Clock(opened + timedelta(seconds=20)))

    assert once(notifier) == 2

    [mail] = smtp.messages
    assert mail["To"] == "op@csu.example"
    assert mail["From"] == "vigie@departement.example"
    assert (
        mail["Subject"] == "[Vigie] Incident majeur : Camera cam-a1 (Commune 27056) : injoignable"
    )
    body = mail.get_content()
    assert "Caméra : Camera cam-a1 (cam-a1)" in body
    assert "Commune : Commune 27056 (27056)" in body
    assert "Problème : injoignable" in body
    assert "Depuis : lundi 2 mars 2026 à 09h01 (heure de Paris)" in body  # 08:01:30 UTC
    assert "Niveau d'alerte : 1" in body
    assert f"https://vigie.example.fr/api/v1/incidents/{incident_id}" in body
    assert smtp.mailbox.logins == [("vigie", SMTP_PASSWORD)]

    [sms] = gateway.requests
    assert sms.path == "/v1/sms"
    assert sms.headers["Authorization"] == f"Bearer {SMS_TOKEN}"
    assert sms.headers["Content-Type"] == "application/json"
    assert sms.body["to"] == "+33612345678"
    assert sms.body["text"].startswith(
        "Vigie niv.1 : incident majeur, Camera cam-a1 (Commune 27056)"
    )
    assert "injoignable depuis 02/03 09h01" in sms.body["text"]
    assert f"/api/v1/incidents/{incident_id}" in sms.body["text"]

    recorded = rows(sessions)
    assert [(r.channel, r.level, r.round, r.attempts) for r in recorded] == [
        ("email", 1, 0, 1),
        ("sms", 1, 0, 1),
    ]
    assert all(outbox.status_of(r) == "sent" for r in recorded)
    assert audited(sessions, "notification.sent") == 2
    assert once(notifier) == 0  # told once per round, however often the notifier polls


def test_no_acknowledgement_escalates_to_level_two_after_n_minutes(
    sessions, smtp: SmtpServer, gateway: SmsGateway, database_url: str
) -> None:
    settings = notify_settings(database_url, smtp_port=smtp.port, sms_url=gateway.url)
    _, opened = open_incident(sessions)
    add_rule(sessions, opened, repeat_minutes=120)  # level 2 after 30 min
    clock = Clock(opened + timedelta(minutes=1))
    notifier = Notifier(sessions, settings, clock=clock)

    once(notifier)
    assert [m["To"] for m in smtp.messages] == ["op@csu.example"]
    clock.advance(minutes=28)  # 29 min unacknowledged
    assert once(notifier) == 0
    clock.advance(minutes=1)  # 30 min
    assert once(notifier) == 2
    assert [m["To"] for m in smtp.messages] == ["op@csu.example", "cadre@csu.example"]
    assert "Niveau d'alerte : 2" in smtp.messages[1].get_content()
    assert [r.body["to"] for r in gateway.requests] == ["+33600000002"]
    assert gateway.requests[0].body["text"].startswith("Vigie niv.2")


def test_reminders_repeat_until_the_acknowledgement_stops_them(
    sessions, smtp: SmtpServer, gateway: SmsGateway, database_url: str
) -> None:
    settings = notify_settings(database_url, smtp_port=smtp.port, sms_url=gateway.url)
    incident_id, opened = open_incident(sessions)
    add_rule(sessions, opened, levels=ONE_LEVEL[:1], repeat_minutes=10)
    clock = Clock(opened)
    notifier = Notifier(sessions, settings, clock=clock)

    once(notifier)
    clock.advance(minutes=10)
    once(notifier)
    assert len(smtp.messages) == 2
    assert "rappel n° 1" in smtp.messages[1].get_content()
    assert gateway.requests[1].body["text"].startswith("Vigie rappel 1 niv.1")

    # the third round is queued, then someone acknowledges before it goes out
    clock.advance(minutes=10)
    with db.session_scope(sessions) as session:
        assert outbox.plan(session, clock(), base_url=settings.notify_base_url) == 2
    acknowledge(sessions, incident_id, clock())
    assert once(notifier) == 0
    clock.advance(minutes=30)
    assert once(notifier) == 0
    assert len(smtp.messages) == 2 and len(gateway.requests) == 2
    cancelled = [r for r in rows(sessions) if r.cancelled_at is not None]
    assert [(r.round, r.cancel_reason) for r in cancelled] == [(2, "acknowledged")] * 2
    assert audited(sessions, "notification.cancelled") == 2


def test_a_rule_turned_off_tells_nobody_more(
    sessions, smtp: SmtpServer, gateway: SmsGateway, database_url: str
) -> None:
    settings = notify_settings(database_url, smtp_port=smtp.port, sms_url=gateway.url)
    _, opened = open_incident(sessions)
    rule_id = add_rule(sessions, opened, levels=ONE_LEVEL, repeat_minutes=5)
    clock = Clock(opened)
    notifier = Notifier(sessions, settings, clock=clock)
    assert once(notifier) == 2
    with db.session_scope(sessions) as session:
        session.execute(
            update(NotificationRule).where(NotificationRule.id == rule_id).values(active=False)
        )
    clock.advance(minutes=30)
    assert once(notifier) == 0


def test_no_reminder_once_the_camera_is_back_while_the_incident_waits_to_close(
    sessions, smtp: SmtpServer, gateway: SmsGateway, database_url: str
) -> None:
    settings = notify_settings(database_url, smtp_port=smtp.port, sms_url=gateway.url)
    _, opened = open_incident(sessions)
    add_rule(sessions, opened, levels=ONE_LEVEL, repeat_minutes=1)
    clock = Clock(opened)
    notifier = Notifier(sessions, settings, clock=clock)
    assert once(notifier) == 2
    for seconds in (30, 60):  # two good checks: UP, the incident open for its quiet period
        at = opened + timedelta(seconds=seconds)
        with db.session_scope(sessions) as session:
            apply_result(session, "cam-a1", ok("cam-a1", at), Policy(), at)
    clock.advance(minutes=2)
    assert once(notifier) == 0
    assert len(smtp.messages) == 1 and len(gateway.requests) == 1


def test_a_maintenance_window_silences_the_camera(
    sessions, smtp: SmtpServer, gateway: SmsGateway, database_url: str
) -> None:
    settings = notify_settings(database_url, smtp_port=smtp.port, sms_url=gateway.url)
    _, opened = open_incident(sessions)
    add_rule(sessions, opened, levels=ONE_LEVEL)
    with db.session_scope(sessions) as session:
        session.add(
            MaintenanceWindowRow(
                camera_id="cam-a1",
                start=opened,
                end=opened + timedelta(hours=1),
                reason="remplacement du mât",
                created_by="operator",
                created_at=opened,
            )
        )
    clock = Clock(opened + timedelta(minutes=5))
    notifier = Notifier(sessions, settings, clock=clock)
    assert once(notifier) == 0
    clock.advance(minutes=30)
    assert once(notifier) == 0
    assert smtp.messages == [] and gateway.requests == [] and rows(sessions) == []
    clock.advance(minutes=30)  # the window is over, the incident still open: told now
    assert once(notifier) == 2


def test_an_email_queued_while_the_smtp_server_is_down_is_delivered_when_it_is_back(
    sessions, gateway: SmsGateway, database_url: str
) -> None:
    port = free_port()  # nobody listens there yet
    settings = notify_settings(database_url, smtp_port=port, sms_url=gateway.url)
    _, opened = open_incident(sessions)
    add_rule(
        sessions, opened, levels=[{"after_minutes": 0, "recipients": [{"email": "op@csu.example"}]}]
    )
    clock = Clock(opened)
    notifier = Notifier(sessions, settings, clock=clock)

    assert once(notifier) == 1
    [row] = rows(sessions)
    assert row.sent_at is None and row.attempts == 1
    assert "ConnectionRefusedError" in (row.last_error or "")
    with sessions() as session:
        stats = collect(session, clock(), outcomes=notifier.outcomes)
    assert dict(stats.pending) == {"email": 1} and stats.outcomes == {"failed": 1}
    clock.advance(seconds=10)
    assert once(notifier) == 0  # waits its backoff (30 s +- 20 %)
    clock.advance(seconds=30)
    assert once(notifier) == 1  # still down
    server = SmtpServer(port).start()
    try:
        clock.advance(seconds=200)
        assert once(notifier) == 1
        clock.advance(seconds=200)
        assert once(notifier) == 0
    finally:
        server.stop()
    [mail] = server.messages
    assert mail["To"] == "op@csu.example"
    [row] = rows(sessions)
    assert row.sent_at is not None and row.attempts == 3 and row.last_error is None
    assert audited(sessions, "notification.failed") == 2
    with sessions() as session:
        assert dict(collect(session, clock()).pending) == {}
    assert audited(sessions, "notification.sent") == 1


def _database_text(engine: Engine) -> str:
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return "\n".join(
            repr(row)
            for table in metadata.sorted_tables
            for row in connection.execute(table.select())
        )


def test_no_secret_in_the_logs_nor_the_database(
    seeded: Engine, sessions, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    smtp_port = free_port()  # down: its failures are logged
    gateway = SmsGateway(statuses=[500]).start()
    try:
        settings = notify_settings(
            database_url,
            smtp_port=smtp_port,
            sms_url=gateway.url,
            notify_sms_auth="basic",
            notify_sms_user="vigie",
        )
        _, opened = open_incident(sessions)
        add_rule(sessions, opened, levels=ONE_LEVEL)
        clock = Clock(opened)
        notifier = Notifier(sessions, settings, clock=clock)
        with caplog.at_level(logging.DEBUG):
            once(notifier)
            clock.advance(minutes=5)
            once(notifier)
    finally:
        gateway.stop()
    expected = base64.b64encode(f"vigie:{SMS_TOKEN}".encode()).decode()
    assert [r.headers["Authorization"] for r in gateway.requests] == [f"Basic {expected}"] * 2
    assert "not sent" in caplog.text  # the failures were logged ...
    for secret in (SMTP_PASSWORD, SMS_TOKEN, expected):
        assert secret not in caplog.text  # ... without a secret
        assert secret not in _database_text(seeded)


def _starttls_server(tmp_path: Path) -> tuple[SmtpServer, Path]:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return SmtpServer(tls=context).start(), cert


def test_starttls_checks_the_certificate_before_the_password_goes(
    sessions, gateway: SmsGateway, database_url: str, tmp_path: Path
) -> None:
    server, cert = _starttls_server(tmp_path)
    try:
        _, opened = open_incident(sessions)
        add_rule(
            sessions,
            opened,
            levels=[{"after_minutes": 0, "recipients": [{"email": "op@csu.example"}]}],
        )
        # the server's certificate is not from a CA the system trusts: refused, nothing sent
        untrusted = notify_settings(
            database_url,
            smtp_port=server.port,
            sms_url=gateway.url,
            notify_smtp_security="starttls",
        )
        clock = Clock(opened)
        assert once(Notifier(sessions, untrusted, clock=clock)) == 1
        [row] = rows(sessions)
        assert row.sent_at is None and "SSLCertVerificationError" in (row.last_error or "")
        assert server.mailbox.logins == [] and server.messages == []
        # its CA given: STARTTLS, then the login, then the mail
        trusted = notify_settings(
            database_url,
            smtp_port=server.port,
            sms_url=gateway.url,
            notify_smtp_security="starttls",
            notify_smtp_cafile=cert,
        )
        clock.advance(minutes=5)
        assert once(Notifier(sessions, trusted, clock=clock)) == 1
    finally:
        server.stop()
    assert server.mailbox.logins == [("vigie", SMTP_PASSWORD)]
    [mail] = server.messages
    assert mail["To"] == "op@csu.example"
