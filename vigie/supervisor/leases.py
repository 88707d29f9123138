"""Camera leases: several supervisors on one PostgreSQL database share the cameras.

Each supervisor run (a node) holds a lease on a share of the cameras: a ``camera_leases`` row
naming its run, an ``epoch`` and an expiry in the **database's** clock (the nodes' clocks are
never compared). A node plays a :func:`play_round` every few seconds, in one transaction:

1. it renews every lease it holds (and says it is alive: ``supervisor_runs.seen_at``);
2. it counts the nodes alive and its fair share, ``ceil(cameras / nodes)``;
3. above its share it releases the surplus (the lease becomes free at once, its epoch kept);
4. below it, it takes free or expired leases (``FOR UPDATE SKIP LOCKED``: two nodes never take
   the same one), raising their epoch.

A node killed or cut from the database stops renewing: its leases expire after ``ttl`` and the
others take them on their next round. Every result carries the epoch of the lease it was checked
under; :func:`fence` keeps, in the writing transaction and under a share lock on the lease rows,
only those whose epoch is still the lease's, so a node that lost a camera can never write over the
node that took it, whatever it believes. SQLite keeps one supervisor and no leases.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

__all__ = [
    "Round",
    "fence",
    "holders",
    "live_nodes",
    "play_round",
    "release",
    "supports_leases",
]

log = logging.getLogger(__name__)


def supports_leases(session: Session) -> bool:
    """Leases need row locks that skip and a clock every node shares: PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


@dataclass(slots=True)
class Round:
    """What one round left this node with."""

    held: dict[str, int] = field(default_factory=dict)
    """Every camera it holds now, with its lease's epoch."""
    taken: list[str] = field(default_factory=list)
    """Cameras taken in this round (free, released or expired)."""
    released: list[str] = field(default_factory=list)
    """Cameras let go in this round (above its share)."""
    nodes: int = 1
    """Nodes alive, this one included."""
    share: int = 0


def _seconds(ttl: timedelta) -> float:
    return ttl.total_seconds()


def live_nodes(session: Session, ttl: timedelta) -> list[int]:
    """The runs seen within ``ttl`` that did not stop, by id."""
    rows = session.execute(
        text(
            "SELECT id FROM supervisor_runs WHERE stopped_at IS NULL AND seen_at IS NOT NULL "
            "AND seen_at > now() - make_interval(secs => :ttl) ORDER BY id"
        ),
        {"ttl": _seconds(ttl)},
    )
    return [row[0] for row in rows]


def play_round(session: Session, run_id: int, ttl: timedelta, *, take: bool = True) -> Round:
    """Renew, balance and take, in the caller's transaction (see the module docstring).

    ``take=False`` only renews: a node back from a database outage renews first, so that the
    nodes cut with it are not taken for dead before they could renew too.
    """
    secs = _seconds(ttl)
    if take:
        # A new camera gets its free lease row (deleted cameras cascade). Only the cameras
        # without one are inserted, in id order: an insert that met every row would wait on
        # the rows other rounds are renewing, while they wait on its own (a deadlock, seen).
        session.execute(
            text(
                "INSERT INTO camera_leases (camera_id, run_id, epoch, expires_at) "
                "SELECT id, NULL, 0, now() FROM cameras c WHERE NOT EXISTS "
                "(SELECT 1 FROM camera_leases l WHERE l.camera_id = c.id) "
                "ORDER BY id ON CONFLICT (camera_id) DO NOTHING"
            )
        )
    session.execute(
        text("UPDATE supervisor_runs SET seen_at = now() WHERE id = :run"), {"run": run_id}
    )
    # Its own rows locked in id order, the order every other locker of lease rows uses.
    held = dict(
        session.execute(
            text(
                "UPDATE camera_leases SET renewed_at = now(), "
                "expires_at = now() + make_interval(secs => :ttl) "
                "WHERE camera_id IN (SELECT camera_id FROM camera_leases WHERE run_id = :run "
                "ORDER BY camera_id FOR NO KEY UPDATE) AND run_id = :run "
                "RETURNING camera_id, epoch"
            ),
            {"run": run_id, "ttl": secs},
        ).all()
    )
    result = Round(held=held)
    if not take:
        result.share = len(held)
        return result
    cameras = session.execute(text("SELECT count(*) FROM cameras")).scalar_one()
    nodes = max(1, len(set(live_nodes(session, ttl)) | {run_id}))
    share = math.ceil(cameras / nodes) if cameras else 0
    result.nodes, result.share = nodes, share
    if len(held) > share:
        surplus = sorted(held, reverse=True)[: len(held) - share]
        release(session, run_id, surplus)
        for camera_id in surplus:
            del held[camera_id]
        result.released = surplus
    elif len(held) < share:
        rows = session.execute(
            text(
                "UPDATE camera_leases SET run_id = :run, epoch = epoch + 1, renewed_at = now(), "
                "expires_at = now() + make_interval(secs => :ttl) "
                "WHERE camera_id IN ("
                "  SELECT camera_id FROM camera_leases "
                "  WHERE (run_id IS NULL OR expires_at < now()) AND run_id IS DISTINCT FROM :run "
                "  ORDER BY camera_id LIMIT :wanted FOR UPDATE SKIP LOCKED"
                ") RETURNING camera_id, epoch"
            ),
            {"run": run_id, "ttl": secs, "wanted": share - len(held)},
        ).all()
        for camera_id, epoch in rows:
            held[camera_id] = epoch
            result.taken.append(camera_id)
        result.taken.sort()
    return result


def release(session: Session, run_id: int, camera_ids: Iterable[str] | None = None) -> int:
    """Let go of some of this run's leases (all of them: ``None``, the node leaving), at once.

    The lease becomes free with its epoch unchanged: what this node still writes for the camera
    is accepted until another node takes it. A node releasing all is no longer counted alive,
    so the others' shares grow to take its cameras. Returns how many were released.
    """
    if camera_ids is None:
        session.execute(
            text("UPDATE supervisor_runs SET seen_at = NULL WHERE id = :run"), {"run": run_id}
        )
        statement = text(
            "UPDATE camera_leases SET run_id = NULL, expires_at = now() WHERE run_id = :run"
        )
        return session.execute(statement, {"run": run_id}).rowcount or 0
    ids = list(camera_ids)
    if not ids:
        return 0
    statement = text(
        "UPDATE camera_leases SET run_id = NULL, expires_at = now() "
        "WHERE run_id = :run AND camera_id = ANY(:ids)"
    )
    return session.execute(statement, {"run": run_id, "ids": ids}).rowcount or 0


def fence(session: Session, camera_ids: Iterable[str]) -> dict[str, int]:
    """The current epoch of each camera's lease, the lease rows key-share-locked.

    Called in the transaction that writes results: an item is stored only if it was checked
    under that epoch. A node taking one of these cameras locks it ``FOR UPDATE``, which a key
    share lock holds off (the taker skips it this round), so a result is never stored under a
    lease already taken; the holder's own renewals (``FOR NO KEY UPDATE``) do not wait for it.
    """
    ids = sorted(set(camera_ids))
    if not ids:
        return {}
    rows = session.execute(
        text(
            "SELECT camera_id, epoch FROM camera_leases WHERE camera_id = ANY(:ids) "
            "ORDER BY camera_id FOR KEY SHARE"
        ),
        {"ids": ids},
    )
    return dict(rows.all())


def holders(session: Session) -> dict[str, int | None]:
    """Every lease's holder run (``None``: free), for the tests and ``vigie doctor``."""
    rows = session.execute(text("SELECT camera_id, run_id FROM camera_leases ORDER BY camera_id"))
    return dict(rows.all())
