"""The stream check against a real RTSP server: GStreamer's, from Debian (`.ci/run` installs it)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from supervision.conditions import Cause, State
from supervision.states import CameraState, CheckKind, ErrorKind, Policy, step
from supervision.stream import StreamSettings, read_stream, redact, stream_check
from tests.helpers.rtsp import serving_rtsp

FAST = StreamSettings(frames=8, warmup_frames=2, max_seconds=6.0, open_timeout_s=4.0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def rtsp() -> Iterator[str]:
    """``rtsp://127.0.0.1:PORT``, serving /good (10 frames/s) and /slow (2 frames/s)."""
    with serving_rtsp(_free_port()) as url:
        yield url


def test_a_flowing_stream_gives_its_frame_rate_and_size(rtsp: str) -> None:
    reading = read_stream(f"{rtsp}/good", FAST)
    assert reading.opened
    assert reading.frames == FAST.frames
    assert reading.frame_rate == pytest.approx(10.0, rel=0.15)
    assert reading.resolution == (640, 360)
    result = stream_check("cam-1", f"{rtsp}/good", settings=FAST)
    assert result.kind is CheckKind.STREAM
    assert result.reachable
    assert result.frame_rate == pytest.approx(10.0, rel=0.15)
    assert result.resolution == (640, 360)


def test_a_slow_stream_degrades_the_camera(rtsp: str) -> None:
    policy = Policy(min_frame_rate=5.0)
    result = stream_check("cam-2", f"{rtsp}/slow", settings=FAST)
    assert result.frame_rate == pytest.approx(2.0, rel=0.2)
    state = CameraState(camera_id="cam-2")
    for k in range(policy.degrade_after):  # the same observation, debounced
        later = result.time + timedelta(minutes=k)
        again = type(result)(**{**result.__dict__, "time": later})
        state, _ = step(state, again, policy)
    assert state.state is State.DEGRADED
    assert Cause.LOW_FRAME_RATE in state.causes


def test_a_server_without_that_stream_reports_no_video(rtsp: str) -> None:
    result = stream_check("cam-3", f"{rtsp}/nothing-here", settings=FAST)
    assert result.reachable
    assert result.frame_rate == 0.0
    assert result.resolution is None


def test_a_closed_port_is_unreachable() -> None:
    result = stream_check("cam-4", f"rtsp://127.0.0.1:{_free_port()}/good", settings=FAST)
    assert not result.reachable
    assert result.error is ErrorKind.REFUSED
    assert result.frame_rate is None


def test_a_server_that_never_answers_does_not_hang_the_check() -> None:
    """It accepts the connection and says nothing: every step of the check is bounded."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    results = []
    check = threading.Thread(
        target=lambda: results.append(
            stream_check("cam-5", f"rtsp://127.0.0.1:{port}/x", settings=FAST)
        )
    )
    check.start()
    check.join(timeout=120)  # a guard against a hang, not a speed measurement
    stop.set()
    acceptor.join()
    for conn in accepted:
        conn.close()
    listener.close()
    assert not check.is_alive(), "the stream check hung on a silent server"
    assert results[0].reachable
    assert results[0].frame_rate == 0.0


def test_credentials_never_show_in_a_url_we_print() -> None:
    assert redact("rtsp://admin:s3cret@10.27.1.14:554/Streaming/1") == (
        "rtsp://***@10.27.1.14:554/Streaming/1"
    )
    assert redact("rtsp://viewer@cam.example/live") == "rtsp://***@cam.example/live"
    assert redact("rtsp://[fe80::1]:8554/a") == "rtsp://[fe80::1]:8554/a"
    assert redact("rtsp://u:p@[fe80::1]:8554/a") == "rtsp://***@[fe80::1]:8554/a"
    reading = read_stream(f"rtsp://admin:s3cret@127.0.0.1:{_free_port()}/x", FAST)
    assert not reading.opened
    assert "s3cret" not in (reading.reason or "")
    assert "***@" in (reading.reason or "")


def test_the_check_time_is_aware_utc() -> None:
    fixed = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
    result = stream_check("cam-6", f"rtsp://127.0.0.1:{_free_port()}/", now=lambda: fixed)
    assert result.time == fixed
