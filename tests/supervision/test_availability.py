"""Availability: hand-computed figures per camera, commune, EPCI and Paris month (DST)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from supervision.availability import (
    Availability,
    AvailabilityError,
    Period,
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
    rows = availability_report(
        spans, PLACES, start=utc(2026, 3, 31, 20), end=utc(2026, 4, 1, 2), now=utc(2026, 5, 1)
    )
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
            now=utc(2026, 3, 2),
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


# --- the future is not counted -------------------------------------------------------------------
# Paris months as UTC instants, from the offsets: CET is UTC+1, CEST UTC+2. Summer time starts on
# the last Sunday of March (29 March 2026, 02:00 CET -> 03:00 CEST: that hour does not exist) and
# ends on the last Sunday of October (25 October 2026, 03:00 CEST -> 02:00 CET: that hour is
# lived twice).
MARCH_START = utc(2026, 2, 28, 23)  # 1 March 00:00 CET
SUMMER_TIME = utc(2026, 3, 29, 1)  # 29 March 02:00 CET = 03:00 CEST
APRIL_START = utc(2026, 3, 31, 22)  # 1 April 00:00 CEST
OCTOBER_START = utc(2026, 9, 30, 22)  # 1 October 00:00 CEST
WINTER_TIME = utc(2026, 10, 25, 1)  # 25 October 03:00 CEST = 02:00 CET
NOVEMBER_START = utc(2026, 10, 31, 23)  # 1 November 00:00 CET
ONE_CAMERA = {"c1": Place(commune="27229", epci="200089456")}


def one_row(rows: list, level: str = "camera"):
    (row,) = [r for r in rows if r.level == level]
    return row


@pytest.mark.parametrize(
    ("now", "elapsed_h"),
    [
        (MARCH_START, 0),  # the first instant of the month: nothing has passed yet
        (MARCH_START + timedelta(minutes=30), 0.5),
        (utc(2026, 3, 15, 11), 14 * 24 + 12),  # 15 March 12:00 CET, before the change
        (SUMMER_TIME - timedelta(minutes=1), 28 * 24 + 2 - 1 / 60),  # 29 March 01:59 CET
        # 29 March 04:00 CEST: the local clock says 28 days 4 hours, but 02:00-03:00 was skipped
        (utc(2026, 3, 29, 2), 28 * 24 + 4 - 1),
        (APRIL_START - timedelta(seconds=1), 31 * 24 - 1 - 1 / 3600),  # 31 March 23:59:59 CEST
        (APRIL_START, 31 * 24 - 1),  # the month is over: all of its 743 hours
        (utc(2026, 12, 6, 21, 30), 31 * 24 - 1),  # long after
    ],
)
def test_march_is_observed_until_now_across_summer_time(now: datetime, elapsed_h: float) -> None:
    spans = [span(State.UP, utc(2026, 2, 1))]  # up since February, still up: an open span
    rows = availability_report(spans, ONE_CAMERA, start=MARCH_START, end=APRIL_START, now=now)
    row = one_row(rows)
    assert row.month == "2026-03"
    assert row.period.elapsed_s == pytest.approx(elapsed_h * HOUR)
    assert row.period.elapsed_share == pytest.approx(elapsed_h / 743)
    assert row.period.observed_until == min(now, APRIL_START)
    assert (row.period.start, row.period.end) == (MARCH_START, APRIL_START)
    # The open span stops at now: up for the time passed, and not one second of the future.
    assert row.availability.up_s == pytest.approx(elapsed_h * HOUR)
    assert row.availability.unknown_s == pytest.approx(0)
    assert row.availability.ratio == (1.0 if elapsed_h else None)
    figures = row.to_dict()
    assert figures["elapsed_s"] == row.period.elapsed_s
    assert figures["observed_until"] == min(now, APRIL_START).isoformat()


@pytest.mark.parametrize(
    ("now", "elapsed_h"),
    [
        (OCTOBER_START + timedelta(hours=1), 1),
        (WINTER_TIME - timedelta(hours=1), 24 * 24 + 2),  # 25 October 02:00 CEST
        # 25 October 03:00 CET: the local clock says 24 days 3 hours, but 02:00-03:00 came twice
        (WINTER_TIME + timedelta(hours=1), 24 * 24 + 3 + 1),
        (NOVEMBER_START, 31 * 24 + 1),  # over: all of its 745 hours
    ],
)
def test_october_is_observed_until_now_across_winter_time(now: datetime, elapsed_h: float) -> None:
    went_down = OCTOBER_START + timedelta(minutes=30)
    spans = [span(State.UP, utc(2026, 9, 1), went_down), span(State.DOWN, went_down)]
    rows = availability_report(spans, ONE_CAMERA, start=OCTOBER_START, end=NOVEMBER_START, now=now)
    row = one_row(rows)
    assert row.period.elapsed_s == pytest.approx(elapsed_h * HOUR)
    assert row.period.elapsed_share == pytest.approx(elapsed_h / 745)
    assert row.availability.up_s == 0.5 * HOUR
    assert row.availability.down_s == pytest.approx((elapsed_h - 0.5) * HOUR)
    assert row.availability.ratio == pytest.approx(0.5 / elapsed_h)


def test_a_camera_seen_first_during_the_month_is_unknown_before_and_up_until_now() -> None:
    # The demo's case: a database a few minutes old, on 6 December at 22:30 in Paris.
    december, january = utc(2026, 11, 30, 23), utc(2026, 12, 31, 23)
    first_check, now = utc(2026, 12, 6, 21, 20), utc(2026, 12, 6, 21, 30)
    spans = [span(State.UP, first_check)]
    rows = availability_report(spans, ONE_CAMERA, start=december, end=january, now=now)
    figures = one_row(rows).availability
    assert figures.up_s == 600  # ten minutes, not the rest of December
    assert figures.unknown_s == (first_check - december).total_seconds()
    assert figures.up_s + figures.unknown_s == one_row(rows).period.elapsed_s
    assert figures.ratio == 1.0
    assert figures.observed == pytest.approx(600 / (now - december).total_seconds())


def test_groups_cover_the_same_elapsed_time_as_their_cameras() -> None:
    now = utc(2026, 3, 10, 12)
    spans = [span(State.UP, utc(2026, 2, 1)), span(State.DOWN, utc(2026, 3, 5), camera="c4")]
    rows = availability_report(spans, PLACES, start=MARCH_START, end=APRIL_START, now=now)
    elapsed = (now - MARCH_START).total_seconds()
    assert {r.period.elapsed_s for r in rows} == {elapsed}
    everything = one_row(rows, "all").availability
    seconds = everything.counted_s + everything.maintenance_s + everything.unknown_s
    assert seconds == pytest.approx(len(PLACES) * elapsed)
    assert everything.up_s == elapsed
    assert everything.down_s == (now - utc(2026, 3, 5)).total_seconds()


def test_a_month_to_come_is_listed_with_nothing_observed() -> None:
    spans = [span(State.UP, utc(2026, 2, 1))]
    now = utc(2026, 3, 20)
    rows = availability_report(spans, PLACES, start=MARCH_START, end=utc(2026, 4, 30, 22), now=now)
    assert sorted({r.month for r in rows}) == ["2026-03", "2026-04"]
    april = [r for r in rows if r.month == "2026-04"]
    assert len(april) == len([r for r in rows if r.month == "2026-03"])
    for row in april:
        assert row.availability == Availability()
        assert row.availability.ratio is None and row.availability.observed is None
        assert row.period.elapsed_s == 0 and row.period.elapsed_share == 0
        assert row.period.observed_until == APRIL_START == row.period.start
    (march,) = [r for r in rows if (r.month, r.key) == ("2026-03", "c1")]
    assert march.availability.up_s == (now - MARCH_START).total_seconds()


def test_a_period_is_clipped_to_now_and_refuses_naive_times() -> None:
    start, end = utc(2026, 3, 1), utc(2026, 3, 3)
    assert Period.seen_at(start, end, utc(2026, 3, 2)).elapsed_share == 0.5
    assert Period.seen_at(start, end, utc(2026, 2, 1)).observed_until == start
    assert Period.seen_at(start, end, utc(2027, 1, 1)).observed_until == end
    with pytest.raises(ValueError, match="now: naive"):
        Period.seen_at(start, end, datetime(2026, 3, 2))
