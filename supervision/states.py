"""Camera states: the pure state machine that turns check results into states and incidents.

A probe observes a camera and reports a :class:`CheckResult`; :func:`step` folds it into the
camera's :class:`CameraState` under its :class:`Policy` and returns the new state with the
:data:`Event` list to store and push. :func:`tick` is the clock's side: it starts and ends
maintenance windows, turns a camera nobody checked for too long UNKNOWN and closes incidents
whose quiet period is over. Nothing here does I/O or reads the clock, so the scheduler can run it
for thousands of cameras and a restart resumes exactly from :meth:`CameraState.to_dict`.

What moves a camera (defaults in :class:`Policy`):

- every cause has hysteresis: it becomes active after ``n`` consecutive checks that observe it,
  and clears after ``m`` consecutive checks that observe it absent. ``unreachable`` uses K =
  ``down_after`` (3) and J = ``up_after`` (2); the DEGRADED causes use ``degrade_after`` (2) and
  ``restore_after`` (2). A check that cannot observe a cause (a liveness check says nothing about
  the picture; an unreachable camera says nothing at all) leaves that cause as it was.
- the state is MAINTENANCE inside a window; else DOWN while ``unreachable`` is active; else
  UNKNOWN if the camera was never reached; else DEGRADED while any other cause is active; else UP.
- :func:`tick` makes it UNKNOWN after ``silent_after`` check intervals without any result. That is
  the supervisor's own failure (stopped scheduler, lost worker), not the camera's: the open
  incident stays open, the state's counters are kept, and availability leaves the time out.
  :func:`lapse` does the same from a given time when the supervisor was stopped or crashed.
- after UNKNOWN, the camera stays UNKNOWN while its checks contradict its last known
  reachability without settling it yet: no UP or DOWN time that the checks did not confirm.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from supervision import recording
from supervision._time import as_utc, from_iso, to_iso
from supervision.conditions import (
    CAMERA_REPORTED,
    PICTURE_PROBLEMS,
    PROBLEM_STATES,
    Cause,
    State,
)
from supervision.incidents import (
    CloseReason,
    Incident,
    IncidentChange,
    IncidentEvent,
    Severity,
    close_incident,
    follow_incident,
    open_incident,
    severity_of,
)

__all__ = [
    "CameraState",
    "Cause",
    "CheckKind",
    "CheckResult",
    "ErrorKind",
    "Event",
    "MaintenanceWindow",
    "Policy",
    "Reason",
    "State",
    "StateChanged",
    "StateError",
    "lapse",
    "step",
    "tick",
]

STATE_FORMAT = 1
"""Version of :meth:`CameraState.to_dict`'s layout, refused if unknown."""


class StateError(ValueError):
    """Bad input to the state machine (result, policy or saved state): the message names it."""


class CheckKind(StrEnum):
    """Which probe produced a result; each observes different things."""

    LIVENESS = "liveness"
    """Cheap and frequent (30 s): reachability and clock offset."""
    FULL = "full"
    """Less often (5 min): authentication, profiles, snapshot and picture health, resolution."""
    STREAM = "stream"
    """On its own schedule: opens the RTSP stream, measures frame rate and resolution."""
    EVENTS = "events"
    """Where the camera offers ONVIF events: what its own analytics and hardware report."""


class ErrorKind(StrEnum):
    """Why a camera could not be reached (for operators and metrics; all count as unreachable)."""

    TIMEOUT = "timeout"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    """No route to the host, host down, DNS failure."""
    TLS = "tls"
    PROTOCOL = "protocol"
    """It answered, but not as an ONVIF device or RTSP server does."""


_OBSERVATIONS = (
    "clock_offset_s",
    "auth_failed",
    "picture_problems",
    "frame_rate",
    "resolution",
    "camera_reported",
    "certificate_changed",
    "recording_active",
    "recording_lag_s",
    "recording_storage_failed",
)


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    """What one check of one camera observed. ``None`` means "not observed by this check".

    An unreachable camera observes nothing else. A stream that cannot be opened on a reachable
    device is reported as ``frame_rate=0.0``.
    """

    camera_id: str
    kind: CheckKind
    time: datetime
    """When the check finished; aware (converted to UTC)."""
    reachable: bool
    error: ErrorKind | None = None
    clock_offset_s: float | None = None
    """Camera clock minus supervisor clock, in seconds."""
    auth_failed: bool | None = None
    picture_problems: frozenset[str] | None = None
    """``ImageReport.problems`` of the snapshot: ``video_loss``, ``frozen``, ``blurred``,
    ``covered``, ``displaced``, ``glare``."""
    frame_rate: float | None = None
    resolution: tuple[int, int] | None = None
    """Width and height measured (snapshot or stream)."""
    expected_resolution: tuple[int, int] | None = None
    """Width and height the catalogue expects (``CameraModel.frame_size``)."""
    certificate_changed: bool | None = None
    """A TLS camera's check: whether it presented another certificate than the pinned one."""
    camera_reported: frozenset[str] | None = None
    """An events check's: the health causes the camera's own events report active now
    (``camera_tamper``, ``storage_failure``...; the others of ``CAMERA_REPORTED`` absent)."""
    recording_active: bool | None = None
    """A Profile G camera's full check: whether a recording job records (None: the camera does
    not record at the edge, or this check did not ask)."""
    recording_lag_s: float | None = None
    """How far the latest recorded data is behind the camera's clock, in seconds."""
    recording_storage_failed: bool | None = None
    """Whether the camera's recording jobs blame its storage."""
    unjudged: frozenset[str] | None = None
    """Picture problems this check could not judge (``displaced`` while a PTZ head is away from
    where its reference was learned): not observed, so left as they were."""
    picture: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)
    """A full check's picture, beyond its problems, for the operator (JSON-ready): ``regime``
    (``day``, ``night``: infrared), ``reference_regime`` (whose reference judged it; None while
    none judges) and ``seen`` (per problem, what was seen: ``supervision.imaging.
    what_was_seen``). Informative: no cause comes from it."""
    interop: tuple[tuple[str, str], ...] | None = None
    """How the camera was talked to, for the operator (a full check's): the authentication
    scheme, whether the clock wants credentials, the media service, and each call found
    unsupported with why. Informative: no cause comes from it."""

    def __post_init__(self) -> None:
        name = f"camera {self.camera_id}: {self.kind} check"
        try:
            object.__setattr__(self, "kind", CheckKind(self.kind))
            object.__setattr__(self, "time", as_utc(self.time, name))
            if self.error is not None:
                object.__setattr__(self, "error", ErrorKind(self.error))
        except ValueError as err:
            raise StateError(f"{name}: {err}") from err
        problems = []
        observed = [n for n in _OBSERVATIONS if getattr(self, n) is not None]
        if not self.reachable and observed:
            problems.append(f"unreachable, yet observed {', '.join(observed)}")
        if self.reachable and self.error is not None:
            problems.append(f"reachable, yet error {self.error}")
        problems += self._number_problems()
        for label, allowed, what in (
            ("picture_problems", PICTURE_PROBLEMS, "picture problem(s)"),
            ("camera_reported", CAMERA_REPORTED, "camera event cause(s)"),
        ):
            if getattr(self, label) is not None:
                values = frozenset(getattr(self, label))
                object.__setattr__(self, label, values)
                unknown = values - {c.value for c in allowed}
                if unknown:
                    problems.append(f"unknown {what} {', '.join(sorted(unknown))}")
        for label in ("resolution", "expected_resolution"):
            size = getattr(self, label)
            if size is not None and (len(size) != 2 or min(size) <= 0):
                problems.append(f"{label} {size} must be (width, height) in pixels")
        if problems:
            raise StateError(f"{name} at {self.time.isoformat()}: {'; '.join(problems)}")

    def _number_problems(self) -> list[str]:
        """What is wrong with the numbers observed (NaN, infinite, a negative frame rate)."""
        problems = [
            f"{what} {seconds} is not a number of seconds"
            for what, seconds in (
                ("clock offset", self.clock_offset_s),
                ("recording lag", self.recording_lag_s),
            )
            if seconds is not None and not math.isfinite(seconds)
        ]
        if self.frame_rate is not None and not (
            math.isfinite(self.frame_rate) and self.frame_rate >= 0
        ):
            problems.append(f"frame rate {self.frame_rate} must be a number >= 0")
        return problems

    def observations(self, policy: Policy) -> dict[Cause, bool]:
        """Each cause this check observed, and whether it was present."""
        seen = {Cause.UNREACHABLE: not self.reachable}
        if not self.reachable:
            return seen
        if self.clock_offset_s is not None:
            seen[Cause.CLOCK_OFFSET] = abs(self.clock_offset_s) > policy.max_clock_offset_s
        if self.auth_failed is not None:
            seen[Cause.AUTH_FAILED] = self.auth_failed
        if self.certificate_changed is not None:
            seen[Cause.CERTIFICATE_CHANGED] = self.certificate_changed
        if self.picture_problems is not None:
            for cause in PICTURE_PROBLEMS:
                if self.unjudged is None or cause.value not in self.unjudged:
                    seen[cause] = cause.value in self.picture_problems
        if self.camera_reported is not None:
            for cause in CAMERA_REPORTED:
                seen[cause] = cause.value in self.camera_reported
        seen.update(self._recording_seen(policy))
        if self.frame_rate is not None:
            seen[Cause.LOW_FRAME_RATE] = self.frame_rate < policy.min_frame_rate
        if self.resolution is not None and self.expected_resolution is not None:
            seen[Cause.WRONG_RESOLUTION] = tuple(self.resolution) != tuple(self.expected_resolution)
        return seen

    def _recording_seen(self, policy: Policy) -> dict[Cause, bool]:
        """The recording causes a Profile G camera's full check observed ({} otherwise)."""
        if self.recording_active is None:
            return {}
        found = recording.problems(
            self.recording_active,
            self.recording_lag_s,
            bool(self.recording_storage_failed),
            max_lag_s=policy.max_recording_lag_s,
        )
        return {cause: cause in found for cause in recording.RECORDING_PROBLEMS}


@dataclass(frozen=True, kw_only=True)
class MaintenanceWindow:
    """A scheduled intervention on one camera, ``[start, end)`` in aware UTC."""

    start: datetime
    end: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "start", as_utc(self.start, "maintenance window start"))
            object.__setattr__(self, "end", as_utc(self.end, "maintenance window end"))
        except ValueError as err:
            raise StateError(str(err)) from err
        if self.end <= self.start:
            raise StateError(
                f"maintenance window {self.start.isoformat()} .. {self.end.isoformat()} "
                "ends before it starts"
            )

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


_DURATIONS = ("close_after", "flap_window", "flap_quiet", "check_interval")


@dataclass(frozen=True, kw_only=True)
class Policy:
    """One camera's thresholds. Defaults debounce 30 s liveness checks and 5 min full checks."""

    down_after: int = 3
    """K: consecutive failed checks before DOWN (90 s at 30 s intervals)."""
    up_after: int = 2
    """J: consecutive successful checks before a DOWN camera is back."""
    degrade_after: int = 2
    """Consecutive checks observing a DEGRADED cause before it counts."""
    restore_after: int = 2
    """Consecutive checks observing it gone before it clears."""
    max_clock_offset_s: float = 5.0
    """Camera clock error beyond which pictures carry a wrong time (arrêté du 3 août 2007)."""
    min_frame_rate: float = 10.0
    max_recording_lag_s: float = recording.DEFAULT_MAX_LAG_S
    """How far behind the camera's clock its latest recorded data may be (Profile G)."""
    close_after: timedelta = timedelta(minutes=5)
    """Time UP before an incident closes: a blip within it reopens nothing."""
    flap_window: timedelta = timedelta(hours=1)
    flap_limit: int = 3
    """A camera that went from UP to DOWN or DEGRADED this many times within ``flap_window``
    is flapping."""
    flap_quiet: timedelta = timedelta(minutes=30)
    """Time UP before a flapping camera's incident closes."""
    check_interval: timedelta = timedelta(seconds=30)
    """The liveness interval, the unit of ``silent_after``."""
    silent_after: int = 5
    """Intervals without any result before :func:`tick` calls the camera UNKNOWN."""
    critical: bool = False
    """The mast's ``critical`` flag: DOWN is then a critical incident."""
    maintenance: tuple[MaintenanceWindow, ...] = ()

    def __post_init__(self) -> None:
        problems = [
            f"{name} must be an integer >= 1 (got {getattr(self, name)!r})"
            for name in ("down_after", "up_after", "degrade_after", "restore_after", "flap_limit")
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1
        ]
        problems += [
            f"{name} must be a duration >= 0 (got {getattr(self, name)!r})"
            for name in _DURATIONS
            if not isinstance(getattr(self, name), timedelta) or getattr(self, name) < timedelta()
        ]
        if self.check_interval <= timedelta() or self.silent_after < 1:
            problems.append("check_interval and silent_after must be > 0")
        for name in ("max_clock_offset_s", "min_frame_rate", "max_recording_lag_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                problems.append(f"{name} must be a number >= 0 (got {value!r})")
        object.__setattr__(self, "maintenance", tuple(self.maintenance))
        if problems:
            raise StateError(f"policy: {'; '.join(problems)}")

    @property
    def silence(self) -> timedelta:
        """How long without a result before the camera is UNKNOWN."""
        return self.check_interval * self.silent_after

    def maintenance_at(self, at: datetime) -> MaintenanceWindow | None:
        return next((w for w in self.maintenance if w.covers(at)), None)

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, Any], *, camera_id: str = "") -> Policy:
        """A policy from per-camera overrides (durations in seconds), unknown keys refused."""
        name = f"camera {camera_id}: policy" if camera_id else "policy"
        known = {f.name for f in fields(cls)} - {"maintenance"}
        unknown = set(overrides) - known
        if unknown:
            raise StateError(f"{name}: unknown setting(s) {', '.join(sorted(unknown))}")
        values = {
            key: timedelta(seconds=float(v)) if key in _DURATIONS else v
            for key, v in overrides.items()
        }
        try:
            return cls(**values)
        except StateError as err:
            raise StateError(f"{name}: {err}") from err


class Reason(StrEnum):
    """What triggered a state change."""

    CHECK = "check"
    MAINTENANCE = "maintenance"
    """A maintenance window began or ended."""
    SILENCE = "silence"
    """No result for ``silent_after`` intervals: the supervisor's fault."""
    UNSUPERVISED = "unsupervised"
    """The supervisor was stopped or crashed: nobody watched from then to the next check."""


@dataclass(frozen=True, kw_only=True)
class StateChanged:
    """The camera's state or its active causes changed at ``at``."""

    camera_id: str
    at: datetime
    previous: State
    state: State
    causes: frozenset[Cause]
    reason: Reason

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "state_changed",
            "camera_id": self.camera_id,
            "at": to_iso(self.at),
            "previous": self.previous.value,
            "state": self.state.value,
            "causes": sorted(c.value for c in self.causes),
            "reason": self.reason.value,
        }


Event = StateChanged | IncidentEvent
"""What :func:`step` and :func:`tick` return, in the order it happened."""


@dataclass(frozen=True, kw_only=True)
class CameraState:
    """Everything the machine remembers of one camera; saved with :meth:`to_dict` after a step."""

    camera_id: str
    state: State = State.UNKNOWN
    since: datetime | None = None
    """When the current state began (``None``: never checked)."""
    causes: frozenset[Cause] = frozenset()
    """Active causes (``unreachable`` among them when DOWN)."""
    pending: Mapping[Cause, int] = field(default_factory=dict)
    """Per cause, consecutive checks that contradict its active/inactive status so far."""
    last_check_at: datetime | None = None
    last_success_at: datetime | None = None
    last_seen: Mapping[CheckKind, datetime] = field(default_factory=dict)
    """Per check kind, the time of the latest result applied: a result replayed after a restart
    (at or before it) is ignored, so redelivery never counts a check twice."""
    onsets: tuple[datetime, ...] = ()
    """Times the camera went from UP to DOWN or DEGRADED within the flap window."""
    incident: Incident | None = None
    """The open incident, if any."""
    incidents_opened: int = 0
    """How many incidents this camera ever opened: the next key is ``camera_id/(n + 1)``."""

    @property
    def flapping(self) -> bool:
        return self.incident is not None and self.incident.flapping

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict: what the database keeps to resume after a restart."""
        return {
            "format": STATE_FORMAT,
            "camera_id": self.camera_id,
            "state": self.state.value,
            "since": to_iso(self.since),
            "causes": sorted(c.value for c in self.causes),
            "pending": {cause.value: n for cause, n in sorted(self.pending.items())},
            "last_check_at": to_iso(self.last_check_at),
            "last_success_at": to_iso(self.last_success_at),
            "last_seen": {kind.value: to_iso(t) for kind, t in sorted(self.last_seen.items())},
            "onsets": [to_iso(t) for t in self.onsets],
            "incident": None if self.incident is None else self.incident.to_dict(),
            "incidents_opened": self.incidents_opened,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CameraState:
        """Read :meth:`to_dict`'s output back; every problem names the camera and the field."""
        name = f"camera {data.get('camera_id', '?')}: saved state"
        if data.get("format") != STATE_FORMAT:
            raise StateError(f"{name}: format {data.get('format')!r}, expected {STATE_FORMAT}")
        unknown = set(data) - {f.name for f in fields(cls)} - {"format"}
        if unknown:
            raise StateError(f"{name}: unknown field(s) {', '.join(sorted(unknown))}")
        try:
            incident = data.get("incident")
            return cls(
                camera_id=str(data["camera_id"]),
                state=State(data["state"]),
                since=from_iso(data.get("since"), "since"),
                causes=frozenset(Cause(c) for c in data.get("causes", ())),
                pending={Cause(c): int(n) for c, n in data.get("pending", {}).items()},
                last_check_at=from_iso(data.get("last_check_at"), "last_check_at"),
                last_success_at=from_iso(data.get("last_success_at"), "last_success_at"),
                last_seen={
                    CheckKind(k): _time(t, f"last_seen.{k}")
                    for k, t in data.get("last_seen", {}).items()
                },
                onsets=tuple(_time(t, "onsets") for t in data.get("onsets", ())),
                incident=None if incident is None else Incident.from_dict(incident),
                incidents_opened=int(data.get("incidents_opened", 0)),
            )
        except KeyError as err:
            raise StateError(f"{name}: missing field {err.args[0]}") from err
        except (ValueError, TypeError, AttributeError) as err:
            raise StateError(f"{name}: {err}") from err


def _time(value: object, what: str) -> datetime:
    parsed = from_iso(value, what)
    if parsed is None:
        raise StateError(f"{what} is required")
    return parsed


def step(
    state: CameraState, result: CheckResult, policy: Policy
) -> tuple[CameraState, list[Event]]:
    """Fold one check result into the camera's state; the events say what changed.

    A result at or before the latest applied result of the same kind is a redelivery and changes
    nothing. Results of different kinds may arrive slightly out of order (a stream check finishing
    after a later liveness check): they are applied, and time-stamped no earlier than the last one.
    """
    if result.camera_id != state.camera_id:
        raise StateError(
            f"result of camera {result.camera_id} applied to the state of camera {state.camera_id}"
        )
    seen = state.last_seen.get(result.kind)
    if seen is not None and result.time <= seen:
        return state, []
    at = result.time if state.last_check_at is None else max(result.time, state.last_check_at)
    causes, pending = _observe(state, result.observations(policy), policy)
    observed = replace(
        state,
        causes=causes,
        pending=pending,
        last_check_at=at,
        last_success_at=at if result.reachable else state.last_success_at,
        last_seen={**state.last_seen, result.kind: result.time},
    )
    return _settle(observed, at, policy, silent=False, announced=state.causes)


def tick(state: CameraState, now: datetime, policy: Policy) -> tuple[CameraState, list[Event]]:
    """Let time pass without a result: maintenance windows, silence, incident quiet periods.

    The scheduler calls it regularly (e.g. once per check interval) for every camera.
    """
    now = as_utc(now, f"camera {state.camera_id}: tick")
    if state.last_check_at is None:
        return _settle(state, now, policy, silent=True, announced=state.causes)
    at = max(now, state.last_check_at)
    silent = at - state.last_check_at > policy.silence
    return _settle(state, at, policy, silent=silent, announced=state.causes)


def lapse(state: CameraState, at: datetime, policy: Policy) -> tuple[CameraState, list[Event]]:
    """Record that nobody watched the camera from ``at`` (the supervisor stopped or crashed).

    The camera becomes UNKNOWN at ``at`` (never before its last check), whatever it was, so
    availability leaves the unwatched time out and no incident's quiet period runs through it:
    the open incident stays open, the counters are kept, and the first checks after the restart
    say what the camera is. A camera in maintenance at ``at``, never checked, or already UNKNOWN
    is left as it is.
    """
    at = as_utc(at, f"camera {state.camera_id}: lapse")
    if state.last_check_at is None or state.state in (State.UNKNOWN, State.MAINTENANCE):
        return state, []
    at = max(at, state.last_check_at)
    if policy.maintenance_at(at) is not None:
        return state, []
    return _settle(state, at, policy, silent=True, announced=state.causes, unsupervised=True)


def _observe(
    state: CameraState, seen: Mapping[Cause, bool], policy: Policy
) -> tuple[frozenset[Cause], dict[Cause, int]]:
    """Apply each cause's hysteresis to what one check observed."""
    active = set(state.causes)
    pending = dict(state.pending)
    for cause, present in seen.items():
        if (cause in active) == present:
            pending.pop(cause, None)
            continue
        count = pending.get(cause, 0) + 1
        if cause is Cause.UNREACHABLE:
            needed = policy.down_after if present else policy.up_after
        else:
            needed = policy.degrade_after if present else policy.restore_after
        if count >= needed:
            (active.add if present else active.discard)(cause)
            pending.pop(cause, None)
        else:
            pending[cause] = count
    return frozenset(active), pending


def _target(state: CameraState, at: datetime, policy: Policy, *, silent: bool) -> State:
    if policy.maintenance_at(at) is not None:
        return State.MAINTENANCE
    if silent:
        return State.UNKNOWN
    if state.state is State.UNKNOWN and Cause.UNREACHABLE in state.pending:
        # after a silence or a stop, the checks have not yet settled whether it is up or down:
        # saying either now would count time the camera may not have spent so
        return State.UNKNOWN
    if Cause.UNREACHABLE in state.causes:
        return State.DOWN
    if state.last_success_at is None:
        return State.UNKNOWN
    return State.DEGRADED if state.causes else State.UP


def _reason(previous: State, target: State, *, silent: bool, unsupervised: bool) -> Reason:
    if State.MAINTENANCE in (previous, target):
        return Reason.MAINTENANCE
    if silent and target is State.UNKNOWN:
        return Reason.UNSUPERVISED if unsupervised else Reason.SILENCE
    return Reason.CHECK


def _settle(
    state: CameraState,
    at: datetime,
    policy: Policy,
    *,
    silent: bool,
    announced: frozenset[Cause],
    unsupervised: bool = False,
) -> tuple[CameraState, list[Event]]:
    """Move the camera to the state its counters and the clock call for; follow its incident."""
    previous = state.state
    target = _target(state, at, policy, silent=silent)
    events: list[Event] = []
    onsets = tuple(t for t in state.onsets if at - t < policy.flap_window)
    onset = previous is State.UP and target in PROBLEM_STATES
    if onset:
        onsets = (*onsets, at)
    if target is not previous or state.causes != announced:
        events.append(
            StateChanged(
                camera_id=state.camera_id,
                at=at,
                previous=previous,
                state=target,
                causes=state.causes,
                reason=_reason(previous, target, silent=silent, unsupervised=unsupervised),
            )
        )
    since = at if target is not previous else state.since
    state = replace(state, state=target, since=since, onsets=onsets)
    state, incident_events = _follow(state, at, policy, returned=onset)
    return state, events + incident_events


def _follow(
    state: CameraState, at: datetime, policy: Policy, *, returned: bool
) -> tuple[CameraState, list[Event]]:
    """Open, update or close the camera's incident after its state moved (or time passed)."""
    incident = state.incident
    flapping = len(state.onsets) >= policy.flap_limit
    if state.state in PROBLEM_STATES:
        severity = severity_of(state.state, state.causes, critical=policy.critical)
        if incident is None:
            return _open(state, at, severity, flapping=flapping)
        return _update(state, incident, at, severity, flapping=flapping, returned=returned)
    if incident is None:
        return state, []
    if state.state is State.MAINTENANCE:
        closed = close_incident(incident, at=at, reason=CloseReason.MAINTENANCE)
        return replace(state, incident=None), [_event(IncidentChange.CLOSED, closed)]
    quiet = policy.flap_quiet if incident.flapping or flapping else policy.close_after
    if state.state is State.UP and state.since is not None and at - state.since >= quiet:
        closed = close_incident(incident, at=at, reason=CloseReason.RECOVERED)
        return replace(state, incident=None), [_event(IncidentChange.CLOSED, closed)]
    return _update(state, incident, at, Severity.MINOR, flapping=flapping, returned=False)


def _open(
    state: CameraState, at: datetime, severity: Severity, *, flapping: bool
) -> tuple[CameraState, list[Event]]:
    number = state.incidents_opened + 1
    opened = open_incident(
        key=f"{state.camera_id}/{number}",
        camera_id=state.camera_id,
        at=at,
        state=state.state,
        causes=state.causes,
        severity=severity,
        flapping=flapping,
    )
    new_state = replace(state, incident=opened, incidents_opened=number)
    return new_state, [_event(IncidentChange.OPENED, opened)]


def _update(
    state: CameraState,
    incident: Incident,
    at: datetime,
    severity: Severity,
    *,
    flapping: bool,
    returned: bool,
) -> tuple[CameraState, list[Event]]:
    followed = follow_incident(
        incident,
        at=at,
        state=state.state,
        causes=state.causes,
        severity=severity,
        flapping=flapping,
        returned=returned,
    )
    if followed is incident:
        return state, []
    return replace(state, incident=followed), [_event(IncidentChange.UPDATED, followed)]


def _event(change: IncidentChange, incident: Incident) -> IncidentEvent:
    return IncidentEvent(change=change, incident=incident)
