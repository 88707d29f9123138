"""Causes in chromium: a branch and a mast incident with their cameras folded under them, their
map (cables, closures, the suspected section), the notifications sent, and the register's point
query « Qui voit ce lieu ? » answering with the camera that saw the point."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from pyproj import Geod
from sqlalchemy import delete

from tests.helpers.dashboard import Server, Watched, login, screenshot
from tests.helpers.dashboard_causes import Causes, remove_causes, seed_causes
from tests.helpers.service import PASSWORD
from vigie import db
from vigie.clock import utcnow
from vigie.models import FieldOfView

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(scope="module")
def causes(dashboard: Server, sample_plan) -> Iterator[Causes]:
    engine = db.make_engine(dashboard.settings.db_url)
    seeded = seed_causes(engine, sample_plan, dashboard.seeded)
    yield seeded
    remove_causes(engine, seeded)
    engine.dispose()


@contextmanager
def client(server: Server, username: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as http:
        token = http.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": username, "password": PASSWORD},
        ).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        yield http


def test_a_cause_folds_its_cameras_draws_its_suspected_section_and_lists_notifications(
    watched: Watched, dashboard: Server, causes: Causes
) -> None:
    page = watched.page
    login(page, dashboard, "operateur")
    branch = page.locator(f".incidents li[data-incident='{causes.branch_id}']")
    branch.wait_for()
    assert branch.get_attribute("data-kind") == "branch"
    assert branch.locator(".badge.kind").inner_text() == "Branche fibre"
    assert branch.locator(".cause").inner_text() == causes.branch_label
    count = len(causes.branch_cameras)
    folded = branch.locator("details.folded")
    assert folded.locator("summary").inner_text() == f"{count} caméras concernées"
    folded.locator("summary").click()
    links = folded.locator("li[data-camera] a")
    assert links.count() == count
    assert {links.nth(i).get_attribute("href") for i in range(count)} == {
        f"#/camera/{c}" for c in causes.branch_cameras
    }
    mast = page.locator(f".incidents li[data-incident='{causes.mast_id}']")
    assert mast.locator(".badge.kind").inner_text() == "Mât"
    # Folded camera incidents are not listed again on their own.
    assert (
        page.locator(".incidents li[data-incident][data-kind=camera]")
        .filter(has_text=causes.branch_cameras[0])
        .count()
        == 0
    )

    # Its map: grey cables, closures, and the suspected section thick, red and dashed.
    branch.get_by_role("button", name="Voir sur la carte").click()
    suspect = page.locator(f"#map path[data-role=suspect][data-incident='{causes.branch_id}']")
    suspect.wait_for()
    assert suspect.get_attribute("stroke") == "#c0262d"
    assert suspect.get_attribute("stroke-dasharray") == "10 6"
    assert suspect.get_attribute("stroke-width") == "7"
    cables = page.locator("#map path[data-role=cable]")
    assert sorted(cables.nth(i).get_attribute("data-mast") for i in range(cables.count())) == (
        causes.branch_masts
    )
    assert page.locator("#map path[data-role=splice]").count() >= 1
    assert page.locator("#map path[data-role=node]").count() == 1
    page.locator("#map path[data-role=splice]").first.dispatch_event("mouseover")
    page.locator(".leaflet-tooltip").filter(has_text="Boîtier d'épissure : manchon S").wait_for()
    screenshot(page, "dashboard-cause.png")
    # Another cause replaces it; a second click takes it away.
    mast_button = mast.get_by_role("button", name="Voir sur la carte")
    mast_button.click()
    page.locator(f"#map path[data-role=suspect][data-incident='{causes.mast_id}']").wait_for()
    assert page.locator(f"#map path[data-incident='{causes.branch_id}']").count() == 0
    assert page.locator("#map path[data-role=cable]").count() == 1
    mast_button.click()
    page.locator("#map path[data-role]").first.wait_for(state="detached")

    # The notifications sent, loaded when opened, in French.
    branch.locator("details.notes summary").click()
    note = branch.locator("li[data-notification]")
    note.wait_for()
    text = note.inner_text()
    assert "SMS à Opérateur d'astreinte (+33612345678)" in text
    assert "niveau 1" in text and "envoyée" in text
    mast.locator("details.notes summary").click()
    mast.locator("details.notes").get_by_text("Aucune notification").wait_for()


def test_the_register_page_says_which_camera_saw_a_point(
    watched: Watched, dashboard: Server, causes: Causes
) -> None:
    taken = {*causes.branch_cameras, *causes.mast_cameras}
    up = sorted(c for c, s in dashboard.seeded.cameras.items() if s == "up" and c not in taken)
    camera_id = up[-1]
    with client(dashboard, "admin") as admin:
        placed = admin.put(
            f"/api/v1/register/cameras/{camera_id}/fov",
            json={"direction": 90, "angle": 60, "range_m": 120},
        )
        assert placed.status_code == 200, placed.text
        camera = admin.get(f"/api/v1/cameras/{camera_id}").json()
    # 60 m east of the camera: inside its sector.
    lon, lat, _ = Geod(ellps="WGS84").fwd(camera["longitude"], camera["latitude"], 90, 60)
    end = utcnow().astimezone(PARIS).replace(second=0, microsecond=0)
    start = end - timedelta(days=2)
    try:
        page = watched.page
        login(page, dashboard, "gendarme")
        page.click("nav a[data-page=registre]")
        page.wait_for_selector(f"#register-map path[data-camera='{camera_id}']")
        form = page.locator("#point-query")
        assert form.locator("h2").inner_text() == "Qui voit ce lieu ?"
        # A click on the map places the point.
        page.locator("#register-map").click(position={"x": 200, "y": 200})
        assert page.locator("#q-lat").input_value() != ""
        page.locator("#register-map path[data-point]").wait_for()
        page.fill("#q-lat", f"{lat:.6f}")
        page.fill("#q-lon", f"{lon:.6f}")
        page.fill("#q-start", start.strftime("%Y-%m-%dT%H:%M"))
        page.fill("#q-end", end.strftime("%Y-%m-%dT%H:%M"))
        page.fill("#q-reason", "vol")
        form.get_by_role("button", name="Rechercher les caméras").click()
        alert = form.get_by_role("alert")
        assert alert.inner_text() == "Le motif doit compter au moins 10 caractères."
        page.fill("#q-reason", "PV 2026/1234 vol avec effraction, rue de la gare")
        page.fill("#q-reference", "RQ-2026-77")
        page.fill("#q-requester", "OPJ, brigade de Louviers")
        form.get_by_role("button", name="Rechercher les caméras").click()
        item = page.locator(f"#query-cameras > li[data-camera='{camera_id}']")
        item.wait_for()
        text = item.inner_text()
        assert camera["name"] in text and f"({camera_id})" in text
        assert "En service" in text  # its state over the period, with its duration
        assert "Autorisation(s) :" in text and "Conservation :" in text
        assert alert.inner_text() == ""
        seen = page.locator(f"#register-map path[data-camera='{camera_id}']")
        assert seen.get_attribute("data-seen") == "true"
        with client(dashboard, "gendarme") as gendarme:
            answer = gendarme.post(
                "/api/v1/register/requisitions",
                json={
                    "latitude": round(lat, 6),
                    "longitude": round(lon, 6),
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "reason": "contrôle du test : même question",
                },
            ).json()
        assert [c["camera_id"] for c in answer["cameras"]] == [camera_id]
        unplaced = page.locator("#query-unplaced li")
        assert sorted(unplaced.nth(i).inner_text() for i in range(unplaced.count())) == sorted(
            answer["unplaced"]
        )
        item.scroll_into_view_if_needed()
        screenshot(page, "dashboard-requisition.png")
    finally:
        engine = db.make_engine(dashboard.settings.db_url)
        with db.session_scope(db.session_factory(engine)) as session:
            session.execute(delete(FieldOfView).where(FieldOfView.camera_id == camera_id))
        engine.dispose()
