"""Incidents: what the centre is told about a camera in trouble, from opening to close.

An incident opens when a camera turns DOWN or DEGRADED and follows it until the camera has been
UP, stable, for a quiet period: DEGRADED -> DOWN -> DEGRADED is one incident whose state, causes and
severity are updated, and a flapping camera (problems that keep coming back) keeps one incident
open, marked ``flapping``, instead of raising fifty. The decisions of *when* are taken by
:func:`supervision.states.step`; this module holds the record, its transitions and the operator's
acknowledgement, all pure functions returning new records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from supervision._time import as_utc, from_iso, to_iso
from supervision.conditions import BLINDING, Cause, State

__all__ = [
    "AcknowledgementError",
    "CloseReason",
    "Incident",
    "IncidentChange",
    "IncidentError",
    "IncidentEvent",
    "Severity",
    "acknowledge",
    "close_incident",
    "follow_incident",
    "open_incident",
    "record_event",
    "severity_of",
]


class IncidentError(ValueError):
    """A stored incident cannot be read back: the message names the incident and the field."""


class AcknowledgementError(ValueError):
    """An acknowledgement was refused (closed incident, already acknowledged, no comment)."""


class Severity(StrEnum):
    """How urgently the centre must act; ordered minor < major < critical."""

    MINOR = "minor"
    """Picture still usable: blurred, glare, clock off, low frame rate, wrong resolution."""
    MAJOR = "major"
    """No usable picture: camera down, or picture lost, frozen, covered, turned away, or refused."""
    CRITICAL = "critical"
    """A camera marked critical (its mast's ``critical`` flag) is down."""

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.MINOR: 0, Severity.MAJOR: 1, Severity.CRITICAL: 2}


def severity_of(state: State, causes: Iterable[Cause], *, critical: bool) -> Severity:
    """The severity of a camera in ``state`` with ``causes``; ``critical`` is the mast's flag."""
    if state is State.DOWN:
        return Severity.CRITICAL if critical else Severity.MAJOR
    if BLINDING.intersection(causes):
        return Severity.MAJOR
    return Severity.MINOR


class CloseReason(StrEnum):
    RECOVERED = "recovered"
    """UP and stable for the quiet period."""
    MAINTENANCE = "maintenance"
    """A maintenance window began: the technicians own the camera now."""
    SUPERSEDED = "superseded"
    """A cause incident folded into a larger one (a mast into its branch: correlation)."""


class IncidentChange(StrEnum):
    OPENED = "incident_opened"
    UPDATED = "incident_updated"
    CLOSED = "incident_closed"


@dataclass(frozen=True, kw_only=True)
class Incident:
    """One incident of one camera. Times are aware UTC."""

    key: str
    """Stable identity, ``"<camera_id>/<n>"`` with n counting the camera's incidents from 1: the
    same after a restart, so a replayed event updates the stored row instead of adding one."""
    camera_id: str
    opened_at: datetime
    updated_at: datetime
    state: State
    """The camera's state now (UP while the incident waits for its quiet period)."""
    causes: frozenset[Cause]
    """The camera's active causes now."""
    seen_causes: frozenset[Cause]
    """Every cause seen during the incident: what it was about, even once recovered."""
    severity: Severity
    """The worst severity reached: an incident that was critical stays critical."""
    flapping: bool = False
    returns: int = 0
    """How many times the problem came back after the camera had recovered."""
    closed_at: datetime | None = None
    close_reason: CloseReason | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    comment: str | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict, read back by :meth:`from_dict`."""
        return {
            "key": self.key,
            "camera_id": self.camera_id,
            "opened_at": to_iso(self.opened_at),
            "updated_at": to_iso(self.updated_at),
            "state": self.state.value,
            "causes": sorted(c.value for c in self.causes),
            "seen_causes": sorted(c.value for c in self.seen_causes),
            "severity": self.severity.value,
            "flapping": self.flapping,
            "returns": self.returns,
            "closed_at": to_iso(self.closed_at),
            "close_reason": None if self.close_reason is None else self.close_reason.value,
            "acknowledged_at": to_iso(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by,
            "comment": self.comment,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Incident:
        """Read :meth:`to_dict`'s output; every problem names the incident and the field."""
        name = f"incident {data.get('key', '?')}"
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise IncidentError(f"{name}: unknown field(s) {', '.join(sorted(unknown))}")
        try:
            reason = data.get("close_reason")
            return cls(
                key=str(data["key"]),
                camera_id=str(data["camera_id"]),
                opened_at=_required_time(data, "opened_at", name),
                updated_at=_required_time(data, "updated_at", name),
                state=State(data["state"]),
                causes=frozenset(Cause(c) for c in data["causes"]),
                seen_causes=frozenset(Cause(c) for c in data["seen_causes"]),
                severity=Severity(data["severity"]),
                flapping=bool(data.get("flapping", False)),
                returns=int(data.get("returns", 0)),
                closed_at=from_iso(data.get("closed_at"), f"{name}: closed_at"),
                close_reason=None if reason is None else CloseReason(reason),
                acknowledged_at=from_iso(data.get("acknowledged_at"), f"{name}: acknowledged_at"),
                acknowledged_by=data.get("acknowledged_by"),
                comment=data.get("comment"),
            )
        except KeyError as err:
            raise IncidentError(f"{name}: missing field {err.args[0]}") from err
        except ValueError as err:
            raise IncidentError(f"{name}: {err}") from err


def _required_time(data: Mapping[str, Any], key: str, name: str) -> datetime:
    value = from_iso(data[key], f"{name}: {key}")
    if value is None:
        raise IncidentError(f"{name}: {key} is required")
    return value


@dataclass(frozen=True, kw_only=True)
class IncidentEvent:
    """An incident opened, changed or closed; ``incident`` is the record after the change."""

    change: IncidentChange
    incident: Incident

    @property
    def at(self) -> datetime:
        return self.incident.updated_at

    @property
    def camera_id(self) -> str:
        return self.incident.camera_id

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.change.value,
            "at": to_iso(self.at),
            "incident": self.incident.to_dict(),
        }


def open_incident(
    *,
    key: str,
    camera_id: str,
    at: datetime,
    state: State,
    causes: frozenset[Cause],
    severity: Severity,
    flapping: bool = False,
) -> Incident:
    """A new open incident for a camera that has just turned DOWN or DEGRADED."""
    if state not in (State.DOWN, State.DEGRADED):
        raise ValueError(f"camera {camera_id}: an incident opens on DOWN or DEGRADED, not {state}")
    return Incident(
        key=key,
        camera_id=camera_id,
        opened_at=at,
        updated_at=at,
        state=state,
        causes=causes,
        seen_causes=causes,
        severity=severity,
        flapping=flapping,
    )


def follow_incident(
    incident: Incident,
    *,
    at: datetime,
    state: State,
    causes: frozenset[Cause],
    severity: Severity,
    flapping: bool,
    returned: bool,
) -> Incident:
    """The open ``incident`` following its camera; the same object when nothing changed.

    ``returned`` says the problem came back after the camera had recovered (one more return);
    severity only rises and ``flapping``, once set, stays set: the record says what happened.
    """
    if not incident.is_open:
        raise ValueError(f"incident {incident.key} is closed: it cannot follow its camera")
    worst = severity if severity.rank > incident.severity.rank else incident.severity
    changed = replace(
        incident,
        state=state,
        causes=causes,
        seen_causes=incident.seen_causes | causes,
        severity=worst,
        flapping=incident.flapping or flapping,
        returns=incident.returns + (1 if returned else 0),
    )
    if changed == incident:
        return incident
    return replace(changed, updated_at=at)


def close_incident(incident: Incident, *, at: datetime, reason: CloseReason) -> Incident:
    """The incident closed at ``at``; closing twice is a bug in the caller."""
    if not incident.is_open:
        raise ValueError(f"incident {incident.key} is already closed")
    return replace(incident, closed_at=at, updated_at=at, close_reason=reason)


def acknowledge(incident: Incident, *, by: str, comment: str, at: datetime) -> Incident:
    """The incident acknowledged by operator ``by`` with ``comment`` at ``at``.

    Refused with :class:`AcknowledgementError` when the incident is closed (nothing left to take
    charge of), already acknowledged (the first operator's comment stays), or the operator or
    comment is empty (the log must say who took charge and what they do).
    """
    name = f"incident {incident.key} (camera {incident.camera_id})"
    if not incident.is_open:
        raise AcknowledgementError(f"{name} is closed since {to_iso(incident.closed_at)}")
    if incident.acknowledged_at is not None:
        raise AcknowledgementError(
            f"{name} was already acknowledged by {incident.acknowledged_by} "
            f"at {to_iso(incident.acknowledged_at)}"
        )
    if not by.strip():
        raise AcknowledgementError(f"{name}: the acknowledging operator is missing")
    if not comment.strip():
        raise AcknowledgementError(f"{name}: an acknowledgement needs a comment")
    try:
        at = as_utc(at, f"{name}: acknowledgement time")
    except ValueError as err:
        raise AcknowledgementError(str(err)) from err
    if at < incident.opened_at:
        raise AcknowledgementError(f"{name}: acknowledged at {to_iso(at)}, before it opened")
    return replace(
        incident, acknowledged_at=at, acknowledged_by=by.strip(), comment=comment.strip()
    )


def record_event(stored: Incident | None, event: IncidentEvent) -> Incident:
    """The stored incident after ``event``, as the database should keep it.

    The state machine does not know about acknowledgements (they come from operators), so an
    update keeps the stored acknowledgement; replaying an event already applied changes nothing.
    """
    new = event.incident
    if stored is None:
        return new
    if stored.key != new.key:
        raise ValueError(f"event for incident {new.key} applied to incident {stored.key}")
    return replace(
        new,
        acknowledged_at=stored.acknowledged_at,
        acknowledged_by=stored.acknowledged_by,
        comment=stored.comment,
    )
