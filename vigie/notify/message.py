"""The French text of a notification: camera, commune, problem, since when, the link. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vigie.notify.schedule import PARIS

SEVERITY = {"minor": "mineur", "major": "majeur", "critical": "critique"}

CAUSES = {
    "unreachable": "injoignable",
    "video_loss": "perte du signal vidéo",
    "frozen": "image figée",
    "blurred": "image floue",
    "covered": "caméra masquée",
    "displaced": "caméra déplacée",
    "glare": "éblouissement",
    "clock_offset": "horloge décalée",
    "auth_failed": "authentification refusée",
    "low_frame_rate": "débit d'images trop faible",
    "wrong_resolution": "résolution incorrecte",
    "certificate_changed": "certificat TLS changé : alerte de sécurité",
    "camera_tamper": "sabotage signalé par la caméra",
    "camera_scene_change": "changement de scène signalé par la caméra",
    "camera_video_loss": "perte vidéo signalée par la caméra",
    "camera_blurred": "image floue signalée par la caméra",
    "camera_too_dark": "image trop sombre",
    "camera_too_bright": "image trop claire",
    "storage_failure": "panne de stockage",
    "hardware_failure": "panne matérielle",
    "recording_stopped": "enregistrement arrêté",
    "storage_failed": "stockage en défaut",
}

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


@dataclass(frozen=True)
class Facts:
    """What a message says of its incident."""

    incident_id: int
    key: str
    camera_id: str
    camera_name: str
    commune_code: str
    commune_name: str
    severity: str
    causes: list[str]
    opened_at: datetime
    level: int
    round: int
    cause: str | None = None
    """A cause incident's probable cause (mast, fibre branch), in French; None for a camera."""
    cameras: tuple[str, ...] = ()
    """A cause incident's cameras, as « name (id) »."""


def problem(causes: list[str]) -> str:
    return ", ".join(CAUSES.get(cause, cause) for cause in causes) or "inconnu"


def paris_time(moment: datetime) -> str:
    """``lundi 2 mars 2026 à 09h01``, in Paris time."""
    local = moment.astimezone(PARIS)
    day = DAYS[local.weekday()]
    return f"{day} {local.day} {MONTHS[local.month - 1]} {local.year} à {local:%Hh%M}"


def duration(seconds: float) -> str:
    minutes = max(0, int(seconds // 60))
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d}"


def link(base_url: str, incident_id: int) -> str:
    return f"{base_url.rstrip('/')}/api/v1/incidents/{incident_id}"


def what(facts: Facts) -> str:
    """The camera, or for a cause incident how many cameras it holds."""
    if facts.cause is None:
        return facts.camera_name
    return f"{len(facts.cameras)} caméra{'s' if len(facts.cameras) > 1 else ''}"


def subject(facts: Facts) -> str:
    if facts.cause is not None:
        return (
            f"[Vigie] Incident {SEVERITY.get(facts.severity, facts.severity)} : {facts.cause} "
            f"({facts.commune_name}, {what(facts)})"
        )
    return (
        f"[Vigie] Incident {SEVERITY.get(facts.severity, facts.severity)} : "
        f"{facts.camera_name} ({facts.commune_name}) : {problem(facts.causes)}"
    )


def _concerned(facts: Facts) -> list[str]:
    if facts.cause is None:
        return [
            f"Caméra : {facts.camera_name} ({facts.camera_id})",
            f"Commune : {facts.commune_name} ({facts.commune_code})",
            f"Problème : {problem(facts.causes)}",
        ]
    return [
        f"Cause probable : {facts.cause}",
        f"Commune : {facts.commune_name} ({facts.commune_code})",
        f"Caméras hors service ensemble ({len(facts.cameras)}) : {', '.join(facts.cameras)}",
    ]


def email_text(facts: Facts, now: datetime, base_url: str) -> str:
    reminder = f" (rappel n° {facts.round})" if facts.round else ""
    return "\n".join(
        [
            "Bonjour,",
            "",
            f"Incident {SEVERITY.get(facts.severity, facts.severity)} non acquitté{reminder}.",
            "",
            *_concerned(facts),
            f"Depuis : {paris_time(facts.opened_at)} (heure de Paris), "
            f"soit {duration((now - facts.opened_at).total_seconds())}",
            f"Niveau d'alerte : {facts.level}",
            f"Incident : {link(base_url, facts.incident_id)} ({facts.key})",
            "",
            "Les alertes se répètent jusqu'à l'acquittement de l'incident dans Vigie.",
            "",
            "-- ",
            "Vigie, supervision de la vidéoprotection",
        ]
    )


def sms_text(facts: Facts, now: datetime, base_url: str) -> str:
    local = facts.opened_at.astimezone(PARIS)
    reminder = f" rappel {facts.round}" if facts.round else ""
    return (
        f"Vigie{reminder} niv.{facts.level} : incident "
        f"{SEVERITY.get(facts.severity, facts.severity)}, {what(facts)} "
        f"({facts.commune_name}) : {facts.cause or problem(facts.causes)} "
        f"depuis {local:%d/%m %Hh%M}. "
        f"{link(base_url, facts.incident_id)}"
    )
