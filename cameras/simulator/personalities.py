"""Simulator personalities: real cameras' captured replies and the field's quirks, per vendor.

A personality answers every SOAP request from the replies captured from one real camera
(``captures/<folder>/``, with their source and licence), made the virtual camera's own: its
address, serial number and clock substituted, nothing else touched (prefixes, odd time zones,
missing fields stay as the firmware wrote them). A call the capture lacks is answered with the
ActionNotSupported fault real firmwares send. On top of the replies, the quirks field reports
describe (README: Cameras we supervise), set per personality in ``personalities.yaml``:

- ``clock_auth``: GetSystemDateAndTime refuses an unauthenticated call (Sender not authorized);
- ``soap_auth``: ``ws-security`` (ONVIF Core), ``ws-security+http-digest`` (HTTP digest in
  front of the SOAP endpoint, token checked too), ``http-digest`` (digest only: a
  UsernameToken is refused, the camera's WS-Security being off);
- ``snapshot_auth``: ``digest`` or ``basic`` (old firmwares);
- every reply carries an HTTP ``Date`` header on the camera's own clock, as real web servers do.
"""

from __future__ import annotations

import json
import re
from copy import deepcopy
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import yaml
from lxml import etree

from cameras import soap as client_soap
from cameras.errors import ScenarioError
from cameras.safexml import parse_strict

DEFAULT = "bosch"

SERVICE_PREFIX = {
    client_soap.DEVICE: "",
    client_soap.MEDIA: "",
    client_soap.MEDIA2: "Media2_",
    client_soap.PTZ: "PTZ_",
    client_soap.EVENTS: "Events_",
    "http://docs.oasis-open.org/wsn/b-2": "Events_",
    client_soap.IMAGING: "Imaging_",
}
"""How a capture file names the operations of each service (``NNN_Media2_GetProfiles.xml``)."""

_FILE = re.compile(r"^\d{3}_(?P<key>[A-Za-z0-9_]+)\.xml$")
_AUTHORITY = re.compile(r"\b(https?|rtsp)://(?:[^/@<\s]*@)?\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?")
"""A camera's own address in a reply: an IPv4 host (namespaces and schemas are names)."""


class SoapAuth(StrEnum):
    """How a personality checks credentials on its SOAP endpoint."""

    WS_SECURITY = "ws-security"
    WS_SECURITY_AND_HTTP_DIGEST = "ws-security+http-digest"
    HTTP_DIGEST = "http-digest"


@dataclass(frozen=True)
class Personality:
    """One vendor's camera as the simulator plays it."""

    name: str
    vendor: str
    model: str
    capture: str
    clock_auth: bool = False
    soap_auth: SoapAuth = SoapAuth.WS_SECURITY
    snapshot_auth: str = "digest"
    video_sources: int = 1
    """More than 1: a multi-sensor camera, played from the captured one-sensor replies (each
    profile repeated for each other sensor, its tokens suffixed ``_s2``...)."""
    quirks: tuple[str, ...] = ()
    """What the personality shows of the field, in words (README table)."""
    replies: dict[str, str] = field(default_factory=dict, repr=False)
    """Reply body by operation key (``GetProfiles``, ``Media2_GetProfiles``, ``PTZ_GetStatus``)."""
    snapshot_paths: frozenset[str] = frozenset()
    """The paths its snapshot URIs name: the only ones it serves pictures on."""

    def reply(self, namespace: str, operation: str) -> str | None:
        """The captured reply to ``operation`` of the service ``namespace``, if any."""
        prefix = SERVICE_PREFIX.get(namespace)
        if prefix is None:
            return None
        return self.replies.get(prefix + operation)

    def offers(self, key: str) -> bool:
        return key in self.replies


def make_own(text: str, *, host: str, port: int, serial: str) -> str:
    """A captured reply made the virtual camera's: every HTTP(S) address of the recorded camera
    points at its ``host:port`` (the simulator serves plain HTTP), every RTSP one at its host,
    and its serial number is its own; the rest stays as the firmware wrote it."""

    def authority(match: re.Match[str]) -> str:
        scheme = match.group(1)
        return f"rtsp://{host}" if scheme == "rtsp" else f"http://{host}:{port}"

    text = _AUTHORITY.sub(authority, text)
    return re.sub(
        r"<((?:\w+:)?)SerialNumber>[^<]*</\1SerialNumber>",
        lambda m: f"<{m.group(1)}SerialNumber>{serial}</{m.group(1)}SerialNumber>",
        text,
    )


def with_clock(text: str, when: Any) -> str:
    """A captured GetSystemDateAndTime with ``when`` (aware UTC) in its UTCDateTime, in the
    reply's own prefixes; LocalDateTime is left as captured (cameras get it wrong anyway)."""
    match = re.search(r"<((?:\w+:)?)UTCDateTime\b.*?</\1UTCDateTime>", text, flags=re.S)
    if match is None:
        return text
    block = match.group(0)
    for name, value in (
        ("Hour", when.hour),
        ("Minute", when.minute),
        ("Second", when.second),
        ("Year", when.year),
        ("Month", when.month),
        ("Day", when.day),
    ):
        block = re.sub(
            rf"(<(?:\w+:)?{name}>)\s*-?\d+\s*(</(?:\w+:)?{name}>)", rf"\g<1>{value}\g<2>", block
        )
    return text[: match.start()] + block + text[match.end() :]


def with_ptz_position(text: str, pan: float, tilt: float, zoom: float) -> str:
    """A captured PTZ GetStatus with the head at ``pan``, ``tilt``, ``zoom`` (generic spaces);
    the attributes are set where the firmware put them, in its order."""
    position = re.search(r"<((?:\w+:)?)Position\b.*?</\1Position>", text, flags=re.S)
    if position is None:
        return text

    def attributes(tag: re.Match[str], values: dict[str, float]) -> str:
        out = tag.group(0)
        for name, value in values.items():
            out = re.sub(rf'\b{name}="[^"]*"', f'{name}="{value:.6f}"', out)
        return out

    block = re.sub(
        r"<(?:\w+:)?PanTilt\b[^>]*>",
        lambda m: attributes(m, {"x": pan, "y": tilt}),
        position.group(0),
    )
    block = re.sub(r"<(?:\w+:)?Zoom\b[^>]*>", lambda m: attributes(m, {"x": zoom}), block)
    return text[: position.start()] + block + text[position.end() :]


def with_sensors(text: str, operation: str, token: str, sensors: int) -> str:
    """A one-sensor camera's reply played as a multi-sensor one's: GetProfiles lists each
    profile again for sensors 2..N (tokens and VideoSource tokens suffixed ``_sN``); a media
    URI asked for a ``_sN`` profile says ``sensor=N`` in its query."""
    if operation == "GetProfiles":
        root = etree.fromstring(text.encode())
        response = root.find(".//{*}GetProfilesResponse")
        if response is None:
            return text
        originals = list(response.iterfind("{*}Profiles"))
        for sensor in range(2, sensors + 1):
            for profile in originals:
                copy = deepcopy(profile)
                copy.set("token", f"{profile.get('token', '')}_s{sensor}")
                for source in copy.iter("{*}VideoSourceConfiguration", "{*}VideoSource"):
                    if source.get("token"):
                        source.set("token", f"{source.get('token')}_s{sensor}")
                for item in copy.iter("{*}SourceToken"):
                    if (item.text or "").strip() and "Audio" not in (item.text or ""):
                        item.text = f"{item.text.strip()}_s{sensor}"
                response.append(copy)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()
    match = re.search(r"_s(\d+)$", token)
    if operation in ("GetSnapshotUri", "GetStreamUri") and match:
        sensor = match.group(1)

        def query(uri: re.Match[str]) -> str:
            url = uri.group(2)
            return f"{uri.group(1)}{url}{'&' if '?' in url else '?'}sensor={sensor}"

        return re.sub(r"(Uri>\s*)([^<\s]+)", query, text)
    return text


def _captures() -> Any:
    return resources.files("cameras.simulator") / "captures"


def _load_replies(capture: str) -> dict[str, str]:
    folder = _captures() / capture
    replies: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):  # the Bosch recording: request and reply pairs
            data = json.loads(entry.read_text(encoding="utf-8"))
            request = parse_strict(data["request_body"].encode())
            operation = request.find(f"{{{client_soap.SOAP_ENV}}}Body")[0]
            name = etree.QName(operation)
            prefix = SERVICE_PREFIX.get(name.namespace or "", "")
            replies.setdefault(prefix + name.localname, data["response_body"])
            continue
        match = _FILE.match(entry.name)
        if match is None or match.group("key").endswith("Fault"):
            continue
        replies[match.group("key")] = entry.read_text(encoding="utf-8")
    return replies


def _extra(entry: dict[str, Any]) -> dict[str, str]:
    """Replies a personality borrows from another capture of the same vendor (``extra``:
    operation key -> ``folder/file``), where its own capture lacks a service."""
    folder = _captures()
    return {
        key: (folder / path).read_text(encoding="utf-8")
        for key, path in (entry.get("extra") or {}).items()
    }


def with_event_states(text: str, states: dict[str, bool]) -> str:
    """A captured PullMessages whose notifications under each topic prefix of ``states`` say
    that state in their first ``Data`` item (the rest as captured)."""

    def message(match: re.Match[str]) -> str:
        block = match.group(0)
        topic = re.search(r"Topic\b[^>]*>\s*([^<\s]+)", block)
        if topic is None:
            return block
        for prefix, state in states.items():
            if topic.group(1).startswith(prefix):
                value = "true" if state else "false"
                return re.sub(
                    r'(<(?:\w+:)?Data>\s*<(?:\w+:)?SimpleItem\b[^>]*?Value=")[^"]*(")',
                    rf"\g<1>{value}\g<2>",
                    block,
                    count=1,
                )
        return block

    return re.sub(
        r"<((?:\w+:)?)NotificationMessage\b.*?</\1NotificationMessage>", message, text, flags=re.S
    )


@cache
def personalities() -> dict[str, Personality]:
    """Every personality of ``personalities.yaml``, with its replies loaded."""
    data = yaml.safe_load(
        (resources.files("cameras.simulator") / "personalities.yaml").read_text("utf-8")
    )
    found = {}
    for name, entry in data.items():
        found[name] = Personality(
            name=name,
            vendor=entry["vendor"],
            model=entry["model"],
            capture=entry["capture"],
            clock_auth=bool(entry.get("clock_auth", False)),
            soap_auth=SoapAuth(entry.get("soap_auth", SoapAuth.WS_SECURITY)),
            snapshot_auth=entry.get("snapshot_auth", "digest"),
            video_sources=int(entry.get("video_sources", 1)),
            quirks=tuple(entry.get("quirks", ())),
            replies=(replies := _load_replies(entry["capture"]) | _extra(entry)),
            snapshot_paths=frozenset(
                urlsplit(uri).path
                for key, text in replies.items()
                if key.endswith("GetSnapshotUri")
                for uri in re.findall(r"Uri>\s*(https?://[^<\s]+)", text)
            ),
        )
    return found


def personality(name: str) -> Personality:
    """The personality called ``name``; ScenarioError naming the known ones otherwise."""
    known = personalities()
    if name not in known:
        raise ScenarioError(
            f"no simulator personality {name!r}: the personalities are {', '.join(sorted(known))}"
        )
    return known[name]
