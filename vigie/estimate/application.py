"""The FIPD application file of one project owner, as data: what a prefecture asks for.

A commune, an EPCI or the Département that carries masts files its own application ("dossier de
demande de subvention FIPD vidéoprotection"): its cameras with their location and purpose, its
financing plan, a schedule and the security referent's opinion. The figures are the ones
``vigie.estimate.financing`` computed for that owner, so the application, the DQE workbook and
the JSON agree to the cent. Only owners that are local authorities (``OwnerPlan.local``) file one:
the State's masts and State-reserved cameras (LAPI) are in no commune's list.

The workbook (``application_book``) and the printable document (``application_html``) are both
built from an :class:`Application`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vigie.estimate.amo import PHASES
from vigie.estimate.financing import retained_base
from vigie.estimate.rounding import money

if TYPE_CHECKING:
    from cameras.catalogue import Catalogue
    from planning.plan_folder import PlanFolder
    from vigie.estimate.calls import Call
    from vigie.estimate.dqe import Estimate
    from vigie.estimate.financing import Aid, OwnerPlan

DEFAULT_PURPOSE = (
    "prévention des atteintes à la sécurité des personnes et des biens sur la voie publique "
    "(CSI L251-2)"
)
TO_BE_SPECIFIED = "à préciser par le porteur"
KIND_PURPOSES: dict[str, str] = {
    "ptz": "caméra orientable : suivi d'un événement sur l'espace public",
    "multi_sensor": "caméra panoramique : vue d'ensemble d'un carrefour ou d'une place",
    "plate_reading": (
        "lecture de plaques (LAPI) : réservée à la police, à la gendarmerie et aux douanes "
        "(CSI L233-1), à retirer du dossier de la collectivité"
    ),
}
"""A hint per camera kind, added to the default purpose; the owner decides the real one."""
CRITICAL_PURPOSE = (
    "mât critique du plan (second raccordement) : site sensible, par exemple abords de "
    "bâtiments publics"
)

SCHEDULE_NOTE = (
    "Calendrier INDICATIF : durées usuelles, à ajuster par le porteur. Les travaux ne commencent "
    "pas avant que le dossier de subvention soit déclaré complet (règle des subventions "
    "d'investissement de l'État, décret n° 2018-514), et les caméras ne filment pas avant "
    "l'autorisation préfectorale (CSI L252-1)."
)
AMO_MONTHS = (2, 3, 3, 6, 2)
"""Indicative months of each AMO phase (``amo.PHASES``): ESTIMATE, no public figure found."""
WORKS_MONTHS = 6
COMMISSIONING_MONTHS = 1


@dataclass(frozen=True)
class CameraSite:
    """One mast of the owner, where it stands and what it films for."""

    mast_id: str
    commune: str
    commune_nom: str
    x: float
    """Lambert-93 (EPSG:2154), metres."""
    y: float
    lat: float
    """WGS84 (EPSG:4326), degrees."""
    lon: float
    model: str
    model_label: str
    kind: str
    cameras: int
    critical: bool

    @property
    def purpose(self) -> str:
        """The purpose proposed (default and hints), always to be confirmed by the owner."""
        hints = [KIND_PURPOSES[self.kind]] if self.kind in KIND_PURPOSES else []
        if self.critical:
            hints.append(CRITICAL_PURPOSE)
        return "; ".join([DEFAULT_PURPOSE, *hints, TO_BE_SPECIFIED])


@dataclass(frozen=True)
class FunderLine:
    """One funder in the owner's plan: the call's terms and the owner's figures."""

    key: str
    label: str
    applies: bool
    max_rate: float
    rate: float
    eligible_total: float
    """The funder's eligible spending over the whole project (the owner's key applies to it)."""
    share: float
    """The owner's key of that spending."""
    base: float
    ceiling_per_camera: float | None
    ceiling: float | None
    requested: float
    amount: float
    note: str

    @property
    def retained(self) -> float:
        return retained_base(self.base, self.ceiling, applies=self.applies)


@dataclass(frozen=True)
class Step:
    """A phase of the schedule, in months counted from the start of the operation."""

    label: str
    months: int
    start: int
    after: int | None
    """Index of the step it follows, or ``None`` when it starts alongside ``alongside``."""
    alongside: int | None = None

    @property
    def end(self) -> int:
        return self.start + self.months - 1


@dataclass(frozen=True)
class Application:
    owner: OwnerPlan
    stem: str
    """File name without suffix: ``<code>-<slug>``."""
    source: str
    call_title: str
    call_year: int
    call_source: str
    cap_percent: float
    cap_source: str
    project_ht: float
    vat_rate: float
    sites: tuple[CameraSite, ...]
    funders: tuple[FunderLine, ...]
    schedule: tuple[Step, ...]
    running_ht: float
    """The owner's yearly running costs HT (rents, leases): not eligible, shown for its budget."""

    @property
    def vat(self) -> float:
        return money(self.owner.total_ht * self.vat_rate / 100.0)

    @property
    def total_ttc(self) -> float:
        return money(self.owner.total_ht + self.vat)

    @property
    def own_percent(self) -> float:
        total = self.owner.total_ht
        return 100.0 * self.owner.own_share / total if total else 0.0


def applications(estimate: Estimate, folder: PlanFolder, catalogue: Catalogue) -> list[Application]:
    """One application per local project owner of the estimate, in the financing's order."""
    financing = estimate.financing
    sites = _sites(folder, catalogue)
    stems: set[str] = set()
    result = []
    for owner in financing.owners:
        if not owner.local:
            continue
        result.append(
            Application(
                owner=owner,
                stem=_unique(file_stem(owner.code, owner.nom), stems),
                source=estimate.source,
                call_title=financing.call.title,
                call_year=financing.call.year,
                call_source=financing.call.source,
                cap_percent=financing.call.public_aid_cap,
                cap_source=financing.call.cap_source,
                project_ht=financing.project_ht,
                vat_rate=estimate.vat_rate,
                sites=tuple(sites[m] for m in owner.masts if m in sites),
                funders=tuple(
                    _funder_line(financing.call, aid, financing.eligible_totals[aid.funder])
                    for aid in owner.aids
                ),
                schedule=schedule(),
                running_ht=estimate.running_by_owner.get((owner.kind, owner.code), 0.0),
            )
        )
    return result


def schedule() -> tuple[Step, ...]:
    """The AMO's phases, then the works and the commissioning, with indicative months."""
    # (label, months, follows step i, or starts alongside step j)
    plan: list[tuple[str, int, int | None, int | None]] = [
        (f"AMO — {label}", months, i - 1 if i else None, None)
        for i, ((label, _), months) in enumerate(zip(PHASES, AMO_MONTHS, strict=True))
    ]
    works = len(plan)
    plan[3] = (plan[3][0], plan[3][1], None, works)  # the AMO follows the works while they run
    plan[4] = (plan[4][0], plan[4][1], works, None)
    plan.append(("Travaux (lots 1 à 3)", WORKS_MONTHS, 2, None))  # once the contracts are awarded
    plan.append(("Mise en service des caméras et réception", COMMISSIONING_MONTHS, works, None))
    starts: dict[int, int] = {}
    while len(starts) < len(plan):
        for i, (_, _, after, alongside) in enumerate(plan):
            if i in starts:
                continue
            if after is None and alongside is None:
                starts[i] = 1
            elif after is not None and after in starts:
                starts[i] = starts[after] + plan[after][1]
            elif alongside is not None and alongside in starts:
                starts[i] = starts[alongside]
    return tuple(
        Step(label, months, starts[i], after, alongside)
        for i, (label, months, after, alongside) in enumerate(plan)
    )


def file_stem(code: str, nom: str) -> str:
    """``27017-angerville-la-campagne``: the owner's code and name, safe as a file name."""
    name = re.sub(r"\s*\([^)]*\)\s*$", "", nom)  # "Évreux (27229)": the code is already first
    return "-".join(p for p in (_slug(code), _slug(name)) if p) or "maitre-d-ouvrage"


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")


def _unique(stem: str, seen: set[str]) -> str:
    candidate, n = stem, 2
    while candidate in seen:
        candidate, n = f"{stem}-{n}", n + 1
    seen.add(candidate)
    return candidate


def _funder_line(call: Call, aid: Aid, eligible_total: float) -> FunderLine:
    funder = call.funder(aid.funder)
    return FunderLine(
        key=aid.funder,
        label=aid.label,
        applies=aid.applies,
        max_rate=funder.max_rate,
        rate=aid.rate,
        eligible_total=eligible_total,
        share=aid.key,
        base=aid.base,
        ceiling_per_camera=funder.ceiling_per_camera,
        ceiling=aid.ceiling,
        requested=aid.requested,
        amount=aid.amount,
        note=funder.note.strip(),
    )


def _sites(folder: PlanFolder, catalogue: Catalogue) -> dict[str, CameraSite]:
    """Every mast of the plan with its coordinates in Lambert-93 and WGS84."""
    masts = folder.layers["masts"]
    if masts.crs is not None and masts.crs.to_epsg() != 2154:
        masts = masts.to_crs(2154)
    wgs84 = masts.geometry.to_crs(4326)
    names = {
        str(code): str(info.get("nom", "")) for code, info in folder.summary["communes"].items()
    }
    models = (
        masts["camera_model"].fillna("").astype(str)
        if "camera_model" in masts
        else [""] * len(masts)
    )
    critical = masts["critical"] if "critical" in masts else [False] * len(masts)
    sites = {}
    for mast_id, commune, cameras, model, is_critical, point, lonlat in zip(
        masts["mast_id"].astype(str),
        masts["commune"].astype(str),
        masts["cameras"],
        models,
        critical,
        masts.geometry,
        wgs84,
        strict=True,
    ):
        camera = catalogue.cameras.get(model)
        sites[mast_id] = CameraSite(
            mast_id=mast_id,
            commune=commune,
            commune_nom=names.get(commune, ""),
            x=round(point.x, 1),
            y=round(point.y, 1),
            lat=round(lonlat.y, 6),
            lon=round(lonlat.x, 6),
            model=model,
            model_label=camera.label if camera else model,
            kind=camera.kind if camera else "",
            cameras=int(cameras),
            critical=_flag(is_critical),
        )
    return sites


def _flag(value: object) -> bool:
    """A boolean column's value; missing (None, NaN) is False."""
    try:
        return bool(value) and value == value  # NaN != NaN  # noqa: PLR0124
    except (TypeError, ValueError):
        return False
