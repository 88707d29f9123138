"""A database for the dashboard: the Eure referential, one camera per mast of the sample plan
(imported through the inventory importer), states and incidents written by the real store."""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import pyogrio
from sqlalchemy import select
from sqlalchemy.engine import Engine

from gis_data import data_path
from supervision.conditions import State
from supervision.states import Policy
from tests.helpers.dashboard_pictures import blurred_picture
from tests.helpers.service import password_hash
from tests.helpers.supervision_data import down, full, ok
from vigie import db
from vigie.auth.roles import Role
from vigie.clock import utcnow
from vigie.inventory.cameras import import_cameras, read_inventory
from vigie.inventory.communes import load_referential, read_referential
from vigie.models import CameraStatus, MaintenanceWindowRow, User
from vigie.supervisor.store import apply_result

STATE_CYCLE = (State.UP, State.DEGRADED, State.DOWN, State.MAINTENANCE, State.UNKNOWN)
POLICY = Policy()
EXTRA = (
    ("cam-bernay-1", "27056", 49.0890, 0.5980),
    ("cam-bernay-2", "27056", 49.0905, 0.6010),
    ("cam-vernon-1", "27681", 49.0930, 1.4850),
)
INTEROP = (("authentication", "ws-security"), ("clock", "open"), ("media", "media2"))
"""How an up camera was talked to (``CheckResult.interop``): every call supported."""


@dataclass(frozen=True)
class Seeded:
    cameras: dict[str, str]  # camera id -> expected state
    communes: dict[str, str]  # camera id -> INSEE code
    scoped_commune: str  # the commune of the `mairie` user


def plan_cameras(plan_dir: Path, inventory: Path) -> dict[str, str]:
    """Write an inventory CSV with one camera per mast of the plan; returns id -> commune."""
    masts = pyogrio.read_dataframe(plan_dir / "plan.gpkg", layer="masts").to_crs(4326)
    rows = {}
    with inventory.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "name", "commune", "latitude", "longitude", "host", "port"])
        for mast in masts.itertuples():
            camera_id = f"cam-{mast.mast_id}"
            rows[camera_id] = str(mast.commune)
            writer.writerow(
                [
                    camera_id,
                    f"Mât {mast.mast_id}",
                    mast.commune,
                    mast.geometry.y,
                    mast.geometry.x,
                    "127.0.0.1",
                    8000,
                ]
            )
    # A few cameras outside the sample's area, in two other intercommunalities (Bernay, Vernon):
    # the inventory is the département's, the boundaries layer may cover less.
    with inventory.open("a", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        for camera_id, commune, lat, lon in EXTRA:
            rows[camera_id] = commune
            writer.writerow(
                [camera_id, f"Caméra {camera_id}", commune, lat, lon, "127.0.0.1", 8000]
            )
    return rows


def _put_in_state(session, camera_id: str, state: State, start: datetime) -> None:
    step = timedelta(seconds=30)
    if state is State.UP:
        results = [replace(full(camera_id, start), interop=INTEROP)]
    elif state is State.DEGRADED:
        picture = blurred_picture()  # a real verdict: what was seen, for the camera page
        results = [
            replace(full(camera_id, start + i * step, "blurred"), picture=picture) for i in range(3)
        ]
    elif state is State.DOWN:
        results = [ok(camera_id, start)] + [down(camera_id, start + i * step) for i in range(1, 6)]
    elif state is State.MAINTENANCE:
        session.add(
            MaintenanceWindowRow(
                camera_id=camera_id,
                start=start - timedelta(minutes=1),
                end=utcnow() + timedelta(days=1),
                reason="remplacement du mât",
                created_by="operator",
                created_at=start,
            )
        )
        session.flush()
        results = [down(camera_id, start + i * step) for i in range(5)]
    else:
        results = []
    for result in results:
        apply_result(session, camera_id, result, POLICY, result.time)


def seed_dashboard(engine: Engine, plan_dir: Path, work: Path, users: dict) -> Seeded:
    """Referential, users (username -> (role, communes)), cameras and their states."""
    db.upgrade(engine)
    communes = plan_cameras(plan_dir, work / "inventory.csv")
    rows = read_inventory(work / "inventory.csv")
    start = utcnow() - timedelta(days=3)
    expected = {}
    with db.session_scope(db.session_factory(engine)) as session:
        load_referential(session, read_referential(data_path("sources", "communes-27-admin.json")))
        import_cameras(session, work / "inventory.csv", rows, keys=None, now=utcnow())
        for username, (role, scope) in users.items():
            session.add(
                User(
                    username=username,
                    role=Role(role).value,
                    password_hash=password_hash(),
                    scope_communes=scope,
                    scope_epcis=[],
                    created_at=utcnow(),
                )
            )
        for index, camera_id in enumerate(sorted(communes)):
            state = STATE_CYCLE[index % len(STATE_CYCLE)]
            _put_in_state(session, camera_id, state, start + timedelta(minutes=index))
            expected[camera_id] = state.value
    with db.session_scope(db.session_factory(engine)) as session:
        stored = dict(session.execute(select(CameraStatus.camera_id, CameraStatus.state)).all())
    for camera_id, state in expected.items():
        assert stored.get(camera_id, "unknown") == state, f"{camera_id}: seeding failed"
    return Seeded(cameras=expected, communes=communes, scoped_commune="")


def copy_plan(plan_dir: Path, plans: Path, name: str = "eure-2026") -> Path:
    target = plans / name
    shutil.copytree(plan_dir, target)
    return target
