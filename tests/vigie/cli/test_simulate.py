"""`vigie simulate` as a user runs it: help, clear errors, and a clean stop on Ctrl-C.

The happy path (serving a scenario until Ctrl-C) runs in tests/cameras/conftest.py, whose
simulator every camera test uses.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

VIGIE = str(Path(sys.executable).with_name("vigie"))
ENV = {**os.environ, "COLUMNS": "200"}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([VIGIE, *args], capture_output=True, text=True, env=ENV, timeout=120)


def test_help_names_the_options() -> None:
    result = run("simulate", "--help")
    assert result.returncode == 0
    for option in ("--cameras", "--port", "--scenario", "--control-port", "--token-file"):
        assert option in result.stdout


def test_a_bad_scenario_is_one_line_naming_the_file(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("faults: [{cameras: 0, kind: melted}]\n")
    result = run("simulate", "--cameras", "2", "--port", "10950", "--scenario", str(scenario))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {scenario}: faults.0.kind: Input should be")
    assert "Traceback" not in result.stderr


def test_a_scenario_naming_a_missing_camera_is_refused(tmp_path: Path) -> None:
    scenario = tmp_path / "s.json"
    scenario.write_text('{"faults": [{"cameras": 5, "kind": "hang"}]}')
    result = run("simulate", "--cameras", "2", "--port", "10950", "--scenario", str(scenario))
    assert result.returncode == 1
    assert "camera 5 does not exist (cameras are 0-1)" in result.stderr


def test_an_unknown_personality_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    result = run("simulate", "--cameras", "2", "--port", "10950", "--personality", "acme")
    assert result.returncode == 1
    assert "no simulator personality 'acme'" in result.stderr
    assert "bosch, dlink, hikvision, ipd, ipnc, sunba, uniview" in result.stderr
    scenario = tmp_path / "s.yaml"
    scenario.write_text("personalities: [{cameras: 1, personality: acme}]\n")
    result = run("simulate", "--cameras", "2", "--port", "10950", "--scenario", str(scenario))
    assert result.returncode == 1
    assert f"{scenario}: personalities[0]: no simulator personality 'acme'" in result.stderr


def test_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    token = tmp_path / "token"
    process = subprocess.Popen(
        [
            *(VIGIE, "simulate", "--cameras", "3", "--port", "10960", "--token-file", str(token)),
            *("--personality", "hikvision"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    deadline = time.monotonic() + 60
    while not token.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert token.stat().st_mode & 0o077 == 0  # the token file is private
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "ONVIF simulator" in stderr and "stopped:" in stderr
    assert "hikvision x3" in stderr
