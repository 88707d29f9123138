"""HTML injection: every page fed by data shows hostile values as text, never as markup.

The data comes from where an attacker can put it: a plan's GeoPackage (mast ids), the camera
inventory (names), an operator's incident comment, a maintenance reason. Each value carries an
image with a script in ``onerror`` and a phishing link; the pages are opened in chromium and the
document must hold neither element, while the text itself is shown. The content security policy
stops scripts, not a link: only building text nodes does (the plans page's tooltips did not).
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pyogrio
import pytest
from playwright.sync_api import Browser, Page

from gis_data import data_path
from planning.mapview import render_map
from planning.plan_folder import read_plan_folder
from supervision.states import Policy
from tests.helpers.browser import chromium
from tests.helpers.dashboard import PORTS
from tests.helpers.http_server import ThreadServer, serve_in_thread
from tests.helpers.service import PASSWORD, bearer_token, make_settings, password_hash
from tests.helpers.supervision_data import down, ok
from vigie import db
from vigie.api import create_app
from vigie.auth.roles import Role
from vigie.clock import utcnow
from vigie.inventory.cameras import import_cameras, read_inventory
from vigie.inventory.communes import load_referential, read_referential
from vigie.models import User
from vigie.supervisor.store import apply_result

pytestmark = pytest.mark.slow


def payload(where: str) -> str:
    """A value that is markup if a page inserts it as HTML: an image whose error handler runs a
    script (stopped by the CSP, but the element appears) and a link to a phishing page."""
    return (
        f'<img src="x" class="pwned" data-where="{where}" onerror="window.__pwned=1">'
        f'<a class="pwned" href="https://phishing.example/{where}">clic</a>'
    )


MAST = "M-27229-001"
CAMERAS = {
    "cam-hostile-1": ("27229", 49.024, 1.151),
    "cam-hostile-2": ("27229", 49.026, 1.155),
}
USERS = {"operateur": Role.OPERATOR, "ingenieur": Role.ENGINEER}


@dataclass
class Hostile:
    url: str
    plan: Path


def _hostile_plan(sample_plan: Path, plans: Path) -> Path:
    target = plans / "plan-hostile"
    shutil.copytree(sample_plan, target)
    gpkg = target / "plan.gpkg"
    masts = pyogrio.read_dataframe(gpkg, layer="masts")
    masts["mast_id"] = [payload(f"mast-{i}") for i in range(len(masts))]
    pyogrio.write_dataframe(masts, gpkg, layer="masts", driver="GPKG")
    return target


def _seed(engine, work: Path) -> None:
    inventory = work / "inventory.csv"
    with inventory.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "name", "commune", "latitude", "longitude", "host", "port"])
        for camera_id, (commune, lat, lon) in CAMERAS.items():
            writer.writerow(
                [camera_id, payload(f"name-{camera_id}"), commune, lat, lon, "127.0.0.1", 9]
            )
    db.upgrade(engine)
    start = utcnow() - timedelta(hours=1)
    with db.session_scope(db.session_factory(engine)) as session:
        load_referential(session, read_referential(data_path("sources", "communes-27-admin.json")))
        import_cameras(session, inventory, read_inventory(inventory), keys=None, now=utcnow())
        for username, role in USERS.items():
            session.add(
                User(
                    username=username,
                    role=role.value,
                    password_hash=password_hash(),
                    scope_communes=[],
                    scope_epcis=[],
                    created_at=utcnow(),
                )
            )
        for camera_id in CAMERAS:  # DOWN, with an open incident
            results = [ok(camera_id, start)]
            results += [down(camera_id, start + timedelta(seconds=30 * i)) for i in range(1, 6)]
            for result in results:
                apply_result(session, camera_id, result, Policy(), result.time)


def _write_through_the_api(url: str) -> None:
    """What an operator types: an incident comment and a maintenance reason, both hostile."""
    headers = {"Authorization": f"Bearer {bearer_token(url, 'operateur')}"}
    incidents = httpx.get(f"{url}/api/v1/incidents?status=open", headers=headers).json()["items"]
    assert {i["camera_id"] for i in incidents} == set(CAMERAS)
    for incident in incidents:
        acked = httpx.post(
            f"{url}/api/v1/incidents/{incident['id']}/ack",
            json={"comment": payload(f"comment-{incident['camera_id']}")},
            headers=headers,
        )
        assert acked.status_code == 200, acked.text
    now = utcnow()
    window = httpx.post(
        f"{url}/api/v1/maintenance",
        json={
            "camera_id": "cam-hostile-1",
            "start": (now + timedelta(days=1)).isoformat(),
            "end": (now + timedelta(days=1, hours=2)).isoformat(),
            "reason": payload("maintenance"),
        },
        headers=headers,
    )
    assert window.status_code in (200, 201), window.text


@pytest.fixture(scope="module")
def hostile(sample_plan: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    work = tmp_path_factory.mktemp("hostile")
    plans = work / "plans"
    plans.mkdir()
    plan = _hostile_plan(sample_plan, plans)
    settings = make_settings(
        f"sqlite:///{work / 'vigie.db'}", plans_dir=plans, login_rate_per_minute=10_000
    )
    engine = db.make_engine(settings.db_url)
    _seed(engine, work)
    engine.dispose()
    running: ThreadServer = serve_in_thread(create_app(settings), ports=PORTS)
    try:
        _write_through_the_api(running.url)
        yield Hostile(url=running.url, plan=plan)
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="fr-FR")
    page = context.new_page()
    yield page
    context.close()


def _login(page: Page, url: str, username: str, path: str = "/") -> None:
    page.goto(url + path)
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#top:not([hidden])" if "mur" not in path else ".wall")


def _assert_text_not_markup(page: Page, shown: str) -> None:
    """No injected element in the document; the hostile text itself is on the page."""
    injected = page.eval_on_selector_all(
        ".pwned, a[href^='https://phishing.example']", "e => e.length"
    )
    assert injected == 0, page.content()
    assert page.evaluate("window.__pwned === undefined")
    assert shown in page.evaluate("document.body.innerText"), shown


def test_camera_names_and_comments_on_the_map_and_the_incident_panel(
    hostile: Hostile, page: Page
) -> None:
    _login(page, hostile.url, "operateur")
    page.wait_for_function("() => window.vigieMap && window.vigieMap.cameras.size === 2")
    page.get_by_label("Regrouper les caméras proches").uncheck()
    page.evaluate("window.vigieMap.markers.get('cam-hostile-1').openPopup()")
    page.wait_for_selector(".leaflet-popup-content")
    _assert_text_not_markup(page, payload("name-cam-hostile-1"))
    _assert_text_not_markup(page, payload("comment-cam-hostile-2"))  # the incident panel


def test_the_camera_page(hostile: Hostile, page: Page) -> None:
    _login(page, hostile.url, "operateur", "/#/camera/cam-hostile-1")
    page.wait_for_selector("h1, h2")
    page.wait_for_function(
        "t => document.body.innerText.includes(t)", arg=payload("name-cam-hostile-1")
    )
    _assert_text_not_markup(page, payload("name-cam-hostile-1"))


def test_the_video_wall(hostile: Hostile, page: Page) -> None:
    _login(page, hostile.url, "operateur", "/?mur")
    page.wait_for_function(
        "t => document.body.innerText.includes(t)", arg=payload("name-cam-hostile-2")
    )
    _assert_text_not_markup(page, payload("name-cam-hostile-2"))


def test_mast_ids_in_the_plans_page_tooltips(hostile: Hostile, page: Page) -> None:
    _login(page, hostile.url, "ingenieur", "/#/plans")
    page.wait_for_selector("#plan-detail p")  # the only plan, shown at once
    page.wait_for_selector("path.leaflet-interactive")
    seen = 0
    for mast in page.locator("path.leaflet-interactive").all()[-40:]:  # the masts, drawn last
        mast.hover(force=True)
        if page.locator(".leaflet-tooltip").count():
            seen += 1
    assert seen > 0
    injected = page.eval_on_selector_all(
        ".pwned, a[href^='https://phishing.example']", "e => e.length"
    )
    assert injected == 0
    assert "mast-" in page.locator(".leaflet-tooltip").last.inner_text()


def test_mast_ids_in_the_plan_s_map_html(hostile: Hostile, page: Page, tmp_path: Path) -> None:
    folder = read_plan_folder(hostile.plan)
    frames = {
        layer: pyogrio.read_dataframe(hostile.plan / "plan.gpkg", layer=layer)
        for layer in ("trenches", "cables", "masts")
    }
    breaker = "</script><!--<script>" + payload("map-html")
    frames["masts"].loc[0, "mast_id"] = breaker
    html = tmp_path / "map.html"
    html.write_text(render_map(frames, folder.summary), encoding="utf-8")
    page.goto(html.as_uri())
    page.wait_for_load_state("load")
    assert page.evaluate("JSON.parse(document.getElementById('data').textContent).masts.length") > 0
    first = page.evaluate(
        "JSON.parse(document.getElementById('data').textContent).masts[0].p.mast_id"
    )
    assert first == breaker  # the script read the value whole, and the page still works
    _assert_no_element = page.eval_on_selector_all(".pwned", "e => e.length")
    assert _assert_no_element == 0


HOSTILE_NUMBER = '<img src="x" class="pwned" onerror="window.__pwned=1">n°1'
"""An authorisation number as someone could type it (at most 100 characters)."""


def test_camera_names_and_authorisation_numbers_on_the_register_page(
    hostile: Hostile, page: Page
) -> None:
    headers = {"Authorization": f"Bearer {bearer_token(hostile.url, 'ingenieur')}"}
    fov = httpx.put(
        f"{hostile.url}/api/v1/register/cameras/cam-hostile-1/fov",
        json={"direction": 90, "angle": 90, "range_m": 100},
        headers=headers,
    )
    assert fov.status_code == 200, fov.text
    created = httpx.post(
        f"{hostile.url}/api/v1/register/authorisations",
        json={
            "number": HOSTILE_NUMBER,
            "granted_on": "2020-01-01",
            "retention_days": 30,
            "cameras": ["cam-hostile-1"],
        },
        headers=headers,
    )
    assert created.status_code in (201, 409), created.text
    _login(page, hostile.url, "operateur", "/#/registre")
    page.wait_for_selector("#register-alerts li")
    _assert_text_not_markup(page, payload("name-cam-hostile-2"))  # filming without one
    page.hover("path[data-camera='cam-hostile-1']", force=True)
    page.wait_for_selector(".leaflet-tooltip")
    _assert_text_not_markup(page, HOSTILE_NUMBER)
    _assert_text_not_markup(page, payload("name-cam-hostile-1"))
