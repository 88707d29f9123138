"""Asynchronous ONVIF client: WSDLs parsed once per process, shared connection pools, typed results.

Built on onvif-zeep-async's WSDLs, document cache and clock-adjusted UsernameToken, but not on
its ``ONVIFCamera``: that class opens an aiohttp session per service and per camera, and
parses replies in recover mode with huge trees allowed. Here an :class:`OnvifClient` owns the
hardened transport (one aiohttp session, for SOAP and snapshots); a
:class:`Camera` is a few small objects bound to it.
Every failure is translated at this boundary into :class:`CameraUnreachable`,
:class:`CameraAuthFailed` or :class:`CameraProtocolError`, the message starting ``host:port``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import ssl
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import zeep.exceptions
from lxml import etree
from onvif import client as onvif_client
from onvif.definition import SERVICES
from zeep.wsdl import Document

from cameras import calls, clock, events, recording, soap
from cameras.errors import (
    CameraAuthFailed,
    CameraBasicRefused,
    CameraCertificateChanged,
    CameraProtocolError,
    CameraUnreachable,
    CameraUnsupported,
)
from cameras.events import CameraEvent
from cameras.models import (
    AuthScheme,
    CameraAddress,
    Capabilities,
    ClockReading,
    DeviceInformation,
    MediaUri,
    Profile,
    PtzStatus,
    Service,
    Snapshot,
)
from cameras.safexml import HARDENED_SETTINGS, MAX_SNAPSHOT_BYTES, MAX_SOAP_BYTES
from cameras.snapshot import (
    BasicRefusedError,
    CredentialsRefusedError,
    DigestChallenges,
    fetch_snapshot,
)
from cameras.transport import CappedTransport, ReplyRefusedError

log = logging.getLogger(__name__)
# onvif-zeep-async calls logging.basicConfig(level=INFO) when imported, and httpx logs every
# request at INFO: at thousands of probes a minute that would bury the service's own logs.
logging.getLogger("httpx").setLevel(logging.WARNING)

T = TypeVar("T")

_NAMESPACES = {
    "devicemgmt": soap.DEVICE,
    "media": soap.MEDIA,
    "media2": soap.MEDIA2,
    "ptz": soap.PTZ,
    "events": soap.EVENTS,
    "imaging": soap.IMAGING,
    "recording": recording.RECORDING,
    "search": recording.SEARCH,
}
"""The services whose calls :meth:`Camera._call` makes without zeep, by onvif-zeep-async's
names."""
SERVICE_OF_NAMESPACE = {namespace: service for service, namespace in _NAMESPACES.items()}
DEFAULT_PATHS = {"media": "/onvif/media_service"}
"""Where to try a service the camera did not advertise (only Media1: Profile S mandates it)."""

URI_KEPT_S = 3600.0
"""How long a camera's stream and snapshot URIs are used without asking it again. They change
only when someone sets the camera up again; asking at every full check cost two SOAP calls of
five (1 ms of CPU here, and the load on weak firmwares). A URI that fails is asked again at
once (:meth:`Camera.forget_uris`); one that still works after a change is learned within the
hour."""

WSDL_DIR = Path(onvif_client.__file__).parent / "wsdl"
DEVICE_PATH = "/onvif/device_service"
"""Where ONVIF Core (5.1.1) puts the device service on every conformant camera."""

UNREACHABLE = (
    aiohttp.ClientConnectionError,
    aiohttp.ClientPayloadError,
    OSError,
    TimeoutError,
)
"""Failures that mean "no usable answer came back": refused, reset, timed out, DNS."""

PROTOCOL = (
    zeep.exceptions.Error,
    etree.XMLSyntaxError,
    aiohttp.ClientError,
    ValueError,
    AttributeError,
    TypeError,
)
"""Failures that mean "an answer came, but it is not the ONVIF we asked for" (a reply missing
an element the code reads surfaces as AttributeError or TypeError on zeep's objects)."""

AUTH_SUBCODES = frozenset(
    {"NotAuthorized", "FailedAuthentication", "InvalidSecurityToken", "FailedCheck"}
)
"""SOAP fault subcodes (ONVIF ter: and WS-Security wsse:) that mean "wrong credentials"."""
UNSUPPORTED_SUBCODES = frozenset(
    {"ActionNotSupported", "NotSupported", "InvalidAction", "NoSuchService", "UnknownAction"}
)
"""SOAP fault subcodes (ONVIF ter:, WS-Addressing) that mean "no such call on this camera"."""

_documents: dict[str, Document] = {}
_document_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


async def shared_document(service: str) -> Document:
    """The parsed WSDL of an ONVIF service (``devicemgmt``, ``media``...), once per process.

    onvif-zeep-async caches the parse by path and fixes zeep's date/time types on it; the lock
    (one per event loop, as asyncio locks are) makes concurrent first calls wait for one parse.
    """
    if service in _documents:
        return _documents[service]
    lock = _document_locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with lock:
        if service not in _documents:
            path = str(WSDL_DIR / SERVICES[service]["wsdl"])
            _documents[service] = await onvif_client._cached_document(path)
    return _documents[service]


def binding_name(service: str) -> str:
    """The zeep QName of a service's SOAP binding."""
    return "{{{}}}{}".format(SERVICES[service]["ns"], SERVICES[service]["binding"])


def describe_fault(fault: zeep.exceptions.Fault) -> str:
    """``Code/Subcode: reason`` of a SOAP fault, as the camera sent it."""
    parts = [_local_name(fault.code)] + [_local_name(code) for code in fault.subcodes or []]
    codes = "/".join(p for p in parts if p)
    reason = (fault.message or "").strip() or "no reason given"
    return f"SOAP fault {codes}: {reason}" if codes else f"SOAP fault: {reason}"


def _local_name(code: Any) -> str:
    if code is None:
        return ""
    text = getattr(code, "localname", None) or str(code)
    return text.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


class OnvifClient:
    """Process-wide ONVIF client: one connection pool and the shared WSDLs, for many cameras.

    Use as ``async with OnvifClient() as onvif: camera = onvif.camera(address)``.
    """

    def __init__(
        self,
        *,
        max_soap_bytes: int = MAX_SOAP_BYTES,
        max_snapshot_bytes: int = MAX_SNAPSHOT_BYTES,
    ) -> None:
        # SOAP and snapshots go through one aiohttp session (cameras.transport). No total
        # connection limit: it would let hung cameras queue the healthy ones behind them;
        # callers bound concurrency themselves (supervision's scheduler does).
        self.transport = CappedTransport(max_bytes=max_soap_bytes)
        self.max_snapshot_bytes = max_snapshot_bytes
        self.digest_challenges = DigestChallenges()
        self._authless: dict[str, onvif_client.ZeepAsyncClient] = {}

    async def __aenter__(self) -> OnvifClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pools."""
        await self.transport.aclose()

    def camera(self, address: CameraAddress) -> Camera:
        """A handle on one camera; cheap, holds no connection of its own."""
        return Camera(self, address)

    async def zeep_client(
        self, service: str, wsse: onvif_client.UsernameDigestTokenDtDiff | None
    ) -> onvif_client.ZeepAsyncClient:
        """A zeep client on the shared WSDL and transport; the unauthenticated ones are shared."""
        if wsse is None and service in self._authless:
            return self._authless[service]
        zeep_client = onvif_client.ZeepAsyncClient(
            wsdl=await shared_document(service),
            wsse=wsse,
            transport=self.transport,
            settings=HARDENED_SETTINGS,
        )
        if wsse is None:
            self._authless[service] = zeep_client
        return zeep_client


class Camera:
    """One camera: the operations supervision needs, each bounded by ``address.timeout_s``.

    What the field taught, remembered per camera for the life of the handle:

    - the clock: read without credentials first (ONVIF Core lets anyone), and again *with* them
      when the camera answers a fault or a 401 (firmwares of several vendors want them); the
      token of that call is signed with the time the camera's HTTP ``Date`` header gave. Every
      token is then signed with the camera's clock (as ONVIF Device Manager does), so a camera
      hours or years off still accepts it;
    - the authentication scheme that worked (:class:`~cameras.models.AuthScheme`): WS-Security
      first, then WS-Security behind HTTP digest, then HTTP digest alone;
    - the services it offers (GetServices, else GetCapabilities) and the calls it does not
      support (:attr:`unsupported`): tried once, then skipped;
    - its stream and snapshot URIs, per profile: asked again after :data:`URI_KEPT_S` (or
      the ``Timeout`` the camera gave, if shorter), at once after :meth:`forget_uris`, never
      kept when the camera says they die with the connection.
    """

    __slots__ = (
        "_uris",
        "_xaddrs",
        "address",
        "certificate_change",
        "clock",
        "clock_needs_auth",
        "discovered",
        "events",
        "offset",
        "onvif",
        "pin",
        "scheme",
        "subscription",
        "subscription_renewed",
        "unsupported",
    )

    def __init__(self, onvif: OnvifClient, address: CameraAddress) -> None:
        self.onvif = onvif
        self.address = address
        self.clock: ClockReading | None = None
        self.offset: timedelta | None = None
        """The camera's clock minus ours, to sign tokens with; None until known."""
        self.clock_needs_auth = False
        """Whether GetSystemDateAndTime wants credentials (learned when it first refused)."""
        self.scheme: AuthScheme | None = None
        """The SOAP authentication scheme that last worked."""
        self.unsupported: dict[str, str] = {}
        """Call (``GetServices``, ``media2``, ``GetSnapshotUri``...) -> why it is unsupported."""
        self.discovered = False
        self.pin: str | None = address.tls_pin
        """A TLS camera's pinned certificate fingerprint (SHA-256, hex): the stored one, or the
        one it presented first (the caller stores it)."""
        self.certificate_change: tuple[str, str] | None = None
        """The pinned and the presented fingerprints of the last certificate refused."""
        self.subscription: str | None = None
        """The PullPoint subscription's address on the camera (None: not subscribed)."""
        self.subscription_renewed = 0.0
        """Monotonic time of its creation or last renewal."""
        self.events: dict[str, CameraEvent] = {}
        """The latest state of each health property the camera reported, by key."""
        self._xaddrs: dict[str, str] = {}
        self._uris: dict[tuple[str, str], tuple[MediaUri, float]] = {}
        """(call, profile token) -> the URI and the monotonic time it is asked for again."""

    def __repr__(self) -> str:
        return f"Camera({self.address.where})"

    @property
    def media(self) -> str | None:
        """``"media2"`` or ``"media"``: the media service the profiles are read from (None
        before discovery)."""
        if not self.discovered:
            return None
        if "media2" in self._xaddrs and "media2" not in self.unsupported:
            return "media2"
        return "media"

    def offers(self, service: str) -> bool:
        """Whether discovery found ``service`` (``ptz``, ``events``...) and it was not found
        unsupported since."""
        return bool(self._xaddrs.get(service)) and service not in self.unsupported

    # --- operations ------------------------------------------------------------------------

    async def get_system_date_and_time(self) -> ClockReading:
        """The camera's clock: proves it answers, and sets the offset tokens are signed with.

        Unauthenticated first; on a SOAP fault or HTTP 401, again with credentials. A camera
        whose credentials are then refused raises :class:`CameraAuthFailed` (it answered).
        """

        async def call() -> ClockReading:
            if not self.clock_needs_auth:
                # No zeep: the request is constant and the reply small (cameras.clock says why).
                sent = time.time()
                status, headers, _, root = await self.onvif.transport.exchange(
                    self._address_of("devicemgmt"),
                    clock.REQUEST,
                    clock.HEADERS,
                    **(await self._tls()),
                )
                received = time.time()
                try:
                    return clock.read_reply(status, root, sent, received)
                except (zeep.exceptions.Fault, zeep.exceptions.TransportError) as refusal:
                    estimate = clock.offset_from_date_header(headers, sent, received)
                    reading = await self._clock_with_credentials(refusal, estimate)
                    self.clock_needs_auth = True
                    log.info(
                        "%s: GetSystemDateAndTime wants authentication (%s); signed from now on",
                        self.address.where,
                        _brief(refusal),
                    )
                    return reading
            return await self._clock_with_credentials(None, None)

        reading = await self._run("GetSystemDateAndTime", call)
        self.clock = reading
        self.offset = timedelta(seconds=round(reading.offset_s))
        return reading

    async def _clock_with_credentials(
        self, refusal: Exception | None, estimate_s: float | None
    ) -> ClockReading:
        """GetSystemDateAndTime with credentials; the unauthenticated ``refusal`` is raised
        instead when the camera answers the signed call with something other than its clock
        or a refusal of the credentials (it is then not an authentication matter)."""
        if self.offset is None and estimate_s is not None:
            self.offset = timedelta(seconds=round(estimate_s))
        sent = time.time()
        try:
            answer, _ = await self._exchange("devicemgmt", soap.DEVICE, clock.OPERATION, "")
        except (zeep.exceptions.Fault, zeep.exceptions.TransportError) as error:
            if refusal is not None and not _refuses_credentials(error):
                raise refusal from error
            raise
        return clock.read_answer(answer, sent, time.time())

    async def get_device_information(self) -> DeviceInformation:
        """Make, model, firmware and serial number (authenticated)."""
        return await self._run(
            "GetDeviceInformation",
            lambda: self._call("devicemgmt", "GetDeviceInformation", calls.device_information),
        )

    async def get_services(self) -> list[Service]:
        """The services the camera offers and their addresses (GetServices)."""
        return await self._run(
            "GetServices",
            lambda: self._call(
                "devicemgmt", "GetServices", calls.services, calls.SERVICES_BODY, optional=True
            ),
        )

    async def get_capabilities(self) -> Capabilities:
        """Service addresses from GetCapabilities (category All); remembered for later calls."""

        async def call() -> Capabilities:
            caps = await self._call(
                "devicemgmt", "GetCapabilities", calls.capabilities, calls.CAPABILITIES_ALL
            )
            for service, xaddr in (
                ("media", caps.media),
                ("imaging", caps.imaging),
                ("events", caps.events),
                ("ptz", caps.ptz),
            ):
                if xaddr:
                    self._xaddrs[service] = xaddr
            return caps

        return await self._run("GetCapabilities", call)

    async def discover(self) -> None:
        """Which services the camera offers, once per handle: GetServices, or GetCapabilities
        where the camera does not support it (ONVIF 1.x firmwares)."""
        if self.discovered:
            return
        await self._ready_clock()
        try:
            found = await self.get_services()
        except (CameraUnsupported, CameraProtocolError) as error:
            # Not GetServices as ONVIF 2.x has it (a fault, or not the reply asked for): the
            # ONVIF 1.x way answers the same question.
            self.unsupported.setdefault("GetServices", str(error).split(": ", 2)[-1])
            if not self._xaddrs:  # unless GetCapabilities was already read
                await self.get_capabilities()
        else:
            for item in found:
                service = SERVICE_OF_NAMESPACE.get(item.namespace)
                if service is not None and item.xaddr:
                    self._xaddrs[service] = item.xaddr
        if "media" not in self._xaddrs and "media2" not in self._xaddrs:
            self._xaddrs["media"] = ""  # ONVIF Profile S: media is mandatory; try its path
        self.discovered = True

    async def get_profiles(self) -> list[Profile]:
        """The media profiles: Media2's where the camera offers it (H.265 cameras, Profile T),
        else Media1's; a Media2 the camera turns out not to support falls back to Media1."""

        async def call() -> list[Profile]:
            await self.discover()
            if self.media == "media2":
                try:
                    return await self._call(
                        "media2",
                        "GetProfiles",
                        calls.profiles2,
                        calls.PROFILES2_BODY,
                        optional=True,
                        record_as="media2",
                    )
                except CameraUnsupportedError:
                    if "media" not in self._xaddrs:
                        raise
            return await self._call("media", "GetProfiles", calls.profiles)

        return await self._run("GetProfiles", call)

    async def get_stream_uri(self, profile_token: str) -> MediaUri:
        """The RTSP URI of a profile (RTP unicast over RTSP); the one kept, while it is."""
        if (kept := self._kept_uri("GetStreamUri", profile_token)) is not None:
            return kept

        async def call() -> MediaUri:
            await self.discover()
            if self.media == "media2":
                body = calls.stream_uri2_body(profile_token)
                return await self._call(
                    "media2", "GetStreamUri", calls.media2_uri, body, optional=True
                )
            body = calls.stream_uri_body(profile_token)
            return await self._call("media", "GetStreamUri", calls.media_uri, body, optional=True)

        return self._keep_uri("GetStreamUri", profile_token, await self._run("GetStreamUri", call))

    async def get_snapshot_uri(self, profile_token: str) -> MediaUri:
        """The HTTP URI of a profile's JPEG snapshot; the one kept, while it is."""
        if (kept := self._kept_uri("GetSnapshotUri", profile_token)) is not None:
            return kept

        async def call() -> MediaUri:
            await self.discover()
            body = calls.snapshot_uri_body(profile_token)
            if self.media == "media2":
                return await self._call(
                    "media2", "GetSnapshotUri", calls.media2_uri, body, optional=True
                )
            return await self._call("media", "GetSnapshotUri", calls.media_uri, body, optional=True)

        uri = await self._run("GetSnapshotUri", call)
        return self._keep_uri("GetSnapshotUri", profile_token, uri)

    def forget_uris(self) -> None:
        """Ask the camera for its URIs again at the next call: one of them failed (the camera
        was set up again, or rebooted and its URIs died with it)."""
        self._uris.clear()

    def _kept_uri(self, call: str, profile_token: str) -> MediaUri | None:
        kept = self._uris.get((call, profile_token))
        if kept is None or time.monotonic() >= kept[1]:
            return None
        return kept[0]

    def _keep_uri(self, call: str, profile_token: str, uri: MediaUri) -> MediaUri:
        if not uri.invalid_after_connect:
            life = min(URI_KEPT_S, uri.timeout_s or URI_KEPT_S)  # PT0S: valid for ever
            self._uris[(call, profile_token)] = (uri, time.monotonic() + life)
        return uri

    async def get_ptz_status(self, profile_token: str) -> PtzStatus:
        """Where a PTZ head points (PTZ GetStatus); :class:`CameraUnsupported` without PTZ."""

        async def call() -> PtzStatus:
            await self.discover()
            if "ptz" not in self._xaddrs:
                self.unsupported.setdefault("ptz", "no PTZ service (GetServices)")
                raise CameraUnsupportedError("ptz", self.unsupported["ptz"])
            body = calls.snapshot_uri_body(profile_token)  # the same single ProfileToken child
            return await self._call(
                "ptz", "GetStatus", calls.ptz_status, body, optional=True, record_as="ptz"
            )

        return await self._run("GetStatus", call)

    async def get_recording_status(self) -> recording.RecordingStatus | None:
        """What a camera recording at the edge (ONVIF Profile G) says of its recordings; None
        for a camera that does not record at the edge (no Recording or Search service, both
        unsupported, or no recording job): that is a choice of the site, not a fault."""

        async def call() -> recording.RecordingStatus | None:
            await self.discover()
            summary = None
            if self.offers("search"):
                with contextlib.suppress(CameraUnsupportedError):
                    summary = await self._call(
                        "search", "GetRecordingSummary", recording.summary, optional=True
                    )
            jobs: list[recording.RecordingJob] = []
            if self.offers("recording"):
                with contextlib.suppress(CameraUnsupportedError):
                    jobs = await self._call(
                        "recording", "GetRecordingJobs", recording.jobs, optional=True
                    )
            if not jobs:
                return None
            return recording.RecordingStatus(summary, tuple([await self._job(j) for j in jobs]))

        return await self._run("GetRecordingJobs", call)

    async def _job(self, job: recording.RecordingJob) -> recording.RecordingJob:
        """A job with its actual state, where the camera tells it (GetRecordingJobState)."""
        try:
            state, tracks, errors = await self._call(
                "recording",
                "GetRecordingJobState",
                recording.job_state,
                recording.job_state_body(job.token),
                optional=True,
            )
        except CameraUnsupportedError:
            return job
        except zeep.exceptions.Fault as fault:
            if _refuses_credentials(fault):
                raise
            # Some firmwares refuse the state of a job they listed (InvalidArgVal): its
            # configured mode still tells whether it should record.
            log.info("%s: GetRecordingJobState: %s", self.address.where, describe_fault(fault))
            return job
        return replace(job, state=state or None, track_states=tracks, errors=errors)

    async def pull_events(self) -> list[CameraEvent]:
        """The camera's health events (PullPoint): subscribes on first use, renews before the
        subscription ends (or re-creates it where Renew is not supported), re-creates it when
        the camera forgot it (a restart), and returns the latest state of every health
        property the camera has reported. :class:`CameraUnsupported` without events."""

        async def call() -> list[CameraEvent]:
            await self.discover()
            if not self._xaddrs.get("events"):
                self.unsupported.setdefault("events", "no events service (GetServices)")
            if "events" in self.unsupported:
                raise CameraUnsupportedError("events", self.unsupported["events"])
            await self._keep_subscription()
            try:
                root = await self._pull()
            except (zeep.exceptions.Fault, zeep.exceptions.TransportError) as error:
                if _refuses_credentials(error):
                    raise
                log.info(
                    "%s: subscription lost (%s): subscribing again",
                    self.address.where,
                    _brief(error),
                )
                self.subscription = None
                await self._keep_subscription()
                root = await self._pull()
            for event in await self._read_events(root):
                self.events[event.key] = event
            return list(self.events.values())

        return await self._run("PullMessages", call)

    async def _keep_subscription(self) -> None:
        """Subscribe, or renew a subscription about to end (re-create it if Renew fails)."""
        if self.subscription is not None and (
            time.monotonic() - self.subscription_renewed < events.RENEW_AFTER_S
        ):
            return
        if self.subscription is not None:
            try:
                await self._exchange(
                    "events",
                    events.WSNT,
                    "Renew",
                    events.RENEW_BODY,
                    address=self.subscription,
                    action=events.RENEW_ACTION,
                )
            except (zeep.exceptions.Fault, zeep.exceptions.TransportError) as error:
                if _refuses_credentials(error):
                    raise
                log.info(
                    "%s: Renew refused (%s): subscribing again", self.address.where, _brief(error)
                )
                self.subscription = None
            else:
                self.subscription_renewed = time.monotonic()
                return
        try:
            answer, _ = await self._exchange(
                "events", soap.EVENTS, "CreatePullPointSubscription", events.CREATE_BODY
            )
        except (zeep.exceptions.Fault, zeep.exceptions.TransportError) as error:
            if _says_unsupported(error):
                self.unsupported["events"] = _brief(error)
                raise CameraUnsupportedError("events", self.unsupported["events"]) from error
            raise
        self.subscription = self._on_camera(events.read_subscription(answer))
        self.subscription_renewed = time.monotonic()
        self.events.clear()  # a new subscription starts with every property's current state

    async def _pull(self) -> etree._Element:
        assert self.subscription is not None
        _, root = await self._exchange(
            "events",
            soap.EVENTS,
            "PullMessages",
            events.PULL_BODY,
            address=self.subscription,
            action=events.PULL_ACTION,
        )
        return root

    async def _read_events(self, root: etree._Element) -> list[CameraEvent]:
        """The health events of a PullMessages reply: zeep deserialises the notifications (only
        when there are some: an empty pull costs the strict parse alone)."""
        if events.normalise_topics(root) == 0:
            return []
        zeep_client = await self.onvif.zeep_client("pullpoint", None)
        operation = zeep_client.wsdl.bindings[binding_name("pullpoint")].get("PullMessages")
        reply = operation.process_reply(root)
        return await events.health_events(list(reply.NotificationMessage or []), self.address.where)

    async def get_snapshot(self, uri: str) -> Snapshot:
        """Fetch a JPEG from ``uri`` (HTTP digest; basic only if ``address.basic_auth``),
        capped in size.

        The URI must point at the camera's own host: credentials are never sent elsewhere. A
        basic challenge from a camera not allowed basic is :class:`CameraBasicRefused`.
        """

        async def call() -> Snapshot:
            return await fetch_snapshot(
                self.onvif.transport.session,
                self.onvif.digest_challenges,
                self.address,
                uri,
                max_bytes=self.onvif.max_snapshot_bytes,
                ssl=(await self._tls())["ssl"],
            )

        return await self._run("snapshot", call)

    async def zeep_proxy(self, service: str) -> Any:
        """zeep's authenticated proxy on one service, signed with the camera's clock: what the
        tests check the hand-built calls against (supervision does not use it)."""
        await self._ready_clock()
        if service != "devicemgmt":
            await self.discover()
        wsse = onvif_client.UsernameDigestTokenDtDiff(
            self.address.username, self.address.password, dt_diff=self.offset, use_digest=True
        )
        zeep_client = await self.onvif.zeep_client(service, wsse)
        return zeep_client.create_service(binding_name(service), self._address_of(service))

    # --- plumbing --------------------------------------------------------------------------

    async def _run(  # noqa: PLR0912 -- one branch per way a camera can fail
        self, operation: str, call: Callable[[], Awaitable[T]]
    ) -> T:
        """Run one operation under the camera's timeout; translate every failure."""
        where = self.address.where
        try:
            async with asyncio.timeout(self.address.timeout_s):
                return await call()
        except CameraUnsupportedError as error:
            raise CameraUnsupported(f"{where}: {operation}: unsupported: {error}") from error
        except BasicRefusedError as error:
            raise CameraBasicRefused(f"{where}: {operation}: {error}") from error
        except CredentialsRefusedError as error:
            raise CameraAuthFailed(f"{where}: {operation}: {error}") from error
        except ReplyRefusedError as error:
            raise CameraProtocolError(f"{where}: {operation}: {error}") from error
        except TimeoutError as error:
            raise CameraUnreachable(
                f"{where}: {operation}: no answer within {self.address.timeout_s:g} s"
            ) from error
        except zeep.exceptions.Fault as fault:
            detail = describe_fault(fault)
            if _refuses_credentials(fault):
                raise CameraAuthFailed(f"{where}: {operation}: {detail}") from fault
            raise CameraProtocolError(f"{where}: {operation}: {detail}") from fault
        except zeep.exceptions.TransportError as error:
            if error.status_code == 401:
                raise CameraAuthFailed(f"{where}: {operation}: HTTP 401") from error
            raise CameraProtocolError(
                f"{where}: {operation}: HTTP {error.status_code} without a SOAP reply"
            ) from error
        except aiohttp.ServerFingerprintMismatch as error:
            pinned, presented = error.expected.hex(), error.got.hex()
            self.certificate_change = (pinned, presented)
            raise CameraCertificateChanged(
                f"{where}: {operation}: the camera's TLS certificate changed (pinned SHA-256 "
                f"{pinned[:16]}..., presented {presented[:16]}...): nothing was sent; if the "
                "camera was re-keyed, trust its new certificate",
                pinned=pinned,
                presented=presented,
            ) from error
        except aiohttp.ClientConnectorError as error:
            reason = error.os_error.strerror or str(error.os_error)
            raise CameraUnreachable(f"{where}: {operation}: cannot connect: {reason}") from error
        except UNREACHABLE as error:
            raise CameraUnreachable(
                f"{where}: {operation}: {type(error).__name__}: {error or 'connection failed'}"
            ) from error
        except PROTOCOL as error:
            raise CameraProtocolError(
                f"{where}: {operation}: unusable reply ({type(error).__name__}: {str(error)[:200]})"
            ) from error

    async def _call(
        self,
        service: str,
        operation: str,
        read: Callable[[etree._Element], T],
        body: str = "",
        *,
        optional: bool = False,
        record_as: str | None = None,
    ) -> T:
        """One authenticated call without zeep (:mod:`cameras.calls` says why).

        ``optional``: a call the camera may not support; a fault or HTTP status that says so is
        recorded in :attr:`unsupported` under ``record_as`` (default: the operation) and raised
        as :class:`CameraUnsupportedError`, and the call is not made again.
        """
        key = record_as or operation
        if optional and key in self.unsupported:
            raise CameraUnsupportedError(key, self.unsupported[key])
        await self._ready_clock()
        try:
            answer, _ = await self._exchange(service, _NAMESPACES[service], operation, body)
        except (zeep.exceptions.Fault, zeep.exceptions.TransportError) as error:
            if optional and _says_unsupported(error):
                self.unsupported[key] = _brief(error)
                log.info("%s: %s unsupported: %s", self.address.where, key, self.unsupported[key])
                raise CameraUnsupportedError(key, self.unsupported[key]) from error
            raise
        return read(answer)

    async def _ready_clock(self) -> None:
        """Sign with the camera's time: a drifting camera refuses tokens from "the future"."""
        if self.clock is None:
            await self.get_system_date_and_time()

    async def _exchange(
        self,
        service: str,
        namespace: str,
        operation: str,
        body: str,
        *,
        address: str | None = None,
        action: str | None = None,
    ) -> tuple[etree._Element, etree._Element]:
        """One signed SOAP exchange: the remembered scheme first, then the others while the
        camera refuses the credentials. Returns the checked ``<operation>Response`` and the
        envelope. ``address`` instead of the service's (a subscription's); ``action``: send
        WS-Addressing headers with it."""
        order = list(AuthScheme)
        if self.scheme is not None:
            order.remove(self.scheme)
            order.insert(0, self.scheme)
        first_refusal: Exception | None = None
        address = address or self._address_of(service)
        extra = soap.addressing(action, address) if action else ""
        for scheme in order:
            token = (
                soap.username_token(self.address.username, self.address.password, self.offset)
                if scheme.token
                else ""
            )
            middlewares = (self._digest(address),) if scheme.digest else ()
            status, _, _, root = await self.onvif.transport.exchange(
                address,
                soap.request(namespace, operation, body, security=token, addressing=extra),
                soap.headers(namespace, operation),
                middlewares=middlewares,
                **(await self._tls()),
            )
            try:
                answer = soap.response(status, root, operation)
            except (zeep.exceptions.Fault, zeep.exceptions.TransportError) as error:
                if not _refuses_credentials(error):
                    raise
                first_refusal = first_refusal or error
                continue
            if self.scheme is not scheme:
                if self.scheme is not None or scheme is not AuthScheme.WS_SECURITY:
                    log.info("%s: SOAP authentication by %s", self.address.where, scheme.value)
                self.scheme = scheme
            assert root is not None  # soap.response raised for an empty body
            return answer, root
        assert first_refusal is not None
        raise first_refusal

    async def _tls(self) -> dict[str, Any]:
        """How to connect: plain HTTP, or a TLS camera's pinned fingerprint, which every
        connection must present before anything is sent. A camera without one yet has its
        certificate read by a bare handshake first (trust on first use): no request, and so
        no credentials, ever goes over an unpinned connection."""
        if not self.address.tls:
            return {"ssl": True}
        if self.pin is None:
            self.pin = hashlib.sha256(await self._presented_certificate()).hexdigest()
            log.info(
                "%s: TLS certificate pinned on first use (SHA-256 %s)",
                self.address.where,
                self.pin,
            )
        return {"ssl": aiohttp.Fingerprint(bytes.fromhex(self.pin))}

    async def _presented_certificate(self) -> bytes:
        """The DER certificate the camera presents (a TLS handshake, nothing sent)."""
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # self-signed: what it is matters, not who signed
        _, writer = await asyncio.open_connection(self.address.host, self.address.port, ssl=context)
        try:
            ssl_object = writer.get_extra_info("ssl_object")
            certificate = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        finally:
            writer.close()
        if not certificate:
            raise ReplyRefusedError("the camera presented no TLS certificate")
        return certificate

    def _digest(self, address: str) -> aiohttp.DigestAuthMiddleware:
        parts = urlsplit(address)
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        return self.onvif.digest_challenges.middleware(origin, self.address)

    def _address_of(self, service: str) -> str:
        """The service URL: the path the camera advertises, on the host:port we were given.

        Cameras behind NAT advertise LAN addresses, and a hostile one could point elsewhere:
        keeping our host:port sends requests (and credentials) only to the camera itself.
        """
        path = DEVICE_PATH
        advertised = self._xaddrs.get(service)
        if advertised:
            path = urlsplit(advertised).path or DEVICE_PATH
        elif service in DEFAULT_PATHS:
            path = DEFAULT_PATHS[service]
        return urlunsplit((self.address.scheme, self.address.where, path, "", ""))

    def _on_camera(self, url: str) -> str:
        """A URL the camera gave (a subscription's), moved onto the host:port we were given."""
        parts = urlsplit(url)
        return urlunsplit(
            (self.address.scheme, self.address.where, parts.path or "/", parts.query, "")
        )


class CameraUnsupportedError(Exception):
    """A call the camera does not support (the client adds host:port)."""

    def __init__(self, call: str, reason: str) -> None:
        super().__init__(reason)
        self.call = call


def _refuses_credentials(error: Exception) -> bool:
    """Whether a fault or an HTTP status says "not with these credentials"."""
    if isinstance(error, zeep.exceptions.TransportError):
        return error.status_code == 401
    if isinstance(error, zeep.exceptions.Fault):
        codes = {_local_name(code) for code in error.subcodes or []}
        if codes & AUTH_SUBCODES:
            return True
        return "not authori" in (error.message or "").lower() and not codes - {"Sender"}
    return False


def _says_unsupported(error: Exception) -> bool:
    """Whether a fault or an HTTP status says the camera lacks the call or the service."""
    if isinstance(error, zeep.exceptions.TransportError):
        return error.status_code in (404, 405, 501)
    if isinstance(error, zeep.exceptions.Fault):
        codes = {_local_name(code) for code in error.subcodes or []}
        if codes & UNSUPPORTED_SUBCODES:
            return True
        reason = (error.message or "").lower()
        return "not supported" in reason or "not implemented" in reason or "unknown" in reason
    return False


def _brief(error: Exception) -> str:
    if isinstance(error, zeep.exceptions.Fault):
        return describe_fault(error)
    if isinstance(error, zeep.exceptions.TransportError):
        return f"HTTP {error.status_code}"
    return str(error)
