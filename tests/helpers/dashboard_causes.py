"""Cause incidents for the dashboard tests, on the seeded service's database: the sample plan's
topology saved (``plan_topology``: real positions and cables), a fibre branch behind a closure
shared by masts whose cameras are up, and a mast with a second camera, each with its cameras'
incidents folded under it, and one SMS sent for the branch. Written through the models (the
seeded cameras went down minutes apart, too far for the correlation window), and removed again
by :func:`remove_causes` so the other dashboard tests see the seed as it was."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pyogrio
from sqlalchemy import delete, update
from sqlalchemy.engine import Engine

from tests.helpers.dashboard_seed import Seeded
from vigie import db
from vigie.clock import utcnow
from vigie.inventory.topology import plan_topology, save_masts
from vigie.models import Camera, IncidentRow, Mast, Notification

SMS = {"channel": "sms", "recipient": "+33612345678", "name": "Opérateur d'astreinte"}


@dataclass
class Causes:
    branch_id: int
    branch_label: str
    branch_cameras: list[str]
    branch_masts: list[str]
    mast_id: int
    mast: str
    mast_cameras: list[str]
    incidents: list[int] = field(default_factory=list)
    extra_camera: str = ""


def _incident(camera_id: str, key: str, now, **fields) -> IncidentRow:
    return IncidentRow(
        key=key,
        camera_id=camera_id,
        opened_at=now,
        updated_at=now,
        state="down",
        causes=["unreachable"],
        seen_causes=["unreachable"],
        **fields,
    )


def seed_causes(engine: Engine, plan_dir: Path, seeded: Seeded) -> Causes:
    gpkg = plan_dir / "plan.gpkg"
    masts = pyogrio.read_dataframe(gpkg, layer="masts", read_geometry=False)
    paths = {
        m.id: m for m in plan_topology(gpkg, zip(masts["mast_id"], masts["commune"], strict=True))
    }
    up = {c for c, state in seeded.cameras.items() if state == "up"}
    behind: dict[str, list[str]] = defaultdict(list)
    for mast in paths.values():
        if f"cam-{mast.id}" in up:
            for element in mast.path[:-1]:  # a closure with an element further up
                if element["kind"] == "splice":
                    behind[element["id"]].append(mast.id)
    splice = min(s for s, held in behind.items() if len(held) >= 2)
    branch_masts = sorted(behind[splice])
    path = paths[branch_masts[0]].path
    index = [e["id"] for e in path].index(splice)
    label = f"coupure probable entre le {path[index]['label']} et le {path[index + 1]['label']}"
    lone = min(m for m in paths if f"cam-{m}" in up and m not in branch_masts and paths[m].path)
    now = utcnow() - timedelta(minutes=5)
    with db.session_scope(db.session_factory(engine)) as session:
        save_masts(session, paths.values())
        first = session.get(Camera, f"cam-{lone}")
        assert first is not None
        extra = f"cam-{lone}-b"
        session.add(
            Camera(
                id=extra,
                name=f"Mât {lone} (2)",
                commune_code=first.commune_code,
                latitude=first.latitude,
                longitude=first.longitude,
                host="127.0.0.1",
                port=8000,
                created_at=now,
                updated_at=now,
            )
        )
        session.flush()
        for mast in [*branch_masts, lone]:
            session.execute(update(Camera).where(Camera.id == f"cam-{mast}").values(mast_id=mast))
        session.execute(update(Camera).where(Camera.id == extra).values(mast_id=lone))
        branch_cameras = [f"cam-{m}" for m in branch_masts]
        branch = _incident(
            branch_cameras[0],
            f"branch:splice:{splice}/test",
            now,
            severity="critical",
            kind="branch",
            cause_label=label,
            scope=f"splice:{splice}",
        )
        mast_cameras = [f"cam-{lone}", extra]
        mast = _incident(
            mast_cameras[0],
            f"mast:{lone}/test",
            now,
            severity="critical",
            kind="mast",
            cause_label=f"panne probable du mât {lone} (alimentation, switch ou fibre d'accès)",
            scope=lone,
        )
        session.add_all([branch, mast])
        session.flush()
        children = [
            _incident(c, f"{c}/test", now, severity="major", parent_id=parent.id)
            for parent, held in ((branch, branch_cameras), (mast, mast_cameras))
            for c in held
        ]
        session.add_all(children)
        session.add(
            Notification(
                incident_id=branch.id,
                level=1,
                round=0,
                text="Vigie : coupure probable",
                created_at=now,
                next_attempt_at=now,
                sent_at=now + timedelta(seconds=3),
                attempts=1,
                **SMS,
            )
        )
        session.flush()
        return Causes(
            branch_id=branch.id,
            branch_label=label,
            branch_cameras=branch_cameras,
            branch_masts=branch_masts,
            mast_id=mast.id,
            mast=lone,
            mast_cameras=mast_cameras,
            incidents=[branch.id, mast.id, *(c.id for c in children)],
            extra_camera=extra,
        )


def remove_causes(engine: Engine, causes: Causes) -> None:
    with db.session_scope(db.session_factory(engine)) as session:
        session.execute(delete(Notification).where(Notification.incident_id.in_(causes.incidents)))
        session.execute(delete(IncidentRow).where(IncidentRow.id.in_(causes.incidents)))
        session.execute(delete(Camera).where(Camera.id == causes.extra_camera))
        session.execute(update(Camera).values(mast_id=None))
        session.execute(delete(Mast))
