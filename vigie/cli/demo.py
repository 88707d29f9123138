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
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cameras.catalogue import load_catalogue
from gis_data import data_path
from planning.french import number
from vigie import db
from vigie.api import create_app
from vigie.auth.accounts import create_user
from vigie.auth.roles import Role
from vigie.cli.demo_scenario import (
    CENTRE,
    ESCALATE_AFTER_MIN,
    ON_CALL,
    DemoMailbox,
    cause_faults,
    on_call_rule,
    point_in_view,
    requisition_lines,
    seed_register,
)
from vigie.cli.server import VigieServer, live_drained, stop_live
from vigie.clock import utcnow
from vigie.credentials import KeyRing, generate_key
from vigie.inventory.cameras import InventoryRow, import_cameras
from vigie.inventory.communes import load_referential, read_referential
from vigie.inventory.plans import plan_inventory, plan_masts_path
from vigie.inventory.topology import MastPath, plan_topology, save_masts
from vigie.live.transport import LiveHttpProtocol
from vigie.models import Camera, IncidentRow
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
    """At ``after`` seconds, cameras ``indices`` of the simulator get ``fault`` (None: healed)."""

    after: float
    indices: tuple[int, ...]
    fault: dict[str, Any] | None
    what: str


def fault_schedule(cameras: int) -> list[Fault]:
    """A few faults over the first minutes, spread over the inventory."""
    if cameras < 8:
        return []
    pick = [cameras // 7 * k for k in range(1, 7)]
    return [
        Fault(40, (pick[0],), {"kind": "offline"}, "caméra éteinte (hors service)"),
        Fault(70, (pick[1],), {"kind": "blurred"}, "image floue (dégradée)"),
        Fault(100, (pick[2],), {"kind": "covered"}, "caméra masquée (dégradée)"),
        Fault(130, (pick[3],), {"kind": "clock_drift", "seconds": 600}, "horloge décalée"),
        Fault(160, (pick[4],), {"kind": "hang"}, "caméra qui ne répond plus (hors service)"),
        Fault(220, (pick[0],), None, "la caméra éteinte revient (incident clos après 5 min)"),
        Fault(250, (pick[5],), {"kind": "frozen"}, "image figée (dégradée)"),
    ]


CAUSE_TIMES = {"mast": (25, 270), "branch": (35, 300)}
"""When the demo's mast and branch failures begin and end (seconds): long enough for the
escalation's second level (one minute unacknowledged) to be told."""


def demo_schedule(rows: list[InventoryRow], masts: list[MastPath]) -> list[Fault]:
    """The single-camera faults, then a mast failure and a fibre-branch failure on other
    cameras, each healed a few minutes later; in time order."""
    single = fault_schedule(len(rows))
    taken = {i for fault in single for i in fault.indices}
    schedule = list(single)
    for cause in cause_faults(rows, masts, taken):
        begin, end = CAUSE_TIMES[cause.kind]
        where = ", ".join(cause.masts)
        count = len(cause.indices)
        if cause.kind == "mast":
            what, back = (
                f"mât {where} : ses {count} caméras coupées ensemble",
                f"mât {where} rétabli",
            )
        else:
            what = f"branche de fibre coupée : mâts {where}, {count} caméras"
            back = f"branche de fibre rétablie (mâts {where})"
        schedule.append(Fault(begin, cause.indices, {"kind": "offline"}, what))
        schedule.append(Fault(end, cause.indices, None, back))
    return sorted(schedule, key=lambda fault: fault.after)


def plan_folder(out_dir: Path) -> Path:
    """Where the demo writes the sample's plan: a plans folder the dashboard lists."""
    return out_dir / "plans" / "eure-echantillon"


@dataclass(frozen=True)
class DemoWorld:
    """What ``prepare`` made: the settings, the logins, the cameras and their masts' paths."""

    settings: Any
    passwords: dict[str, str]
    rows: list[InventoryRow]
    masts: list[MastPath]
    register: dict[str, Any]


def prepare(
    out_dir: Path, *, sim_port: int, smtp_port: int | None = None, service_url: str = ""
) -> DemoWorld:
    """The demo database beside the plan: communes, users, cameras with their masts' paths, a
    register, and an on-call rule whose e-mails go to the demo's SMTP server on ``smtp_port``."""
    plan_dir = plan_folder(out_dir)
    data = out_dir / "data"
    data.mkdir(parents=True, exist_ok=True)
    database = data / "vigie-demo.db"
    for stale in data.glob("vigie-demo.db*"):  # every demo starts from a clean database
        stale.unlink()
    mail: dict[str, Any] = {}
    if smtp_port is not None:  # a relay on this machine: plain SMTP, no login
        mail = {
            "notify_smtp_host": "127.0.0.1",
            "notify_smtp_port": smtp_port,
            "notify_smtp_security": "none",
            "notify_smtp_from": "vigie@vigie-demo.fr",
            "notify_base_url": service_url or "http://127.0.0.1:8000",
        }
    settings = load_settings(
        data_dir=data,
        database_url=f"sqlite:///{database}",
        environment="development",
        secret_key=generate_secret_key(),
        credentials_keys=generate_key(),
        plans_dir=plan_dir.parent,
        **DEMO_INTERVALS,
        **mail,
    )
    engine = db.make_engine(settings.db_url)
    db.upgrade(engine, credentials_keys=settings.credentials_keys.get_secret_value())
    passwords = {user.username: "demo-" + secrets.token_urlsafe(9) for user in DEMO_USERS}
    rows = plan_inventory(
        plan_dir, host="127.0.0.1", first_port=sim_port, username=SIM_USER, password=SIM_PASSWORD
    )
    now = utcnow()
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
        import_cameras(session, plan_dir, rows, keys=KeyRing.from_settings(settings), now=now)
        # Each mast's path in the plan: a mast or a fibre branch down is one incident.
        masts = plan_topology(
            plan_masts_path(plan_dir), {(r.mast_id or "", r.commune) for r in rows}
        )
        save_masts(session, masts)
        register = seed_register(session, rows, load_catalogue(), now.date(), now)
        if mail:
            on_call_rule(session, now)
    engine.dispose()
    return DemoWorld(settings, passwords, rows, masts, register)


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
    session: Session,
    told: set[tuple[int, str]],
    *,
    start: datetime,
    now: datetime,
    names: dict[str, str],
    hold: timedelta = timedelta(0),
) -> list[str]:
    """One French line per incident opened or closed since ``start`` and not yet in ``told``
    (updated). A camera incident folded under a cause is said through its cause; a mast's
    camera is said once ``hold`` (the correlation window) has passed without a cause taking it.
    """
    found = select(IncidentRow).where(
        or_(IncidentRow.opened_at > start, IncidentRow.closed_at > start)
    )
    on_mast = set(session.scalars(select(Camera.id).where(Camera.mast_id.is_not(None))))
    events: list[tuple[datetime, str]] = []
    for row in session.scalars(found):
        if row.parent_id is not None:  # its cause says it
            continue
        if (row.id, "opened") not in told and _aware(row.opened_at) > start:
            if row.kind != "camera":
                cameras = session.scalar(
                    select(func.count()).where(IncidentRow.parent_id == row.id)
                )
                text = f"incident ouvert : {row.cause_label} ({cameras} caméras, un seul incident)"
            elif row.camera_id in on_mast and _aware(row.opened_at) > now - hold:
                continue  # a cause may still take it
            else:
                causes = ", ".join(CAUSES_FR.get(c, c) for c in row.seen_causes) or "?"
                text = f"incident ouvert sur {names.get(row.camera_id, row.camera_id)} : {causes}"
            told.add((row.id, "opened"))
            events.append((_aware(row.opened_at), text))
        if row.closed_at is not None and (row.id, "closed") not in told:
            told.add((row.id, "closed"))
            if (row.id, "opened") not in told:
                continue  # opened and closed unseen (a cause superseded at once)
            if row.kind == "camera":
                text = f"incident clos sur {names.get(row.camera_id, row.camera_id)}"
            elif row.close_reason == "superseded":
                text = f"incident regroupé dans une cause plus large : {row.cause_label}"
            else:
                text = f"incident clos : {row.cause_label}"
            events.append((_aware(row.closed_at), text))
    events.sort()
    return [f"t+{(at - start).total_seconds():.0f} s : {text}" for at, text in events]


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive UTC times."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def watch_incidents(
    settings: Any, names: dict[str, str], say: Callable[[str], None], every: float = 2.0
) -> None:
    """Say each incident the supervisor opens or closes, as it happens."""
    engine = db.make_engine(settings.db_url)
    sessions = db.session_factory(engine)
    start = utcnow()
    told: set[tuple[int, str]] = set()
    hold = timedelta(seconds=settings.supervise_correlation_window_s)

    def look() -> list[str]:
        with sessions() as session:
            return incident_lines(session, told, start=start, now=utcnow(), names=names, hold=hold)

    try:
        while True:
            await asyncio.sleep(every)
            for line in await asyncio.to_thread(look):
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
            refused = []
            for index in fault.indices:  # within a second: one fault for correlation
                path = f"/cameras/{index}/faults"
                response = await (
                    client.delete(path)
                    if fault.fault is None
                    else client.put(path, json=fault.fault)
                )
                if response.status_code >= 400:
                    refused.append(f"{index} ({response.text})")
            if refused:
                say(f"le simulateur refuse la panne des caméras {', '.join(refused)}")
                continue
            if len(fault.indices) == 1:
                (index,) = fault.indices
                camera = (names or {}).get(index, f"caméra simulée n° {index}")
                say(f"t+{fault.after:.0f} s : panne simulée sur {camera} : {fault.what}")
            else:
                say(f"t+{fault.after:.0f} s : panne simulée : {fault.what}")


async def _requisition(
    service_url: str, password: str, point: tuple[float, float], start: datetime
) -> httpx.Response | None:
    """The gendarme's login, then the point query; None when the login is refused."""
    async with httpx.AsyncClient(base_url=service_url, timeout=30.0) as client:
        token = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "gendarme", "password": password},
        )
        if token.status_code != 200:
            return None
        latitude, longitude = point
        return await client.post(
            "/api/v1/register/requisitions",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            json={
                "latitude": latitude,
                "longitude": longitude,
                "start": start.isoformat(),
                "end": utcnow().isoformat(),
                "reason": "Démo : réquisition judiciaire fictive (vol de véhicule)",
                "reference": "DEMO-PV-0001",
                "requester": "Brigade de gendarmerie (démo)",
            },
        )


async def ask_requisition(
    service_url: str,
    password: str,
    point: tuple[float, float],
    after: float,
    say: Callable[[str], None],
) -> None:
    """At ``after`` seconds, the gendarmerie asks which cameras saw ``point`` since the demo
    began, through the API, and the answer is said."""
    start = utcnow()
    await asyncio.sleep(after)
    try:
        answer = await _requisition(service_url, password, point, start)
    except httpx.HTTPError as error:
        say(f"réquisition (démo) impossible : {type(error).__name__}")
        return
    if answer is None:
        say("réquisition (démo) impossible : connexion du gendarme refusée")
        return
    if answer.status_code != 200:
        say(f"réquisition (démo) refusée : {answer.status_code} {answer.text[:200]}")
        return
    first, *rest = requisition_lines(answer.json())
    say(f"t+{after:.0f} s : {first}")
    for line in rest:
        say(line)


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
    """The service in this process, the fault schedule beside it, until Ctrl-C (which ends
    the live streams first, as ``vigie serve`` does: ``vigie.cli.server``)."""
    app = create_app(settings)
    server = VigieServer(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,  # uvicorn's own handlers would print; its records go to the log file
            log_level="info",
            access_log=False,
            server_header=False,
            http=LiveHttpProtocol,  # the live hub counts what a slow client has not taken
            timeout_graceful_shutdown=settings.shutdown_grace_s,  # type: ignore[arg-type]
        ),
        on_exit=stop_live(app),
        drained=live_drained(app),
    )
    player = asyncio.create_task(play)
    try:
        await server.serve()
    finally:
        player.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await player


REQUISITION_AFTER_S = 60
"""When the demo's gendarme asks which cameras saw a point (seconds): after the mast failure,
so that the answer shows a camera that stopped filming."""


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
    began = [time.monotonic()]  # reset when the faults start: every "t+" counts from there

    def clock() -> str:
        return f"t+{time.monotonic() - began[0]:.0f} s"

    service_url = f"http://{host}:{port}"
    with DemoMailbox(out_dir / "data" / "courriels", say, clock) as mailbox:
        world = prepare(out_dir, sim_port=sim_port, smtp_port=mailbox.port, service_url=service_url)
        rows = world.rows
        cameras = len(rows)
        plan_dir = plan_folder(out_dir)
        say(f"{number(cameras)} caméras importées des mâts du plan ; démarrage du simulateur…")
        simulator, token = start_simulator(
            cameras, sim_port, out_dir / "data", scenario_for(rows), log_file
        )
        try:
            schedule = demo_schedule(rows, world.masts)
            write_schedule(out_dir / "data" / "demo-faults.json", schedule)
            queried = next(f for f in schedule if f.what.startswith("mât ")).indices[0]
            engine = db.make_engine(world.settings.db_url)
            with db.session_factory(engine)() as session:
                point = point_in_view(session, rows[queried])
            engine.dispose()
            say("")
            say(f"Démo Vigie : {service_url}/   (Ctrl-C arrête tout)")
            for user in DEMO_USERS:
                say(
                    f"  identifiant {user.username:<10} mot de passe "
                    f"{world.passwords[user.username]}   {user.what}"
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
            say(
                f"  courriels d'astreinte : serveur SMTP de la démo (127.0.0.1:{mailbox.port}), "
                f"gardés dans {mailbox.folder} ; le centre ({CENTRE}) est prévenu à chaque "
                f"incident hors service, le cadre d'astreinte ({ON_CALL}) après "
                f"{ESCALATE_AFTER_MIN} min sans prise en charge"
            )
            say(
                f"  registre : {world.register['authorisations']} autorisations préfectorales, "
                f"une qui expire bientôt ({world.register['expiring']}), la caméra "
                f"{world.register['unauthorised']} sans autorisation ; à t+{REQUISITION_AFTER_S} s "
                f"la gendarmerie demande qui voit le point {point[0]:.5f} N, {point[1]:.5f} E"
            )
            say(f"  journal technique (service et simulateur) : {log_file}")
            say("")
            control = f"http://127.0.0.1:{sim_port + cameras}"
            names = {row.id: f"{row.id} ({row.name})" for row in rows}
            by_index = {index: names[row.id] for index, row in enumerate(rows)}
            jobs = _together(
                play_faults(schedule, control, token, say, by_index),
                watch_incidents(world.settings, names, say),
                ask_requisition(
                    service_url, world.passwords["gendarme"], point, REQUISITION_AFTER_S, say
                ),
            )
            began[0] = time.monotonic()
            asyncio.run(serve(world.settings, host, port, jobs))
        finally:
            stop(simulator)
            say("démo arrêtée : service et simulateur")


def write_schedule(path: Path, schedule: list[Fault]) -> None:
    """The demo's faults as JSON (for whoever watches it, and its tests)."""
    path.write_text(
        json.dumps(
            [
                {"after": f.after, "cameras": list(f.indices), "fault": f.fault, "what": f.what}
                for f in schedule
            ],
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
