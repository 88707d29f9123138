"""From a real OSM extract to a plan, through the command line as an engineer runs it:
``vigie import osm``, the other layers added beside the roads, ``vigie validate``,
``vigie plan``."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest

from planning.importers.gracethd_write import write_gracethd
from planning.validate import validate_path
from tests.helpers.bdtopo_sample import write_geopackage
from tests.helpers.cli import run
from tests.helpers.gracethd import DEMO
from tests.helpers.osm_extracts import MONACO
from tests.helpers.osm_plan import MASTS, add_planning_layers
from tests.helpers.paths import SAMPLE


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
    assert names == {
        "roads", "masts", "ftth_nodes", "ftth_routes", "power_points", "communes", "sites"
    }  # fmt: skip

    validated = run("validate", str(layers))
    assert validated.returncode == 0, validated.stdout + validated.stderr

    planned = run("plan", str(layers), "--out", str(tmp_path / "plan"))
    assert planned.returncode == 0, planned.stdout + planned.stderr
    summary = json.loads((tmp_path / "plan" / "summary.json").read_text())
    assert summary["totals"]["connected"] == MASTS
    trenches = gpd.read_file(tmp_path / "plan" / "plan.gpkg", layer="trenches")
    assert len(trenches) > 0
    # ...all the way to the supervision centre, along the imported roads
    assert summary["csu"]["id"] == "CSU-1"
    assert [link["kind"] for link in summary["links"]] == ["nro_csu"]
    assert summary["links"][0]["on_network"] is True
    assert all(m["primary"]["csu_id"] == "CSU-1" for m in summary["masts"])


@pytest.mark.slow
def test_gracethd_delivery_of_the_sample_imports_and_plans_to_the_csu(tmp_path: Path) -> None:
    """The sample's FttH network written as GraceTHD, imported back over the sample's own FttH
    layers with the command line, then validated and planned: the same plan, to the CSU."""
    sample = validate_path(SAMPLE)
    write_gracethd(
        {name: sample.layers[name] for name in ("ftth_routes", "ftth_nodes")}, tmp_path / "grace"
    )
    layers = tmp_path / "eure.gpkg"
    shutil.copy(SAMPLE, layers)
    imported = run("import", "gracethd", str(tmp_path / "grace"), "--out", str(layers))
    assert imported.returncode == 0, imported.stderr
    assert "NRO" in imported.stdout and "PBO" in imported.stdout
    assert run("validate", str(layers)).returncode == 0
    for source, out in ((SAMPLE, "before"), (layers, "after")):
        planned = run("plan", str(source), "--out", str(tmp_path / out), "--no-bound")
        assert planned.returncode == 0, planned.stderr
    before, after = (
        json.loads((tmp_path / out / "summary.json").read_text()) for out in ("before", "after")
    )
    assert after["totals"]["connected"] == before["totals"]["connected"] == 110
    assert after["csu"]["id"] == "CSU-27"
    assert after["totals"]["cost_eur"] == pytest.approx(before["totals"]["cost_eur"], rel=1e-6)
    assert after["owners"] == before["owners"]


def test_gracethd_demo_delivery_through_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "demo.gpkg"
    report = tmp_path / "demo.json"
    result = run("import", "gracethd", str(DEMO), "--out", str(out), "--report", str(report))
    assert result.returncode == 0, result.stderr
    assert {name for name, _ in pyogrio.list_layers(out)} == {"ftth_routes", "ftth_nodes"}
    data = json.loads(report.read_text())
    assert data["format"] == "gracethd" and data["mapped"]["ftth_nodes"] > 0
    # the summary says why in French, per code; the report keeps the English reasons
    assert _left_out(result.stdout) == {
        "câble sans extrémités connues : impossible à placer": "27",
        "prise terminale optique (PTO) : hors du réseau auquel un mât se raccorde": "21",
        "site abonné (SF) : hors du réseau auquel un mât se raccorde": "15",
        "site radio (SE) : pas un nœud FttH": "1",
    }
    assert "subscriber" not in result.stdout
    assert data["unmapped_by_code"]["gracethd.pto"] == 21
    pto = next(u for u in data["unmapped"] if u["code"] == "gracethd.pto")
    assert pto["reason"].startswith("subscriber terminal (PTO)")


def test_left_out_segments_are_counted_per_code_in_french(tmp_path: Path) -> None:
    source = write_geopackage(tmp_path / "bdtopo.gpkg")
    result = run("import", "bdtopo", str(source), "--out", str(tmp_path / "roads.gpkg"))
    assert result.returncode == 0, result.stderr
    # En projet and En construction: two English reasons, one code, one French row
    assert _left_out(result.stdout) == {
        "tronçon pas en service (en projet, en construction…)": "2",
        "sentier : pas une route le long de laquelle on creuse": "1",
        "escalier : impossible d'y creuser une tranchée": "1",
        "piste cyclable : la fibre suit les routes": "1",
        "bac ou liaison maritime : pas de route à creuser": "1",
    }
    assert "not in service" not in result.stdout


def _left_out(stdout: str) -> dict[str, str]:
    """The summary's "écartées" rows but the total: French label -> count."""
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in stdout.splitlines()]
    start = next(i for i, row in enumerate(rows) if row[:2] == ["écartées", "total"])
    return {row[1]: row[2] for row in rows[start + 1 :] if len(row) == 3}


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
