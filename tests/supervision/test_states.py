"""The camera state machine: hysteresis, causes, flapping, maintenance, silence, restarts."""

from __future__ import annotations

import itertools
import json
import re
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supervision.availability import camera_availability, spans_from_events
from supervision.incidents import CloseReason, IncidentEvent, Severity
from supervision.states import (
    CameraState,
    Cause,
    CheckKind,
    CheckResult,
    MaintenanceWindow,
    Policy,
    Reason,
    State,
    StateChanged,
    StateError,
    step,
)
from tests.helpers.paths import REPO
from tests.helpers.timeline import (
    CAMERA,
    at,
    full,
    incident_changes,
    incidents_of,
    live,
    liveness_run,
    run,
    states_of,
    stream,
)

# --- hysteresis -----------------------------------------------------------------------------


def test_first_successful_check_makes_a_camera_up() -> None:
    state, events = run([live(at(0))])
    assert state.state is State.UP
    assert events == [
        StateChanged(
            camera_id=CAMERA,
            at=at(0),
            previous=State.UNKNOWN,
            state=State.UP,
            causes=frozenset(),
            reason=Reason.CHECK,
        )
    ]


def test_down_after_k_consecutive_failures_and_not_before() -> None:
    checks = liveness_run(at(0), [True, False, False, False])
    state, events = run(checks[:3])
    assert state.state is State.UP, "two failures are a blip at K=3"
    assert incident_changes(events) == []
    state, events = run(checks[3:], state=state)
    assert state.state is State.DOWN
    assert state.since == at(seconds=90)
    assert incident_changes(events) == ["incident_opened"]
    incident = state.incident
    assert incident is not None
    assert incident.key == f"{CAMERA}/1"
    assert incident.causes == {Cause.UNREACHABLE}
    assert incident.severity is Severity.MAJOR


def test_a_failure_between_successes_resets_the_count() -> None:
    state, events = run(liveness_run(at(0), [True, False, False, True, False, False, True]))
    assert state.state is State.UP
    assert states_of(events) == ["up"]


def test_back_up_after_j_successes_and_incident_closes_after_the_quiet_period() -> None:
    checks = liveness_run(at(0), [True, False, False, False, True])
    state, _ = run(checks)
    assert state.state is State.DOWN, "one success is not enough at J=2"
    state, events = run([live(at(seconds=150))], state=state)
    assert state.state is State.UP
    assert incident_changes(events) == ["incident_updated"]
    assert state.incident is not None and state.incident.state is State.UP
    # Checks every 30 s: still open 4 min 30 s later, closed at 5 min.
    state, events = run([live(at(seconds=150 + 30 * i)) for i in range(1, 10)], state=state)
    assert incident_changes(events) == []
    state, events = run([live(at(seconds=450))], state=state)
    assert incident_changes(events) == ["incident_closed"]
    closed = events[-1].incident
    assert closed.closed_at == at(seconds=450)
    assert closed.close_reason is CloseReason.RECOVERED
    assert state.incident is None


def test_custom_k_and_j() -> None:
    policy = Policy(down_after=5, up_after=1, close_after=timedelta(0))
    state, _ = run(liveness_run(at(0), [True, False, False, False, False]), policy)
    assert state.state is State.UP
    state, events = run([live(at(seconds=150), ok=False)], policy, state)
    assert state.state is State.DOWN
    state, events = run([live(at(seconds=180))], policy, state)
    assert state.state is State.UP
    assert incident_changes(events) == ["incident_closed"], "close_after=0 closes at once"


def test_a_camera_never_reached_stays_unknown_until_k_failures() -> None:
    state, events = run(liveness_run(at(0), [False, False]))
    assert state.state is State.UNKNOWN
    assert events == []
    state, events = run([live(at(seconds=60), ok=False)], state=state)
    assert state.state is State.DOWN
    assert incident_changes(events) == ["incident_opened"]


def test_critical_camera_down_is_a_critical_incident() -> None:
    state, _ = run(liveness_run(at(0), [False] * 3), Policy(critical=True))
    assert state.incident is not None
    assert state.incident.severity is Severity.CRITICAL


# --- DEGRADED causes ----------------------------------------------------------------------------


DEGRADATIONS = {
    "covered picture": (lambda t: full(t, problems={"covered"}), full, Cause.COVERED, "major"),
    "blurred picture": (lambda t: full(t, problems={"blurred"}), full, Cause.BLURRED, "minor"),
    "frozen picture": (lambda t: full(t, problems={"frozen"}), full, Cause.FROZEN, "major"),
    "clock 12 s ahead": (lambda t: live(t, clock=12.0), live, Cause.CLOCK_OFFSET, "minor"),
    "clock 6 s behind": (lambda t: live(t, clock=-6.0), live, Cause.CLOCK_OFFSET, "minor"),
    "authentication": (lambda t: full(t, auth_failed=True), full, Cause.AUTH_FAILED, "major"),
    "4 frames/s": (lambda t: stream(t, fps=4.0), stream, Cause.LOW_FRAME_RATE, "minor"),
    "no stream": (lambda t: stream(t, fps=0.0), stream, Cause.LOW_FRAME_RATE, "minor"),
    "720p instead of 1080p": (
        lambda t: full(t, resolution=(1280, 720)),
        full,
        Cause.WRONG_RESOLUTION,
        "minor",
    ),
}


@pytest.mark.parametrize("name", DEGRADATIONS)
def test_each_cause_degrades_with_hysteresis_and_clears(name: str) -> None:
    bad, good, cause, severity = DEGRADATIONS[name]
    state, _ = run([live(at(0)), bad(at(1))])
    assert state.state is State.UP, "one observation is not enough at degrade_after=2"
    state, events = run([bad(at(2))], state=state)
    assert state.state is State.DEGRADED
    assert state.causes == {cause}
    assert incident_changes(events) == ["incident_opened"]
    assert state.incident is not None and state.incident.severity == severity
    state, _ = run([good(at(3))], state=state)
    assert state.state is State.DEGRADED, "one clean observation is not enough at restore_after=2"
    state, events = run([good(at(4))], state=state)
    assert state.state is State.UP
    assert states_of(events) == ["up"]
    state, events = run([live(at(9))], state=state)
    assert incident_changes(events) == ["incident_closed"]


def test_clock_offset_at_the_threshold_is_fine() -> None:
    state, _ = run([live(at(0), clock=5.0), live(at(1), clock=-5.0), live(at(2), clock=5.0)])
    assert state.state is State.UP


def test_a_check_that_does_not_observe_a_cause_leaves_it_alone() -> None:
    covered = [full(at(1), problems={"covered"}), full(at(2), problems={"covered"})]
    state, _ = run([live(at(0)), *covered, *liveness_run(at(3), [True] * 10)])
    assert state.state is State.DEGRADED, "liveness checks say nothing about the picture"
    assert state.causes == {Cause.COVERED}


def test_causes_changing_while_degraded_update_the_same_incident() -> None:
    state, events = run(
        [
            live(at(0)),
            full(at(5), problems={"blurred"}),
            full(at(10), problems={"blurred"}),
            full(at(15), problems={"blurred", "covered"}),
            full(at(20), problems={"covered"}),
        ]
    )
    assert state.state is State.DEGRADED
    assert state.causes == {Cause.BLURRED, Cause.COVERED}, "blurred needs 2 clean checks to clear"
    state, events = run([full(at(25), problems={"covered"})], state=state)
    assert state.causes == {Cause.COVERED}
    assert incident_changes(events) == ["incident_updated"]
    assert [e.causes for e in events if isinstance(e, StateChanged)] == [{Cause.COVERED}]
    assert len(incidents_of(events)) == 1


def test_degraded_down_degraded_up_is_one_incident() -> None:
    _state, events = run(
        [
            live(at(0)),
            full(at(1), problems={"blurred"}),
            full(at(2), problems={"blurred"}),
            *liveness_run(at(3), [False, False, False, True, True]),
            full(at(6)),
            full(at(7)),
            live(at(12)),
        ]
    )
    assert states_of(events) == ["up", "degraded", "down", "degraded", "up"]
    assert incident_changes(events) == [
        "incident_opened",
        "incident_updated",
        "incident_updated",
        "incident_updated",
        "incident_closed",
    ]
    (incident,) = incidents_of(events).values()
    assert incident.opened_at == at(2)
    assert incident.closed_at == at(12)
    assert incident.seen_causes == {Cause.BLURRED, Cause.UNREACHABLE}
    assert incident.severity is Severity.MAJOR, "the worst severity reached stays"
    assert incident.returns == 0


# --- flapping -----------------------------------------------------------------------------------


def test_a_flapping_camera_raises_one_incident_not_fifty() -> None:
    # 50 cycles of 3 failures then 2 successes, every 30 s: DOWN, UP, DOWN, UP...
    cycles = [False, False, False, True, True] * 50
    state, events = run(liveness_run(at(0), cycles))
    assert states_of(events).count("down") == 50
    incidents = incidents_of(events)
    assert len(incidents) == 1
    (incident,) = incidents.values()
    assert incident.is_open
    assert incident.flapping
    assert incident.returns == 49
    assert sum(isinstance(e, IncidentEvent) and e.incident.flapping for e in events) > 1
    # Stable now: the quiet period for a flapping camera is 30 min, not 5.
    last_up = state.since
    assert last_up is not None
    state, events = run(
        [live(last_up + timedelta(seconds=30 * i)) for i in range(1, 60)], None, state
    )
    assert incident_changes(events) == [], "5 min is not enough for a flapping camera"
    state, events = run([live(last_up + timedelta(minutes=30))], None, state)
    assert incident_changes(events) == ["incident_closed"]
    assert events[-1].incident.closed_at == last_up + timedelta(minutes=30)


def test_slow_flapping_is_caught_at_the_flap_limit() -> None:
    # Down 90 s, up 10 min: each outage closes its incident until the third onset within the
    # hour marks the camera flapping; from then on the same incident stays open.
    cycle = [False, False, False] + [True] * 20
    _state, events = run(liveness_run(at(0), [True] + cycle * 10))
    incidents = incidents_of(events)
    assert sorted(incidents) == [f"{CAMERA}/1", f"{CAMERA}/2", f"{CAMERA}/3"]
    assert [i.close_reason for i in incidents.values()] == [
        CloseReason.RECOVERED,
        CloseReason.RECOVERED,
        None,
    ]
    assert [i.flapping for i in incidents.values()] == [False, False, True]
    assert incidents[f"{CAMERA}/3"].returns == 7


# --- maintenance --------------------------------------------------------------------------------


def _maintenance(start: float, end: float) -> Policy:
    return Policy(maintenance=(MaintenanceWindow(start=at(start), end=at(end), reason="mast"),))


def test_maintenance_closes_the_incident_and_opens_none() -> None:
    policy = _maintenance(10, 40)
    down = liveness_run(at(0), [True, False, False, False])
    inside = liveness_run(at(10), [False] * 59)
    state, events = run([*down, at(10), *inside], policy)
    assert state.state is State.MAINTENANCE
    assert states_of(events) == ["up", "down", "maintenance"]
    assert incident_changes(events) == ["incident_opened", "incident_closed"]
    closed = events[-1]
    assert isinstance(closed, IncidentEvent)
    assert closed.incident.close_reason is CloseReason.MAINTENANCE
    assert closed.at == at(10)
    # Leaving the window re-evaluates: still unreachable, so DOWN and a new incident.
    state, events = run([at(40)], policy, state)
    assert states_of(events) == ["down"]
    assert events[0].reason is Reason.MAINTENANCE
    assert incident_changes(events) == ["incident_opened"]
    assert state.incident is not None and state.incident.key == f"{CAMERA}/2"


def test_a_camera_repaired_during_maintenance_comes_back_up_without_incident() -> None:
    policy = _maintenance(1, 30)
    checks = [live(at(0)), *liveness_run(at(1), [False] * 20), *liveness_run(at(25), [True] * 9)]
    state, events = run([*checks, live(at(30))], policy)
    # Inside the window the causes still follow the checks (unreachable, then cleared).
    changes = [(e.state.value, set(e.causes)) for e in events if isinstance(e, StateChanged)]
    assert changes == [
        ("up", set()),
        ("maintenance", set()),
        ("maintenance", {Cause.UNREACHABLE}),
        ("maintenance", set()),
        ("up", set()),
    ]
    assert incident_changes(events) == []
    assert state.state is State.UP


def test_maintenance_starts_with_a_check_inside_the_window_too() -> None:
    state, events = run([live(at(0)), live(at(15), ok=False)], _maintenance(10, 20))
    assert state.state is State.MAINTENANCE
    assert events[-1].at == at(15)


# --- silence ------------------------------------------------------------------------------------


def test_silence_makes_the_camera_unknown_and_keeps_its_incident() -> None:
    state, _ = run(liveness_run(at(0), [False, False, False]))
    incident = state.incident
    assert incident is not None
    last = at(seconds=60)
    state, events = run([last + timedelta(minutes=2, seconds=30)], state=state)
    assert events == [], "5 intervals of 30 s is not silence yet"
    state, events = run([last + timedelta(minutes=2, seconds=31)], state=state)
    assert states_of(events) == ["unknown"]
    assert events[0].reason is Reason.SILENCE
    assert state.incident is not None and state.incident.key == incident.key
    assert state.incident.state is State.UNKNOWN
    # Checks resume: one success is still not J=2, so neither DOWN (it answered) nor UP (not
    # yet confirmed): it stays UNKNOWN, the same incident goes on.
    state, events = run([live(at(10))], state=state)
    assert state.state is State.UNKNOWN
    assert events == []
    state, events = run([live(at(10, 30))], state=state)
    assert states_of(events) == ["up"]
    assert events[0].at == at(10, 30)
    assert incident_changes(events) == ["incident_updated"]
    assert state.incident.key == incident.key
    assert state.incident.returns == 0, "silence is not a flap"


def test_tick_before_any_check_leaves_the_camera_unknown() -> None:
    state, events = run([at(10)])
    assert state.state is State.UNKNOWN
    assert events == []


# --- ordering, redelivery, bad input -------------------------------------------------------------


def test_a_redelivered_result_is_ignored() -> None:
    checks = liveness_run(at(0), [True, False, False])
    state, _ = run(checks)
    again, events = run(checks, state=state)
    assert again == state
    assert events == []


def test_a_late_result_of_another_kind_is_applied_at_the_latest_time() -> None:
    state, _ = run([live(at(0)), full(at(10), problems={"glare"})])
    state, events = run([stream(at(9), fps=2.0), stream(at(9, 30), fps=2.0)], state=state)
    assert state.causes == {Cause.LOW_FRAME_RATE}, "glare was seen once: not enough"
    assert state.state is State.DEGRADED
    assert all(e.at >= at(10) for e in events)


def test_a_result_of_another_camera_is_refused() -> None:
    with pytest.raises(StateError, match="camera other"):
        step(CameraState(camera_id=CAMERA), live(at(0), camera="other"), Policy())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"time": datetime(2026, 3, 2, 8)}, "naive datetime"),
        ({"reachable": False, "clock_offset_s": 1.0}, "unreachable, yet observed clock_offset_s"),
        ({"picture_problems": frozenset({"smudged"})}, "unknown picture problem"),
        ({"frame_rate": -1.0}, "frame rate"),
        ({"clock_offset_s": float("nan")}, "clock offset"),
        ({"resolution": (0, 1080)}, "resolution"),
        ({"kind": "ping"}, "ping"),
    ],
)
def test_bad_results_are_refused_naming_the_camera(fields: dict, message: str) -> None:
    values = {"camera_id": "cam-9", "kind": CheckKind.FULL, "time": at(0), "reachable": True}
    with pytest.raises(StateError, match=message) as caught:
        CheckResult(**(values | fields))
    assert "cam-9" in str(caught.value)


def test_policy_problems_are_all_reported() -> None:
    with pytest.raises(StateError) as caught:
        Policy(down_after=0, flap_quiet=timedelta(seconds=-1), min_frame_rate=-2)
    assert "down_after" in str(caught.value)
    assert "flap_quiet" in str(caught.value)
    assert "min_frame_rate" in str(caught.value)


def test_policy_from_overrides() -> None:
    policy = Policy.from_overrides({"down_after": 4, "close_after": 60}, camera_id="cam-9")
    assert policy.down_after == 4
    assert policy.close_after == timedelta(minutes=1)
    with pytest.raises(StateError, match=r"camera cam-9: policy: unknown setting\(s\) downafter"):
        Policy.from_overrides({"downafter": 4}, camera_id="cam-9")


def test_maintenance_window_must_end_after_it_starts() -> None:
    with pytest.raises(StateError, match="ends before it starts"):
        MaintenanceWindow(start=at(10), end=at(10))


# --- saving and restoring -----------------------------------------------------------------------


def test_state_round_trips_through_json() -> None:
    checks = [live(at(0)), full(at(1), problems={"glare"}), stream(at(1, 30), fps=3.0)]
    state, _ = run([*checks, *liveness_run(at(2), [False] * 3)])
    assert state.incident is not None and state.pending
    restored = CameraState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert restored == state


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": 99}, "format 99"),
        ({"state": "sleeping"}, "sleeping"),
        ({"colour": "red"}, "unknown field"),
        ({"since": "yesterday"}, "since"),
        ({"incident": {"key": "x"}}, "incident x: missing field"),
    ],
)
def test_a_bad_saved_state_is_refused_naming_the_camera(change: dict, message: str) -> None:
    saved = CameraState(camera_id="cam-9").to_dict() | change
    with pytest.raises(StateError, match=message) as caught:
        CameraState.from_dict(saved)
    assert "camera cam-9" in str(caught.value)


def test_restart_in_the_middle_of_an_incident_gives_the_same_events() -> None:
    items = [
        live(at(0)),
        *liveness_run(at(1), [False, False, False, True, True, False, False, False]),
        full(at(6), problems={"covered"}),
        full(at(7), problems={"covered"}),
        *liveness_run(at(8), [True] * 80),
    ]
    _, straight = run(items)
    for cut in range(len(items)):
        before, first = run(items[:cut])
        restored = CameraState.from_dict(json.loads(json.dumps(before.to_dict())))
        # At-least-once delivery: the scheduler may hand the last results over again.
        _, replayed = run(items[max(0, cut - 3) : cut], state=restored)
        assert replayed == []
        _, rest = run(items[cut:], state=restored)
        assert first + rest == straight


# --- properties ---------------------------------------------------------------------------------

PICTURE = ["video_loss", "frozen", "blurred", "covered", "displaced", "glare"]

# Mostly the 30 s rhythm, sometimes jitter, now and then a silence or a long sleep.
gaps = st.sampled_from([30] * 8 + [1, 10, 45, 200, 400, 2000])
# Mostly healthy, so that incidents also recover, close and come back (flapping).
ok = st.sampled_from([True, True, True, False])
checks = st.one_of(
    st.builds(lambda ok, clock: ("liveness", ok, clock), ok, st.sampled_from([0.0, 0.0, 9.0])),
    st.builds(
        lambda ok, auth, problems: ("full", ok, auth, problems),
        ok,
        st.sampled_from([False, False, True]),
        st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(PICTURE), max_size=2)),
    ),
    st.builds(lambda ok, fps: ("stream", ok, fps), ok, st.sampled_from([0.0, 5.0, 25.0, 25.0])),
    st.just(("tick",)),
)
policies = st.builds(
    lambda k, j, d, r, limit, close, window: Policy(
        down_after=k,
        up_after=j,
        degrade_after=d,
        restore_after=r,
        flap_limit=limit,
        close_after=timedelta(seconds=close),
        flap_quiet=timedelta(seconds=close * 3),
        maintenance=()
        if window is None
        else (MaintenanceWindow(start=at(window), end=at(window + 45)),),
    ),
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(2, 4),
    st.sampled_from([0, 120, 300]),
    st.one_of(st.none(), st.integers(0, 120)),
)


def _items(draws: list[tuple[int, tuple]]) -> list[CheckResult | datetime]:
    items: list[CheckResult | datetime] = []
    t = at(0)
    for gap, check in draws:
        t += timedelta(seconds=gap)
        kind, *args = check
        if kind == "tick":
            items.append(t)
        elif not args[0]:
            items.append(live(t, ok=False) if kind == "liveness" else _unreachable(kind, t))
        elif kind == "liveness":
            items.append(live(t, clock=args[1]))
        elif kind == "full":
            items.append(full(t, auth_failed=args[1], problems=args[2]))
        else:
            items.append(stream(t, fps=args[1]))
    return items


def _unreachable(kind: str, t: datetime) -> CheckResult:
    return CheckResult(camera_id=CAMERA, kind=CheckKind(kind), time=t, reachable=False)


scenarios = st.tuples(st.lists(st.tuples(gaps, checks), min_size=30, max_size=150), policies)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios)
def test_incidents_are_never_two_at_once_and_never_lost(scenario) -> None:
    draws, policy = scenario
    state = CameraState(camera_id=CAMERA)
    events = []
    for item in _items(draws):
        state, new = run([item], policy, state)
        events += new
        stored = incidents_of(events)
        open_ones = [i for i in stored.values() if i.is_open]
        assert len(open_ones) <= 1
        assert (state.incident is None) == (not open_ones)
        if state.incident is not None:
            assert open_ones[0] == state.incident
        assert (state.state in (State.DOWN, State.DEGRADED)) <= (state.incident is not None)
        assert state.state is not State.MAINTENANCE or state.incident is None
    assert [e.change.value for e in events if isinstance(e, IncidentEvent)].count(
        "incident_opened"
    ) == len(incidents_of(events))
    ordered = sorted(incidents_of(events).values(), key=lambda i: i.opened_at)
    for before, after in itertools.pairwise(ordered):
        assert before.closed_at is not None and before.closed_at <= after.opened_at
    changes = [e for e in events if isinstance(e, StateChanged)]
    assert state.state is (changes[-1].state if changes else State.UNKNOWN)
    assert all(a.at <= b.at for a, b in itertools.pairwise(events))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios, st.data())
def test_a_restart_anywhere_gives_the_same_events(scenario, data) -> None:
    draws, policy = scenario
    items = _items(draws)
    final, straight = run(items, policy)
    cut = data.draw(st.integers(0, len(items)))
    before, first = run(items[:cut], policy)
    restored = CameraState.from_dict(json.loads(json.dumps(before.to_dict())))
    assert restored == before
    redelivered = [i for i in items[:cut] if isinstance(i, CheckResult)]
    again, replayed = run(redelivered, policy, restored)
    assert replayed == [] and again == restored
    resumed, rest = run(items[cut:], policy, restored)
    assert first + rest == straight
    assert resumed == final


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios)
def test_availability_of_any_history_is_a_ratio(scenario) -> None:
    draws, policy = scenario
    items = _items(draws)
    _, events = run(items, policy)
    end = at(0) + timedelta(seconds=sum(gap for gap, _ in draws) + 1)
    figures = camera_availability(spans_from_events(events), start=at(0), end=end, cameras=[CAMERA])
    availability = figures[CAMERA]
    assert availability.ratio is None or 0.0 <= availability.ratio <= 1.0
    total = (
        availability.up_s
        + availability.degraded_s
        + availability.down_s
        + availability.maintenance_s
        + availability.unknown_s
    )
    assert total == pytest.approx((end - at(0)).total_seconds())
    assert min(availability.to_dict()[k] for k in ("up_s", "down_s", "unknown_s")) >= 0


# --- the README's example -----------------------------------------------------------------------


def test_the_readme_timeline_is_what_the_machine_does() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Camera states and incidents", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(
        r"^\| (\d\d:\d\d:\d\d) \| (\w+) \| (\w+) \| (\w+) \| (.*?) ?\|$", section, re.M
    )
    assert len(rows) == 12
    state = CameraState(camera_id=CAMERA)
    for clock, kind, observed, expected_state, incident in rows:
        hours, minutes, seconds = (int(x) for x in clock.split(":"))
        time = at(minutes=(hours - 8) * 60 + minutes, seconds=seconds)
        if kind == "liveness":
            result = live(time, ok=observed == "ok")
        else:
            result = full(time, problems=set() if observed == "clean" else {observed})
        state, events = step(state, result, Policy())
        assert state.state.value == expected_state, clock
        described = [
            f"`/{e.incident.key.rsplit('/', 1)[1]}` {e.change.value.removeprefix('incident_')}"
            + (f", {e.incident.severity}" if e.change.value == "incident_opened" else "")
            for e in events
            if isinstance(e, IncidentEvent)
        ]
        assert "; ".join(described) == incident, clock
