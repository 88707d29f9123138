"""Reading plan folders: the current format, and clear refusals of older or broken folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyogrio
import pytest

from planning.plan_folder import PlanFolderError, read_plan_folder


def _copy(sample_plan: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "plan"
    shutil.copytree(sample_plan, folder)
    return folder


def _edit_summary(folder: Path, edit) -> None:
    path = folder / "summary.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    edit(summary)
    path.write_text(json.dumps(summary), encoding="utf-8")


def test_reads_the_sample_plan(sample_plan: Path) -> None:
    folder = read_plan_folder(sample_plan)
    assert len(folder.layers["masts"]) == 110
    assert folder.fibres_per_mast == 2
    assert folder.summary["format"]["version"] == 2


def test_a_folder_without_format_is_from_an_older_vigie(sample_plan: Path, tmp_path: Path) -> None:
    folder = _copy(sample_plan, tmp_path)
    _edit_summary(folder, lambda s: s.pop("format"))
    with pytest.raises(PlanFolderError, match=r"older Vigie .*run `vigie plan` again"):
        read_plan_folder(folder)


@pytest.mark.parametrize(("version", "word"), [(1, "older"), (3, "newer")])
def test_other_format_versions_are_named(
    sample_plan: Path, tmp_path: Path, version: int, word: str
) -> None:
    folder = _copy(sample_plan, tmp_path)
    _edit_summary(folder, lambda s: s["format"].update(version=version))
    with pytest.raises(PlanFolderError, match=rf"{word} Vigie \(plan format {version}"):
        read_plan_folder(folder)


def test_missing_files_and_columns(sample_plan: Path, tmp_path: Path) -> None:
    with pytest.raises(PlanFolderError, match="no such plan folder"):
        read_plan_folder(tmp_path / "nowhere")
    folder = _copy(sample_plan, tmp_path)
    (folder / "summary.json").unlink()
    with pytest.raises(PlanFolderError, match=r"summary\.json is missing"):
        read_plan_folder(folder)

    other = _copy(sample_plan, tmp_path / "b")
    masts = pyogrio.read_dataframe(other / "plan.gpkg", layer="masts").drop(columns="power_kind")
    pyogrio.write_dataframe(masts, other / "plan.gpkg", layer="masts")
    with pytest.raises(PlanFolderError, match="layer 'masts' lacks power_kind"):
        read_plan_folder(other)
