"""The dashboard in Debian's chromium against a real service (tests/vigie/web/conftest.py):
login, the map and its states, filters, the incident panel, the camera page, the availability
report, the planning page, scope, keyboard use, contrast, and nothing fetched from outside."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from tests.helpers.dashboard import PLAN_NAME, Server, Watched, login, screenshot
from tests.helpers.service import PASSWORD

AXE = Path(__file__).parent / "vendor" / "axe.min.js"

# The palette of vigie/web/app.css, as the browser computes it.
COLOURS = {
    "up": "rgb(27, 122, 58)",
    "degraded": "rgb(179, 89, 0)",
    "down": "rgb(192, 38, 45)",
    "maintenance": "rgb(31, 95, 191)",
    "unknown": "rgb(92, 92, 92)",
}
RANK = {"up": 0, "unknown": 1, "maintenance": 2, "degraded": 3, "down": 4}


def api(server: Server, username: str, path: str) -> httpx.Response:
    with httpx.Client(base_url=server.url) as client:
        token = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": username, "password": PASSWORD},
        ).json()["access_token"]
        return client.get(path, headers={"Authorization": f"Bearer {token}"})


def wait_for_cameras(page: Page, count: int) -> None:
    page.wait_for_function("n => window.vigieMap && window.vigieMap.cameras.size === n", arg=count)


def unclustered(page: Page) -> None:
    page.get_by_label("Regrouper les caméras proches").uncheck()
    page.wait_for_function("() => !window.vigieMap.filters.cluster")


def drawn_markers(page: Page) -> dict[str, tuple[str, str]]:
    """camera id -> (state class, computed background colour) of every marker in the DOM."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#map .cam[data-camera]')]
            .map(e => [e.dataset.camera,
                       [e.dataset.state, getComputedStyle(e).backgroundColor]]))"""
    )


def test_every_camera_is_on_the_map_in_the_colour_of_its_state(
    watched: Watched, dashboard: Server
) -> None:
    page = watched.page
    login(page, dashboard, "operateur")
    expected = dashboard.seeded.cameras
    wait_for_cameras(page, len(expected))
    # Grouped: every camera is inside exactly one visible group or marker, and a group shows
    # the worst state of its cameras (tests/vigie/web/test_interface.py: its count per state).
    groups = page.evaluate(
        """() => {
            const {group, markers} = window.vigieMap, out = [];
            const parents = new Map();
            for (const [id, m] of markers) {
                const parent = group.getVisibleParent(m);
                if (!parent) continue;
                if (!parents.has(parent)) parents.set(parent, []);
                parents.get(parent).push([id, m.options.state]);
            }
            for (const [parent, members] of parents) {
                const el = parent.getElement ? parent.getElement() : parent._icon;
                out.push({members, cls: el ? el.className : ''});
            }
            return out;
        }"""
    )
    assert sum(len(g["members"]) for g in groups) == len(expected)
    clusters = [g for g in groups if "cluster" in g["cls"]]
    assert clusters, "nothing is grouped at the département's scale"
    for g in clusters:
        worst = max((state for _, state in g["members"]), key=RANK.__getitem__)
        assert f"worst-{worst}" in g["cls"].split(), g
    screenshot(page, "dashboard-map-grouped.png")
    unclustered(page)
    drawn = drawn_markers(page)
    assert set(drawn) == set(expected)
    for camera_id, state in expected.items():
        assert tuple(drawn[camera_id]) == (state, COLOURS[state]), camera_id
    # Never colour alone: each state has its own letter.
    letters = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#map .cam[data-camera]')]
            .map(e => [e.dataset.state, e.textContent]))"""
    )
    assert len(set(letters.values())) == 5
    shot = screenshot(page, "dashboard-map.png")
    assert shot.stat().st_size > 20_000


def test_filters_by_state_commune_and_intercommunality(watched: Watched, dashboard: Server) -> None:
    page = watched.page
    truth = api(dashboard, "admin", "/api/v1/status").json()
    login(page, dashboard, "admin")
    wait_for_cameras(page, len(truth))
    unclustered(page)
    for state in ("up", "degraded", "maintenance", "unknown"):
        page.locator(f"input[name=state][value={state}]").uncheck()
    down = {c["camera_id"] for c in truth if c["state"] == "down"}
    page.wait_for_function(
        "n => document.querySelectorAll('#map .cam[data-camera]').length === n", arg=len(down)
    )
    assert set(drawn_markers(page)) == down
    for state in ("up", "degraded", "maintenance", "unknown"):
        page.locator(f"input[name=state][value={state}]").check()
    commune = Counter(c["commune"] for c in truth).most_common(1)[0][0]
    page.select_option("#f-commune", commune)
    in_commune = {c["camera_id"] for c in truth if c["commune"] == commune}
    page.wait_for_function(
        "n => document.querySelectorAll('#map .cam[data-camera]').length === n", arg=len(in_commune)
    )
    assert set(drawn_markers(page)) == in_commune
    page.select_option("#f-commune", "")
    epci = Counter(c["epci"] for c in truth).most_common()[-1][0]
    page.select_option("#f-epci", epci)
    in_epci = {c["camera_id"] for c in truth if c["epci"] == epci}
    assert 0 < len(in_epci) < len(truth)
    page.wait_for_function(
        "n => document.querySelectorAll('#map .cam[data-camera]').length === n", arg=len(in_epci)
    )
    assert set(drawn_markers(page)) == in_epci
    expect(page.get_by_role("status").filter(has_text="affichée")).to_contain_text(
        f"{len(in_epci)} caméra(s) affichée(s) sur {len(truth)}"
    )


def test_incidents_are_listed_most_severe_first_and_only_operators_may_acknowledge(
    watched: Watched, dashboard: Server
) -> None:
    page = watched.page
    login(page, dashboard, "gendarme")
    page.wait_for_selector(".incidents li[data-incident]")
    assert page.locator(".ack-open").count() == 0, "the button is shown to the gendarmerie"
    open_total = api(dashboard, "admin", "/api/v1/incidents?status=open").json()["total"]
    expect(page.locator(".incidents h2")).to_have_text(f"Incidents ouverts ({open_total})")
    ranks = page.evaluate(
        """() => [...document.querySelectorAll('.incidents li[data-incident]')]
            .map(li => li.className)"""
    )
    order = {"sev-critical": 3, "sev-major": 2, "sev-minor": 1}
    values = [order[c] for c in ranks]
    assert values == sorted(values, reverse=True)


def test_an_operator_acknowledges_an_incident_with_the_keyboard(
    watched: Watched, dashboard: Server
) -> None:
    page = watched.page
    page.goto(dashboard.url + "/")
    # Log in with the keyboard only.
    page.wait_for_selector("#username:focus")
    page.keyboard.type("operateur")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector(".incidents .ack-open")
    # Tab through the page until the first "take charge" button, as a keyboard user would.
    for _ in range(400):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('ack-open')"):
            break
    else:
        pytest.fail("no acknowledge button reachable with Tab")
    incident_id = page.evaluate("document.activeElement.closest('li').dataset.incident")
    page.keyboard.press("Enter")
    expect(page.locator(f"#ack-{incident_id}")).to_be_focused()
    page.keyboard.type("Équipe d'astreinte prévenue")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    item = page.locator(f"li[data-incident='{incident_id}'] .ack-by")
    expect(item).to_contain_text("Pris en charge par operateur")
    body = api(dashboard, "admin", f"/api/v1/incidents/{incident_id}").json()
    assert body["acknowledged_by"] == "operateur"
    assert body["comment"] == "Équipe d'astreinte prévenue"
    # A camera marker is reachable with Tab too, and Enter opens its card.
    page.locator("#main").focus()
    for _ in range(400):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('leaflet-marker-icon')"):
            break
    else:
        pytest.fail("no camera or group reachable with Tab")
    unclustered(page)
    marker = page.locator("#map .cam[data-camera]").first
    marker.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".leaflet-popup-content a")).to_have_text("Fiche de la caméra")


def test_the_camera_page_shows_checks_problems_and_30_days_of_availability(
    watched: Watched, dashboard: Server
) -> None:
    page = watched.page
    expected = dashboard.seeded.cameras
    degraded = sorted(c for c, s in expected.items() if s == "degraded")[0]
    login(page, dashboard, "operateur")
    page.goto(f"{dashboard.url}/#/camera/{degraded}")
    expect(page.locator("h1")).to_contain_text(degraded)
    expect(page.locator(".state")).to_have_text("Dégradée")
    expect(page.locator("#picture-problems")).to_contain_text("image floue")
    # What was seen, in French (a real blurred picture's detail left), and the reference used.
    expect(page.locator("#picture-seen")).to_have_text(
        re.compile(r"^Netteté à \d{1,2}\u202f% de la référence$")
    )
    expect(page.locator("#picture-reference")).to_have_text(
        "Référence utilisée : jour — la référence de nuit s'apprend (1/3)"
    )
    assert page.locator("#checks tr").count() > 1
    page.wait_for_selector("#availability-chart .uplot canvas")
    cells = page.locator("#availability-chart td.num").all_text_contents()
    assert len(cells) == 30
    assert "100 %" in cells, cells  # degraded still counts as available
    assert cells[0] == "non observée"  # before the camera was installed
    screenshot(page, "dashboard-camera.png")
    page.fill("#snap-reason", "court")  # refused before asking: the server wants 10 characters
    page.get_by_role("button", name="Voir la dernière image").click()
    expect(page.locator("#snap-reason:invalid")).to_have_count(1)
    expect(page.locator(".snapshot img")).to_have_count(0)
    page.fill("#snap-reason", "vérification d'un signalement")
    page.get_by_role("button", name="Voir la dernière image").click()
    expect(page.locator(".snapshot [role=status]")).to_contain_text("Image prise le")
    image = page.locator(".snapshot img")
    expect(image).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth", image.element_handle()) == 512
    screenshot(page, "dashboard-camera-snapshot.png")


def test_the_availability_report_exports_csv(watched: Watched, dashboard: Server) -> None:
    page = watched.page
    login(page, dashboard, "ingenieur")
    page.click("nav >> text=Disponibilité")
    page.wait_for_selector("#availability tbody tr")
    camera = sorted(dashboard.seeded.cameras)[0]
    expect(page.locator(f"#availability td[data-key='{camera}']")).to_have_text(
        re.compile(rf"^Mât .* \({re.escape(camera)}\)$")
    )
    with page.expect_download() as info:
        page.click("#av-csv")
    download = info.value
    assert download.suggested_filename.startswith("disponibilite-")
    # For a French spreadsheet: BOM, semicolons, French headers.
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("mois;niveau;clé;disponibilité (%);part observée (%);")
    keys = {line.split(";")[2] for line in lines[1:]}
    assert set(dashboard.seeded.cameras) <= keys


def test_the_availability_report_says_how_much_of_the_month_it_covers(
    watched: Watched, dashboard: Server
) -> None:
    page = watched.page
    login(page, dashboard, "ingenieur")
    page.click("nav >> text=Disponibilité")
    page.wait_for_selector("#availability tbody tr")
    # This month is in progress: observed until now, never up to the month's end.
    expect(page.locator("#av-observed")).to_have_text(
        re.compile(r"^Observé jusqu'au \d{1,2} \S+ \d{4} \d\d:\d\d \(\d{1,2}(,\d)? % du mois\)")
    )
    # The wording for fixed reports, in Paris time and French numbers (22:30 UTC is 23:30 CET).
    texts = page.evaluate(
        """async () => {
            const { observedText } = await import("/static/js/availability.js");
            return [
                observedText({ elapsed_share: 0.1830, elapsed_s: 491400,
                               observed_until: "2026-12-06T22:30:00+00:00" }),
                observedText({ elapsed_share: 1, elapsed_s: 745 * 3600,
                               observed_until: "2026-10-31T23:00:00+00:00" }),
                observedText({ elapsed_share: 0, elapsed_s: 0,
                               observed_until: "2026-11-30T23:00:00+00:00" }),
                observedText({ elapsed_share: 0.99999, elapsed_s: 2678370,
                               observed_until: "2026-12-31T22:59:30+00:00" }),
            ];
        }"""
    )
    assert texts[0].startswith("Observé jusqu'au 6 déc. 2026 23:30 (18,3 % du mois)")
    assert texts[1] == "Mois terminé : 745 h observées (100 % du mois)."
    assert texts[2] == "Mois à venir : rien n'est encore observé (0 % du mois)."
    assert "(99,9 % du mois)" in texts[3]


def test_the_planning_page_shows_layers_costs_and_the_dqe(
    watched: Watched, dashboard: Server, sample_plan: Path
) -> None:
    page = watched.page
    summary = json.loads((sample_plan / "summary.json").read_text(encoding="utf-8"))
    login(page, dashboard, "amo")
    expect(page).to_have_url(f"{dashboard.url}/#/plans")
    assert page.locator("nav a[data-page=carte]").is_hidden()
    page.wait_for_selector("#plan-communes tbody tr")
    assert page.locator("#plan-communes tbody tr").count() == len(summary["communes"])
    costliest = max(summary["communes"].items(), key=lambda kv: kv[1]["cost_eur"])
    first = page.locator("#plan-communes tbody tr").first
    assert first.get_attribute("data-commune") == costliest[0]
    used = [m for m, metres in summary["totals"]["length_m_by_mode"].items() if metres > 0]
    for mode in used:
        expect(page.locator(f"#plan-legend [data-mode={mode}]")).to_be_visible()
    strokes = page.evaluate(
        """() => new Set([...document.querySelectorAll('#plan-map path.leaflet-interactive')]
            .map(p => p.getAttribute('stroke'))).size"""
    )
    assert strokes >= len(used) + 1  # trench modes and the masts' outline
    masts = page.locator("#plan-map path.leaflet-interactive[fill-opacity='1']").count()
    assert masts == summary["totals"]["masts"]
    screenshot(page, "dashboard-planning.png")
    with page.expect_download() as info:
        page.click("#plan-dqe")
    workbook = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert info.value.suggested_filename == f"dqe-{PLAN_NAME}.xlsx"
    assert workbook.sheetnames


def test_a_commune_user_sees_only_its_cameras(watched: Watched, dashboard: Server) -> None:
    page = watched.page
    commune = dashboard.seeded.scoped_commune
    mine = {c for c, code in dashboard.seeded.communes.items() if code == commune}
    assert 0 < len(mine) < len(dashboard.seeded.cameras)
    login(page, dashboard, "mairie")
    wait_for_cameras(page, len(mine))
    unclustered(page)
    assert set(drawn_markers(page)) == mine
    assert page.locator("nav a[data-page=plans]").is_hidden()
    assert page.locator("#f-commune option").count() == 2  # "Toutes" and its commune


def test_the_wall_mode_shows_counts_and_the_ticker_without_controls(
    watched: Watched, dashboard: Server
) -> None:
    page = watched.page
    page.emulate_media(reduced_motion="reduce")  # the ticker stands still for the screenshot
    login(page, dashboard, "operateur", "/?mur")
    counts = Counter(dashboard.seeded.cameras.values())
    for state, n in counts.items():
        expect(page.locator(f".wall .count[data-state={state}] b")).to_have_text(str(n))
    expect(page.locator(".wall .ticker span").first).to_contain_text("depuis")
    assert page.locator("#top").is_hidden()
    assert page.locator(".filters, .incidents, .leaflet-control-zoom").count() == 0
    screenshot(page, "dashboard-wall.png")


@pytest.mark.parametrize(
    ("username", "route"),
    [
        ("operateur", "/#/carte"),
        ("operateur", "/#/camera/{camera}"),
        ("admin", "/#/disponibilite"),
        ("amo", "/#/plans"),
        ("operateur", "/?mur"),
        (None, "/"),
    ],
)
def test_no_accessibility_or_contrast_violation(
    browser: Browser, dashboard: Server, username: str | None, route: str
) -> None:
    """axe-core's WCAG 2 A/AA rules on each page (the CSP is bypassed only to inject axe)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, bypass_csp=True)
    page = context.new_page()
    camera = sorted(dashboard.seeded.cameras)[0]
    path = route.format(camera=camera)
    if username:
        login(page, dashboard, username, "/?mur" if "mur" in path else "/")
        if "mur" not in path:
            page.goto(dashboard.url + path)
        page.wait_for_timeout(1500)
    else:
        page.goto(dashboard.url + path)
        page.wait_for_selector("#username")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})
            .then(r => r.violations.map(v => ({
                id: v.id, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))"""
    )
    context.close()
    assert result == [], f"{path}: {result}"
