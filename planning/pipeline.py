"""From validated layers to a plan: network, routes, bound. Pure: no files read or written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd

from planning.bounds import steiner_lower_bound
from planning.budget import plan_within_budget
from planning.errors import PlanningError
from planning.network import RoutableNetwork, build_network
from planning.parameters import PlanParameters
from planning.plan import Plan
from planning.routing import (
    ROOT,
    SteinerFunction,
    default_steiner,
    route_masts,
    steiner_instance,
)
from planning.supply import routed_supply
from planning.transport import Transport, build_transport

Progress = Callable[[str, int, int], None]

BOUND_MAX_EDGES = 5_000
"""Largest reduced instance the LP bound is attempted on (a few seconds of HiGHS)."""

REDUCTION_HOPE = 10
"""Instances more than this many times larger than the limit are not even reduced."""


def plan_layers(
    layers: dict[str, gpd.GeoDataFrame],
    params: PlanParameters,
    *,
    steiner: SteinerFunction = default_steiner,
    progress: Progress | None = None,
    bound: bool = True,
    budget: float | None = None,
) -> tuple[Plan, RoutableNetwork]:
    """Plan the fibre of every mast in ``layers`` (validated, in Lambert-93).

    With ``budget`` (€ HT), only the masts worth most within it (`planning.budget`); the others
    are in the plan as ``deferred``, and ``plan.budget`` says what the envelope bought.
    ``plan.power`` holds each mast's low-voltage link to its nearest power point by road.
    """
    report = progress or (lambda step, done, total: None)
    report("network", 0, 1)
    net = build_network(layers, params)
    transport = build_transport(net, layers, params)
    report("network", 1, 1)
    plan = route_masts(net, params, steiner=steiner, progress=progress, transport=transport)
    if budget is not None:
        chosen = plan_within_budget(
            net, params, budget, steiner=steiner, progress=progress, full=plan, transport=transport
        )
        plan = chosen.plan
        plan.budget = chosen.to_dict()
    if (masts := layers.get("masts")) is not None:
        # After the budget: only the trenches of the plan kept can take a low-voltage duct.
        plan.power = routed_supply(net, plan, layers.get("power_points"), masts, params)
    if bound:
        report("lower bound", 0, 1)
        plan.bound = primary_bound(net, params, plan, transport)
        report("lower bound", 1, 1)
    return plan, net


def primary_bound(
    net: RoutableNetwork,
    params: PlanParameters,
    plan: Plan,
    transport: Transport | None = None,
) -> dict[str, Any]:
    """The gap of the primary routing against a proven lower bound, when the instance allows.

    When it is not computed, ``why`` says which condition stopped it (``no_mast``, ``too_large``
    before reductions, ``too_large_reduced`` after them, ``error``) and ``reason`` says it in words.

    The bound is the LP relaxation of the Steiner tree joining the masts to a virtual root linked
    to every FttH node with room (at the connection cost), on the routing weights (civil works +
    cable + connection). Capacities are dropped, which only lowers the optimum: the bound stays
    valid for the capacitated plan. The plan's value on the same weights is compared to it.
    """
    instance, terminals = steiner_instance(net, params, transport)
    connected = {net.mast_nodes[m.mast_id] for m in plan.masts if m.primary is not None}
    masts = [t for t in terminals[1:] if t in connected]
    if not masts:
        return {"computed": False, "why": "no_mast", "reason": "no mast connected"}
    value = plan.routing_value
    if instance.number_of_edges() > REDUCTION_HOPE * BOUND_MAX_EDGES:
        # Reductions remove degree-1 and degree-2 vertices; they never shrink a road network
        # tenfold, so the attempt would only cost time.
        return {
            "computed": False,
            "why": "too_large",
            "reason": (
                f"instance too large for the LP bound: {instance.number_of_edges():,} edges "
                f"(at most {BOUND_MAX_EDGES:,} after reductions)"
            ),
            "edges": instance.number_of_edges(),
            "max_edges": BOUND_MAX_EDGES,
            "plan_value": round(value, 2),
        }
    try:
        result = steiner_lower_bound(
            instance, [ROOT, *masts], weight="weight", max_edges=BOUND_MAX_EDGES
        )
    except PlanningError as err:  # a bound is a bonus: say why it is missing
        return {"computed": False, "why": "error", "reason": str(err)}
    if result is None:
        return {
            "computed": False,
            "why": "too_large_reduced",
            "reason": (
                f"instance too large for the LP bound: more than {BOUND_MAX_EDGES} edges "
                "after reductions"
            ),
            "edges": instance.number_of_edges(),
            "max_edges": BOUND_MAX_EDGES,
            "plan_value": round(value, 2),
        }
    return {
        "computed": True,
        "method": result.method,
        "lower_bound": round(result.lower, 2),
        "plan_value": round(value, 2),
        "gap": round(result.gap(value), 6),
        "optimal": result.optimal,
        "edges": result.edges,
        "seconds": round(result.seconds, 2),
        "objective": (
            "primary routing: civil works + 12-fibre cable + connection and leased fibres to "
            "the CSU over the horizon (once per FttH node joined), no capacities"
        ),
    }
