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
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import zeep.exceptions
from lxml import etree
from onvif import client as onvif_client
from onvif.definition import SERVICES
from zeep.proxy import AsyncServiceProxy
from zeep.wsdl import Document

from cameras import calls, clock, soap
from cameras.errors import (
    CameraAuthFailed,
    CameraBasicRefused,
    CameraProtocolError,
    CameraUnreachable,
)
from cameras.models import (
    CameraAddress,
    Capabilities,
    ClockReading,
    DeviceInformation,
    MediaUri,
    Profile,
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

_NAMESPACES = {"devicemgmt": soap.DEVICE, "media": soap.MEDIA}
"""The services whose calls :meth:`Camera._call` makes without zeep."""

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

AUTH_SUBCODES = frozenset({"NotAuthorized", "FailedAuthentication", "InvalidSecurityToken"})
"""SOAP fault subcodes (ONVIF ter: and WS-Security wsse:) that mean "wrong credentials"."""

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

    The UsernameToken is signed with the camera's clock (as ONVIF Device Manager does): the
    first authenticated call reads the camera's time if no :meth:`get_system_date_and_time` was
    made, so a camera whose clock is off by hours still accepts the digest.
    """

    __slots__ = ("_proxies", "_wsse", "_xaddrs", "address", "clock", "onvif")

    def __init__(self, onvif: OnvifClient, address: CameraAddress) -> None:
        self.onvif = onvif
        self.address = address
        self.clock: ClockReading | None = None
        self._wsse = onvif_client.UsernameDigestTokenDtDiff(
            address.username, address.password, dt_diff=None, use_digest=True
        )
        self._proxies: dict[tuple[str, bool], AsyncServiceProxy] = {}
        self._xaddrs: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Camera({self.address.where})"

    # --- operations ------------------------------------------------------------------------

    async def get_system_date_and_time(self) -> ClockReading:
        """The camera's clock (unauthenticated): proves it answers, and sets the token's offset."""

        async def call() -> ClockReading:
            # No zeep: the request is constant and the reply small (cameras.clock says why).
            sent = time.time()
            status, _, _, root = await self.onvif.transport.exchange(
                self._address_of("devicemgmt"), clock.REQUEST, clock.HEADERS
            )
            received = time.time()
            return clock.read_reply(status, root, sent, received)

        reading = await self._run("GetSystemDateAndTime", call)
        self.clock = reading
        self._wsse.dt_diff = timedelta(seconds=round(reading.offset_s))
        return reading

    async def get_device_information(self) -> DeviceInformation:
        """Make, model, firmware and serial number (authenticated)."""
        return await self._run(
            "GetDeviceInformation",
            lambda: self._call("devicemgmt", "GetDeviceInformation", calls.device_information),
        )

    async def get_services(self) -> list[Service]:
        """The services the camera offers and their addresses (GetServices)."""

        async def call() -> list[Service]:
            reply = await (await self._authed("devicemgmt")).GetServices(IncludeCapability=False)
            services = []
            for item in reply or []:
                version = item.Version
                services.append(
                    Service(
                        namespace=_text(item.Namespace),
                        xaddr=_text(item.XAddr),
                        version=f"{version.Major}.{version.Minor}" if version else "",
                    )
                )
            return services

        return await self._run("GetServices", call)

    async def get_capabilities(self) -> Capabilities:
        """Service addresses from GetCapabilities (category All); remembered for later calls."""

        async def call() -> Capabilities:
            caps = await self._call(
                "devicemgmt", "GetCapabilities", calls.capabilities, calls.CAPABILITIES_ALL
            )
            for service, xaddr in (("media", caps.media), ("imaging", caps.imaging)):
                if xaddr:
                    self._xaddrs[service] = xaddr
            return caps

        return await self._run("GetCapabilities", call)

    async def get_profiles(self) -> list[Profile]:
        """The media profiles (Media service GetProfiles)."""
        return await self._run(
            "GetProfiles", lambda: self._call("media", "GetProfiles", calls.profiles)
        )

    async def get_stream_uri(self, profile_token: str) -> MediaUri:
        """The RTSP URI of a profile (RTP unicast over RTSP)."""
        body = calls.stream_uri_body(profile_token)
        return await self._run(
            "GetStreamUri", lambda: self._call("media", "GetStreamUri", calls.media_uri, body)
        )

    async def get_snapshot_uri(self, profile_token: str) -> MediaUri:
        """The HTTP URI of a profile's JPEG snapshot."""
        body = calls.snapshot_uri_body(profile_token)
        return await self._run(
            "GetSnapshotUri", lambda: self._call("media", "GetSnapshotUri", calls.media_uri, body)
        )

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
            )

        return await self._run("snapshot", call)

    # --- plumbing --------------------------------------------------------------------------

    async def _run(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        """Run one operation under the camera's timeout; translate every failure."""
        where = self.address.where
        try:
            async with asyncio.timeout(self.address.timeout_s):
                return await call()
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
            if {_local_name(code) for code in fault.subcodes or []} & AUTH_SUBCODES:
                raise CameraAuthFailed(f"{where}: {operation}: {detail}") from fault
            raise CameraProtocolError(f"{where}: {operation}: {detail}") from fault
        except zeep.exceptions.TransportError as error:
            if error.status_code == 401:
                raise CameraAuthFailed(f"{where}: {operation}: HTTP 401") from error
            raise CameraProtocolError(
                f"{where}: {operation}: HTTP {error.status_code} without a SOAP reply"
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
        self, service: str, operation: str, read: Callable[[etree._Element], T], body: str = ""
    ) -> T:
        """One authenticated call without zeep (:mod:`cameras.calls` says why)."""
        await self._ready_for(service)
        namespace = _NAMESPACES[service]
        token = soap.username_token(
            self.address.username, self.address.password, self._wsse.dt_diff
        )
        status, _, _, root = await self.onvif.transport.exchange(
            self._address_of(service),
            soap.request(namespace, operation, body, security=token),
            soap.headers(namespace, operation),
        )
        return read(soap.response(status, root, operation))

    async def _ready_for(self, service: str) -> None:
        """What an authenticated call needs first: the camera's clock, the service's address."""
        if self.clock is None:
            # Sign with the camera's time: a drifting camera refuses tokens from "the future".
            await self.get_system_date_and_time()
        if service != "devicemgmt" and service not in self._xaddrs:
            await self.get_capabilities()

    async def _authed(self, service: str) -> AsyncServiceProxy:
        await self._ready_for(service)
        return await self._proxy(service, authenticated=True)

    async def _proxy(self, service: str, *, authenticated: bool) -> AsyncServiceProxy:
        key = (service, authenticated)
        proxy = self._proxies.get(key)
        if proxy is None:
            zeep_client = await self.onvif.zeep_client(
                service, self._wsse if authenticated else None
            )
            proxy = zeep_client.create_service(binding_name(service), self._address_of(service))
            self._proxies[key] = proxy
        return proxy

    def _address_of(self, service: str) -> str:
        """The service URL: the path the camera advertises, on the host:port we were given.

        Cameras behind NAT advertise LAN addresses, and a hostile one could point elsewhere:
        keeping our host:port sends requests (and credentials) only to the camera itself.
        """
        path = DEVICE_PATH
        advertised = self._xaddrs.get(service)
        if advertised:
            path = urlsplit(advertised).path or DEVICE_PATH
        return urlunsplit(("http", self.address.where, path, "", ""))


# --- zeep objects to dataclasses -------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()
