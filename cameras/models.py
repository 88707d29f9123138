"""Typed results of the ONVIF operations supervision needs (plain dataclasses, no zeep objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class CameraAddress:
    """Where a camera answers and how to log in; ``timeout_s`` bounds every call to it.

    ``basic_auth``: answer an HTTP Basic challenge, which sends the password in clear. Off by
    default (Digest and WS-Security only): a camera must be configured for it.

    ``tls``: talk HTTPS to it. Cameras' certificates are self-signed, so none is verified
    against an authority: its SHA-256 fingerprint is pinned on first use (``tls_pin``, hex, as
    stored) and any other certificate is refused before anything is sent
    (:class:`~cameras.errors.CameraCertificateChanged`).
    """

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    timeout_s: float = 5.0
    basic_auth: bool = False
    tls: bool = False
    tls_pin: str | None = None

    @property
    def where(self) -> str:
        """``host:port``, the prefix of every message about this camera."""
        return f"{self.host}:{self.port}"

    @property
    def scheme(self) -> str:
        """``https`` for a TLS camera, else ``http``."""
        return "https" if self.tls else "http"


@dataclass(frozen=True, slots=True)
class ClockReading:
    """The camera's clock against ours: ``offset_s`` = camera UTC minus local UTC."""

    camera_utc: datetime
    offset_s: float
    date_time_type: str | None
    time_zone: str | None
    round_trip_s: float


@dataclass(frozen=True, slots=True)
class DeviceInformation:
    """Make, model, firmware and serial number, as the camera states them."""

    manufacturer: str
    model: str
    firmware_version: str
    serial_number: str
    hardware_id: str


@dataclass(frozen=True, slots=True)
class Service:
    """One ONVIF service the camera offers (GetServices)."""

    namespace: str
    xaddr: str
    version: str


@dataclass(frozen=True, slots=True)
class Capabilities:
    """The service addresses GetCapabilities gives (``None`` for a service the camera lacks)."""

    device: str | None
    media: str | None
    imaging: str | None
    events: str | None
    ptz: str | None
    analytics: str | None
    video_sources: int | None


@dataclass(frozen=True, slots=True)
class Profile:
    """A media profile: what the camera streams (encoder settings; ``None`` when not set)."""

    token: str
    name: str
    encoding: str | None
    width: int | None
    height: int | None
    frame_rate: int | None
    bitrate_kbps: int | None
    video_source_token: str | None


@dataclass(frozen=True, slots=True)
class MediaUri:
    """A stream or snapshot URI as the camera gives it."""

    uri: str
    invalid_after_connect: bool
    invalid_after_reboot: bool
    timeout: str | None
    timeout_s: float | None = None
    """``timeout`` in seconds; None when absent or in months or years (then long)."""


@dataclass(frozen=True, slots=True)
class PtzStatus:
    """Where a PTZ head points (ONVIF generic spaces: pan and tilt -1..1, zoom 0..1)."""

    pan: float | None
    tilt: float | None
    zoom: float | None
    moving: bool | None

    def distance(self, other: PtzStatus) -> float | None:
        """The largest difference of a coordinate both know, or None if they share none."""
        pairs = [
            (a, b)
            for a, b in ((self.pan, other.pan), (self.tilt, other.tilt), (self.zoom, other.zoom))
            if a is not None and b is not None
        ]
        return max(abs(a - b) for a, b in pairs) if pairs else None


class AuthScheme(StrEnum):
    """How a camera takes the credentials on its SOAP endpoint (remembered per camera)."""

    WS_SECURITY = "ws-security"
    """A WS-Security UsernameToken digest in the SOAP header (ONVIF Core's way)."""
    WS_SECURITY_AND_HTTP_DIGEST = "ws-security+http-digest"
    """Both: firmwares that put HTTP digest in front of the SOAP endpoint and also check the
    token."""
    HTTP_DIGEST = "http-digest"
    """HTTP digest only: firmwares that refuse the token (their WS-Security is off)."""

    @property
    def token(self) -> bool:
        return self is not AuthScheme.HTTP_DIGEST

    @property
    def digest(self) -> bool:
        return self is not AuthScheme.WS_SECURITY


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A JPEG picture fetched over HTTP."""

    content: bytes = field(repr=False)
    content_type: str
    auth_scheme: str
    fetched_at: datetime
