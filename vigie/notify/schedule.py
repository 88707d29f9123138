"""On-call hours: weekdays and time ranges in Europe/Paris, where the centre's people live. Pure.

A range is ``{"days": [1, ..., 7], "start": "HH:MM", "end": "HH:MM"}`` (ISO weekdays, 1 is
Monday). ``end`` at or before ``start`` runs past midnight into the next day: ``18:00``-``08:00``
on Friday covers Friday evening and Saturday morning; ``00:00``-``00:00`` is the whole day. An
empty schedule means always.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def parse_hhmm(text: str) -> time:
    """``HH:MM`` (00:00 to 23:59) as a time; ValueError otherwise."""
    hours, sep, minutes = text.partition(":")
    if not sep or len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isdigit():
        raise ValueError(f"expected HH:MM, got {text!r}")
    return time(int(hours), int(minutes))


def in_range(entry: Mapping, local: datetime) -> bool:
    """Whether the Paris wall-clock ``local`` falls inside one range."""
    days = set(entry["days"])
    start, end = parse_hhmm(entry["start"]), parse_hhmm(entry["end"])
    now, today = local.time(), local.isoweekday()
    if start < end:
        return today in days and start <= now < end
    yesterday = (local - timedelta(days=1)).isoweekday()
    return (today in days and now >= start) or (yesterday in days and now < end)


def on_call(schedule: Iterable[Mapping], moment: datetime) -> bool:
    """Whether ``moment`` (aware, any zone) is inside the schedule; an empty one is always."""
    entries = list(schedule)
    if not entries:
        return True
    local = moment.astimezone(PARIS)
    return any(in_range(entry, local) for entry in entries)
