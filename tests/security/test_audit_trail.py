"""Tampering with the audit trail (issue 16, item 4): its rows, its head, and a prefix cut
behind a forged head, each found by ``vigie.audit.verify`` and by ``vigie audit verify`` (the
real CLI, exit 1); a purge made by ``vigie audit purge`` verifies. SQLite and PostgreSQL.

The attack of the issue needs no trigger switched off: ``audit_head`` is an ordinary table, and
the triggers let rows at or below ``purged_through`` be deleted (that is how a purge works).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from tests.helpers.audit_trail import fill, sql
from tests.helpers.cli import run
from vigie import audit, db
from vigie.clock import utcnow
from vigie.models import AuditEvent, AuditHead

RETENTION = 1095  # the default VIGIE_AUDIT_RETENTION_DAYS


@dataclass
class Trail:
    engine: Engine
    url: str

    def verify(self) -> audit.Verification:
        with db.session_scope(db.session_factory(self.engine)) as session:
            return audit.verify(session, retention_days=RETENTION)

    def cli(self, *args: str):
        return run("audit", *args, env={"VIGIE_DATABASE_URL": self.url})

    def head_hash(self) -> str:
        with db.session_scope(db.session_factory(self.engine)) as session:
            return session.scalars(select(AuditHead.last_hash)).one()

    def prev_hash(self, row: int) -> str:
        with db.session_scope(db.session_factory(self.engine)) as session:
            return session.scalars(select(AuditEvent.prev_hash).where(AuditEvent.id == row)).one()

    def assert_broken(self, expected: str) -> None:
        result = self.verify()
        assert any(expected in problem for problem in result.problems), result.problems
        cli = self.cli("verify")
        assert cli.returncode == 1, cli.stdout + cli.stderr
        assert expected in cli.stdout
        assert "BROKEN" in cli.stderr


@pytest.fixture
def trail(engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Trail]:
    """Six picture views past retention (rows 1-6), four recent ones (rows 7-10)."""
    fill(engine, monkeypatch, old=6, recent=4)
    yield Trail(engine, database_url)


def _purge(trail: Trail) -> None:
    purged = trail.cli("purge")
    assert purged.returncode == 0, purged.stderr
    assert f"6 audit events older than {RETENTION} days purged" in purged.stderr


def test_an_intact_trail_and_a_legitimate_purge_verify(trail: Trail) -> None:
    assert trail.verify().ok
    _purge(trail)
    result = trail.verify()
    assert result.ok, result.problems
    verified = trail.cli("verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "audit trail intact: 5 rows" in verified.stderr
    # What the purge recorded: through which row, its hash, the cut-off and the retention.
    with db.session_scope(db.session_factory(trail.engine)) as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None
        head = session.scalars(select(AuditHead)).one()
        assert (event.id, event.action) == (11, "audit.purge")
        detail = json.loads(event.detail)
        assert detail["through_id"] == head.purged_through == 6
        assert detail["anchor_hash"] == head.anchor_hash == trail.prev_hash(7)
        assert detail["retention_days"] == RETENTION and detail["rows"] == 6


def test_a_purge_inside_the_retention_period_is_refused(trail: Trail) -> None:
    refused = trail.cli("purge", "--older-than-days", "30")
    assert refused.returncode == 1
    assert "VIGIE_AUDIT_RETENTION_DAYS" in refused.stderr
    with (
        pytest.raises(audit.AuditError, match="at least 30 days"),
        db.session_scope(db.session_factory(trail.engine)) as session,
    ):
        audit.purge(session, retention_days=1, actor="cli:test", role="system")
    assert trail.verify().checked == 10


def test_an_edited_row_is_detected(trail: Trail) -> None:
    sql(trail.engine, "UPDATE audit_events SET reason = 'rien' WHERE id = 8", triggers=False)
    trail.assert_broken("row 8: content edited")


def test_a_prefix_cut_behind_a_forged_head_is_detected(trail: Trail) -> None:
    # The attack of the issue: the recent picture views 7 and 8 vanish, the head hash stays.
    head = trail.head_hash()
    sql(
        trail.engine,
        f"UPDATE audit_head SET purged_through = 8, anchor_hash = '{trail.prev_hash(9)}'",
        "DELETE FROM audit_events WHERE id <= 8",
    )
    assert trail.head_hash() == head  # a copy of the head hash kept elsewhere would not see it
    trail.assert_broken("no audit.purge event records their purge")


def test_a_cut_after_a_legitimate_purge_is_detected(trail: Trail) -> None:
    _purge(trail)
    sql(
        trail.engine,
        f"UPDATE audit_head SET purged_through = 8, anchor_hash = '{trail.prev_hash(9)}'",
        "DELETE FROM audit_events WHERE id <= 8",
    )
    trail.assert_broken("the head says rows up to 8 were purged")


def test_an_edited_head_is_detected(trail: Trail) -> None:
    sql(trail.engine, f"UPDATE audit_head SET anchor_hash = '{'a' * 64}'")
    trail.assert_broken("the head's anchor was edited")


def _forge_purge(trail: Trail, *, before: datetime, retention_days: int) -> None:
    """Rows 1 to 8 cut and the head moved past them, then an ``audit.purge`` event written to
    explain it, as an intruder with write access to the database would."""
    anchor = trail.prev_hash(9)
    sql(
        trail.engine,
        f"UPDATE audit_head SET purged_through = 8, anchor_hash = '{anchor}'",
        "DELETE FROM audit_events WHERE id <= 8",
    )
    with db.session_scope(db.session_factory(trail.engine)) as session:
        audit.record(
            session,
            actor="cli:intruder",
            role="system",
            action="audit.purge",
            detail={
                "before": before.isoformat(),
                "retention_days": retention_days,
                "rows": 8,
                "through_id": 8,
                "anchor_hash": anchor,
            },
        )


def test_a_forged_purge_of_recent_rows_is_detected(trail: Trail) -> None:
    # A cut disguised as a purge with a one-day retention: it is a new row (the head hash
    # moves), and it kept less than the retention period.
    head = trail.head_hash()
    _forge_purge(trail, before=utcnow() - timedelta(days=1), retention_days=1)
    assert trail.head_hash() != head
    trail.assert_broken("a purge kept 1 days of the trail, less than the retention period")


def test_a_forged_purge_with_a_cut_off_inside_its_retention_is_detected(trail: Trail) -> None:
    _forge_purge(trail, before=utcnow(), retention_days=RETENTION)
    trail.assert_broken(f"the purge's cut-off is inside its own {RETENTION} days")
