"""What a plan leases: one-off access fees and NRO switches (investment), yearly rents (running).

`vigie plan` prices reuse as yearly rents (`planning.parameters.RentParameters`) and writes them to
``summary.json``: per owner the reused ducts and poles, the leased links to the CSU, and per mast
its share. This module turns that into lines a project manager can check and edit: quantity, unit,
unit price per year, owner, and where each price comes from.

The prices are the plan's own (``summary.json`` → ``parameters``), not the estimate's catalogue:
the router chose to rent or to dig with them, so `vigie plan --params` changes them. Each line's
quantity is the plan's (its rent divided by its rate), so the lines add up to the plan's yearly
total to the cent. A plan written before the rents existed gets no line, and a note.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from planning.french import number, with_unit
from planning.parameters import CostParameters, ParameterError, PlanParameters, RentParameters
from planning.prices import PriceItem
from planning.quantities import Quantity

ESTIMATE_YEAR = 2026
"""The year Vigie's own estimates were made (as in ``planning/prices.yaml``)."""


@dataclass(frozen=True)
class PriceSource:
    """A parameter as the workbook shows it: French label, unit, source, estimate or not."""

    label: str
    unit: str
    source: str
    estimate: bool


SOURCES: dict[str, PriceSource] = {
    "orange_duct_eur_per_m_year": PriceSource(
        "Location de fourreau Orange (offre GC BLO), par mètre de câble et par an",
        "m",
        "Estimation Vigie d'après la hausse du tarif GC BLO d'Orange en 2024 (Avicca, "
        "février 2024 : « bien au-delà de 100 % » en un an) ; aucune grille publique trouvée",
        True,
    ),
    "orange_pole_eur_per_m_year": PriceSource(
        "Location d'appuis aériens Orange, par mètre de câble et par an",
        "m",
        "Estimation Vigie : environ 12 € par appui et par an, portées de 40 m",
        True,
    ),
    "enedis_pole_eur_per_m_year": PriceSource(
        "Location d'appuis communs Enedis (basse tension), par mètre de câble et par an",
        "m",
        "Estimation Vigie : environ 10 € par appui et par an, portées de 40 m",
        True,
    ),
    "public_duct_eur_per_m_year": PriceSource(
        "Location de fourreau du réseau d'initiative publique, par mètre de câble et par an",
        "m",
        "Estimation Vigie : en général sous le tarif d'Orange ; aucune grille publique trouvée",
        True,
    ),
    "public_aerial_eur_per_m_year": PriceSource(
        "Location d'appuis aériens du réseau d'initiative publique, par mètre de câble et par an",
        "m",
        "Estimation Vigie ; aucune grille publique trouvée",
        True,
    ),
    "ftth_fibre_eur_per_km_year": PriceSource(
        "Fibres FttH louées du point de raccordement jusqu'au NRO, par km de fibre et par an",
        "km",
        "Estimation Vigie ; aucune grille publique trouvée",
        True,
    ),
    "dark_fibre_eur_per_km_year": PriceSource(
        "Fibre noire louée, par km de fibre et par an",
        "km",
        "Estimation Vigie ; aucune grille publique trouvée",
        True,
    ),
    "nro_hosting_eur_per_year": PriceSource(
        "Hébergement d'un commutateur d'agrégation au NRO (baie, énergie), par an",
        "u",
        "Estimation Vigie ; aucune grille publique trouvée",
        True,
    ),
    "dark_fibre_access_eur": PriceSource(
        "Frais d'accès d'un lien loué en fibre noire (NRO-CSU ou CSU-gendarmerie)",
        "u",
        "Estimation Vigie ; aucune grille publique trouvée",
        True,
    ),
    "nro_switch_eur": PriceSource(
        "Commutateur d'agrégation industriel au NRO avec ses optiques, fourni posé",
        "u",
        "Estimation Vigie ; aucun chiffre public",
        True,
    ),
}
"""French labels and sources of the rent parameters; the tests check the estimate marks against
the docstrings of `planning.parameters`, the one place the figures are justified."""

OVERRIDDEN = "Valeur donnée à vigie plan (--params)"


@dataclass(frozen=True)
class RunningLine:
    """One yearly cost: quantity x unit price per year, and who is paid where known."""

    number: str
    item: str
    """The ``summary.json`` item it belongs to: rent_duct, rent_aerial, leased_fibres,
    leased_links."""
    key: str
    """The parameter its unit price comes from (``orange_duct_eur_per_m_year``)."""
    designation: str
    owner: str
    unit: str
    quantity: float
    unit_price: float
    amount: float
    source: str
    estimate: bool
    basis: str = ""


@dataclass(frozen=True)
class RunningCosts:
    """The plan's yearly running costs, € HT, and the horizon of its total cost of ownership."""

    lines: list[RunningLine] = field(default_factory=list)
    horizon_years: int = RentParameters.horizon_years
    plan_total: float = 0.0
    """``summary.json``'s ``running_eur_per_year`` (0 for an older plan)."""
    by_commune: dict[str, float] = field(default_factory=dict)
    """Per INSEE code: its masts' ``running_eur_year`` and their share of the leased links."""
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return round(sum(line.amount for line in self.lines), 2)


def plan_parameters(summary: dict[str, Any]) -> tuple[PlanParameters, list[str]]:
    """The parameters the plan was made with; the defaults (and a note) when unreadable."""
    wanted = {k: v for k, v in summary.get("parameters", {}).items() if k in ("cost", "rent")}
    try:
        return PlanParameters.from_dict(wanted), []
    except ParameterError as error:
        note = f"Paramètres de loyer du plan illisibles ({error}) : valeurs par défaut."
        return PlanParameters(), [note]


def leased_link_quantities(summary: dict[str, Any]) -> list[tuple[Quantity, PriceItem]]:
    """The one-off investment of the leased links: access fees, and a switch per NRO link.

    The plan counts them in ``totals.leased_links_access_eur``; the DQE did not have them.
    """
    links = summary.get("links") or []
    if not links:
        return []
    params, _ = plan_parameters(summary)
    aggregated = bool(summary.get("parameters", {}).get("transport", {}).get("aggregate_at_nro"))
    shares = _route_shares(summary)
    nro_links = [link for link in links if link.get("kind") == "nro_csu"]
    out = [
        (
            Quantity(
                "transport.link_access",
                len(links),
                "u",
                f"un par lien loué du plan : {len(nro_links)} NRO-CSU, "
                f"{len(links) - len(nro_links)} CSU-gendarmerie",
                _split_links(links, shares),
            ),
            _price_item("transport.link_access", "dark_fibre_access_eur", params),
        )
    ]
    switched = [link for link in links if _switches_of(link, aggregated)]
    if switched:
        out.append(
            (
                Quantity(
                    "transport.nro_switch",
                    sum(_switches_of(link, aggregated) for link in links),
                    "u",
                    "un par NRO relié au CSU (les mâts y sont agrégés sur un lien), et un par "
                    "relais d'un lien trop long pour ses optiques",
                    _split_links(switched, shares),
                ),
                _price_item("transport.nro_switch", "nro_switch_eur", params),
            )
        )
    return out


def _switches_of(link: dict, aggregated: bool) -> int:
    """Switches a leased link needs: one at its NRO when the masts are aggregated there, and
    one at each relay of a link too long for its optics (``relays``, plan format 2 since
    issue 18)."""
    at_nro = 1 if aggregated and link.get("kind") == "nro_csu" else 0
    return at_nro + int(link.get("relays", 0) or 0)


def _price_item(key: str, parameter: str, params: PlanParameters) -> PriceItem:
    value, source, estimate = _price(parameter, params)
    return PriceItem(
        key=key,
        label=SOURCES[parameter].label,
        unit=SOURCES[parameter].unit,
        price=value,
        year=ESTIMATE_YEAR,
        source=source,
        estimate=estimate,
        note="Prix du plan (paramètres de vigie plan), pas du bordereau --prices.",
    )


def _price(parameter: str, params: PlanParameters) -> tuple[float, str, bool]:
    """The plan's value of ``parameter``, its source, and whether it is an estimate."""
    if parameter == "nro_switch_eur":
        value, default = params.cost.nro_switch_eur, CostParameters().nro_switch_eur
    else:
        value, default = getattr(params.rent, parameter), getattr(RentParameters(), parameter)
    if value != default:
        return float(value), OVERRIDDEN, False
    return float(value), SOURCES[parameter].source, SOURCES[parameter].estimate


def rate_parameter(owner: str | None, mode: str) -> str:
    """The `RentParameters` field that prices reuse of ``mode`` owned by ``owner``.

    Mirrors `RentParameters.duct_rate`'s matching by name (a test keeps them together).
    """
    name = (owner or "").lower()
    if "orange" in name:
        return "orange_duct_eur_per_m_year" if mode == "duct" else "orange_pole_eur_per_m_year"
    if "enedis" in name and mode == "aerial":
        return "enedis_pole_eur_per_m_year"
    return "public_duct_eur_per_m_year" if mode == "duct" else "public_aerial_eur_per_m_year"


def running_costs(summary: dict[str, Any]) -> RunningCosts:
    """The yearly running costs of a plan from its ``summary.json``, line by line."""
    totals = summary.get("totals", {})
    if "running_eur_per_year" not in totals:
        return RunningCosts(
            notes=[
                "Plan écrit par une version antérieure de Vigie : summary.json ne contient ni "
                "loyers ni locations ; les coûts d'exploitation sont comptés à zéro. Relancez "
                "vigie plan pour les obtenir."
            ]
        )
    params, notes = plan_parameters(summary)
    by_item = totals.get("running_eur_per_year_by_item", {})
    aggregated = bool(summary.get("parameters", {}).get("transport", {}).get("aggregate_at_nro"))
    lines = [*_owner_lines(summary, params)]
    links = summary.get("links") or []
    nro_links = [link for link in links if link.get("kind") == "nro_csu"]
    passive_links = 0.0 if aggregated else sum(float(k["rent_eur_year"]) for k in nro_links)
    leased_fibres = float(by_item.get("leased_fibres", 0.0)) - passive_links
    lines.append(_fibre_line(summary, params, leased_fibres))
    hosting = params.rent.nro_hosting_eur_per_year
    switches = 0
    for link in links:
        own = _switches_of(link, aggregated)
        switches += own
        rent = float(link["rent_eur_year"]) - hosting * own
        lines.append(_link_line(link, params, round(rent, 2), aggregated))
    if switches:
        lines.append(
            _line(
                "leased_links",
                "nro_hosting_eur_per_year",
                SOURCES["nro_hosting_eur_per_year"].label,
                "",
                quantity=switches,
                unit="u",
                price=_price("nro_hosting_eur_per_year", params),
                basis="un commutateur hébergé par NRO relié au CSU, et un par relais",
            )
        )
    lines = [line for line in lines if line.amount or line.quantity]
    numbered = [_numbered(line, i) for i, line in enumerate(lines, 1)]
    running = RunningCosts(
        lines=numbered,
        horizon_years=int(totals.get("horizon_years", params.rent.horizon_years)),
        plan_total=float(totals["running_eur_per_year"]),
        by_commune=_by_commune(
            summary,
            links if aggregated else [link for link in links if link.get("kind") != "nro_csu"],
        ),
        notes=notes,
    )
    if abs(running.total - running.plan_total) > 0.01:
        running.notes.append(
            f"Les lignes ({number(running.total, 2)} €/an) diffèrent du total du plan "
            f"({number(running.plan_total, 2)} €/an, summary.json) : arrondis par propriétaire."
        )
    return running


def _numbered(line: RunningLine, rank: int) -> RunningLine:
    return RunningLine(**{**line.__dict__, "number": f"E.{rank:02d}"})


def _line(
    item: str,
    key: str,
    designation: str,
    owner: str,
    *,
    quantity: float,
    unit: str,
    price: tuple[float, str, bool],
    basis: str,
    amount: float | None = None,
) -> RunningLine:
    """A line; given the plan's ``amount``, its quantity is the plan's (amount / price)."""
    value, source, estimate = price
    if amount is not None and value > 0:
        quantity = amount / value
    computed = round(quantity * value, 2) if amount is None else round(amount, 2)
    return RunningLine(
        "", item, key, designation, owner, unit, quantity, value, computed, source, estimate, basis
    )


def _owner_lines(summary: dict[str, Any], params: PlanParameters) -> list[RunningLine]:
    lines = []
    for row in summary.get("owners") or []:
        mode, owner = str(row["mode"]), str(row["owner"])
        parameter = rate_parameter(owner, mode)
        laid = "fourreau" if mode == "duct" else "appuis aériens"
        route_m = with_unit(float(row["length_m"]), "m", 1)
        lines.append(
            _line(
                f"rent_{mode}",
                parameter,
                SOURCES[parameter].label,
                owner,
                quantity=float(row["length_m"]),
                unit="m",
                price=_price(parameter, params),
                basis=f"{route_m} de parcours en {laid} réutilisés ; "
                "quantité en mètres de câble (le second câble d'un mât critique paie aussi)",
                amount=float(row["rent_eur_year"]),
            )
        )
    return lines


def _fibre_line(summary: dict[str, Any], params: PlanParameters, amount: float) -> RunningLine:
    fibres = int(summary.get("parameters", {}).get("network", {}).get("fibres_per_mast", 2))
    routes = [r for m in summary.get("masts", []) for r in (m.get("primary"), m.get("secondary"))]
    upstream = sum(float(r.get("upstream_m", 0.0)) for r in routes if r)
    km = with_unit(upstream / 1000, "km", 2)
    return _line(
        "leased_fibres",
        "ftth_fibre_eur_per_km_year",
        SOURCES["ftth_fibre_eur_per_km_year"].label,
        "opérateur du réseau FttH",
        quantity=fibres * upstream / 1000,
        unit="km",
        price=_price("ftth_fibre_eur_per_km_year", params),
        basis=f"{fibres} fibres par liaison sur {km} de réseau FttH "
        "existant, du nœud de raccordement au NRO",
        amount=amount,
    )


def _link_line(
    link: dict[str, Any], params: PlanParameters, amount: float, aggregated: bool
) -> RunningLine:
    kind = "NRO-CSU" if link.get("kind") == "nro_csu" else "CSU-gendarmerie"
    km = float(link["length_m"]) / 1000
    fibres = int(link.get("fibres", 2))
    where = "le long des voies" if link.get("on_network") else "à vol d'oiseau, majoré"
    basis = f"{fibres} fibres sur {with_unit(km, 'km', 2)} ({where})"
    if kind == "NRO-CSU" and not aggregated:
        basis += " ; une paire par mât, sans agrégation au NRO"
    return _line(
        "leased_links",
        "dark_fibre_eur_per_km_year",
        f"Lien loué en fibre noire {kind} : {link['from_id']} → {link['to_id']} "
        f"({with_unit(km, 'km', 2)})",
        "",
        quantity=fibres * km,
        unit="km",
        price=_price("dark_fibre_eur_per_km_year", params),
        basis=basis,
        amount=amount,
    )


def _route_nro(route: dict[str, Any]) -> str:
    chain = route.get("chain") or []
    return str(chain[-1]) if chain else str(route.get("node_id", ""))


def _route_shares(summary: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per NRO id (and ``""`` for all), the number of routes behind it per commune."""
    shares: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for mast in summary.get("masts", []):
        for route in (mast.get("primary"), mast.get("secondary")):
            if route:
                shares[_route_nro(route)][str(mast["commune"])] += 1.0
                shares[""][str(mast["commune"])] += 1.0
    return shares


def _split_links(
    links: list[dict[str, Any]],
    shares: dict[str, dict[str, float]],
    weights: list[float] | None = None,
) -> dict[str, float]:
    """Each link (or its weight) split between the communes of the routes it carries."""
    split: dict[str, float] = defaultdict(float)
    for i, link in enumerate(links):
        weight = 1.0 if weights is None else weights[i]
        behind = shares.get(str(link["from_id"])) if link.get("kind") == "nro_csu" else None
        behind = behind or shares.get("") or {"": 1.0}
        count = sum(behind.values())
        for code, n in behind.items():
            split[code] += weight * n / count
    return dict(sorted(split.items()))


def _by_commune(summary: dict[str, Any], shared: list[dict[str, Any]]) -> dict[str, float]:
    """Masts' own running costs, plus the shared links split by the routes they carry."""
    out: dict[str, float] = defaultdict(float)
    for mast in summary.get("masts", []):
        out[str(mast["commune"])] += float(mast.get("running_eur_year") or 0.0)
    rents = [float(link["rent_eur_year"]) for link in shared]
    for code, value in _split_links(shared, _route_shares(summary), rents).items():
        out[code] += value
    return {code: round(value, 2) for code, value in sorted(out.items())}
