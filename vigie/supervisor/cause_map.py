"""Where an incident is, as GeoJSON for the dashboard's map (``GET /api/v1/incidents/{id}/map``).

A cause incident shows its cameras, its masts' primary cables, the closures and FttH nodes on
their paths, and the **suspected section**: for a branch, the cable between the deepest element
the masts share (the cause's scope) and the next one up; for a mast, its cable from the mast to
its first element. Positions come from the plan (``vigie.inventory.topology``); a mast or element
without one is left out, never guessed. Cuts are measured in Lambert-93, output is WGS84.
"""

from __future__ import annotations

from typing import Any

from pyproj import Transformer
from shapely.geometry import LineString, Point
from shapely.ops import substring
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie.models import Camera, CameraStatus, IncidentRow, Mast

__all__ = ["incident_map"]

_TO_L93 = Transformer.from_crs(4326, 2154, always_xy=True)
_TO_WGS84 = Transformer.from_crs(2154, 4326, always_xy=True)
DIGITS = 6


def _feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _placed(element: dict[str, Any]) -> bool:
    return isinstance(element.get("lon"), int | float) and isinstance(
        element.get("lat"), int | float
    )


def _key(element: dict[str, Any]) -> str:
    return f"{element.get('kind')}:{element.get('id')}"


def _lambert(cable: list[list[float]]) -> LineString:
    return LineString([_TO_L93.transform(lon, lat) for lon, lat in cable])


def _section(cable: list[list[float]], start: Point | None, end: Point) -> list[list[float]] | None:
    """The cable between two points (WGS84) projected on it; ``start`` None: the mast end."""
    line = _lambert(cable)
    at = [0.0 if start is None else line.project(Point(_TO_L93.transform(start.x, start.y)))]
    at.append(line.project(Point(_TO_L93.transform(end.x, end.y))))
    piece = substring(line, min(at), max(at))
    if not isinstance(piece, LineString) or piece.length <= 0:
        return None
    return [[round(c, DIGITS) for c in _TO_WGS84.transform(x, y)] for x, y, *_ in piece.coords]


def _suspect(incident: IncidentRow, masts: list[Mast]) -> dict[str, Any] | None:
    """The suspected section on one affected mast's cable, if the plan placed both ends."""
    for mast in masts:
        if not mast.cable or len(mast.cable) < 2:
            continue
        path = list(mast.path or [])
        if incident.kind == "mast":
            if not path or not _placed(path[0]):
                continue
            ends: tuple[dict[str, Any] | None, dict[str, Any]] = (None, path[0])
        else:
            keys = [_key(e) for e in path]
            if incident.scope not in keys:
                continue
            index = keys.index(incident.scope)
            if index + 1 >= len(path) or not (_placed(path[index]) and _placed(path[index + 1])):
                continue
            ends = (path[index], path[index + 1])
        start = None if ends[0] is None else Point(ends[0]["lon"], ends[0]["lat"])
        coords = _section(mast.cable, start, Point(ends[1]["lon"], ends[1]["lat"]))
        if coords is None:
            continue
        return _feature(
            {"type": "LineString", "coordinates": coords},
            role="suspect",
            mast_id=mast.id,
            start=ends[0]["label"] if ends[0] else f"mât {mast.id}",
            end=ends[1]["label"],
        )
    return None


def incident_map(session: Session, incident: IncidentRow, cameras: list[str]) -> dict[str, Any]:
    """The FeatureCollection of ``incident`` restricted to ``cameras`` (the caller's scope)."""
    rows = session.execute(
        select(
            Camera.id,
            Camera.name,
            Camera.latitude,
            Camera.longitude,
            Camera.mast_id,
            CameraStatus.state,
        )
        .outerjoin(CameraStatus, CameraStatus.camera_id == Camera.id)
        .where(Camera.id.in_(cameras))
        .order_by(Camera.id)
    ).all()
    features = [
        _feature(
            {"type": "Point", "coordinates": [round(lon, DIGITS), round(lat, DIGITS)]},
            role="camera",
            camera_id=camera_id,
            name=name,
            state=state or "unknown",
        )
        for camera_id, name, lat, lon, _mast, state in rows
        if lat is not None and lon is not None
    ]
    if incident.kind == "camera":
        return {"type": "FeatureCollection", "features": features}
    mast_ids = sorted({mast for *_, mast, _state in rows if mast is not None})
    if incident.kind == "mast":
        mast_ids = [m for m in mast_ids if m == incident.scope]
    masts = list(session.scalars(select(Mast).where(Mast.id.in_(mast_ids)).order_by(Mast.id)))
    if incident.kind == "branch":
        masts = [m for m in masts if incident.scope in {_key(e) for e in m.path or []}]
    seen: set[str] = set()
    for mast in masts:
        if mast.cable and len(mast.cable) >= 2:
            features.append(
                _feature(
                    {"type": "LineString", "coordinates": mast.cable}, role="cable", mast_id=mast.id
                )
            )
        for element in mast.path or []:
            if not _placed(element) or _key(element) in seen:
                continue
            seen.add(_key(element))
            features.append(
                _feature(
                    {"type": "Point", "coordinates": [element["lon"], element["lat"]]},
                    role="splice" if element.get("kind") == "splice" else "node",
                    kind=element.get("kind"),
                    id=element.get("id"),
                    label=element.get("label"),
                )
            )
    suspect = _suspect(incident, masts)
    if suspect is not None:
        features.append(suspect)
    return {"type": "FeatureCollection", "features": features}
