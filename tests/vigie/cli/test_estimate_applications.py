"""`vigie estimate --applications DIR` run as a user would: the estimate and one application per
local project owner, all written or none."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.cli import run


def test_applications_are_written_with_the_estimate(sample_plan: Path, tmp_path: Path) -> None:
    out, folder = tmp_path / "dqe.json", tmp_path / "dossiers" / "2026"
    result = run("estimate", str(sample_plan), "--out", str(out), "--applications", str(folder))
    assert result.returncode == 0, result.stderr
    owners = json.loads(out.read_text(encoding="utf-8"))["estimates"][0]["owners"]
    local = [o for o in owners if o["kind"] in ("commune", "epci", "departement")]
    files = sorted(p.name for p in folder.iterdir())
    assert len([f for f in files if f.endswith(".xlsx")]) == len(local)
    assert len([f for f in files if f.endswith(".html")]) == len(local) + 1  # and the index
    assert "index.html" in files
    assert f"dossiers FIPD : {len(local)} maître(s) d'ouvrage" in result.stderr
    assert "Estimation de" in result.stdout  # the headline table stays
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dossiers", "dqe.json"]  # no leftovers


def test_a_file_in_the_way_writes_nothing(sample_plan: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "dossiers"
    blocker.write_text("un fichier, pas un dossier", encoding="utf-8")
    out = tmp_path / "dqe.xlsx"
    result = run("estimate", str(sample_plan), "--out", str(out), "--applications", str(blocker))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "is not a folder" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dossiers"]
    assert blocker.read_text(encoding="utf-8") == "un fichier, pas un dossier"


def test_applications_take_one_plan(sample_plan: Path, tmp_path: Path) -> None:
    result = run(
        "estimate",
        str(sample_plan),
        str(sample_plan),
        "--out",
        str(tmp_path / "dqe.xlsx"),
        "--applications",
        str(tmp_path / "dossiers"),
    )
    assert result.returncode == 1
    assert "one plan folder" in result.stderr
    assert list(tmp_path.iterdir()) == []
