"""Masts' places in the planned network, read from a plan, for correlation.

``vigie plan`` writes each mast's primary cable (``cables``), where primary cables branch
(``splices`` of kind ``branch``) and the FttH node each mast joins (``connections``). A mast's
path is the branch closures its primary cable passes through, from the mast, then the FttH node:
``[{"kind": "splice", "id": "S12", "label": "manchon S12"}, {"kind": "PM", "id": "PM-27056-03",
"label": "PM 27056-03"}, {"kind": "NRO", "id": "NRO-27229-01", ...}]``: the node is followed by
the operator's nodes above it up to the NRO (the plan's ``chain``; no position). Closures have
no id in the plan: ``S<fid>``, their row in ``plan.gpkg``'s ``splices`` layer (what QGIS
shows). A GeoPackage without those layers (the
planning input) gives masts without a path: they still group their cameras.

For the dashboard's map each element also carries its place (``lon``, ``lat``, WGS84: the
closure, the FttH node at the end of the mast's ``connections`` line), and each mast keeps its
primary cable in WGS84, mast end first, simplified to ``CABLE_TOLERANCE_M``: what
``GET /api/v1/incidents/{id}/map`` draws.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyogrio
from pyproj import Transformer
from shapely.geometry import LineString, Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie.models import Mast

__all__ = ["MastPath", "node_label", "plan_topology", "save_masts"]

NODE_KINDS = ("NRO", "SRO", "PM", "PBO")
"""FttH node kinds an id's prefix names (GraceTHD, the sample: ``NRO-27306-01``)."""
ON_CABLE_M = 1.0
"""A closure this close to a cable (metres, Lambert-93) is on it."""
CABLE_TOLERANCE_M = 2.0
"""A cable drawn on the map strays at most this far (metres) from the plan's."""
DIGITS = 6
"""Decimal places of a WGS84 degree kept: about 10 cm."""
_TO_WGS84 = Transformer.from_crs(2154, 4326, always_xy=True)


@dataclass(frozen=True)
class MastPath:
    id: str
    commune: str | None
    path: list[dict[str, Any]] = field(default_factory=list)
    cable: list[list[float]] | None = None
    """The primary cable, ``[lon, lat]`` from the mast; None without a plan."""


def _wgs84(x: float, y: float) -> tuple[float, float]:
    lon, lat = _TO_WGS84.transform(x, y)
    return round(lon, DIGITS), round(lat, DIGITS)


def _placed(element: dict[str, Any], point: Point | None) -> dict[str, Any]:
    """The element with its ``lon``/``lat`` when the plan places it."""
    if point is None or point.is_empty:
        return element
    lon, lat = _wgs84(point.x, point.y)
    return {**element, "lon": lon, "lat": lat}


def _cable(line: LineString, origin: float) -> list[list[float]]:
    """The cable in WGS84, mast end first, simplified in Lambert-93 (metres) first."""
    if origin > line.length / 2:
        line = line.reverse()
    simple = line.simplify(CABLE_TOLERANCE_M, preserve_topology=False)
    return [list(_wgs84(x, y)) for x, y, *_ in simple.coords]


def node_label(kind: str, node_id: str) -> str:
    """« PM 27056-03 » for ``PM-27056-03``; the kind before any other id."""
    prefix = f"{kind}-"
    rest = node_id[len(prefix) :] if node_id.upper().startswith(prefix.upper()) else node_id
    return f"{kind} {rest}"


def _layer(gpkg: Path, name: str) -> Any | None:
    if name not in {layer for layer, _kind in pyogrio.list_layers(gpkg)}:
        return None
    return pyogrio.read_dataframe(gpkg, layer=name, fid_as_index=True)


def plan_topology(gpkg: Path, masts: Iterable[tuple[str, str]]) -> list[MastPath]:
    """The path of each of ``masts`` (id, commune) in the plan ``gpkg``; empty without a plan."""
    cables, splices, connections = (
        _layer(gpkg, name) for name in ("cables", "splices", "connections")
    )
    paths: dict[str, list[dict[str, Any]]] = {}
    cabled: dict[str, list[list[float]]] = {}
    if cables is not None and splices is not None and connections is not None:
        branches = splices[splices["kind"] == "branch"]
        primary = connections[connections["role"] == "primary"]
        nodes = {
            str(m): (str(n), str(k), _end(line))
            for m, n, k, line in zip(
                primary["mast_id"],
                primary["node_id"],
                primary["node_kind"],
                primary.geometry,
                strict=True,
            )
        }
        chains = (
            dict(zip(primary["mast_id"].astype(str), primary["chain"], strict=True))
            if "chain" in primary
            else {}
        )
        plan_masts = _layer(gpkg, "masts")
        where = (
            {}
            if plan_masts is None
            else dict(zip(plan_masts["mast_id"].astype(str), plan_masts.geometry, strict=True))
        )
        for mast_id, role, line in zip(
            cables["mast_id"].astype(str), cables["role"], cables.geometry, strict=True
        ):
            if role != "primary" or mast_id not in nodes or line is None:
                continue
            near = branches[branches.geometry.distance(line) <= ON_CABLE_M]
            origin = line.project(where[mast_id]) if mast_id in where else 0.0
            ordered = sorted(
                (abs(line.project(point) - origin), int(fid), point)
                for fid, point in zip(near.index, near.geometry, strict=True)
            )
            node_id, kind, node_point = nodes[mast_id]
            paths[mast_id] = [
                *(
                    _placed({"kind": "splice", "id": f"S{fid}", "label": f"manchon S{fid}"}, p)
                    for _, fid, p in ordered
                ),
                _placed(
                    {"kind": kind, "id": node_id, "label": node_label(kind, node_id)}, node_point
                ),
                *_upstream(chains.get(mast_id), node_id),
            ]
            cabled[mast_id] = _cable(line, origin)
    return [
        MastPath(id=m, commune=c, path=paths.get(m, []), cable=cabled.get(m))
        for m, c in sorted(set(masts))
    ]


def _upstream(chain: object, node_id: str) -> list[dict[str, Any]]:
    """The operator's nodes above the one a mast joins, from the plan's ``chain``
    (``PM-… > NRO-…``, up to the NRO): masts down behind several PMs of one NRO are one cut."""
    if not isinstance(chain, str) or not chain.strip():
        return []
    found = []
    for part in chain.split(">"):
        upstream = part.strip()
        if not upstream or upstream == node_id or any(e["id"] == upstream for e in found):
            continue
        kind = upstream.split("-", 1)[0].upper()
        kind = kind if kind in NODE_KINDS else "node"
        found.append({"kind": kind, "id": upstream, "label": node_label(kind, upstream)})
    return found


def _end(line: LineString | None) -> Point | None:
    """The FttH node: where a mast's ``connections`` line (mast to node) ends."""
    if line is None or line.is_empty:
        return None
    return Point(line.coords[-1])


def save_masts(session: Session, masts: Iterable[MastPath]) -> int:
    """Create or update the ``masts`` rows; returns how many."""
    masts = list(masts)
    existing = {
        m.id: m for m in session.scalars(select(Mast).where(Mast.id.in_([m.id for m in masts])))
    }
    for mast in masts:
        row = existing.get(mast.id)
        if row is None:
            row = Mast(id=mast.id)
            session.add(row)
        row.commune = mast.commune
        row.path = list(mast.path)
        row.cable = mast.cable
    session.flush()
    return len(masts)
