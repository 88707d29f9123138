"""The supervision core's state in the database: apply a check result or a tick in one transaction.

:func:`apply_result` loads a camera's saved :class:`~supervision.states.CameraState`, folds the
result in with :func:`~supervision.states.step`, and writes, in the caller's transaction, the new
state, the observation, the state changes, the incident rows and the numbered events. Either all
of it commits or none of it does, so a crash between two results loses nothing and duplicates
nothing: the next process reads the state back and the core ignores a result at or before the
last one of its kind (a redelivery). :func:`apply_tick` does the same for the passing of time.

The camera's inventory row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite has one
writer at a time) so two workers never fold two results into the same old state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from supervision import recording
from supervision.availability import StateSpan, spans_from_events
from supervision.conditions import Cause, State
from supervision.incidents import (
    CloseReason,
    Incident,
    IncidentEvent,
    Severity,
    record_event,
)
from supervision.states import (
    CameraState,
    CheckKind,
    CheckResult,
    Event,
    MaintenanceWindow,
    Policy,
    Reason,
    StateChanged,
    lapse,
    step,
    tick,
)
from vigie.auth.principal import Principal, apply_scope
from vigie.clock import as_utc
from vigie.errors import VigieError
from vigie.models import (
    Camera,
    CameraStatus,
    EventHead,
    IncidentRow,
    MaintenanceWindowRow,
    Observation,
    StateChange,
    SupervisionEvent,
)

__all__ = [
    "UnknownCameraError",
    "append_events",
    "apply_result",
    "apply_results",
    "apply_tick",
    "apply_ticks",
    "events_after",
    "incident_from_row",
    "load_state",
    "purge_observations",
    "state_spans",
]


class UnknownCameraError(VigieError):
    """A result or tick names a camera missing from the inventory: import it first."""

    http_status = 404


def load_state(session: Session, camera_id: str) -> CameraState:
    """The camera's saved state, or a fresh UNKNOWN one if it was never checked."""
    row = session.get(CameraStatus, camera_id)
    return CameraState(camera_id=camera_id) if row is None else CameraState.from_dict(row.saved)


def apply_result(
    session: Session, camera_id: str, result: CheckResult, policy: Policy, now: datetime
) -> list[Event]:
    """Fold ``result`` into the camera's saved state and store everything it changed.

    The stored maintenance windows of the camera are added to ``policy``. Returns the events
    written (none for a redelivered result, which writes nothing). Does not commit: the caller's
    transaction holds the whole step.
    """
    commune, state = _locked(session, camera_id)
    new_state, events = step(state, result, _with_windows(session, camera_id, policy))
    if new_state is state:
        return []
    observation = _observation_dict(result)
    if _worth_keeping(result, events):
        session.add(Observation(**_observation_row(result, observation)))
    _save(session, new_state, now, last_observation=observation)
    _store_events(session, commune, events)
    return events


def apply_tick(session: Session, camera_id: str, policy: Policy, now: datetime) -> list[Event]:
    """Let time pass for one camera (maintenance windows, silence, quiet periods), stored."""
    commune, state = _locked(session, camera_id)
    new_state, events = tick(state, now, _with_windows(session, camera_id, policy))
    if new_state == state:
        return []
    _save(session, new_state, now)
    _store_events(session, commune, events)
    return events


def apply_results(
    session: Session,
    results: Iterable[CheckResult],
    policy: Policy,
    now: datetime,
    *,
    policies: Mapping[str, Policy] | None = None,
) -> list[Event]:
    """Fold many results (several cameras, several results of one camera, in order) at once.

    The supervisor's writer stores each batch of check results with this: the database ends
    exactly as if :func:`apply_result` had been called for each result in order (a property
    test compares every table), but with a handful of statements per batch instead of a few
    per result. The cameras' inventory rows are locked in id order (``FOR UPDATE`` on
    PostgreSQL, so two writers cannot deadlock; SQLite has one writer), their saved states and
    maintenance windows read in one query each, stepped in memory, and the rows written by
    executemany. Returns the events written, in order. Does not commit. A camera missing from
    the inventory refuses the whole batch before anything is written, naming every such camera.
    ``policies`` gives cameras of their own thresholds; the others use ``policy``.
    """
    results = list(results)
    if not results:
        return []
    communes, saved, states, chosen = _batch_of(
        session, sorted({r.camera_id for r in results}), policy, policies
    )
    observations: list[dict[str, Any]] = []
    latest: dict[str, dict[str, Any]] = {}
    events: list[Event] = []
    for result in results:
        camera_id = result.camera_id
        state = states[camera_id]
        new_state, new_events = step(state, result, chosen[camera_id])
        if new_state is state:
            continue  # a redelivery: apply_result writes nothing either
        states[camera_id] = new_state
        observation = _observation_dict(result)
        if _worth_keeping(result, new_events):
            observations.append(_observation_row(result, observation))
        latest[camera_id] = observation
        events += new_events
    if not latest:
        return []
    if observations:
        session.execute(insert(Observation.__table__), observations)
    _save_many(session, [states[i] for i in latest], saved, now, latest)
    _store_events_many(session, communes, events)
    return events


def apply_ticks(
    session: Session,
    camera_ids: Iterable[str],
    policy: Policy,
    now: datetime,
    *,
    policies: Mapping[str, Policy] | None = None,
) -> list[Event]:
    """Let time pass for many cameras at once: :func:`apply_tick` for each, in a few statements.

    The supervisor ticks every camera about once per interval (silence, maintenance windows,
    quiet periods): 167 cameras a second at 5,000, which one by one would cost as much as the
    results. Each camera is ticked once, in the given order (a second tick at the same ``now``
    changes nothing); the database ends as with :func:`apply_tick` for each (property test).
    Locks, errors and ``policies`` as :func:`apply_results`. Does not commit.
    """
    order = list(dict.fromkeys(camera_ids))
    return _step_many(
        session,
        order,
        policy,
        policies=policies,
        now=now,
        step=lambda state, chosen: tick(state, now, chosen),
    )


def apply_lapses(
    session: Session,
    unwatched_from: Callable[[CameraState], datetime | None],
    policy: Policy,
    now: datetime,
    *,
    policies: Mapping[str, Policy] | None = None,
    only: Iterable[str] | None = None,
) -> list[Event]:
    """Record the time nobody watched the cameras (the supervisor stopped or crashed).

    For every camera with a saved state, ``unwatched_from(state)`` says since when it went
    unwatched (``None``: it did not); :func:`~supervision.states.lapse` then makes it UNKNOWN
    from then, so the history holds no UP or DOWN time nobody observed. Written like
    :func:`apply_ticks`, a few statements for all cameras (``only``: for these ones). Does not
    commit.
    """
    query = (
        select(CameraStatus.camera_id)
        .where(CameraStatus.state.not_in((State.UNKNOWN.value, State.MAINTENANCE.value)))
        .order_by(CameraStatus.camera_id)
    )
    if only is not None:
        wanted = set(only)
        ids = [i for i in session.scalars(query) if i in wanted]
    else:
        ids = list(session.scalars(query))

    def step(state: CameraState, chosen: Policy) -> tuple[CameraState, list[Event]] | None:
        since = unwatched_from(state)
        return None if since is None or since >= now else lapse(state, since, chosen)

    return _step_many(session, ids, policy, policies=policies, now=now, step=step)


def _step_many(
    session: Session,
    order: list[str],
    policy: Policy,
    *,
    policies: Mapping[str, Policy] | None,
    now: datetime,
    step: Callable[[CameraState, Policy], tuple[CameraState, list[Event]] | None],
) -> list[Event]:
    """``step`` each camera of ``order`` (in that order) from its saved state, then save what
    changed and its events in a few statements: what ticks and lapses share."""
    if not order:
        return []
    communes, saved, states, chosen = _batch_of(session, sorted(order), policy, policies)
    changed: list[CameraState] = []
    events: list[Event] = []
    for camera_id in order:
        state = states[camera_id]
        moved = step(state, chosen[camera_id])
        if moved is None or moved[0] == state:
            continue
        changed.append(moved[0])
        events += moved[1]
    if not changed:
        return []
    _save_many(session, changed, saved, now)
    _store_events_many(session, communes, events)
    return events


def _with(policy: Policy, windows: tuple[MaintenanceWindow, ...]) -> Policy:
    """``policy`` with a camera's stored maintenance windows added (as _with_windows does)."""
    return replace(policy, maintenance=policy.maintenance + windows) if windows else policy


def _batch_of(
    session: Session,
    ids: Sequence[str],
    policy: Policy,
    policies: Mapping[str, Policy] | None,
) -> tuple[dict[str, str], dict[str, dict[str, Any]], dict[str, CameraState], dict[str, Policy]]:
    """What a batch folds into, for cameras ``ids`` (sorted): their communes (rows locked),
    saved state rows, current states, and policies with their maintenance windows. A camera
    missing from the inventory refuses the whole batch, naming every such camera."""
    communes = _lock_cameras(session, ids)
    missing = [i for i in ids if i not in communes]
    if missing:
        raise UnknownCameraError(
            f"camera {', '.join(missing)}: not in the inventory; add it first "
            "(POST /api/v1/cameras)"
        )
    saved = _saved_states(session, ids)
    windows = _windows_of(session, ids)
    states = {
        i: CameraState(camera_id=i) if i not in saved else CameraState.from_dict(saved[i])
        for i in ids
    }
    own = policies or {}
    chosen = {i: _with(own.get(i, policy), windows.get(i, ())) for i in ids}
    return communes, saved, states, chosen


def _lock_cameras(session: Session, ids: Sequence[str]) -> dict[str, str]:
    """``{camera id: commune}`` of the cameras in ``ids``, their rows locked in id order."""
    communes: dict[str, str] = {}
    for chunk in _chunks(ids):
        rows = session.execute(
            select(Camera.id, Camera.commune_code)
            .where(Camera.id.in_(chunk))
            .order_by(Camera.id)
            .with_for_update()
        )
        communes.update((camera_id, commune) for camera_id, commune in rows)
    return communes


def _saved_states(session: Session, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    # Read after the lock is granted (see _locked): a fresh snapshot in READ COMMITTED.
    saved: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        rows = session.execute(
            select(CameraStatus.camera_id, CameraStatus.saved).where(
                CameraStatus.camera_id.in_(chunk)
            )
        )
        saved.update((camera_id, data) for camera_id, data in rows)
    return saved


def _windows_of(session: Session, ids: Sequence[str]) -> dict[str, tuple[MaintenanceWindow, ...]]:
    windows: dict[str, tuple[MaintenanceWindow, ...]] = {}
    for chunk in _chunks(ids):
        rows = session.execute(
            select(
                MaintenanceWindowRow.camera_id,
                MaintenanceWindowRow.start,
                MaintenanceWindowRow.end,
                MaintenanceWindowRow.reason,
            )
            .where(MaintenanceWindowRow.camera_id.in_(chunk))
            .order_by(MaintenanceWindowRow.id)
        )
        for camera_id, start, end, reason in rows:
            window = MaintenanceWindow(start=as_utc(start), end=as_utc(end), reason=reason)
            windows[camera_id] = (*windows.get(camera_id, ()), window)
    return windows


def _chunks(ids: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    # PostgreSQL and SQLite both cap the number of bound parameters.
    for index in range(0, len(ids), size):
        yield ids[index : index + size]


_STATUS = CameraStatus.__table__


def _save_many(
    session: Session,
    states: Sequence[CameraState],
    existing: Mapping[str, Any],
    now: datetime,
    latest: Mapping[str, dict[str, Any]] | None = None,
) -> None:
    """Write the cameras' new states: one executemany UPDATE, one INSERT for first checks.

    ``latest`` holds each camera's latest observation (results); ticks leave it as it was.
    """
    rows = [
        {
            "camera_id": s.camera_id,
            "state": s.state.value,
            "since": s.since,
            "saved": s.to_dict(),
            "updated_at": now,
            **({} if latest is None else {"last_observation": latest[s.camera_id]}),
        }
        for s in states
    ]
    updates = [
        {f"b_{k}": v for k, v in row.items()} for row in rows if row["camera_id"] in existing
    ]
    inserts = [row for row in rows if row["camera_id"] not in existing]
    if updates:
        columns = [k for k in rows[0] if k != "camera_id"]
        statement = (
            update(_STATUS)
            .where(_STATUS.c.camera_id == bindparam("b_camera_id"))
            .values({k: bindparam(f"b_{k}") for k in columns})
        )
        session.execute(statement, updates)
    if inserts:
        session.execute(insert(_STATUS), inserts)
    # Objects the session holds for these rows are now stale: reload them on next access.
    for state in states:
        held = session.identity_map.get(identity_key(CameraStatus, state.camera_id))
        if held is not None:
            session.expire(held)


def _store_events_many(session: Session, communes: dict[str, str], events: Sequence[Event]) -> None:
    """State changes in one INSERT, incidents loaded in one locked query, one ``append_events``."""
    changes = [
        {
            "camera_id": e.camera_id,
            "at": e.at,
            "previous": e.previous.value,
            "state": e.state.value,
            "causes": sorted(c.value for c in e.causes),
            "reason": e.reason.value,
        }
        for e in events
        if isinstance(e, StateChanged)
    ]
    if changes:
        session.execute(insert(StateChange.__table__), changes)
    incident_events = [e for e in events if isinstance(e, IncidentEvent)]
    if incident_events:
        keys = sorted({e.incident.key for e in incident_events})
        rows: dict[str, IncidentRow] = {}
        for chunk in _chunks(keys):
            rows.update(
                (row.key, row)
                for row in session.scalars(
                    select(IncidentRow)
                    .where(IncidentRow.key.in_(chunk))
                    .order_by(IncidentRow.key)
                    .with_for_update()
                    .execution_options(populate_existing=True)
                )
            )
        for event in incident_events:
            _fold_into(session, rows, event)
        session.flush()
        suppressed = _suppressed_by(session, rows)
    else:
        suppressed = {}
    append_events(
        session,
        [(e.camera_id, communes[e.camera_id], e.at, _payload(e, suppressed)) for e in events],
    )


def _suppressed_by(session: Session, rows: Mapping[str, IncidentRow]) -> dict[str, str]:
    """``{incident key: cause key}`` of the camera incidents a cause incident suppresses."""
    parents = {row.key: row.parent_id for row in rows.values() if row.parent_id is not None}
    if not parents:
        return {}
    keys: dict[int, str] = {}
    ids = sorted(set(parents.values()))
    for chunk in _chunks(ids):
        found = session.execute(
            select(IncidentRow.id, IncidentRow.key).where(IncidentRow.id.in_(chunk))
        )
        keys.update((incident_id, key) for incident_id, key in found)
    return {key: keys[parent] for key, parent in parents.items() if parent in keys}


def _payload(event: Event, suppressed: Mapping[str, str]) -> dict[str, Any]:
    """The event as stored; a suppressed camera incident says by which cause (correlation)."""
    payload = event.to_dict()
    if isinstance(event, IncidentEvent) and event.incident.key in suppressed:
        payload["incident"] = {
            **payload["incident"],
            "kind": "camera",
            "suppressed_by": suppressed[event.incident.key],
        }
    return payload


def _locked(session: Session, camera_id: str) -> tuple[str, CameraState]:
    """The camera's commune and saved state, its inventory row locked until the transaction ends.

    The ``cameras`` row is the one locked (``camera_status`` may not exist yet). The state is read
    by a second statement, after the lock is granted: in PostgreSQL's READ COMMITTED a joined,
    unlocked row would come from the snapshot taken before waiting, i.e. be stale.
    """
    commune = session.scalar(
        select(Camera.commune_code).where(Camera.id == camera_id).with_for_update()
    )
    if commune is None:
        raise UnknownCameraError(
            f"camera {camera_id}: not in the inventory; add it first (POST /api/v1/cameras)"
        )
    status = session.scalar(
        select(CameraStatus)
        .where(CameraStatus.camera_id == camera_id)
        .execution_options(populate_existing=True)
    )
    state = (
        CameraState(camera_id=camera_id) if status is None else CameraState.from_dict(status.saved)
    )
    return commune, state


def _with_windows(session: Session, camera_id: str, policy: Policy) -> Policy:
    rows = session.scalars(
        select(MaintenanceWindowRow).where(MaintenanceWindowRow.camera_id == camera_id)
    )
    stored = tuple(
        MaintenanceWindow(start=as_utc(r.start), end=as_utc(r.end), reason=r.reason) for r in rows
    )
    return replace(policy, maintenance=policy.maintenance + stored) if stored else policy


def _worth_keeping(result: CheckResult, events: Sequence[Event]) -> bool:
    """Whether the result gets an ``observations`` row.

    A liveness or events check that succeeds and changes nothing (most of them: one per camera
    every 30 s, and every 15 s for events) only updates the latest observation; history rows
    would be millions a day. An events check reporting a problem is kept.
    """
    frequent = result.kind in (CheckKind.LIVENESS, CheckKind.EVENTS)
    return not frequent or not result.reachable or bool(events) or bool(result.camera_reported)


def _observation_row(result: CheckResult, observation: dict[str, Any]) -> dict[str, Any]:
    return {
        "camera_id": result.camera_id,
        "kind": result.kind.value,
        "at": result.time,
        "reachable": result.reachable,
        "data": observation,
    }


def _observation_dict(result: CheckResult) -> dict[str, Any]:
    """The result as JSON: what the camera detail shows as its latest checks."""
    return {
        "kind": result.kind.value,
        "time": result.time.isoformat(),
        "reachable": result.reachable,
        "error": None if result.error is None else result.error.value,
        "clock_offset_s": result.clock_offset_s,
        "auth_failed": result.auth_failed,
        **(
            {}
            if result.certificate_changed is None
            else {"certificate_changed": result.certificate_changed}
        ),
        "picture_problems": (
            None if result.picture_problems is None else sorted(result.picture_problems)
        ),
        **(
            {}
            if result.picture is None
            else {
                "picture_regime": result.picture.get("regime"),
                "picture_reference": result.picture.get("reference_regime"),
                "picture_seen": result.picture.get("seen") or {},
            }
        ),
        "frame_rate": result.frame_rate,
        "resolution": None if result.resolution is None else list(result.resolution),
        "expected_resolution": (
            None if result.expected_resolution is None else list(result.expected_resolution)
        ),
        **({} if result.interop is None else {"interop": dict(result.interop)}),
        **({} if not result.unjudged else {"unjudged": sorted(result.unjudged)}),
        **(
            {}
            if result.camera_reported is None
            else {"camera_reported": sorted(result.camera_reported)}
        ),
        **({} if result.recording_active is None else {"recording": _recording_dict(result)}),
    }


def _recording_dict(result: CheckResult) -> dict[str, Any]:
    """A Profile G camera's recording as the camera detail shows it, with the French sentence
    (judged at the default lag; the incident's causes follow the camera's own policy)."""
    active, lag, failed = (
        bool(result.recording_active),
        result.recording_lag_s,
        bool(result.recording_storage_failed),
    )
    return {
        "active": active,
        "lag_s": None if lag is None else round(lag, 1),
        "storage_failed": failed,
        "label": recording.describe(active, lag, failed, max_lag_s=recording.DEFAULT_MAX_LAG_S),
    }


def _save(
    session: Session,
    state: CameraState,
    now: datetime,
    *,
    last_observation: dict[str, Any] | None = None,
) -> None:
    row = session.get(CameraStatus, state.camera_id)
    if row is None:
        row = CameraStatus(camera_id=state.camera_id)
        session.add(row)
    row.state = state.state.value
    row.since = state.since
    row.saved = state.to_dict()
    row.updated_at = now
    if last_observation is not None:
        row.last_observation = last_observation


def _store_events(session: Session, commune: str, events: Sequence[Event]) -> None:
    for event in events:
        if isinstance(event, StateChanged):
            session.add(
                StateChange(
                    camera_id=event.camera_id,
                    at=event.at,
                    previous=event.previous.value,
                    state=event.state.value,
                    causes=sorted(c.value for c in event.causes),
                    reason=event.reason.value,
                )
            )
        else:
            _fold_incident(session, event)
    append_events(
        session,
        [(e.camera_id, commune, e.at, e.to_dict()) for e in events],
    )


def _fold_incident(session: Session, event: IncidentEvent) -> None:
    # Locked: an operator's acknowledgement committed meanwhile is read, not overwritten.
    # populate_existing: sessions keep objects across commits (expire_on_commit=False).
    row = session.scalar(
        select(IncidentRow)
        .where(IncidentRow.key == event.incident.key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    _fold_into(session, {} if row is None else {row.key: row}, event)
    session.flush()


def _fold_into(session: Session, rows: dict[str, IncidentRow], event: IncidentEvent) -> None:
    """Fold ``event`` into its incident's row in ``rows`` (loaded, locked), adding a new one."""
    row = rows.get(event.incident.key)
    stored = None if row is None else incident_from_row(row)
    incident = record_event(stored, event)
    if row is None:
        row = IncidentRow(key=incident.key, camera_id=incident.camera_id)
        session.add(row)
        rows[incident.key] = row
    row.opened_at = incident.opened_at
    row.updated_at = incident.updated_at
    row.closed_at = incident.closed_at
    row.close_reason = None if incident.close_reason is None else incident.close_reason.value
    row.state = incident.state.value
    row.severity = incident.severity.value
    row.causes = sorted(c.value for c in incident.causes)
    row.seen_causes = sorted(c.value for c in incident.seen_causes)
    row.flapping = incident.flapping
    row.returns = incident.returns
    row.acknowledged_at = incident.acknowledged_at
    row.acknowledged_by = incident.acknowledged_by
    row.comment = incident.comment


def incident_from_row(row: IncidentRow) -> Incident:
    """The core's record of a stored incident (to fold an event or acknowledge it)."""
    return Incident(
        key=row.key,
        camera_id=row.camera_id,
        opened_at=as_utc(row.opened_at),
        updated_at=as_utc(row.updated_at),
        state=State(row.state),
        causes=frozenset(Cause(c) for c in row.causes),
        seen_causes=frozenset(Cause(c) for c in row.seen_causes),
        severity=Severity(row.severity),
        flapping=row.flapping,
        returns=row.returns,
        closed_at=None if row.closed_at is None else as_utc(row.closed_at),
        close_reason=None if row.close_reason is None else CloseReason(row.close_reason),
        acknowledged_at=None if row.acknowledged_at is None else as_utc(row.acknowledged_at),
        acknowledged_by=row.acknowledged_by,
        comment=row.comment,
    )


def append_events(
    session: Session, events: Iterable[tuple[str, str, datetime, dict[str, Any]]]
) -> list[int]:
    """Number and store events ``(camera_id, commune, at, payload)``; returns their ``seq``.

    The numbers are reserved by updating the single ``event_head`` row, whose lock is held until
    the transaction ends: another writer waits, so sequence numbers commit in increasing order
    without gaps, and a reader resuming after ``seq`` can never skip one committed later.
    On PostgreSQL the transaction also notifies ``vigie_events`` with the last ``seq``
    (delivered at commit): the live feeds of every node read the new events at once.
    """
    events = list(events)
    if not events:
        return []
    last = session.execute(
        update(EventHead)
        .where(EventHead.id == 1)
        .values(last_seq=EventHead.last_seq + len(events))
        .returning(EventHead.last_seq)
    ).scalar_one()
    first = last - len(events) + 1
    for seq, (camera_id, commune, at, payload) in enumerate(events, start=first):
        session.add(
            SupervisionEvent(
                seq=seq,
                at=at,
                camera_id=camera_id,
                commune_code=commune,
                type=str(payload["type"]),
                payload={"seq": seq, **payload},
            )
        )
    session.flush()
    if session.get_bind().dialect.name == "postgresql":  # wakes every node's live feed at commit
        session.connection().exec_driver_sql("SELECT pg_notify('vigie_events', %s)", (str(last),))
    return list(range(first, last + 1))


def events_after(
    session: Session, after: int, *, principal: Principal | None = None, limit: int = 1000
) -> list[SupervisionEvent]:
    """Events numbered above ``after``, in order, within the principal's scope: what a live
    client reconnecting with its last sequence number missed."""
    statement = (
        select(SupervisionEvent)
        .where(SupervisionEvent.seq > after)
        .order_by(SupervisionEvent.seq)
        .limit(limit)
    )
    if principal is not None:
        statement = apply_scope(statement, principal, SupervisionEvent.commune_code)
    return list(session.scalars(statement))


def state_spans(session: Session, camera_ids: Iterable[str], *, end: datetime) -> list[StateSpan]:
    """The stored state history of ``camera_ids`` up to ``end``, as availability spans."""
    ids = sorted(set(camera_ids))
    spans: list[StateSpan] = []
    # Chunked: PostgreSQL and SQLite both cap the number of bound parameters.
    for index in range(0, len(ids), 500):
        rows = session.scalars(
            select(StateChange)
            .where(StateChange.camera_id.in_(ids[index : index + 500]), StateChange.at < end)
            .order_by(StateChange.camera_id, StateChange.at, StateChange.id)
        )
        spans += spans_from_events(
            StateChanged(
                camera_id=row.camera_id,
                at=as_utc(row.at),
                previous=State(row.previous),
                state=State(row.state),
                causes=frozenset(Cause(c) for c in row.causes),
                reason=Reason(row.reason),
            )
            for row in rows
        )
    return spans


def purge_observations(session: Session, *, now: datetime, retention: timedelta) -> int:
    """Delete observations older than ``retention``; the latest one per camera stays in
    ``camera_status``. Returns how many rows went."""
    result = session.execute(delete(Observation).where(Observation.at < now - retention))
    return result.rowcount or 0
