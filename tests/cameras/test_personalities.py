"""The client against real firmwares' replies: every simulator personality over real HTTP.

Each personality answers from one real camera's captured replies with the field's quirks on
top (cameras/simulator/personalities.yaml): authentication on the clock, HTTP digest on SOAP,
WS-Security refused, Media2, PTZ, Basic-only snapshots, no GetServices.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from cameras.client import OnvifClient
from cameras.errors import CameraAuthFailed, CameraProtocolError, CameraUnsupported
from cameras.models import AuthScheme
from cameras.simulator.personalities import personality
from cameras.simulator.scenario import Fault
from tests.helpers.camera_servers import run
from tests.helpers.personal_simulator import NAMES, address, personal_simulator

FIVE_YEARS_S = 5 * 365 * 86400

EXPECTED = {
    # name: (manufacturer, model, SOAP scheme, media service, stream URI recorded)
    "bosch": ("Bosch", "FLEXIDOME indoor 5100i IR", AuthScheme.WS_SECURITY, "media", True),
    "hikvision": (
        "ONVIF",
        "ENP1A14-IR/25X",
        AuthScheme.WS_SECURITY_AND_HTTP_DIGEST,
        "media2",
        True,
    ),
    "dlink": ("D-Link Corporation", "DCS-6511", AuthScheme.WS_SECURITY, "media", False),
    "uniview": ("NONE", "GX728MF-IR28", AuthScheme.WS_SECURITY, "media2", False),
    "sunba": ("SUNBA", "Performance-Series", AuthScheme.HTTP_DIGEST, "media2", True),
    "ipd": ("", "IPD-H4K8M05-BS", AuthScheme.WS_SECURITY, "media", True),
    "ipnc": ("ONVIF_IPNC", "IPG-8150PSS", AuthScheme.WS_SECURITY, "media2", True),
}


def test_every_personality_is_expected_here() -> None:
    assert sorted(EXPECTED) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_every_personality_answers_what_a_full_check_asks(name: str) -> None:
    async def scenario():
        async with personal_simulator({0: name}), OnvifClient() as onvif:
            camera = onvif.camera(address(0, basic_auth=personality(name).snapshot_auth == "basic"))
            clock = await camera.get_system_date_and_time()
            info = await camera.get_device_information()
            profiles = await camera.get_profiles()
            try:
                stream = await camera.get_stream_uri(profiles[0].token)
            except CameraUnsupported:
                stream = None
            snapshot_uri = await camera.get_snapshot_uri(profiles[0].token)
            snapshot = await camera.get_snapshot(snapshot_uri.uri)
            return camera, clock, info, profiles, stream, snapshot

    camera, clock, info, profiles, stream, snapshot = run(scenario())
    manufacturer, model, scheme, media, has_stream = EXPECTED[name]
    assert abs(clock.offset_s) < 2
    assert (info.manufacturer, info.model) == (manufacturer, model)
    assert info.serial_number == "SIM000000000000000"  # the virtual camera's, substituted
    assert camera.scheme is scheme
    assert camera.clock_needs_auth is personality(name).clock_auth
    assert camera.media == media
    assert profiles and profiles[0].token
    if has_stream:
        assert stream is not None and stream.uri.startswith("rtsp://127.0.0.1")
    else:
        assert stream is None and "GetStreamUri" in camera.unsupported
    picture = cv2.imdecode(np.frombuffer(snapshot.content, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert picture is not None and 30 < picture.mean() < 230
    assert snapshot.auth_scheme == personality(name).snapshot_auth


def test_a_camera_wanting_credentials_for_its_clock_years_off_still_authenticates() -> None:
    async def scenario():
        faults = {0: {"kind": "clock_drift", "seconds": -FIVE_YEARS_S}}
        async with personal_simulator({0: "uniview"}, faults), OnvifClient() as onvif:
            camera = onvif.camera(address(0))
            clock = await camera.get_system_date_and_time()
            info = await camera.get_device_information()
            return camera, clock, info

    camera, clock, info = run(scenario())
    # the refusal's HTTP Date gave the camera's time, the signed call its clock
    assert abs(clock.offset_s + FIVE_YEARS_S) < 3
    assert camera.clock_needs_auth
    assert info.model == "GX728MF-IR28"


def test_a_wrong_password_on_a_camera_wanting_credentials_for_its_clock_is_auth_failed() -> None:
    async def scenario():
        async with personal_simulator({0: "uniview"}), OnvifClient() as onvif:
            await onvif.camera(address(0, password="wrong")).get_system_date_and_time()

    with pytest.raises(CameraAuthFailed, match="GetSystemDateAndTime: SOAP fault Sender/NotAuth"):
        run(scenario())


@pytest.mark.parametrize("name", ["hikvision", "sunba"])
def test_the_scheme_that_worked_is_used_first_afterwards(name: str) -> None:
    async def scenario():
        async with personal_simulator({0: name}) as simulator, OnvifClient() as onvif:
            camera = onvif.camera(address(0))
            await camera.get_device_information()
            before = simulator.requests
            await camera.get_device_information()
            return simulator.requests - before

    assert run(scenario()) == 1  # one request: no WS-Security try, the digest answered at once


def test_a_digest_only_camera_with_a_wrong_password_is_auth_failed() -> None:
    async def scenario():
        async with personal_simulator({0: "sunba"}), OnvifClient() as onvif:
            camera = onvif.camera(address(0, password="wrong"))
            await camera.get_system_date_and_time()
            await camera.get_device_information()

    with pytest.raises(CameraAuthFailed, match="GetDeviceInformation: HTTP 401"):
        run(scenario())


def test_an_unsupported_call_is_recorded_once_and_skipped() -> None:
    async def scenario():
        async with personal_simulator({0: "dlink"}) as simulator, OnvifClient() as onvif:
            camera = onvif.camera(address(0))
            profiles = await camera.get_profiles()
            with pytest.raises(CameraUnsupported, match="ActionNotSupported"):
                await camera.get_stream_uri(profiles[0].token)
            before = simulator.requests
            with pytest.raises(CameraUnsupported, match="unsupported"):
                await camera.get_stream_uri(profiles[0].token)
            return camera, simulator.requests - before

    camera, requests = run(scenario())
    assert requests == 0
    assert set(camera.unsupported) == {"GetServices", "GetStreamUri"}  # 1.x: GetCapabilities


def test_ptz_status_is_read_where_the_camera_has_ptz() -> None:
    async def scenario():
        async with personal_simulator({0: "hikvision", 1: "dlink"}), OnvifClient() as onvif:
            ptz = onvif.camera(address(0))
            fixed = onvif.camera(address(1))
            status = await ptz.get_ptz_status("Profile_1")
            with pytest.raises(CameraUnsupported, match="no PTZ service"):
                await fixed.get_ptz_status("profile_1")
            return status

    status = run(scenario())
    assert (status.pan, status.tilt, status.zoom) == (0.801444, -0.982444, 0.05375)


@pytest.mark.parametrize("variant", ["billion_laughs", "xxe", "deep_nesting", "huge_text"])
@pytest.mark.parametrize("call", ["media2_profiles", "ptz_status", "signed_clock", "services"])
def test_hostile_replies_on_every_new_path_are_refused(call: str, variant: str) -> None:
    async def scenario():
        chosen = {0: "hikvision", 1: "uniview"}
        async with personal_simulator(chosen) as simulator, OnvifClient() as onvif:
            index = 1 if call == "signed_clock" else 0
            camera = onvif.camera(address(index))
            await camera.get_system_date_and_time()  # uniview: learns the clock wants a token
            if call in ("media2_profiles", "ptz_status"):
                await camera.discover()
            await simulator.set_faults(index, [Fault(kind="hostile_xml", variant=variant)])
            calls = {
                "media2_profiles": camera.get_profiles,
                "ptz_status": lambda: camera.get_ptz_status("Profile_1"),
                "signed_clock": camera.get_system_date_and_time,
                "services": camera.get_services,
            }
            await calls[call]()

    with pytest.raises(CameraProtocolError) as caught:
        run(scenario())
    assert any(
        fragment in str(caught.value)
        for fragment in ("DOCTYPE", "Excessive depth", "bytes refused")
    )


def test_a_media2_without_profiles_falls_back_to_media1_once() -> None:
    async def scenario():
        async with personal_simulator({0: "hikvision"}) as simulator, OnvifClient() as onvif:
            camera_0 = simulator.cameras[0]
            replies = dict(camera_0.personality.replies)
            del replies["Media2_GetProfiles"]  # a firmware advertising Media2 without it
            camera_0.personality = dataclasses.replace(camera_0.personality, replies=replies)
            camera = onvif.camera(address(0))
            first = await camera.get_profiles()
            before = simulator.requests
            again = await camera.get_profiles()
            return camera, first, again, simulator.requests - before

    camera, first, again, requests = run(scenario())
    assert camera.media == "media" and "media2" in camera.unsupported
    assert first == again and first[0].token == "Profile_1" and first[0].width
    assert requests == 1  # Media2 is not asked again


def _states(events: list) -> dict[str, bool]:
    return {event.cause: event.active for event in events}


def test_a_camera_s_own_events_tell_its_health_and_survive_its_restart() -> None:
    async def scenario():
        async with personal_simulator({0: "hikvision"}) as simulator, OnvifClient() as onvif:
            camera = onvif.camera(address(0))
            calm = _states(await camera.pull_events())
            first = camera.subscription
            await simulator.set_faults(0, [Fault(kind="storage_failure"), Fault(kind="covered")])
            troubled = _states(await camera.pull_events())
            await simulator.set_faults(0, [Fault(kind="offline")])  # a restart forgets it
            await simulator.set_faults(0, [])
            after_restart = _states(await camera.pull_events())
            camera.subscription_renewed = 0.0  # time to renew: Renew is not in the capture
            renewed = _states(await camera.pull_events())
            return calm, first, troubled, after_restart, renewed, camera.subscription

    calm, first, troubled, after_restart, renewed, last = run(scenario())
    assert calm == {
        "camera_scene_change": False,
        "camera_too_dark": False,
        "storage_failure": False,
    }
    assert first is not None and first.startswith("http://127.0.0.1:11000/onvif/Events/")
    assert troubled == {
        "camera_scene_change": True,  # the camera's own analytics saw the cover
        "camera_too_dark": False,
        "storage_failure": True,
    }
    assert after_restart == calm  # subscribed again, states as the camera reports them now
    assert renewed == calm and last == first


def test_events_a_camera_lacks_are_recorded_once() -> None:
    async def scenario():
        async with personal_simulator({0: "dlink"}) as simulator, OnvifClient() as onvif:
            camera = onvif.camera(address(0))
            with pytest.raises(CameraUnsupported, match="ActionNotSupported"):
                await camera.pull_events()
            before = simulator.requests
            with pytest.raises(CameraUnsupported):
                await camera.pull_events()
            return camera, simulator.requests - before

    camera, requests = run(scenario())
    assert requests == 0 and "events" in camera.unsupported


@pytest.mark.parametrize("variant", ["billion_laughs", "xxe", "deep_nesting", "huge_text"])
def test_hostile_event_replies_are_refused(variant: str) -> None:
    async def scenario():
        async with personal_simulator({0: "hikvision"}) as simulator, OnvifClient() as onvif:
            camera = onvif.camera(address(0))
            await camera.pull_events()
            await simulator.set_faults(0, [Fault(kind="hostile_xml", variant=variant)])
            await camera.pull_events()

    with pytest.raises(CameraProtocolError, match=r"DOCTYPE|Excessive depth|bytes refused"):
        run(scenario())
