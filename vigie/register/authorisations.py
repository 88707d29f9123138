"""Prefectoral authorisations and the cameras they cover.

A camera films under at most one authorisation at a time: the link in force is the one without
``detached_at``. Attaching a camera to another authorisation closes its current link, so the
history says under which arrêté a camera filmed on any day (what a requisition needs).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from vigie.clock import as_utc
from vigie.models import Authorisation, CameraAuthorisation

TERM_YEARS = 5
"""An authorisation's term (CSI L252-4, as rewritten in 2023: check the current text)."""


def add_years(day: date, years: int) -> date:
    """``day`` plus whole years; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def default_end(granted_on: date) -> date:
    """The last day in force of an authorisation granted on ``granted_on`` for five years."""
    return add_years(granted_on, TERM_YEARS)


def in_force(authorisation: Authorisation, day: date) -> bool:
    return authorisation.granted_on <= day <= authorisation.ends_on


def current(
    session: Session, camera_ids: Iterable[str]
) -> dict[str, tuple[CameraAuthorisation, Authorisation]]:
    """Each camera's link in force and its authorisation (cameras without one are absent)."""
    ids = sorted(set(camera_ids))
    found: dict[str, tuple[CameraAuthorisation, Authorisation]] = {}
    for index in range(0, len(ids), 500):
        rows = session.execute(
            select(CameraAuthorisation, Authorisation)
            .join(Authorisation, Authorisation.id == CameraAuthorisation.authorisation_id)
            .where(
                CameraAuthorisation.camera_id.in_(ids[index : index + 500]),
                CameraAuthorisation.detached_at.is_(None),
            )
        )
        for link, authorisation in rows:
            found[link.camera_id] = (link, authorisation)
    return found


def during(
    session: Session, camera_ids: Iterable[str], start: datetime, end: datetime
) -> dict[str, list[tuple[CameraAuthorisation, Authorisation]]]:
    """The links of each camera that overlap ``[start, end)``, oldest first."""
    ids = sorted(set(camera_ids))
    found: dict[str, list[tuple[CameraAuthorisation, Authorisation]]] = {}
    for index in range(0, len(ids), 500):
        rows = session.execute(
            select(CameraAuthorisation, Authorisation)
            .join(Authorisation, Authorisation.id == CameraAuthorisation.authorisation_id)
            .where(
                CameraAuthorisation.camera_id.in_(ids[index : index + 500]),
                CameraAuthorisation.attached_at < end,
                or_(
                    CameraAuthorisation.detached_at.is_(None),
                    CameraAuthorisation.detached_at > start,
                ),
            )
            .order_by(CameraAuthorisation.attached_at, CameraAuthorisation.id)
        )
        for link, authorisation in rows:
            found.setdefault(link.camera_id, []).append((link, authorisation))
    return found


def attach(
    session: Session, camera_id: str, authorisation: Authorisation, *, actor: str, now: datetime
) -> int | None:
    """Put ``camera_id`` under ``authorisation`` from ``now`` (when the camera started filming
    under it, which may be earlier than today). Returns the id of the authorisation it leaves
    (its link closed at ``now``), or None; attaching it again where it already is changes
    nothing (``authorisation.id`` is returned). Raises ValueError when ``now`` comes before the
    start of the link in force: history is only ever appended."""
    link = session.scalar(
        select(CameraAuthorisation)
        .where(
            CameraAuthorisation.camera_id == camera_id,
            CameraAuthorisation.detached_at.is_(None),
        )
        .with_for_update()
    )
    if link is not None and link.authorisation_id == authorisation.id:
        return authorisation.id
    left = None
    if link is not None:
        if as_utc(link.attached_at) > now:
            raise ValueError(
                f"camera {camera_id} is under authorisation {link.authorisation_id} since "
                f"{as_utc(link.attached_at).isoformat()}: give a later date"
            )
        link.detached_at, link.detached_by = now, actor
        left = link.authorisation_id
    session.add(
        CameraAuthorisation(
            camera_id=camera_id,
            authorisation_id=authorisation.id,
            attached_at=now,
            attached_by=actor,
        )
    )
    session.flush()
    return left


def detach(
    session: Session, camera_id: str, authorisation_id: int, *, actor: str, now: datetime
) -> bool:
    """End the camera's link to ``authorisation_id`` if it is the one in force."""
    link = session.scalar(
        select(CameraAuthorisation)
        .where(
            CameraAuthorisation.camera_id == camera_id,
            CameraAuthorisation.authorisation_id == authorisation_id,
            CameraAuthorisation.detached_at.is_(None),
        )
        .with_for_update()
    )
    if link is None:
        return False
    link.detached_at, link.detached_by = now, actor
    return True
