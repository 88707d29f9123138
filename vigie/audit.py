"""The audit trail: append-only rows, each chained to the previous one by SHA-256.

A row's hash covers its own fields and the previous row's hash, so editing, deleting or
reordering any row breaks the chain from there on, and :func:`verify` names the rows where it
breaks. Appends are serialised by updating the single ``audit_head`` row first (a row lock on
PostgreSQL, the write lock on SQLite; ``UPDATE ... RETURNING`` needs SQLite >= 3.35), so two
processes never fork the chain; the unique ``prev_hash`` is a second guard.

The head is protected like the rows: a purge deletes only a prefix of rows older than the
retention period, moves the head's anchor (``purged_through``, ``anchor_hash``) to the last
purged row, and appends an ``audit.purge`` event recording that row, its hash, the cut-off and the
retention, chained like any other row. :func:`verify` checks the head against the last such event,
so a head moved by hand (and the prefix deleted behind it) fails verification, and so does a purge
of rows younger than the retention; a forged ``audit.purge`` would itself be a new row, which moves
the head hash that operators keep elsewhere (README: Security).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
PURGE_ACTION = "audit.purge"
MIN_RETENTION_DAYS = 30
"""No purge keeps less (``VIGIE_AUDIT_RETENTION_DAYS`` has the same floor)."""

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


def verify(
    session: Session, *, retention_days: int | None = None, max_problems: int = 50
) -> Verification:
    """Walk the whole chain in id order and report every place where it is broken, then check the
    head against the last ``audit.purge`` event. With ``retention_days``, a purge that kept less
    than that is reported too."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    result = Verification(head_hash=head.last_hash)
    expected_id, previous = head.purged_through + 1, head.anchor_hash
    last_purge: AuditEvent | None = None
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
        if event.action == PURGE_ACTION:
            last_purge = event
        expected_id, previous = event.id + 1, event.hash
        if len(result.problems) >= max_problems:
            result.problems.append("too many problems; stopped")
            return result
    if head.last_id != expected_id - 1 or head.last_hash != previous:
        result.problems.append(
            f"the trail ends at row {expected_id - 1} but the head records row {head.last_id}: "
            "the last rows were deleted (or the head was edited)"
        )
    result.problems.extend(_anchor_problems(head, last_purge, retention_days))
    return result


def _anchor_problems(
    head: AuditHead, last_purge: AuditEvent | None, retention_days: int | None
) -> list[str]:
    """Does the head's anchor match what the last ``audit.purge`` recorded, within retention?"""
    if head.purged_through == 0:
        if head.anchor_hash != GENESIS:
            return ["the head's anchor was edited: no row was ever purged"]
        return []
    if last_purge is None:
        return [
            f"rows up to {head.purged_through} are gone but no audit.purge event records their "
            "purge: the head was edited and the rows deleted"
        ]
    try:
        detail = json.loads(last_purge.detail)
        through, anchor = int(detail["through_id"]), str(detail["anchor_hash"])
        before = datetime.fromisoformat(str(detail["before"]).replace("Z", "+00:00"))
        kept_days = int(detail["retention_days"])
    except (ValueError, KeyError, TypeError):
        return [f"row {last_purge.id}: an audit.purge event without its anchor, cut-off and days"]
    problems = []
    if (through, anchor) != (head.purged_through, head.anchor_hash):
        problems.append(
            f"the head says rows up to {head.purged_through} were purged, the last audit.purge "
            f"(row {last_purge.id}) says up to {through}: the head was edited"
        )
    if before > as_utc(last_purge.at) - timedelta(days=kept_days):
        problems.append(
            f"row {last_purge.id}: the purge's cut-off is inside its own {kept_days} days"
        )
    if retention_days is not None and kept_days < retention_days:
        problems.append(
            f"row {last_purge.id}: a purge kept {kept_days} days of the trail, less than the "
            f"retention period ({retention_days} days)"
        )
    return problems


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


def purge(
    session: Session,
    *,
    retention_days: int,
    actor: str,
    role: str,
    now: datetime | None = None,
) -> int:
    """Delete the events older than ``retention_days`` (a prefix of the chain); returns how many.

    The head's new anchor and the purge itself are recorded in an ``audit.purge`` event chained
    after the rows that remain: which row was purged last, its hash and date, the cut-off and the
    retention. Refuses a retention under :data:`MIN_RETENTION_DAYS`, and a broken chain: purging
    would destroy the evidence of the tampering.
    """
    if retention_days < MIN_RETENTION_DAYS:
        raise AuditError(
            f"the audit trail is kept at least {MIN_RETENTION_DAYS} days; "
            f"not purging rows of the last {retention_days}"
        )
    check = verify(session)
    if not check.ok:
        raise AuditError(
            "the audit trail does not verify; not purging (run `vigie audit verify`): "
            + check.problems[0]
        )
    before = (now or utcnow()) - timedelta(days=retention_days)
    first_kept = session.scalar(select(func.min(AuditEvent.id)).where(AuditEvent.at >= before))
    last_purged = (
        first_kept - 1
        if first_kept is not None
        else session.scalar(select(func.max(AuditEvent.id)))
    )
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    if last_purged is None or last_purged <= head.purged_through:
        return 0
    anchor, anchor_at = session.execute(
        select(AuditEvent.hash, AuditEvent.at).where(AuditEvent.id == last_purged)
    ).one()
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
        action=PURGE_ACTION,
        detail={
            "before": _timestamp(before),
            "retention_days": retention_days,
            "rows": removed,
            "through_id": last_purged,
            "anchor_hash": anchor,
            "through_at": _timestamp(anchor_at),
        },
    )
    return removed
