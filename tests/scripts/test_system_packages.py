"""``scripts/system-packages``: what the tests need from the system, said in one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers.paths import REPO

SCRIPT = REPO / "scripts" / "system-packages"


def _check(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "--check"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )


def test_this_machine_has_everything_the_tests_use() -> None:
    result = _check()
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_a_python_without_qgis_nor_gstreamer_is_named_in_one_line() -> None:
    # The project's own Python has neither QGIS's bindings nor GObject's: as a system Python
    # without python3-qgis and python3-gi would.
    result = _check(VIGIE_SYSTEM_PYTHON=sys.executable)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    (line,) = lines
    assert "python3-qgis" in line and "gir1.2-gst-rtsp-server-1.0" in line
    assert "chromium" not in line.split("install them with")[0]  # present: not asked for
    assert ("sudo" in line and str(SCRIPT.relative_to(REPO)) in line) or str(SCRIPT) in line


def test_a_missing_browser_is_named(tmp_path: Path) -> None:
    # A PATH with everything the script calls but chromium.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in (
        "bash",
        "env",
        "id",
        "printf",
        "grep",
        "tr",
        "seq",
        "sleep",
        "ls",
        "pg_isready",
        "psql",
        "soffice",
        "sudo",
    ):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    result = subprocess.run(
        ["bash", str(SCRIPT), "--check"],
        capture_output=True,
        text=True,
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "missing: chromium" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
