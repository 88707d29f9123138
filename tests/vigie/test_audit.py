"""The audit trail on real databases: every kind of tampering is detected, purges keep it whole."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from vigie import audit, db
from vigie.clock import utcnow
from vigie.models import AuditEvent


@pytest.fixture
def trail(engine: Engine) -> Iterator[Engine]:
    """A migrated database with ten audit events."""
    db.upgrade(engine)
    with db.session_scope(db.session_factory(engine)) as session:
        for n in range(10):
            audit.record(
                session,
                actor=f"user{n % 3}",
                role="operator",
                ip="192.0.2.7",
                action="picture.view",
                object_type="camera",
                object_id=f"CAM-{n}",
                reason="incident 2026-118: checking the roundabout",
            )
    yield engine


def verify(engine: Engine) -> audit.Verification:
    with db.session_scope(db.session_factory(engine)) as session:
        return audit.verify(session)


def tamper(engine: Engine, *statements: str) -> None:
    """Edit the table as a database administrator would: triggers off, then raw SQL."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_guard"))
        else:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
            connection.execute(text("DROP TRIGGER audit_events_no_delete"))
        for statement in statements:
            connection.execute(text(statement))


def test_an_intact_trail_verifies(trail: Engine) -> None:
    result = verify(trail)
    assert result.ok, result.problems
    assert result.checked == 10


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        (["UPDATE audit_events SET reason = 'nothing to see' WHERE id = 4"], "row 4: content"),
        (["UPDATE audit_events SET actor = 'someone else' WHERE id = 1"], "row 1: content"),
        (["DELETE FROM audit_events WHERE id = 6"], "row 7: expected row 6"),
        (["DELETE FROM audit_events WHERE id = 10"], "the last rows were deleted"),
        (["DELETE FROM audit_events WHERE id <= 2"], "row 3: expected row 1"),
        (
            # Swap two rows' contents and ids: reordering.
            [
                "UPDATE audit_events SET id = 100 WHERE id = 3",
                "UPDATE audit_events SET id = 3 WHERE id = 5",
                "UPDATE audit_events SET id = 5 WHERE id = 100",
            ],
            "row 3:",
        ),
    ],
    ids=["edit-reason", "edit-actor", "delete-middle", "delete-last", "delete-first", "reorder"],
)
def test_tampering_is_detected(trail: Engine, statements: list[str], expected: str) -> None:
    tamper(trail, *statements)
    result = verify(trail)
    assert not result.ok
    assert any(expected in problem for problem in result.problems), result.problems


def test_rewriting_a_row_with_its_own_hash_breaks_the_next_link(trail: Engine) -> None:
    # An editor who recomputes the edited row's hash still breaks the chain at the next row.
    with db.session_scope(db.session_factory(trail)) as session:
        row = session.get(AuditEvent, 4)
        assert row is not None
        session.expunge(row)
    row.reason = "rewritten"
    new_hash = audit.row_hash(row)
    tamper(trail, f"UPDATE audit_events SET reason = 'rewritten', hash = '{new_hash}' WHERE id = 4")
    problems = verify(trail).problems
    assert problems == ["row 5: chain broken (the row before it was edited, deleted or moved)"]


def test_the_database_refuses_updates_and_deletes(trail: Engine) -> None:
    for statement in (
        "UPDATE audit_events SET reason = 'x' WHERE id = 2",
        "DELETE FROM audit_events WHERE id = 2",
    ):
        with pytest.raises(DBAPIError, match="append-only"), trail.begin() as connection:
            connection.execute(text(statement))
    assert verify(trail).ok


def test_purge_refuses_a_broken_trail(trail: Engine) -> None:
    # Purging would destroy the evidence: first the tampering must be looked into.
    tamper(trail, "UPDATE audit_events SET reason = 'nothing' WHERE id = 2")
    with (
        pytest.raises(audit.AuditError, match="does not verify"),
        db.session_scope(db.session_factory(trail)) as session,
    ):
        audit.purge(session, retention_days=30, actor="cli:test", role="system")
    assert verify(trail).checked == 10


def test_purge_refuses_a_retention_under_the_floor(trail: Engine) -> None:
    with (
        pytest.raises(audit.AuditError, match="at least 30 days"),
        db.session_scope(db.session_factory(trail)) as session,
    ):
        audit.purge(session, retention_days=29, actor="cli:test", role="system")


def test_purge_removes_a_prefix_and_anchors_the_chain(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.upgrade(engine)
    factory = db.session_factory(engine)
    now = utcnow()
    monkeypatch.setattr(audit, "utcnow", lambda: now - timedelta(days=400))
    with db.session_scope(factory) as session:
        for n in range(6):
            audit.record(session, actor="u", role="admin", action="config.change", object_id=str(n))
    monkeypatch.setattr(audit, "utcnow", lambda: now)
    with db.session_scope(factory) as session:
        for n in range(3):
            audit.record(session, actor="u", role="admin", action="login.success", object_id=str(n))
    with db.session_scope(factory) as session:
        sixth = session.get(AuditEvent, 6)
        assert sixth is not None
        sixth_hash = sixth.hash
        assert audit.purge(session, retention_days=365, actor="cli:test", role="system") == 6
    with db.session_scope(factory) as session:
        result = audit.verify(session, retention_days=365)
        first = session.scalar(select(func.min(AuditEvent.id)))
        last = session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
        assert last is not None
        action, detail = last.action, json.loads(last.detail)
    assert result.ok, result.problems
    assert result.checked == 4  # three kept + the purge's own record
    assert first == 7
    assert action == "audit.purge"
    assert detail["through_id"] == 6 and detail["anchor_hash"] == sixth_hash
    assert detail["retention_days"] == 365 and detail["rows"] == 6
    # Verifying with a longer retention than the purge kept reports it.
    with db.session_scope(factory) as session:
        longer = audit.verify(session, retention_days=1095).problems
    assert longer == [
        "row 10: a purge kept 365 days of the trail, less than the retention period (1095 days)"
    ]
    # Deleting below the anchor is still tampering.
    tamper(engine, "DELETE FROM audit_events WHERE id = 7")
    assert not verify(engine).ok


def test_export_writes_csv_of_a_period(trail: Engine) -> None:
    stream = io.StringIO()
    with db.session_scope(db.session_factory(trail)) as session:
        count = audit.export_csv(session, stream, utcnow() - timedelta(hours=1), None)
        later = audit.export_csv(session, io.StringIO(), utcnow() + timedelta(hours=1), None)
    rows = list(csv.DictReader(io.StringIO(stream.getvalue())))
    assert count == len(rows) == 10
    assert rows[0]["reason"] == "incident 2026-118: checking the roundabout"
    assert rows[0]["at"].endswith("Z")
    assert len(rows[-1]["hash"]) == 64
    assert later == 0


def test_concurrent_appends_never_fork_the_chain(trail: Engine) -> None:
    factory = db.session_factory(trail)
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            for n in range(10):
                with db.session_scope(factory) as session:
                    audit.record(
                        session,
                        actor=f"w{worker}",
                        role="operator",
                        action="live.connect",
                        object_id=str(n),
                    )
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=append, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = verify(trail)
    assert result.ok, result.problems
    assert result.checked == 10 + 40
