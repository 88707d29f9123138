"""Recording health (supervision.recording): the pure judgement, the state machine's causes,
and the real simulator with the real client end to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cameras.client import OnvifClient
from cameras.recording import RecordingJob, RecordingStatus, RecordingSummary
from cameras.simulator.scenario import Fault
from supervision import recording
from supervision.conditions import Cause, State
from supervision.incidents import IncidentChange, IncidentEvent, Severity
from supervision.probes import full_check
from supervision.states import CameraState, CheckKind, CheckResult, Policy, StateError, step
from tests.helpers.camera_servers import run
from tests.helpers.personal_simulator import address, personal_simulator
from tests.helpers.probe_simulator import dark_or_frozen

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
MAX = recording.DEFAULT_MAX_LAG_S


def _status(*jobs: RecordingJob, until: datetime | None = NOW) -> RecordingStatus:
    return RecordingStatus(RecordingSummary(NOW - timedelta(days=30), until, 1), jobs)


ACTIVE = RecordingJob(token="j", recording="r", mode="Active", state="Active")


def test_an_active_job_with_recent_data_is_healthy() -> None:
    seen = recording.observe(
        _status(ACTIVE, until=NOW - timedelta(seconds=20)), now=NOW, clock_offset_s=0
    )
    assert seen == recording.Observation(active=True, lag_s=20.0, storage_failed=False)
    assert recording.problems(seen.active, seen.lag_s, seen.storage_failed, max_lag_s=MAX) == set()
    assert recording.describe(True, 20.0, False, max_lag_s=MAX) == "enregistrement en cours"


def test_the_lag_is_measured_on_the_camera_s_clock() -> None:
    # A camera an hour ahead writes DataUntil an hour ahead: on its clock it is 30 s behind.
    status = _status(ACTIVE, until=NOW + timedelta(hours=1) - timedelta(seconds=30))
    assert recording.observe(status, now=NOW, clock_offset_s=3600).lag_s == 30.0
    # Judged on our clock instead, it would be an hour "in the future", and an hour behind
    # for a camera an hour late.
    late = _status(ACTIVE, until=NOW - timedelta(hours=1))
    assert recording.observe(late, now=NOW, clock_offset_s=-3600).lag_s == 0.0


@pytest.mark.parametrize(
    ("job", "lag_min", "expected", "label"),
    [
        (ACTIVE, 42, {Cause.RECORDING_STOPPED}, "enregistrement arrêté depuis 42 min"),
        (ACTIVE, 9, set(), "enregistrement en cours"),
        (
            RecordingJob(token="j", recording="r", mode="Idle"),
            0.05,
            {Cause.RECORDING_STOPPED},
            "enregistrement arrêté",
        ),
        (
            RecordingJob(token="j", recording="r", mode="Active", state="Idle"),
            0.05,
            {Cause.RECORDING_STOPPED},
            "enregistrement arrêté",
        ),
        (
            RecordingJob(token="j", recording="r", mode="Active", state="PartiallyActive"),
            1,
            set(),
            "enregistrement en cours",
        ),
        (
            RecordingJob(
                token="j",
                recording="r",
                mode="Active",
                state="Error",
                errors=("Storage failure: SD card not writable",),
            ),
            190,
            {Cause.RECORDING_STOPPED, Cause.STORAGE_FAILED},
            "enregistrement arrêté depuis 3 h 10, stockage en défaut",
        ),
        (
            RecordingJob(
                token="j",
                recording="r",
                mode="Active",
                state="Error",
                errors=("encoder restarted",),
            ),
            0.05,
            {Cause.RECORDING_STOPPED},
            "enregistrement arrêté",
        ),
    ],
)
def test_stopped_recordings_and_failed_storage(
    job: RecordingJob, lag_min: float, expected: set[Cause], label: str
) -> None:
    seen = recording.observe(
        _status(job, until=NOW - timedelta(minutes=lag_min)), now=NOW, clock_offset_s=0
    )
    assert recording.problems(seen.active, seen.lag_s, seen.storage_failed, max_lag_s=MAX) == (
        expected
    )
    assert recording.describe(seen.active, seen.lag_s, seen.storage_failed, max_lag_s=MAX) == label


def test_a_job_without_summary_is_judged_on_its_state() -> None:
    status = RecordingStatus(None, (ACTIVE,))
    assert recording.observe(status, now=NOW, clock_offset_s=0) == recording.Observation(
        True, None, False
    )


def _full(at: datetime, **recorded: object) -> CheckResult:
    return CheckResult(camera_id="cam", kind=CheckKind.FULL, time=at, reachable=True, **recorded)


def test_the_state_machine_opens_and_closes_a_recording_incident_with_the_policy_lag() -> None:
    policy = Policy(max_recording_lag_s=1800, close_after=timedelta(0))
    state, at = CameraState(camera_id="cam"), NOW
    # 20 minutes behind: within this camera's 30 minutes, nothing
    for _ in range(3):
        state, _ = step(state, _full(at, recording_active=True, recording_lag_s=1200.0), policy)
        at += timedelta(minutes=5)
    assert state.state is State.UP
    events = []
    for _ in range(policy.degrade_after):
        state, new = step(state, _full(at, recording_active=True, recording_lag_s=2400.0), policy)
        events += new
        at += timedelta(minutes=5)
    assert state.state is State.DEGRADED and state.causes == {Cause.RECORDING_STOPPED}
    (opened,) = [e for e in events if isinstance(e, IncidentEvent)]
    assert opened.change is IncidentChange.OPENED
    assert opened.incident.severity is Severity.MINOR
    # a liveness check, or a camera not recording at the edge, observes nothing of it
    state, _ = step(
        state,
        CheckResult(
            camera_id="cam", kind=CheckKind.LIVENESS, time=at, reachable=True, clock_offset_s=0.0
        ),
        policy,
    )
    assert Cause.RECORDING_STOPPED in state.causes
    for _ in range(policy.restore_after):
        at += timedelta(minutes=5)
        state, _ = step(state, _full(at, recording_active=True, recording_lag_s=5.0), policy)
    assert state.state is State.UP and state.incident is None


def test_a_recording_lag_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(StateError, match="recording lag"):
        _full(NOW, recording_active=True, recording_lag_s=float("nan"))
    with pytest.raises(StateError, match="max_recording_lag_s"):
        Policy(max_recording_lag_s=-1)


def test_end_to_end_a_stopped_recording_opens_an_incident_and_its_return_closes_it() -> None:
    run(_end_to_end())


async def _end_to_end() -> None:
    policy = Policy(close_after=timedelta(0))
    async with (
        personal_simulator({0: "bosch", 1: "dlink", 2: "hikvision"}) as simulator,
        OnvifClient() as onvif,
    ):
        cameras = [onvif.camera(address(i, timeout_s=3.0)) for i in range(3)]
        states = [CameraState(camera_id=f"cam-{i}") for i in range(3)]
        events: list[list[object]] = [[], [], []]
        results: list[CheckResult | None] = [None, None, None]

        async def check_all(rounds: int) -> None:
            for _ in range(rounds):
                for i, camera in enumerate(cameras):
                    outcome = await full_check(camera, f"cam-{i}", assess=dark_or_frozen)
                    states[i], new = step(states[i], outcome.result, policy)
                    results[i] = outcome.result
                    events[i] += new

        await check_all(2)
        assert states[0].state is State.UP
        assert results[0] is not None and results[0].recording_active is True
        for kind, causes in (
            ("recording_stopped", {Cause.RECORDING_STOPPED}),
            ("storage_failed", {Cause.RECORDING_STOPPED, Cause.STORAGE_FAILED}),
        ):
            await simulator.set_faults(0, [Fault(kind=kind)])
            for camera_index in (1, 2):  # the others: their own faults, no Profile G
                await simulator.set_faults(camera_index, [Fault(kind=kind)])
            await check_all(policy.degrade_after)
            assert states[0].state is State.DEGRADED and states[0].causes == causes
            assert states[0].incident is not None
            # without Profile G: not recording at the edge, nothing observed, no such cause
            # (the D-Link's captured clock is years off: it has its own clock_offset incident)
            for result, state in zip(results[1:], states[1:], strict=True):
                assert result is not None and result.reachable
                assert result.recording_active is None
                assert not recording.RECORDING_PROBLEMS & state.causes
            for camera_index in range(3):
                await simulator.set_faults(camera_index, [])
            await check_all(policy.restore_after)
            assert states[0].state is State.UP and states[0].incident is None
        changes = [e.change for e in events[0] if isinstance(e, IncidentEvent)]
        assert changes.count(IncidentChange.OPENED) == 2
        assert changes.count(IncidentChange.CLOSED) == 2
        for other in events[1:]:
            for event in other:
                if isinstance(event, IncidentEvent):
                    assert not recording.RECORDING_PROBLEMS & set(event.incident.causes)
