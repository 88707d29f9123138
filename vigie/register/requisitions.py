"""Which cameras saw a place over a period: the question of a judicial requisition.

A camera saw the point if the point lies in its field of view (:mod:`.fov`). For each such
camera the answer gives the authorisation(s) it filmed under, its states over the period from
the state history (the same history availability is computed from), and whether its recordings
should still exist: an authorisation's retention (at most 30 days except for proceedings)
counted from the images' time. Vigie does not hold the recordings; it says where to look.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from supervision.availability import StateSpan, camera_availability
from vigie.models import Authorisation, Camera, FieldOfView
from vigie.register.authorisations import during
from vigie.register.fov import GEOD
from vigie.register.fov import FieldOfView as Sector
from vigie.supervisor.store import state_spans

MAX_RANGE_M = 500.0
METRES_PER_DEGREE = 111_000.0

STATE_LABELS = {
    "up": "en service",
    "degraded": "dégradée",
    "down": "hors service",
    "maintenance": "en maintenance",
    "unknown": "inconnu",
}
RETENTION_LABELS = {
    "retained": "images normalement encore conservées",
    "partial": "images conservées en partie seulement (les plus anciennes sont effacées)",
    "expired": "images normalement effacées : durée de conservation dépassée",
    "unknown": "durée de conservation inconnue : aucune autorisation sur la période",
}


@dataclass(frozen=True, kw_only=True)
class Seen:
    """One camera whose field of view holds the point, and what it was doing."""

    camera: Camera
    fov: FieldOfView
    intervals: list[dict[str, Any]]
    availability: dict[str, Any]
    authorisations: list[dict[str, Any]] = field(default_factory=list)
    retention: dict[str, Any] = field(default_factory=dict)


def near(statement: Select, latitude: float, longitude: float) -> Select:
    """``statement`` (over Camera) limited to cameras close enough to see the point: a box of
    the longest range around it, so that only a few sectors are drawn."""
    margin = 1.1 * MAX_RANGE_M / METRES_PER_DEGREE
    wide = margin / max(math.cos(math.radians(latitude)), 0.01)
    return statement.where(
        Camera.latitude.between(latitude - margin, latitude + margin),
        Camera.longitude.between(longitude - wide, longitude + wide),
    )


def unplaced(session: Session, cameras: Select, latitude: float, longitude: float) -> list[Camera]:
    """Cameras of ``cameras`` (a scoped select of Camera) within the longest range of the point
    whose field of view is not recorded: they may have seen it, the register cannot say."""
    statement = near(
        cameras.outerjoin(FieldOfView, FieldOfView.camera_id == Camera.id).where(
            FieldOfView.camera_id.is_(None)
        ),
        latitude,
        longitude,
    ).order_by(Camera.id)
    found = []
    for camera in session.scalars(statement):
        _, _, metres = GEOD.inv(camera.longitude, camera.latitude, longitude, latitude)
        if metres <= MAX_RANGE_M:
            found.append(camera)
    return found


def intervals(spans: list[StateSpan], start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The camera's states over ``[start, end)``, gaps filled as ``unknown``."""
    out: list[dict[str, Any]] = []
    cursor = start
    for span in sorted(spans, key=lambda s: s.start):
        lo, hi = max(span.start, start), min(span.end or end, end)
        if hi <= lo:
            continue
        if lo > cursor:
            out.append(_interval("unknown", cursor, lo))
        out.append(_interval(str(span.state), lo, hi))
        cursor = hi
    if cursor < end:
        out.append(_interval("unknown", cursor, end))
    return out


def _interval(state: str, start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "state": state,
        "label": STATE_LABELS.get(state, state),
        "start": start,
        "end": end,
        "seconds": (end - start).total_seconds(),
    }


def retention(
    authorisations: list[Authorisation], start: datetime, end: datetime, now: datetime
) -> dict[str, Any]:
    """Whether images of ``[start, end)`` should still exist at ``now``, by the shortest
    retention of the authorisations the camera filmed under then."""
    if not authorisations:
        return {"code": "unknown", "label": RETENTION_LABELS["unknown"], "retention_days": None}
    days = min(a.retention_days for a in authorisations)
    keep = timedelta(days=days)
    if start + keep > now:
        code = "retained"
    elif end + keep > now:
        code = "partial"
    else:
        code = "expired"
    return {
        "code": code,
        "label": RETENTION_LABELS[code],
        "retention_days": days,
        "erased_before": now - keep,
    }


def search(
    session: Session,
    cameras: Select,
    *,
    latitude: float,
    longitude: float,
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[Seen]:
    """The cameras of ``cameras`` (a scoped select of (Camera, FieldOfView)) whose field of
    view holds the point, by id, each with its states and authorisations over the period."""
    candidates = session.execute(near(cameras, latitude, longitude).order_by(Camera.id)).all()
    hits = [
        (camera, fov)
        for camera, fov in candidates
        if Sector(
            latitude=camera.latitude,
            longitude=camera.longitude,
            direction=fov.direction,
            angle=fov.angle,
            range_m=fov.range_m,
        ).sees(latitude, longitude)
    ]
    ids = [camera.id for camera, _ in hits]
    if not ids:
        return []
    spans = state_spans(session, ids, end=end)
    per_camera: dict[str, list[StateSpan]] = {camera_id: [] for camera_id in ids}
    for span in spans:
        per_camera[span.camera_id].append(span)
    figures = camera_availability(spans, start=start, end=end, cameras=ids)
    links = during(session, ids, start, end)
    found = []
    for camera, fov in hits:
        covered = links.get(camera.id, [])
        found.append(
            Seen(
                camera=camera,
                fov=fov,
                intervals=intervals(per_camera[camera.id], start, end),
                availability=figures[camera.id].to_dict(),
                authorisations=[
                    {
                        "id": authorisation.id,
                        "number": authorisation.number,
                        "granted_on": authorisation.granted_on,
                        "ends_on": authorisation.ends_on,
                        "retention_days": authorisation.retention_days,
                        "in_force": authorisation.granted_on <= end.date()
                        and authorisation.ends_on >= start.date(),
                    }
                    for _, authorisation in covered
                ],
                retention=retention([a for _, a in covered], start, end, now),
            )
        )
    return found
