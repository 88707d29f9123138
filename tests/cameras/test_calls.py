"""The full check's calls without zeep (cameras.calls, cameras.soap): zeep's requests and answers.

Real HTTP both ways: the simulator's genuine replies, read both by these readers and by zeep's
proxies on the same camera; a small aiohttp server for crafted replies (faults, broken values)
and to see the exact request bytes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from lxml import etree
from onvif.client import UsernameDigestTokenDtDiff

from cameras import calls, client, soap
from cameras.client import OnvifClient, binding_name
from cameras.errors import CameraAuthFailed, CameraProtocolError
from cameras.models import CameraAddress
from tests.helpers.camera_servers import RunningSimulator, run, serving
from tests.helpers.soap import answer, envelope, fault

WSSE = soap.WSSE

OPERATIONS = [
    ("devicemgmt", "GetDeviceInformation", {}, ""),
    ("devicemgmt", "GetCapabilities", {"Category": "All"}, calls.CAPABILITIES_ALL),
    ("media", "GetProfiles", {}, ""),
    (
        "media",
        "GetStreamUri",
        {
            "StreamSetup": {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}},
            "ProfileToken": "0&<1>",
        },
        calls.stream_uri_body("0&<1>"),
    ),
    ("media", "GetSnapshotUri", {"ProfileToken": "0"}, calls.snapshot_uri_body("0")),
]


def _shape(root: etree._Element) -> list[tuple[str, str, dict[str, str]]]:
    return [(e.tag, (e.text or "").strip(), dict(e.attrib)) for e in root.iter()]


@pytest.mark.parametrize(("service", "operation", "kwargs", "body"), OPERATIONS)
def test_the_requests_are_the_envelopes_zeep_builds(
    service: str, operation: str, kwargs: dict[str, Any], body: str
) -> None:
    async def zeep_message() -> bytes:
        async with OnvifClient() as onvif:
            client = await onvif.zeep_client(service, None)
            proxy = client.create_service(binding_name(service), "http://127.0.0.1:1/")
            return etree.tostring(client.create_message(proxy, operation, **kwargs))

    theirs = etree.fromstring(run(zeep_message()))
    namespace = soap.DEVICE if service == "devicemgmt" else soap.MEDIA
    ours = etree.fromstring(soap.request(namespace, operation, body))
    # Same elements, texts and attributes in the same order (zeep only adds unused xmlns).
    assert _shape(ours) == _shape(theirs)


def test_the_token_is_zeeps_for_the_same_nonce_time_and_offset() -> None:
    created = datetime(2026, 3, 2, 8, 0, 5)
    offset = timedelta(hours=-2, seconds=7)
    zeep_token = UsernameDigestTokenDtDiff(
        "op&<er>", "pä$$", dt_diff=offset, use_digest=True, nonce="0123456789abcdef"
    )
    zeep_token.created = created
    header = etree.Element("{http://www.w3.org/2003/05/soap-envelope}Header")
    zeep_envelope = etree.Element("{http://www.w3.org/2003/05/soap-envelope}Envelope")
    zeep_envelope.append(header)
    zeep_token.apply(zeep_envelope, {})
    theirs = zeep_envelope.find(f".//{{{WSSE}}}Security")

    ours = etree.fromstring(
        soap.username_token(
            "op&<er>", "pä$$", offset, now=created.replace(tzinfo=UTC), nonce=b"0123456789abcdef"
        )
    )
    assert theirs is not None
    assert _shape(ours) == _shape(theirs)
    # and the digest is the protocol's: SHA-1(nonce + Created + password)
    created_text = ours.findtext(f".//{{{soap.WSU}}}Created")
    assert created_text == "2026-03-02T06:00:12Z"
    expected = hashlib.sha1(b"0123456789abcdef" + created_text.encode() + "pä$$".encode())
    digest = ours.findtext(f".//{{{WSSE}}}Password")
    assert digest == base64.b64encode(expected.digest()).decode()


def test_each_token_has_a_fresh_nonce() -> None:
    first, second = (soap.username_token("u", "p") for _ in range(2))
    nonce = f"{{{WSSE}}}Nonce"
    assert etree.fromstring(first).findtext(f".//{nonce}") != etree.fromstring(second).findtext(
        f".//{nonce}"
    )
    assert "<wsse:Password" in first and ">p<" not in first  # the password is never sent


@pytest.mark.parametrize("index", [0, 1, 20])  # healthy, clock 1 h ahead, healthy
def test_the_answers_are_zeeps_answers_from_the_same_camera(
    simulator: RunningSimulator, index: int
) -> None:
    async def both() -> tuple[Any, ...]:
        async with OnvifClient() as onvif:
            camera = onvif.camera(simulator.address(index))
            ours = (
                await camera.get_capabilities(),
                await camera.get_device_information(),
                await camera.get_profiles(),
                await camera.get_stream_uri("1"),
                await camera.get_snapshot_uri("1"),
            )
            device = await camera.zeep_proxy("devicemgmt")
            media = await camera.zeep_proxy("media")
            theirs = (
                await device.GetCapabilities(Category="All"),
                await device.GetDeviceInformation(),
                await media.GetProfiles(),
                await media.GetStreamUri(
                    StreamSetup={"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}},
                    ProfileToken="1",
                ),
                await media.GetSnapshotUri(ProfileToken="1"),
            )
            return ours, theirs

    (caps, info, profiles, stream, snap), (zcaps, zinfo, zprofiles, zstream, zsnap) = run(both())
    for field in ("Device", "Media", "Imaging", "Events", "PTZ", "Analytics"):
        section = getattr(zcaps, field)
        assert getattr(caps, field.lower()) == (section.XAddr if section else None), field
    # zeep leaves DeviceIO unparsed (the recorded Bosch's order of Extension's children)
    assert caps.media and caps.video_sources == 1
    assert (info.manufacturer, info.model, info.firmware_version) == (
        zinfo.Manufacturer,
        zinfo.Model,
        zinfo.FirmwareVersion,
    )
    assert (info.serial_number, info.hardware_id) == (zinfo.SerialNumber, zinfo.HardwareId)
    assert len(profiles) == len(zprofiles) == 4
    for profile, zprofile in zip(profiles, zprofiles, strict=True):
        encoder = zprofile.VideoEncoderConfiguration
        assert (profile.token, profile.name, profile.encoding) == (
            zprofile.token,
            zprofile.Name,
            encoder.Encoding,
        )
        assert (profile.width, profile.height) == (
            encoder.Resolution.Width,
            encoder.Resolution.Height,
        )
        assert (profile.frame_rate, profile.bitrate_kbps) == (
            encoder.RateControl.FrameRateLimit,
            encoder.RateControl.BitrateLimit,
        )
        assert profile.video_source_token == zprofile.VideoSourceConfiguration.SourceToken
    for uri, zuri in ((stream, zstream), (snap, zsnap)):
        assert uri.uri == zuri.Uri
        assert (uri.invalid_after_connect, uri.invalid_after_reboot) == (
            zuri.InvalidAfterConnect,
            zuri.InvalidAfterReboot,
        )
        assert uri.timeout == str(zuri.Timeout)


# --- crafted replies over real HTTP --------------------------------------------------------------

CAPABILITIES = (
    "<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media>"
    "<tt:XAddr>http://10.0.0.9/onvif/Media</tt:XAddr></tt:Media>"
    "</tds:Capabilities></tds:GetCapabilitiesResponse>"
)


@asynccontextmanager
async def camera_answering(
    status: int, body: bytes | dict[bytes, bytes], seen: list[tuple[str, bytes]]
) -> AsyncIterator[int]:
    """A camera that tells its time and capabilities, then answers every other call with
    ``status`` and ``body`` (or the body of the operation it names); ``seen`` gets each (path,
    request body)."""

    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        seen.append((request.path, raw))
        if b"GetSystemDateAndTime" in raw:
            return web.Response(body=envelope(answer()), content_type="application/soap+xml")
        if b"GetCapabilities" in raw:
            return web.Response(body=envelope(CAPABILITIES), content_type="application/soap+xml")
        if isinstance(body, dict):
            named = [reply for operation, reply in body.items() if operation in raw]
            unknown = envelope(fault("Sender", "ter:ActionNotSupported", "not here"))
            return web.Response(
                status=status if named else 400,
                body=named[0] if named else unknown,
                content_type="application/soap+xml",
            )
        return web.Response(status=status, body=body, content_type="application/soap+xml")

    async with serving("POST", handle) as port:
        yield port


def call(
    status: int,
    body: bytes | dict[bytes, bytes],
    operation: Callable[[Any], Any],
    seen: list[tuple[str, bytes]] | None = None,
    username: str = "u",
) -> Any:
    async def go() -> Any:
        async with (
            camera_answering(status, body, [] if seen is None else seen) as port,
            OnvifClient() as onvif,
        ):
            address = CameraAddress("127.0.0.1", port, username, "pw", timeout_s=2.0)
            return await operation(onvif.camera(address))

    return run(go())


def profiles_reply(profile: str) -> bytes:
    return envelope(
        '<trt:GetProfilesResponse xmlns:trt="http://www.onvif.org/ver10/media/wsdl">'
        f"{profile}</trt:GetProfilesResponse>"
    )


def uri_reply(media: str) -> bytes:
    return envelope(
        '<trt:GetSnapshotUriResponse xmlns:trt="http://www.onvif.org/ver10/media/wsdl">'
        f"<trt:MediaUri>{media}</trt:MediaUri></trt:GetSnapshotUriResponse>"
    )


def test_a_profile_without_encoder_has_no_resolution_and_media_goes_to_its_advertised_path() -> (
    None
):
    seen: list[tuple[str, bytes]] = []
    reply = profiles_reply(
        '<trt:Profiles token="main" fixed="true"><tt:Name>Main</tt:Name></trt:Profiles>'
        '<trt:Profiles token="sub"><tt:Name>Sub</tt:Name><tt:VideoEncoderConfiguration>'
        "<tt:Encoding>JPEG</tt:Encoding><tt:Resolution><tt:Width>640</tt:Width>"
        "<tt:Height>480</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration></trt:Profiles>"
    )
    profiles = call(200, reply, lambda camera: camera.get_profiles(), seen)
    assert [(p.token, p.name, p.encoding, p.width, p.height) for p in profiles] == [
        ("main", "Main", None, None, None),
        ("sub", "Sub", "JPEG", 640, 480),
    ]
    assert profiles[1].frame_rate is None and profiles[1].video_source_token is None
    # time first (the token is signed with it), services for the media path (this server
    # answers GetServices with profiles, so GetCapabilities is asked instead), then the call:
    # at the advertised path, on the address we were given
    paths = [path for path, _ in seen]
    assert paths == ["/onvif/device_service"] * 3 + ["/onvif/Media"]


def test_the_username_is_escaped_and_the_token_verifies() -> None:
    seen: list[tuple[str, bytes]] = []
    call(
        200,
        envelope("<tds:GetDeviceInformationResponse/>"),
        lambda camera: camera.get_device_information(),
        seen,
        username='o<p&"r>',
    )
    request = etree.fromstring(seen[-1][1])
    token = request.find(f".//{{{WSSE}}}UsernameToken")
    assert token is not None
    assert token.findtext(f"{{{WSSE}}}Username") == 'o<p&"r>'
    nonce = base64.b64decode(token.findtext(f"{{{WSSE}}}Nonce") or "")
    created = token.findtext(f"{{{soap.WSU}}}Created") or ""
    digest = hashlib.sha1(nonce + created.encode() + b"pw").digest()
    assert token.findtext(f"{{{WSSE}}}Password") == base64.b64encode(digest).decode()
    # signed with the camera's clock (2026-03-02 08:00:05 in answer()), not ours
    assert created.startswith("2026-03-02T08:00:0")


@pytest.mark.parametrize(
    ("status", "body", "operation", "error", "fragment"),
    [
        (
            400,
            envelope(fault("Sender", "ter:NotAuthorized", "Sender not Authorized")),
            "profiles",
            CameraAuthFailed,
            "GetServices: SOAP fault Sender/NotAuthorized",  # discovery is the first signed call,
        ),
        (
            400,
            envelope(fault("Sender", "ter:InvalidArgVal", "no such profile")),
            "snapshot_uri",
            CameraProtocolError,
            "GetSnapshotUri: SOAP fault Sender/InvalidArgVal: no such profile",
        ),
        (401, b"", "device", CameraAuthFailed, "GetDeviceInformation: HTTP 401"),
        (500, b"", "profiles", CameraProtocolError, "HTTP 500 without a SOAP reply"),
        (
            200,
            envelope("<tds:GetSystemDateAndTimeResponse/>"),
            "device",
            CameraProtocolError,
            "no GetDeviceInformationResponse",
        ),
        (
            200,
            profiles_reply(
                '<trt:Profiles token="0"><tt:VideoEncoderConfiguration><tt:Resolution>'
                "<tt:Width>wide</tt:Width></tt:Resolution></tt:VideoEncoderConfiguration>"
                "</trt:Profiles>"
            ),
            "profiles",
            CameraProtocolError,
            "Width is 'wide', not a number",
        ),
        (200, uri_reply(""), "snapshot_uri", CameraProtocolError, "the reply has no Uri"),
        (
            200,
            uri_reply("<tt:Uri>http://x/snap.jpg</tt:Uri><tt:InvalidAfterConnect>maybe"),
            "snapshot_uri",
            CameraProtocolError,
            "not well-formed",
        ),
        (
            200,
            uri_reply(
                "<tt:Uri>http://x/snap.jpg</tt:Uri>"
                "<tt:InvalidAfterConnect>maybe</tt:InvalidAfterConnect>"
            ),
            "snapshot_uri",
            CameraProtocolError,
            "InvalidAfterConnect is 'maybe', not a boolean",
        ),
        (
            200,
            uri_reply("<tt:Uri>http://x/snap.jpg</tt:Uri><tt:Timeout>soon</tt:Timeout>"),
            "snapshot_uri",
            CameraProtocolError,
            "unusable reply",
        ),
    ],
    ids=[
        "auth-fault",
        "other-fault",
        "401",
        "500-empty",
        "other-answer",
        "bad-width",
        "no-uri",
        "broken-xml",
        "bad-boolean",
        "bad-duration",
    ],
)
def test_bad_replies_are_the_errors_the_zeep_path_gave(
    status: int, body: bytes, operation: str, error: type[Exception], fragment: str
) -> None:
    operations = {
        "device": lambda camera: camera.get_device_information(),
        "profiles": lambda camera: camera.get_profiles(),
        "snapshot_uri": lambda camera: camera.get_snapshot_uri("0"),
    }
    with pytest.raises(error) as caught:
        call(status, body, operations[operation])
    assert str(caught.value).startswith("127.0.0.1:")
    assert fragment in str(caught.value)


def test_a_good_media_uri_reads_its_flags_and_timeout() -> None:
    uri = call(
        200,
        uri_reply(
            "<tt:Uri>http://x/snap.jpg</tt:Uri><tt:InvalidAfterConnect>1</tt:InvalidAfterConnect>"
            "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT60S</tt:Timeout>"
        ),
        lambda camera: camera.get_snapshot_uri("0"),
    )
    assert (uri.uri, uri.invalid_after_connect, uri.invalid_after_reboot) == (
        "http://x/snap.jpg",
        True,
        False,
    )
    assert uri.timeout == "0:01:00"
    assert uri.timeout_s == 60.0


def asked(seen: list[tuple[str, bytes]], operation: bytes) -> int:
    return sum(operation in body for _, body in seen)


MEDIA_URI = "<tt:Uri>http://x/snap.jpg</tt:Uri>"


@pytest.mark.parametrize(
    ("flags", "asked_twice"),
    [
        ("", 1),  # no Timeout: kept for URI_KEPT_S
        ("<tt:Timeout>PT0S</tt:Timeout>", 1),  # valid for ever: kept for URI_KEPT_S
        ("<tt:Timeout>PT1H</tt:Timeout>", 1),
        ("<tt:InvalidAfterConnect>true</tt:InvalidAfterConnect>", 2),  # dies with it: asked
        ("<tt:Timeout>PT0.3S</tt:Timeout>", 2),  # expired by the second call
    ],
)
def test_a_media_uri_is_kept_while_the_camera_says_it_holds(flags: str, asked_twice: int) -> None:
    seen: list[tuple[str, bytes]] = []

    async def twice(camera: Any) -> list[Any]:
        first = await camera.get_snapshot_uri("0")
        await asyncio.sleep(0.4)
        return [first, await camera.get_snapshot_uri("0")]

    first, second = call(200, uri_reply(MEDIA_URI + flags), twice, seen)
    assert first == second and first.uri == "http://x/snap.jpg"
    assert asked(seen, b"GetSnapshotUri") == asked_twice


def test_media_uris_are_kept_per_call_and_profile_asked_again_when_forgotten_or_old(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[str, bytes]] = []
    stream = envelope(
        '<trt:GetStreamUriResponse xmlns:trt="http://www.onvif.org/ver10/media/wsdl">'
        f"<trt:MediaUri>{MEDIA_URI}</trt:MediaUri></trt:GetStreamUriResponse>"
    )

    async def scenario(camera: Any) -> None:
        for _ in range(3):
            await camera.get_stream_uri("0")
            await camera.get_snapshot_uri("0")
            await camera.get_snapshot_uri("1")
        assert (asked(seen, b"GetStreamUri"), asked(seen, b"GetSnapshotUri")) == (1, 2)
        camera.forget_uris()  # a URI failed: all are asked again
        for _ in range(2):
            await camera.get_stream_uri("0")
            await camera.get_snapshot_uri("0")
            await camera.get_snapshot_uri("1")
        assert (asked(seen, b"GetStreamUri"), asked(seen, b"GetSnapshotUri")) == (2, 4)
        monkeypatch.setattr(client, "URI_KEPT_S", 0.2)
        await camera.get_snapshot_uri("1")  # kept for an hour when it was asked
        assert asked(seen, b"GetSnapshotUri") == 4
        camera.forget_uris()
        await camera.get_snapshot_uri("1")
        await asyncio.sleep(0.3)
        await camera.get_snapshot_uri("1")  # an hour is now 0.2 s
        assert asked(seen, b"GetSnapshotUri") == 6

    replies = {b"GetStreamUri": stream, b"GetSnapshotUri": uri_reply(MEDIA_URI)}
    call(200, replies, scenario, seen)
