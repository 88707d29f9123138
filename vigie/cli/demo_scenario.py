"""The demo's centre day: faults that correlation names, e-mails that escalate, a register.

What ``vigie demo`` adds to its single-camera faults so that a person trying it sees the
supervision centre's day (README: Correlation, Escalation, Legal register):

- a **mast failure** (every camera of one mast off at once) and a **fibre-branch failure**
  (every camera of the masts behind one splice closure or FttH node), chosen in the plan's
  topology so that correlation gives each one incident naming its cause
  (:func:`cause_faults`, checked with ``supervision.correlation.find_faults`` itself);
- an **SMTP server of its own** on loopback (:class:`DemoMailbox`) that keeps every e-mail in
  ``OUT/data/courriels`` and says it on the screen, and an on-call **rule** (:func:`on_call_rule`)
  whose second level is told when nobody acknowledges within two minutes;
- a **register**: each camera's field of view (from its model: a PTZ or a multi-sensor camera
  sees all around, a plate reader a narrow lane) and one prefectoral authorisation per commune,
  one ending within the alert period and one camera left without any (:func:`seed_register`);
- the gendarmerie's **point query** (:func:`point_in_view`, :func:`requisition_lines`): a point
  in front of a camera, asked through the API after the first faults.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from pyproj import Geod
from sqlalchemy.orm import Session

from cameras.catalogue import Catalogue
from supervision.correlation import Element, Topology, find_faults
from vigie.inventory.cameras import InventoryRow
from vigie.inventory.topology import MastPath
from vigie.models import Authorisation, FieldOfView
from vigie.notify.rules import RuleSpec, create_rule
from vigie.register.authorisations import add_months, add_years, attach

__all__ = [
    "CauseFault",
    "DemoMailbox",
    "cause_faults",
    "on_call_rule",
    "point_in_view",
    "requisition_lines",
    "seed_register",
    "topology_of",
]

ACTOR = "demo"
GEOD = Geod(ellps="WGS84")
SIGHT = {
    # kind: (opening in degrees, range in metres)
    "fixed": (90.0, 60.0),
    "dome": (100.0, 45.0),
    "ptz": (360.0, 150.0),
    "multi_sensor": (360.0, 50.0),
    "plate_reading": (30.0, 25.0),
}
"""What a camera of each catalogue kind usually covers on a street mast (an estimate)."""
CENTRE = "centre.supervision@vigie-demo.fr"
ON_CALL = "astreinte@vigie-demo.fr"
ESCALATE_AFTER_MIN = 1


@dataclass(frozen=True)
class CauseFault:
    """Cameras of the simulator switched off together, and the cause Vigie should name."""

    kind: str
    """``mast`` or ``branch``."""
    scope: str
    """The mast id, or the element's key (``splice:S12``)."""
    label: str
    """The cause as correlation words it."""
    indices: tuple[int, ...]
    """The simulator's camera numbers (rows' order)."""
    masts: tuple[str, ...]


def topology_of(rows: list[InventoryRow], masts: Iterable[MastPath]) -> Topology:
    return Topology(
        cameras={row.id: row.mast_id for row in rows if row.mast_id},
        paths={
            m.id: tuple(Element(kind=e["kind"], id=e["id"], label=e["label"]) for e in m.path)
            for m in masts
        },
    )


def cause_faults(
    rows: list[InventoryRow], masts: list[MastPath], taken: set[int]
) -> list[CauseFault]:
    """A mast failure and a branch failure on cameras none of ``taken`` belongs to, each one
    that correlation names as intended even with the ``taken`` cameras down beside it."""
    topology = topology_of(rows, masts)
    by_mast = topology.mast_cameras()
    index = {row.id: i for i, row in enumerate(rows)}
    taken_ids = {rows[i].id for i in taken}
    free = {m for m, cameras in by_mast.items() if not cameras & taken_ids}
    behind: dict[str, set[str]] = {}
    for mast, path in topology.paths.items():
        for element in path:
            behind.setdefault(element.key, set()).add(mast)

    def named(down: set[str], target: set[str], kind: str, scope: str) -> str | None:
        """The label correlation gives ``target`` when ``down`` (and the taken cameras) are
        DOWN together, if it is exactly this one fault; else None."""
        moment = datetime(2026, 1, 1)
        found = find_faults(
            topology, dict.fromkeys(down | taken_ids, moment), timedelta(seconds=30)
        )
        mine = [f for f in found if f.cameras & target]
        if len(mine) == 1 and (mine[0].kind, mine[0].scope, mine[0].cameras) == (
            kind,
            scope,
            frozenset(target),
        ):
            return mine[0].label
        return None

    chosen: list[CauseFault] = []
    # A branch: the fewest masts (2 or more) behind a splice closure, all free; a splice
    # rather than a node: « entre le manchon … et le PM … » names a stretch of cable.
    branch: set[str] = set()
    for _, key, ms in sorted(
        (len(ms), key, ms)
        for key, ms in behind.items()
        if len(ms) >= 2 and ms <= free and key.startswith("splice:")
    ):
        cameras = {c for m in ms for c in by_mast[m]}
        label = named(cameras, cameras, "branch", key)
        if label:
            chosen.append(_fault("branch", key, label, cameras, ms, index))
            branch = cameras
            break
    # A mast: the most cameras, named as a mast alone and while the branch is down too.
    for mast in sorted(free, key=lambda m: (-len(by_mast[m]), m)):
        cameras = set(by_mast[mast])
        if len(cameras) < 2 or cameras & branch:
            continue
        label = named(cameras, cameras, "mast", mast)
        both = cameras | branch
        if (
            label
            and named(both, cameras, "mast", mast)
            and (not chosen or named(both, branch, "branch", chosen[0].scope))
        ):
            chosen.insert(0, _fault("mast", mast, label, cameras, {mast}, index))
            break
    return chosen


def _fault(
    kind: str, scope: str, label: str, cameras: set[str], masts: set[str], index: dict[str, int]
) -> CauseFault:
    return CauseFault(
        kind=kind,
        scope=scope,
        label=label,
        indices=tuple(sorted(index[c] for c in cameras)),
        masts=tuple(sorted(masts)),
    )


def on_call_rule(session: Session, now: datetime) -> int:
    """The demo's on-call rule: the centre at once, the manager on duty if nobody acknowledges
    within a minute; DOWN incidents only (major, critical), at any hour."""
    spec = RuleSpec.model_validate(
        {
            "name": "Astreinte du centre (démo)",
            "severities": ["major", "critical"],
            "levels": [
                {
                    "after_minutes": 0,
                    "recipients": [{"name": "Centre de supervision", "email": CENTRE}],
                },
                {
                    "after_minutes": ESCALATE_AFTER_MIN,
                    "recipients": [{"name": "Cadre d'astreinte", "email": ON_CALL}],
                },
            ],
            "repeat_minutes": 15,
        }
    )
    return create_rule(session, spec, actor=ACTOR, role="admin", ip="", now=now).id


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DemoMailbox:
    """A real SMTP server on loopback for the demo's e-mails: each one kept as a ``.eml`` file
    and said on the screen (recipient, subject)."""

    def __init__(self, folder: Path, say: Callable[[str], None], clock: Callable[[], str]) -> None:
        self.folder = folder
        self.say = say
        self.clock = clock
        self.port = free_port()
        self.count = 0
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.eml"):
            stale.unlink()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 -- aiosmtpd's name
        self.count += 1
        (self.folder / f"{self.count:04d}.eml").write_bytes(envelope.content)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        recipients = ", ".join(envelope.rcpt_tos)
        self.say(f"{self.clock()} : courriel reçu pour {recipients} : « {parsed['Subject']} »")
        return "250 OK"

    def __enter__(self) -> DemoMailbox:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


def _turn(mast: str) -> float:
    """A mast's first camera's direction: spread, but the same from one demo to the next."""
    return int(hashlib.sha256(mast.encode()).hexdigest()[:6], 16) % 360


def seed_register(
    session: Session, rows: list[InventoryRow], catalogue: Catalogue, today: date, now: datetime
) -> dict[str, Any]:
    """Fields of view and prefectoral authorisations for the demo's cameras.

    One authorisation per commune, granted on a date spread over the last four years (so in
    force); the first commune's ends in three months (a register alert), and the last camera
    films without any (flagged)."""
    on_mast: dict[str, list[InventoryRow]] = {}
    for row in rows:
        on_mast.setdefault(row.mast_id or row.id, []).append(row)
    for mast, cameras in on_mast.items():
        for k, row in enumerate(cameras):
            model = catalogue.cameras.get(row.model)
            angle, range_m = SIGHT.get(model.kind if model else "fixed", SIGHT["fixed"])
            session.add(
                FieldOfView(
                    camera_id=row.id,
                    direction=(_turn(mast) + k * 360.0 / len(cameras)) % 360,
                    angle=angle,
                    range_m=range_m,
                    updated_by=ACTOR,
                    updated_at=now,
                )
            )
    communes = sorted({row.commune for row in rows})
    expiring = communes[0]
    unauthorised = rows[-1].id
    granted = {}
    for k, commune in enumerate(communes):
        if commune == expiring:  # five years ago plus three months: ends in three months
            granted_on = add_months(add_years(today, -5), 3)
        else:
            granted_on = add_months(today, -6 - (k * 7) % 42)
        authorisation = Authorisation(
            number=f"DEMO-{granted_on.year}-{commune}",
            granted_on=granted_on,
            ends_on=add_years(granted_on, 5) - timedelta(days=1),
            purposes="protection des bâtiments publics ; prévention des atteintes aux biens",
            retention_days=30,
            created_by=ACTOR,
            created_at=now,
            updated_at=now,
        )
        session.add(authorisation)
        granted[commune] = authorisation
    session.flush()
    for row in rows:
        if row.id != unauthorised:
            attach(session, row.id, granted[row.commune], actor=ACTOR, now=now)
    return {"expiring": expiring, "unauthorised": unauthorised, "authorisations": len(granted)}


def point_in_view(session: Session, row: InventoryRow) -> tuple[float, float]:
    """A point (latitude, longitude) two thirds of the way along ``row``'s line of sight."""
    fov = session.get(FieldOfView, row.id)
    assert fov is not None, f"camera {row.id} has no field of view"
    lon, lat, _ = GEOD.fwd(row.longitude, row.latitude, fov.direction, fov.range_m * 2 / 3)
    return round(lat, 6), round(lon, 6)


def requisition_lines(answer: dict[str, Any]) -> list[str]:
    """The point query's answer in French, one line per camera that saw the point."""
    lines = [
        f"réquisition (démo) : le point {answer['latitude']:.5f} N, {answer['longitude']:.5f} E "
        f"est vu par {len(answer['cameras'])} caméra(s)"
    ]
    for camera in answer["cameras"]:
        seconds: dict[str, float] = {}  # per state label, as the API words it
        for interval in camera["states"]:
            seconds[interval["label"]] = seconds.get(interval["label"], 0.0) + interval["seconds"]
        total = sum(seconds.values()) or 1.0
        states = ", ".join(
            f"{label} {100 * s / total:.0f} %"
            for label, s in sorted(seconds.items(), key=lambda item: -item[1])
        )
        numbers = ", ".join(a["number"] for a in camera["authorisations"]) or "aucune"
        lines.append(
            f"  {camera['name']} ({camera['camera_id']}) : {states} ; autorisation {numbers} ; "
            f"{camera['retention']['label']}"
        )
    return lines
