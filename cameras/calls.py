"""The full check's authenticated calls without zeep: request bodies and reply readers.

GetDeviceInformation, GetProfiles, GetStreamUri and GetSnapshotUri are what a supervisor asks
every camera every few minutes (``supervision.probes.full_check``), and GetCapabilities once
per camera (the media service's address): through zeep, that one also left an authenticated
zeep client of 87 objects per camera for the garbage collector to walk. Through zeep they cost
about 7 ms of CPU per camera (GetProfiles 4 ms); built and read here, a fraction of that
(``benchmarks/supervision/full_check_cost.json``). Each reader gives the typed result zeep's
objects gave, read from the element tree :func:`cameras.soap.response` returns; the envelopes
and the token are :mod:`cameras.soap`'s. GetServices, which nothing polls, stays on zeep
in :mod:`cameras.client`.
"""

from __future__ import annotations

from datetime import timedelta
from xml.sax.saxutils import escape

import isodate
from lxml import etree

from cameras import soap
from cameras.models import Capabilities, DeviceInformation, MediaUri, Profile, PtzStatus, Service

__all__ = [
    "CAPABILITIES_ALL",
    "capabilities",
    "device_information",
    "media2_uri",
    "media_uri",
    "profiles",
    "profiles2",
    "ptz_status",
    "services",
    "snapshot_uri_body",
    "stream_uri_body",
]


CAPABILITIES_ALL = "<ns0:Category>All</ns0:Category>"
"""GetCapabilities' child: every category."""


def capabilities(answer: etree._Element) -> Capabilities:
    """GetCapabilitiesResponse as :class:`Capabilities`: each category's service address.

    DeviceIO's VideoSources is read wherever the camera put it under Extension (the recorded
    Bosch orders Extension's children so that zeep's schema could not place it).
    """
    caps = soap.child(answer, "Capabilities")
    extension = soap.optional(caps, "Extension")
    return Capabilities(
        device=_xaddr(caps, "Device"),
        media=_xaddr(caps, "Media"),
        imaging=_xaddr(caps, "Imaging"),
        events=_xaddr(caps, "Events"),
        ptz=_xaddr(caps, "PTZ"),
        analytics=_xaddr(caps, "Analytics"),
        video_sources=soap.optional_integer(soap.optional(extension, "DeviceIO"), "VideoSources"),
    )


def _xaddr(caps: etree._Element, category: str) -> str | None:
    return soap.text(soap.optional(caps, category), "XAddr") or None


def stream_uri_body(profile_token: str) -> str:
    """GetStreamUri's children: RTP unicast over RTSP, for ``profile_token``."""
    return (
        f'<ns0:StreamSetup><ns1:Stream xmlns:ns1="{soap.SCHEMA}">RTP-Unicast</ns1:Stream>'
        f'<ns2:Transport xmlns:ns2="{soap.SCHEMA}"><ns2:Protocol>RTSP</ns2:Protocol>'
        "</ns2:Transport></ns0:StreamSetup>"
        f"<ns0:ProfileToken>{escape(profile_token)}</ns0:ProfileToken>"
    )


def snapshot_uri_body(profile_token: str) -> str:
    """GetSnapshotUri's child: the profile token."""
    return f"<ns0:ProfileToken>{escape(profile_token)}</ns0:ProfileToken>"


def device_information(answer: etree._Element) -> DeviceInformation:
    """GetDeviceInformationResponse as a :class:`DeviceInformation`."""
    return DeviceInformation(
        manufacturer=soap.text(answer, "Manufacturer"),
        model=soap.text(answer, "Model"),
        firmware_version=soap.text(answer, "FirmwareVersion"),
        serial_number=soap.text(answer, "SerialNumber"),
        hardware_id=soap.text(answer, "HardwareId"),
    )


def profiles(answer: etree._Element) -> list[Profile]:
    """GetProfilesResponse as :class:`Profile` s, in the camera's order."""
    return [_profile(item) for item in answer.iterfind("{*}Profiles")]


def _profile(item: etree._Element) -> Profile:
    encoder = soap.optional(item, "VideoEncoderConfiguration")
    source = soap.optional(item, "VideoSourceConfiguration")
    resolution = soap.optional(encoder, "Resolution")
    rate = soap.optional(encoder, "RateControl")
    return Profile(
        token=(item.get("token") or "").strip(),
        name=soap.text(item, "Name"),
        encoding=soap.text(encoder, "Encoding") or None,
        width=soap.optional_integer(resolution, "Width"),
        height=soap.optional_integer(resolution, "Height"),
        frame_rate=soap.optional_integer(rate, "FrameRateLimit"),
        bitrate_kbps=soap.optional_integer(rate, "BitrateLimit"),
        video_source_token=soap.text(source, "SourceToken") or None,
    )


def media_uri(answer: etree._Element) -> MediaUri:
    """GetStreamUriResponse or GetSnapshotUriResponse as a :class:`MediaUri`."""
    media = soap.child(answer, "MediaUri")
    uri = soap.text(media, "Uri")
    if not uri:
        raise ValueError("the reply has no Uri")
    raw = soap.text(media, "Timeout")
    timeout = isodate.parse_duration(raw) if raw else None
    return MediaUri(
        uri=uri,
        invalid_after_connect=_boolean(media, "InvalidAfterConnect"),
        invalid_after_reboot=_boolean(media, "InvalidAfterReboot"),
        timeout=str(timeout) if timeout is not None else None,
        timeout_s=timeout.total_seconds() if isinstance(timeout, timedelta) else None,
    )


def _boolean(parent: etree._Element, name: str) -> bool:
    """An ``xs:boolean`` child (``true``/``1``); absent means false, as zeep's ``bool(None)``."""
    raw = soap.text(parent, name)
    if raw in ("true", "1"):
        return True
    if raw in ("false", "0", ""):
        return False
    raise ValueError(f"the reply's {name} is {raw[:20]!r}, not a boolean")


SERVICES_BODY = "<ns0:IncludeCapability>false</ns0:IncludeCapability>"
"""GetServices' child: the addresses only."""


def services(answer: etree._Element) -> list[Service]:
    """GetServicesResponse as :class:`Service` s (namespace, address, version)."""
    found = []
    for item in answer.iterfind("{*}Service"):
        version = soap.optional(item, "Version")
        major = soap.optional_integer(version, "Major")
        minor = soap.optional_integer(version, "Minor")
        found.append(
            Service(
                namespace=soap.text(item, "Namespace"),
                xaddr=soap.text(item, "XAddr"),
                version="" if major is None else f"{major}.{minor or 0}",
            )
        )
    return found


# --- Media2 (ONVIF Profile T: ver20 media) ----------------------------------------------------

PROFILES2_BODY = "<ns0:Type>All</ns0:Type>"
"""Media2 GetProfiles' child: every configuration of each profile (without it, names only)."""


def profiles2(answer: etree._Element) -> list[Profile]:
    """Media2 GetProfilesResponse as :class:`Profile` s: the encoder and the video source are
    under ``Configurations`` (H.265 is a Media2 encoding; Media1 cannot describe it)."""
    found = []
    for item in answer.iterfind("{*}Profiles"):
        configurations = soap.optional(item, "Configurations")
        encoder = soap.optional(configurations, "VideoEncoder")
        source = soap.optional(configurations, "VideoSource")
        resolution = soap.optional(encoder, "Resolution")
        rate = soap.optional(encoder, "RateControl")
        found.append(
            Profile(
                token=(item.get("token") or "").strip(),
                name=soap.text(item, "Name"),
                encoding=soap.text(encoder, "Encoding") or None,
                width=soap.optional_integer(resolution, "Width"),
                height=soap.optional_integer(resolution, "Height"),
                frame_rate=_rounded(soap.text(rate, "FrameRateLimit")),
                bitrate_kbps=_rounded(soap.text(rate, "BitrateLimit")),
                video_source_token=soap.text(source, "SourceToken") or None,
            )
        )
    return found


def _rounded(raw: str) -> int | None:
    """Media2 writes frame rates as floats (``25.0``); ``None`` when absent."""
    if not raw:
        return None
    try:
        return round(float(raw))
    except ValueError:
        raise ValueError(f"the reply's rate {raw[:20]!r} is not a number") from None


def stream_uri2_body(profile_token: str) -> str:
    """Media2 GetStreamUri's children: RTSP (RTP over RTSP, unicast), for ``profile_token``."""
    return (
        "<ns0:Protocol>RTSP</ns0:Protocol>"
        f"<ns0:ProfileToken>{escape(profile_token)}</ns0:ProfileToken>"
    )


def media2_uri(answer: etree._Element) -> MediaUri:
    """Media2 GetStreamUriResponse or GetSnapshotUriResponse (a bare ``Uri``)."""
    uri = soap.text(answer, "Uri")
    if not uri:
        raise ValueError("the reply has no Uri")
    return MediaUri(uri=uri, invalid_after_connect=False, invalid_after_reboot=False, timeout=None)


# --- PTZ -------------------------------------------------------------------------------------


def ptz_status(answer: etree._Element) -> PtzStatus:
    """PTZ GetStatusResponse: where the head points, and whether it is moving."""
    status = soap.child(answer, "PTZStatus")
    position = soap.optional(status, "Position")
    pan_tilt = soap.optional(position, "PanTilt")
    zoom = soap.optional(position, "Zoom")
    move = soap.optional(status, "MoveStatus")
    moving = {soap.text(move, "PanTilt").upper(), soap.text(move, "Zoom").upper()}
    return PtzStatus(
        pan=_coordinate(pan_tilt, "x"),
        tilt=_coordinate(pan_tilt, "y"),
        zoom=_coordinate(zoom, "x"),
        moving=("MOVING" in moving) if moving - {""} else None,
    )


def _coordinate(element: etree._Element | None, name: str) -> float | None:
    if element is None or element.get(name) is None:
        return None
    raw = element.get(name, "")
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"the reply's PTZ {name} is {raw[:20]!r}, not a number") from None
