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
    "ParameterError",
    "PlanParameters",
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
    ftth_connection_eur: float = 500.0
    """ESTIMATE (no public figure): connecting a new cable at an FttH node (access to the
    chamber or cabinet, closure work, patching), per connection."""


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
class PlanParameters:
    """Everything a plan depends on besides its layers: written to summary.json with the plan."""

    cost: CostParameters = field(default_factory=CostParameters)
    network: NetworkParameters = field(default_factory=NetworkParameters)
    link: LinkBudget = field(default_factory=LinkBudget)

    def __post_init__(self) -> None:
        problems = [*_negative("cost", self.cost), *_negative("link", self.link)]
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
