"""plan.gpkg opened by QGIS itself: every layer valid and coloured by the style stored in the file.

QGIS's Python bindings are Debian's (python3-qgis, installed by `.ci/run`) and belong to the
system Python, so a helper script runs under /usr/bin/python3 with an offscreen Qt platform.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
from matplotlib.image import imread

from planning.qgis_styles import (
    LAYER_STYLES,
    MAST_STATUSES,
    POWER_LAYINGS,
    TRENCH_MODES,
    Category,
)
from tests.helpers.paths import REPO

SYSTEM_PYTHON = "/usr/bin/python3"
SCRIPT = Path(__file__).with_name("qgis") / "open_plan.py"
ARTIFACTS = REPO / "out" / "test-artifacts"
EXPECTED = {
    "trenches": "mode",
    "cables": "role",
    "connections": "budget",
    "masts": "status",
    "splices": "kind",
    "links": "kind",
    "power_links": "laying",
}


def _open_in_qgis(gpkg: Path, picture: Path) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(picture.parent)}
    result = subprocess.run(
        [SYSTEM_PYTHON, str(SCRIPT), str(gpkg), str(picture)],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    assert result.returncode == 0, f"QGIS failed: {result.stderr[-2000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def _hex(category: Category) -> str:
    return "#" + "".join(f"{int(c):02x}" for c in category.colour.split(","))


def test_qgis_opens_every_layer_coloured_by_the_stored_style(
    sample_plan: Path, tmp_path: Path
) -> None:
    assert set(EXPECTED) == set(LAYER_STYLES)
    picture = tmp_path / "plan.png"
    report = _open_in_qgis(sample_plan / "plan.gpkg", picture)
    for name, attribute in EXPECTED.items():
        layer = report[name]
        assert layer["valid"], f"QGIS cannot open the {name} layer"
        assert layer["renderer"] == "categorizedSymbol", f"{name}: no stored style loaded"
        assert layer["attribute"] == attribute
    assert report["trenches"]["features"] > 0
    assert report["masts"]["features"] == 110
    assert report["power_links"]["features"] > 0
    layings = {c["value"]: c["label"] for c in report["power_links"]["categories"]}
    assert layings == {cat.value: cat.label for cat in POWER_LAYINGS}
    trench = {c["value"]: c for c in report["trenches"]["categories"]}
    for cat in TRENCH_MODES:
        assert trench[cat.value]["label"] == cat.label
        assert trench[cat.value]["colour"] == _hex(cat)
    masts = {c["value"]: c["colour"] for c in report["masts"]["categories"]}
    assert masts == {cat.value: _hex(cat) for cat in MAST_STATUSES}

    # The rendered maps show the connected masts' green and, close up, the new trenches' red.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    close_up = picture.with_name("plan-trenches.png")
    for path in (picture, close_up):
        (ARTIFACTS / f"planning-qgis-{path.name}").write_bytes(path.read_bytes())
    for path, cat in ((picture, MAST_STATUSES[0]), (close_up, TRENCH_MODES[0])):
        rgb = (imread(path)[..., :3] * 255).round().astype(int)
        colour = np.array([int(c) for c in cat.colour.split(",")])
        assert (np.abs(rgb - colour).sum(axis=-1) <= 6).sum() > 100, f"no {cat.label} drawn"
