"""`vigie demo` end to end: one command brings up the plan, the simulator and the service; the
printed login works, every camera of the sample's masts is supervised, Ctrl-C stops it all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyogrio
import pytest

from tests.conftest import SAMPLE

VIGIE = str(Path(sys.executable).with_name("vigie"))
PORT, SIM_PORT = 24100, 24200  # below 32768 (Linux hands out outgoing ports above)


def _read_until(process: subprocess.Popen, pattern: str, limit: float, lines: list[str]) -> str:
    deadline = time.monotonic() + limit
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        lines.append(line)
        if re.search(pattern, line):
            return line
    raise AssertionError(f"no line matching {pattern!r}:\n{''.join(lines)}")


@pytest.mark.slow
def test_demo_serves_the_sample_cameras_and_stops_everything_on_ctrl_c(tmp_path: Path) -> None:
    masts = pyogrio.read_dataframe(SAMPLE, layer="masts")
    expected = int(masts["cameras"].sum())
    process = subprocess.Popen(
        [VIGIE, "demo", "--out", str(tmp_path), "--port", str(PORT), "--sim-port", str(SIM_PORT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    lines: list[str] = []
    try:
        _read_until(process, rf"http://127\.0\.0\.1:{PORT}/", 240, lines)
        _read_until(process, r"login admin ", 10, lines)  # the last of the demo logins
        password = re.search(r"login operateur\s+password (\S+)", "".join(lines)).group(1)
        base = f"http://127.0.0.1:{PORT}"
        deadline = time.monotonic() + 60
        while True:  # the service starts after the banner
            try:
                token = httpx.post(
                    f"{base}/api/v1/auth/token",
                    data={"grant_type": "password", "username": "operateur", "password": password},
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "".join(lines)
                time.sleep(0.5)
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        # Every camera of the plan's masts is in the inventory; within a few liveness
        # intervals (10 s in the demo) the simulated cameras are checked and reported UP.
        deadline = time.monotonic() + 90
        while True:
            status = httpx.get(f"{base}/api/v1/status", headers=headers).json()
            up = [c for c in status if c["state"] == "up"]
            if len(up) >= expected * 0.9 or time.monotonic() > deadline:
                break
            time.sleep(2)
        assert len(status) == expected
        assert len(up) >= expected * 0.9, {c["state"] for c in status}
        # The planning page's data: the demo's plan is listed.
        plans = httpx.get(f"{base}/api/v1/plans", headers=_login(base, "ingenieur", lines))
        assert plans.status_code == 200 and plans.json(), plans.text
    finally:
        process.send_signal(signal.SIGINT)
        try:
            rest, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            rest, _ = process.communicate()
        lines.append(rest or "")
    assert process.returncode in (0, 130), "".join(lines)
    assert "demo stopped" in "".join(lines)
    # Nothing is left listening: neither the service nor the simulator's cameras.
    for port in (PORT, SIM_PORT, SIM_PORT + expected - 1):
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)


def _login(base: str, username: str, lines: list[str]) -> dict:
    text = "".join(lines)
    password = re.search(rf"login {username}\s+password (\S+)", text).group(1)
    token = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def test_the_simulator_scenario_gives_each_camera_its_model_s_resolution(sample_plan: Path) -> None:
    from cameras.catalogue import load_catalogue
    from cameras.simulator.scenario import parse_scenario
    from vigie.demo import SIM_PASSWORD, scenario_for
    from vigie.plan_import import plan_inventory

    rows = plan_inventory(
        sample_plan, host="127.0.0.1", first_port=20000, username="admin", password=SIM_PASSWORD
    )
    scenario = parse_scenario(scenario_for(rows), source="demo")
    sizes = scenario.resolution_by_camera(len(rows))
    catalogue = load_catalogue()
    assert len(sizes) == len(rows)  # every camera of the sample has a catalogue model
    for index, row in enumerate(rows):
        assert sizes[index] == catalogue.cameras[row.model].frame_size, row.id
    assert len(set(sizes.values())) > 1  # the sample mixes models
