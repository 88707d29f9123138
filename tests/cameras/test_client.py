"""The client against the simulator over real HTTP and SOAP: every operation, every fault."""

from __future__ import annotations

import asyncio
import dataclasses

import cv2
import numpy as np
import pytest

from cameras.client import OnvifClient
from cameras.errors import (
    CameraAuthFailed,
    CameraBasicRefused,
    CameraProtocolError,
    CameraUnreachable,
)
from tests.helpers.camera_servers import RunningSimulator, run


async def _probe(simulator: RunningSimulator, index: int, **kwargs):
    async with OnvifClient() as onvif:
        camera = onvif.camera(simulator.address(index, **kwargs))
        clock = await camera.get_system_date_and_time()
        info = await camera.get_device_information()
        return camera, clock, info


def test_every_operation_on_a_healthy_camera(simulator: RunningSimulator) -> None:
    async def scenario():
        async with OnvifClient() as onvif:
            camera = onvif.camera(simulator.address(0))
            clock = await camera.get_system_date_and_time()
            info = await camera.get_device_information()
            services = await camera.get_services()
            caps = await camera.get_capabilities()
            profiles = await camera.get_profiles()
            stream = await camera.get_stream_uri(profiles[0].token)
            snapshot_uri = await camera.get_snapshot_uri(profiles[0].token)
            snapshot = await camera.get_snapshot(snapshot_uri.uri)
            return clock, info, services, caps, profiles, stream, snapshot_uri, snapshot

    clock, info, services, caps, profiles, stream, snapshot_uri, snapshot = run(scenario())
    assert abs(clock.offset_s) < 2
    assert (info.manufacturer, info.model) == ("Bosch", "FLEXIDOME indoor 5100i IR")
    assert info.serial_number == "SIM000000000000000"
    assert {s.namespace for s in services} >= {
        "http://www.onvif.org/ver10/device/wsdl",
        "http://www.onvif.org/ver10/media/wsdl",
    }
    assert caps.media == f"http://127.0.0.1:{simulator.base_port}/onvif/media_service"
    assert [(p.token, p.width, p.height) for p in profiles] == [
        ("0", 1920, 1080),
        ("1", 1536, 864),
        ("2", 1280, 720),
        ("3", 512, 288),
    ]
    assert profiles[0].encoding == "H264" and profiles[0].bitrate_kbps == 5200
    assert stream.uri.startswith("rtsp://127.0.0.1/rtsp_tunnel?p=0")
    assert snapshot_uri.uri == f"http://127.0.0.1:{simulator.base_port}/snap.jpg?JpegCam=1"
    picture = cv2.imdecode(np.frombuffer(snapshot.content, np.uint8), cv2.IMREAD_COLOR)
    assert picture.shape == (360, 640, 3)
    assert snapshot.auth_scheme == "digest"
    assert 30 < picture.mean() < 230  # a real scene, neither black nor white


def test_each_camera_shows_its_own_scene_with_changing_noise(simulator: RunningSimulator) -> None:
    async def snapshots():
        async with OnvifClient() as onvif:
            out = []
            for index in (0, 0, 20):
                camera = onvif.camera(simulator.address(index))
                uri = f"http://127.0.0.1:{simulator.base_port + index}/snap.jpg?JpegCam=1"
                shot = await camera.get_snapshot(uri)
                out.append(cv2.imdecode(np.frombuffer(shot.content, np.uint8), 1).astype(float))
            return out

    first, again, other = run(snapshots())
    same_camera = np.abs(first - again).mean()
    assert 0 < same_camera < 12  # noise and light change, the scene does not
    assert np.abs(first - other).mean() > 3 * same_camera


def test_clock_drift_is_compensated(simulator: RunningSimulator) -> None:
    _, clock, info = run(_probe(simulator, 1))
    assert 3598 < clock.offset_s < 3602
    assert info.manufacturer == "Bosch"  # signed with the camera's time, so accepted


def test_a_token_signed_with_our_clock_is_refused_by_a_drifting_camera(
    simulator: RunningSimulator,
) -> None:
    async def scenario():
        async with OnvifClient() as onvif:
            camera = onvif.camera(simulator.address(1))
            await camera.get_system_date_and_time()
            camera.offset = None  # what a client that ignores the camera's clock sends
            await camera.get_device_information()

    with pytest.raises(CameraAuthFailed, match="NotAuthorized"):
        run(scenario())


def test_wrong_password_is_auth_failed_with_the_soap_fault(simulator: RunningSimulator) -> None:
    with pytest.raises(CameraAuthFailed) as caught:
        run(_probe(simulator, 0, password="wrong"))
    message = str(caught.value)
    assert message.startswith(f"127.0.0.1:{simulator.base_port}: GetDeviceInformation:")
    assert "Sender/NotAuthorized" in message


def test_wrong_password_on_the_snapshot_is_auth_failed(simulator: RunningSimulator) -> None:
    async def scenario():
        async with OnvifClient() as onvif:
            camera = onvif.camera(simulator.address(0, password="wrong"))
            await camera.get_snapshot(f"http://127.0.0.1:{simulator.base_port}/snap.jpg")

    with pytest.raises(CameraAuthFailed, match="HTTP 401"):
        run(scenario())


@pytest.mark.parametrize(
    ("index", "error", "fragment"),
    [
        (2, CameraUnreachable, "GetSystemDateAndTime: cannot connect: Connect call failed"),
        (3, CameraUnreachable, "no answer within 1 s"),
        (5, CameraAuthFailed, "SOAP fault Sender/NotAuthorized"),
        (6, CameraProtocolError, "SOAP fault Receiver/Action: internal error"),
        (7, CameraProtocolError, "not well-formed XML"),
        (8, CameraProtocolError, "DOCTYPE"),
        (9, CameraProtocolError, "DOCTYPE"),
        (10, CameraProtocolError, "Excessive depth"),
        (11, CameraProtocolError, "12,583,381 bytes refused"),
    ],
    ids=[
        "offline",
        "hang",
        "auth_failure",
        "soap_fault",
        "garbage",
        "billion_laughs",
        "xxe",
        "deep_nesting",
        "huge_text",
    ],
)
def test_faults_become_the_right_error(
    simulator: RunningSimulator, index: int, error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error) as caught:
        run(_probe(simulator, index, timeout_s=1.0))
    assert str(caught.value).startswith(f"127.0.0.1:{simulator.base_port + index}: ")
    assert fragment in str(caught.value)


def test_a_slow_camera_within_its_timeout_answers(simulator: RunningSimulator) -> None:
    _, _, info = run(_probe(simulator, 4, timeout_s=2.0))
    assert info.model == "FLEXIDOME indoor 5100i IR"
    with pytest.raises(CameraUnreachable, match=r"no answer within 0\.2 s"):
        run(_probe(simulator, 4, timeout_s=0.2))


def test_snapshot_falls_back_to_basic_auth_only_where_allowed(simulator: RunningSimulator) -> None:
    async def scenario(basic_auth: bool):
        async with OnvifClient() as onvif:
            address = dataclasses.replace(simulator.address(12), basic_auth=basic_auth)
            return await onvif.camera(address).get_snapshot(
                f"http://127.0.0.1:{simulator.base_port + 12}/snap.jpg"
            )

    assert run(scenario(True)).auth_scheme == "basic"
    with pytest.raises(CameraBasicRefused, match="not allowed for this camera"):
        run(scenario(False))


def test_snapshot_credentials_go_only_to_the_camera_itself(simulator: RunningSimulator) -> None:
    async def scenario():
        async with OnvifClient() as onvif:
            camera = onvif.camera(simulator.address(0))
            await camera.get_snapshot("http://localhost:1/snap.jpg")

    with pytest.raises(CameraProtocolError, match="not the camera's: credentials not sent"):
        run(scenario())


def test_a_hanging_camera_never_blocks_the_others(simulator: RunningSimulator) -> None:
    """Ten hung requests and forty healthy probes in one event loop: the healthy ones all
    finish while every hung request is still waiting."""

    async def scenario():
        async with OnvifClient() as onvif:
            hung = [
                asyncio.create_task(
                    onvif.camera(simulator.address(3, timeout_s=20)).get_system_date_and_time()
                )
                for _ in range(10)
            ]
            healthy = []
            for index in range(20, 60):
                camera = onvif.camera(simulator.address(index))
                healthy.append(camera.get_device_information())
            infos = await asyncio.gather(*healthy)
            still_waiting = sum(not task.done() for task in hung)
            for task in hung:
                task.cancel()
            await asyncio.gather(*hung, return_exceptions=True)
            return infos, still_waiting

    infos, still_waiting = run(scenario())
    assert len({info.serial_number for info in infos}) == 40
    assert still_waiting == 10


def test_another_onvif_client_can_query_the_simulator(simulator: RunningSimulator) -> None:
    """onvif-zeep-async's own ONVIFCamera, used as its README says, against a drifting camera."""
    from onvif import ONVIFCamera

    from tests.helpers.camera_servers import PASSWORD, USERNAME

    async def scenario():
        camera = ONVIFCamera(
            "127.0.0.1", simulator.base_port + 1, USERNAME, PASSWORD, adjust_time=True
        )
        try:
            await camera.update_xaddrs()
            info = await (await camera.create_devicemgmt_service()).GetDeviceInformation()
            media = await camera.create_media_service()
            profiles = await media.GetProfiles()
            uri = await media.GetSnapshotUri({"ProfileToken": profiles[0].token})
            return info, profiles, uri
        finally:
            await camera.close()

    info, profiles, uri = run(scenario())
    assert info.SerialNumber == "SIM000000000000001"
    assert len(profiles) == 4
    assert uri.Uri.endswith("/snap.jpg?JpegCam=1")


def test_a_garbage_snapshot_is_a_protocol_error(simulator: RunningSimulator) -> None:
    async def scenario():
        async with OnvifClient() as onvif:
            camera = onvif.camera(simulator.address(7))
            await camera.get_snapshot(f"http://127.0.0.1:{simulator.base_port + 7}/snap.jpg")

    with pytest.raises(CameraProtocolError, match="bytes that are not a JPEG"):
        run(scenario())


def test_a_camera_going_offline_drops_open_connections(simulator: RunningSimulator) -> None:
    """A kept-alive connection opened while the camera was up gets no answer once it is down."""
    index = 52

    async def scenario():
        async with OnvifClient() as onvif:
            camera = onvif.camera(simulator.address(index))
            await camera.get_system_date_and_time()  # opens the connection, kept alive
            simulator.control("PUT", f"/cameras/{index}/faults", json={"kind": "offline"})
            try:
                await camera.get_system_date_and_time()
            finally:
                simulator.control("DELETE", f"/cameras/{index}/faults")

    with pytest.raises(CameraUnreachable, match="GetSystemDateAndTime"):
        run(scenario())
