"""Availability of cameras over a period, per camera, commune, intercommunality and local month.

Computed from the state history (spans of time a camera spent in one state), not from incidents:
an incident stays open through its quiet period while the camera is already UP, so it would
undercount. What counts, per camera over ``[start, end)``:

- **available**: time UP or DEGRADED (the camera films; a DEGRADED picture is still recorded);
- **unavailable**: time DOWN;
- **left out**: time in MAINTENANCE (scheduled, agreed downtime) and time UNKNOWN, which includes
  time before the camera's first state and gaps in its history. UNKNOWN is the supervisor's blind
  spot (never checked, or not checked for too long): it is neither held against the camera nor
  credited to it, and :attr:`Availability.observed` says how much of the period it covers.

``ratio = available / (available + DOWN)``, ``None`` when nothing was observed. A group (commune,
intercommunality, whole report) adds the seconds of its cameras, so its ratio is weighted by
observed camera-time. Months are calendar months in Europe/Paris: March 2026 lasts 743 hours and
October 2026 745 (daylight saving time), and their boundaries are local midnights.

The future is never counted: a report is computed at a given ``now`` (passed in, never read from
a clock here), and a period that ends after it is observed only until ``now``. A camera's last,
still open state stops at ``now`` instead of running on to the month's end, so a month in progress
shows the hours that have passed, and :class:`Period` says how much of the month that is. A period
that has not started yet is observed for zero seconds: its rows are there, with every figure at
zero and no ratio.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from supervision._time import as_utc, to_iso
from supervision.conditions import State
from supervision.states import Event, StateChanged

__all__ = [
    "PARIS",
    "Availability",
    "AvailabilityError",
    "Month",
    "Period",
    "Place",
    "ReportRow",
    "StateSpan",
    "availability_report",
    "by_commune",
    "by_epci",
    "camera_availability",
    "local_months",
    "spans_from_events",
]

PARIS = ZoneInfo("Europe/Paris")


class AvailabilityError(ValueError):
    """The state history or the places are inconsistent: the message names the camera."""


@dataclass(frozen=True, kw_only=True)
class StateSpan:
    """A camera in ``state`` from ``start`` to ``end`` (``None``: still in it)."""

    camera_id: str
    state: State
    start: datetime
    end: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Availability:
    """Seconds spent in each state over a period, and the ratios derived from them."""

    up_s: float = 0.0
    degraded_s: float = 0.0
    down_s: float = 0.0
    maintenance_s: float = 0.0
    unknown_s: float = 0.0

    @property
    def available_s(self) -> float:
        return self.up_s + self.degraded_s

    @property
    def counted_s(self) -> float:
        """The denominator: observed time outside maintenance."""
        return self.available_s + self.down_s

    @property
    def ratio(self) -> float | None:
        """Available time over counted time; ``None`` when the camera was never observed."""
        return self.available_s / self.counted_s if self.counted_s > 0 else None

    @property
    def observed(self) -> float | None:
        """Share of the time observed so far, outside maintenance, whose state is known."""
        outside = self.counted_s + self.unknown_s
        return self.counted_s / outside if outside > 0 else None

    def __add__(self, other: Availability) -> Availability:
        return Availability(
            up_s=self.up_s + other.up_s,
            degraded_s=self.degraded_s + other.degraded_s,
            down_s=self.down_s + other.down_s,
            maintenance_s=self.maintenance_s + other.maintenance_s,
            unknown_s=self.unknown_s + other.unknown_s,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "up_s": self.up_s,
            "degraded_s": self.degraded_s,
            "down_s": self.down_s,
            "maintenance_s": self.maintenance_s,
            "unknown_s": self.unknown_s,
            "ratio": self.ratio,
            "observed": self.observed,
        }


_FIELD = {
    State.UP: "up_s",
    State.DEGRADED: "degraded_s",
    State.DOWN: "down_s",
    State.MAINTENANCE: "maintenance_s",
    State.UNKNOWN: "unknown_s",
}


def spans_from_events(events: Iterable[Event]) -> list[StateSpan]:
    """The state history written by :func:`~supervision.states.step` and ``tick`` events.

    Each camera's last span is open (``end=None``); a change of causes alone does not split a span.
    """
    current: dict[str, StateSpan] = {}
    spans: list[StateSpan] = []
    for event in events:
        if not isinstance(event, StateChanged):
            continue
        open_span = current.get(event.camera_id)
        if open_span is not None:
            if event.at < open_span.start:
                raise AvailabilityError(
                    f"camera {event.camera_id}: state change at {to_iso(event.at)} comes before "
                    f"the previous one at {to_iso(open_span.start)}"
                )
            if event.state is open_span.state:
                continue
            spans.append(_closed(open_span, event.at))
        current[event.camera_id] = StateSpan(
            camera_id=event.camera_id, state=event.state, start=event.at
        )
    return spans + list(current.values())


def _closed(span: StateSpan, end: datetime) -> StateSpan:
    return StateSpan(camera_id=span.camera_id, state=span.state, start=span.start, end=end)


def camera_availability(
    spans: Iterable[StateSpan],
    *,
    start: datetime,
    end: datetime,
    cameras: Iterable[str] = (),
) -> dict[str, Availability]:
    """Availability of every camera of ``spans`` (and of ``cameras``) over ``[start, end)``.

    A camera listed in ``cameras`` without any span is UNKNOWN for the whole period. Overlapping
    spans of one camera are refused: the history would count some time twice.
    """
    start, end = _period(start, end)
    per_camera: dict[str, list[StateSpan]] = {camera_id: [] for camera_id in cameras}
    for span in spans:
        per_camera.setdefault(span.camera_id, []).append(span)
    return {
        camera_id: _one_camera(camera_id, history, start, end)
        for camera_id, history in per_camera.items()
    }


def _one_camera(
    camera_id: str, history: list[StateSpan], start: datetime, end: datetime
) -> Availability:
    seconds = dict.fromkeys(_FIELD.values(), 0.0)
    history = sorted(history, key=lambda s: as_utc(s.start, f"camera {camera_id}: span start"))
    for before, after in pairwise(history):
        if before.end is None or before.end > after.start:
            raise AvailabilityError(
                f"camera {camera_id}: {before.state} from {to_iso(before.start)} overlaps "
                f"{after.state} from {to_iso(after.start)}"
            )
    for span in history:
        span_end = end if span.end is None else as_utc(span.end, f"camera {camera_id}: span end")
        if span.end is not None and span_end < span.start:
            raise AvailabilityError(
                f"camera {camera_id}: {span.state} span ends at {to_iso(span_end)}, "
                f"before it starts at {to_iso(span.start)}"
            )
        lo, hi = max(span.start, start), min(span_end, end)
        if hi > lo:
            seconds[_FIELD[span.state]] += (hi - lo).total_seconds()
    known = sum(seconds.values())
    seconds["unknown_s"] += (end - start).total_seconds() - known
    return Availability(**seconds)


def _period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = as_utc(start, "period start"), as_utc(end, "period end")
    if end <= start:
        raise AvailabilityError(f"period {to_iso(start)} .. {to_iso(end)} is empty")
    return start, end


@dataclass(frozen=True, kw_only=True)
class Place:
    """Where a camera is: its commune (INSEE code) and intercommunality (EPCI SIREN)."""

    commune: str
    epci: str


def by_commune(
    per_camera: Mapping[str, Availability], places: Mapping[str, Place]
) -> dict[str, Availability]:
    """Availability per commune: the seconds of its cameras added up."""
    return _group(per_camera, places, lambda place: place.commune)


def by_epci(
    per_camera: Mapping[str, Availability], places: Mapping[str, Place]
) -> dict[str, Availability]:
    """Availability per intercommunality: the seconds of its cameras added up."""
    return _group(per_camera, places, lambda place: place.epci)


def _group(
    per_camera: Mapping[str, Availability],
    places: Mapping[str, Place],
    key: Callable[[Place], str],
) -> dict[str, Availability]:
    missing = sorted(set(per_camera) - set(places))
    if missing:
        raise AvailabilityError(f"camera(s) without a commune: {', '.join(missing)}")
    groups: dict[str, Availability] = {}
    for camera_id, availability in per_camera.items():
        name = key(places[camera_id])
        groups[name] = groups.get(name, Availability()) + availability
    return groups


@dataclass(frozen=True, kw_only=True)
class Month:
    """A local calendar month (``"2026-03"``), as a UTC interval clipped to the report's period."""

    label: str
    start: datetime
    end: datetime

    @property
    def hours(self) -> float:
        return (self.end - self.start) / timedelta(hours=1)


@dataclass(frozen=True, kw_only=True)
class Period:
    """A period ``[start, end)`` as seen at some moment: observed from ``start`` to
    ``observed_until``, which is ``end`` once the period is over and ``start`` before it begins."""

    start: datetime
    end: datetime
    observed_until: datetime

    @classmethod
    def seen_at(cls, start: datetime, end: datetime, now: datetime) -> Period:
        """``[start, end)`` as it stands at ``now``: what comes after ``now`` is not observed."""
        start, end = _period(start, end)
        now = as_utc(now, "now")
        return cls(start=start, end=end, observed_until=min(max(now, start), end))

    @property
    def length_s(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def elapsed_s(self) -> float:
        """Seconds of the period that have passed: the most any camera can have been observed."""
        return (self.observed_until - self.start).total_seconds()

    @property
    def elapsed_share(self) -> float:
        """Share of the period that has passed, from 0 (not begun) to 1 (over)."""
        return self.elapsed_s / self.length_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "period_start": to_iso(self.start),
            "period_end": to_iso(self.end),
            "observed_until": to_iso(self.observed_until),
            "elapsed_s": self.elapsed_s,
            "elapsed_share": self.elapsed_share,
        }


def local_months(start: datetime, end: datetime, *, tz: ZoneInfo = PARIS) -> list[Month]:
    """The local calendar months overlapping ``[start, end)``, each clipped to it."""
    start, end = _period(start, end)
    local = start.astimezone(tz)
    year, month = local.year, local.month
    months = []
    while True:
        first = datetime(year, month, 1, tzinfo=tz).astimezone(start.tzinfo)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        following = datetime(year, month, 1, tzinfo=tz).astimezone(start.tzinfo)
        if first >= end:
            return months
        months.append(
            Month(
                label=f"{first.astimezone(tz):%Y-%m}",
                start=max(first, start),
                end=min(following, end),
            )
        )


@dataclass(frozen=True, kw_only=True)
class ReportRow:
    """One line of an availability report: a month, a level, who, the figures, and how much of
    the month (clipped to the report's period) they cover."""

    month: str
    level: str
    """``camera``, ``commune``, ``epci`` or ``all``."""
    key: str
    availability: Availability
    period: Period

    def to_dict(self) -> dict[str, Any]:
        return (
            {"month": self.month, "level": self.level, "key": self.key}
            | self.availability.to_dict()
            | self.period.to_dict()
        )


def availability_report(
    spans: Iterable[StateSpan],
    places: Mapping[str, Place],
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    tz: ZoneInfo = PARIS,
) -> list[ReportRow]:
    """Per local month: every camera of ``places``, every commune, every EPCI, and all of them,
    observed until ``now`` at the latest (the future is not counted, see the module's docstring).

    Spans of cameras missing from ``places`` are refused (they would vanish from the totals).
    """
    spans = list(spans)
    unplaced = sorted({s.camera_id for s in spans} - set(places))
    if unplaced:
        raise AvailabilityError(f"camera(s) without a commune: {', '.join(unplaced)}")
    rows = []
    for month in local_months(start, end, tz=tz):
        period = Period.seen_at(month.start, month.end, now)
        if period.elapsed_s > 0:
            per_camera = camera_availability(
                spans, start=period.start, end=period.observed_until, cameras=places
            )
        else:  # not begun: nothing observed yet
            per_camera = dict.fromkeys(places, Availability())
        levels = (
            ("camera", per_camera),
            ("commune", by_commune(per_camera, places)),
            ("epci", by_epci(per_camera, places)),
            ("all", {"all": sum(per_camera.values(), Availability())}),
        )
        rows += [
            ReportRow(month=month.label, level=level, key=key, availability=figures, period=period)
            for level, groups in levels
            for key, figures in sorted(groups.items())
        ]
    return rows
