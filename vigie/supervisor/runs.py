"""The supervisor's runs: what tells, at a start, since when nobody watched the cameras.

Each start adds a ``supervisor_runs`` row; the running supervisor beats (``last_beat_at``) and a
graceful stop sets ``stopped_at``. At the next start, every camera becomes UNKNOWN from the end
of the previous watch (the stop, or the last heartbeat after a crash), never before its last
check and never later than ``bound`` after it (when a check is that late, nobody was watching),
so availability and incidents count no UP or DOWN time that nobody observed. The first checks
after the restart write the real state. README: How `vigie serve` supervises.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from supervision.states import CameraState, Event, Policy
from vigie.clock import as_utc
from vigie.models import SupervisorRun
from vigie.supervisor import leases
from vigie.supervisor.store import apply_lapses

__all__ = ["beat", "begin_run", "end_run", "unwatched_from"]

log = logging.getLogger(__name__)


def unwatched_from(
    last_check: datetime | None,
    watched_until: datetime | None,
    bound: timedelta,
    now: datetime,
) -> datetime | None:
    """Since when a camera last checked at ``last_check`` went unwatched, or None.

    ``watched_until`` is when the previous run stopped or last beat (``None``: no run recorded,
    e.g. the first start after the upgrade). Without it, only a camera not checked for longer
    than ``bound`` counts as unwatched, from ``last_check + bound``.
    """
    if last_check is None:
        return None
    latest = last_check + bound
    if watched_until is not None:
        latest = min(max(as_utc(watched_until), last_check), latest)
    return latest if latest < now else None


def begin_run(
    session: Session,
    now: datetime,
    *,
    bound: timedelta,
    policy: Policy,
    policies: Mapping[str, Policy] | None = None,
    node: str = "",
    ttl: timedelta | None = None,
) -> tuple[int, list[Event]]:
    """Record the unwatched time since the previous run, then this run; in the caller's
    transaction. Returns the new run's id and the events written.

    With leases (``ttl``, PostgreSQL), the unwatched time is recorded only when no other node
    is alive: while one is, the cameras were watched, and the ones this node takes over from a
    dead node are judged as it takes them (:func:`vigie.supervisor.leases.play_round`).
    """
    run = SupervisorRun(started_at=now, last_beat_at=now, node=node[:255])
    if ttl is not None and leases.live_nodes(session, ttl):
        session.add(run)
        session.flush()
        return run.id, []
    previous = session.scalars(select(SupervisorRun).order_by(SupervisorRun.id.desc())).first()
    watched_until = None
    if previous is not None:
        watched_until = max(
            as_utc(r.stopped_at or r.last_beat_at) for r in session.scalars(select(SupervisorRun))
        )
        if previous.stopped_at is None:
            log.warning(
                "supervisor: the previous run (started %s) did not stop cleanly; "
                "its last heartbeat was at %s",
                as_utc(previous.started_at).isoformat(),
                as_utc(previous.last_beat_at).isoformat(),
            )

    def since(state: CameraState) -> datetime | None:
        return unwatched_from(state.last_check_at, watched_until, bound, now)

    events = apply_lapses(session, since, policy, now, policies=policies)
    if events:
        log.info("supervisor: unwatched time recorded as unknown for %d event(s)", len(events))
    session.add(run)
    session.flush()
    return run.id, events


def beat(session: Session, run_id: int, now: datetime) -> None:
    """The supervisor is still watching at ``now`` (bounds a crash)."""
    session.execute(
        update(SupervisorRun).where(SupervisorRun.id == run_id).values(last_beat_at=now)
    )


def end_run(session: Session, run_id: int, now: datetime) -> None:
    """A graceful stop at ``now``: the next run knows nobody watched from then."""
    session.execute(
        update(SupervisorRun)
        .where(SupervisorRun.id == run_id)
        .values(last_beat_at=now, stopped_at=now)
    )
