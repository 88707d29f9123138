"""``scripts/run-tests``: every test belongs to exactly one of its parts."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path

from tests.helpers.paths import REPO


def _script():
    loader = importlib.machinery.SourceFileLoader("run_tests", str(REPO / "scripts" / "run-tests"))
    spec = importlib.util.spec_from_loader("run_tests", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_every_test_directory_and_file_is_in_one_part_only(tmp_path: Path) -> None:
    script = _script()
    assert script.unassigned() == []
    entries = [entry for paths in script.PARTS.values() for entry in paths]
    assert len(entries) == len(set(entries))
    assert all((REPO / entry).exists() for entry in entries)
    # A new test directory that no part names is found (the run stops on it).
    (tmp_path / "newfamily").mkdir()
    (tmp_path / "helpers").mkdir()
    (tmp_path / "test_new.py").write_text("")
    (tmp_path / "conftest.py").write_text("")
    assert script.unassigned(tmp_path) == ["tests/newfamily", "tests/test_new.py"]


def test_a_path_inside_another_part_is_left_out_of_it() -> None:
    script = _script()
    service = script.command("service")
    assert "--ignore=tests/vigie/cli" in service
    assert "--ignore=tests/vigie/supervisor" in service
    assert "--ignore=tests/vigie/estimate" in service
    assert not [a for a in script.command("core") if a.startswith("--ignore")]
    assert not [a for a in script.command("cli") if a.startswith("--ignore")]
