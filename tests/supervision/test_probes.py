"""Probes against the real simulator: each fault gives the right CheckResult, and states follow."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar
from urllib.parse import urlsplit

import cv2
import numpy as np
import pytest

from cameras.client import Camera, OnvifClient
from cameras.errors import CameraBasicRefused, CameraProtocolError, CameraUnreachable
from cameras.models import MediaUri
from supervision.imaging import Reference, assess
from supervision.probes import (
    CameraProbe,
    decode_snapshot,
    error_kind,
    full_check,
    liveness_check,
    snapshot_at,
)
from supervision.states import (
    CameraState,
    Cause,
    CheckKind,
    CheckResult,
    ErrorKind,
    Policy,
    State,
    step,
)
from tests.helpers.probe_simulator import Sim, dark_or_frozen

T = TypeVar("T")
EXPECTED = (1920, 1080)  # the recorded Bosch's main profile, as the catalogue's ptz_2mp_30x


def with_client(sim: Sim, body: Callable[[OnvifClient], Awaitable[T]]) -> T:
    async def main() -> T:
        async with OnvifClient() as onvif:
            return await body(onvif)

    return asyncio.run(main())


def liveness(sim: Sim, index: int) -> CheckResult:
    async def body(onvif: OnvifClient) -> CheckResult:
        return await liveness_check(onvif.camera(sim.address(index)), f"cam-{index}")

    return with_client(sim, body)


def full(sim: Sim, index: int, *, times: int = 1, expected=EXPECTED) -> list[CheckResult]:
    async def body(onvif: OnvifClient) -> list[CheckResult]:
        probe = CameraProbe(
            onvif,
            f"cam-{index}",
            sim.address(index),
            assess=dark_or_frozen,
            expected_resolution=expected,
        )
        return [await probe.full() for _ in range(times)]

    return with_client(sim, body)


def test_healthy_camera_liveness_observes_reachability_and_clock_only(sim: Sim) -> None:
    result = liveness(sim, 0)
    assert result.kind is CheckKind.LIVENESS
    assert result.camera_id == "cam-0"
    assert result.reachable and result.error is None
    assert abs(result.clock_offset_s) < 2  # same machine; seconds resolution of ONVIF
    assert result.auth_failed is None and result.picture_problems is None
    assert result.resolution is None and result.expected_resolution is None


def test_healthy_camera_full_check_observes_everything(sim: Sim) -> None:
    [result] = full(sim, 0)
    assert result.kind is CheckKind.FULL
    assert result.reachable and result.error is None
    assert result.auth_failed is False
    assert result.picture_problems == frozenset()
    assert result.resolution == (1920, 1080)
    assert result.expected_resolution == EXPECTED
    assert abs(result.clock_offset_s) < 2
    assert result.frame_rate is None  # the stream check is not part of it
    assert result.observations(Policy())[Cause.WRONG_RESOLUTION] is False


def test_wrong_resolution_is_observed_against_the_catalogue(sim: Sim) -> None:
    [result] = full(sim, 0, expected=(2688, 1520))  # a 4 MP model streaming 1080p
    assert result.observations(Policy())[Cause.WRONG_RESOLUTION] is True


def test_clock_drift_is_measured_and_does_not_break_authentication(sim: Sim) -> None:
    assert liveness(sim, 1).clock_offset_s == pytest.approx(3600, abs=2)
    [result] = full(sim, 1)
    assert result.clock_offset_s == pytest.approx(3600, abs=2)
    assert result.auth_failed is False and result.picture_problems == frozenset()


@pytest.mark.parametrize(
    ("index", "error"),
    [
        (2, ErrorKind.REFUSED),  # offline: port closed
        (3, ErrorKind.TIMEOUT),  # hang
        (6, ErrorKind.PROTOCOL),  # soap_fault
        (7, ErrorKind.PROTOCOL),  # garbage
        (8, ErrorKind.PROTOCOL),  # billion laughs
        (9, ErrorKind.PROTOCOL),  # xxe
        (10, ErrorKind.PROTOCOL),  # deep nesting
        (11, ErrorKind.PROTOCOL),  # huge text
    ],
)
def test_unusable_camera_is_unreachable_with_its_reason(
    sim: Sim, index: int, error: ErrorKind
) -> None:
    live = liveness(sim, index)
    [complete] = full(sim, index)
    for result in (live, complete):
        assert not result.reachable
        assert result.error is error
        assert result.clock_offset_s is None and result.auth_failed is None


def test_slow_camera_within_its_timeout_is_reachable(sim: Sim) -> None:
    assert liveness(sim, 4).reachable
    [result] = full(sim, 4)
    assert result.reachable and result.picture_problems == frozenset()


def test_refused_credentials_are_an_authentication_failure_not_down(sim: Sim) -> None:
    assert liveness(sim, 5).reachable  # GetSystemDateAndTime needs no credentials
    [result] = full(sim, 5)
    assert result.reachable and result.error is None
    assert result.auth_failed is True
    assert result.clock_offset_s is not None
    assert result.picture_problems is None  # no picture was seen


def test_wrong_password_is_an_authentication_failure(sim: Sim) -> None:
    async def body(onvif: OnvifClient) -> CheckResult:
        camera = onvif.camera(sim.address(20, password="not-the-password"))
        outcome = await full_check(camera, "cam-20", assess=dark_or_frozen)
        return outcome.result

    result = with_client(sim, body)
    assert result.reachable and result.auth_failed is True


def test_basic_auth_snapshot_is_healthy(sim: Sim) -> None:
    [result] = full(sim, 12)
    assert result.auth_failed is False and result.picture_problems == frozenset()


def test_basic_asked_by_a_camera_not_allowed_it_is_an_authentication_failure(sim: Sim) -> None:
    async def body(onvif: OnvifClient) -> CheckResult:
        camera = onvif.camera(sim.address(12, basic_auth=False))
        outcome = await full_check(camera, "cam-12", assess=dark_or_frozen)
        return outcome.result

    result = with_client(sim, body)
    assert result.reachable and result.auth_failed is True


def test_black_picture_is_video_loss(sim: Sim) -> None:
    [result] = full(sim, 13)
    assert result.reachable and result.picture_problems == frozenset({"video_loss"})


def test_frozen_picture_is_seen_from_the_previous_snapshot(sim: Sim) -> None:
    first, second = full(sim, 14, times=2)
    assert first.picture_problems == frozenset()  # no previous picture yet
    assert second.picture_problems == frozenset({"frozen"})
    healthy = full(sim, 21, times=2)
    assert [r.picture_problems for r in healthy] == [frozenset(), frozenset()]


def test_probe_keeps_reference_and_previous_and_reset_forgets_the_reference(sim: Sim) -> None:
    seen: list[tuple[bool, bool]] = []

    def recording(image: np.ndarray, reference=None, previous=None, chroma=None):
        seen.append((reference is not None, previous is not None))
        return dark_or_frozen(image, reference, previous)

    async def body(onvif: OnvifClient) -> None:
        probe = CameraProbe(onvif, "cam-22", sim.address(22), assess=recording)
        await probe.full()
        await probe.full()
        probe.reset_reference()
        assert probe.reference is None and probe.previous is not None
        await probe.full()
        assert probe.reference is not None

    with_client(sim, body)
    assert seen == [(False, False), (True, True), (False, True)]


def test_a_bug_in_assess_is_raised_not_blamed_on_the_camera(sim: Sim) -> None:
    def broken(image: np.ndarray, reference=None, previous=None, chroma=None):
        raise ZeroDivisionError("bug in the picture check")

    async def body(onvif: OnvifClient) -> None:
        await full_check(onvif.camera(sim.address(23)), "cam-23", assess=broken)

    with pytest.raises(ZeroDivisionError):
        with_client(sim, body)


def test_error_kind_reads_the_chained_cause() -> None:
    def chained(error: Exception, cause: BaseException) -> Exception:
        error.__cause__ = cause
        return error

    assert error_kind(chained(CameraUnreachable("x"), TimeoutError())) is ErrorKind.TIMEOUT
    assert error_kind(chained(CameraUnreachable("x"), ConnectionRefusedError())) is (
        ErrorKind.REFUSED
    )
    assert error_kind(chained(CameraUnreachable("x"), ConnectionResetError())) is (
        ErrorKind.UNREACHABLE
    )
    assert error_kind(CameraProtocolError("x")) is ErrorKind.PROTOCOL


def _fold(results: list[CheckResult], policy: Policy) -> list[State]:
    state = CameraState(camera_id=results[0].camera_id)
    states = []
    for result in results:
        state, _ = step(state, result, policy)
        states.append(state.state)
    return states


def test_offline_camera_goes_down_after_k_liveness_checks(sim: Sim) -> None:
    policy = Policy()
    up = [liveness(sim, 24) for _ in range(2)]
    down = [liveness(sim, 2) for _ in range(policy.down_after)]
    down = [CheckResult(**{**r.__dict__, "camera_id": "cam-24"}) for r in down]
    assert _fold(up + down, policy) == [State.UP, State.UP, State.UP, State.UP, State.DOWN]


def test_auth_failure_and_video_loss_degrade_after_their_checks(sim: Sim) -> None:
    policy = Policy()
    auth = [liveness(sim, 5), *full(sim, 5, times=policy.degrade_after)]
    assert _fold(auth, policy)[-1] is State.DEGRADED
    black = [liveness(sim, 13), *full(sim, 13, times=policy.degrade_after)]
    assert _fold(black, policy) == [State.UP, State.UP, State.DEGRADED]
    drift = [liveness(sim, 1) for _ in range(policy.degrade_after)]
    assert _fold(drift, policy) == [State.UP, State.DEGRADED]


def test_the_probe_learns_a_reference_the_real_assess_reads(sim: Sim, monkeypatch) -> None:
    """With ``supervision.imaging.assess`` itself: the reference is a ``Reference`` learned
    from the healthy snapshots, with the measurements ``assess`` made of them (each picture is
    measured once), and the later checks judge against it."""
    from supervision import _image_features, imaging
    from supervision.imaging import Reference, RegimeReferences, assess

    reports, pictures, measured = [], [], []

    def counted(image: np.ndarray) -> _image_features.Features:
        measured.append(1)
        return _image_features.features(image)

    def real(image: np.ndarray, reference=None, previous=None, chroma=None):
        pictures.append(image)
        reports.append(assess(image, reference, previous, chroma=chroma))
        return reports[-1]

    monkeypatch.setattr(imaging, "features", counted)

    async def body(onvif: OnvifClient) -> CameraProbe:
        probe = CameraProbe(onvif, "cam-24", sim.address(24), assess=real)
        for _ in range(4):
            result = await probe.full()
            assert result.reachable and result.auth_failed is False
        return probe

    probe = with_client(sim, body)
    assert isinstance(probe.reference, RegimeReferences)
    # The simulator's snapshots are in colour: day pictures, learned as the day reference.
    assert {report.regime for report in reports} == {"day"}
    assert probe.reference.day.ready() and probe.reference.night.count == 0
    # Each assess measured its picture and its previous one; learning measured nothing more.
    assert len(measured) == 2 * len(pictures) - 1
    assert probe.reference.day.to_bytes() == Reference.learn(pictures[:3]).to_bytes()
    assert reports[-1].reference_regime == "day"
    assert "displaced" in reports[0].unjudged  # no reference yet
    assert "displaced" not in reports[-1].unjudged  # judged against the learned one
    assert "frozen" not in reports[-1].unjudged


def test_error_kind_of_real_snapshot_failures(sim: Sim) -> None:
    """What aiohttp raises on the snapshot path, chained by the client, read right."""

    async def body(onvif: OnvifClient) -> list[ErrorKind]:
        kinds = []
        for index, uri in (
            (2, "http://127.0.0.1:{port}/snap.jpg"),  # offline: the port refuses
            (3, "http://127.0.0.1:{port}/snap.jpg"),  # hangs: no answer in time
            (20, "https://127.0.0.1:{port}/snap.jpg"),  # TLS to a plain HTTP port
        ):
            address = sim.address(index, timeout_s=0.5)
            with pytest.raises(CameraUnreachable) as caught:
                await onvif.camera(address).get_snapshot(uri.format(port=address.port))
            kinds.append(error_kind(caught.value))
        return kinds

    assert with_client(sim, body) == [ErrorKind.REFUSED, ErrorKind.TIMEOUT, ErrorKind.TLS]


def test_a_kept_snapshot_uri_that_moved_is_asked_again_and_the_new_one_fetched(sim: Sim) -> None:
    """The client keeps a camera's URIs for an hour: one set up again since is asked afresh."""

    async def body(onvif: OnvifClient) -> tuple[bytes, MediaUri, MediaUri]:
        camera = onvif.camera(sim.address(21))
        [profile, *_] = await camera.get_profiles()
        real = await camera.get_snapshot_uri(profile.token)
        moved = replace(real, uri=real.uri.replace(urlsplit(real.uri).path, "/old/snap.jpg"))
        with pytest.raises(CameraProtocolError, match="404"):
            await camera.get_snapshot(moved.uri)
        snapshot = await snapshot_at(camera, profile.token, moved)
        return snapshot.content, real, await camera.get_snapshot_uri(profile.token)

    content, real, kept = with_client(sim, body)
    assert decode_snapshot(content) is not None
    assert kept == real


def test_a_snapshot_that_fails_at_the_uri_the_camera_still_gives_keeps_its_failure(
    sim: Sim,
) -> None:
    async def body(onvif: OnvifClient) -> None:
        camera = onvif.camera(sim.address(12, basic_auth=False))  # Basic-only: refused
        [profile, *_] = await camera.get_profiles()
        uri = await camera.get_snapshot_uri(profile.token)
        with pytest.raises(CameraBasicRefused, match="Basic"):
            await snapshot_at(camera, profile.token, uri)

    with_client(sim, body)


def test_a_snapshot_that_times_out_is_not_asked_again(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hanging camera costs one timeout, not a second one on GetSnapshotUri."""
    forgotten: list[str] = []
    monkeypatch.setattr(Camera, "forget_uris", lambda cam: forgotten.append(cam.address.where))

    async def body(onvif: OnvifClient) -> ErrorKind:
        hanging = sim.address(3)
        camera = onvif.camera(sim.address(21, timeout_s=0.5))
        [profile, *_] = await camera.get_profiles()
        uri = await camera.get_snapshot_uri(profile.token)
        at_hanging = replace(
            uri, uri=uri.uri.replace(f":{sim.base_port + 21}/", f":{hanging.port}/")
        )
        with pytest.raises(CameraUnreachable) as caught:
            await snapshot_at(camera, profile.token, at_hanging)
        return error_kind(caught.value)

    assert with_client(sim, body) is ErrorKind.TIMEOUT
    assert forgotten == []


# --- decoding snapshots --------------------------------------------------------------------------


def _jpeg(width: int, height: int, **params: int) -> bytes:
    """A real photograph at ``width`` x ``height`` with sensor noise, as a camera's JPEG."""
    from skimage import data

    frame = cv2.resize(cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR), (width, height))
    noisy = np.clip(frame + np.random.default_rng(3).normal(0, 2, frame.shape), 0, 255)
    flags = [cv2.IMWRITE_JPEG_QUALITY, 85]
    for key, value in params.items():
        flags += [getattr(cv2, key), value]
    ok, content = cv2.imencode(".jpg", noisy.astype(np.uint8), flags)
    assert ok
    return content.tobytes()


@pytest.mark.parametrize("size", [(640, 360), (1920, 1080), (2560, 1440)])
def test_snapshots_decode_to_their_brightness_at_full_size(size: tuple[int, int]) -> None:
    content = _jpeg(*size)
    picture = decode_snapshot(content)
    colour = cv2.imdecode(np.frombuffer(content, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None and picture.dtype == np.uint8
    assert picture.shape == (size[1], size[0])
    # the JPEG's own luma: OpenCV's grey of the colour decoding, give or take rounding
    difference = cv2.absdiff(picture, cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY))
    assert float(difference.mean()) < 1.0


@pytest.mark.parametrize(
    "content",
    [b"", b"\xff\xd8", b"GIF89a....", b"\xff\xd8\xff\xe0\x00"],
    ids=["empty", "only-start", "not-jpeg", "cut-segment"],
)
def test_broken_jpegs_do_not_decode(content: bytes) -> None:
    assert decode_snapshot(content) is None


def test_grey_decoding_gives_the_colour_decodings_verdicts_and_scores() -> None:
    base = cv2.imdecode(np.frombuffer(_jpeg(1920, 1080), np.uint8), cv2.IMREAD_COLOR)

    def snapshot(seed: int, frame: np.ndarray = base) -> bytes:
        noise = np.random.default_rng(seed).normal(0, 2, frame.shape)
        noisy = np.clip(frame + noise, 0, 255).astype(np.uint8)
        return cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()

    def colour(content: bytes) -> np.ndarray:
        return cv2.imdecode(np.frombuffer(content, np.uint8), cv2.IMREAD_COLOR)

    live = [snapshot(seed) for seed in range(5)]
    # a frozen camera: the same picture, decoded and encoded again
    again = cv2.imencode(".jpg", colour(live[3]), [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()
    verdicts = []
    for decode in (colour, decode_snapshot):
        reference = Reference.learn([decode(c) for c in live[:3]])
        healthy = assess(decode(live[4]), reference, decode(live[3]))
        frozen = assess(decode(again), reference, decode(live[3]))
        verdicts.append((healthy, frozen))
    (colour_healthy, colour_frozen), (grey_healthy, grey_frozen) = verdicts
    assert colour_healthy.problems == grey_healthy.problems == frozenset()
    assert colour_frozen.problems == grey_frozen.problems == {"frozen"}
    for problem, score in colour_healthy.scores.items():
        assert grey_healthy.scores[problem] == pytest.approx(score, abs=0.05), problem
