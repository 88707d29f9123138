"""`vigie simulate --snapshot-size`: snapshots at a real camera's size, faults included."""

from __future__ import annotations

import gc
import linecache
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from cameras.client import OnvifClient
from cameras.errors import SimulatorError
from cameras.models import CameraAddress
from cameras.simulator import scenes
from cameras.simulator.scenario import Scenario
from cameras.simulator.scenes import base_frame
from cameras.simulator.server import Simulator, parse_snapshot_size
from tests.helpers.camera_servers import PASSWORD, USERNAME, camera_block, run
from tests.helpers.picture_measures import (
    correlation,
    dark_cover_share,
    saturated_share,
    sharpness,
)
from tests.helpers.simulator import running_simulator

HD = (1920, 1080)
FAULTS = {
    1: {"kind": "video_loss"},
    2: {"kind": "frozen"},
    3: {"kind": "blurred"},
    4: {"kind": "covered"},
    5: {"kind": "displaced"},
    6: {"kind": "glare"},
}
CAMERAS = 8  # 0 and 7 healthy
# the block tests/cameras/conftest.py takes for this run: its simulator uses the first 61 ports
BASE = camera_block() + 70
VIGIE = str(Path(sys.executable).with_name("vigie"))


@pytest.fixture(scope="module")
def hd_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real `vigie simulate --snapshot-size 1920x1080`; yields its first camera's port."""
    with running_simulator(
        tmp_path_factory.mktemp("simulator-hd"),
        cameras=CAMERAS,
        base_port=BASE,
        username=USERNAME,
        password=PASSWORD,
        faults=FAULTS,
        extra_args=("--snapshot-size", "1920x1080"),
    ):
        yield BASE


async def _snapshot(port: int, index: int) -> tuple[bytes, np.ndarray]:
    async with OnvifClient() as onvif:
        camera = onvif.camera(CameraAddress("127.0.0.1", port + index, USERNAME, PASSWORD, 5.0))
        shot = await camera.get_snapshot(f"http://127.0.0.1:{port + index}/snap.jpg")
    return shot.content, cv2.imdecode(np.frombuffer(shot.content, np.uint8), cv2.IMREAD_COLOR)


def test_a_snapshot_has_the_size_asked(hd_port: int) -> None:
    jpeg, picture = run(_snapshot(hd_port, 0))
    assert picture.shape == (1080, 1920, 3)
    assert len(jpeg) > 100_000  # a real 1080p camera's weight, not an enlarged thumbnail's
    # the same view as at 640x360, only finer, and light and noise change it little
    assert correlation(picture, base_frame(0, HD)) > 0.95
    small = cv2.resize(picture, (640, 360), interpolation=cv2.INTER_AREA)
    assert correlation(small, base_frame(0)) > 0.95


def test_picture_faults_show_at_1080p(hd_port: int) -> None:
    pictures = {index: run(_snapshot(hd_port, index)) for index in range(CAMERAS)}
    assert all(p.shape == (1080, 1920, 3) for _, p in pictures.values())
    assert pictures[1][1].mean() < 8  # video_loss: black
    assert run(_snapshot(hd_port, 2))[0] == pictures[2][0]  # frozen: the same bytes again
    assert run(_snapshot(hd_port, 7))[0] != pictures[7][0]  # (a healthy one changes)
    assert sharpness(pictures[3][1]) < 0.2 * sharpness(base_frame(3, HD))  # blurred
    assert dark_cover_share(pictures[4][1]) > 0.4  # covered
    assert correlation(pictures[7][1], base_frame(7, HD)) > 0.95
    assert correlation(pictures[5][1], base_frame(5, HD)) < 0.7  # displaced
    saturated = saturated_share(pictures[6][1])  # glare
    assert saturated > 0.05 and saturated > 5 * saturated_share(base_frame(6, HD))


def test_main_gives_each_camera_its_main_profile_size() -> None:
    """``main``: the size each camera reports in GetProfiles, from the scenario or 1920x1080."""
    port = BASE + 10
    scenario = Scenario(
        username=USERNAME,
        password=PASSWORD,
        resolutions=[{"cameras": 1, "resolution": "1280x720"}],
    )

    async def scenario_run() -> list[tuple[tuple[int, int], tuple[int, int]]]:
        seen = []
        async with (
            Simulator(2, port, scenario=scenario, control_port=port + 2, snapshot_size="main"),
            OnvifClient() as onvif,
        ):
            for index in range(2):
                address = CameraAddress("127.0.0.1", port + index, USERNAME, PASSWORD, 5.0)
                camera = onvif.camera(address)
                main = (await camera.get_profiles())[0]
                shot = await camera.get_snapshot(f"http://127.0.0.1:{port + index}/snap.jpg")
                picture = cv2.imdecode(np.frombuffer(shot.content, np.uint8), cv2.IMREAD_COLOR)
                seen.append(((main.width, main.height), picture.shape[1::-1]))
        return seen

    assert run(scenario_run()) == [((1920, 1080), (1920, 1080)), ((1280, 720), (1280, 720))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1920x1080", (1920, 1080)), (" 3840X2160 ", (3840, 2160)), ("160x90", (160, 90))],
)
def test_sizes_within_bounds_are_accepted(text: str, expected: tuple[int, int]) -> None:
    assert parse_snapshot_size(text) == expected
    assert parse_snapshot_size("Main") == "main"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1080p", "'1080p' is not a size like 1920x1080"),
        ("1920x", "is not a size like 1920x1080"),
        ("-1x5", "is not a size like 1920x1080"),
        ("159x90", "159x90 is outside the sizes a snapshot can have (160x90 to 3840x2160)"),
        ("7680x4320", "7680x4320 is outside"),
    ],
)
def test_bad_sizes_are_refused_naming_the_option(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="--snapshot-size: ") as caught:
        parse_snapshot_size(text)
    assert message in str(caught.value)


def test_the_command_refuses_a_bad_size_before_opening_any_port() -> None:
    done = subprocess.run(
        [VIGIE, "simulate", "--cameras", "1", "--port", str(BASE + 20), "--snapshot-size", "9x9"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    error = " ".join(done.stderr.replace("│", " ").split())
    assert "Invalid value for '--snapshot-size': 9x9 is outside the sizes" in error


def test_main_refuses_a_scenario_size_out_of_bounds() -> None:
    scenario = Scenario(resolutions=[{"cameras": 1, "resolution": "7680x4320"}])
    with pytest.raises(SimulatorError, match=r"--snapshot-size main: camera 1's main profile"):
        Simulator(2, BASE + 20, scenario=scenario, snapshot_size="main")
    with pytest.raises(SimulatorError, match=r"--snapshot-size: 100x100 is outside"):
        Simulator(2, BASE + 20, snapshot_size=(100, 100))


def test_idle_keep_alive_connections_do_not_keep_the_jpegs_sent() -> None:
    """5,000 cameras polled over keep-alive must not hold 5,000 x 250 KB of sent pictures."""
    port, cameras = BASE + 30, 6

    async def sent_jpegs_still_in_memory() -> int:
        async with (
            Simulator(cameras, port, control_port=port + cameras, snapshot_size=HD),
            OnvifClient() as onvif,
        ):
            tracemalloc.start()
            try:
                for index in range(cameras):  # each connection stays open, idle, afterwards
                    address = CameraAddress("127.0.0.1", port + index, "admin", "vigie-sim", 5.0)
                    url = f"http://127.0.0.1:{port + index}/snap.jpg"
                    assert len((await onvif.camera(address).get_snapshot(url)).content) > 1e5
                gc.collect()
                traces = tracemalloc.take_snapshot().filter_traces(
                    [tracemalloc.Filter(True, scenes.__file__)]
                )
            finally:
                tracemalloc.stop()
        return sum(
            stat.size
            for stat in traces.statistics("lineno")
            if "tobytes" in linecache.getline(scenes.__file__, stat.traceback[0].lineno)
        )

    assert run(sent_jpegs_still_in_memory()) < 100_000  # one 1080p JPEG is about 250 KB
