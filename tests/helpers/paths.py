"""Where the tests' data is: the repository, the Eure sample, the SteinLib instances."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "gis_data" / "eure" / "eure.gpkg"


def steinlib_dir() -> Path:
    """The SteinLib copy: $VIGIE_STEINLIB, else ../shared/data/steinlib beside the repository."""
    configured = os.environ.get("VIGIE_STEINLIB")
    folder = Path(configured) if configured else REPO.parent / "shared" / "data" / "steinlib"
    if not (folder / "B").is_dir():
        pytest.fail(
            f"SteinLib series B not found in {folder}: put the instances there "
            "or point VIGIE_STEINLIB at a folder holding B/"
        )
    return folder
