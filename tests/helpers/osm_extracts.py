"""The real OpenStreetMap extracts of the importer tests (their SOURCE.md says where from)."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "planning" / "importers" / "data"
MONACO = DATA / "monaco.osm.gz"
ANDORRA = DATA / "andorra.osm.pbf"
