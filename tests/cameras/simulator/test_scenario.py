"""Scenario files: the format, and errors that name the file, the rule and the problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cameras.errors import ScenarioError
from cameras.simulator.scenario import FaultKind, HostileVariant, load_scenario, parse_selector
from tests.helpers.paths import REPO

EXAMPLE = """\
username: admin
password: change-me
faults:
  - {cameras: 0, kind: offline}
  - {cameras: "10-12", kind: slow, delay_s: 2.5}
  - {cameras: [3, "5-6"], kind: clock_drift, seconds: -3600}
  - {cameras: 3, kind: hostile_xml, variant: xxe}
"""


def test_the_readme_format_loads(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(EXAMPLE)
    scenario = load_scenario(path)
    faults = scenario.faults_by_camera(20)
    assert scenario.password == "change-me"
    assert [f.kind for f in faults[3]] == [FaultKind.clock_drift, FaultKind.hostile_xml]
    assert faults[3][1].variant is HostileVariant.xxe
    assert faults[6][0].seconds == -3600
    assert sorted(faults) == [0, 3, 5, 6, 10, 11, 12]
    assert faults[11][0].delay_s == 2.5


def test_json_is_accepted_too(tmp_path: Path) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"faults": [{"cameras": "0-1", "kind": "glare"}]}))
    assert set(load_scenario(path).faults_by_camera(2)) == {0, 1}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("faults: [{cameras: 0, kind: melted}]", "faults.0.kind: Input should be"),
        ("faults: [{cameras: 0, kind: slow, delay: 3}]", "faults.0.delay: Extra inputs"),
        ("faults: [{cameras: '5-2', kind: hang}]", "'5-2' is not a range"),
        ("faults: [{kind: hang}]", "faults.0.cameras: Field required"),
        ("passwd: x", "passwd: Extra inputs are not permitted"),
        ("faults: [{cameras: 0, kind: hang}", "not YAML or JSON"),
        ("resolutions: [{cameras: 0, resolution: 4k}]", "resolutions.0.resolution: String"),
        ("resolutions: [{resolution: 640x480}]", "resolutions.0.cameras: Field required"),
    ],
)
def test_errors_name_the_file_and_the_rule(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_a_camera_beyond_the_count_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("faults: [{cameras: '8-12', kind: offline}]")
    with pytest.raises(ScenarioError, match=r"faults\[0\] \(offline\): camera 10 does not exist"):
        load_scenario(path).faults_by_camera(10, source=str(path))


def test_resolutions_per_camera(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "resolutions:\n"
        "  - {cameras: [0, '3-4'], resolution: 2688x1520}\n"
        "  - {cameras: 4, resolution: 1280x720}\n"
    )
    scenario = load_scenario(path)
    assert scenario.resolution_by_camera(5) == {0: (2688, 1520), 3: (2688, 1520), 4: (1280, 720)}
    with pytest.raises(ScenarioError, match=r"resolutions\[0\]: camera 3 does not exist"):
        scenario.resolution_by_camera(3, source=str(path))


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read the scenario"):
        load_scenario(tmp_path / "nope.yaml")


def test_selectors() -> None:
    assert parse_selector(4) == (4, 4)
    assert parse_selector("4") == (4, 4)
    assert parse_selector(" 10-19 ") == (10, 19)
    with pytest.raises(ValueError, match="negative"):
        parse_selector(-1)


def test_the_readme_example_and_fault_table_match_the_code(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Cameras and the ONVIF simulator", 1)[1].split("\n## ", 1)[0]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "readme.yaml"
    path.write_text(example)
    assert len(load_scenario(path).faults_by_camera(100)) > 5
    for kind in FaultKind:
        assert f"`{kind}`" in section, f"fault {kind} is not in the README table"
