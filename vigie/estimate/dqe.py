"""The DQE (détail quantitatif estimatif) of a plan: priced lines in lots, totals and financing.

Composes the two catalogues, which do not know each other: civil works, fibre and electricity
(`planning.prices`, quantities from `planning.quantities`) and masts, cameras and per-mast
equipment (`cameras.catalogue`). Pure: a plan folder already read, the catalogues and a call for
projects in, an `Estimate` out; the writers (`vigie.estimate.workbook`, `vigie.estimate.files`)
only lay it out.

Every quantity is split per mast (the quantity rules split by the masts layer's ``commune``
column; the estimate gives each mast its own key), so the works follow each mast to its commune
and to its project owner (`vigie.estimate.financing`). The AMO is a contract of its own
(`vigie.estimate.amo`), outside the works lots.

Amounts are rounded to the cent exactly as the workbook's formulas do (``ROUND(q*p; 2)``, half
away from zero), so the JSON and the recalculated workbook agree to the cent.
"""

from __future__ import annotations

import copy
import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from cameras.catalogue import (
    SEPARATE_SUPPLY,
    CameraModel,
    Catalogue,
    CatalogueError,
    PricedItem,
)
from cameras.poe import choose_poe
from planning import french
from planning.plan_folder import PlanFolder
from planning.prices import PriceCatalogue, PriceItem
from planning.quantities import Quantity, mast_inventory, plan_quantities
from vigie.estimate.amo import AMO_KEY, AmoEstimate, amo_estimate
from vigie.estimate.calls import Call, load_call
from vigie.estimate.financing import Financing, MastOwner, Priced, finance
from vigie.estimate.leases import RunningCosts, leased_link_quantities, running_costs
from vigie.estimate.rounding import money

__all__ = ["DqeLine", "Estimate", "Lot", "build_estimate", "money"]

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
    schedule_eligible: bool = True
    """False when the price schedule takes the line out of every aid (``fipd_eligible: false``)."""
    basis: str = ""
    by_mast: dict[str, float] = field(default_factory=dict)
    """Quantity per mast id (``""``: shared, not attributed), summing to ``quantity``."""
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
    amo: AmoEstimate
    """The AMO contract, priced apart from the works."""
    vat_rate: float
    financing: Financing
    catalogue: list[dict[str, Any]]
    """Every price and rule used, with unit, year and source (the assumptions sheet)."""
    notes: list[str]
    figures: dict[str, float]
    """Headline quantities: masts, cameras, metres of new trench…"""
    running: RunningCosts = field(default_factory=RunningCosts)
    """Yearly rents and leases of the plan (beside the investment, never inside it)."""
    running_by_owner: dict[tuple[str, str], float] = field(default_factory=dict)
    """Yearly running costs HT per project owner (kind, code)."""
    reconciliation: list[Reconciliation] = field(default_factory=list)
    plan_cost: float | None = None
    """``summary.json``'s ``totals.cost_eur``: the fibre network as the plan priced it."""

    @property
    def lines(self) -> list[DqeLine]:
        """The works lines, lot by lot (the AMO is not one of them)."""
        return [line for lot in self.lots for line in lot.lines]

    @property
    def works_ht(self) -> float:
        return money(sum(lot.subtotal for lot in self.lots))

    @property
    def works_vat(self) -> float:
        return money(self.works_ht * self.vat_rate / 100.0)

    @property
    def works_ttc(self) -> float:
        return money(self.works_ht + self.works_vat)

    @property
    def total_ht(self) -> float:
        """The project: works and AMO."""
        return money(self.works_ht + self.amo.amount)

    @property
    def vat(self) -> float:
        return money(self.works_vat + self.amo.vat)

    @property
    def total_ttc(self) -> float:
        return money(self.total_ht + self.vat)

    @property
    def fipd(self) -> float:
        """The FIPD aid asked, all owners (after ceilings and the cap on public aid)."""
        return self.financing.aid("fipd") if self.financing.call.has("fipd") else 0.0

    @property
    def aids(self) -> float:
        return self.financing.aid_total

    @property
    def rest_ht(self) -> float:
        """What the project owners (and the State for its own masts) pay themselves."""
        return money(self.total_ht - self.aids)

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
        financing = self.financing
        return {
            **{f"lot_{lot.number}_ht": lot.subtotal for lot in self.lots},
            "works_ht": self.works_ht,
            "works_vat": self.works_vat,
            "works_ttc": self.works_ttc,
            "amo_ht": self.amo.amount,
            "amo_ttc": self.amo.ttc,
            "total_ht": self.total_ht,
            "vat": self.vat,
            "total_ttc": self.total_ttc,
            **{f"eligible_{f.key}": financing.base(f.key) for f in financing.call.funders},
            **{f"aid_{f.key}": financing.aid(f.key) for f in financing.call.funders},
            "fipd": self.fipd,
            "aids_ht": self.aids,
            "rest_ht": self.rest_ht,
            "running_ht_per_year": self.running_ht,
            "running_ttc_per_year": self.running_ttc,
            "horizon_years": self.running.horizon_years,
            "tco_ht": self.tco_ht,
        }


def build_estimate(
    folder: PlanFolder,
    prices: PriceCatalogue,
    catalogue: Catalogue,
    call: Call | None = None,
    epci_names: dict[str, str] | None = None,
) -> Estimate:
    """Price a plan: quantities, lines in lots, the AMO apart, totals and each owner's financing.

    Masts a budget-constrained plan deferred (`vigie plan --budget`) are left out: neither their
    fibre nor their equipment is in this phase; a note lists them.
    """
    call = call or load_call()
    folder, deferred = _without_deferred(folder)
    by_mast = _keyed_by_mast(folder)
    leased = leased_link_quantities(by_mast.summary)
    running = running_costs(by_mast.summary)
    quantities = [*plan_quantities(by_mast, prices), *_equipment(by_mast, catalogue)]
    quantities += [quantity for quantity, _ in leased]
    entries = _entries(prices, catalogue)
    entries.update({item.key: item for _, item in leased})
    order = {key: i for i, key in enumerate(entries)}
    commune_of = _commune_of(folder)
    lots = []
    for number, title, prefixes in LOTS:
        mine = sorted(
            (q for q in quantities if q.key.startswith(prefixes)),
            key=lambda q, prefixes=prefixes: (_rank(q.key, prefixes), order[q.key]),
        )
        lines = [
            _line(f"{number}.{rank:02d}", q, entries[q.key], commune_of)
            for rank, q in enumerate(mine, 1)
        ]
        lots.append(Lot(number, title, lines))
    works = money(sum(lot.subtotal for lot in lots))
    amo = amo_estimate(works, prices)
    masts = _mast_owners(folder, catalogue)
    financing = finance(
        call,
        [
            Priced(
                line.number,
                line.key,
                line.designation,
                line.amount,
                line.by_mast,
                not line.schedule_eligible,
            )
            for lot in lots
            for line in lot.lines
        ],
        Priced("AMO", AMO_KEY, prices.rules["amo_rate"].label, amo.amount, {}),
        masts,
        _communes(folder),
        epci_names=epci_names,
    )
    estimate = Estimate(
        source=str(folder.path),
        lots=lots,
        amo=amo,
        vat_rate=prices.rules["vat_rate"].value,
        financing=financing,
        catalogue=[_catalogue_row(k, e) for k, e in entries.items()]
        + [_catalogue_row(r.key, r, amount="value") for r in prices.rules.values()],
        notes=_notes(folder) + _deferred_notes(deferred) + running.notes + list(financing.notes),
        figures=_figures(folder, quantities),
        running=dataclasses.replace(
            running, by_commune=_per_commune(running.by_commune, commune_of)
        ),
        running_by_owner=_running_by_owner(running.by_commune, financing),
    )
    return dataclasses.replace(
        estimate,
        reconciliation=_reconciliation(folder, estimate),
        plan_cost=folder.summary.get("totals", {}).get("cost_eur"),
    )


def _keyed_by_mast(folder: PlanFolder) -> PlanFolder:
    """The folder with each mast's ``commune`` replaced by its own id, so every quantity rule
    (which splits by commune) splits by mast instead."""
    masts = folder.layers["masts"].copy()
    masts["commune"] = masts["mast_id"].astype(str)
    summary = copy.deepcopy(folder.summary)
    for mast in summary.get("masts", []):
        mast["commune"] = str(mast["mast_id"])
    return dataclasses.replace(folder, layers={**folder.layers, "masts": masts}, summary=summary)


def _commune_of(folder: PlanFolder) -> dict[str, str]:
    masts = folder.layers["masts"]
    return dict(zip(masts["mast_id"].astype(str), masts["commune"].astype(str), strict=True))


def _per_commune(split: dict[str, float], commune_of: dict[str, str]) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for mast, value in split.items():
        out[commune_of.get(mast, "")] += value
    return {code: value for code, value in sorted(out.items()) if value}


def _communes(folder: PlanFolder) -> dict[str, tuple[str, str]]:
    info = folder.summary.get("communes", {})
    return {code: (str(v.get("nom", "")), str(v.get("epci", ""))) for code, v in info.items()}


def _mast_owners(folder: PlanFolder, catalogue: Catalogue) -> list[MastOwner]:
    masts = folder.layers["masts"]
    owners = (
        masts["owner"].fillna("").astype(str).str.strip() if "owner" in masts else [""] * len(masts)
    )
    result = []
    for m, commune, n, model, owner in zip(
        masts["mast_id"].astype(str),
        masts["commune"].astype(str),
        masts["cameras"],
        masts["camera_model"].fillna("").astype(str),
        owners,
        strict=True,
    ):
        kind = owner or "commune"
        refused = catalogue.refused(model, kind)
        reserved = (refused.legal_basis or "caméra réservée à l'État") if refused else ""
        result.append(MastOwner(m, commune, kind, int(n), model, reserved))
    return result


def _running_by_owner(
    by_mast: dict[str, float], financing: Financing
) -> dict[tuple[str, str], float]:
    """Each owner's yearly running costs: its masts' own and its masts' share of the links they
    use; what no mast carries is spread like the works."""
    mast_owner = {m: (o.kind, o.code) for o in financing.owners for m in o.masts}
    out: dict[tuple[str, str], float] = defaultdict(float)
    unassigned = 0.0
    for mast, value in by_mast.items():
        if mast in mast_owner:
            out[mast_owner[mast]] += value
        else:
            unassigned += value
    for owner in financing.owners:
        out[(owner.kind, owner.code)] += unassigned * owner.works_key
    return {k: money(v) for k, v in out.items()}


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


def _line(
    number: str, quantity: Quantity, item: PriceItem | PricedItem, commune_of: dict[str, str]
) -> DqeLine:
    return DqeLine(
        number=number,
        key=quantity.key,
        designation=item.label,
        unit=quantity.unit,
        quantity=quantity.quantity,
        unit_price=item.price,
        amount=money(quantity.quantity * item.price),
        schedule_eligible=item.fipd_eligible,
        basis=quantity.basis,
        by_mast=quantity.by_commune,
        by_commune=_per_commune(quantity.by_commune, commune_of),
    )


def _equipment(folder: PlanFolder, catalogue: Catalogue) -> list[Quantity]:
    """Masts by height, cameras by model, per-mast network equipment and installation.

    Each mast's PoE switches and separate supplies are chosen by `cameras.poe.choose_poe`.
    """
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
        per_mast += [f"network.{key}" for key in catalogue.per_mast_network]
        for key in per_mast:
            counts[key][mast.commune] += 1
        for key, count in _poe_equipment(model, mast.cameras, catalogue):
            counts[key][mast.commune] += count
        for key in (f"cameras.{model.key}", "installation.camera"):
            counts[key][mast.commune] += mast.cameras
        counts["installation.supervision_licence"][mast.commune] += mast.cameras
    basis = {
        "masts": "un mât par site, de la hauteur demandée par son modèle de caméra",
        "cameras": "caméras du plan, par modèle",
        "network": "un par mât",
        **{f"network.{key}": _SWITCH_BASIS for key in catalogue.switches},
        f"network.{SEPARATE_SUPPLY}": (
            "une par caméra qu'aucun port PoE du catalogue ne peut alimenter (trop gourmande)"
        ),
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


_SWITCH_BASIS = (
    "par mât, le commutateur PoE le moins cher dont les ports, la puissance par port (classe "
    "802.3af/at/bt) et le budget PoE alimentent ses caméras (puissance de la caméra plus la perte "
    "en ligne maximale de sa classe) ; plusieurs quand les ports ou le budget ne suffisent pas"
)


def _poe_equipment(model: CameraModel, cameras: int, catalogue: Catalogue) -> list[tuple[str, int]]:
    """A mast's PoE switches and separate supplies, as (DQE key, count) pairs."""
    choice = choose_poe(
        [model] * cameras, catalogue.switches.values(), catalogue.separate_supply.price
    )
    found = []
    if choice.switch is not None and choice.switches:
        found.append((f"network.{choice.switch}", choice.switches))
    if choice.separate:
        found.append((f"network.{SEPARATE_SUPPLY}", choice.separate))
    return found


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
            tuple(i for i, line in enumerate(lines) if line.key.startswith(prefixes)),
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
