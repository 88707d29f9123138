"""Who pays what: each project owner's financing plan under a call for projects.

Pure. The DQE's lines (each split per mast), the AMO, the masts with their owner and the call in;
per project owner (a commune, an EPCI, the Département; the State for its own masts) its cost,
its eligible base per funder, the aid it asks, capped as the law caps it, and its own share out.

The computation is the one the workbook writes as formulas, to the cent:

- the owner's cost is its key (its share of the works: its masts' lines, and the shared lines in
  proportion) times the project's total (works and AMO);
- its base for a funder is its key of that funder's eligible spending times the eligible total,
  then at most the call's ceiling times its cameras;
- the aid asked is the base times the rate asked, for the owners the funder serves;
- public aid is capped at ``public_aid_cap`` % of the cost (CGCT L1111-10): funders are served in
  the call's order, the last ones lose what exceeds the cap;
- the owner's share is the rest.

A camera model the law reserves to the State (LAPI, CSI L233-1) on a mast of a commune, an EPCI
or the Département is in no local authority's plan: the mast goes to a bucket of its own,
financed by nobody, and the notes say why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from vigie.estimate.calls import Call, category_of
from vigie.estimate.rounding import money

RESERVED = "hors"
"""Owner kind of masts the law keeps out of local financing (State-reserved cameras)."""

OWNER_LABELS = {
    "commune": "Commune",
    "epci": "Intercommunalité",
    "departement": "Département",
    "etat": "État",
    RESERVED: "Hors financement",
}


@dataclass(frozen=True)
class MastOwner:
    """One mast as financing sees it."""

    mast_id: str
    commune: str
    owner: str
    """``commune``, ``epci``, ``departement`` or ``etat`` (the masts layer's ``owner``)."""
    cameras: int
    camera_model: str
    reserved: str = ""
    """The legal basis when its camera model is reserved to the State, else empty."""


@dataclass(frozen=True)
class Priced:
    """A priced line as financing needs it: amount, key, split per mast, schedule exclusion."""

    number: str
    key: str
    designation: str
    amount: float
    by_mast: dict[str, float]
    schedule_excluded: bool = False
    """``fipd_eligible: false`` in the price schedule: out of every funder's base."""


@dataclass(frozen=True)
class LineRule:
    """One line's eligibility for one funder, and the rule that decided it."""

    funder: str
    eligible: bool
    rule: str


@dataclass(frozen=True)
class LineEligibility:
    number: str
    key: str
    designation: str
    category: str
    amount: float
    rules: tuple[LineRule, ...]
    reserved_amount: float = 0.0
    """Part of the line on masts the law keeps out of local financing."""

    def eligible_for(self, funder: str) -> bool:
        return next(r.eligible for r in self.rules if r.funder == funder)


@dataclass(frozen=True)
class Aid:
    funder: str
    label: str
    applies: bool
    """Whether the funder serves this kind of owner."""
    key: float
    """The owner's share of the funder's eligible total."""
    base: float
    ceiling: float | None
    rate: float
    requested: float
    amount: float
    """After the cap on public aid."""

    @property
    def retained(self) -> float:
        """The base the rate applies to: after the ceiling, nothing where the funder does not
        serve this owner."""
        return retained_base(self.base, self.ceiling, applies=self.applies)


def retained_base(base: float, ceiling: float | None, *, applies: bool) -> float:
    """The eligible base at most the ceiling; 0 for an owner the funder does not serve."""
    if not applies:
        return 0.0
    return min(base, ceiling) if ceiling is not None else base


@dataclass(frozen=True)
class OwnerPlan:
    kind: str
    code: str
    nom: str
    epci: str
    masts: tuple[str, ...]
    communes: tuple[str, ...]
    cameras: int
    works_key: float
    total_ht: float
    aids: tuple[Aid, ...]
    cap: float
    own_share: float
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{OWNER_LABELS[self.kind]} {self.nom}".strip()

    @property
    def aid_total(self) -> float:
        return money(sum(a.amount for a in self.aids))

    @property
    def capped(self) -> bool:
        return any(a.amount < a.requested for a in self.aids)

    @property
    def local(self) -> bool:
        """A local authority that carries its cameras (and files an application)."""
        return self.kind in ("commune", "epci", "departement")


@dataclass(frozen=True)
class Financing:
    call: Call
    lines: tuple[LineEligibility, ...]
    eligible_totals: dict[str, float]
    """Per funder: eligible spending of the whole project (lines and AMO), before ceilings."""
    owners: tuple[OwnerPlan, ...]
    project_ht: float
    notes: tuple[str, ...] = ()
    amo_rules: tuple[LineRule, ...] = field(default_factory=tuple)

    def aid(self, funder: str) -> float:
        return money(sum(a.amount for o in self.owners for a in o.aids if a.funder == funder))

    def requested(self, funder: str) -> float:
        return money(sum(a.requested for o in self.owners for a in o.aids if a.funder == funder))

    def base(self, funder: str) -> float:
        """The eligible base of the owners the funder serves, after ceilings."""
        return money(sum(a.retained for o in self.owners for a in o.aids if a.funder == funder))

    @property
    def aid_total(self) -> float:
        return money(sum(o.aid_total for o in self.owners))

    @property
    def own_total(self) -> float:
        return money(sum(o.own_share for o in self.owners))


def finance(
    call: Call,
    lines: Sequence[Priced],
    amo: Priced,
    masts: Sequence[MastOwner],
    communes: dict[str, tuple[str, str]],
    *,
    epci_names: dict[str, str] | None = None,
) -> Financing:
    """Every owner's plan; ``communes`` maps an INSEE code to (name, EPCI SIREN)."""
    owner_of = {m.mast_id: _owner_key(m, communes) for m in masts}
    works = money(sum(line.amount for line in lines))
    project = money(works + amo.amount)
    parts = _parts(lines, owner_of)
    line_rules = [_rules(call, line, owner_of) for line in lines]
    amo_rules = _rules(call, amo, owner_of)
    eligible_totals = {}
    for funder in call.funders:
        total = sum(
            line.amount
            for line, rules in zip(lines, line_rules, strict=True)
            if _ok(rules, funder.key)
        )
        if _ok(amo_rules, funder.key):
            total += amo.amount
        eligible_totals[funder.key] = money(total)
    context = _Context(call, line_rules, amo_rules, amo.amount, eligible_totals, works, project)
    owners = tuple(
        _owner_plan(
            owner,
            parts[owner],
            [m for m in masts if owner_of[m.mast_id] == owner],
            context,
            _name(owner, communes, epci_names or {}),
        )
        for owner in sorted(parts, key=_order)
    )
    reserved_masts = {m for m, o in owner_of.items() if o[0] == RESERVED}
    return Financing(
        call=call,
        lines=tuple(
            _line_eligibility(line, rules, reserved_masts)
            for line, rules in zip(lines, line_rules, strict=True)
        ),
        eligible_totals=eligible_totals,
        owners=owners,
        project_ht=project,
        notes=tuple(_notes(call, masts, owner_of)),
        amo_rules=amo_rules,
    )


@dataclass(frozen=True)
class _Context:
    """What every owner's plan is computed against."""

    call: Call
    line_rules: list[tuple[LineRule, ...]]
    amo_rules: tuple[LineRule, ...]
    amo: float
    eligible_totals: dict[str, float]
    works: float
    project: float


def _parts(
    lines: Sequence[Priced], owner_of: dict[str, tuple[str, str]]
) -> dict[tuple[str, str], dict[int, float]]:
    """Per owner, its amount of each line: its masts' parts, and the unattributed parts spread
    in proportion to what it already carries."""
    assigned: dict[tuple[str, str], dict[int, float]] = defaultdict(lambda: defaultdict(float))
    unassigned: dict[int, float] = defaultdict(float)
    for i, line in enumerate(lines):
        measured = sum(line.by_mast.values())
        if not measured:
            unassigned[i] += line.amount
            continue
        for mast, q in line.by_mast.items():
            part = line.amount * q / measured
            if mast in owner_of:
                assigned[owner_of[mast]][i] += part
            else:
                unassigned[i] += part
    weight = {o: sum(own.values()) for o, own in assigned.items()}
    weight_total = sum(weight.values())
    parts = {}
    for owner, own in assigned.items():
        share = weight[owner] / weight_total if weight_total else 0.0
        parts[owner] = {
            i: own.get(i, 0.0) + unassigned.get(i, 0.0) * share for i in range(len(lines))
        }
    return parts


def _owner_plan(
    owner: tuple[str, str],
    own: dict[int, float],
    masts: list[MastOwner],
    context: _Context,
    names: tuple[str, str],
) -> OwnerPlan:
    works_key = sum(own.values()) / context.works if context.works else 0.0
    total_ht = money(works_key * context.project)
    cameras = sum(m.cameras for m in masts)
    cap = money(total_ht * context.call.public_aid_cap / 100.0)
    aids, granted = [], 0.0
    for funder in context.call.funders:
        eligible_part = sum(
            own[i] for i, rules in enumerate(context.line_rules) if _ok(rules, funder.key)
        )
        if _ok(context.amo_rules, funder.key):
            eligible_part += works_key * context.amo
        total_f = context.eligible_totals[funder.key]
        key = eligible_part / total_f if total_f else 0.0
        base = money(key * total_f)
        ceiling = (
            money(funder.ceiling_per_camera * cameras)
            if funder.ceiling_per_camera is not None
            else None
        )
        applies = owner[0] in funder.owners
        kept = retained_base(base, ceiling, applies=applies)
        requested = money(kept * funder.requested_rate / 100.0)
        amount = money(min(requested, max(0.0, money(cap - granted))))
        granted = money(granted + amount)
        rate = funder.requested_rate if applies else 0.0
        aids.append(
            Aid(funder.key, funder.label, applies, key, base, ceiling, rate, requested, amount)
        )
    return OwnerPlan(
        kind=owner[0],
        code=owner[1],
        nom=names[0],
        epci=names[1],
        masts=tuple(sorted(m.mast_id for m in masts)),
        communes=tuple(sorted({m.commune for m in masts})),
        cameras=cameras,
        works_key=works_key,
        total_ht=total_ht,
        aids=tuple(aids),
        cap=cap,
        own_share=money(total_ht - granted),
        notes=tuple(_owner_notes(owner[0], masts)),
    )


def _line_eligibility(
    line: Priced, rules: tuple[LineRule, ...], reserved_masts: set[str]
) -> LineEligibility:
    measured = sum(line.by_mast.values())
    reserved = (
        sum(q for m, q in line.by_mast.items() if m in reserved_masts) / measured * line.amount
        if measured
        else 0.0
    )
    return LineEligibility(
        line.number,
        line.key,
        line.designation,
        category_of(line.key),
        line.amount,
        rules,
        money(reserved),
    )


def _owner_key(mast: MastOwner, communes: dict[str, tuple[str, str]]) -> tuple[str, str]:
    owner = mast.owner or "commune"
    if mast.reserved:  # set only where the law refuses the model to this owner
        return RESERVED, "reserve-etat"
    if owner == "epci":
        return "epci", communes.get(mast.commune, ("", ""))[1] or f"epci-de-{mast.commune}"
    if owner == "departement":
        return "departement", "departement"
    if owner == "etat":
        return "etat", "etat"
    return "commune", mast.commune


def _order(owner: tuple[str, str]) -> tuple[int, str]:
    return (list(OWNER_LABELS).index(owner[0]), owner[1])


def _name(
    owner: tuple[str, str], communes: dict[str, tuple[str, str]], epci_names: dict[str, str]
) -> tuple[str, str]:
    kind, code = owner
    if kind == "commune":
        nom, epci = communes.get(code, ("", ""))
        return nom or code, epci
    if kind == "epci":
        return epci_names.get(code, code), code
    if kind == "departement":
        return "de l'Eure", ""
    if kind == "etat":
        return "(ministère de l'Intérieur, gendarmerie)", ""
    return "(caméras réservées à l'État sur des mâts de collectivités)", ""


def _rules(call: Call, line: Priced, owner_of: dict[str, tuple[str, str]]) -> tuple[LineRule, ...]:
    """Per funder: the call's rule for the line's category, unless the price schedule excludes
    the line, or the line lies only on masts of owners the funder does not serve (the State's
    own, or State-reserved cameras on local masts): then nobody could ask for it."""
    category = category_of(line.key)
    kinds = _owner_kinds(line, owner_of)
    rules = []
    for funder in call.funders:
        if line.schedule_excluded:
            rules.append(
                LineRule(
                    funder.key, False, "exclu par le bordereau des prix (fipd_eligible: false)"
                )
            )
            continue
        eligible, rule = funder.rule(category)
        if eligible and kinds is not None and not kinds & set(funder.owners):
            eligible, rule = False, _nobody_served(kinds)
        rules.append(LineRule(funder.key, eligible, rule))
    return tuple(rules)


def _owner_kinds(line: Priced, owner_of: dict[str, tuple[str, str]]) -> set[str] | None:
    """The kinds of owner whose masts carry the line; None when part of it is shared by all."""
    if not sum(line.by_mast.values()):
        return None
    kinds = set()
    for mast, q in line.by_mast.items():
        if q and mast not in owner_of:
            return None
        if q:
            kinds.add(owner_of[mast][0])
    return kinds


def _nobody_served(kinds: set[str]) -> str:
    if kinds == {RESERVED}:
        return (
            "exclu : caméras réservées à l'État sur des mâts de collectivités (Code de la "
            "sécurité intérieure, art. L233-1)"
        )
    if kinds <= {RESERVED, "etat"}:
        return "hors de l'appel : mâts de l'État, financés par le ministère de l'Intérieur"
    return (
        "hors de l'appel : aucun des maîtres d'ouvrage de cette ligne n'est aidé par ce financeur"
    )


def _ok(rules: tuple[LineRule, ...], funder: str) -> bool:
    return next(r.eligible for r in rules if r.funder == funder)


def _owner_notes(kind: str, mine: list[MastOwner]) -> list[str]:
    if kind == RESERVED:
        return [
            f"Mât {m.mast_id} (commune {m.commune}, propriétaire {m.owner or 'commune'}) : "
            f"{m.camera_model} — {m.reserved.rstrip('.')}. Exclu du financement de la "
            "collectivité : à transférer à l'État ou à retirer du projet."
            for m in mine
        ]
    if kind == "etat":
        return [
            "Mâts de l'État : financés sur les crédits du ministère de l'Intérieur, hors appel "
            f"à projets ({len(mine)} mât(s))."
        ]
    return []


def _notes(
    call: Call, masts: Sequence[MastOwner], owner_of: dict[str, tuple[str, str]]
) -> list[str]:
    notes = [
        f"Appel à projets : {call.title} ({call.year}). Source : {call.source}",
        "Les taux sont ceux sollicités, pas des aides acquises : chaque financeur décide "
        "projet par projet, dans la limite du taux maximal de l'appel.",
        f"Aides publiques plafonnées à {call.public_aid_cap:g} % du coût de chaque projet : "
        f"{call.cap_source}",
    ]
    reserved = [m.mast_id for m in masts if owner_of[m.mast_id][0] == RESERVED]
    if reserved:
        notes.append(
            f"{len(reserved)} mât(s) de collectivité portent des caméras réservées à l'État "
            f"({', '.join(reserved[:10])}{'…' if len(reserved) > 10 else ''}) : exclus du "
            "financement des collectivités (Code de la sécurité intérieure, art. L233-1)."
        )
    return notes
