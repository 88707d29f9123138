"""Real OpenStreetMap extracts (data/SOURCE.md) and BD TOPO files written to IGN's schema."""

from __future__ import annotations

import pytest

from tests.helpers.osm_extracts import MONACO


@pytest.fixture(scope="session")
def monaco_roads():
    from planning.importers.osm import import_osm

    return import_osm(MONACO)
