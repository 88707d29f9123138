"""A real service for the dashboard tests: uvicorn on a port of 33000-33999 serving the app over
a seeded SQLite database and a plans folder holding the sample plan; Debian's chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest
import skimage.data
from playwright.sync_api import Browser

from tests.helpers.browser import chromium
from tests.helpers.dashboard import PLAN_NAME, PORTS, Server, Watched
from tests.helpers.dashboard_pictures import night_verdict
from tests.helpers.dashboard_seed import Seeded, copy_plan, plan_cameras, seed_dashboard
from tests.helpers.http_server import serve_in_thread
from tests.helpers.service import make_settings
from vigie import db
from vigie.api import create_app
from vigie.clock import utcnow
from vigie.credentials import KeyRing
from vigie.supervisor.pictures import store_snapshot


@pytest.fixture(scope="session")
def dashboard(sample_plan: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    work = tmp_path_factory.mktemp("dashboard")
    plans = work / "plans"
    plans.mkdir()
    copy_plan(sample_plan, plans, PLAN_NAME)
    # Every test logs in from 127.0.0.1: the per-address login limit would throttle the suite.
    settings = make_settings(
        f"sqlite:///{work / 'vigie.db'}", plans_dir=plans, login_rate_per_minute=10_000
    )
    engine = db.make_engine(settings.db_url)
    # The commune user sees the commune with the most cameras but not all of them.
    communes = plan_cameras(sample_plan, work / "probe.csv")
    counts: dict[str, int] = {}
    for code in communes.values():
        counts[code] = counts.get(code, 0) + 1
    scoped = max(counts, key=lambda code: (counts[code], code))
    users = {
        "admin": ("admin", []),
        "operateur": ("operator", []),
        "ingenieur": ("engineer", []),
        "amo": ("amo", []),
        "gendarme": ("gendarmerie", []),
        "mairie": ("commune", [scoped]),
    }
    seeded = seed_dashboard(engine, sample_plan, work, users)
    seeded = Seeded(cameras=seeded.cameras, communes=seeded.communes, scoped_commune=scoped)
    # A real JPEG as the first degraded camera's last snapshot, encrypted as the supervisor
    # keeps it: what the camera page shows after a reason.
    degraded = sorted(c for c, s in seeded.cameras.items() if s == "degraded")[0]
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR))
    assert ok
    with db.session_scope(db.session_factory(engine)) as session:
        store_snapshot(
            session, degraded, keys=KeyRing.from_settings(settings), jpeg=jpeg.tobytes(),
            at=utcnow(),
        )  # fmt: skip
    night_verdict(engine, degraded)  # its last verdict: a first infrared night picture
    engine.dispose()
    running = serve_in_thread(create_app(settings), ports=PORTS)
    yield Server(url=running.url, settings=settings, seeded=seeded, users=users)
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One chromium per module: Playwright's sync API runs an event loop in this thread while
    it lives, and later tests calling ``asyncio.run`` would find it running."""
    with chromium() as browser:
        yield browser


@pytest.fixture
def watched(browser: Browser, dashboard: Server) -> Iterator[Watched]:
    """A page whose console errors and requests are recorded and checked after the test."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 900},
        accept_downloads=True,
        locale="fr-FR",
        timezone_id="Europe/Paris",
    )
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc} {exc.stack}"))
    page.on(
        "console",
        lambda msg: (
            errors.append(f"{msg.text} @ {msg.location.get('url', '')}")
            if msg.type == "error"
            else None
        ),
    )
    page.on("request", lambda req: requests.append(req.url))
    result = Watched(page=page, errors=errors, requests=requests, allowed_errors=[])
    yield result
    unexpected = [e for e in errors if not any(a in e for a in result.allowed_errors)]
    assert unexpected == [], f"console errors: {unexpected}"
    outside = [
        u
        for u in requests
        if not u.startswith((dashboard.url + "/", "blob:" + dashboard.url, "data:"))
    ]
    assert outside == [], f"requests left 127.0.0.1: {outside}"
    context.close()
