"""The DQE (détail quantitatif estimatif) of a plan: priced lines in lots, totals and financing.

Composes the two catalogues, which do not know each other: civil works, fibre and electricity
(`planning.prices`, quantities from `planning.quantities`) and masts, cameras and per-mast
equipment (`cameras.catalogue`). Pure: a plan folder already read and the catalogues in, an
`Estimate` out; the writers (`vigie.estimate.workbook`, `vigie.estimate.files`) only lay it out.

Amounts are rounded to the cent exactly as the workbook's formulas do (``ROUND(q*p; 2)``, half
away from zero), so the JSON and the recalculated workbook agree to the cent.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cameras.catalogue import Catalogue, CatalogueError, PricedItem
from planning import french
from planning.plan_folder import PlanFolder
from planning.prices import PriceCatalogue, PriceItem
from planning.quantities import Quantity, mast_inventory, plan_quantities
from vigie.estimate.leases import RunningCosts, leased_link_quantities, running_costs

LOTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "1",
        "Lot 1 — Génie civil et réseau fibre",
        ("trench.", "laying.", "cable.", "splicing.", "transport.link_access"),
    ),
    (
        "2",
        "Lot 2 — Mâts, caméras et raccordements électriques",
        ("masts.", "cameras.", "installation.camera", "electricity."),
    ),
    (
        "3",
        "Lot 3 — Équipements réseau et supervision",
        (
            "network.",
            "transport.nro_switch",
            "installation.mast_commissioning",
            "installation.supervision_licence",
        ),
    ),
)
AMO_LOT = ("4", "Assistance à maîtrise d'ouvrage")


def money(value: float) -> float:
    """Round to the cent, half away from zero, as the spreadsheet's ROUND does."""
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class DqeLine:
    number: str
    """Price number, ``lot.rank`` (``1.03``)."""
    key: str
    """Catalogue key the unit price comes from (``trench.local``)."""
    designation: str
    unit: str
    quantity: float
    unit_price: float
    amount: float
    fipd_eligible: bool
    basis: str = ""
    by_commune: dict[str, float] = field(default_factory=dict)
    """Quantity per commune (INSEE code), summing to ``quantity``."""


@dataclass(frozen=True)
class Lot:
    number: str
    title: str
    lines: list[DqeLine]

    @property
    def subtotal(self) -> float:
        return money(sum(line.amount for line in self.lines))


@dataclass(frozen=True)
class CommuneShare:
    """A commune's part of the works and of their financing (the works where its masts stand)."""

    code: str
    nom: str
    epci: str
    masts: int
    cameras: int
    works_key: float
    """Its share of the works HT (and of the AMO, split like the works)."""
    eligible_key: float
    """Its share of the FIPD-eligible spending."""
    amount_ht: float
    fipd: float
    rest_ht: float
    epci_part: float
    commune_part: float
    running_year: float = 0.0
    """Its yearly running costs HT: its masts' rents and leased fibres, its share of the links."""


@dataclass(frozen=True)
class Reconciliation:
    """One post of the plan's investment (``summary.json``) beside the DQE lines that price it."""

    label: str
    plan: float
    lines: tuple[int, ...]
    """Indexes in `Estimate.lines` of the DQE lines of this post."""
    why: str


@dataclass(frozen=True)
class Estimate:
    source: str
    lots: list[Lot]
    amo: DqeLine
    """Quantity: the AMO rate in %; unit price: the works total HT."""
    vat_rate: float
    fipd_rate: float
    epci_share: float
    communes: list[CommuneShare]
    catalogue: list[dict[str, Any]]
    """Every price and rule used, with unit, year and source (the assumptions sheet)."""
    notes: list[str]
    figures: dict[str, float]
    """Headline quantities: masts, cameras, metres of new trench…"""
    running: RunningCosts = field(default_factory=RunningCosts)
    """Yearly rents and leases of the plan (beside the investment, never inside it)."""
    reconciliation: list[Reconciliation] = field(default_factory=list)
    plan_cost: float | None = None
    """``summary.json``'s ``totals.cost_eur``: the fibre network as the plan priced it."""

    @property
    def lines(self) -> list[DqeLine]:
        return [line for lot in self.lots for line in lot.lines] + [self.amo]

    @property
    def works_ht(self) -> float:
        return money(sum(lot.subtotal for lot in self.lots))

    @property
    def total_ht(self) -> float:
        return money(self.works_ht + self.amo.amount)

    @property
    def vat(self) -> float:
        return money(self.total_ht * self.vat_rate / 100.0)

    @property
    def total_ttc(self) -> float:
        return money(self.total_ht + self.vat)

    @property
    def eligible_ht(self) -> float:
        return money(sum(line.amount for line in self.lines if line.fipd_eligible))

    @property
    def fipd(self) -> float:
        return money(self.eligible_ht * self.fipd_rate / 100.0)

    @property
    def rest_ht(self) -> float:
        return money(self.total_ht - self.fipd)

    @property
    def epci_part(self) -> float:
        return money(self.rest_ht * self.epci_share / 100.0)

    @property
    def commune_part(self) -> float:
        return money(self.rest_ht - self.epci_part)

    @property
    def running_ht(self) -> float:
        """Running costs HT per year."""
        return self.running.total

    @property
    def running_ttc(self) -> float:
        return money(self.running_ht + money(self.running_ht * self.vat_rate / 100.0))

    @property
    def tco_ht(self) -> float:
        """Investment HT plus the running costs over the horizon, undiscounted (as the plan)."""
        return money(self.total_ht + self.running.horizon_years * self.running_ht)

    def totals(self) -> dict[str, float]:
        """Every total of the workbook, by name (the JSON's ``totals``)."""
        return {
            **{f"lot_{lot.number}_ht": lot.subtotal for lot in self.lots},
            "works_ht": self.works_ht,
            "amo_ht": self.amo.amount,
            "total_ht": self.total_ht,
            "vat": self.vat,
            "total_ttc": self.total_ttc,
            "eligible_ht": self.eligible_ht,
            "fipd": self.fipd,
            "rest_ht": self.rest_ht,
            "epci_part": self.epci_part,
            "commune_part": self.commune_part,
            "running_ht_per_year": self.running_ht,
            "running_ttc_per_year": self.running_ttc,
            "horizon_years": self.running.horizon_years,
            "tco_ht": self.tco_ht,
        }


def build_estimate(folder: PlanFolder, prices: PriceCatalogue, catalogue: Catalogue) -> Estimate:
    """Price a plan: quantities, lines in lots, AMO, totals and the financing split.

    Masts a budget-constrained plan deferred (`vigie plan --budget`) are left out: neither their
    fibre nor their equipment is in this phase; a note lists them.
    """
    folder, deferred = _without_deferred(folder)
    leased = leased_link_quantities(folder.summary)
    running = running_costs(folder.summary)
    quantities = [*plan_quantities(folder, prices), *_equipment(folder, catalogue)]
    quantities += [quantity for quantity, _ in leased]
    entries = _entries(prices, catalogue)
    entries.update({item.key: item for _, item in leased})
    order = {key: i for i, key in enumerate(entries)}
    lots = []
    for number, title, prefixes in LOTS:
        mine = sorted(
            (q for q in quantities if q.key.startswith(prefixes)),
            key=lambda q, prefixes=prefixes: (_rank(q.key, prefixes), order[q.key]),
        )
        lines = [_line(f"{number}.{rank:02d}", q, entries[q.key]) for rank, q in enumerate(mine, 1)]
        lots.append(Lot(number, title, lines))
    works = money(sum(lot.subtotal for lot in lots))
    amo_rule = prices.rules["amo_rate"]
    amo = DqeLine(
        number=f"{AMO_LOT[0]}.01",
        key=amo_rule.key,
        designation=amo_rule.label,
        unit="%",
        quantity=amo_rule.value,
        unit_price=works,
        amount=money(amo_rule.value * works / 100.0),
        fipd_eligible=amo_rule.fipd_eligible,
        basis="part du total des lots 1 à 3",
    )
    estimate = Estimate(
        source=str(folder.path),
        lots=lots,
        amo=amo,
        vat_rate=prices.rules["vat_rate"].value,
        fipd_rate=prices.rules["fipd_rate"].value,
        epci_share=prices.rules["epci_share"].value,
        communes=[],
        catalogue=[_catalogue_row(k, e) for k, e in entries.items()]
        + [_catalogue_row(r.key, r, amount="value") for r in prices.rules.values()],
        notes=_notes(folder) + _deferred_notes(deferred) + running.notes,
        figures=_figures(folder, quantities),
        running=running,
    )
    estimate = dataclasses.replace(
        estimate,
        reconciliation=_reconciliation(folder, estimate),
        plan_cost=folder.summary.get("totals", {}).get("cost_eur"),
    )
    return _with_communes(estimate, folder)


def _without_deferred(folder: PlanFolder) -> tuple[PlanFolder, list[str]]:
    """The plan without the masts its budget deferred, and their ids."""
    masts = folder.layers["masts"]
    deferred = masts["status"].astype(str) == "deferred"
    if not deferred.any():
        return folder, []
    layers = {**folder.layers, "masts": masts[~deferred].reset_index(drop=True)}
    return dataclasses.replace(folder, layers=layers), masts.loc[deferred, "mast_id"].astype(
        str
    ).tolist()


def _deferred_notes(deferred: list[str]) -> list[str]:
    if not deferred:
        return []
    ids = ", ".join(deferred[:10]) + ("…" if len(deferred) > 10 else "")
    return [
        f"{len(deferred)} mât(s) reporté(s) par l'enveloppe du plan (vigie plan --budget) : ni "
        f"leur fibre ni leurs équipements ne sont chiffrés dans cette tranche ({ids})."
    ]


def _rank(key: str, prefixes: tuple[str, ...]) -> int:
    """Lines follow the order of their lot's prefixes, then the catalogue's order."""
    return next(i for i, prefix in enumerate(prefixes) if key.startswith(prefix))


def _entries(prices: PriceCatalogue, catalogue: Catalogue) -> dict[str, PriceItem | PricedItem]:
    entries: dict[str, PriceItem | PricedItem] = dict(prices.items)
    for section in ("masts", "cameras", "installation", "network"):
        for item in getattr(catalogue, section).values():
            entries[f"{section}.{item.key}"] = item
    return entries


def _line(number: str, quantity: Quantity, item: PriceItem | PricedItem) -> DqeLine:
    return DqeLine(
        number=number,
        key=quantity.key,
        designation=item.label,
        unit=quantity.unit,
        quantity=quantity.quantity,
        unit_price=item.price,
        amount=money(quantity.quantity * item.price),
        fipd_eligible=item.fipd_eligible,
        basis=quantity.basis,
        by_commune=quantity.by_commune,
    )


def _equipment(folder: PlanFolder, catalogue: Catalogue) -> list[Quantity]:
    """Masts by height, cameras by model, per-mast network equipment and installation."""
    masts = mast_inventory(folder)
    unknown: dict[str, list[str]] = defaultdict(list)
    for mast in masts:
        if mast.camera_model not in catalogue.cameras:
            unknown[mast.camera_model].append(mast.mast_id)
    if unknown:
        known = ", ".join(sorted(catalogue.cameras))
        raise CatalogueError(
            "; ".join(
                f"camera model {model!r} of mast(s) {', '.join(ids[:5])}"
                f"{' …' if len(ids) > 5 else ''} is not in the catalogue"
                for model, ids in sorted(unknown.items())
            )
            + f" (known: {known}); add it under `cameras:` in a --prices file"
        )
    counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for mast in masts:
        model = catalogue.camera(mast.camera_model)
        height = catalogue.mast_for(model.mast_height_m)
        per_mast = [f"masts.{height.key}", "installation.mast_commissioning"]
        per_mast += [f"network.{key}" for key in catalogue.network]
        for key in per_mast:
            counts[key][mast.commune] += 1
        for key in (f"cameras.{model.key}", "installation.camera"):
            counts[key][mast.commune] += mast.cameras
        counts["installation.supervision_licence"][mast.commune] += mast.cameras
    basis = {
        "masts": "un mât par site, de la hauteur demandée par son modèle de caméra",
        "cameras": "caméras du plan, par modèle",
        "network": "un par mât",
        "installation.camera": "une par caméra",
        "installation.supervision_licence": "une par caméra",
        "installation.mast_commissioning": "une par mât",
    }
    lines = []
    for key, split in counts.items():
        section = key.split(".")[0]
        lines.append(
            Quantity(
                key,
                round(sum(split.values())),
                "u",
                basis.get(key, basis.get(section, "")),
                dict(sorted(split.items())),
            )
        )
    return lines


def _with_communes(estimate: Estimate, folder: PlanFolder) -> Estimate:
    works = estimate.works_ht
    eligible = estimate.eligible_ht
    work_share: dict[str, float] = defaultdict(float)
    eligible_share: dict[str, float] = defaultdict(float)
    for lot in estimate.lots:
        for line in lot.lines:
            measured = sum(line.by_commune.values())
            for code, q in line.by_commune.items():
                part = line.amount * q / measured if measured else 0.0
                work_share[code] += part
                if line.fipd_eligible:
                    eligible_share[code] += part
    works_key = {c: v / works for c, v in work_share.items()} if works else {}
    if estimate.amo.fipd_eligible:
        for code, key in works_key.items():
            eligible_share[code] += key * estimate.amo.amount
    eligible_key = {c: v / eligible for c, v in eligible_share.items()} if eligible else {}
    info = folder.summary.get("communes", {})
    masts = mast_inventory(folder)
    shares = []
    for code in sorted(works_key):
        entry = info.get(code, {})
        amount = money(works_key[code] * estimate.total_ht)
        fipd = money(eligible_key.get(code, 0.0) * estimate.fipd)
        rest = money(amount - fipd)
        epci_part = money(rest * estimate.epci_share / 100.0)
        shares.append(
            CommuneShare(
                code=code,
                nom=str(entry.get("nom", "")),
                epci=str(entry.get("epci", "")),
                masts=sum(m.commune == code for m in masts),
                cameras=sum(m.cameras for m in masts if m.commune == code),
                works_key=works_key[code],
                eligible_key=eligible_key.get(code, 0.0),
                amount_ht=amount,
                fipd=fipd,
                rest_ht=rest,
                epci_part=epci_part,
                commune_part=money(rest - epci_part),
                running_year=estimate.running.by_commune.get(code, 0.0),
            )
        )
    return dataclasses.replace(estimate, communes=shares)


def _reconciliation(folder: PlanFolder, estimate: Estimate) -> list[Reconciliation]:
    """The plan's investment (``totals.cost_eur``) post by post beside the DQE lines.

    They differ on purpose: the plan prices with its own parameters to choose routes, the DQE with
    the tender's price schedule and quantity rules. Each post says why, so nobody has to guess.
    """
    totals = folder.summary.get("totals", {})
    civil = totals.get("civil_cost_eur_by_mode", {})
    lengths = totals.get("length_m_by_mode", {})
    params = folder.summary.get("parameters", {})
    cost = params.get("cost", {})
    reuse = sum(float(civil.get(mode, 0.0)) for mode in ("duct", "aerial"))
    laid = sum(
        float(lengths.get(mode, 0.0)) * float(cost.get(f"{mode}_eur_per_m", 0.0))
        for mode in ("duct", "aerial")
    )
    years = int(params.get("rent", {}).get("horizon_years", 0) or 0)
    rents = money(reuse - laid)
    slack = next((r["price"] for r in estimate.catalogue if r["key"] == "rules.cable_slack"), 0)
    posts = (
        (
            "Tranchées neuves",
            civil.get("trench", 0.0),
            ("trench.",),
            "métrés du DQE arrondis au décimètre",
        ),
        (
            "Pose en fourreau et sur appuis existants",
            reuse,
            ("laying.",),
            f"le plan y ajoute {years} ans de loyer pour un câble ({french.number(rents, 2)} €), "
            "que cette estimation compte dans les coûts d'exploitation"
            if rents > 0.005
            else "",
        ),
        (
            "Câble optique",
            totals.get("cable_eur", 0.0),
            ("cable.",),
            f"le DQE compte chaque liaison de bout en bout, plus {french.percent(slack)} de "
            "surlongueur et les lovages",
        ),
        (
            "Boîtiers, soudures et raccordements aux nœuds FttH",
            totals.get("splices_and_connections_eur", 0.0),
            ("splicing.closure", "splicing.fibre_splice", "splicing.ftth_connection"),
            "le DQE compte les soudures de tout le parcours de chaque liaison, le plan celles du "
            "seul raccordement",
        ),
        ("Chambres de tirage", 0.0, ("splicing.chamber",), "non chiffrées par le plan"),
        (
            "Frais d'accès des liens loués et commutateurs au NRO",
            totals.get("leased_links_access_eur", 0.0),
            ("transport.",),
            "" if "leased_links_access_eur" in totals else "plan antérieur : pas de liens loués",
        ),
    )
    lines = estimate.lines
    return [
        Reconciliation(
            label,
            money(float(plan)),
            tuple(i for i, line in enumerate(lines[:-1]) if line.key.startswith(prefixes)),
            why,
        )
        for label, plan, prefixes, why in posts
    ]


def _catalogue_row(key: str, item: Any, *, amount: str = "price") -> dict[str, Any]:
    return {
        "key": key,
        "label": item.label,
        "unit": item.unit,
        "price": getattr(item, amount),
        "year": item.year,
        "source": item.source,
        "estimate": item.estimate,
        "note": item.note,
        "fipd_eligible": item.fipd_eligible,
    }


def _notes(folder: PlanFolder) -> list[str]:
    notes = []
    masts = folder.layers["masts"]
    failed = masts[masts["status"] != "connected"]
    if len(failed):
        ids = ", ".join(failed["mast_id"].astype(str).head(10))
        notes.append(
            f"{len(failed)} mât(s) sans liaison fibre dans le plan ({ids}…): leurs équipements "
            "sont chiffrés, leur raccordement reste à étudier (radio, autre nœud)."
        )
    unpowered = masts["power_point_id"].astype(str).eq("").sum()
    if unpowered:
        notes.append(
            f"{unpowered} mât(s) sans point d'alimentation connu: branchement Enedis complet "
            "chiffré sans longueur de liaison."
        )
    if "power_links" in folder.layers and "power_trench_m" in masts:
        notes.append(
            "Les liaisons électriques sont mesurées le long des voies jusqu'au point "
            "d'alimentation le plus proche par la voirie (couche power_points) : fourreau "
            "supplémentaire là où elles suivent une tranchée neuve de la fibre, tranchée propre "
            "ailleurs, chaque tronçon compté une fois."
        )
    else:
        notes.append(
            "Plan écrit par une version antérieure de Vigie : les liaisons électriques sont "
            "mesurées à vol d'oiseau jusqu'au point d'alimentation le plus proche et chiffrées "
            "en tranchée propre; refaire `vigie plan` pour les mesurer le long des voies."
        )
    notes.append(
        "La TVA est avancée par les acheteurs publics et en partie récupérée par le FCTVA; le "
        "plan de financement est établi hors taxes."
    )
    return notes


def _figures(folder: PlanFolder, quantities: list[Quantity]) -> dict[str, float]:
    masts = folder.layers["masts"]
    by_key = {q.key: q.quantity for q in quantities}
    return {
        "masts": len(masts),
        "masts_connected": int((masts["status"] == "connected").sum()),
        "cameras": int(masts["cameras"].sum()),
        "new_trench_m": round(sum(v for k, v in by_key.items() if k.startswith("trench.")), 1),
        "duct_m": by_key.get("laying.duct", 0.0),
        "aerial_m": by_key.get("laying.aerial", 0.0),
        "cable_m": round(sum(v for k, v in by_key.items() if k.startswith("cable.")), 1),
    }
