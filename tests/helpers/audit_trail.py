"""An audit trail with old and recent rows, and the hands of a database administrator on it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from vigie import audit, db
from vigie.clock import utcnow

OLD_DAYS = 4 * 365
"""How old the old rows are: past the default retention (1095 days)."""


def fill(engine: Engine, monkeypatch: pytest.MonkeyPatch, *, old: int, recent: int) -> None:
    """``old`` picture views dated OLD_DAYS ago, then ``recent`` ones dated now."""
    db.upgrade(engine)
    factory = db.session_factory(engine)
    now = utcnow()
    for count, moment in ((old, now - timedelta(days=OLD_DAYS)), (recent, now)):
        monkeypatch.setattr(audit, "utcnow", lambda moment=moment: moment)
        with db.session_scope(factory) as session:
            for n in range(count):
                audit.record(
                    session,
                    actor="operator",
                    role="operator",
                    action="camera.snapshot",
                    object_type="camera",
                    object_id=f"CAM-{n}",
                    reason="réquisition OPJ 2026-118",
                )
    monkeypatch.undo()


def sql(engine: Engine, *statements: str, triggers: bool = True) -> None:
    """Raw SQL as a database administrator would run it; ``triggers=False`` first switches off
    the triggers that keep ``audit_events`` append-only."""
    with engine.begin() as connection:
        if not triggers:
            if engine.dialect.name == "postgresql":
                connection.execute(
                    text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_guard")
                )
            else:
                connection.execute(text("DROP TRIGGER audit_events_no_update"))
                connection.execute(text("DROP TRIGGER audit_events_no_delete"))
        for statement in statements:
            connection.execute(text(statement))
