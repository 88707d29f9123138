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

    @property
    def cost(self) -> float:
        return self.civil_cost + self.cable_cost


@dataclass(frozen=True)
class Route:
    """The fibre path of one mast to its FttH node, and its optical link budget."""

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


@dataclass(frozen=True)
class Splice:
    """A splice closure: at the FttH node a mast is connected to, or where cables branch."""

    geometry: Point
    kind: str  # "ftth_node" or "branch"
    node_id: str | None
    fibres: int


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
    budget: dict[str, Any] | None = None  # the envelope, what it buys and what comes next

    @property
    def connected(self) -> list[MastResult]:
        return [m for m in self.masts if m.status is MastStatus.CONNECTED]

    @property
    def failed(self) -> list[MastResult]:
        return [m for m in self.masts if m.status is not MastStatus.CONNECTED]

    @property
    def total_cost(self) -> float:
        return sum(t.cost for t in self.trenches) + self.connection_cost
