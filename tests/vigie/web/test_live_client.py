"""The dashboard's side of the live protocol (README: Dashboard, live updates).

The live endpoint is built on another branch; until it is merged, Playwright answers the page's
WebSocket itself, playing the server's part of the contract message by message: snapshot,
events, heartbeat, token expiry (4401), slow-consumer resync (4008). What is checked is the page:
the token offered as a subprotocol and never in the URL, resumption with ``after``, the refresh
on 4401, the status re-read on resync, and the marker turning red without a reload.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.sync_api import WebSocketRoute, expect

from tests.helpers.dashboard import Server, Watched, login

SPY = """
    window.__sockets = [];
    const Native = window.WebSocket;
    window.WebSocket = function (url, protocols) {
        window.__sockets.push({url: String(url), protocols: [].concat(protocols || [])});
        return new Native(url, protocols);
    };
    window.WebSocket.prototype = Native.prototype;
    Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
"""


def test_live_updates_resume_refresh_and_resync(watched: Watched, dashboard: Server) -> None:
    page = watched.page
    sockets: list[WebSocketRoute] = []

    def accept(socket: WebSocketRoute) -> None:  # Playwright needs a Python function here
        sockets.append(socket)

    page.route_web_socket(re.compile(r".*/api/v1/live.*"), accept)
    page.add_init_script(SPY)
    login(page, dashboard, "operateur")
    page.wait_for_function("() => window.vigieMap && window.vigieMap.cameras.size > 0")
    page.wait_for_function("() => window.__sockets.length === 1")
    first = page.evaluate("window.__sockets[0]")
    token = page.evaluate("JSON.parse(sessionStorage.getItem('vigie.session')).access")
    assert first["protocols"] == ["vigie.v1", f"bearer.{token}"]
    assert token not in first["url"] and "after" not in first["url"]

    cameras = page.evaluate("[...window.vigieMap.cameras.values()]")
    target = next(c for c in cameras if c["state"] == "up")
    page.get_by_label("Regrouper les caméras proches").uncheck()
    marker = page.locator(f"#map .cam[data-camera='{target['camera_id']}']")
    expect(marker).to_have_attribute("data-state", "up")

    sockets[0].send(
        json.dumps(
            {"type": "snapshot", "seq": 10, "at": "2026-03-02T09:00:00Z", "cameras": cameras}
        )
    )
    event = {
        "seq": 11,
        "type": "state_changed",
        "camera_id": target["camera_id"],
        "at": "2026-03-02T09:01:00Z",
        "previous": "up",
        "state": "down",
        "causes": ["unreachable"],
        "reason": "check",
    }
    sockets[0].send(json.dumps(event))
    expect(marker).to_have_attribute("data-state", "down")
    expect(marker).to_have_class(re.compile(r"\bcam-down\b"))
    # A replayed event (seq already seen) changes nothing.
    sockets[0].send(json.dumps({**event, "seq": 9, "state": "up", "previous": "down"}))
    sockets[0].send(json.dumps({"type": "heartbeat", "seq": 12, "at": "2026-03-02T09:01:15Z"}))
    page.wait_for_timeout(300)
    expect(marker).to_have_attribute("data-state", "down")

    # An incident event makes the panel read the incidents again.
    with page.expect_request(re.compile(r".*/api/v1/incidents\?status=open.*")):
        sockets[0].send(
            json.dumps(
                {
                    "seq": 13,
                    "type": "incident_opened",
                    "at": "2026-03-02T09:01:20Z",
                    "incident": {"camera_id": target["camera_id"]},
                }
            )
        )

    # The access token expired: 4401, the page refreshes it and resumes after its last seq.
    with page.expect_request(lambda r: r.url.endswith("/api/v1/auth/token")):
        sockets[0].close(code=4401, reason="token expired")
    page.wait_for_function("() => window.__sockets.length === 2")
    second = page.evaluate("window.__sockets[1]")
    renewed = page.evaluate("JSON.parse(sessionStorage.getItem('vigie.session')).access")
    assert renewed != token
    assert second["protocols"] == ["vigie.v1", f"bearer.{renewed}"]
    assert parse_qs(urlsplit(second["url"]).query) == {"after": ["13"]}

    # Too slow a consumer: resync then 4008; the page re-reads the status and resumes.
    with page.expect_request(lambda r: r.url.endswith("/api/v1/status")):
        sockets[1].send(json.dumps({"type": "resync", "reason": "slow consumer"}))
    sockets[1].close(code=4008, reason="slow consumer")
    page.wait_for_function("() => window.__sockets.length === 3")
    third = page.evaluate("window.__sockets[2]")
    assert parse_qs(urlsplit(third["url"]).query) == {"after": ["13"]}
    expect(page.locator("#live-state")).to_have_text("En direct")


def test_the_session_is_refreshed_before_expiry_and_ended_by_logout(
    watched: Watched, dashboard: Server
) -> None:
    page = watched.page
    login(page, dashboard, "gendarme")
    before = page.evaluate("JSON.parse(sessionStorage.getItem('vigie.session'))")
    # Pretend the token expires in 7 s: the page refreshes it at 80 % of that (at least 5 s).
    page.evaluate(
        "s => sessionStorage.setItem('vigie.session',"
        " JSON.stringify({...s, expiresAt: Date.now() + 7000}))",
        before,
    )
    with page.expect_response(
        lambda r: r.url.endswith("/api/v1/auth/token"), timeout=15000
    ) as info:
        page.reload()
    assert info.value.status == 200
    after = page.evaluate("JSON.parse(sessionStorage.getItem('vigie.session'))")
    assert after["access"] != before["access"] and after["refresh"] != before["refresh"]
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.locator("#username")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('vigie.session')") is None
    # The refresh token is revoked on the server, not only forgotten by the page.
    answer = httpx.post(
        f"{dashboard.url}/api/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": after["refresh"]},
    )
    assert answer.status_code == 400
