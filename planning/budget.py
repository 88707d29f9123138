"""Budget-constrained plans: which masts to connect first, for the most priority within an envelope.

Masts share trenches, so the cost of a set of masts is not the sum of their single costs: this is
a budget-constrained (prize-collecting) Steiner problem, NP-hard. The method:

1. **Marginal model** (`MarginalModel`): the cost of connecting one more mast is its cheapest
   path to the tree grown so far or to an FttH node with room, on the router's weights (civil
   works + cable), plus what the plan charges per route (connection and splices) and the splice
   closure a new FttH node or a new branch needs; a critical mast adds an estimate of its second
   route. Multi-source Dijkstra (scipy) keeps every node's distance to the tree, updated from
   the new path only after each addition, recomputed only when an FttH node fills up.
2. **Greedy** (`greedy`): repeatedly the mast of best priority per marginal euro among those
   that still fit, re-evaluated as the tree grows (the baseline, `priority_order`, takes masts by
   priority instead; the better of the two in the model is kept, so the result is never worse
   than the baseline's choice).
3. **Real plan, repair and fill** (`plan_within_budget`): `route_masts` on the chosen masts only
   gives the real capacitated plan (second routes included) and its real cost; over the envelope,
   the masts of worst priority per euro of their cost share are dropped; under it, the greedy
   continues with the money left (scaled by how far the model was from the real cost). The best
   real plan within the envelope wins. Deterministic: every tie is broken by mast id.

Priority: the masts layer's optional ``priority`` (>= 0, higher first); when it is absent or
null, a critical mast counts `CRITICAL_PRIORITY` and any other `DEFAULT_PRIORITY`. A mast of
priority 0 is only connected with money nothing else can use.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from planning.network import RoutableNetwork
from planning.parameters import PlanParameters
from planning.plan import MastResult, MastStatus, Plan
from planning.routing import SteinerFunction, default_steiner, route_masts
from planning.transport import Transport, build_transport

DEFAULT_PRIORITY = 1
CRITICAL_PRIORITY = 2
"""Priorities of masts without one: critical masts (those that need a second route) first."""

MAX_PLANS = 6
"""Real plans (`route_masts`) tried in the repair and fill loop, after the first."""

NEXT_STEPS = 5
"""Masts listed in "what the next euro buys", and last chosen masts in its priority per k€."""

Progress = Callable[[str, int, int], None]


def mast_priority(attrs: dict[str, Any]) -> int:
    """A mast's priority from its graph node: its own, or the default for its kind."""
    value = attrs.get("priority")
    if value is not None and not (isinstance(value, float) and math.isnan(value)):
        return int(value)
    return CRITICAL_PRIORITY if attrs.get("critical") else DEFAULT_PRIORITY


@dataclass(frozen=True)
class Step:
    """One mast added to the tree: its priority and what it cost there (model, € HT)."""

    mast_id: str
    priority: int
    marginal_eur: float


def total_priority(steps: Iterable[Step]) -> int:
    return sum(s.priority for s in steps)


def total_cost(steps: Iterable[Step]) -> float:
    return sum(s.marginal_eur for s in steps)


class MarginalModel:
    """The marginal cost of each mast against the tree grown so far (see the module doc)."""

    def __init__(
        self,
        net: RoutableNetwork,
        params: PlanParameters,
        masts: Iterable[str],
        *,
        second_routes: dict[str, float] | None = None,
        transport: Transport | None = None,
    ) -> None:
        """``second_routes``: the estimates of critical masts' second routes, shared between
        models of one network (they depend on no tree). ``transport`` says which FttH nodes a
        mast may join and how many masts their chains to the NRO have room for."""
        graph = net.graph
        nodes = list(graph.nodes)
        index = {node: i for i, node in enumerate(nodes)}
        self.n = len(nodes)
        edges = list(graph.edges(data="weight"))
        u = np.array([index[a] for a, _, _ in edges], dtype=np.int64)
        v = np.array([index[b] for _, b, _ in edges], dtype=np.int64)
        # csgraph drops explicit zeros: a tiny epsilon keeps free edges.
        w = np.maximum(np.array([float(x) for _, _, x in edges]), 1e-9)
        self.rows = np.concatenate([u, v])
        self.cols = np.concatenate([v, u])
        self.weights = np.concatenate([w, w])
        self.matrix = csr_matrix((self.weights, (self.rows, self.cols)), shape=(self.n, self.n))
        costs = params.cost
        self.per_route = costs.ftth_connection_eur + params.network.fibres_per_mast * (
            costs.fibre_splice_eur
        )
        self.closure = costs.splice_closure_eur
        fibres = params.network.fibres_per_mast
        transport = transport if transport is not None else build_transport(net, {}, params)
        free = {
            node: int(graph.nodes[node].get("free_fibres") or 0) // fibres
            for node in net.ftth_nodes.values()
        }
        # Room along each node's chain to its NRO: a PM's room is shared by the PBOs behind it.
        self.free = {index[node]: room for node, room in free.items()}
        self.chain = {
            index[node]: [index[c] for c in transport.chain(node)]
            for node in free
            if transport.joinable(node)
        }
        self.behind: dict[int, list[int]] = defaultdict(list)  # node -> joins whose chain holds it
        for node, chain in self.chain.items():
            for member in chain:
                self.behind[member].append(node)
        self.capacity = {node: self._room(node) for node in self.free}
        self.mast_ids = sorted(masts, key=str)
        self.node_of = {m: index[net.mast_nodes[m]] for m in self.mast_ids}
        self.mast_set = set(self.node_of.values())
        self.priority = {m: mast_priority(graph.nodes[net.mast_nodes[m]]) for m in self.mast_ids}
        self.critical = {m for m in self.mast_ids if graph.nodes[net.mast_nodes[m]].get("critical")}
        self.access = {
            m: graph.degree(net.mast_nodes[m]) == 1 for m in self.critical
        }  # an off-road mast shares its access trench between its two routes
        self.root: dict[int, int] = {}  # tree node -> the FttH node its fibre goes to
        self.degree: dict[int, int] = defaultdict(int)
        self.tree_edges: set[tuple[int, int]] = set()
        self.added: set[str] = set()
        self._second = second_routes if second_routes is not None else {}
        self._recompute()

    def _room(self, node: int) -> int:
        chain = self.chain.get(node)
        return min(self.free[c] for c in chain) if chain else 0

    def _rooms(self, changed: list[int]) -> bool:
        """Recompute the room of every FttH node whose chain holds a node of ``changed``;
        True when one of them has none left."""
        emptied = False
        for node in {n for c in changed for n in self.behind.get(c, ())}:
            room = self._room(node)
            emptied |= self.capacity.get(node, 0) > 0 and room <= 0
            self.capacity[node] = room
        return emptied

    # -- sources and distances ----------------------------------------------------------------

    def _offset(self, node: int) -> float | None:
        """What joining the tree at ``node`` costs beyond the path, or None if it cannot serve."""
        if node in self.root:
            if self.capacity.get(self.root[node], 0) <= 0:
                return None
            branch = (
                node not in self.capacity and node not in self.mast_set and self.degree[node] == 2
            )
            return self.per_route + (self.closure if branch else 0.0)
        if self.capacity.get(node, 0) > 0:  # an FttH node not used yet: its closure too
            return self.per_route + self.closure
        return None

    def _sources(self, nodes: Iterable[int]) -> dict[float, list[int]]:
        groups: dict[float, list[int]] = defaultdict(list)
        for node in sorted(set(nodes)):
            offset = self._offset(node)
            if offset is not None:
                groups[offset].append(node)
        return groups

    def _recompute(self) -> None:
        self.dist = np.full(self.n, np.inf)
        self.pred = np.full(self.n, -9999, dtype=np.int64)
        self._relax(self._sources([*self.root, *self.capacity]), limit=np.inf)

    def _relax(self, groups: dict[float, list[int]], limit: float) -> None:
        """Lower the distances from the given sources (offset -> nodes), up to ``limit``."""
        for offset, sources in sorted(groups.items()):
            if offset >= limit:
                continue
            dist, pred, _ = dijkstra(
                self.matrix,
                indices=sources,
                return_predecessors=True,
                min_only=True,
                limit=limit - offset,
            )
            better = offset + dist < self.dist
            self.dist[better] = offset + dist[better]
            self.pred[better] = pred[better]

    # -- masts --------------------------------------------------------------------------------

    def marginal(self, mast: str) -> float:
        """€ HT to connect ``mast`` now (inf when it cannot be), second route included."""
        cost = float(self.dist[self.node_of[mast]])
        if mast in self.critical and math.isfinite(cost):
            cost += self.second_route(mast)
        return cost

    def second_route(self, mast: str) -> float:
        """Estimate of a critical mast's second route: alone, disjoint from its own first one.

        Computed once per mast, against no tree: an overestimate where the second route could
        reuse other masts' trenches (the real plan's cost corrects it).
        """
        if mast not in self._second:
            self._second[mast] = self._alone_second_route(mast)
        return self._second[mast]

    def _alone_second_route(self, mast: str) -> float:
        start = self.node_of[mast]
        servers = sorted(n for n, cap in self.capacity.items() if cap > 0)
        if not servers:
            return 0.0
        dist, pred = dijkstra(self.matrix, indices=start, return_predecessors=True)
        first = min(servers, key=lambda n: (dist[n], n))
        if not math.isfinite(dist[first]):
            return 0.0
        path = [first]
        while path[-1] != start:
            path.append(int(pred[path[-1]]))
        path.reverse()  # mast -> FttH node
        shared = 1 if self.access[mast] and len(path) > 2 else 0
        banned = np.zeros(self.n, dtype=bool)
        banned[path[shared + 1 :]] = True
        keep = ~(banned[self.rows] | banned[self.cols])
        matrix = csr_matrix(
            (self.weights[keep], (self.rows[keep], self.cols[keep])), shape=(self.n, self.n)
        )
        again = dijkstra(matrix, indices=path[shared])
        others = [n for n in servers if n != first and math.isfinite(again[n])]
        if not others:
            return 0.0  # no second route: the router reports it, and it costs nothing
        return float(min(again[n] for n in others)) + self.per_route + self.closure

    def add(self, mast: str) -> Step:
        """Connect ``mast`` to the tree along its cheapest path; return what it cost."""
        cost = self.marginal(mast)
        if not math.isfinite(cost):
            raise ValueError(f"mast {mast} cannot reach the tree nor an FttH node with room")
        node = self.node_of[mast]
        path = [node]
        while self.pred[path[-1]] >= 0 and len(path) <= self.n:
            path.append(int(self.pred[path[-1]]))
        attach = path[-1]
        root = self.root.get(attach, attach)
        for a, b in itertools.pairwise(path):
            key = (a, b) if a < b else (b, a)
            if key not in self.tree_edges:
                self.tree_edges.add(key)
                self.degree[a] += 1
                self.degree[b] += 1
        for p in path:
            self.root.setdefault(p, root)
        self.added.add(mast)
        for node in self.chain.get(root, [root]):
            self.free[node] -= 1
        if self._rooms(self.chain.get(root, [root])):
            self._recompute()  # a subtree can serve no one any more
        else:
            waiting = [self.dist[self.node_of[m]] for m in self.mast_ids if m not in self.added]
            limit = max((d for d in waiting if math.isfinite(d)), default=0.0)
            self._relax(self._sources(path), limit=limit)
        return Step(mast, self.priority[mast], round(cost, 2))


def greedy(
    model: MarginalModel, masts: Iterable[str], budget: float, *, limit: int | None = None
) -> list[Step]:
    """Best priority per marginal euro first, among masts that fit what is left of ``budget``."""
    pool = sorted(set(masts) - model.added, key=str)
    left = budget
    steps: list[Step] = []
    while pool and (limit is None or len(steps) < limit):
        costs = np.array([model.marginal(m) for m in pool])
        prios = np.array([model.priority[m] for m in pool], dtype=float)
        fits = np.isfinite(costs) & (costs <= left)
        if not fits.any():
            break
        ratio = np.where(fits, prios / np.maximum(costs, 1e-9), -1.0)
        best = pool.pop(int(np.argmax(ratio)))  # first of equal ratios: smallest id
        step = model.add(best)
        steps.append(step)
        left -= step.marginal_eur
    return steps


def priority_order(
    model: MarginalModel, masts: Iterable[str], budget: float, *, skip: bool
) -> list[Step]:
    """The baseline: masts by priority (ties by id), each at its marginal cost.

    Stops at the first that does not fit, or with ``skip`` passes over it and goes on.
    """
    order = sorted(set(masts) - model.added, key=lambda m: (-model.priority[m], str(m)))
    left = budget
    steps: list[Step] = []
    for mast in order:
        cost = model.marginal(mast)
        if not math.isfinite(cost) or cost > left:
            if skip:
                continue
            break
        step = model.add(mast)
        steps.append(step)
        left -= step.marginal_eur
    return steps


def priority_prefix_real(
    net: RoutableNetwork,
    params: PlanParameters,
    masts: Iterable[str],
    envelope: float,
    *,
    priority: dict[str, int],
    steiner: SteinerFunction = default_steiner,
    transport: Transport | None = None,
) -> tuple[list[str], Plan | None]:
    """The baseline measured on real plans: the longest run of masts in priority order (ties by
    id) whose real plan fits the envelope (a binary search, about log2(masts) real plans).

    The model-priced baseline (`priority_order`) flatters it: its real plan may cost far more.
    """
    order = sorted(masts, key=lambda m: (-priority[m], str(m)))
    lo, hi, best = 0, len(order), None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        plan = plan_subset(net, params, order[:mid], steiner=steiner, transport=transport)
        if plan.total_cost <= envelope:
            lo, best = mid, plan
        else:
            hi = mid - 1
    return order[:lo], best


def replay(model: MarginalModel, masts: Iterable[str]) -> list[Step]:
    """Add ``masts`` in this order (a chosen set, to measure it or to grow it further)."""
    return [model.add(m) for m in masts]


@dataclass
class BudgetResult:
    """A plan within an envelope: the real plan, what was chosen and what comes next."""

    plan: Plan
    envelope_eur: float
    chosen: list[Step]  # in the order the model added them, with their marginal cost there
    deferred: list[str]
    next_steps: list[Step]  # what the next euros buy, in the algorithm's order
    priority_total: int  # of every mast the full plan can connect
    full_cost_eur: float  # the plan of every mast
    plans: int  # real plans computed
    method: str = "greedy"  # "greedy", "priority" (the baseline did better in the model), "all"
    next_cumulative: list[dict[str, Any]] = field(default_factory=list)
    """Per next mast, cumulatively: ``cost_eur`` beyond what is spent (a real plan's when one was
    computed, ``planned``; else the model's, scaled by its error on the chosen masts), and
    ``extra_eur`` beyond the envelope."""

    @property
    def spent_eur(self) -> float:
        return round(self.plan.total_cost, 2)

    @property
    def priority_connected(self) -> int:
        return total_priority(self.chosen)

    def last_priority_per_keur(self, count: int = NEXT_STEPS) -> float | None:
        """Priority bought per k€ by the last masts chosen (model costs)."""
        return _per_keur(self.chosen[-count:])

    def next_priority_per_keur(self, count: int = NEXT_STEPS) -> float | None:
        return _per_keur(self.next_steps[:count])

    def to_dict(self) -> dict[str, Any]:
        """The ``budget`` block of ``summary.json``."""
        return {
            "envelope_eur": round(self.envelope_eur, 2),
            "spent_eur": self.spent_eur,
            "left_eur": round(self.envelope_eur - self.spent_eur, 2),
            "full_plan_eur": round(self.full_cost_eur, 2),
            "priority_connected": self.priority_connected,
            "priority_total": self.priority_total,
            "masts_connected": len(self.chosen),
            "masts_deferred": len(self.deferred),
            "deferred": list(self.deferred),
            "last_chosen_priority_per_keur": _rounded(self.last_priority_per_keur()),
            "next_priority_per_keur": _rounded(self.next_priority_per_keur()),
            "next": self.next_cumulative,
            "method": self.method,
            "plans": self.plans,
        }


def _per_keur(steps: list[Step]) -> float | None:
    cost = total_cost(steps)
    return total_priority(steps) / (cost / 1000) if steps and cost > 0 else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def plan_subset(
    net: RoutableNetwork,
    params: PlanParameters,
    masts: Iterable[str],
    *,
    steiner: SteinerFunction = default_steiner,
    transport: Transport | None = None,
) -> Plan:
    """The real plan (`route_masts`) of these masts only; the others are not in it."""
    chosen = set(masts)
    subset = RoutableNetwork(
        graph=net.graph,
        mast_nodes={m: n for m, n in net.mast_nodes.items() if m in chosen},
        ftth_nodes=net.ftth_nodes,
        unsnapped=[],
        crs=net.crs,
    )
    return route_masts(subset, params, steiner=steiner, transport=transport)


def plan_within_budget(
    net: RoutableNetwork,
    params: PlanParameters,
    envelope: float,
    *,
    steiner: SteinerFunction = default_steiner,
    max_plans: int = MAX_PLANS,
    progress: Progress | None = None,
    full: Plan | None = None,
    transport: Transport | None = None,
) -> BudgetResult:
    """The plan of the masts worth most within ``envelope`` (€ HT), and what comes next.

    ``full`` is the plan of every mast when the caller already has it. Masts left out are in
    the plan with status ``deferred``.
    """
    report = progress or (lambda step, done, total: None)
    report("budget", 0, max_plans + 2)
    transport = transport if transport is not None else build_transport(net, {}, params)
    full = (
        full if full is not None else route_masts(net, params, steiner=steiner, transport=transport)
    )
    plans = 1
    candidates = sorted(m.mast_id for m in full.masts if m.primary is not None)
    seconds: dict[str, float] = {}

    def model() -> MarginalModel:
        return MarginalModel(net, params, candidates, second_routes=seconds, transport=transport)

    priorities = {m: mast_priority(net.graph.nodes[net.mast_nodes[m]]) for m in candidates}
    priority_total = sum(priorities.values())
    if full.total_cost <= envelope:
        chosen = greedy(model(), candidates, math.inf)
        return BudgetResult(
            full, envelope, chosen, [], [], priority_total, full.total_cost, plans, "all"
        )

    by_ratio = greedy(model(), candidates, envelope)
    by_priority = priority_order(model(), candidates, envelope, skip=True)
    method, start = "greedy", by_ratio
    if (total_priority(by_priority), -total_cost(by_priority)) > (
        total_priority(by_ratio),
        -total_cost(by_ratio),
    ):
        method, start = "priority", by_priority
    order = [s.mast_id for s in start]

    best: tuple[tuple[int, float], list[str], Plan] | None = None
    tried: dict[frozenset[str], float] = {}  # real cost of every set planned
    while True:
        key = frozenset(order)
        if key in tried or (plans > max_plans and best is not None):
            break
        plan = plan_subset(net, params, order, steiner=steiner, transport=transport)
        plans += 1
        report("budget", min(plans, max_plans + 1), max_plans + 2)
        cost = tried[key] = plan.total_cost
        if cost <= envelope:
            score = (sum(priorities[m] for m in order), -cost)
            if best is None or score > best[0]:
                best = (score, list(order), plan)
            order = _fill(model(), candidates, order, envelope=envelope, cost=cost)
        else:
            order = _drop(plan, priorities, order, cost - envelope)
    assert best is not None  # the empty set fits any envelope >= 0
    _, order, plan = best
    final = model()
    chosen = replay(final, order)
    next_steps = greedy(final, candidates, math.inf, limit=NEXT_STEPS)
    deferred = sorted(set(candidates) - set(order))
    spent = plan.total_cost
    plan = _with_deferred(net, plan, full, deferred, priorities=priorities, envelope=envelope)
    report("budget", max_plans + 2, max_plans + 2)
    modelled = total_cost(chosen)
    scale = spent / modelled if modelled > 0 else 1.0
    return BudgetResult(
        plan,
        envelope,
        chosen,
        deferred,
        next_steps,
        priority_total,
        full.total_cost,
        plans,
        method,
        next_cumulative=_next_cumulative(
            order, next_steps, tried=tried, spent=spent, scale=scale, envelope=envelope
        ),
    )


def _next_cumulative(
    order: list[str],
    steps: list[Step],
    *,
    tried: dict[frozenset[str], float],
    spent: float,
    scale: float,
    envelope: float,
) -> list[dict[str, Any]]:
    """What the next masts cost together, from a real plan when the loop made one."""
    out, masts, modelled = [], list(order), 0.0
    for step in steps:
        masts.append(step.mast_id)
        modelled += step.marginal_eur
        real = tried.get(frozenset(masts))
        cost = real - spent if real is not None else modelled * scale
        out.append(
            {
                "mast_id": step.mast_id,
                "priority": step.priority,
                "marginal_eur": round(step.marginal_eur, 2),
                "cost_eur": round(cost, 2),
                "extra_eur": round(max(spent + cost - envelope, 0.0), 2),
                "planned": real is not None,
            }
        )
    return out


def _fill(
    model: MarginalModel, candidates: list[str], order: list[str], *, envelope: float, cost: float
) -> list[str]:
    """The chosen masts and those the greedy adds with the money left (model scaled to reality)."""
    modelled = total_cost(replay(model, order))
    scale = cost / modelled if modelled > 0 else 1.0
    extra = greedy(model, candidates, (envelope - cost) / max(scale, 1e-9))
    return order + [s.mast_id for s in extra]


def _drop(plan: Plan, priorities: dict[str, int], order: list[str], overrun: float) -> list[str]:
    """Drop the masts of worst priority per euro of their share until the overrun is covered."""
    share = {m.mast_id: m.cost for m in plan.masts}
    worst = sorted(order, key=lambda m: (priorities[m] / max(share.get(m, 0.0), 1e-9), str(m)))
    dropped: set[str] = set()
    saved = 0.0
    for mast in worst:
        if saved >= overrun:
            break
        dropped.add(mast)
        saved += share.get(mast, 0.0)
    return [m for m in order if m not in dropped]


def _with_deferred(
    net: RoutableNetwork,
    plan: Plan,
    full: Plan,
    deferred: list[str],
    *,
    priorities: dict[str, int],
    envelope: float,
) -> Plan:
    """The chosen plan, with the deferred masts and the full plan's unreachable ones in it."""
    planned = {m.mast_id for m in plan.masts}
    extra = [
        _deferred(
            net.graph.nodes[net.mast_nodes[m]],
            m,
            f"outside the budget envelope of {envelope:,.0f} EUR HT (priority {priorities[m]})",
        )
        for m in deferred
    ]
    extra += [m for m in full.masts if m.primary is None and m.mast_id not in planned]
    plan.masts = sorted([*plan.masts, *extra], key=lambda m: str(m.mast_id))
    return plan


def _deferred(attrs: dict[str, Hashable], mast: str, reason: str) -> MastResult:
    return MastResult(
        mast_id=mast,
        commune=str(attrs.get("commune", "") or ""),
        geometry=shapely.Point(attrs["x"], attrs["y"]),
        critical=bool(attrs.get("critical", False)),
        cameras=int(attrs.get("cameras") or 1),
        status=MastStatus.DEFERRED,
        reason=reason,
    )
