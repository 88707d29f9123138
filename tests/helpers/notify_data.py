"""Escalation tests' data: a clock the test moves, an incident opened as the supervisor opens
one, rules written as the API writes them, and the notifier's settings."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from supervision.states import Policy
from tests.helpers.service import make_settings
from tests.helpers.supervision_data import STEP, T0, down, ok
from vigie import db
from vigie.models import IncidentRow
from vigie.notify.rules import RuleSpec, create_rule
from vigie.settings import Settings
from vigie.supervisor.store import apply_result

SMTP_PASSWORD = "smtp-Pa55word-never-logged"
SMS_TOKEN = "sms-t0ken-never-logged-0123456789"


class Clock:
    """The notifier's clock: the test says what time it is."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def notify_settings(database_url: str, *, smtp_port: int, sms_url: str, **more) -> Settings:
    values: dict[str, object] = {
        "notify_smtp_host": "127.0.0.1",
        "notify_smtp_port": smtp_port,
        "notify_smtp_security": "none",
        "notify_smtp_user": "vigie",
        "notify_smtp_password": SMTP_PASSWORD,
        "notify_smtp_from": "vigie@departement.example",
        "notify_sms_url": sms_url,
        "notify_sms_token": SMS_TOKEN,
        "notify_base_url": "https://vigie.example.fr",
        "notify_timeout_seconds": 3.0,
        "notify_backoff_base_seconds": 30.0,
        "notify_backoff_cap_seconds": 120.0,
    }
    values.update(more)
    return make_settings(database_url, **values)


def open_incident(
    sessions: sessionmaker[Session], camera_id: str = "cam-a1", start: datetime = T0
) -> tuple[int, datetime]:
    """The camera fails three checks: DOWN, a major incident; returns its id and opening time."""
    results = [ok(camera_id, start), *(down(camera_id, start + i * STEP) for i in (1, 2, 3))]
    for result in results:
        with db.session_scope(sessions) as session:
            apply_result(session, camera_id, result, Policy(), result.time)
    with sessions() as session:
        row = session.scalars(
            select(IncidentRow)
            .where(IncidentRow.camera_id == camera_id, IncidentRow.closed_at.is_(None))
            .order_by(IncidentRow.id.desc())
        ).first()
        assert row is not None, "no incident opened"
        return row.id, start + 3 * STEP


def add_rule(sessions: sessionmaker[Session], now: datetime, **spec: object) -> int:
    """A rule as an administrator writes it (validated, audited); returns its id."""
    spec.setdefault("name", "astreinte")
    spec.setdefault(
        "levels",
        [
            {
                "after_minutes": 0,
                "recipients": [{"name": "Opérateur", "email": "op@csu.example"}],
            },
            {
                "after_minutes": 30,
                "recipients": [
                    {"name": "Cadre", "email": "cadre@csu.example", "phone": "+33600000002"}
                ],
            },
        ],
    )
    with db.session_scope(sessions) as session:
        row = create_rule(
            session, RuleSpec.model_validate(spec), actor="admin", role="admin", ip="", now=now
        )
        return row.id
