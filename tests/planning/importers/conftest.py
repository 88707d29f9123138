"""Real OpenStreetMap extracts (data/SOURCE.md) and BD TOPO files written to IGN's schema."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
MONACO = DATA / "monaco.osm.gz"
ANDORRA = DATA / "andorra.osm.pbf"


@pytest.fixture(scope="session")
def monaco_roads():
    from planning.importers.osm import import_osm

    return import_osm(MONACO)
