"""Availability: hand-computed figures per camera, commune, EPCI and Paris month (DST)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from supervision.availability import (
    Availability,
    AvailabilityError,
    Place,
    StateSpan,
    availability_report,
    by_commune,
    by_epci,
    camera_availability,
    local_months,
    spans_from_events,
)
from supervision.states import State, StateChanged
from tests.helpers.timeline import CAMERA, at, liveness_run, run

HOUR = 3600.0


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def span(state: State, start: datetime, end: datetime | None = None, camera: str = "c1"):
    return StateSpan(camera_id=camera, state=state, start=start, end=end)


def test_march_has_743_hours_in_paris_and_one_percent_down_is_99_percent() -> None:
    (march,) = local_months(utc(2026, 3, 5), utc(2026, 3, 6))
    assert march.label == "2026-03"
    assert (march.start, march.end) == (utc(2026, 3, 5), utc(2026, 3, 6)), "clipped"
    (march,) = local_months(utc(2026, 2, 28, 23), utc(2026, 3, 31, 22))
    assert march.hours == 743
    down_start = utc(2026, 3, 10)
    down_end = down_start + timedelta(seconds=26_748)  # 1 % of 743 h
    spans = [
        span(State.UP, utc(2026, 2, 20), down_start),
        span(State.DOWN, down_start, down_end),
        span(State.UP, down_end),
    ]
    figures = camera_availability(spans, start=march.start, end=march.end)["c1"]
    assert figures.down_s == 26_748
    assert figures.up_s == 743 * HOUR - 26_748
    assert figures.ratio == pytest.approx(0.99, abs=1e-12)
    assert figures.observed == 1.0


def test_october_has_745_hours_and_maintenance_is_left_out() -> None:
    months = local_months(utc(2026, 9, 30, 22), utc(2026, 10, 31, 23))
    assert [(m.label, m.hours) for m in months] == [("2026-10", 745)]
    october = months[0]
    spans = [
        span(State.UP, utc(2026, 9, 1), utc(2026, 10, 12, 8)),
        span(State.MAINTENANCE, utc(2026, 10, 12, 8), utc(2026, 10, 12, 13)),
        span(State.DOWN, utc(2026, 10, 12, 13), utc(2026, 10, 12, 20, 27)),
        span(State.UP, utc(2026, 10, 12, 20, 27)),
    ]
    figures = camera_availability(spans, start=october.start, end=october.end)["c1"]
    assert figures.maintenance_s == 5 * HOUR
    assert figures.counted_s == 740 * HOUR
    assert figures.down_s == 7.45 * HOUR
    assert figures.ratio == pytest.approx(1 - 7.45 / 740)


def test_what_counts_over_one_day() -> None:
    day = utc(2026, 6, 1)
    spans = [  # nothing known from 00:00 to 06:00
        span(State.UP, day + timedelta(hours=6), day + timedelta(hours=10)),
        span(State.DEGRADED, day + timedelta(hours=10), day + timedelta(hours=12)),
        span(State.MAINTENANCE, day + timedelta(hours=12), day + timedelta(hours=14)),
        span(State.DOWN, day + timedelta(hours=14), day + timedelta(hours=17)),
        span(State.UNKNOWN, day + timedelta(hours=17), day + timedelta(hours=18)),
        span(State.UP, day + timedelta(hours=18)),
    ]
    figures = camera_availability(spans, start=day, end=day + timedelta(days=1))["c1"]
    assert figures == Availability(
        up_s=10 * HOUR,
        degraded_s=2 * HOUR,
        down_s=3 * HOUR,
        maintenance_s=2 * HOUR,
        unknown_s=7 * HOUR,
    )
    assert figures.available_s == 12 * HOUR, "DEGRADED still films"
    assert figures.ratio == pytest.approx(12 / 15)
    assert figures.observed == pytest.approx(15 / 22)


def test_a_camera_never_observed_has_no_ratio() -> None:
    figures = camera_availability([], start=utc(2026, 6, 1), end=utc(2026, 6, 2), cameras=["c9"])
    assert figures["c9"].unknown_s == 24 * HOUR
    assert figures["c9"].ratio is None
    assert figures["c9"].observed is None or figures["c9"].observed == 0.0


PLACES = {
    "c1": Place(commune="27229", epci="200089456"),
    "c2": Place(commune="27229", epci="200089456"),
    "c3": Place(commune="27056", epci="200089456"),
    "c4": Place(commune="27375", epci="200070407"),
}


def test_groups_add_up_camera_time() -> None:
    per_camera = {
        "c1": Availability(up_s=10 * HOUR),
        "c2": Availability(up_s=5 * HOUR, down_s=5 * HOUR),
        "c3": Availability(up_s=6 * HOUR, degraded_s=2 * HOUR, down_s=2 * HOUR),
        "c4": Availability(down_s=4 * HOUR, unknown_s=6 * HOUR),
    }
    communes = by_commune(per_camera, PLACES)
    assert {k: v.ratio for k, v in communes.items()} == {"27229": 0.75, "27056": 0.8, "27375": 0.0}
    epcis = by_epci(per_camera, PLACES)
    assert epcis["200089456"].ratio == pytest.approx(23 / 30)
    assert epcis["200070407"].ratio == 0.0
    assert epcis["200070407"].observed == 0.4
    with pytest.raises(AvailabilityError, match="without a commune: c5"):
        by_commune(per_camera | {"c5": Availability()}, PLACES)


def test_report_splits_at_local_midnight_of_the_first() -> None:
    # 2026-04-01 00:00 in Paris (CEST) is 2026-03-31 22:00 UTC.
    spans = [
        span(State.UP, utc(2026, 3, 1), utc(2026, 3, 31, 21, 30)),
        span(State.DOWN, utc(2026, 3, 31, 21, 30), utc(2026, 3, 31, 22, 30)),
        span(State.UP, utc(2026, 3, 31, 22, 30)),
        span(State.UP, utc(2026, 3, 1), camera="c4"),
    ]
    rows = availability_report(spans, PLACES, start=utc(2026, 3, 31, 20), end=utc(2026, 4, 1, 2))
    table = {(r.month, r.level, r.key): r.availability for r in rows}
    assert table["2026-03", "camera", "c1"].ratio == 0.75
    assert table["2026-04", "camera", "c1"].ratio == 0.875
    assert table["2026-03", "camera", "c2"].ratio is None, "listed in places, never seen"
    assert table["2026-03", "commune", "27229"].ratio == 0.75
    assert table["2026-04", "epci", "200070407"].ratio == 1.0
    assert table["2026-04", "all", "all"].ratio == pytest.approx((3.5 + 4) / 8)
    assert {r.level for r in rows} == {"camera", "commune", "epci", "all"}
    assert len(rows) == 2 * (4 + 3 + 2 + 1)
    assert rows[0].to_dict()["month"] == "2026-03"


def test_report_refuses_a_camera_without_a_place() -> None:
    with pytest.raises(AvailabilityError, match="without a commune: stray"):
        availability_report(
            [span(State.UP, utc(2026, 3, 1), camera="stray")],
            PLACES,
            start=utc(2026, 3, 1),
            end=utc(2026, 3, 2),
        )


def test_spans_from_the_state_machine_events() -> None:
    _, events = run(liveness_run(at(0), [True, False, False, False, True, True]))
    spans = spans_from_events(events)
    assert [(s.state, s.start, s.end) for s in spans] == [
        (State.UP, at(0), at(seconds=90)),
        (State.DOWN, at(seconds=90), at(seconds=150)),
        (State.UP, at(seconds=150), None),
    ]
    figures = camera_availability(spans, start=at(0), end=at(10))[CAMERA]
    assert figures.ratio == pytest.approx(0.9)


def test_a_change_of_causes_alone_does_not_split_a_span() -> None:
    def changed(minute: int, state: State) -> StateChanged:
        return StateChanged(
            camera_id="c1",
            at=at(minute),
            previous=state,
            state=state,
            causes=frozenset(),
            reason="check",
        )

    spans = spans_from_events([changed(0, State.DEGRADED), changed(5, State.DEGRADED)])
    assert spans == [span(State.DEGRADED, at(0))]


@pytest.mark.parametrize(
    ("spans", "message"),
    [
        (
            [span(State.UP, utc(2026, 3, 1), utc(2026, 3, 3)), span(State.DOWN, utc(2026, 3, 2))],
            "camera c1: up from 2026-03-01T00:00:00\\+00:00 overlaps down",
        ),
        ([span(State.UP, utc(2026, 3, 1)), span(State.DOWN, utc(2026, 3, 2))], "overlaps"),
        ([span(State.UP, utc(2026, 3, 2), utc(2026, 3, 1))], "before it starts"),
    ],
)
def test_inconsistent_histories_are_refused(spans: list, message: str) -> None:
    with pytest.raises(AvailabilityError, match=message):
        camera_availability(spans, start=utc(2026, 3, 1), end=utc(2026, 4, 1))


def test_events_out_of_order_are_refused() -> None:
    late = StateChanged(
        camera_id="c1",
        at=at(5),
        previous=State.UNKNOWN,
        state=State.UP,
        causes=frozenset(),
        reason="check",
    )
    early = StateChanged(
        camera_id="c1",
        at=at(1),
        previous=State.UP,
        state=State.DOWN,
        causes=frozenset(),
        reason="check",
    )
    with pytest.raises(AvailabilityError, match="camera c1: state change at"):
        spans_from_events([late, early])


def test_periods_must_be_aware_and_not_empty() -> None:
    with pytest.raises(ValueError, match="naive"):
        camera_availability([], start=datetime(2026, 3, 1), end=utc(2026, 3, 2))
    with pytest.raises(AvailabilityError, match="is empty"):
        local_months(utc(2026, 3, 2), utc(2026, 3, 2))
