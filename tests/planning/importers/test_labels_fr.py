"""Every skip code the importers use has its French label (the summary of ``vigie import``), and
every label belongs to a code still in use.

The codes are collected twice: statically, every code-shaped string in the importers' modules
(``osm.footway``, ``gracethd.pto``...), and by running the importers on the test data, which also
checks that the static collection misses none of those really reported.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import shapely

from planning.importers import ImportReport
from planning.importers.area import parse_area
from planning.importers.bdtopo import import_bdtopo
from planning.importers.gracethd import import_gracethd
from planning.importers.labels_fr import SKIP_LABELS, skip_label
from planning.importers.osm import import_osm
from tests.helpers.bdtopo_sample import write_geopackage
from tests.helpers.gracethd import DEMO
from tests.helpers.osm_extracts import MONACO
from tests.helpers.paths import REPO

IMPORTERS = REPO / "planning" / "importers"
CODE = re.compile(r"^(osm|bdtopo|gracethd)\.[a-z_]+$")


def _modules() -> list[Path]:
    return [p for p in sorted(IMPORTERS.glob("*.py")) if p.name != "labels_fr.py"]


def _codes_in_the_source() -> set[str]:
    codes = set()
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and CODE.match(str(node.value)):
                codes.add(node.value)
    return codes


def test_every_skip_gives_a_code() -> None:
    calls = 0
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "skip":
                calls += 1
                keywords = {k.arg for k in node.keywords}
                assert "code" in keywords, f"{path.name}:{node.lineno}: skip() without code="
    assert calls > 20  # the three importers' skips were found


def test_every_code_in_the_importers_has_a_french_label_and_every_label_a_code() -> None:
    codes = _codes_in_the_source()
    assert {"osm.footway", "bdtopo.not_in_service", "gracethd.pto"} <= codes
    assert sorted(codes - set(SKIP_LABELS)) == [], "codes without a French label"
    assert sorted(set(SKIP_LABELS) - codes) == [], "labels of codes no importer uses"


def _reports(monaco_roads, tmp_path: Path) -> list[ImportReport]:
    bdtopo = write_geopackage(tmp_path / "troncon_de_route.gpkg")
    return [
        monaco_roads.report,
        import_osm(MONACO, area=parse_area("7.415,43.728,7.425,43.735")).report,
        import_bdtopo(bdtopo).report,
        import_bdtopo(bdtopo, area=shapely.box(562_000, 6_883_600, 562_900, 6_884_400)).report,
        import_gracethd(DEMO).report,
    ]


@pytest.mark.slow
def test_the_codes_reported_on_the_test_data_are_known_and_labelled(
    monaco_roads, tmp_path: Path
) -> None:
    known = _codes_in_the_source()
    used: set[str] = set()
    for report in _reports(monaco_roads, tmp_path):
        for item in report.unmapped:
            assert item.code.split(".")[0] == report.format, item
            used.add(item.code)
    assert len(used) >= 10
    assert sorted(used - known) == []  # the static collection found them all
    for code in used:
        assert skip_label(code) == SKIP_LABELS[code] != code


def test_a_code_without_a_label_shows_as_itself() -> None:
    assert skip_label("osm.something_new") == "osm.something_new"
    assert skip_label("gracethd.pto").startswith("prise terminale optique (PTO)")
