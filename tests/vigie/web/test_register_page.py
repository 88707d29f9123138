"""The register's page in chromium: fields of view drawn on the map, solid under an
authorisation in force and dashed without one, and the register's alerts in French."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import Browser, expect

from tests.helpers.dashboard import Server, Watched, login, screenshot
from tests.helpers.service import PASSWORD

AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def admin_client(server: Server) -> httpx.Client:
    client = httpx.Client(base_url=server.url)
    token = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "admin", "password": PASSWORD},
    ).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_the_register_page_draws_fields_of_view_and_alerts(
    watched: Watched, dashboard: Server
) -> None:
    up = sorted(c for c, state in dashboard.seeded.cameras.items() if state == "up")
    authorised, unauthorised = up[0], up[1]
    client = admin_client(dashboard)
    try:
        for camera_id, direction in ((authorised, 45), (unauthorised, 200)):
            response = client.put(
                f"/api/v1/register/cameras/{camera_id}/fov",
                json={"direction": direction, "angle": 90, "range_m": 150},
            )
            assert response.status_code == 200, response.text
        created = client.post(
            "/api/v1/register/authorisations",
            json={
                "number": "2025/VP/27-0001",
                "granted_on": "2025-01-15",
                "purposes": "protection des bâtiments publics",
                "retention_days": 15,
                "cameras": [authorised],
            },
        )
        assert created.status_code in (201, 409), created.text  # 409: a rerun on the same server
    finally:
        client.close()
    page = watched.page
    login(page, dashboard, "gendarme")
    page.click("nav a[data-page=registre]")
    page.wait_for_selector(f"#register-map path[data-camera='{unauthorised}']")
    assert page.locator(f"path[data-camera='{authorised}']").get_attribute("data-authorised") == (
        "true"
    )
    dashed = page.locator(f"path[data-camera='{unauthorised}']")
    assert dashed.get_attribute("data-authorised") == "false"
    assert dashed.get_attribute("stroke-dasharray") == "6 4"
    missing = page.locator(f"#register-alerts li[data-camera='{unauthorised}']")
    expect(missing).to_contain_text("sans autorisation valide : aucune autorisation")
    assert page.locator(f"#register-alerts li[data-camera='{authorised}']").count() == 0
    expect(page.locator("#register-legend")).to_contain_text("autorisation en vigueur")
    page.hover(f"path[data-camera='{authorised}']")
    expect(page.locator(".leaflet-tooltip")).to_contain_text("autorisation n° 2025/VP/27-0001")
    expect(page.locator(".leaflet-tooltip")).to_contain_text("jusqu'au 15/01/2030")
    screenshot(page, "dashboard-register.png")


def test_the_register_page_has_no_accessibility_violation(
    browser: Browser, dashboard: Server
) -> None:
    """axe-core's WCAG 2 A/AA rules (the CSP is bypassed only to inject axe)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, bypass_csp=True)
    page = context.new_page()
    login(page, dashboard, "operateur")
    page.goto(dashboard.url + "/#/registre")
    page.wait_for_selector("#register-alerts")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})
            .then(r => r.violations.map(v => ({
                id: v.id, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))"""
    )
    context.close()
    assert result == []
