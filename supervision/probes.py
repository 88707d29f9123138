"""Probes: one check of one camera over ONVIF, reported as a `CheckResult`.

Two checks, each cheap enough for its interval:

- :func:`liveness_check` (every 30 s by default): one GetSystemDateAndTime (unauthenticated,
  or signed for the cameras that want it), which proves the camera answers ONVIF and gives its
  clock offset.
- :func:`full_check` (every 5 min): the clock again (it also signs the token), authentication
  (GetDeviceInformation), the profiles, the stream and snapshot URIs of the main profile, the
  snapshot itself, its picture health through an ``assess`` callable (the contract of
  ``supervision.imaging.assess``) and the main profile's resolution against the catalogue's;
  on a camera recording at the edge (ONVIF Profile G), its recording (``supervision.recording``).

A camera's fault never raises: :mod:`cameras.client` turns every failure of the camera into a
:class:`~cameras.errors.CameraError`, and only those are caught here and mapped to the result
(unreachable with its :class:`~supervision.states.ErrorKind`, or an authentication failure).
Anything else (a ``TypeError`` in our code, a bug in ``assess``, an invalid ``CheckResult``)
propagates: the scheduler logs it as the supervisor's own failure and hands no result, so a
bug never shows as a camera DOWN.

The RTSP stream check (frame rate, resolution read from the stream) is ``supervision.stream``'s;
it blocks, so the scheduler runs it with ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import aiohttp
import numpy as np

from cameras.client import Camera, OnvifClient
from cameras.errors import (
    CameraAuthFailed,
    CameraCertificateChanged,
    CameraError,
    CameraProtocolError,
    CameraUnreachable,
    CameraUnsupported,
)
from cameras.models import CameraAddress, MediaUri, Profile, PtzStatus, Snapshot
from supervision import jpeg, recording
from supervision.imaging import ImageError, ImageReport, RegimeReferences
from supervision.states import CheckKind, CheckResult, ErrorKind

log = logging.getLogger(__name__)

__all__ = [
    "Assess",
    "CameraProbe",
    "FullCheck",
    "ImageReportLike",
    "decode_snapshot",
    "error_kind",
    "events_check",
    "full_check",
    "liveness_check",
]


class ImageReportLike(Protocol):
    """What the probes read of ``supervision.imaging.ImageReport``."""

    @property
    def problems(self) -> frozenset[str]: ...


Assess = Callable[..., ImageReportLike]
"""``assess(image, reference=None, previous=None, *, chroma=None) -> ImageReport``
(ARCHITECTURE.md); the image is the decoded snapshot (its grey, ``decode_snapshot``) and
``chroma`` its colour (``supervision.regime.snapshot_chroma``), which tells its lighting
regime."""


@dataclass(frozen=True, slots=True)
class SensorPicture:
    """One more video source of a multi-sensor camera, as a full check saw it."""

    source: str
    """Its VideoSource token, as the camera names it."""
    problems: frozenset[str]
    """Its picture's problems; ``video_loss`` when it gave no picture at all."""
    picture: np.ndarray | None = None
    report: ImageReportLike | None = None
    jpeg: bytes | None = None

    @property
    def healthy(self) -> bool:
        return self.picture is not None and not self.problems


SensorMemory = Mapping[str, tuple[Any, Any]]
"""Each other video source's ``(reference, previous)``, by VideoSource token."""


@dataclass(frozen=True, slots=True)
class FullCheck:
    """A full check's result, and the decoded snapshot for the caller to keep as ``previous``.

    ``picture`` is ``None`` when no snapshot was decoded; ``healthy`` says whether ``assess``
    found no problem in it (the caller may then learn it as the reference).
    """

    result: CheckResult
    picture: np.ndarray | None = None
    healthy: bool = False
    report: ImageReportLike | None = None
    """What ``assess`` said of ``picture`` (an ``ImageReport`` lets the reference reuse its
    measurements)."""
    ptz: PtzStatus | None = None
    """A PTZ camera's position during the check (None: no PTZ, or not read)."""
    sensors: tuple[SensorPicture, ...] = ()
    """A multi-sensor camera's other video sources, each judged against its own memory."""
    away: bool = False
    """The PTZ head was away from ``ptz_home`` (or moving): the picture was judged without the
    reference, ``displaced`` left unjudged, and it must not be learned."""


def _now() -> datetime:
    return datetime.now(UTC)


def error_kind(error: CameraUnreachable | CameraError) -> ErrorKind:
    """Why the camera could not be used, from the library error the client chained.

    :class:`CameraUnreachable` keeps the original failure as ``__cause__``: a timeout, a refused
    connection, a TLS failure; anything else unreachable (reset, no route, DNS) is
    ``UNREACHABLE``. Every other :class:`CameraError` but an authentication failure means the
    camera answered, but not as an ONVIF device does: ``PROTOCOL``.
    """
    if not isinstance(error, CameraUnreachable):
        return ErrorKind.PROTOCOL
    cause: BaseException | None = error.__cause__
    seen = 0
    while cause is not None and seen < 8:  # walk the chain (aiohttp wraps OSError)
        # aiohttp's connect and read timeouts (ServerTimeoutError) are TimeoutErrors too
        if isinstance(cause, TimeoutError | aiohttp.ServerTimeoutError):
            return ErrorKind.TIMEOUT
        if isinstance(
            cause, ssl.SSLError | aiohttp.ClientSSLError | aiohttp.ServerFingerprintMismatch
        ):
            return ErrorKind.TLS
        if isinstance(cause, ConnectionRefusedError):
            return ErrorKind.REFUSED
        if isinstance(cause, aiohttp.ClientConnectorError) and isinstance(
            cause.os_error, ConnectionRefusedError
        ):
            return ErrorKind.REFUSED
        cause = cause.__cause__ or cause.__context__
        seen += 1
    return ErrorKind.UNREACHABLE


def _unreachable(camera_id: str, kind: CheckKind, error: CameraError) -> CheckResult:
    return CheckResult(
        camera_id=camera_id, kind=kind, time=_now(), reachable=False, error=error_kind(error)
    )


async def liveness_check(camera: Camera, camera_id: str) -> CheckResult:
    """Reachability and clock offset: one GetSystemDateAndTime (signed for the cameras that
    want it; one whose credentials are refused answered, so it is reachable, auth failed)."""
    try:
        clock = await camera.get_system_date_and_time()
    except CameraCertificateChanged:
        return _impostor(camera_id, CheckKind.LIVENESS)
    except CameraAuthFailed:
        return CheckResult(
            camera_id=camera_id,
            kind=CheckKind.LIVENESS,
            time=_now(),
            reachable=True,
            auth_failed=True,
            certificate_changed=_pinned_ok(camera),
        )
    except CameraError as error:
        return _unreachable(camera_id, CheckKind.LIVENESS, error)
    return CheckResult(
        camera_id=camera_id,
        kind=CheckKind.LIVENESS,
        time=_now(),
        reachable=True,
        clock_offset_s=clock.offset_s,
        certificate_changed=_pinned_ok(camera),
    )


def _pinned_ok(camera: Camera) -> bool | None:
    """``False`` (the pinned certificate was presented) for a TLS camera that answered; None
    for a camera over plain HTTP, which observes nothing of certificates."""
    return False if camera.address.tls else None


def _impostor(camera_id: str, kind: CheckKind) -> CheckResult:
    """Another certificate than the pinned one: something answers at the camera's address,
    but nothing was sent to it; the centre has no picture from it (a security incident)."""
    return CheckResult(
        camera_id=camera_id, kind=kind, time=_now(), reachable=True, certificate_changed=True
    )


async def events_check(camera: Camera, camera_id: str) -> CheckResult | None:
    """The camera's own health events (PullPoint): the causes they report active now.

    ``None`` when it observed nothing: the camera does not support events (recorded on the
    camera, which is then no longer asked), or answered them with something unusable (logged:
    one failed optional call never fails the camera). A camera that cannot be reached is
    reported unreachable, as the liveness check would; refused credentials are an
    authentication failure.
    """
    try:
        found = await camera.pull_events()
    except CameraCertificateChanged:
        return _impostor(camera_id, CheckKind.EVENTS)
    except CameraUnsupported:
        return None
    except CameraProtocolError as error:
        log.warning("camera %s: events check: %s", camera_id, error)
        return None
    except CameraAuthFailed:
        return CheckResult(
            camera_id=camera_id,
            kind=CheckKind.EVENTS,
            time=_now(),
            reachable=True,
            auth_failed=True,
        )
    except CameraError as error:
        return _unreachable(camera_id, CheckKind.EVENTS, error)
    return CheckResult(
        camera_id=camera_id,
        kind=CheckKind.EVENTS,
        time=_now(),
        reachable=True,
        camera_reported=frozenset(event.cause for event in found if event.active),
        certificate_changed=_pinned_ok(camera),
    )


def decode_snapshot(content: bytes) -> np.ndarray | None:
    """The JPEG's brightness as a grey array, or ``None`` if it does not decode (the camera's
    fault): the grey of :func:`decode_with_chroma`.

    ``assess`` measures brightness only, and the JPEG library gives it directly (the Y plane,
    the same weights as OpenCV's BGR-to-grey) without the colour conversion. Decoding at
    reduced size would save a little more, but the JPEG library's scaled decoding differs from
    an exact area average enough to hide a re-encoded frozen frame (``benchmarks/imaging``).
    """
    return jpeg.decode(content)[0]


def decode_with_chroma(content: bytes) -> tuple[np.ndarray | None, float | None]:
    """:func:`decode_snapshot` and the JPEG's colour (``supervision.regime.plane_chroma``),
    which tells a day picture from an infrared night one, from one decoding
    (:func:`supervision.jpeg.decode`)."""
    return jpeg.decode(content)


def picture_observed(report: object) -> dict[str, Any] | None:
    """What an operator is told of the picture beyond its problems (``CheckResult.picture``):
    its lighting regime, whose reference judged it and what was seen per problem; ``None``
    for a report that does not say (a stand-in ``assess``)."""
    regime = getattr(report, "regime", None)
    if regime is None:
        return None
    seen = getattr(report, "seen", {}) or {}
    return {
        "regime": regime,
        "reference_regime": getattr(report, "reference_regime", None),
        "seen": {problem: dict(values) for problem, values in seen.items()},
    }


PTZ_TOLERANCE = 0.01
"""How far (in ONVIF's generic -1..1 spaces) a PTZ head may be from where its reference was
learned and still count as there: a return to a preset lands within a few thousandths."""


def ptz_away(status: PtzStatus | None, home: PtzStatus | None) -> bool:
    """Whether a PTZ head is moving or away from ``home`` (False when either is unknown)."""
    if status is None or home is None:
        return False
    if status.moving:
        return True
    distance = status.distance(home)
    return distance is not None and distance > PTZ_TOLERANCE


def _position(status: PtzStatus) -> str:
    parts = [(name, getattr(status, name)) for name in ("pan", "tilt", "zoom")]
    return ", ".join(f"{name} {value:.3f}" for name, value in parts if value is not None)


def _ptz_note(
    ptz: PtzStatus | None, home: PtzStatus | None, *, away: bool
) -> tuple[tuple[str, str], ...]:
    """What the operator is told of a PTZ head's position against its reference's."""
    if ptz is None:
        return ()
    if home is None:
        return (("ptz", f"at {_position(ptz)}: the reference is learned here"),)
    if not away:
        return (("ptz", f"at its reference position ({_position(ptz)})"),)
    where = "moving" if ptz.moving else f"at {_position(ptz)}"
    return (
        (
            "ptz",
            f"{where}, away from its reference position ({_position(home)}): displaced not "
            "judged, the picture judged without its reference",
        ),
    )


def _main_profile(profiles: list[Profile]) -> Profile | None:
    """The profile to judge: the first one, which ONVIF cameras make the main stream."""
    return profiles[0] if profiles else None


async def full_check(
    camera: Camera,
    camera_id: str,
    *,
    assess: Assess,
    reference: np.ndarray | None = None,
    previous: np.ndarray | None = None,
    expected_resolution: tuple[int, int] | None = None,
    ptz_home: PtzStatus | None = None,
    sensors: SensorMemory | None = None,
) -> FullCheck:
    """Authentication, profiles, URIs, snapshot, picture health and resolution.

    ``reference`` and ``previous`` are the camera's learned reference picture and its last
    snapshot, kept by the caller (see :class:`CameraProbe`); ``expected_resolution`` is the
    catalogue's ``CameraModel.frame_size``, compared with the main profile's encoder resolution.
    ``ptz_home``: a PTZ camera's position when its reference was learned. A PTZ camera away
    from it (an operator moved it) is judged without its reference, ``displaced`` unjudged.
    A multi-sensor camera's other video sources (profiles on another VideoSource) are each
    fetched and judged too, against their own memory in ``sensors``; their problems join the
    camera's, and the check's ``interop`` names the sensor of each.
    """
    kind = CheckKind.FULL
    observed: dict[str, Any] = {
        "expected_resolution": expected_resolution,
        "certificate_changed": _pinned_ok(camera),
    }
    try:
        clock = await camera.get_system_date_and_time()
        observed["clock_offset_s"] = clock.offset_s
        await camera.get_device_information()
        profiles = await camera.get_profiles()
        profile = _main_profile(profiles)
        if profile is None:
            raise CameraProtocolError(f"{camera.address.where}: GetProfiles: no media profile")
        if profile.width and profile.height:
            observed["resolution"] = (profile.width, profile.height)
        observed.update(await recording_observed(camera, clock.offset_s))
        with contextlib.suppress(CameraUnsupported):  # no stream check then, nothing more
            await camera.get_stream_uri(profile.token)
        try:
            snapshot_uri = await camera.get_snapshot_uri(profile.token)
        except CameraUnsupported:
            observed["interop"] = interop_of(camera)
            return FullCheck(_reached(camera_id, observed, auth_failed=False))
        ptz = None
        if camera.offers("ptz"):
            with contextlib.suppress(CameraUnsupported):
                ptz = await camera.get_ptz_status(profile.token)
        # ONVIF took the credentials; if the snapshot's HTTP authentication does not, the
        # centre gets no picture, which is what an authentication failure means for it.
        snapshot = await snapshot_at(camera, profile.token, snapshot_uri)
    except CameraAuthFailed:
        return FullCheck(_reached(camera_id, observed, auth_failed=True))
    except CameraCertificateChanged:
        return FullCheck(_impostor(camera_id, kind))
    except CameraError as error:
        return FullCheck(_unreachable(camera_id, kind, error))
    away = ptz_away(ptz, ptz_home)
    observed["interop"] = interop_of(camera) + _ptz_note(ptz, ptz_home, away=away)
    # Decoding and judging a picture take milliseconds of CPU each: in a worker thread, so the
    # event loop keeps dispatching the other cameras' checks meanwhile.
    picture, chroma = await asyncio.to_thread(decode_with_chroma, snapshot.content)
    if picture is None:
        return FullCheck(
            CheckResult(
                camera_id=camera_id,
                kind=kind,
                time=_now(),
                reachable=False,
                error=ErrorKind.PROTOCOL,
            )
        )
    # Not guarded: an exception in assess is our bug (or imaging's), not the camera's fault.
    report = await asyncio.to_thread(
        assess, picture, reference=None if away else reference, previous=previous, chroma=chroma
    )
    problems = frozenset(report.problems)
    if away:
        problems -= {"displaced"}
        observed["unjudged"] = frozenset({"displaced"})
    others = await _judge_sensors(camera, profiles, profile, assess, sensors or {})
    if others:
        main = profile.video_source_token or "main"
        observed["interop"] += (("sensors", _sensor_note(main, problems, others)),)
    all_problems = problems.union(*(sensor.problems for sensor in others))
    result = _reached(
        camera_id,
        observed,
        auth_failed=False,
        picture_problems=all_problems,
        picture=picture_observed(report),
    )
    return FullCheck(
        result,
        picture=picture,
        healthy=not problems and not away,
        report=report,
        ptz=ptz,
        away=away,
        sensors=others,
    )


async def snapshot_at(camera: Camera, profile_token: str, uri: MediaUri) -> Snapshot:
    """The snapshot at ``uri``, which the camera may have given up to an hour ago (it keeps
    its URIs, ``cameras.client.URI_KEPT_S``): if it fails (but for a timeout), the camera is
    asked for its URIs again and the snapshot fetched from the new one, if it changed; else the
    failure stands."""
    try:
        return await camera.get_snapshot(uri.uri)
    except CameraCertificateChanged:
        raise
    except CameraError as failure:
        if error_kind(failure) is ErrorKind.TIMEOUT:
            raise  # a hanging camera costs one timeout, not two
        camera.forget_uris()
        try:
            fresh = await camera.get_snapshot_uri(profile_token)
        except CameraUnsupported:
            raise failure  # noqa: B904 -- the snapshot's failure is the one to report
        if fresh.uri == uri.uri:
            raise
        log.info("camera %s: snapshot URI changed, fetched from the new one", camera.address.where)
    return await camera.get_snapshot(fresh.uri)


async def recording_observed(camera: Camera, clock_offset_s: float) -> dict[str, Any]:
    """A Profile G camera's recording, as ``CheckResult`` fields ({} when not recording at the
    edge). Its Recording and Search services are extras of a camera that answered the rest of
    the check: their failure says nothing of whether it is up, so it leaves the recording
    unobserved (logged) rather than the camera unreachable."""
    try:
        status = await camera.get_recording_status()
    except CameraCertificateChanged:
        raise
    except CameraError as error:
        log.info("camera %s: recording not checked: %s", camera.address.where, error)
        return {}
    if status is None:
        return {}
    seen = recording.observe(status, now=_now(), clock_offset_s=clock_offset_s)
    return {
        "recording_active": seen.active,
        "recording_lag_s": seen.lag_s,
        "recording_storage_failed": seen.storage_failed,
    }


def other_sensors(profiles: list[Profile], main: Profile) -> list[Profile]:
    """The first profile of each video source other than the main profile's, in order."""
    seen = {main.video_source_token}
    found = []
    for profile in profiles:
        if profile.video_source_token is not None and profile.video_source_token not in seen:
            seen.add(profile.video_source_token)
            found.append(profile)
    return found


async def _judge_sensors(
    camera: Camera,
    profiles: list[Profile],
    main: Profile,
    assess: Assess,
    memory: SensorMemory,
) -> tuple[SensorPicture, ...]:
    """Each other video source's snapshot, judged against its own memory. A sensor that gives
    no picture (its snapshot refused, unusable or not a JPEG) is ``video_loss``: the camera
    answers, one of its eyes is dead. Reachability and credentials are the main profile's."""
    judged = []
    for profile in other_sensors(profiles, main):
        source = profile.video_source_token or profile.token
        with contextlib.suppress(CameraUnsupported):  # its stream URI, for the stream check
            await camera.get_stream_uri(profile.token)
        try:
            uri = await camera.get_snapshot_uri(profile.token)
            snapshot = await snapshot_at(camera, profile.token, uri)
        except CameraUnsupported:
            continue  # no snapshot for it: nothing to judge
        except (CameraProtocolError, CameraAuthFailed) as error:
            log.info(
                "camera %s: sensor %s gave no picture: %s", camera.address.where, source, error
            )
            judged.append(SensorPicture(source, frozenset({"video_loss"})))
            continue
        picture, chroma = await asyncio.to_thread(decode_with_chroma, snapshot.content)
        if picture is None:
            judged.append(SensorPicture(source, frozenset({"video_loss"})))
            continue
        reference, previous = memory.get(source, (None, None))
        report = await asyncio.to_thread(
            assess, picture, reference=reference, previous=previous, chroma=chroma
        )
        judged.append(
            SensorPicture(source, frozenset(report.problems), picture, report, snapshot.content)
        )
    return tuple(judged)


def _sensor_note(main: str, problems: frozenset[str], others: tuple[SensorPicture, ...]) -> str:
    """Each sensor and what was seen on it, for the operator (``VideoSource_2: video_loss``)."""
    parts = [f"{main}: {', '.join(sorted(problems)) or 'ok'}"]
    parts += [f"{sensor.source}: {', '.join(sorted(sensor.problems)) or 'ok'}" for sensor in others]
    return "; ".join(parts)


def interop_of(camera: Camera) -> tuple[tuple[str, str], ...]:
    """What the operator is shown of how the camera is talked to (``CheckResult.interop``)."""
    scheme = camera.scheme
    items = [
        ("authentication", scheme.value if scheme is not None else "none"),
        ("clock", "signed (the camera wants credentials)" if camera.clock_needs_auth else "open"),
        ("media", camera.media or "unknown"),
    ]
    items += [(call, f"unsupported: {why}") for call, why in sorted(camera.unsupported.items())]
    return tuple(items)


def _reached(camera_id: str, observed: dict[str, Any], **more: Any) -> CheckResult:
    return CheckResult(
        camera_id=camera_id,
        kind=CheckKind.FULL,
        time=_now(),
        reachable=True,
        **observed,
        **more,
    )


class CameraProbe:
    """One camera's checks, with what they remember: the reference and the previous snapshot.

    The references (a :class:`supervision.imaging.RegimeReferences`, what ``assess`` compares
    with: one for day pictures, one for infrared night ones) are each learned from the first
    snapshots of their regime ``assess`` finds healthy, until ready; :meth:`reset_reference`
    forgets both (an operator re-aimed the camera). Only it and the
    previous snapshot are kept, in memory (they are personal data). ``vigie serve`` does not use
    this class: it keeps them in the database between checks (``vigie.supervisor.runtime``).
    """

    __slots__ = (
        "assess",
        "camera",
        "camera_id",
        "expected_resolution",
        "previous",
        "ptz_home",
        "reference",
    )

    def __init__(
        self,
        onvif: OnvifClient,
        camera_id: str,
        address: CameraAddress,
        *,
        assess: Assess,
        expected_resolution: tuple[int, int] | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.camera = onvif.camera(address)
        self.assess = assess
        self.expected_resolution = expected_resolution
        self.reference: RegimeReferences | None = None
        self.previous: np.ndarray | None = None
        self.ptz_home: PtzStatus | None = None

    def __repr__(self) -> str:
        return f"CameraProbe({self.camera_id!r}, {self.camera.address.where})"

    async def liveness(self) -> CheckResult:
        """The liveness check of this camera."""
        return await liveness_check(self.camera, self.camera_id)

    async def full(self) -> CheckResult:
        """The full check of this camera; remembers the snapshot for the next one."""
        outcome = await full_check(
            self.camera,
            self.camera_id,
            assess=self.assess,
            reference=self.reference,
            previous=self.previous,
            expected_resolution=self.expected_resolution,
            ptz_home=self.ptz_home,
        )
        if outcome.picture is not None:
            self.previous = outcome.picture
            references = self.reference or RegimeReferences()
            report = outcome.report if isinstance(outcome.report, ImageReport) else None
            regime = report.regime if report is not None else "day"
            current = references.of(regime)
            if outcome.healthy and not current.ready():
                self.ptz_home = self.ptz_home or outcome.ptz
                with contextlib.suppress(ImageError):  # a frame without picture is never learned
                    self.reference = references.learned(
                        regime,
                        current.update(outcome.picture, camera=self.camera_id, report=report),
                    )
        return outcome.result

    def reset_reference(self) -> None:
        """Forget the reference picture (and a PTZ camera's position with it); the next
        healthy snapshot becomes it."""
        self.reference = None
        self.ptz_home = None
