"""The real console script, run as a user would (subprocess), and the Eure sample as a folder of
layer files to edit before handing it to a command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.paths import SAMPLE

VIGIE = str(Path(sys.executable).with_name("vigie"))


def run(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    input: str | None = None,
    columns: int | None = 200,
):
    """``vigie ARGS`` with its output piped; ``columns=None`` leaves COLUMNS unset, as in CI."""
    full_env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns is not None:
        full_env["COLUMNS"] = str(columns)
    full_env.update(env or {})
    return subprocess.run(
        [VIGIE, *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=300,
        input=input,
    )


def sample_folder(folder: Path, edit=None) -> Path:
    """The sample as a folder of GeoJSON files, one layer edited by ``edit(name, frame)``."""
    import geopandas as gpd
    import pyogrio

    folder.mkdir()
    for name, _ in pyogrio.list_layers(SAMPLE):
        frame = gpd.read_file(SAMPLE, layer=name, engine="pyogrio")
        if edit is not None:
            frame = edit(name, frame)
        frame.to_file(folder / f"{name}.geojson", engine="pyogrio")
    return folder
