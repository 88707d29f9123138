"""Masts' places in the planned network, read from a plan, for correlation.

``vigie plan`` writes each mast's primary cable (``cables``), where primary cables branch
(``splices`` of kind ``branch``) and the FttH node each mast joins (``connections``). A mast's
path is the branch closures its primary cable passes through, from the mast, then the FttH node:
``[{"kind": "splice", "id": "S12", "label": "manchon S12"}, {"kind": "PM", "id": "PM-27056-03",
"label": "PM 27056-03"}]``. Closures have no id in the plan: ``S<fid>``, their row in
``plan.gpkg``'s ``splices`` layer (what QGIS shows). A GeoPackage without those layers (the
planning input) gives masts without a path: they still group their cameras.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyogrio
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie.models import Mast

__all__ = ["MastPath", "node_label", "plan_topology", "save_masts"]

ON_CABLE_M = 1.0
"""A closure this close to a cable (metres, Lambert-93) is on it."""


@dataclass(frozen=True)
class MastPath:
    id: str
    commune: str | None
    path: list[dict[str, str]] = field(default_factory=list)


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
    paths: dict[str, list[dict[str, str]]] = {}
    if cables is not None and splices is not None and connections is not None:
        branches = splices[splices["kind"] == "branch"]
        primary = connections[connections["role"] == "primary"]
        nodes = {
            str(m): (str(n), str(k))
            for m, n, k in zip(
                primary["mast_id"], primary["node_id"], primary["node_kind"], strict=True
            )
        }
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
                (abs(line.project(point) - origin), int(fid))
                for fid, point in zip(near.index, near.geometry, strict=True)
            )
            node_id, kind = nodes[mast_id]
            paths[mast_id] = [
                *(
                    {"kind": "splice", "id": f"S{fid}", "label": f"manchon S{fid}"}
                    for _, fid in ordered
                ),
                {"kind": kind, "id": node_id, "label": node_label(kind, node_id)},
            ]
    return [MastPath(id=m, commune=c, path=paths.get(m, [])) for m, c in sorted(set(masts))]


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
    session.flush()
    return len(masts)
