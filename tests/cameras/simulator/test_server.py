"""The running simulator: control API, flapping, picture faults, and a slow start-up check."""

from __future__ import annotations

import asyncio
import time

import cv2
import numpy as np
import pytest

from cameras.client import OnvifClient
from cameras.errors import CameraUnreachable, SimulatorError
from cameras.simulator.scenes import base_frame
from cameras.simulator.server import Simulator, raise_open_file_limit
from tests.helpers.camera_servers import CAMERAS, RunningSimulator, run
from tests.helpers.picture_measures import (
    correlation,
    dark_cover_share,
    saturated_share,
    sharpness,
)


async def _snapshot(simulator: RunningSimulator, index: int) -> tuple[bytes, np.ndarray]:
    async with OnvifClient() as onvif:
        camera = onvif.camera(simulator.address(index))
        shot = await camera.get_snapshot(
            f"http://127.0.0.1:{simulator.base_port + index}/snap.jpg?JpegCam=1"
        )
    return shot.content, cv2.imdecode(np.frombuffer(shot.content, np.uint8), cv2.IMREAD_COLOR)


async def _reachable(simulator: RunningSimulator, index: int) -> bool:
    async with OnvifClient() as onvif:
        try:
            await onvif.camera(simulator.address(index, timeout_s=1)).get_system_date_and_time()
        except CameraUnreachable:
            return False
        return True


def test_the_control_api_wants_the_token(simulator: RunningSimulator) -> None:
    import httpx

    url = f"http://127.0.0.1:{simulator.control_port}/cameras/0"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    reply = simulator.control("GET", "/cameras/0")
    assert reply.status_code == 200
    assert reply.json() == {"index": 0, "port": simulator.base_port, "up": True, "faults": []}


def test_the_control_api_lists_the_scenario_faults(simulator: RunningSimulator) -> None:
    cameras = simulator.control("GET", "/cameras").json()["cameras"]
    assert len(cameras) == CAMERAS
    assert cameras[1]["faults"][0]["kind"] == "clock_drift"
    assert cameras[1]["faults"][0]["seconds"] == 3600
    assert cameras[2]["up"] is False


def test_faults_set_at_run_time_take_effect_and_clear(simulator: RunningSimulator) -> None:
    index = 50
    assert run(_reachable(simulator, index))
    reply = simulator.control("PUT", f"/cameras/{index}/faults", json={"kind": "offline"})
    assert reply.status_code == 200 and reply.json()["up"] is False
    assert not run(_reachable(simulator, index))
    assert simulator.control("DELETE", f"/cameras/{index}/faults").json()["faults"] == []
    assert run(_reachable(simulator, index))


def test_bad_fault_requests_are_refused_with_the_reason(simulator: RunningSimulator) -> None:
    reply = simulator.control("POST", "/cameras/51/faults", json={"kind": "melted"})
    assert reply.status_code == 400
    assert "faults[0]: kind: Input should be" in reply.json()["title"]
    reply = simulator.control("POST", "/cameras/51/faults", json={"kind": "slow", "delay_s": -1})
    assert reply.status_code == 400 and "delay_s" in reply.json()["title"]
    assert simulator.control("GET", f"/cameras/{CAMERAS}").status_code == 404
    assert simulator.control("GET", "/cameras/51").json()["faults"] == []


def test_a_flapping_camera_goes_down_and_comes_back(simulator: RunningSimulator) -> None:
    seen: set[bool] = set()
    deadline = time.monotonic() + 10
    while len(seen) < 2 and time.monotonic() < deadline:
        seen.add(run(_reachable(simulator, 13)))
        time.sleep(0.2)
    assert seen == {True, False}


def test_video_loss_is_black(simulator: RunningSimulator) -> None:
    _, picture = run(_snapshot(simulator, 14))
    assert picture.mean() < 8


def test_a_frozen_camera_repeats_the_same_picture(simulator: RunningSimulator) -> None:
    first, _ = run(_snapshot(simulator, 15))
    second, _ = run(_snapshot(simulator, 15))
    assert first == second
    healthy = [run(_snapshot(simulator, 20))[0] for _ in range(2)]
    assert healthy[0] != healthy[1]


def test_a_blurred_camera_loses_its_detail(simulator: RunningSimulator) -> None:
    _, picture = run(_snapshot(simulator, 16))
    assert sharpness(picture) < 0.2 * sharpness(base_frame(16))


def test_a_covered_camera_shows_mostly_one_dark_surface(simulator: RunningSimulator) -> None:
    _, picture = run(_snapshot(simulator, 17))
    assert dark_cover_share(picture) > 0.4


def test_a_displaced_camera_no_longer_shows_its_scene(simulator: RunningSimulator) -> None:
    _, displaced = run(_snapshot(simulator, 18))
    _, healthy = run(_snapshot(simulator, 20))
    assert correlation(healthy, base_frame(20)) > 0.95  # light and noise change, not the view
    assert correlation(displaced, base_frame(18)) < 0.7


def test_glare_saturates_part_of_the_picture(simulator: RunningSimulator) -> None:
    _, picture = run(_snapshot(simulator, 19))
    saturated = saturated_share(picture)
    assert saturated > 0.05
    assert saturated > 5 * saturated_share(base_frame(19))


def test_a_taken_port_is_a_clear_error(simulator: RunningSimulator) -> None:
    async def scenario() -> None:
        await Simulator(2, simulator.base_port, control_port=simulator.base_port + 9999).start()

    with pytest.raises(SimulatorError, match=r"camera 0: cannot listen on 127\.0\.0\.1:"):
        run(scenario())


def test_too_many_cameras_for_the_file_limit_is_a_clear_error() -> None:
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with pytest.raises(SimulatorError, match="raise the hard limit"):
        raise_open_file_limit(hard)


def test_start_and_stop_in_process_release_the_ports() -> None:
    async def scenario() -> None:
        async with Simulator(3, 29900, control_port=29899):
            _, writer = await asyncio.open_connection("127.0.0.1", 29901)
            writer.close()
        await asyncio.open_connection("127.0.0.1", 29901)

    with pytest.raises(OSError, match="Connect call failed"):
        run(scenario())
