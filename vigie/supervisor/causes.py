"""Cause incidents in the database: correlation (``supervision.correlation``) applied and stored.

After a batch that changed a state or an incident, :func:`correlate` reads the topology (cameras'
masts, masts' paths), the DOWN cameras and the open incidents, and in the caller's transaction
opens, updates and closes the mast and branch incidents, attaches the camera incidents they
explain (``parent_id``: suppressed from the alarm list, still recorded) and appends the events
(``incident_opened`` / ``_updated`` / ``_closed`` with ``kind``, ``cause``, ``cameras``; a camera
incident attached is re-sent with ``suppressed_by``). The supervisor's writer runs it in a
transaction of its own after each batch that moved something. The ``event_head`` row is locked
first, so two writers never correlate at once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from supervision.correlation import (
    CauseRecord,
    Decision,
    Element,
    Fault,
    Topology,
    find_faults,
    reconcile,
    scope_key,
)
from supervision.incidents import Severity
from vigie.clock import as_utc
from vigie.models import Camera, CameraStatus, EventHead, IncidentRow, Mast
from vigie.supervisor.store import append_events, incident_from_row

__all__ = ["cause_payload", "correlate", "load_topology", "suppressed_payload"]

log = logging.getLogger(__name__)

CAMERA = "camera"


def load_topology(session: Session) -> tuple[Topology, dict[str, str]]:
    """The topology of the cameras with a mast, and every such camera's commune."""
    cameras: dict[str, str] = {}
    communes: dict[str, str] = {}
    for camera_id, mast_id, commune in session.execute(
        select(Camera.id, Camera.mast_id, Camera.commune_code).where(Camera.mast_id.is_not(None))
    ):
        cameras[camera_id] = mast_id
        communes[camera_id] = commune
    paths: dict[str, tuple[Element, ...]] = {}
    if cameras:
        for mast_id, path in session.execute(select(Mast.id, Mast.path)):
            paths[mast_id] = tuple(
                Element(kind=str(e["kind"]), id=str(e["id"]), label=str(e["label"]))
                for e in path or ()
            )
    return Topology(cameras=cameras, paths=paths), communes


def cause_payload(row: IncidentRow, cameras: list[str]) -> dict[str, Any]:
    """A cause incident as events carry it: the camera incident's fields and what it explains."""
    return {
        **incident_from_row(row).to_dict(),
        "kind": row.kind,
        "cause": row.cause_label,
        "cameras": cameras,
    }


def suppressed_payload(row: IncidentRow, parent_key: str | None) -> dict[str, Any]:
    """A camera incident as events carry it, marked with the cause that suppresses it."""
    return {**incident_from_row(row).to_dict(), "kind": CAMERA, "suppressed_by": parent_key}


def correlate(session: Session, now: datetime, window: timedelta) -> int:
    """Bring the cause incidents in line with the DOWN cameras; returns the events appended."""
    if session.scalar(select(Camera.id).where(Camera.mast_id.is_not(None)).limit(1)) is None:
        return 0  # no topology: nothing to correlate (and no lock taken)
    # Serialise correlation between writers: the head row is locked until the commit.
    session.execute(update(EventHead).where(EventHead.id == 1).values(last_seq=EventHead.last_seq))
    seen = _Seen.read(session)
    if not seen.causes and not seen.down:
        return 0
    decision = reconcile(
        seen.topology, find_faults(seen.topology, seen.down, window), *seen.records()
    )
    if not (decision.opened or decision.attach or decision.closed or seen.causes):
        return 0
    events = _apply(session, seen, decision, now)
    append_events(session, events)
    return len(events)


@dataclass
class _Seen:
    """What correlation reads: topology, DOWN cameras, open cause and camera incidents (locked)."""

    topology: Topology
    communes: dict[str, str]
    down: dict[str, datetime]
    causes: dict[int, IncidentRow]
    cameras: dict[str, IncidentRow]

    @classmethod
    def read(cls, session: Session) -> _Seen:
        topology, communes = load_topology(session)
        statuses = session.execute(
            select(CameraStatus.camera_id, CameraStatus.since).where(CameraStatus.state == "down")
        )
        down = {
            camera_id: as_utc(since)
            for camera_id, since in statuses
            if camera_id in topology.cameras and since is not None
        }
        rows = session.scalars(
            select(IncidentRow)
            .where(IncidentRow.closed_at.is_(None))
            .order_by(IncidentRow.id)
            .with_for_update(nowait=True)  # never waits: see ResultWriter._correlate_sync
            .execution_options(populate_existing=True)
        ).all()
        return cls(
            topology=topology,
            communes=communes,
            down=down,
            causes={row.id: row for row in rows if row.kind != CAMERA},
            cameras={
                row.camera_id: row
                for row in rows
                if row.kind == CAMERA and row.camera_id in topology.cameras
            },
        )

    def commune(self, session: Session, camera_id: str) -> str:
        """The camera's commune (events are scoped by it), read if it left the topology."""
        if camera_id not in self.communes:
            found = session.get(Camera, camera_id)
            self.communes[camera_id] = "" if found is None else found.commune_code
        return self.communes[camera_id]

    def records(self) -> tuple[list[CauseRecord], dict[str, str | None], list[str]]:
        """The arguments of :func:`reconcile` after the faults."""
        attached: dict[int, set[str]] = defaultdict(set)
        parents: dict[str, str | None] = {}
        for camera_id, row in self.cameras.items():
            parent = self.causes.get(row.parent_id) if row.parent_id is not None else None
            parents[camera_id] = None if parent is None else parent.key
            if parent is not None:
                attached[parent.id].add(camera_id)
        records = [
            CauseRecord(
                key=r.key, kind=r.kind, scope=r.scope or "", cameras=frozenset(attached[r.id])
            )
            for r in self.causes.values()
        ]
        return records, parents, sorted(self.down)


Payload = tuple[str, str, datetime, dict[str, Any]]


def _apply(session: Session, seen: _Seen, decision: Decision, now: datetime) -> list[Payload]:
    """Write the decision; the events: causes first, then the camera incidents they took."""
    by_key = {row.key: row for row in seen.causes.values()}
    by_scope = {scope_key(r.kind, r.scope or ""): r for r in seen.causes.values()}
    touched: set[int] = set()
    for key in decision.superseded:
        row = by_key[key]
        row.closed_at, row.updated_at, row.close_reason = now, now, "superseded"
        del by_scope[scope_key(row.kind, row.scope or "")]
        touched.add(row.id)
    opened: set[int] = set()
    for fault in decision.opened:
        row = _open(session, fault, now, seen.cameras)
        by_scope[scope_key(fault.kind, fault.scope)] = seen.causes[row.id] = row
        opened.add(row.id)
        log.info("correlation: %s opened for %d cameras", row.key, len(fault.cameras))
    suppressed: list[Payload] = []
    for camera_id, key in sorted(decision.attach.items()):
        cause, row = by_scope[key], seen.cameras[camera_id]
        if row.parent_id != cause.id:
            row.parent_id = cause.id
            touched.add(cause.id)
            payload = {
                "type": "incident_updated",
                "at": now.isoformat(),
                "incident": suppressed_payload(row, cause.key),
            }
            suppressed.append((row.camera_id, seen.commune(session, row.camera_id), now, payload))
    for key in decision.closed:
        row = by_key[key]
        row.closed_at, row.updated_at, row.close_reason, row.state = now, now, "recovered", "up"
        touched.add(row.id)
        log.info("correlation: %s closed, its cameras are back", row.key)
    session.flush()
    members = _members(session, list(seen.causes))
    events: list[Payload] = []
    for row in seen.causes.values():
        if row.closed_at is None and _follow(row, members[row.id], seen, now):
            touched.add(row.id)
        if row.id in opened:
            change = "incident_opened"
        elif row.id in touched:
            change = "incident_closed" if row.closed_at is not None else "incident_updated"
        else:
            continue
        payload = {
            "type": change,
            "at": now.isoformat(),
            "incident": cause_payload(row, members[row.id]),
        }
        events.append((row.camera_id, seen.commune(session, row.camera_id), now, payload))
    session.flush()
    return events + suppressed


def _members(session: Session, cause_ids: list[int]) -> dict[int, list[str]]:
    """Every camera attached to each cause, open incident or closed, sorted."""
    members: dict[int, list[str]] = defaultdict(list)
    if cause_ids:
        for camera_id, parent_id in session.execute(
            select(IncidentRow.camera_id, IncidentRow.parent_id)
            .where(IncidentRow.parent_id.in_(cause_ids))
            .order_by(IncidentRow.camera_id)
        ):
            if camera_id not in members[parent_id]:
                members[parent_id].append(camera_id)
    return members


def _follow(row: IncidentRow, members: list[str], seen: _Seen, now: datetime) -> bool:
    """An open cause follows its cameras: DOWN while one is, severity the worst; changed?"""
    live = [c for c in members if c in seen.cameras and seen.cameras[c].parent_id == row.id]
    state = "down" if any(c in seen.down for c in live) else "up"
    severity = _worst([seen.cameras[c].severity for c in live], row.severity)
    if state == row.state and severity == row.severity:
        return False
    row.state, row.severity, row.updated_at = state, severity, now
    return True


def _open(
    session: Session, fault: Fault, now: datetime, camera_rows: dict[str, IncidentRow]
) -> IncidentRow:
    prefix = f"{fault.kind}:{fault.scope}"
    count = session.scalar(
        select(func.count())
        .select_from(IncidentRow)
        .where(IncidentRow.kind == fault.kind, IncidentRow.scope == fault.scope)
    )
    severity = _worst(
        [camera_rows[c].severity for c in fault.cameras if c in camera_rows], Severity.MAJOR
    )
    row = IncidentRow(
        key=f"{prefix}/{(count or 0) + 1}"[:80],
        camera_id=min(fault.cameras),
        opened_at=now,
        updated_at=now,
        closed_at=None,
        close_reason=None,
        state="down",
        severity=severity,
        causes=["unreachable"],
        seen_causes=["unreachable"],
        flapping=False,
        returns=0,
        kind=fault.kind,
        cause_label=fault.label,
        scope=fault.scope,
    )
    session.add(row)
    session.flush()
    return row


def _worst(severities: list[str], floor: str) -> str:
    ranked = [Severity(s) for s in [*severities, floor]]
    return max(ranked, key=lambda s: s.rank).value


def _event(
    change: str, row: IncidentRow, cameras: list[str], communes: dict[str, str], now: datetime
) -> tuple[str, str, datetime, dict[str, Any]]:
    return (
        row.camera_id,
        communes[row.camera_id],
        now,
        {"type": change, "at": now.isoformat(), "incident": cause_payload(row, cameras)},
    )
