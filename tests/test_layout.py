"""The tests' own layout: shared helpers come from tests.helpers, never from a test module or a
conftest.py (importing a test module runs its tests twice, and a conftest.py is pytest's)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.helpers.paths import REPO


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``, relative ones resolved."""
    package = list(path.relative_to(REPO).parent.parts)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:  # `from tests import x` may name a module
                yield node.lineno, f"{module}.{alias.name}" if module == "tests" else module


def test_tests_and_benchmarks_import_only_tests_helpers() -> None:
    wrong = []
    for folder in ("tests", "benchmarks"):
        for path in sorted((REPO / folder).rglob("*.py")):
            for line, module in imported_modules(path):
                parts = module.split(".")
                if parts[0] == "tests" and (parts[1:2] != ["helpers"] or len(parts) > 3):
                    wrong.append(f"{path.relative_to(REPO)}:{line}: {module}")
    assert wrong == [], "import shared helpers from tests.helpers:\n" + "\n".join(wrong)
