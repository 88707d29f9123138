"""What the command groups share: consoles that never split a line, and logs sent to a file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# Run in a fresh interpreter: the test changes the process's logging and reads its real output.
LOGGING = """
import logging, sys, warnings
from pathlib import Path
from vigie.cli.context import log_to_file
log_to_file(Path(sys.argv[1]))
import onvif  # its import calls logging.basicConfig(level=INFO)
logging.getLogger("alembic.runtime.migration").info("Running upgrade 0001 -> 0002")
logging.getLogger("pyogrio._io").info("Created 318 records")
warnings.warn("something old")
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("vigie.test").exception("it broke")
print("what the user reads")
"""

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


def test_logs_go_to_the_file_and_only_an_error_reaches_the_screen(tmp_path: Path) -> None:
    log = tmp_path / "demo" / "vigie.log"
    result = _python(LOGGING, str(log))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "what the user reads\n"
    # One line for the error, naming the file; no traceback, no INFO, no warning on the screen.
    assert result.stderr == f"ERROR vigie.test: it broke (see {log})\n"
    text = log.read_text(encoding="utf-8")
    for expected in ("Running upgrade 0001", "Created 318 records", "something old"):
        assert expected in text
    assert "ZeroDivisionError" in text  # the whole traceback is in the file


def test_a_piped_console_splits_no_line() -> None:
    for columns in ({}, {"COLUMNS": "80"}):
        result = _python(WIDE, **columns)
        assert result.returncode == 0, result.stderr
        (line,) = result.stdout.splitlines()
        assert line.startswith("identifiant operateur") and line.endswith("fin")
        (line,) = result.stderr.splitlines()
        assert line.startswith("verdict") and line.endswith("fin")
