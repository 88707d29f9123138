"""The small, clean planning layers of :mod:`tests.helpers.planning_layers`, as fixtures."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest

from tests.helpers.planning_layers import make_layers, write_folder, write_gpkg


@pytest.fixture
def layers() -> dict[str, gpd.GeoDataFrame]:
    return make_layers()


@pytest.fixture
def clean_gpkg(tmp_path: Path) -> Path:
    return write_gpkg(make_layers(), tmp_path / "layers.gpkg")


@pytest.fixture
def new_layers():
    """The factory itself, for tests that need several fresh copies."""
    return make_layers


@pytest.fixture
def gpkg_writer():
    return write_gpkg


@pytest.fixture
def folder_writer():
    return write_folder
