"""What a fibre plan holds: typed results of the router, ready for the exports.

Plain dataclasses, no I/O: `planning.export` writes them to GeoPackage, JSON and HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shapely.geometry import LineString, Point


class MastStatus(StrEnum):
    CONNECTED = "connected"
    UNREACHABLE = "unreachable"
    OVER_BUDGET = "over_budget"  # over the optical link budget
    DEFERRED = "deferred"  # left out of a budget-constrained plan (`planning.budget`)


class RouteRole(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"  # the disjoint second route of a critical mast


@dataclass(frozen=True)
class Trench:
    """One edge of the plan: new civil works (or reused ducts/poles) and the cable laid in it."""

    geometry: LineString
    mode: str  # trench, duct, aerial (how the cable is laid along this edge)
    road_kind: str | None
    length_m: float
    civil_cost: float  # € HT for laying along this edge in `mode`
    cable_cost: float  # € HT for the cable(s)
    fibres: int  # fibres carried (all masts downstream)
    cables: int  # cables laid (primary and secondary routes are separate cables)
    masts: tuple[str, ...]  # masts whose fibre runs here
    route_id: str | None = None  # the FttH route reused (duct, aerial)
    owner: str | None = None  # its owner, paid the rent
    rent_year: float = 0.0  # € HT a year for the reused duct or poles (0 for a trench)

    @property
    def cost(self) -> float:
        return self.civil_cost + self.cable_cost


@dataclass(frozen=True)
class Route:
    """The fibre path of one mast to its FttH node, on to the CSU, and its optical link budget.

    ``geometry`` and ``length_m`` are the new cable, mast to FttH node; ``upstream_m`` the FttH
    fibre from there to the NRO and ``csu_link_m`` the leased link to the CSU. The budget
    (``loss_db``, ``margin_db``) is end to end, mast to CSU (to the NRO without a CSU).
    """

    mast_id: str
    node_id: str  # FttH node feature id
    node_kind: str
    role: RouteRole
    geometry: LineString
    length_m: float
    splices: int
    connectors: int
    loss_db: float
    margin_db: float  # budget - loss - safety margin; negative: over budget
    chain: tuple[str, ...] = ()  # FttH nodes upstream of node_id, up to the NRO
    upstream_m: float = 0.0
    csu_id: str | None = None
    csu_link_m: float = 0.0
    optics: str = "LX10"  # the optics the budget holds with ("LX10", "long-reach")
    yearly_rent: float = 0.0  # € HT a year: leased fibres to the NRO and to the CSU

    @property
    def total_length_m(self) -> float:
        return round(self.length_m + self.upstream_m + self.csu_link_m, 2)


@dataclass(frozen=True)
class MastResult:
    mast_id: str
    commune: str
    geometry: Point
    critical: bool
    cameras: int
    status: MastStatus
    reason: str | None = None  # why it is unreachable or over budget
    cost: float = 0.0  # € HT: its share of the plan (shared edges split between their masts)
    primary: Route | None = None
    secondary: Route | None = None
    secondary_issue: str | None = None  # a critical mast without a disjoint second route
    diversity: dict[str, Any] | None = None  # critical masts: where the second route meets
    yearly_cost: float = 0.0  # € HT a year: its leased fibres and its share of rents


@dataclass(frozen=True)
class Splice:
    """A splice closure: at the FttH node a mast is connected to, or where cables branch."""

    geometry: Point
    kind: str  # "ftth_node" or "branch"
    node_id: str | None
    fibres: int


@dataclass(frozen=True)
class TransportLink:
    """A leased link: an NRO to the CSU, or the CSU to a gendarmerie site."""

    from_id: str
    to_id: str
    kind: str  # nro_csu, csu_gendarmerie
    geometry: LineString  # estimated course along roads (straight when off the network)
    length_m: float
    fibres: int
    on_network: bool
    rent_year: float
    access_cost: float  # access fee, and the switches at the NRO and at the relays
    relays: int = 0  # relay switches a long aggregated link needs to hold its optical budget


@dataclass(frozen=True)
class PowerPiece:
    """A stretch of a mast's low-voltage link, with how it is laid.

    ``piece`` names the stretch: masts whose links share a piece share its trench, which the
    estimate counts once. ``laying`` is ``shared`` (a second duct in the fibre's new trench),
    ``own`` (a trench for the low-voltage link alone) or ``crow_flies`` (no road leads there:
    measured straight, priced as a trench of its own).
    """

    mast_id: str
    point_id: str
    piece: str
    laying: str
    length_m: float
    geometry: LineString


@dataclass(frozen=True)
class MastPower:
    """A mast's power point, nearest along the roads, and the metres of its low-voltage link."""

    mast_id: str
    point_id: str  # "" when the plan has no power point
    kind: str  # enedis, public_lighting ("" without a point)
    distance_m: float  # along the roads (as the crow flies when ``path`` says so); NaN: no point
    shared_m: float  # of which in the fibre's new trench
    trench_m: float  # of which in a trench of its own (its share not split with other masts)
    path: str  # "road", "crow_flies", or "" without a point


@dataclass
class PowerSupply:
    """The low-voltage links of a plan's masts (`planning.supply.routed_supply`)."""

    masts: dict[str, MastPower] = field(default_factory=dict)
    pieces: list[PowerPiece] = field(default_factory=list)

    def totals(self) -> dict[str, float]:
        """Metres of cable (per mast) and of trench (each piece once), shared and own."""
        once: dict[str, PowerPiece] = {}
        for piece in self.pieces:
            once.setdefault(piece.piece, piece)
        cable = sum(m.distance_m for m in self.masts.values() if m.point_id)
        shared = sum(p.length_m for p in once.values() if p.laying == "shared")
        own = sum(p.length_m for p in once.values() if p.laying != "shared")
        return {
            "cable_m": round(cable, 1),
            "trench_shared_m": round(shared, 1),
            "trench_m": round(own, 1),
            "crow_flies_masts": sum(m.path == "crow_flies" for m in self.masts.values()),
        }


@dataclass
class Plan:
    trenches: list[Trench] = field(default_factory=list)
    masts: list[MastResult] = field(default_factory=list)
    splices: list[Splice] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    bound: dict[str, Any] | None = None  # the lower bound and the gap, when computed
    notes: list[str] = field(default_factory=list)
    connection_cost: float = 0.0  # € HT: splices, closures and connections at FttH nodes
    routing_value: float = 0.0  # the primary routes on the router's own weights (for the gap)
    links: list[TransportLink] = field(default_factory=list)
    csu: dict[str, Any] | None = None  # the CSU site the plan leads to: id, nom, x, y
    horizon_years: int = 10
    per_mast: bool = False  # leased NRO-CSU fibres per mast (passive), not one link per NRO
    power: PowerSupply | None = None  # low-voltage links, when the layers have power points

    @property
    def links_cost(self) -> float:
        """One-off access fees of the leased links (investment)."""
        return sum(link.access_cost for link in self.links)

    @property
    def running_costs(self) -> dict[str, float]:
        """€ HT a year, by what is rented."""
        ducts: dict[str, float] = {}
        for t in self.trenches:
            if t.rent_year:
                key = f"rent_{t.mode}"
                ducts[key] = ducts.get(key, 0.0) + t.rent_year
        ftth = sum(
            r.yearly_rent for m in self.masts for r in (m.primary, m.secondary) if r is not None
        )
        # A passive plan's NRO-CSU fibres are already in its routes' rents (``per_mast``).
        links = sum(
            link.rent_year for link in self.links if link.kind != "nro_csu" or not self.per_mast
        )
        out = {k: round(v, 2) for k, v in sorted(ducts.items())}
        out["leased_fibres"] = round(ftth, 2)
        out["leased_links"] = round(links, 2)
        return out

    @property
    def yearly_cost(self) -> float:
        return round(sum(self.running_costs.values()), 2)

    @property
    def tco(self) -> float:
        """Investment plus the running costs over the horizon, undiscounted."""
        return round(self.total_cost + self.horizon_years * self.yearly_cost, 2)

    budget: dict[str, Any] | None = None  # the envelope, what it buys and what comes next

    @property
    def connected(self) -> list[MastResult]:
        return [m for m in self.masts if m.status is MastStatus.CONNECTED]

    @property
    def failed(self) -> list[MastResult]:
        return [m for m in self.masts if m.status is not MastStatus.CONNECTED]

    @property
    def total_cost(self) -> float:
        return sum(t.cost for t in self.trenches) + self.connection_cost + self.links_cost
