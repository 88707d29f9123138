"""The real Bosch FLEXIDOME 5100i replies, byte for byte, through the client and the real WSDLs.

A small HTTP server answers each SOAP request with the recorded response body of the same
operation (and token), exactly as the camera sent it (see cameras/simulator/captures/README.md).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources

import pytest
from aiohttp import web
from lxml import etree

from cameras.client import OnvifClient
from cameras.errors import CameraProtocolError
from cameras.models import CameraAddress
from cameras.simulator.soap import parse_request, request_operation, token_of
from tests.helpers.camera_servers import run, serving

CAPTURES = resources.files("cameras.simulator") / "captures" / "bosch-flexidome-indoor-5100i"


def recorded_exchanges() -> dict[tuple[str, str], dict]:
    exchanges = {}
    for entry in CAPTURES.iterdir():
        if entry.name.endswith(".json"):
            capture = json.loads(entry.read_text(encoding="utf-8"))
            operation = request_operation(parse_request(capture["request_body"].encode()))
            exchanges[(etree.QName(operation).localname, token_of(operation))] = capture
    return exchanges


async def replay(scenario):
    """Serve the recorded bytes on a free loopback port, run ``scenario(camera)``."""
    exchanges = recorded_exchanges()
    served: list[str] = []

    async def answer(request: web.Request) -> web.Response:
        operation = request_operation(parse_request(await request.read()))
        name = etree.QName(operation).localname
        served.append(name)
        capture = exchanges[(name, token_of(operation))]
        return web.Response(
            status=capture["status_code"],
            body=capture["response_body"].encode("utf-8"),
            headers={"Content-Type": "application/soap+xml; charset=utf-8"},
        )

    async with serving("POST", answer) as port, OnvifClient() as onvif:
        camera = onvif.camera(CameraAddress("127.0.0.1", port, "service", "any"))
        return await scenario(camera), served


def test_the_recorded_bosch_replies_parse_into_typed_results() -> None:
    async def scenario(camera):
        clock = await camera.get_system_date_and_time()
        info = await camera.get_device_information()
        caps = await camera.get_capabilities()
        profiles = await camera.get_profiles()
        streams = [await camera.get_stream_uri(p.token) for p in profiles]
        snapshot = await camera.get_snapshot_uri("0")
        return clock, info, caps, profiles, streams, snapshot

    (clock, info, caps, profiles, streams, snapshot), served = run(replay(scenario))
    # the camera's clock said 2023-05-24 21:25:05 UTC (it was set by hand, and wrong)
    assert clock.camera_utc == datetime(2023, 5, 24, 21, 25, 5, tzinfo=UTC)
    assert clock.offset_s < -365 * 86400
    assert (clock.date_time_type, clock.time_zone) == ("Manual", "UTC5:0")
    assert info.manufacturer == "Bosch"
    assert info.model == "FLEXIDOME indoor 5100i IR"
    assert info.firmware_version == "8.71.0066"
    assert info.serial_number == "404754734001050102"
    assert info.hardware_id == "F000B543"
    assert caps.media == "http://192.168.1.201/onvif/media_service"
    assert caps.imaging == "http://192.168.1.201/onvif/imaging_service"
    assert caps.ptz is None
    assert caps.video_sources == 1
    assert [(p.name, p.width, p.height, p.bitrate_kbps) for p in profiles] == [
        ("Profile_L1S1", 1920, 1080, 5200),
        ("Profile_L1S2", 1536, 864, 3400),
        ("Profile_L1S3", 1280, 720, 2400),
        ("Profile_L1S4", 512, 288, 400),
    ]
    assert streams[0].uri == "rtsp://192.168.1.201/rtsp_tunnel?p=0&line=1&inst=1&vcd=2"
    assert streams[0].invalid_after_reboot and not streams[0].invalid_after_connect
    assert snapshot.uri == "http://192.168.1.201/snap.jpg?JpegCam=1"
    # the media service was reached at the advertised path, on the address we were given
    assert served.count("GetProfiles") == 1 and served.count("GetCapabilities") == 1


def test_a_snapshot_uri_on_another_host_gets_no_credentials() -> None:
    """The recorded camera advertises its LAN address; we never send credentials there."""

    async def scenario(camera):
        uri = await camera.get_snapshot_uri("0")
        await camera.get_snapshot(uri.uri)

    with pytest.raises(CameraProtocolError, match=r"host 192\.168\.1\.201 is not the camera's"):
        run(replay(scenario))
