"""The simulator's SOAP side: replies shaped like the recorded Bosch camera, faults, WS-Security.

Replies are the recorded response bodies (``captures/``) with the camera's address, serial
number and clock substituted, so any ONVIF client sees what the real firmware sends. Requests
are parsed with the same hardened parser as the client's replies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from xml.sax.saxutils import escape

from lxml import etree

from cameras.safexml import UnsafeXmlError, parse_strict
from cameras.simulator.scenario import HostileVariant

CAPTURE_DEVICE = "bosch-flexidome-indoor-5100i"
RECORDED_HOST = "192.168.1.201"

SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
WSS_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
DIGEST_TYPE = f"{WSS_PROFILE}#PasswordDigest"
CONTENT_TYPE = "application/soap+xml; charset=utf-8"

MAX_REQUEST_BYTES = 64 * 1024
"""Largest SOAP request the simulator reads (the real ones are 2 KB)."""

CLOCK_TOLERANCE_S = 120.0
"""How far a UsernameToken's Created may be from the camera's clock (real firmwares: 5 s to
several minutes). Beyond it the camera says NotAuthorized, as a drifting real camera does."""

UNAUTHENTICATED = frozenset({"GetSystemDateAndTime"})
"""Operations ONVIF Core lets anyone call (the client reads the clock before signing)."""

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope '
    'xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:SOAP-ENC="http://www.w3.org/2003/05/soap-encoding" '
    'xmlns:tt="http://www.onvif.org/ver10/schema" '
    'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" '
    'xmlns:ter="http://www.onvif.org/ver10/error">'
)


@lru_cache(maxsize=1)
def recorded() -> dict[str, dict[str, str]]:
    """Recorded reply bodies by operation, then by the token the request named ("" if none)."""
    folder = resources.files("cameras.simulator") / "captures" / CAPTURE_DEVICE
    replies: dict[str, dict[str, str]] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        capture = json.loads(entry.read_text(encoding="utf-8"))
        request = parse_strict(capture["request_body"].encode())
        operation = request_operation(request)
        name = etree.QName(operation).localname
        replies.setdefault(name, {})[token_of(operation)] = capture["response_body"]
    return replies


def request_operation(envelope: etree._Element) -> etree._Element:
    """The operation element of a SOAP request (first child of Body)."""
    body = envelope.find(f"{{{SOAP_ENV}}}Body")
    if body is None or len(body) == 0:
        raise ValueError("no SOAP Body or an empty one")
    return body[0]


def token_of(operation: etree._Element) -> str:
    """The ProfileToken / ConfigurationToken / VideoSourceToken a request names, or ""."""
    for child in operation:
        if etree.QName(child).localname.endswith("Token"):
            return (child.text or "").strip()
    return ""


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP reply of the simulator."""

    status: int
    body: bytes
    content_type: str = CONTENT_TYPE
    headers: dict[str, str] = field(default_factory=dict)


def parse_request(body: bytes) -> etree._Element:
    """A SOAP request, parsed strictly (no DTD, no entities); ValueError if it is not one."""
    if len(body) > MAX_REQUEST_BYTES:
        raise ValueError(f"request of {len(body):,} bytes (limit {MAX_REQUEST_BYTES:,})")
    try:
        return parse_strict(body)
    except UnsafeXmlError as error:
        raise ValueError(str(error)) from error


def has_username_token(envelope: etree._Element) -> bool:
    """Whether the request carries a WS-Security UsernameToken at all."""
    path = f"{{{SOAP_ENV}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken"
    return envelope.find(path) is not None


def check_username_token(
    envelope: etree._Element, username: str, password: str, camera_now: datetime
) -> str | None:
    """None when the WS-UsernameToken digest is right and fresh; else why it is refused.

    Digest = Base64(SHA-1(nonce + created + password)) (WS-Security UsernameToken Profile 1.0).
    """
    token = envelope.find(f"{{{SOAP_ENV}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
    if token is None:
        return "no UsernameToken"
    user = token.findtext(f"{{{WSSE}}}Username", "").strip()
    password_el = token.find(f"{{{WSSE}}}Password")
    nonce = token.findtext(f"{{{WSSE}}}Nonce", "").strip()
    created = token.findtext(f"{{{WSU}}}Created", "").strip()
    if password_el is None or password_el.get("Type", DIGEST_TYPE) != DIGEST_TYPE:
        return "not a password digest"
    try:
        nonce_bytes = base64.b64decode(nonce, validate=True)
        created_at = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return "malformed nonce or Created"
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)
    expected = base64.b64encode(
        hashlib.sha1(nonce_bytes + created.encode() + password.encode()).digest()  # noqa: S324 -- the protocol's hash
    ).decode()
    if not (
        hmac.compare_digest(user.encode(), username.encode())
        & hmac.compare_digest((password_el.text or "").strip().encode(), expected.encode())
    ):
        return "wrong username or password"
    if abs((created_at - camera_now).total_seconds()) > CLOCK_TOLERANCE_S:
        return "Created too far from the camera's clock"
    return None


def fault(code: str, subcode: str, reason: str, status: int) -> Reply:
    """A SOAP 1.2 fault in the camera's style (``code`` Sender/Receiver, ``subcode`` ter:...)."""
    body = (
        f"{HEADER}<SOAP-ENV:Body><SOAP-ENV:Fault><SOAP-ENV:Code>"
        f"<SOAP-ENV:Value>SOAP-ENV:{code}</SOAP-ENV:Value><SOAP-ENV:Subcode>"
        f"<SOAP-ENV:Value>{subcode}</SOAP-ENV:Value></SOAP-ENV:Subcode></SOAP-ENV:Code>"
        f'<SOAP-ENV:Reason><SOAP-ENV:Text xml:lang="en">{escape(reason)}</SOAP-ENV:Text>'
        "</SOAP-ENV:Reason></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
    return Reply(status, body.encode())


def not_authorized() -> Reply:
    """ONVIF's answer to a wrong or missing UsernameToken (ONVIF Core, generic faults)."""
    return fault("Sender", "ter:NotAuthorized", "Sender not Authorized", 400)


@dataclass(frozen=True, slots=True)
class Device:
    """What a reply says about the camera answering it."""

    host: str
    port: int
    serial: str
    resolution: tuple[int, int] | None = None
    """The main profile's size to report instead of the recorded camera's."""


RECORDED_MAIN = (1920, 1080)
RECORDED_MAIN_SIZE = "<tt:Width>1920</tt:Width><tt:Height>1080</tt:Height>"
"""The recorded camera's main stream size, as its replies write it."""


def answer(operation: str, token: str, device: Device, camera_now: datetime) -> Reply:
    """The recorded reply to ``operation``, made this camera's; a fault for an unknown one."""
    if operation == "GetSystemDateAndTime":
        return Reply(200, system_date_and_time(camera_now).encode())
    if operation == "GetServices":
        return Reply(200, services(device).encode())
    by_token = recorded().get(operation)
    if by_token is None:
        return fault("Sender", "ter:ActionNotSupported", f"{operation} is not supported", 400)
    template = by_token.get(token) if token else next(iter(by_token.values()))
    if template is None:
        return fault("Sender", "ter:InvalidArgVal", f"no such token {token!r}", 400)
    text = template.replace(f"http://{RECORDED_HOST}/", f"http://{device.host}:{device.port}/")
    text = text.replace(f"rtsp://{RECORDED_HOST}/", f"rtsp://{device.host}/")
    if device.resolution is not None and RECORDED_MAIN_SIZE in text:
        width, height = device.resolution
        text = text.replace(
            RECORDED_MAIN_SIZE, f"<tt:Width>{width}</tt:Width><tt:Height>{height}</tt:Height>"
        )
    if operation == "GetDeviceInformation":
        text = re.sub(
            r"<tds:SerialNumber>[^<]*</tds:SerialNumber>",
            f"<tds:SerialNumber>{device.serial}</tds:SerialNumber>",
            text,
        )
    return Reply(200, text.encode())


def system_date_and_time(now: datetime) -> str:
    """The recorded GetSystemDateAndTime with the camera's own clock in UTCDateTime."""
    template = recorded()["GetSystemDateAndTime"][""]
    utc = (
        f"<tt:UTCDateTime><tt:Time><tt:Hour>{now.hour}</tt:Hour><tt:Minute>{now.minute}"
        f"</tt:Minute><tt:Second>{now.second}</tt:Second></tt:Time><tt:Date><tt:Year>"
        f"{now.year}</tt:Year><tt:Month>{now.month}</tt:Month><tt:Day>{now.day}</tt:Day>"
        "</tt:Date></tt:UTCDateTime>"
    )
    return re.sub(r"<tt:UTCDateTime>.*</tt:UTCDateTime>", utc, template, flags=re.S)


SERVICE_VERSIONS = (
    ("http://www.onvif.org/ver10/device/wsdl", "device_service", 2, 0),
    ("http://www.onvif.org/ver10/media/wsdl", "media_service", 2, 0),
    ("http://www.onvif.org/ver20/imaging/wsdl", "imaging_service", 2, 0),
    ("http://www.onvif.org/ver10/events/wsdl", "event_service", 2, 0),
    # Profile G: it records on its SD card (cameras.simulator.recording)
    ("http://www.onvif.org/ver10/recording/wsdl", "recording_service", 2, 0),
    ("http://www.onvif.org/ver10/search/wsdl", "search_service", 2, 0),
)


def services(device: Device) -> str:
    """GetServices (not in the recording), written in the same style as the recorded replies."""
    items = "".join(
        f"<tds:Service><tds:Namespace>{ns}</tds:Namespace><tds:XAddr>http://{device.host}:"
        f"{device.port}/onvif/{path}</tds:XAddr><tds:Version><tt:Major>{major}</tt:Major>"
        f"<tt:Minor>{minor}</tt:Minor></tds:Version></tds:Service>"
        for ns, path, major, minor in SERVICE_VERSIONS
    )
    return (
        f"{HEADER}<SOAP-ENV:Body><tds:GetServicesResponse>{items}</tds:GetServicesResponse>"
        "</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )


@lru_cache(maxsize=len(HostileVariant))
def hostile(variant: HostileVariant) -> bytes:
    """An XML attack, dressed as a GetDeviceInformation reply."""
    info = "<tds:GetDeviceInformationResponse><tds:Manufacturer>{}</tds:Manufacturer>"
    tail = "</tds:GetDeviceInformationResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    body_open = "<SOAP-ENV:Body>"
    if variant is HostileVariant.billion_laughs:
        entities = '<!ENTITY lol "lol">' + "".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
            for i in range(1, 10)
        )
        doctype = f"<!DOCTYPE SOAP-ENV:Envelope [{entities}]>"
        text = info.format("&lol9;")
    elif variant is HostileVariant.xxe:
        doctype = '<!DOCTYPE SOAP-ENV:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        text = info.format("&xxe;")
    elif variant is HostileVariant.deep_nesting:
        doctype = ""
        text = info.format("<tt:x>" * 5000 + "deep" + "</tt:x>" * 5000)
    else:
        doctype = ""
        text = info.format("A" * (12 * 1024 * 1024))
    prolog, envelope = HEADER.split("?>", 1)
    return f"{prolog}?>{doctype}{envelope}{body_open}{text}{tail}".encode()
