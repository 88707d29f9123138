"""Debian's chromium for the browser tests (Playwright drives it), and where screenshots go."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

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


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's chromium driven by Playwright, closed after. Playwright's sync API runs an event
    loop in this thread while it lives: open it per module, not per session, so that later tests
    calling ``asyncio.run`` do not find one running."""
    assert Path(CHROMIUM).exists(), "chromium is missing: scripts/system-packages installs it"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
