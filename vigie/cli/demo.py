"""``vigie demo``: the whole product on the embedded defaults, in one command.

It plans the Eure sample, creates a fresh SQLite database beside the plan with the communes, the
demo users and one camera per camera of the plan's masts, starts the ONVIF simulator for those
cameras (another process), schedules a few faults over the first minutes through the
simulator's control API, and serves the API, the supervision and the dashboard until Ctrl-C,
which stops everything.

The demo uses shorter intervals than production (they are printed) so that a fault shows within
seconds rather than minutes. Its screen is for the person trying it, in French: the address, the
logins, the faults as they happen; every log line, the simulator's included, goes to the log file
it names (``vigie.cli.context.log_to_file``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import select
from sqlalchemy.orm import Session

from cameras.catalogue import load_catalogue
from gis_data import data_path
from planning.french import number
from vigie import db
from vigie.api import create_app
from vigie.auth.accounts import create_user
from vigie.auth.roles import Role
from vigie.clock import utcnow
from vigie.credentials import KeyRing, generate_key
from vigie.inventory.cameras import InventoryRow, import_cameras
from vigie.inventory.communes import load_referential, read_referential
from vigie.inventory.plans import plan_inventory, plan_masts_path
from vigie.inventory.topology import plan_topology, save_masts
from vigie.models import IncidentRow
from vigie.settings import generate_secret_key, load_settings

SIM_USER, SIM_PASSWORD = "admin", "vigie-sim"

DEMO_INTERVALS = {
    "supervise_liveness_interval_s": 10.0,
    "supervise_full_interval_s": 60.0,
    "supervise_retry_s": 3.0,
    "supervise_stream_interval_s": 0.0,  # the simulator serves no RTSP
    "supervise_inventory_reload_s": 15.0,
}


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    communes: tuple[str, ...] = ()
    what: str = ""


DEMO_USERS = (
    DemoUser("operateur", "operator", what="opérateur du centre (acquitte les incidents)"),
    DemoUser("gendarme", "gendarmerie", what="gendarmerie (lecture seule)"),
    DemoUser("ingenieur", "engineer", what="ingénieur réseau (plans)"),
    DemoUser("amo", "amo", what="AMO (plans et estimations)"),
    DemoUser("admin", "admin", what="administrateur"),
)


@dataclass(frozen=True)
class Fault:
    """At ``after`` seconds, camera ``index`` of the simulator gets ``fault`` (None: healed)."""

    after: float
    index: int
    fault: dict[str, Any] | None
    what: str


def fault_schedule(cameras: int) -> list[Fault]:
    """A few faults over the first minutes, spread over the inventory."""
    if cameras < 8:
        return []
    pick = [cameras // 7 * k for k in range(1, 7)]
    return [
        Fault(40, pick[0], {"kind": "offline"}, "caméra éteinte (hors service)"),
        Fault(70, pick[1], {"kind": "blurred"}, "image floue (dégradée)"),
        Fault(100, pick[2], {"kind": "covered"}, "caméra masquée (dégradée)"),
        Fault(130, pick[3], {"kind": "clock_drift", "seconds": 600}, "horloge décalée"),
        Fault(160, pick[4], {"kind": "hang"}, "caméra qui ne répond plus (hors service)"),
        Fault(220, pick[0], None, "la caméra éteinte revient (incident clos après 5 min)"),
        Fault(250, pick[5], {"kind": "frozen"}, "image figée (dégradée)"),
    ]


def plan_folder(out_dir: Path) -> Path:
    """Where the demo writes the sample's plan: a plans folder the dashboard lists."""
    return out_dir / "plans" / "eure-echantillon"


def prepare(out_dir: Path, *, sim_port: int) -> tuple[Any, dict[str, str], list[InventoryRow]]:
    """The demo database beside the plan; returns (settings, passwords, cameras)."""
    plan_dir = plan_folder(out_dir)
    data = out_dir / "data"
    data.mkdir(parents=True, exist_ok=True)
    database = data / "vigie-demo.db"
    for stale in data.glob("vigie-demo.db*"):  # every demo starts from a clean database
        stale.unlink()
    settings = load_settings(
        data_dir=data,
        database_url=f"sqlite:///{database}",
        environment="development",
        secret_key=generate_secret_key(),
        credentials_keys=generate_key(),
        plans_dir=plan_dir.parent,
        **DEMO_INTERVALS,
    )
    engine = db.make_engine(settings.db_url)
    db.upgrade(engine, credentials_keys=settings.credentials_keys.get_secret_value())
    passwords = {user.username: "demo-" + secrets.token_urlsafe(9) for user in DEMO_USERS}
    rows = plan_inventory(
        plan_dir, host="127.0.0.1", first_port=sim_port, username=SIM_USER, password=SIM_PASSWORD
    )
    with db.session_scope(db.session_factory(engine)) as session:
        load_referential(session, read_referential(data_path("sources", "communes-27-admin.json")))
        for user in DEMO_USERS:
            create_user(
                session,
                username=user.username,
                password=passwords[user.username],
                role=Role(user.role),
                communes=user.communes,
                habilitation_until=date.today() + timedelta(days=1),
                actor="demo",
            )
        import_cameras(session, plan_dir, rows, keys=KeyRing.from_settings(settings), now=utcnow())
        # Each mast's path in the plan: a mast or a fibre branch down is one incident.
        masts = {(row.mast_id or "", row.commune) for row in rows}
        save_masts(session, plan_topology(plan_masts_path(plan_dir), masts))
    engine.dispose()
    return settings, passwords, rows


def scenario_for(rows: list[InventoryRow]) -> dict[str, Any]:
    """The simulator's scenario: its credentials, and each camera's main-profile size from its
    catalogue model (so the full check finds the resolution it expects)."""
    catalogue = load_catalogue()
    by_size: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        if row.model in catalogue.cameras:
            width, height = catalogue.cameras[row.model].frame_size
            by_size.setdefault(f"{width}x{height}", []).append(index)
    return {
        "username": SIM_USER,
        "password": SIM_PASSWORD,
        "resolutions": [
            {"cameras": indices, "resolution": size} for size, indices in sorted(by_size.items())
        ],
    }


def start_simulator(
    cameras: int, port: int, folder: Path, scenario: dict[str, Any], log_file: Path
) -> tuple[subprocess.Popen, str]:
    """``vigie simulate`` in another process, its output appended to ``log_file``; returns it
    and its control token."""
    scenario_file = folder / "simulator-scenario.json"
    scenario_file.write_text(json.dumps(scenario), encoding="utf-8")
    token_file = folder / "simulator-token"
    token_file.unlink(missing_ok=True)
    vigie = str(Path(sys.executable).with_name("vigie"))
    command = [vigie, "simulate", "--cameras", str(cameras), "--port", str(port)]
    command += ["--token-file", str(token_file), "--scenario", str(scenario_file)]
    # Our own console script, with integers and our own path: nothing from outside.
    started_at = log_file.stat().st_size if log_file.exists() else 0
    with log_file.open("ab") as log:  # appended: the service's own lines are written there too
        process = subprocess.Popen(  # noqa: S603
            command,
            stdout=log,
            stderr=log,
            start_new_session=True,  # Ctrl-C reaches the demo only; it stops the simulator itself
        )
    deadline = time.monotonic() + 120
    while not (token_file.exists() and token_file.read_text().strip()):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            with log_file.open("rb") as log:
                log.seek(started_at)
                said = log.read().decode(errors="replace").strip().splitlines()[-5:]
            raise RuntimeError(f"the simulator did not start: {' / '.join(said)} ({log_file})")
        time.sleep(0.1)
    return process, token_file.read_text().strip()


CAUSES_FR = {
    "unreachable": "injoignable",
    "clock_offset": "horloge décalée",
    "auth_failed": "identifiants refusés",
    "low_frame_rate": "débit d'images trop faible",
    "wrong_resolution": "mauvaise résolution",
    "video_loss": "perte d'image",
    "frozen": "image figée",
    "blurred": "image floue",
    "covered": "caméra masquée",
    "displaced": "caméra déplacée",
    "glare": "éblouissement",
    "camera_tamper": "sabotage (signalé par la caméra)",
    "camera_scene_change": "changement de scène (signalé par la caméra)",
    "camera_video_loss": "perte vidéo (signalée par la caméra)",
    "camera_blurred": "image floue (signalée par la caméra)",
    "camera_too_dark": "image trop sombre (signalée par la caméra)",
    "camera_too_bright": "image trop claire (signalée par la caméra)",
    "storage_failure": "carte mémoire en panne (signalée par la caméra)",
    "hardware_failure": "panne matérielle (signalée par la caméra)",
    "certificate_changed": "certificat TLS changé (alerte de sécurité)",
    "recording_stopped": "enregistrement arrêté",
    "storage_failed": "stockage en défaut",
}
"""How the demo's screen names an incident's causes (those the camera's events report say
so: the operator sees where each came from)."""


def incident_lines(
    session: Session, since: datetime, *, start: datetime, names: dict[str, str]
) -> tuple[list[str], datetime]:
    """What changed in the incidents since ``since``: one French line per incident opened or
    closed, and the time to look from next."""
    opened = select(IncidentRow).where(IncidentRow.opened_at > since)
    closed = select(IncidentRow).where(IncidentRow.closed_at > since)
    events: list[tuple[datetime, str]] = []
    for row in session.scalars(opened):
        causes = ", ".join(CAUSES_FR.get(c, c) for c in row.seen_causes) or "?"
        events.append(
            (
                _aware(row.opened_at),
                f"incident ouvert sur {names.get(row.camera_id, row.camera_id)} : {causes}",
            )
        )
    for row in session.scalars(closed):
        assert row.closed_at is not None
        events.append(
            (_aware(row.closed_at), f"incident clos sur {names.get(row.camera_id, row.camera_id)}")
        )
    events.sort()
    lines = [f"t+{(at - start).total_seconds():.0f} s : {text}" for at, text in events]
    latest = max([since, *(at for at, _ in events)])
    return lines, latest


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive UTC times."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def watch_incidents(
    settings: Any, names: dict[str, str], say: Callable[[str], None], every: float = 2.0
) -> None:
    """Say each incident the supervisor opens or closes, as it happens."""
    engine = db.make_engine(settings.db_url)
    sessions = db.session_factory(engine)
    start = since = utcnow()

    def look(since: datetime) -> tuple[list[str], datetime]:
        with sessions() as session:
            return incident_lines(session, since, start=start, names=names)

    try:
        while True:
            await asyncio.sleep(every)
            lines, since = await asyncio.to_thread(look, since)
            for line in lines:
                say(line)
    finally:
        engine.dispose()


async def play_faults(
    schedule: list[Fault],
    control_url: str,
    token: str,
    say: Callable[[str], None],
    names: dict[int, str] | None = None,
) -> None:
    """Switch the scheduled faults on and off through the simulator's control API."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=control_url, headers=headers, timeout=5.0) as client:
        for fault in schedule:
            await asyncio.sleep(max(0.0, start + fault.after - loop.time()))
            path = f"/cameras/{fault.index}/faults"
            response = await (
                client.delete(path) if fault.fault is None else client.put(path, json=fault.fault)
            )
            if response.status_code >= 400:
                say(f"le simulateur refuse la panne de la caméra {fault.index} : {response.text}")
                continue
            camera = (names or {}).get(fault.index, f"caméra simulée n° {fault.index}")
            say(f"t+{fault.after:.0f} s : panne simulée sur {camera} : {fault.what}")


async def _together(*jobs: Coroutine[Any, Any, None]) -> None:
    """Run the jobs side by side; cancelling this cancels them all."""
    await asyncio.gather(*jobs)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def serve(settings: Any, host: str, port: int, play: Any) -> None:
    """The service in this process, the fault schedule beside it, until Ctrl-C."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host=host,
            port=port,
            log_config=None,  # uvicorn's own handlers would print; its records go to the log file
            log_level="info",
            access_log=False,
            server_header=False,
        )
    )
    player = asyncio.create_task(play)
    try:
        await server.serve()
    finally:
        player.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await player


def run_demo(
    out_dir: Path,
    *,
    host: str,
    port: int,
    sim_port: int,
    say: Callable[[str], None],
    log_file: Path,
) -> None:
    """Everything but the planning (done first by the CLI), until Ctrl-C."""
    settings, passwords, rows = prepare(out_dir, sim_port=sim_port)
    cameras = len(rows)
    plan_dir = plan_folder(out_dir)
    say(f"{number(cameras)} caméras importées des mâts du plan ; démarrage du simulateur…")
    simulator, token = start_simulator(
        cameras, sim_port, out_dir / "data", scenario_for(rows), log_file
    )
    try:
        schedule = fault_schedule(cameras)
        say("")
        say(f"Démo Vigie : http://{host}:{port}/   (Ctrl-C arrête tout)")
        for user in DEMO_USERS:
            say(
                f"  identifiant {user.username:<10} mot de passe {passwords[user.username]}   "
                f"{user.what}"
            )
        say(
            f"  plan : {plan_dir}   simulateur : ports {sim_port} à {sim_port + cameras - 1}, "
            f"API de contrôle http://127.0.0.1:{sim_port + cameras}"
        )
        say(
            "  intervalles raccourcis pour la démo : test de présence toutes les "
            f"{number(DEMO_INTERVALS['supervise_liveness_interval_s'])} s, contrôle complet "
            f"toutes les {number(DEMO_INTERVALS['supervise_full_interval_s'])} s"
        )
        say("  pannes prévues : " + " ; ".join(f"t+{f.after:.0f} s {f.what}" for f in schedule))
        say(f"  journal technique (service et simulateur) : {log_file}")
        say("")
        control = f"http://127.0.0.1:{sim_port + cameras}"
        names = {row.id: f"{row.id} ({row.name})" for row in rows}
        by_index = {index: names[row.id] for index, row in enumerate(rows)}
        play = play_faults(schedule, control, token, say, by_index)
        watch = watch_incidents(settings, names, say)
        asyncio.run(serve(settings, host, port, _together(play, watch)))
    finally:
        stop(simulator)
        say("démo arrêtée : service et simulateur")
