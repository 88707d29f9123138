"""What the command groups share: consoles that never split a line."""

from __future__ import annotations

import os
import subprocess
import sys

# Run in a fresh interpreter, its output piped: what a script or CI gets.
WIDE = """
from vigie.cli.context import err, out
out.print("identifiant operateur  mot de passe " + "x" * 150 + "  fin", highlight=False)
err.print("verdict " + "y" * 150 + " fin", highlight=False)
"""


def _python(code: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | env
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=environ
    )


def test_a_piped_console_splits_no_line() -> None:
    for columns in ({}, {"COLUMNS": "80"}):
        result = _python(WIDE, **columns)
        assert result.returncode == 0, result.stderr
        (line,) = result.stdout.splitlines()
        assert line.startswith("identifiant operateur") and line.endswith("fin")
        (line,) = result.stderr.splitlines()
        assert line.startswith("verdict") and line.endswith("fin")
