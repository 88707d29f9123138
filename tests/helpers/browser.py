"""Debian's chromium for the browser tests (Playwright drives it), and where screenshots go."""

from __future__ import annotations

import shutil

from tests.helpers.paths import REPO

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As the machine's own probe runs it: no sandbox as root, and no background calls home, which
# a closed network refuses many at a time.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO / "out" / "test-artifacts"
"""Screenshots kept for a person to look at."""
