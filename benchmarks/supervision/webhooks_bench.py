"""Webhook deliveries per second from the outbox to a local receiver, against bare POSTs.

In one run, on a fresh database (SQLite by default, ``--postgres`` for PostgreSQL):

1. a receiver in another process (aiohttp) verifies every signature and answers 204;
2. ``--events`` events are written with ``append_events``; ``--subscriptions`` subscriptions
   receive all of them; the dispatcher (as ``vigie serve`` runs it) copies them into the outbox
   and delivers them: wall time until every row is marked delivered, deliveries per second, CPU
   ms per delivery in this process (enqueue, lease, POST, commit);
3. baseline: the same number of signed POSTs sent one after the other with one httpx client,
   no database: what the bookkeeping that makes delivery durable and ordered costs.

Usage: ``.venv/bin/python benchmarks/supervision/webhooks_bench.py [--events 2000]
[--subscriptions 1 4] [--postgres ADMIN_URL] [--port 32900]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout: tests.helpers

from tests.helpers.postgres import postgres_database
from vigie import db
from vigie.clock import utcnow
from vigie.credentials import KeyRing, generate_key
from vigie.models import Camera, Commune, Epci, WebhookDelivery
from vigie.settings import load_settings
from vigie.supervisor.store import append_events
from vigie.webhooks import signing
from vigie.webhooks.dispatcher import Dispatcher
from vigie.webhooks.subscriptions import create_webhook

HERE = Path(__file__).resolve().parent
SECRET_ENV = "BENCH_WEBHOOK_SECRET"

RECEIVER = """
import os, sys
from aiohttp import web
from vigie.webhooks.signing import verify
secrets = os.environ["BENCH_WEBHOOK_SECRET"].split(",")
count = 0
async def hook(request):
    global count
    body = await request.read()
    header = request.headers["X-Vigie-Signature"]
    for secret in secrets:
        try:
            verify(secret, header, body)
            break
        except ValueError:
            pass
    else:
        return web.Response(status=401)
    count += 1
    return web.Response(status=204)
app = web.Application()
app.router.add_post("/hook", hook)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def prepare(url: str, events: int, subscriptions: int, port: int):
    engine = db.make_engine(url)
    db.upgrade(engine)
    settings = load_settings(
        database_url=url,
        credentials_keys=generate_key(),
        webhook_poll_seconds=0.05,
        environment="development",
    )
    ring = KeyRing.from_settings(settings)
    sessions = db.session_factory(engine)
    now = utcnow()
    with db.session_scope(sessions) as session:
        session.add(Epci(siren="200070753", nom="EPCI"))
        session.add(Commune(code="27229", nom="Évreux", population=47000, epci_siren="200070753"))
        session.flush()
        session.add(
            Camera(
                id="cam-1", name="cam", commune_code="27229", latitude=49.0, longitude=1.15,
                host="127.0.0.1", port=80, created_at=now, updated_at=now,
            )
        )  # fmt: skip
    secrets = []
    with db.session_scope(sessions) as session:
        for index in range(subscriptions):
            _, secret = create_webhook(
                session, ring, name=f"receiver-{index}", url=f"http://127.0.0.1:{port}/hook",
                actor="bench", actor_role="admin",
            )  # fmt: skip
            secrets.append(secret)
    payload = {
        "type": "state_changed", "camera_id": "cam-1", "at": now.isoformat(),
        "previous": "up", "state": "down", "causes": ["unreachable"], "reason": "check",
    }  # fmt: skip
    with db.session_scope(sessions) as session:
        for start in range(0, events, 500):
            count = min(500, events - start)
            append_events(session, [("cam-1", "27229", now, payload)] * count)
    return engine, sessions, settings, ring, secrets


def delivered(sessions) -> int:
    with sessions() as session:
        return (
            session.scalar(select(func.count()).where(WebhookDelivery.delivered_at.is_not(None)))
            or 0
        )


async def run_dispatcher(sessions, settings, ring, expected: int) -> tuple[float, float]:
    dispatcher = Dispatcher(sessions, settings, ring)
    wall, cpu = time.perf_counter(), time.process_time()
    await dispatcher.start()
    while await asyncio.to_thread(delivered, sessions) < expected:
        await asyncio.sleep(0.05)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await dispatcher.stop()
    return wall, cpu


async def baseline(port: int, secret: str, events: int) -> tuple[float, float]:
    body = signing.body_of({"seq": 1, "type": "state_changed", "camera_id": "cam-1"})
    wall, cpu = time.perf_counter(), time.process_time()
    async with httpx.AsyncClient(timeout=10) as client:
        for seq in range(events):
            headers = signing.headers(
                secret, body, timestamp=int(time.time()), delivery=str(seq),
                event_type="state_changed", seq=seq,
            )  # fmt: skip
            response = await client.post(f"http://127.0.0.1:{port}/hook", content=body,
                                         headers=headers)  # fmt: skip
            assert response.status_code == 204
    return time.perf_counter() - wall, time.process_time() - cpu


@contextmanager
def database(postgres: str | None, tmp: str) -> Iterator[str]:
    """A fresh SQLite file, or a fresh database on the PostgreSQL server of ``postgres`` (an
    administrator URL), dropped afterwards."""
    if postgres is None:
        yield f"sqlite:///{tmp}/bench.db"
        return
    with postgres_database(postgres) as url:
        yield url


def wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("receiver did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--subscriptions", type=int, nargs="+", default=[1, 4])
    parser.add_argument(
        "--postgres",
        default=None,
        metavar="ADMIN_URL",
        help="PostgreSQL server (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test): "
        "a throw-away database is created there for each run",
    )
    parser.add_argument("--port", type=int, default=32900)
    args = parser.parse_args()
    console = Console()
    rows = []
    for subscriptions in args.subscriptions:
        with tempfile.TemporaryDirectory() as tmp, database(args.postgres, tmp) as url:
            engine, sessions, settings, ring, secrets = prepare(
                url, args.events, subscriptions, args.port
            )
            env = {**os.environ, SECRET_ENV: ",".join(secrets)}
            receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(args.port)], env=env)
            try:
                wait_for_port(args.port, receiver)
                expected = args.events * subscriptions
                wall, cpu = asyncio.run(run_dispatcher(sessions, settings, ring, expected))
                base_wall, base_cpu = asyncio.run(baseline(args.port, secrets[0], args.events))
            finally:
                receiver.terminate()
                receiver.wait()
                engine.dispose()
            rows.append(
                {
                    "database": engine.url.get_backend_name(),
                    "subscriptions": subscriptions,
                    "deliveries": expected,
                    "seconds": round(wall, 2),
                    "per_second": round(expected / wall, 1),
                    "cpu_ms_per_delivery": round(1000 * cpu / expected, 3),
                    "baseline_per_second": round(args.events / base_wall, 1),
                    "baseline_cpu_ms": round(1000 * base_cpu / args.events, 3),
                    "ratio_vs_bare_posts": round((expected / wall) / (args.events / base_wall), 2),
                }
            )
    table = Table(*rows[0].keys(), header_style="bold")
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    console.print(table)
    record = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} CPU, Python {platform.python_version()}",
        "load_average": os.getloadavg(),
        "events": args.events,
        "rows": rows,
    }
    out = HERE / f"webhooks_results_{rows[0]['database']}.json"
    out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    console.print(f"written {out}")


if __name__ == "__main__":
    main()
