"""Cost, network and link-budget parameters of a plan, with sourced defaults.

Every default names its source and year; figures without a public source are marked ESTIMATE.
Prices are euros HT (before VAT). Several public figures are old (about 2010): treat them as
orders of magnitude and override them with current tender prices (`PlanParameters.from_dict`).

Sources (see also /work/shared/DOMAIN.md, "Prices"):

- CETE de l'Ouest, "Approche des coûts d'un réseau" (~2010): trench 50-90 €/m typical, ~15 €/m in
  open ground, up to 250 €/m in a town centre; aerial cable on existing poles 15-30 €/m.
- FNCCR study (via blog.grandesvilles.org, ~2010): trench including studies 150 €/m, micro-trench
  70 €/m, cable on poles 20 €/m.
- fibtic.net (dated, ~2010): bare duct 3-4 €/m, 12-fibre armoured cable ~0.9 €/m.
- IEEE 802.3 clause 59 (1000BASE-LX10), ITU-T G.652 (single-mode fibre), for the link budget.
- Avicca, "Accès au génie civil : même Orange s'oppose à la hausse des coûts" (February 2024): the
  rent of Orange's ducts (offer "GC BLO", yearly, per metre) rose "well above 100 %" in one year.
  No public tariff grid was found for duct, pole or fibre rents: those defaults are ESTIMATES.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from planning.errors import PlanningError
from planning.schema import ROAD_KINDS

__all__ = [
    "CostParameters",
    "LinkBudget",
    "NetworkParameters",
    "Optics",
    "ParameterError",
    "PlanParameters",
    "RentParameters",
    "TransportParameters",
    "TrenchCosts",
]


class ParameterError(PlanningError, ValueError):
    """A parameter override is unknown or out of range: fix the key or value the message names."""


@dataclass(frozen=True)
class TrenchCosts:
    """Trench (civil works, reinstatement included) in €/m, by road kind of `planning.schema`.

    The kind is a proxy for the surface, the traffic management and the depth of the road
    structure; the route does not know whether a road crosses a town centre (up to 250 €/m).
    """

    motorway: float = 150.0
    """ESTIMATE from FNCCR ~2010 "trench including studies" 150 €/m: a motorway verge needs the
    concessionaire's studies, traffic management and night work; rarely allowed at all."""
    primary: float = 90.0
    """CETE de l'Ouest ~2010, top of the 50-90 €/m typical range: thick road structure, heavy
    traffic management on main departmental roads."""
    secondary: float = 70.0
    """FNCCR ~2010 micro-trench 70 €/m, the usual technique in a departmental road's carriageway;
    also the middle of CETE de l'Ouest's 50-90 €/m range."""
    tertiary: float = 60.0
    """ESTIMATE inside CETE de l'Ouest ~2010 50-90 €/m: minor roads, light traffic management."""
    local: float = 50.0
    """CETE de l'Ouest ~2010, bottom of the 50-90 €/m range: mostly rural lanes with soft verges
    in the Eure, with some village streets (dearer) averaged in. Also the price of access trenches
    from a mast to its road and of trenches along FttH routes that follow no road."""
    track: float = 15.0
    """CETE de l'Ouest ~2010, ~15 €/m in open ground: unpaved tracks, no reinstatement."""

    def for_kind(self, kind: str) -> float:
        """The €/m of a road kind; unknown kinds cost as ``local``."""
        return float(getattr(self, kind)) if kind in ROAD_KINDS else self.local


@dataclass(frozen=True)
class CostParameters:
    """Unit prices, euros HT."""

    trench: TrenchCosts = field(default_factory=TrenchCosts)
    duct_eur_per_m: float = 10.0
    """ESTIMATE (8-12 €/m): pulling cable into a free sub-duct of an existing FttH duct, labour and
    sub-duct included (fibtic.net ~2010 puts bare duct at 3-4 €/m); cable not included."""
    aerial_eur_per_m: float = 20.0
    """CETE de l'Ouest ~2010 (15-30 €/m) and FNCCR ~2010 (20 €/m): hanging cable on existing
    supports; cable not included."""
    cable_eur_per_m: float = 0.9
    """fibtic.net (dated, ~2010): 12-fibre armoured cable, ~0.9 €/m; added on every metre laid."""
    splice_closure_eur: float = 600.0
    """ESTIMATE (no public figure): a splice closure supplied and installed."""
    fibre_splice_eur: float = 15.0
    """ESTIMATE (no public figure): one fusion splice, labour and protection sleeve."""
    structure_eur_per_m: float = 200.0
    """ESTIMATE (no public figure): a duct fixed under a bridge deck or along a tunnel wall, with
    the structure owner's agreement and studies; replaces the trench on roads marked ``bridge`` or
    ``tunnel`` (OSM, BD TOPO)."""
    nro_switch_eur: float = 3000.0
    """ESTIMATE: an industrial aggregation switch with its optics, installed in an NRO."""
    ftth_connection_eur: float = 500.0
    """ESTIMATE (no public figure): connecting a new cable at an FttH node (access to the
    chamber or cabinet, closure work, patching), per connection."""
    lv_cable_eur_per_m: float = 12.0
    """ESTIMATE (no public figure): low-voltage cable from a mast to its power point, supplied and
    pulled in its duct (the estimate's ``electricity.link_cable``)."""
    lv_shared_duct_eur_per_m: float = 5.0
    """ESTIMATE: a second duct laid in the fibre's new trench for the low-voltage cable
    (fibtic.net, bare duct 3-4 €/m, plus laying; ``electricity.trench_shared``)."""
    lv_trench_eur_per_m: float = 50.0
    """CETE de l'Ouest ~2010, low end of 50-90 €/m: a trench for the low-voltage link alone
    (``electricity.trench``). With the two above, the power point a mast is joined to is the one
    whose link costs least, so a link follows the fibre's trenches where it can."""


@dataclass(frozen=True)
class NetworkParameters:
    """How layers become a routable graph."""

    merge_tolerance_m: float = 0.5
    """Line ends and vertices closer than this are one graph node: digitised networks rarely
    snap exactly, and 0.5 m is below the accuracy of any road database."""
    max_snap_distance_m: float = 200.0
    """A mast or FttH node farther than this from every road and FttH route is not connected;
    the same threshold as the validator's error (`planning.validate`, 200 m)."""
    fibres_per_mast: int = 2
    """ESTIMATE: fibres reserved per mast (one in use, one spare)."""


@dataclass(frozen=True)
class LinkBudget:
    """Optical budget of a mast-to-FttH link at 1310 nm."""

    attenuation_db_per_km: float = 0.35
    """ITU-T G.652 single-mode fibre at 1310 nm: cabled attenuation <= 0.35 dB/km (typical
    datasheet maximum)."""
    splice_loss_db: float = 0.1
    """Per fusion splice, a usual design value (ESTIMATE; measured splices are ~0.05 dB)."""
    connector_loss_db: float = 0.5
    """Per mated connector pair, a usual design value (IEC 61753-1 grade C is <= 0.5 dB)."""
    connectors: int = 2
    """One connector pair at each end of the link."""
    budget_db: float = 10.5
    """1000BASE-LX10 optics (IEEE 802.3 clause 59, 10 km): minimum launch power -9 dBm,
    receiver sensitivity -19.5 dBm, so 10.5 dB from transmitter to receiver."""
    safety_margin_db: float = 3.0
    """Kept for ageing, repairs (extra splices) and temperature."""

    def loss_db(self, length_m: float, splices: int) -> float:
        """Expected loss of a link of ``length_m`` metres with ``splices`` fusion splices."""
        return (
            self.attenuation_db_per_km * length_m / 1000.0
            + self.splice_loss_db * splices
            + self.connector_loss_db * self.connectors
        )

    def fits(self, length_m: float, splices: int) -> bool:
        """True when the loss plus the safety margin stays within the budget."""
        return self.loss_db(length_m, splices) + self.safety_margin_db <= self.budget_db


@dataclass(frozen=True)
class Optics:
    """Long-reach optics, chosen when the mast-to-CSU link does not fit `LinkBudget`'s."""

    attenuation_db_per_km: float = 0.25
    """ITU-T G.652 single-mode fibre at 1550 nm: cabled attenuation about 0.25 dB/km (typical
    datasheet maximum; 0.22 typical)."""
    budget_db: float = 23.0
    """1000BASE-ZX-class optics (vendor datasheets, not an IEEE standard; 70-80 km): minimum launch
    power 0 dBm, receiver sensitivity -23 dBm. ESTIMATE: check the optics actually bought."""


@dataclass(frozen=True)
class TransportParameters:
    """How a mast's fibre goes on from its FttH node to the supervision centre (CSU)."""

    pbo_allowed: bool = False
    """A PBO's fibres are subscriber distribution fibres: joining there needs the operator's
    agreement. Without it, masts join at PM or NRO only; chambers never (no fibre in them)."""
    ftth_splices_per_km: float = 0.5
    """ESTIMATE: fusion splices per km of existing FttH cable or leased fibre (a closure at each
    cable drum end, drums of about 2 km)."""
    off_network_detour: float = 1.3
    """When the CSU is off the road network, the leased link is the straight line times this."""
    aggregate_at_nro: bool = True
    """True: a switch hosted at each NRO gathers its masts onto one leased link to the CSU (two
    optical segments, mast-NRO and NRO-CSU). False: every mast's fibres run passive to the CSU
    (one segment end to end, a leased fibre pair per mast on the NRO-CSU link)."""
    link_fibres: int = 2
    """Fibres of an aggregated NRO-to-CSU link (one pair)."""
    max_diversity_premium_eur: float = 50_000.0
    """A POLICY, not a price: the most a critical mast's second route sharing nothing with the
    first (no PM, NRO or duct up to the CSU) may cost beyond the cheapest second route that meets
    it. Beyond, the cheaper route is kept and the plan says where it meets and what full
    diversity would cost (kilometres of trench to another NRO, in rural communes)."""


@dataclass(frozen=True)
class RentParameters:
    """Yearly rents of reused infrastructure, € HT; all ESTIMATES (no public tariff grid found).

    Owners are matched by name: an owner containing "orange" rents at the Orange GC BLO figures,
    "enedis" at the Enedis pole figure, any other (the public network's operator) at ``public_*``.
    """

    horizon_years: int = 10
    """Years of running costs in the total cost of ownership, and in the router's trade-off
    between digging a trench (paid once) and renting a duct (paid every year)."""
    orange_duct_eur_per_m_year: float = 1.5
    """ESTIMATE: Orange GC BLO duct rent after the 2024 rise (Avicca, February 2024: "well above
    100 %" in one year), for one small cable."""
    orange_pole_eur_per_m_year: float = 0.3
    """ESTIMATE: Orange pole rent, about 12 € a pole a year over 40 m spans."""
    enedis_pole_eur_per_m_year: float = 0.25
    """ESTIMATE: Enedis low-voltage pole ("appui commun") rent, about 10 € a pole a year over 40 m
    spans."""
    public_duct_eur_per_m_year: float = 0.8
    """ESTIMATE: duct rent of the public network's operator (RIP), usually below Orange's."""
    public_aerial_eur_per_m_year: float = 0.25
    """ESTIMATE: pole rent of the public network's operator."""
    ftth_fibre_eur_per_km_year: float = 40.0
    """ESTIMATE: one leased fibre of the FttH network from the joining node to the NRO, per km
    (the order of an IRU of a few hundred euros per fibre-km spread over 15 to 20 years, plus
    maintenance)."""
    dark_fibre_eur_per_km_year: float = 60.0
    """ESTIMATE: one leased dark fibre from the NRO to the CSU, per km (same reasoning, with the
    lessor's margin on a point-to-point link)."""
    dark_fibre_access_eur: float = 2000.0
    """ESTIMATE: one-off access fee of a leased NRO-to-CSU link."""
    nro_hosting_eur_per_year: float = 1200.0
    """ESTIMATE: hosting an aggregation switch in an NRO (rack space, power), per year."""

    def duct_rate(self, owner: str | None, kind: str) -> float:
        """€ per metre and year to reuse an FttH route of ``kind`` owned by ``owner``."""
        name = (owner or "").lower()
        if "orange" in name:
            return (
                self.orange_duct_eur_per_m_year
                if kind == "duct"
                else self.orange_pole_eur_per_m_year
            )
        if "enedis" in name:
            return (
                self.enedis_pole_eur_per_m_year
                if kind == "aerial"
                else self.public_duct_eur_per_m_year
            )
        return (
            self.public_duct_eur_per_m_year if kind == "duct" else self.public_aerial_eur_per_m_year
        )


@dataclass(frozen=True)
class PlanParameters:
    """Everything a plan depends on besides its layers: written to summary.json with the plan."""

    cost: CostParameters = field(default_factory=CostParameters)
    network: NetworkParameters = field(default_factory=NetworkParameters)
    link: LinkBudget = field(default_factory=LinkBudget)
    optics: Optics = field(default_factory=Optics)
    transport: TransportParameters = field(default_factory=TransportParameters)
    rent: RentParameters = field(default_factory=RentParameters)

    def __post_init__(self) -> None:
        problems = [*_negative("cost", self.cost), *_negative("link", self.link)]
        problems += [*_negative("optics", self.optics), *_negative("rent", self.rent)]
        problems += _negative("transport", self.transport)
        if self.network.merge_tolerance_m <= 0:
            problems.append("network.merge_tolerance_m must be > 0")
        if self.network.max_snap_distance_m < self.network.merge_tolerance_m:
            problems.append("network.max_snap_distance_m must be >= network.merge_tolerance_m")
        if self.network.fibres_per_mast < 1:
            problems.append("network.fibres_per_mast must be >= 1")
        if problems:
            raise ParameterError("invalid plan parameters: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready nested dict: ``{"cost": {...}, "network": {...}, "link": {...}}``."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, overrides: Mapping[str, Any] | None = None) -> PlanParameters:
        """The defaults with ``overrides`` applied, e.g. ``{"cost": {"trench": {"local": 60}}}``.

        Missing keys keep their default; `to_dict` output round-trips. Raises `ParameterError`
        naming the first unknown key (``cost.trench.lokal``) or wrongly typed value.
        """
        return _build(cls, overrides or {}, "")


def _build(kind: type, overrides: Mapping[str, Any], prefix: str) -> Any:
    if not isinstance(overrides, Mapping):
        where = prefix.rstrip(".") or "parameters"
        raise ParameterError(f"{where} must be a mapping of keys to values")
    defaults = kind()
    known = {f.name for f in dataclasses.fields(kind)}
    values: dict[str, Any] = {}
    for key, value in overrides.items():
        name = f"{prefix}{key}"
        if key not in known:
            raise ParameterError(
                f"unknown parameter {name!r}; known here: {', '.join(sorted(known))}"
            )
        default = getattr(defaults, key)
        if dataclasses.is_dataclass(default):
            values[key] = _build(type(default), value, f"{name}.")
        else:
            values[key] = _coerce(name, value, default)
    return kind(**values)


def _coerce(name: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ParameterError(f"parameter {name!r} must be true or false, not {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError(f"parameter {name!r} must be a number, not {value!r}")
    if isinstance(default, int):
        if value != int(value):
            raise ParameterError(f"parameter {name!r} must be a whole number, not {value!r}")
        return int(value)
    return float(value)


def _negative(prefix: str, obj: Any) -> list[str]:
    problems = []
    for key, value in dataclasses.asdict(obj).items():
        if isinstance(value, dict):
            problems.extend(f"{prefix}.{key}.{k} must be >= 0" for k, v in value.items() if v < 0)
        elif value < 0:
            problems.append(f"{prefix}.{key} must be >= 0")
    return problems
