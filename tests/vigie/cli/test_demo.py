"""`vigie demo` end to end: one command brings up the plan, the simulator and the service.

Against the running demo: the printed logins work and every camera of the sample's masts is
supervised; in Debian's chromium, a camera switched off in the simulator turns its marker red on
the operator's map without a reload, its incident appears and is acknowledged; Ctrl-C stops the
service and the simulator.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pyogrio
import pytest
from playwright.sync_api import expect

from tests.helpers.browser import ARTIFACTS, chromium
from tests.helpers.paths import SAMPLE

VIGIE = str(Path(sys.executable).with_name("vigie"))
# 10000-11999 is the CLI tests' own range (tests/helpers port plan): below 32768, where Linux hands
# out outgoing ports, and apart from the session-long simulators of tests/cameras and
# tests/supervision, which may sit on any block of 12000-29999
PORT, SIM_PORT = 10100, 10200
pytestmark = pytest.mark.slow


@dataclass
class Demo:
    process: subprocess.Popen
    out: Path
    lines: list[str] = field(default_factory=list)
    url: str = f"http://127.0.0.1:{PORT}"

    def password(self, username: str) -> str:
        found = re.search(rf"identifiant {username}\s+mot de passe (\S+)", "".join(self.lines))
        assert found, "".join(self.lines)
        return found.group(1)

    def headers(self, username: str) -> dict[str, str]:
        token = httpx.post(
            f"{self.url}/api/v1/auth/token",
            data={
                "grant_type": "password",
                "username": username,
                "password": self.password(username),
            },
        )
        assert token.status_code == 200, token.text
        return {"Authorization": f"Bearer {token.json()['access_token']}"}

    def schedule(self) -> list[dict]:
        """The faults the demo plays (it writes them beside its database)."""
        return json.loads((self.out / "data" / "demo-faults.json").read_text(encoding="utf-8"))

    def wait_for(self, pattern: str, limit: float) -> None:
        """A line matching ``pattern``, already printed or within ``limit`` seconds."""
        if not any(re.search(pattern, line) for line in self.lines):
            self.read_until(pattern, limit)

    def read_until(self, pattern: str, limit: float) -> None:
        deadline = time.monotonic() + limit
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                if self.process.poll() is not None:
                    break
                continue
            self.lines.append(line)
            if re.search(pattern, line):
                return
        raise AssertionError(f"no line matching {pattern!r}:\n{''.join(self.lines)}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    out = tmp_path_factory.mktemp("demo")
    process = subprocess.Popen(
        [VIGIE, "demo", "--out", str(out), "--port", str(PORT), "--sim-port", str(SIM_PORT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "COLUMNS"},  # piped, as in CI
    )
    running = Demo(process=process, out=out)
    try:
        running.read_until(rf"http://127\.0\.0\.1:{PORT}/", 240)
        running.read_until(r"identifiant admin ", 10)  # the last of the demo logins
        deadline = time.monotonic() + 60
        while True:  # the service starts just after the banner
            try:
                httpx.get(f"{running.url}/healthz")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "".join(running.lines)
                time.sleep(0.5)
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _sample_cameras() -> int:
    return int(pyogrio.read_dataframe(SAMPLE, layer="masts")["cameras"].sum())


def test_every_camera_of_the_sample_is_supervised_and_the_plan_is_listed(demo: Demo) -> None:
    expected = _sample_cameras()
    headers = demo.headers("operateur")
    # Within a few liveness intervals (10 s in the demo) the simulated cameras are checked.
    deadline = time.monotonic() + 90
    while True:
        status = httpx.get(f"{demo.url}/api/v1/status", headers=headers).json()
        up = [c for c in status if c["state"] == "up"]
        if len(up) >= expected * 0.9 or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert len(status) == expected
    assert len(up) >= expected * 0.9, sorted({c["state"] for c in status})
    plans = httpx.get(f"{demo.url}/api/v1/plans", headers=demo.headers("ingenieur"))
    assert plans.status_code == 200 and plans.json(), plans.text


def test_a_camera_switched_off_turns_red_live_and_its_incident_is_acknowledged(
    demo: Demo,
) -> None:
    from vigie.cli.demo import SIM_PASSWORD, plan_folder
    from vigie.inventory.plans import plan_inventory

    rows = plan_inventory(
        plan_folder(demo.out), host="127.0.0.1", first_port=SIM_PORT, username="admin",
        password=SIM_PASSWORD,
    )  # fmt: skip
    scheduled = {i for f in demo.schedule() for i in f["cameras"]}
    index = next(i for i in range(1, len(rows)) if i not in scheduled)
    camera_id = rows[index].id
    token = (demo.out / "data" / "simulator-token").read_text().strip()
    control = f"http://127.0.0.1:{SIM_PORT + len(rows)}"
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="fr-FR")
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(demo.url + "/")
        page.fill("#username", "operateur")
        page.fill("#password", demo.password("operateur"))
        page.click("button[type=submit]")
        page.wait_for_function(
            "n => window.vigieMap && window.vigieMap.cameras.size === n", arg=len(rows)
        )
        state = "id => window.vigieMap.markers.get(id).options.state"
        page.wait_for_function(f"id => ({state})(id) === 'up'", arg=camera_id, timeout=90_000)
        page.evaluate("window.__sameDocument = true")  # gone if the page reloads
        switched = httpx.put(
            f"{control}/cameras/{index}/faults",
            json={"kind": "offline"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert switched.status_code == 200, switched.text
        # Liveness every 10 s in the demo, re-checked every 3 s: DOWN well within a minute.
        page.wait_for_function(f"id => ({state})(id) === 'down'", arg=camera_id, timeout=90_000)
        assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
        page.get_by_label("Regrouper les caméras proches").uncheck()
        marker = page.locator(f"#map .cam[data-camera='{camera_id}']")
        expect(marker).to_have_attribute("data-state", "down")
        colour = marker.evaluate("e => getComputedStyle(e).backgroundColor")
        assert colour == "rgb(192, 38, 45)"  # the palette's red (tests/vigie/web)
        # Its incident is in the panel: take charge of it with a comment.
        item = page.locator(f".incidents li:has(a[href='#/camera/{camera_id}'])")
        expect(item).to_have_count(1, timeout=30_000)
        item.get_by_role("button", name="Prendre en charge").click()
        page.fill(f".incidents li:has(a[href='#/camera/{camera_id}']) textarea", "Astreinte")
        item.get_by_role("button", name="Valider la prise en charge").click()
        expect(item.locator(".ack-by")).to_contain_text("Pris en charge par operateur")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "demo-live-down.png"))
    assert errors == []
    incidents = httpx.get(
        f"{demo.url}/api/v1/incidents?status=open&camera={camera_id}",
        headers=demo.headers("operateur"),
    ).json()["items"]
    assert [(i["acknowledged_by"], i["comment"]) for i in incidents] == [("operateur", "Astreinte")]


def test_a_mast_and_a_branch_fail_one_incident_each_and_nobody_acknowledging_escalates(
    demo: Demo,
) -> None:
    """The done-when of the centre's day: a mast failure and a branch failure, each one incident
    naming its cause; an e-mail to the demo's SMTP server, then to the manager on duty when
    nobody acknowledges; the gendarmerie's point query lists the cameras that see it."""
    from vigie.cli.demo_scenario import CENTRE, ON_CALL

    causes = {f["what"].split(" ")[0]: f for f in demo.schedule() if len(f["cameras"]) > 1}
    assert set(causes) == {"mât", "branche"}, causes
    headers = demo.headers("operateur")
    deadline = time.monotonic() + 240
    while True:
        shown = httpx.get(
            f"{demo.url}/api/v1/incidents?status=open&kind=mast&kind=branch", headers=headers
        ).json()["items"]
        if {i["kind"] for i in shown} == {"mast", "branch"} or time.monotonic() > deadline:
            break
        time.sleep(2)
    by_kind = {i["kind"]: i for i in shown}
    assert sorted(i["kind"] for i in shown) == ["branch", "mast"], shown  # one incident each
    assert by_kind["mast"]["cause"].startswith("panne probable du mât M-")
    assert by_kind["branch"]["cause"].startswith("coupure probable entre le manchon S")
    for kind, what in (("mast", "mât"), ("branch", "branche")):
        held = set(by_kind[kind]["cameras"])
        assert len(held) == len(causes[what]["cameras"]), (kind, by_kind[kind])
    listed = httpx.get(f"{demo.url}/api/v1/incidents?status=open", headers=headers).json()
    folded = set(by_kind["mast"]["cameras"]) | set(by_kind["branch"]["cameras"])
    assert not folded & {i["camera_id"] for i in listed["items"] if i["kind"] == "camera"}
    demo.wait_for(r"incident ouvert : coupure probable entre le manchon S", 30)

    # The centre is told at once, the manager on duty a minute later (nobody acknowledges).
    mails = demo.out / "data" / "courriels"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        received = [
            message_from_bytes(f.read_bytes(), policy=policy.default)
            for f in sorted(mails.glob("*.eml"))
        ]
        escalated = [m for m in received if m["To"] == ON_CALL and "mât" in m["Subject"]]
        if escalated:
            break
        time.sleep(2)
    assert escalated, [(m["To"], m["Subject"]) for m in received]
    first = [m for m in received if m["To"] == CENTRE and "panne probable du mât" in m["Subject"]]
    assert first, [(m["To"], m["Subject"]) for m in received]
    demo.wait_for(rf"courriel reçu pour {re.escape(ON_CALL)} :", 30)
    notes = httpx.get(
        f"{demo.url}/api/v1/incidents/{by_kind['mast']['id']}/notifications", headers=headers
    ).json()
    assert {(n["level"], n["recipient"]) for n in notes} >= {(1, CENTRE), (2, ON_CALL)}, notes

    # The gendarmerie's point query, asked by the demo through the API, names the mast's camera.
    demo.wait_for(r"réquisition \(démo\) : le point .* est vu par [1-9]\d* caméra", 60)
    demo.wait_for(r"^  M-\S+ .*\(M-\S+\) : .*hors service \d+ %", 10)


def test_ctrl_c_stops_the_service_and_the_simulator(demo: Demo) -> None:
    expected = _sample_cameras()
    demo.process.send_signal(signal.SIGINT)
    try:
        rest, _ = demo.process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        demo.process.kill()
        rest, _ = demo.process.communicate()
    demo.lines.append(rest or "")
    assert demo.process.returncode in (0, 130), "".join(demo.lines)
    assert "démo arrêtée" in "".join(demo.lines)
    # Nothing is left listening: neither the service nor the simulator's cameras.
    for port in (PORT, SIM_PORT, SIM_PORT + expected - 1):
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)


def test_the_screen_shows_what_a_person_needs_and_the_logs_go_to_the_file(demo: Demo) -> None:
    from vigie.cli.demo import DEMO_USERS

    screen = "".join(demo.lines)  # the whole run, Ctrl-C included (the test above)
    for noise in ("INFO", "alembic", "pyogrio", "long-lived", "Traceback"):
        assert noise not in screen, noise
    # Each login on one line, whole, though nothing told rich how wide the pipe is.
    for user in DEMO_USERS:
        (line,) = [line for line in demo.lines if f"identifiant {user.username} " in line]
        assert line.rstrip("\n").endswith(user.what), line
    # The incidents as they open, on the camera the operator sees (the switched-off one above).
    assert re.search(r"t\+\d+ s : incident ouvert sur M-\S+ \(.+\) : injoignable", screen), screen
    log = demo.out / "vigie.log"
    assert f"journal technique dans {log}" in screen
    text = log.read_text(encoding="utf-8")
    assert "alembic.runtime.migration" in text and "Running upgrade" in text
    assert "supervisor:" in text and "ONVIF simulator" in text  # the service's and the simulator's


def test_the_simulator_scenario_gives_each_camera_its_model_s_resolution(sample_plan: Path) -> None:
    from cameras.catalogue import load_catalogue
    from cameras.simulator.scenario import parse_scenario
    from vigie.cli.demo import SIM_PASSWORD, scenario_for
    from vigie.inventory.plans import plan_inventory

    rows = plan_inventory(
        sample_plan, host="127.0.0.1", first_port=20000, username="admin", password=SIM_PASSWORD
    )
    scenario = parse_scenario(scenario_for(rows), source="demo")
    sizes = scenario.resolution_by_camera(len(rows))
    catalogue = load_catalogue()
    assert len(sizes) == len(rows)  # every camera of the sample has a catalogue model
    for index, row in enumerate(rows):
        assert sizes[index] == catalogue.cameras[row.model].frame_size, row.id
    assert len(set(sizes.values())) > 1  # the sample mixes models
