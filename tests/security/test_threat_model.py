"""docs/threat-model.md stays true: every test it names exists and holds tests."""

from __future__ import annotations

import re

from tests.helpers.paths import REPO

MODEL = REPO / "docs" / "threat-model.md"


def test_every_test_the_threat_model_names_exists() -> None:
    named = set(re.findall(r"`(tests/[\w/]+(?:\.py|/))`", MODEL.read_text(encoding="utf-8")))
    assert len(named) >= 10
    missing = [path for path in sorted(named) if not (REPO / path).exists()]
    assert missing == []
    empty = [
        path
        for path in sorted(named)
        if path.endswith(".py") and "def test_" not in (REPO / path).read_text(encoding="utf-8")
    ]
    assert empty == []
