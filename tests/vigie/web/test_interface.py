"""What a new user met in the interface (issue 15, item 4), in Debian's chromium against the real
service (tests/vigie/web/conftest.py): the login page, markers drawn worst on top, groups whose
label fits and that tell their count per state, French labels, the camera page's titles and
snapshot button, how the camera is talked to, and a logout that leaves nothing of the previous
user."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta

from playwright.sync_api import Page, expect

from supervision.states import Policy
from tests.helpers.dashboard import Server, Watched, login, screenshot
from tests.helpers.service import PASSWORD
from tests.helpers.supervision_data import full
from vigie import db
from vigie.clock import utcnow
from vigie.supervisor.store import apply_result

RANK = {"up": 0, "unknown": 1, "maintenance": 2, "degraded": 3, "down": 4}


def wait_for_cameras(page: Page, count: int) -> None:
    page.wait_for_function("n => window.vigieMap && window.vigieMap.cameras.size === n", arg=count)


def log_in_here(page: Page, username: str) -> None:
    """Log in on the page as it is, without reloading it (what a person at the desk does)."""
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#top:not([hidden])")


def put_cameras(page: Page, places: list[tuple[int, int, dict[str, int]]]) -> None:
    """Replace the map's cameras by made-up ones: at each place (pixels from the map's centre),
    so many cameras in each state, in the order given. The live feed is stopped first: its
    snapshot would bring the real cameras back."""
    page.evaluate(
        """(places) => {
            const {map, cameras, redraw, live} = window.vigieMap;
            live.stop();
            const model = cameras.values().next().value;
            const middle = map.getSize().divideBy(2);
            cameras.clear();
            places.forEach(([dx, dy, counts], p) => {
                const {lat, lng} = map.containerPointToLatLng(middle.add([dx, dy]));
                for (const [state, n] of Object.entries(counts)) {
                    for (let i = 0; i < n; i += 1) {
                        const id = `x-${p}-${state}-${i}`;
                        cameras.set(id, {...model, camera_id: id, name: id, state,
                                         latitude: lat, longitude: lng, causes: []});
                    }
                }
            });
            redraw();
        }""",
        [[dx, dy, counts] for dx, dy, counts in places],
    )


def test_before_login_only_a_compact_centred_login_box_shows(
    watched: Watched, dashboard: Server
) -> None:
    page = watched.page
    page.goto(dashboard.url + "/")
    page.wait_for_selector("#username:focus")
    # The header is a flex box: the hidden attribute must still win over it.
    expect(page.locator("#top")).to_be_hidden()
    expect(page.locator("#logout")).to_be_hidden()
    expect(page.locator("nav[aria-label=Pages]")).to_be_hidden()
    box = page.locator("form.login").bounding_box()
    view = page.viewport_size
    assert box is not None and view is not None
    assert box["height"] < 0.5 * view["height"], box  # not a tall empty panel
    assert box["width"] < 0.5 * view["width"], box
    assert abs(box["x"] + box["width"] / 2 - view["width"] / 2) < 2, box
    assert abs(box["y"] + box["height"] / 2 - view["height"] / 2) < 0.1 * view["height"], box
    screenshot(page, "dashboard-login.png")
    log_in_here(page, "operateur")
    expect(page.locator("#logout")).to_be_visible()
    wait_for_cameras(page, len(dashboard.seeded.cameras))
    page.click("#logout")
    page.wait_for_selector("#username")
    expect(page.locator("#top")).to_be_hidden()


def test_a_down_camera_is_drawn_above_the_other_cameras_of_its_mast(
    watched: Watched, dashboard: Server
) -> None:
    page = watched.page
    login(page, dashboard, "admin")
    wait_for_cameras(page, len(dashboard.seeded.cameras))
    page.get_by_label("Regrouper les caméras proches").uncheck()
    page.wait_for_function("() => !window.vigieMap.filters.cluster")
    # One mast, five cameras: the down one first, so without an order it is drawn first and the
    # others cover it; then the same with a live event redrawing an up camera last.
    states = ["down", "up", "degraded", "unknown", "maintenance", "up"]
    put_cameras(page, [(0, 0, {})])  # an empty map
    page.evaluate(
        """(states) => {
            const {map, cameras, redraw} = window.vigieMap;
            const {lat, lng} = map.getCenter();
            const model = {commune: "27229", epci: null, causes: [],
                           since: new Date().toISOString(), latitude: lat, longitude: lng};
            states.forEach((state, i) => cameras.set(`mast-${i}`,
                {...model, camera_id: `mast-${i}`, name: `mast-${i}`, state}));
            redraw();
        }""",
        states,
    )

    def on_top() -> str:
        return page.evaluate(
            """() => {
                const r = document.querySelector('#map .cam[data-camera="mast-0"]')
                    .getBoundingClientRect();
                const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
                return hit.closest('.cam[data-camera]').dataset.state;
            }"""
        )

    def z_order() -> list[str]:
        return page.evaluate(
            """() => [...document.querySelectorAll('#map .cam[data-camera^="mast-"]')]
                .sort((a, b) => Number(a.style.zIndex) - Number(b.style.zIndex))
                .map(e => e.dataset.state)"""
        )

    assert on_top() == "down"
    assert z_order() == sorted(states, key=RANK.__getitem__)
    page.evaluate(
        """() => { const {cameras, update} = window.vigieMap;
                   update(cameras.get("mast-1")); }"""
    )
    assert on_top() == "down"
    # Its card opens from the marker on top.
    page.locator('#map .cam[data-camera="mast-0"]').click()
    expect(page.locator(".leaflet-popup-content")).to_contain_text("Hors service")


def test_a_group_label_fits_its_circle_and_the_group_tells_its_count_per_state(
    watched: Watched, dashboard: Server
) -> None:
    page = watched.page
    login(page, dashboard, "admin")
    wait_for_cameras(page, len(dashboard.seeded.cameras))
    # Four places far apart on the map: a group of 1, 2, 3 and 4 digits each; the worst state
    # is never the most common one (and once a single camera among 1,234).
    places = [
        (-150, -150, {"up": 4, "degraded": 2, "down": 1}),
        (150, -150, {"up": 30, "degraded": 7, "down": 5}),
        (-150, 150, {"up": 100, "unknown": 20, "maintenance": 3}),
        (150, 150, {"up": 1233, "degraded": 1}),
    ]
    put_cameras(page, places)
    page.wait_for_function("() => document.querySelectorAll('#map .cluster').length === 4")
    groups = page.evaluate(
        """() => [...document.querySelectorAll('#map .cluster')].map(icon => {
            // The glyphs' box: the union of its text nodes' boxes, not of its elements'.
            const walk = document.createTreeWalker(icon, NodeFilter.SHOW_TEXT);
            let left = Infinity, top = Infinity, right = -Infinity, bottom = -Infinity;
            while (walk.nextNode()) {
                const range = document.createRange();
                range.selectNodeContents(walk.currentNode);
                const r = range.getBoundingClientRect();
                left = Math.min(left, r.left); top = Math.min(top, r.top);
                right = Math.max(right, r.right); bottom = Math.max(bottom, r.bottom);
            }
            const text = {x: left, y: top, width: right - left, height: bottom - top};
            const box = r => ({x: r.x, y: r.y, width: r.width, height: r.height});
            const ring = icon.querySelector('.ring');
            return {
                cls: icon.className, label: icon.textContent,
                icon: box(icon.getBoundingClientRect()), text,
                name: icon.querySelector('[role=img]')?.getAttribute('aria-label'),
                ring: ring && getComputedStyle(ring).backgroundImage,
            };
        })"""
    )
    colours = {"up": "rgb(27, 122, 58)", "degraded": "rgb(179, 89, 0)", "down": "rgb(192, 38, 45)"}
    colours |= {"maintenance": "rgb(31, 95, 191)", "unknown": "rgb(92, 92, 92)"}
    totals = {sum(counts.values()): counts for _, _, counts in places}
    seen = set()
    for group in groups:
        # The text's box lies inside the circle, corners included, clear of the 6 px edge
        # (the ring and the white border).
        icon, text = group["icon"], group["text"]
        cx, cy = icon["x"] + icon["width"] / 2, icon["y"] + icon["height"] / 2
        radius = icon["width"] / 2 - 6
        for x in (text["x"], text["x"] + text["width"]):
            for y in (text["y"], text["y"] + text["height"]):
                assert (x - cx) ** 2 + (y - cy) ** 2 <= radius**2, group
        total = int(re.sub(r"\D", "", group["label"]))
        counts = totals[total]
        seen.add(total)
        worst = max(counts, key=RANK.__getitem__)
        assert f"worst-{worst}" in group["cls"].split(), group
        # Each state present is named with its count, and has its colour in the ring.
        for state, n in counts.items():
            assert colours[state] in group["ring"], (state, group)
            figure = f"{n:,}".replace(",", "\u202f")  # French: 1 233
            assert f": {figure} " in group["name"] or f", {figure} " in group["name"], group
    assert seen == set(totals)
    names = {g["label"]: g["name"] for g in groups}
    assert names["1\u202f234D"] == "1\u202f234 caméras : 1 dégradée, 1\u202f233 en service"
    assert names["42H"] == "42 caméras : 5 hors service, 7 dégradées, 30 en service"
    # Hovering a group, and reaching it with the keyboard, shows the same counts.
    group = page.locator("#map .cluster.worst-down").filter(has_text="42")
    group.hover()
    tip = page.locator(".cluster-tip")
    expect(tip).to_be_visible()
    expect(tip.locator("[data-state=down] .count")).to_have_text("5 hors service")
    expect(tip.locator("[data-state=degraded] .count")).to_have_text("7 dégradées")
    expect(tip.locator("[data-state=up] .count")).to_have_text("30 en service")
    screenshot(page, "dashboard-groups.png")
    page.mouse.move(5, 5)
    expect(tip).to_be_hidden()
    page.locator("#map .cluster.worst-maintenance").focus()
    expect(tip.locator("[data-state=unknown] .count")).to_have_text("20 d'état inconnu")
    expect(tip.locator("[data-state=maintenance] .count")).to_have_text("3 en maintenance")


def test_the_camera_page_is_in_french_with_one_title_per_section(
    watched: Watched, dashboard: Server
) -> None:
    page = watched.page
    down = sorted(c for c, s in dashboard.seeded.cameras.items() if s == "down")[0]
    login(page, dashboard, "operateur")
    page.goto(f"{dashboard.url}/#/camera/{down}")
    page.wait_for_selector("#availability-chart .uplot canvas")
    # Why the checks failed, in French (the API says "timeout").
    observations = page.locator("#checks td:nth-child(4)").all_text_contents()
    assert "erreur : délai dépassé" in observations, observations
    assert not any("timeout" in o for o in observations), observations
    labels = page.evaluate(
        """() => import('/static/js/util.js').then(u => [
            u.errorLabel('refused'), u.errorLabel('timeout'), u.errorLabel('quantum'),
            u.causes(['unreachable', 'quantum'])])"""
    )
    assert labels == [
        "connexion refusée",
        "délai dépassé",
        "erreur non répertoriée (« quantum »)",
        "injoignable, cause non répertoriée (« quantum »)",
    ]
    # uPlot's legend says "Jour" and a French date, not "Time" and 3/2/26.
    chart = page.locator("#availability-chart")
    page.mouse.move(0, 0)
    canvas = chart.locator(".u-over").bounding_box()
    assert canvas is not None
    page.mouse.move(canvas["x"] + canvas["width"] - 5, canvas["y"] + canvas["height"] / 2)
    legend = chart.locator(".u-legend").inner_text()
    assert "Time" not in legend and "Jour" in legend, legend
    assert re.search(r"\d{4}", legend) and "/" not in legend, legend
    # One title per section.
    assert page.get_by_text("Derniers contrôles", exact=True).count() == 1
    headings = page.locator("h2").all_text_contents()
    assert len(headings) == len(set(headings)), headings


def test_a_fresh_picture_is_asked_with_a_button(watched: Watched, dashboard: Server) -> None:
    page = watched.page
    camera = sorted(c for c, s in dashboard.seeded.cameras.items() if s == "up")[0]
    login(page, dashboard, "operateur")
    page.goto(f"{dashboard.url}/#/camera/{camera}")
    page.fill("#snap-reason", "vérification d'un signalement")
    expect(page.locator(".snapshot input[type=checkbox]")).to_have_count(0)
    # The seeded cameras do not exist: the server answers 502 and the page says so.
    with page.expect_request(re.compile(r"/snapshot$")) as asked:
        page.get_by_role("button", name="Prendre une image maintenant").click()
    assert json.loads(asked.value.post_data or "{}") == {
        "reason": "vérification d'un signalement",
        "fresh": True,
    }
    watched.allowed_errors.append("502")  # chromium logs the failed request
    expect(page.locator(".snapshot [role=status]")).to_have_text(
        "La caméra ne répond pas : pas d'image fraîche.", timeout=30_000
    )


HOSTILE = "SOAP fault Sender/ActionNotSupported: <img src=x onerror=alert(1)>"


def test_the_camera_page_says_how_the_camera_is_talked_to(
    watched: Watched, dashboard: Server
) -> None:
    page = watched.page
    up = sorted(c for c, s in dashboard.seeded.cameras.items() if s == "up")
    # The last up camera (the others' pages are opened by other tests): an older full check, the
    # latest one telling how the camera was talked to, and a newer one that does not tell.
    camera = up[-1]
    now = utcnow()
    older = (("authentication", "http-digest"), ("clock", "open"), ("media", "media"))
    latest = (
        ("authentication", "ws-security+http-digest"),
        ("clock", "signed (the camera wants credentials)"),
        ("media", "media2"),
        ("GetStreamUri", f"unsupported: {HOSTILE}"),
        ("ptz", "unsupported: no PTZ service (GetServices)"),
    )
    engine = db.make_engine(dashboard.settings.db_url)
    with db.session_scope(db.session_factory(engine)) as session:
        for minutes, interop in ((3, older), (2, latest), (1, None)):
            result = replace(full(camera, now - timedelta(minutes=minutes)), interop=interop)
            apply_result(session, camera, result, Policy(), result.time)
    engine.dispose()
    login(page, dashboard, "operateur")
    page.goto(f"{dashboard.url}/#/camera/{camera}")
    section = page.locator("section#interop")
    expect(section.locator("#interop-unsupported li")).to_have_count(2)
    # The heading names the section.
    assert section.get_attribute("aria-labelledby") == "interop-title"
    expect(page.locator("#interop-title")).to_have_text("Dialogue avec la caméra")
    expect(page.locator("#interop-auth")).to_have_text("WS-Security derrière HTTP Digest")
    expect(page.locator("#interop-clock")).to_have_text("lue avec identifiants (la caméra l'exige)")
    expect(page.locator("#interop-media")).to_have_text("Media2 (profil T)")
    expect(section.locator("h3")).to_have_text("Contrôles non pris en charge par la caméra")
    items = section.locator("#interop-unsupported li").all_text_contents()
    assert items == [
        f"GetStreamUri : {HOSTILE}",
        "ptz : no PTZ service (GetServices)",
    ], items
    # The camera's reason is text: no element came out of it, nothing ran.
    assert section.locator("img").count() == 0
    assert page.locator("img").count() == 0  # no snapshot asked either
    expect(section).to_contain_text("il ne compte jamais comme une panne")
    assert "unsupported" not in section.inner_text()
    section.scroll_into_view_if_needed()
    screenshot(page, "dashboard-camera-interop.png")
    # A camera that supports every call says so.
    page.goto(f"{dashboard.url}/#/camera/{up[0]}")
    expect(page.locator("#interop-unsupported")).to_have_text(
        "Tous les contrôles sont pris en charge."
    )
    expect(page.locator("#interop-auth")).to_have_text("WS-Security (jeton UsernameToken)")
    expect(page.locator("#interop-clock")).to_have_text("lue sans identifiants")
    expect(page.locator("#interop-media")).to_have_text("Media2 (profil T)")
    expect(page.locator("#interop h3")).to_have_count(0)
    # Without an open incident there is no incident line, not a stray "null" either.
    expect(page.locator("h1")).to_be_visible()
    assert "null" not in page.locator("main").inner_text()
    # And one never checked in full says it has nothing to tell yet.
    down = sorted(c for c, s in dashboard.seeded.cameras.items() if s == "down")[0]
    page.goto(f"{dashboard.url}/#/camera/{down}")
    expect(page.locator("#interop")).to_contain_text("Aucun contrôle complet")


def test_after_a_logout_the_next_user_starts_on_their_own_page(
    watched: Watched, dashboard: Server
) -> None:
    page = watched.page
    # A person logs out without waiting for the page to finish loading: what is still in flight
    # is refused (401) and must not log the next person out.
    watched.allowed_errors.append("status of 401 (Unauthorized)")
    camera = sorted(dashboard.seeded.cameras)[0]
    login(page, dashboard, "operateur")
    page.goto(f"{dashboard.url}/#/camera/{camera}")
    expect(page.locator("h1")).to_contain_text(camera)
    page.click("#logout")
    page.wait_for_selector("#username")
    assert page.url == dashboard.url + "/"
    log_in_here(page, "ingenieur")
    expect(page).to_have_url(f"{dashboard.url}/#/carte")
    expect(page.locator("#who")).to_have_text("ingenieur (ingénieur)")
    # The communes a commune user could see are not what the next user gets.
    page.click("#logout")
    page.wait_for_selector("#username")
    log_in_here(page, "mairie")
    page.wait_for_selector("#f-commune option >> nth=1", state="attached")
    page.click("#logout")
    page.wait_for_selector("#username")
    log_in_here(page, "admin")
    wait_for_cameras(page, len(dashboard.seeded.cameras))
    options = page.locator("#f-commune option").all_text_contents()
    assert len(options) > 2
    unnamed = [o for o in options if re.fullmatch(r"\d{5}", o)]
    assert unnamed == [], "the map kept the commune user's communes"
