"""On-call hours in Europe/Paris and which rule an incident gets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vigie.models import NotificationRule
from vigie.notify.rules import matching_rule
from vigie.notify.schedule import on_call, parse_hhmm

NIGHTS = [{"days": [1, 2, 3, 4, 5], "start": "18:00", "end": "08:00"}]
WEEKEND = [{"days": [6, 7], "start": "00:00", "end": "00:00"}]


def paris(text: str) -> datetime:
    """A UTC instant given as Paris wall-clock time in winter (UTC+1)."""
    local = datetime.fromisoformat(text)
    return local.replace(tzinfo=UTC) - (datetime(2000, 1, 1, 1) - datetime(2000, 1, 1))


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-03-02T17:59", False),  # Monday, before the night
        ("2026-03-02T18:00", True),  # Monday night starts
        ("2026-03-03T07:59", True),  # ... and runs into Tuesday morning
        ("2026-03-03T08:00", False),
        ("2026-03-07T07:00", True),  # Saturday morning ends Friday's night
        ("2026-03-07T20:00", False),  # Saturday evening: not a weekday night
        ("2026-03-09T07:00", False),  # Monday morning: Sunday had no night range
    ],
)
def test_a_night_range_runs_past_midnight(moment: str, expected: bool) -> None:
    assert on_call(NIGHTS, paris(moment)) is expected


def test_whole_days_empty_schedules_and_summer_time() -> None:
    assert on_call(WEEKEND, paris("2026-03-07T12:00"))
    assert on_call(WEEKEND, paris("2026-03-08T23:59"))
    assert not on_call(WEEKEND, paris("2026-03-09T00:00"))
    assert on_call([], paris("2026-03-09T00:00"))
    # 17:30 UTC on a July Monday is 19:30 in Paris (UTC+2): on call
    assert on_call(NIGHTS, datetime(2026, 7, 6, 17, 30, tzinfo=UTC))
    assert not on_call(NIGHTS, datetime(2026, 7, 6, 15, 30, tzinfo=UTC))


@pytest.mark.parametrize("text", ["8:00", "24:00", "12:60", "ab:cd", "1200"])
def test_times_are_hh_mm(text: str) -> None:
    with pytest.raises(ValueError):
        parse_hhmm(text)


def _rule(rule_id: int, **fields: object) -> NotificationRule:
    values: dict[str, object] = {"severities": [], "communes": [], "schedule": [], "active": True}
    values.update(fields)
    return NotificationRule(id=rule_id, name=f"r{rule_id}", levels=[], **values)


def test_the_most_specific_rule_on_call_wins() -> None:
    day = paris("2026-03-02T10:00")
    everywhere = _rule(1)
    nights = _rule(2, schedule=NIGHTS, communes=["27056"])
    evreux = _rule(3, communes=["27229"], severities=["critical"])
    off = _rule(4, communes=["27056"], active=False)
    rules = [everywhere, nights, evreux, off]
    assert matching_rule(rules, "major", "27056", day) is everywhere
    assert matching_rule(rules, "major", "27056", paris("2026-03-02T22:00")) is nights
    assert matching_rule(rules, "critical", "27229", day) is evreux
    assert matching_rule(rules, "minor", "27229", day) is everywhere
    assert matching_rule([nights, evreux], "minor", "27681", day) is None
