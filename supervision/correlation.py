"""Correlation: one alarm per fault, named by its probable cause.

One cut fibre or one dead mast switch takes several cameras DOWN at once; without correlation the
centre gets one alarm per camera and has to guess the cause. With the planned network (each
camera's mast, each mast's chain of splice closures up to the FttH node it joins), cameras that
went DOWN together within ``window`` (one check interval) are explained by what they share:

- a **mast**, when all of its cameras (at least 2) are DOWN together: its power, switch or access
  fibre;
- a **branch**, when all the masts (at least 2) behind one closure or FttH node are DOWN together:
  the cut is upstream of the deepest element their paths share, named with the next one up
  (« coupure probable entre le manchon S12 et le PM 27056-03 »).

:func:`find_faults` finds the faults of a moment; :func:`reconcile` compares them with the cause
incidents already open and says what to open, attach, supersede and close. Both are pure: the
supervisor's store does the I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = [
    "CauseRecord",
    "Decision",
    "Element",
    "Fault",
    "Topology",
    "find_faults",
    "reconcile",
    "scope_key",
]

MAST = "mast"
BRANCH = "branch"


@dataclass(frozen=True, slots=True)
class Element:
    """A point of the planned network on a mast's way to the FttH network."""

    kind: str
    """``splice`` (a branch closure of the plan) or the FttH node's kind (PM, NRO, PBO)."""
    id: str
    label: str
    """French, without article: « manchon S12 », « PM 27056-03 »."""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class Topology:
    """Which mast holds each camera, and each mast's path (mast side first, FttH node last)."""

    cameras: Mapping[str, str]
    """camera id -> mast id (cameras without a mast are left out)."""
    paths: Mapping[str, tuple[Element, ...]] = field(default_factory=dict)

    def mast_cameras(self) -> dict[str, frozenset[str]]:
        found: dict[str, set[str]] = defaultdict(set)
        for camera, mast in self.cameras.items():
            found[mast].add(camera)
        return {mast: frozenset(cameras) for mast, cameras in found.items()}

    def scope(self, kind: str, scope: str) -> frozenset[str]:
        """The cameras a cause explains: a mast's, or every camera behind an element."""
        if kind == MAST:
            return frozenset(c for c, m in self.cameras.items() if m == scope)
        masts = {m for m, path in self.paths.items() if any(e.key == scope for e in path)}
        return frozenset(c for c, m in self.cameras.items() if m in masts)


@dataclass(frozen=True, slots=True)
class Fault:
    """Cameras DOWN together and what probably took them down."""

    kind: str
    """``mast`` or ``branch``."""
    scope: str
    """The mast id, or the element's key (``splice:S12``, ``PM:27056-03``)."""
    label: str
    """The cause in French, for operators."""
    cameras: frozenset[str]


def _article(label: str) -> str:
    return f"le {label}"


def _mast_label(mast: str) -> str:
    return f"panne probable du mât {mast} (alimentation, switch ou fibre d'accès)"


def _branch_label(paths: Iterable[tuple[Element, ...]]) -> tuple[str, str]:
    """The scope and French label of a branch: the deepest shared element and the next one up."""
    paths = list(paths)
    shared = set.intersection(*({e.key for e in p} for p in paths))
    deepest = next(e for e in paths[0] if e.key in shared)
    upstream = {_after(p, deepest.key) for p in paths}
    if None in upstream:
        label = f"coupure probable en amont du {deepest.label}"
    elif len(upstream) == 1:
        (up,) = upstream
        assert up is not None
        label = f"coupure probable entre {_article(deepest.label)} et {_article(up.label)}"
    else:  # cables sharing a trench up to this closure part there for different nodes
        label = f"coupure probable près du {deepest.label}"
    return deepest.key, label


def _after(path: tuple[Element, ...], key: str) -> Element | None:
    """The element after ``key`` in ``path`` (towards the FttH network), if any."""
    keys = [e.key for e in path]
    index = keys.index(key)
    return path[index + 1] if index + 1 < len(path) else None


def find_faults(topology: Topology, down: Mapping[str, datetime], window: timedelta) -> list[Fault]:
    """The mast and branch faults explaining the DOWN cameras (``down``: camera -> since).

    A group counts only when every camera it covers is DOWN and all went DOWN within ``window``
    of each other: failures further apart are separate faults and keep their own incidents. A
    mast with one camera is no fault of its own (its camera's incident says it all), but counts
    as a mast down behind a branch. The largest branch wins: masts behind a closure whose whole
    PM is down are the PM's fault.
    """
    by_mast = topology.mast_cameras()
    times: dict[str, list[datetime]] = {}
    for mast, cameras in by_mast.items():
        if cameras and all(c in down for c in cameras):
            stamps = [down[c] for c in cameras]
            if max(stamps) - min(stamps) <= window:
                times[mast] = stamps
    behind: dict[str, set[str]] = defaultdict(set)
    for mast, path in topology.paths.items():
        if mast in by_mast:
            for element in path:
                behind[element.key].add(mast)

    def is_branch(key: str) -> bool:
        masts = behind[key]
        if len(masts) < 2 or not all(m in times for m in masts):
            return False
        stamps = [t for m in masts for t in times[m]]
        return max(stamps) - min(stamps) <= window

    groups: dict[str, set[str]] = defaultdict(set)
    for mast in sorted(times):
        for element in reversed(topology.paths.get(mast, ())):  # from the FttH node down
            if is_branch(element.key):
                groups[element.key].add(mast)
                break
    faults: list[Fault] = []
    grouped: set[str] = set()
    for key in sorted(groups):
        masts = groups[key]
        grouped |= masts
        scope, label = _branch_label(topology.paths[m] for m in sorted(masts))
        cameras = frozenset(c for m in masts for c in by_mast[m])
        faults.append(Fault(kind=BRANCH, scope=scope, label=label, cameras=cameras))
    for mast in sorted(set(times) - grouped):
        if len(by_mast[mast]) >= 2:
            faults.append(
                Fault(kind=MAST, scope=mast, label=_mast_label(mast), cameras=by_mast[mast])
            )
    return faults


@dataclass(frozen=True, slots=True)
class CauseRecord:
    """An open cause incident as stored: its identity and the cameras attached to it."""

    key: str
    kind: str
    scope: str
    cameras: frozenset[str]
    """Cameras whose *open* incident is attached to it."""


@dataclass(frozen=True)
class Decision:
    """What the store must do so that the cause incidents match the faults."""

    opened: list[Fault] = field(default_factory=list)
    attach: dict[str, str] = field(default_factory=dict)
    """camera -> scope key (``kind/scope``) of the cause its open incident goes under."""
    superseded: list[str] = field(default_factory=list)
    """Keys of open causes folded into a larger one just opened (their cameras move with it)."""
    closed: list[str] = field(default_factory=list)
    """Keys of open causes none of whose cameras has an open incident any more."""


def scope_key(kind: str, scope: str) -> str:
    return f"{kind}/{scope}"


def reconcile(
    topology: Topology,
    faults: Iterable[Fault],
    causes: Iterable[CauseRecord],
    open_incidents: Mapping[str, str | None],
    down: Iterable[str],
) -> Decision:
    """Compare the faults of now with the open cause incidents.

    ``open_incidents`` maps each camera with an open incident to the key of the cause it is
    attached to (or None); ``down`` are the cameras DOWN now. A fault already open keeps its
    incident; a new one opens, and absorbs any open cause whose cameras it covers (a mast cause
    becoming a branch one as more masts fall). An open cause keeps attaching the DOWN cameras of
    its scope; it closes when none of its cameras has an open incident any more (each closes
    once its camera has been back for the quiet period).
    """
    causes = list(causes)
    by_scope = {scope_key(c.kind, c.scope): c for c in causes}
    decision = Decision()
    down = set(down)
    taken: set[str] = set()
    for fault in faults:
        key = scope_key(fault.kind, fault.scope)
        if key not in by_scope:
            decision.opened.append(fault)
            for cause in causes:
                overlaps = cause.cameras & fault.cameras and cause.cameras <= fault.cameras
                if overlaps and cause.key not in decision.superseded:
                    decision.superseded.append(cause.key)
        for camera in sorted(fault.cameras):
            if camera in open_incidents and camera not in taken:
                decision.attach[camera] = key
                taken.add(camera)
    for cause in causes:
        if cause.key in decision.superseded:
            continue
        key = scope_key(cause.kind, cause.scope)
        for camera in sorted(topology.scope(cause.kind, cause.scope) & down):
            if camera in open_incidents and camera not in taken and camera not in cause.cameras:
                decision.attach[camera] = key
                taken.add(camera)
        attached = {c for c in cause.cameras if c in open_incidents} | {
            c for c, k in decision.attach.items() if k == key
        }
        if not attached:
            decision.closed.append(cause.key)
    return decision
