"""``/api/v1/supervision/nodes``: the supervisor nodes, alive or not, and the cameras each holds.

With several ``vigie serve`` nodes on PostgreSQL (README: Several nodes) the centre's staff and
its monitoring want to see that every node is there and that the cameras are shared out: a node
missing, or holding none, is the first thing to look at after an update. Read from
``supervisor_runs`` and ``camera_leases``; nothing of a camera but counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from vigie.auth.guards import require_roles
from vigie.auth.principal import Principal
from vigie.auth.roles import Role
from vigie.clock import as_utc, utcnow
from vigie.deps import SessionDep, SettingsDep
from vigie.models import Camera, CameraLease, SupervisorRun

router = APIRouter(prefix="/api/v1/supervision", tags=["supervision"])

Reader = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.OPERATOR, Role.MONITORING))]

RECENT = 50
"""Runs listed: the latest ones, alive or not."""


class Node(BaseModel):
    run: int = Field(description="The run's id (one per start of a supervisor).")
    node: str = Field(description="Host and process id.")
    started_at: datetime
    last_seen_at: datetime = Field(description="Its last lease round, or heartbeat.")
    stopped_at: datetime | None
    alive: bool = Field(description="Seen within a lease's life (or two liveness intervals).")
    cameras: int = Field(description="Cameras it holds a lease on (all of them on SQLite).")


class Nodes(BaseModel):
    cameras: int = Field(description="Cameras of the inventory.")
    unheld: int = Field(
        description="Cameras no alive node holds (PostgreSQL; taken at the next round)."
    )
    nodes: list[Node]


@router.get("/nodes", response_model=Nodes)
def list_nodes(_principal: Reader, session: SessionDep, settings: SettingsDep) -> Nodes:
    """The latest supervisor runs, newest first, with the cameras each holds."""
    now = utcnow()
    window = timedelta(
        seconds=max(settings.supervise_lease_ttl_s, 2 * settings.supervise_liveness_interval_s)
    )
    held = dict(
        session.execute(
            select(CameraLease.run_id, func.count())
            .where(CameraLease.run_id.is_not(None))
            .group_by(CameraLease.run_id)
        ).all()
    )
    cameras = session.scalar(select(func.count()).select_from(Camera)) or 0
    leased = session.get_bind().dialect.name == "postgresql"
    nodes = []
    for run in session.scalars(
        select(SupervisorRun).order_by(SupervisorRun.id.desc()).limit(RECENT)
    ):
        seen = as_utc(run.seen_at or run.last_beat_at)
        alive = run.stopped_at is None and now - seen <= window
        count = held.get(run.id, 0) if leased else (cameras if alive else 0)
        nodes.append(
            Node(
                run=run.id,
                node=run.node,
                started_at=as_utc(run.started_at),
                last_seen_at=seen,
                stopped_at=as_utc(run.stopped_at) if run.stopped_at else None,
                alive=alive,
                cameras=count,
            )
        )
    alive_runs = {n.run for n in nodes if n.alive}
    covered = sum(count for run, count in held.items() if run in alive_runs)
    unheld = cameras - covered if leased else (0 if alive_runs else cameras)
    return Nodes(cameras=cameras, unheld=max(0, unheld), nodes=nodes)
