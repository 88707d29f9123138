"""The plan's map.html in a real browser: Debian's chromium driven by Playwright.

The map is a canvas drawn by a script: only a browser can tell whether it draws the plan, answers
the mouse and raises no script error. `.ci/run` installs chromium; the screenshot is kept in
``out/test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.helpers.browser import ARTIFACTS, chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser, sample_plan: Path) -> Iterator[Page]:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    page.goto((sample_plan / "map.html").as_uri())
    page.wait_for_load_state("load")
    yield page
    assert errors == [], f"the map raised script errors: {errors}"
    outside = [url for url in requests if not url.startswith("file:")]
    assert outside == [], f"the map fetched from the network (it must work offline): {outside}"
    page.close()


def _pixels(page: Page, colour: str) -> int:
    """Canvas pixels of exactly ``colour`` (a CSS colour), fully opaque."""
    return page.evaluate(
        """(colour) => {
            const probe = document.createElement("canvas").getContext("2d");
            probe.fillStyle = colour;  // any CSS colour, read back as #rrggbb
            const hex = probe.fillStyle;
            const c = document.getElementById("map");
            const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            const r = parseInt(hex.slice(1, 3), 16), g = parseInt(hex.slice(3, 5), 16),
                  b = parseInt(hex.slice(5, 7), 16);
            let n = 0;
            for (let i = 0; i < d.length; i += 4)
                if (d[i] === r && d[i + 1] === g && d[i + 2] === b && d[i + 3] === 255) n++;
            return n;
        }""",
        colour,
    )


def _close_up(page: Page, mode: str) -> None:
    """Centre the view on the longest trench of ``mode``, with only the trenches drawn.

    At the full extent a trench is a few pixels under its mast's marker, and ducts share their
    blue with the FttH nodes: the close-up tells the trench drawing apart from the rest.
    """
    page.evaluate(
        """(mode) => {
            const size = f => { const xs = f.g.map(c => c[0]), ys = f.g.map(c => c[1]);
                return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)]; };
            const span = b => Math.hypot(b[2] - b[0], b[3] - b[1]);
            const f = (window.ALL_TRENCHES || L.trenches).filter(t => t.p.mode === mode)
                .sort((a, b) => span(size(b)) - span(size(a)))[0];
            const b = size(f);
            scale = 0.5 * Math.min(cv.width / Math.max(b[2] - b[0], 1),
                                   cv.height / Math.max(b[3] - b[1], 1));
            ox = cv.width / 2 - scale * (b[0] + b[2]) / 2;
            oy = cv.height / 2 + scale * (b[1] + b[3]) / 2;
            L.masts = []; L.nodes = []; L.cables = []; L.communes = []; L.links = []; L.sites = [];
            // Only this mode's trenches: a close-up of a duct may have new trenches beside it.
            window.ALL_TRENCHES = window.ALL_TRENCHES || L.trenches;
            L.trenches = window.ALL_TRENCHES.filter(t => t.p.mode === mode);
            draw();
        }""",
        mode,
    )


def test_the_map_draws_the_masts_and_a_legend(page: Page, sample_plan: Path) -> None:
    summary = json.loads((sample_plan / "summary.json").read_text(encoding="utf-8"))
    colours = page.evaluate("D.colours")
    assert page.evaluate("L.masts.length") == summary["totals"]["masts"]
    assert _pixels(page, colours["status"]["connected"][0]) > 50, "no connected mast drawn"
    legend = page.locator("#legend div")
    assert legend.count() == len(colours["modes"]) + len(colours["status"]) + 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "planning-map.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


def test_the_map_draws_each_mode_in_its_colour(page: Page, sample_plan: Path) -> None:
    summary = json.loads((sample_plan / "summary.json").read_text(encoding="utf-8"))
    colours = page.evaluate("D.colours")
    used = [mode for mode, metres in summary["totals"]["length_m_by_mode"].items() if metres > 0]
    assert used, "the sample plan uses no mode at all"
    for mode in used:
        _close_up(page, mode)
        assert _pixels(page, colours["modes"][mode][0]) > 100, f"no {mode} drawn"
        others = [m for m in colours["modes"] if m != mode and m in used]
        for other in others:  # only the close-up's mode is on screen, unless trenches cross
            assert _pixels(page, colours["modes"][other][0]) < _pixels(
                page, colours["modes"][mode][0]
            )


def test_the_panel_writes_numbers_the_french_way(page: Page) -> None:
    """``3,28 km`` and ``472 587 €``: a decimal comma, a narrow no-break space between thousands
    (as the dashboard's fr-FR figures) and a no-break space before the unit."""
    facts = dict(
        zip(
            page.locator("#panel th").all_text_contents(),
            page.locator("#panel td").all_text_contents(),
            strict=True,
        )
    )
    french = r"\d{1,3}(\u202f\d{3})*"
    assert re.fullmatch(french + "\u00a0€", facts["Coût total HT"]), facts
    lengths = [v for v in facts.values() if v.endswith("km")]
    assert lengths, facts
    for value in lengths:
        assert re.fullmatch(french + ",\\d\\d\u00a0km", value), value


def test_hovering_a_mast_tells_what_it_is(page: Page, sample_plan: Path) -> None:
    mast = page.evaluate("L.masts[0].p")
    x, y = page.evaluate("sx(L.masts[0].g)")
    page.mouse.move(x, y)
    tip = page.locator("#tip")
    tip.wait_for(state="visible", timeout=5_000)
    assert mast["mast_id"] in tip.inner_text()
    assert "€ HT" in tip.inner_text()


def test_zoom_and_drag_move_the_map(page: Page) -> None:
    before = page.evaluate("[scale, ox, oy]")
    page.mouse.move(640, 400)
    page.mouse.wheel(0, -200)  # zoom in
    page.wait_for_function(f"scale > {before[0]}")
    zoomed = page.evaluate("[scale, ox, oy]")
    page.mouse.down()
    page.mouse.move(540, 350, steps=5)
    page.mouse.up()
    dragged = page.evaluate("[scale, ox, oy]")
    assert dragged[0] == zoomed[0]
    assert (dragged[1], dragged[2]) == pytest.approx((zoomed[1] - 100, zoomed[2] - 50))
