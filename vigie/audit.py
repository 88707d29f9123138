"""The audit trail: append-only rows, each chained to the previous one by SHA-256.

A row's hash covers its own fields and the previous row's hash, so editing, deleting or
reordering any row breaks the chain from there on, and :func:`verify` names the rows where it
breaks. Appends are serialised by updating the single ``audit_head`` row first (a row lock on
PostgreSQL, the write lock on SQLite; ``UPDATE ... RETURNING`` needs SQLite >= 3.35), so two
processes never fork the chain; the unique ``prev_hash`` is a second guard. A purge deletes
only a prefix and records the last purged hash as the new anchor, so what remains verifies.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from vigie.clock import as_utc, utcnow
from vigie.errors import VigieError
from vigie.models import AuditEvent, AuditHead
from vigie.spreadsheet_safety import csv_row

if TYPE_CHECKING:
    from vigie.auth.principal import Principal

GENESIS = "0" * 64

CSV_COLUMNS = (
    "id",
    "at",
    "actor",
    "role",
    "ip",
    "action",
    "object_type",
    "object_id",
    "reason",
    "detail",
    "prev_hash",
    "hash",
)


class AuditError(VigieError):
    """The audit trail cannot be written or purged as asked: read the message."""


def _timestamp(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_hash(event: AuditEvent) -> str:
    """SHA-256 of the row's fields (id included, so rows cannot swap places) and prev_hash."""
    payload = [
        event.id,
        _timestamp(event.at),
        event.actor,
        event.role,
        event.ip,
        event.action,
        event.object_type,
        event.object_id,
        event.reason,
        event.detail,
        event.prev_hash,
    ]
    canonical = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(
    session: Session,
    *,
    actor: str,
    role: str,
    action: str,
    ip: str = "",
    object_type: str = "",
    object_id: str = "",
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the session's transaction: it commits or rolls back with the change
    it records. Never put a secret in ``detail``."""
    # Reserve the next id and take the lock in one statement: later appends wait for our commit.
    new_id, prev_hash = session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(last_id=AuditHead.last_id + 1)
        .returning(AuditHead.last_id, AuditHead.last_hash)
    ).one()
    event = AuditEvent(
        id=new_id,
        at=utcnow(),
        actor=actor[:120],
        role=role[:16],
        ip=ip[:45],
        action=action,
        object_type=object_type,
        object_id=object_id[:200],
        reason=reason,
        detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str),
        prev_hash=prev_hash,
    )
    event.hash = row_hash(event)
    session.add(event)
    session.flush()
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=event.hash))
    return event


@dataclass
class Verification:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    head_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        return not self.problems


def record_by(session: Session, principal: Principal, *, action: str, **what: Any) -> AuditEvent:
    """`record` for an API caller: who, with which role and from where come from ``principal``;
    ``what`` takes `record`'s other fields (``object_type``, ``object_id``, ``reason``,
    ``detail``)."""
    return record(
        session,
        actor=principal.actor,
        role=principal.role,
        ip=principal.ip,
        action=action,
        **what,
    )


def verify(session: Session, *, max_problems: int = 50) -> Verification:
    """Walk the whole chain in id order and report every place where it is broken."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    result = Verification(head_hash=head.last_hash)
    expected_id, previous = head.purged_through + 1, head.anchor_hash
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(1000):
        result.checked += 1
        if event.id != expected_id:
            result.problems.append(
                f"row {event.id}: expected row {expected_id} before it (deleted or reordered)"
            )
        if event.prev_hash != previous:
            result.problems.append(
                f"row {event.id}: chain broken (the row before it was edited, deleted or moved)"
            )
        if row_hash(event) != event.hash:
            result.problems.append(f"row {event.id}: content edited (hash mismatch)")
        expected_id, previous = event.id + 1, event.hash
        if len(result.problems) >= max_problems:
            result.problems.append("too many problems; stopped")
            return result
    if head.last_id != expected_id - 1 or head.last_hash != previous:
        result.problems.append(
            f"the trail ends at row {expected_id - 1} but the head records row {head.last_id}: "
            "the last rows were deleted (or the head was edited)"
        )
    return result


def events_between(
    session: Session, start: datetime | None, end: datetime | None
) -> Iterator[AuditEvent]:
    statement = select(AuditEvent).order_by(AuditEvent.id)
    if start is not None:
        statement = statement.where(AuditEvent.at >= start)
    if end is not None:
        statement = statement.where(AuditEvent.at < end)
    yield from session.scalars(statement).yield_per(1000)


def export_csv(
    session: Session, stream: TextIO, start: datetime | None, end: datetime | None
) -> int:
    """Write the events of [start, end) as CSV, hashes included so a copy can be checked.

    Text a spreadsheet would run as a formula (a failed login's user name, a reason) is quoted:
    ``vigie.spreadsheet_safety.restore`` gives back the stored text to recompute a hash."""
    writer = csv.writer(stream)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for event in events_between(session, start, end):
        row = [getattr(event, name) for name in CSV_COLUMNS]
        row[1] = _timestamp(event.at)
        writer.writerow(csv_row(row))
        count += 1
    return count


def purge(session: Session, before: datetime, *, actor: str, role: str) -> int:
    """Delete the events older than ``before`` (a prefix of the chain); returns how many.

    Refuses on a broken chain: purging would destroy the evidence of the tampering.
    """
    check = verify(session)
    if not check.ok:
        raise AuditError(
            "the audit trail does not verify; not purging (run `vigie audit verify`): "
            + check.problems[0]
        )
    first_kept = session.scalar(select(func.min(AuditEvent.id)).where(AuditEvent.at >= before))
    last_purged = (
        first_kept - 1
        if first_kept is not None
        else session.scalar(select(func.max(AuditEvent.id)))
    )
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    if last_purged is None or last_purged <= head.purged_through:
        return 0
    anchor = session.scalar(select(AuditEvent.hash).where(AuditEvent.id == last_purged))
    session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(purged_through=last_purged, anchor_hash=anchor)
    )
    removed = session.execute(delete(AuditEvent).where(AuditEvent.id <= last_purged)).rowcount
    session.expire(head)
    record(
        session,
        actor=actor,
        role=role,
        action="audit.purge",
        detail={"before": _timestamp(before), "rows": removed, "through_id": last_purged},
    )
    return removed
