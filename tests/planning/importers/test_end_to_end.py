"""From a real OSM extract to a plan, through the command line as an engineer runs it:
``vigie import osm``, the other layers added beside the roads, ``vigie validate``,
``vigie plan``."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest

from tests.helpers.cli import run
from tests.helpers.osm_extracts import MONACO
from tests.helpers.osm_plan import MASTS, add_planning_layers


@pytest.mark.slow
def test_osm_import_then_validate_then_plan(tmp_path: Path) -> None:
    layers = tmp_path / "monaco.gpkg"
    report = tmp_path / "report.json"
    imported = run("import", "osm", str(MONACO), "--out", str(layers), "--report", str(report))
    assert imported.returncode == 0, imported.stderr
    assert "voie de desserte locale" in imported.stdout and "écartées" in imported.stdout
    assert json.loads(report.read_text())["mapped"]["roads"] > 700

    add_planning_layers(layers)
    # importing again replaces the roads and keeps the layers added beside them
    again = run("import", "osm", str(MONACO), "--out", str(layers))
    assert again.returncode == 0, again.stderr
    names = {name for name, _ in pyogrio.list_layers(layers)}
    assert names == {"roads", "masts", "ftth_nodes", "ftth_routes", "power_points", "communes"}

    validated = run("validate", str(layers))
    assert validated.returncode == 0, validated.stdout + validated.stderr

    planned = run("plan", str(layers), "--out", str(tmp_path / "plan"))
    assert planned.returncode == 0, planned.stdout + planned.stderr
    summary = json.loads((tmp_path / "plan" / "summary.json").read_text())
    assert summary["totals"]["connected"] == MASTS
    trenches = gpd.read_file(tmp_path / "plan" / "plan.gpkg", layer="trenches")
    assert len(trenches) > 0


def test_import_errors_are_one_line(tmp_path: Path) -> None:
    result = run(
        "import", "osm", str(tmp_path / "nowhere.osm.pbf"), "--out", str(tmp_path / "a.gpkg")
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "nowhere.osm.pbf: no such file" in result.stderr
    bad_area = run("import", "osm", str(MONACO), "--out", str(tmp_path / "a.gpkg"), "--area", "x")
    assert bad_area.returncode == 1 and "error: --area 'x'" in bad_area.stderr
    if importlib.util.find_spec("planning.importers.gracethd") is None:
        gracethd = run("import", "gracethd", str(tmp_path), "--out", str(tmp_path / "a.gpkg"))
        assert gracethd.returncode == 1 and "gracethd is not available" in gracethd.stderr
