"""What the register must warn about: an authorisation about to end (renewal takes months at the
prefecture), and a camera that films without an authorisation in force.

"Filming" is read from supervision: a camera UP or DEGRADED now, or one that left UP or DEGRADED
within :data:`RECENT` (its recordings may still exist). A camera never reached, or switched off
for longer, is not reported as filming without an authorisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from vigie.models import Authorisation, Camera, CameraStatus, StateChange
from vigie.register.authorisations import add_months, current

RECENT = timedelta(days=30)
"""How far back a camera seen UP or DEGRADED still counts as filming (the longest retention)."""
FILMING_STATES = ("up", "degraded")

LABELS = {
    "expiring": "autorisation préfectorale bientôt expirée",
    "expired": "sans autorisation valide : autorisation expirée",
    "not_yet_valid": "sans autorisation valide : autorisation pas encore en vigueur",
    "missing": "sans autorisation valide : aucune autorisation",
}
"""French labels of the alert codes, for the people who read them."""


@dataclass(frozen=True, kw_only=True)
class Alert:
    code: str
    camera_id: str
    camera_name: str
    commune: str
    filming: bool
    authorisation_id: int | None = None
    authorisation_number: str | None = None
    ends_on: date | None = None
    days_left: int | None = None

    @property
    def label(self) -> str:
        return LABELS[self.code]

    @property
    def message(self) -> str:
        """One French sentence saying what is wrong and with which arrêté."""
        name = f"Caméra {self.camera_name} ({self.camera_id})"
        ends = self.ends_on.strftime("%d/%m/%Y") if self.ends_on else ""
        if self.code == "expiring":
            return (
                f"{name} : l'autorisation n° {self.authorisation_number} prend fin le {ends} "
                f"(dans {self.days_left} jours) ; demandez son renouvellement à la préfecture."
            )
        if self.code == "expired":
            return (
                f"{name} filme sans autorisation valide : l'autorisation "
                f"n° {self.authorisation_number} a pris fin le {ends}."
            )
        if self.code == "not_yet_valid":
            return (
                f"{name} filme sans autorisation valide : l'autorisation "
                f"n° {self.authorisation_number} n'est pas encore en vigueur."
            )
        return f"{name} filme sans autorisation valide : aucune autorisation enregistrée."


def filming(session: Session, cameras: Select, now: datetime) -> set[str]:
    """The ids among ``cameras`` (a select of Camera.id) seen filming now or within RECENT."""
    ids = cameras.subquery()
    now_filming = select(CameraStatus.camera_id).where(
        CameraStatus.camera_id.in_(select(ids.c.id)), CameraStatus.state.in_(FILMING_STATES)
    )
    recently = select(StateChange.camera_id).where(
        StateChange.camera_id.in_(select(ids.c.id)),
        StateChange.previous.in_(FILMING_STATES),
        StateChange.at >= now - RECENT,
    )
    return set(session.scalars(now_filming)) | set(session.scalars(recently))


def alerts(session: Session, cameras: Select, *, now: datetime, months: int) -> list[Alert]:
    """The alerts of ``cameras`` (a select of Camera rows, already scoped), by camera id."""
    rows = list(session.scalars(cameras.order_by(Camera.id)))
    ids = [camera.id for camera in rows]
    active = filming(session, cameras.with_only_columns(Camera.id), now) if ids else set()
    links = current(session, ids)
    today = now.date()
    horizon = add_months(today, months)
    found: list[Alert] = []
    for camera in rows:
        is_filming = camera.id in active
        base = {
            "camera_id": camera.id,
            "camera_name": camera.name,
            "commune": camera.commune_code,
            "filming": is_filming,
        }
        link = links.get(camera.id)
        if link is None:
            if is_filming:
                found.append(Alert(code="missing", **base))
            continue
        authorisation: Authorisation = link[1]
        details = {
            "authorisation_id": authorisation.id,
            "authorisation_number": authorisation.number,
            "ends_on": authorisation.ends_on,
            "days_left": (authorisation.ends_on - today).days,
        }
        if authorisation.ends_on < today:
            if is_filming:
                found.append(Alert(code="expired", **base, **details))
        elif authorisation.granted_on > today:
            if is_filming:
                found.append(Alert(code="not_yet_valid", **base, **details))
        elif authorisation.ends_on <= horizon:
            found.append(Alert(code="expiring", **base, **details))
    return found
