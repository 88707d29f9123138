"""The dashboard with N cameras: what the API sends it and how fast chromium draws it, in one run.

1. A SQLite database with the Eure referential and N cameras spread over the sample's communes,
   a tenth of them down (written by ``vigie.supervisor.store.apply_result``), served by uvicorn.
2. **API**: ``GET /api/v1/status`` (the map's first picture; the live snapshot carries the same
   items) and ``GET /api/v1/communes`` (first call reads the GeoPackage, later ones the cache):
   median time over ``--repeat`` calls and size.
3. **Browser** (Debian's chromium): time from submitting the login form to every camera placed
   on the map (grouped); then ``--events`` live state changes applied one by one, as the page
   does (:func:`update`: move one marker), against the baseline of redrawing every marker per
   event (what the page did first), measured in the same page.

Usage: ``.venv/bin/python benchmarks/vigie/dashboard_bench.py --cameras 1000 5000``
Writes (merges into) ``benchmarks/vigie/results.json``, keyed by camera count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyogrio
import uvicorn
from playwright.sync_api import sync_playwright
from shapely.geometry import Point

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from gis_data import data_path  # noqa: E402
from supervision.states import CheckKind, CheckResult, ErrorKind, Policy  # noqa: E402
from vigie import db  # noqa: E402
from vigie.api import create_app  # noqa: E402
from vigie.auth.passwords import hash_password  # noqa: E402
from vigie.clock import utcnow  # noqa: E402
from vigie.inventory.communes import load_referential, read_referential  # noqa: E402
from vigie.models import Camera, User  # noqa: E402
from vigie.settings import load_settings  # noqa: E402
from vigie.supervisor.store import apply_result  # noqa: E402

HERE = Path(__file__).resolve().parent
PASSWORD = "benchmark password 2026"
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def seed(engine, n: int, rng: random.Random) -> None:
    communes = pyogrio.read_dataframe(data_path("eure", "eure.gpkg"), layer="communes").to_crs(4326)
    polygons = list(zip(communes["code"].astype(str), communes.geometry, strict=True))
    start = utcnow() - timedelta(hours=1)
    db.upgrade(engine)
    with db.session_scope(db.session_factory(engine)) as session:
        load_referential(session, read_referential(data_path("sources", "communes-27-admin.json")))
        session.add(
            User(
                username="operateur",
                role="operator",
                password_hash=hash_password(PASSWORD),
                scope_communes=[],
                scope_epcis=[],
                created_at=utcnow(),
            )
        )
        for i in range(n):
            code, polygon = polygons[i % len(polygons)]
            minx, miny, maxx, maxy = polygon.bounds
            while True:
                point = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
                if polygon.contains(point):
                    break
            session.add(
                Camera(
                    id=f"cam-{i:05d}",
                    name=f"Caméra {i}",
                    commune_code=code,
                    latitude=point.y,
                    longitude=point.x,
                    host="127.0.0.1",
                    port=8000,
                    created_at=start,
                    updated_at=start,
                )
            )
        session.flush()
        for i in range(n):
            camera_id = f"cam-{i:05d}"
            failures = 5 if i % 10 == 0 else 0
            results = [
                CheckResult(
                    camera_id=camera_id,
                    kind=CheckKind.FULL,
                    time=start,
                    reachable=True,
                    auth_failed=False,
                    picture_problems=frozenset(),
                )
            ]
            results += [
                CheckResult(
                    camera_id=camera_id,
                    kind=CheckKind.LIVENESS,
                    time=start + timedelta(seconds=30 * (k + 1)),
                    reachable=False,
                    error=ErrorKind.TIMEOUT,
                )
                for k in range(failures)
            ]
            for result in results:
                apply_result(session, camera_id, result, Policy(), result.time)


def timed(
    client: httpx.Client, path: str, headers: dict[str, str], repeat: int
) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append(time.perf_counter() - started)
        response.raise_for_status()
        size = len(response.content)
    return statistics.median(times), size


def run(n: int, port: int, repeat: int, events: int) -> dict[str, Any]:
    rng = random.Random(n)
    work = Path(tempfile.mkdtemp(prefix="vigie-dash-bench-"))
    settings = load_settings(
        database_url=f"sqlite:///{work / 'vigie.db'}",
        environment="development",
        plans_dir=work / "plans",
    )
    engine = db.make_engine(settings.db_url)
    started = time.perf_counter()
    seed(engine, n, rng)
    seeding = time.perf_counter() - started
    engine.dispose()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise SystemExit(f"the service did not start on port {port} (in use?)")
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    row: dict[str, Any] = {"cameras": n, "seeding_s": round(seeding, 1)}
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            token = client.post(
                "/api/v1/auth/token",
                data={
                    "grant_type": "password",
                    "username": "operateur",
                    "password": PASSWORD,
                },
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            first = time.perf_counter()
            client.get("/api/v1/communes", headers=headers).raise_for_status()
            row["communes_first_ms"] = round((time.perf_counter() - first) * 1000, 1)
            t, size = timed(client, "/api/v1/communes", headers, repeat)
            row["communes_cached_ms"], row["communes_kib"] = round(t * 1000, 1), round(size / 1024)
            t, size = timed(client, "/api/v1/status", headers, repeat)
            row["status_ms"], row["status_kib"] = round(t * 1000, 1), round(size / 1024)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(url + "/")
            page.fill("#username", "operateur")
            page.fill("#password", PASSWORD)
            started = time.perf_counter()
            page.click("button[type=submit]")
            page.wait_for_function(
                "n => window.vigieMap && window.vigieMap.cameras.size === n"
                " && window.vigieMap.group.getLayers().length === n",
                arg=n,
                timeout=120000,
            )
            row["map_ready_ms"] = round((time.perf_counter() - started) * 1000)
            timings = page.evaluate(
                """(k) => {
                    const v = window.vigieMap, ids = [...v.cameras.keys()];
                    const flip = (i) => { const item = v.cameras.get(ids[(i * 7919) % ids.length]);
                        item.state = item.state === 'down' ? 'up' : 'down'; return item; };
                    let t = performance.now();
                    for (let i = 0; i < k; i++) v.update(flip(i));
                    const incremental = (performance.now() - t) / k;
                    const m = Math.max(3, Math.floor(k / 20));
                    t = performance.now();
                    for (let i = 0; i < m; i++) { flip(k + i); v.redraw(); }
                    const full = (performance.now() - t) / m;
                    return [incremental, full];
                }""",
                events,
            )
            row["event_update_ms"] = round(timings[0], 2)
            row["event_full_redraw_ms"] = round(timings[1], 1)
            row["update_speedup"] = round(timings[1] / max(timings[0], 1e-3), 1)
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--port", type=int, default=33950)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()
    results_file = HERE / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    for n in args.cameras:
        row = run(n, args.port, args.repeat, args.events)
        row.update(
            date=datetime.now(UTC).isoformat(timespec="seconds"),
            machine=f"{platform.machine()} {os.cpu_count()} CPU",
            load=round(os.getloadavg()[0], 1),
        )
        print(json.dumps(row, ensure_ascii=False))
        results[str(n)] = row
    results_file.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
