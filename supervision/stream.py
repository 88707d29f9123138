"""The stream check: open a camera's RTSP stream, read frames, measure frame rate and size.

ONVIF answering does not mean the video flows: an encoder can hang while the web server lives.
This check opens the stream itself with OpenCV (its FFmpeg backend) and reads a few seconds of
it. It blocks, so the scheduler runs it in a worker thread; every step is bounded: the TCP
connection, the RTSP handshake, each frame and the whole reading. RTSP goes over TCP
(interleaved), which crosses firewalls and NAT where RTP over UDP often does not, unless
``OPENCV_FFMPEG_CAPTURE_OPTIONS`` is already set in the environment.

Credentials in a stream URL (``rtsp://user:password@host/...``) never appear in a message: every
URL shown goes through `redact`.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import cv2

from supervision.states import CheckKind, CheckResult, ErrorKind

__all__ = ["StreamReading", "StreamSettings", "read_stream", "redact", "stream_check"]

os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")

RTSP_PORT = 554


@dataclass(frozen=True)
class StreamSettings:
    """Bounds of one stream check; the defaults suit a camera on a fibre link."""

    connect_timeout_s: float = 3.0
    open_timeout_s: float = 5.0
    read_timeout_s: float = 5.0
    frames: int = 25
    """Frames to time (after the warm-up ones)."""
    warmup_frames: int = 3
    """Frames read and not timed: the decoder waits for a key frame and the first ones burst."""
    max_seconds: float = 8.0
    """The reading stops after this long, whatever it has read."""


@dataclass(frozen=True)
class StreamReading:
    """What reading the stream gave."""

    opened: bool
    frames: int
    """Frames timed."""
    frame_rate: float
    """Frames per second, from the stream's own timestamps when it has them; 0.0 if unopened."""
    resolution: tuple[int, int] | None
    reason: str | None = None
    """Why the stream did not open or stopped early; never holds credentials."""


def redact(url: str) -> str:
    """The URL without its password (and user name), for messages and logs."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def read_stream(url: str, settings: StreamSettings | None = None) -> StreamReading:
    """Open ``url`` with OpenCV and time ``settings.frames`` frames."""
    settings = settings or StreamSettings()
    params = [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
        int(settings.open_timeout_s * 1000),
        cv2.CAP_PROP_READ_TIMEOUT_MSEC,
        int(settings.read_timeout_s * 1000),
    ]
    capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)
    try:
        if not capture.isOpened():
            return StreamReading(False, 0, 0.0, None, f"{redact(url)}: the stream did not open")
        return _time_frames(capture, url, settings)
    finally:
        capture.release()


def _time_frames(capture: cv2.VideoCapture, url: str, settings: StreamSettings) -> StreamReading:
    start = time.monotonic()
    stamps: list[float] = []  # the stream's timestamps, in ms
    clock: list[float] = []  # our clock, when the stream has none
    size: tuple[int, int] | None = None
    reason = None
    read = 0
    while len(stamps) < settings.frames:
        if time.monotonic() - start > settings.max_seconds:
            reason = f"{redact(url)}: {len(stamps)} frames in {settings.max_seconds:g} s"
            break
        ok, frame = capture.read()
        if not ok or frame is None:
            reason = f"{redact(url)}: the stream stopped after {read} frames"
            break
        read += 1
        size = (int(frame.shape[1]), int(frame.shape[0]))
        if read <= settings.warmup_frames:
            continue
        stamps.append(capture.get(cv2.CAP_PROP_POS_MSEC))
        clock.append(time.monotonic())
    rate = _rate(stamps, 1000.0) or _rate(clock, 1.0)
    return StreamReading(read > 0, len(stamps), rate, size, reason)


def _rate(times: list[float], per_second: float) -> float:
    """Frames per second over increasing times; 0.0 when they do not increase."""
    if len(times) < 2 or not times[-1] > times[0]:
        return 0.0
    return (len(times) - 1) * per_second / (times[-1] - times[0])


def stream_check(
    camera_id: str,
    url: str,
    *,
    settings: StreamSettings | None = None,
    now: Callable[[], datetime] | None = None,
) -> CheckResult:
    """The stream check of one camera, as the state machine reads it.

    A camera whose RTSP port does not accept a connection is unreachable (with why); one that
    accepts but gives no video is reachable with ``frame_rate=0.0``, which the state machine
    counts against the stream.
    """
    settings = settings or StreamSettings()
    now = now or (lambda: datetime.now(UTC))
    parts = urlsplit(url)
    error = _connect_error(parts.hostname or "", parts.port or RTSP_PORT, settings)
    if error is not None:
        return CheckResult(
            camera_id=camera_id, kind=CheckKind.STREAM, time=now(), reachable=False, error=error
        )
    reading = read_stream(url, settings)
    return CheckResult(
        camera_id=camera_id,
        kind=CheckKind.STREAM,
        time=now(),
        reachable=True,
        frame_rate=reading.frame_rate,
        resolution=reading.resolution,
    )


def _connect_error(host: str, port: int, settings: StreamSettings) -> ErrorKind | None:
    """Whether the RTSP port accepts a TCP connection, and if not, why."""
    try:
        with socket.create_connection((host, port), timeout=settings.connect_timeout_s):
            return None
    except TimeoutError:
        return ErrorKind.TIMEOUT
    except ConnectionRefusedError:
        return ErrorKind.REFUSED
    except OSError:  # no route, host down, name not resolved
        return ErrorKind.UNREACHABLE
