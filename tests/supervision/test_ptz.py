"""A PTZ head away from where its reference was learned: the rule, and what the state machine
does with a picture problem left unjudged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cameras.models import PtzStatus
from supervision.conditions import Cause
from supervision.probes import PTZ_TOLERANCE, ptz_away
from supervision.states import CameraState, CheckKind, CheckResult, Policy, step

HOME = PtzStatus(pan=0.2, tilt=-0.1, zoom=0.0, moving=False)
T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "away"),
    [
        (None, False),
        (HOME, False),
        (PtzStatus(pan=0.2 + PTZ_TOLERANCE / 2, tilt=-0.1, zoom=0.0, moving=False), False),
        (PtzStatus(pan=0.2 + 2 * PTZ_TOLERANCE, tilt=-0.1, zoom=0.0, moving=False), True),
        (PtzStatus(pan=0.2, tilt=-0.1, zoom=0.5, moving=None), True),
        (PtzStatus(pan=0.2, tilt=-0.1, zoom=0.0, moving=True), True),  # on its way
        (PtzStatus(pan=None, tilt=None, zoom=None, moving=None), False),  # says nothing
    ],
)
def test_away_is_moving_or_beyond_the_tolerance(status: PtzStatus | None, away: bool) -> None:
    assert ptz_away(status, HOME) is away
    assert ptz_away(status, None) is False  # no home yet: everything is judged


def _full(at: datetime, problems: set[str], unjudged: set[str] | None = None) -> CheckResult:
    return CheckResult(
        camera_id="ptz-1",
        kind=CheckKind.FULL,
        time=at,
        reachable=True,
        picture_problems=frozenset(problems),
        unjudged=None if unjudged is None else frozenset(unjudged),
    )


def test_an_unjudged_problem_is_left_as_it_was() -> None:
    policy = Policy()
    state = CameraState(camera_id="ptz-1")
    at = T0
    for _ in range(policy.degrade_after):
        state, _ = step(state, _full(at, {"displaced"}), policy)
        at += timedelta(minutes=5)
    assert Cause.DISPLACED in state.causes
    # away from home: displaced unjudged, so it neither clears nor counts again
    for _ in range(policy.restore_after + 1):
        state, _ = step(state, _full(at, set(), {"displaced"}), policy)
        at += timedelta(minutes=5)
    assert Cause.DISPLACED in state.causes
    # judged again (back home) and absent: it clears
    for _ in range(policy.restore_after):
        state, _ = step(state, _full(at, set()), policy)
        at += timedelta(minutes=5)
    assert Cause.DISPLACED not in state.causes
