"""Quantities of a plan: what the works measure, before any price is applied.

Pure: a `PlanFolder` and the quantity rules of a `PriceCatalogue` in, `Quantity` lines out. Each
line is keyed by the price it is paid at (``trench.local``, ``cable.fo12``…) and carries its
split between the communes where the masts stand, so financing can follow the works:

- trenches, laying in ducts and on poles: metres of each plan edge, split equally between the
  masts whose fibre runs along it (the planner's own sharing);
- cable: per route, length plus a slack allowance (a share, plus a loop at each end), in the
  smallest catalogue cable holding the route's fibres;
- splice closures, fusion splices, connections at FttH nodes: from the plan's splices and routes;
  chambers: one every ``chamber_spacing_m`` of new trench, plus one per branch closure;
- electricity, per mast: an Enedis connection (the cheap one when the point is at hand) or a
  public-lighting adaptation; the low-voltage cable to its power point by road (the one whose
  link costs least), and its trench: a second duct where it runs in the fibre's new trench, a
  trench of its own elsewhere, each stretch counted once however many masts' links share it
  (`planning.supply`). A plan
  folder from an older Vigie has crow-flies distances only: all in a trench of its own.

Masts, cameras and per-mast equipment come from the camera catalogue, which the planner does not
import: `mast_inventory` hands them over as plain rows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planning.french import percent, with_unit
from planning.plan_folder import PlanFolder
from planning.prices import PriceCatalogue
from planning.schema import DEFAULT_MAST_OWNER, mast_owner
from planning.supply import ROUTED_COLUMNS

OFF_ROAD = "off_road"
"""Price key of trenches along no road (access to a mast, FttH routes off the road network)."""


@dataclass(frozen=True)
class Quantity:
    """A measured quantity, keyed by its price, with its split per commune (same unit)."""

    key: str
    quantity: float
    unit: str
    basis: str
    """How it was measured, in French (the assumptions sheet shows it)."""
    by_commune: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class MastRow:
    """One mast as the equipment lines need it."""

    mast_id: str
    commune: str
    status: str
    cameras: int
    camera_model: str
    owner: str = DEFAULT_MAST_OWNER
    """Who owns the mast (`planning.schema.MAST_OWNERS`); plans older than the field: commune."""


def mast_inventory(folder: PlanFolder) -> list[MastRow]:
    """Every mast of the plan, connected or not (each still needs its equipment)."""
    masts = folder.layers["masts"]
    owners = masts["owner"] if "owner" in masts else [None] * len(masts)
    return [
        MastRow(str(m), str(c), str(s), int(n), str(model or ""), mast_owner(owner))
        for m, c, s, n, model, owner in zip(
            masts["mast_id"],
            masts["commune"],
            masts["status"],
            masts["cameras"],
            masts["camera_model"],
            owners,
            strict=True,
        )
    ]


def plan_quantities(folder: PlanFolder, prices: PriceCatalogue) -> list[Quantity]:
    """The civil works, fibre and electricity quantities of a plan (zero lines left out)."""
    commune_of = dict(
        zip(
            folder.layers["masts"]["mast_id"].astype(str),
            folder.layers["masts"]["commune"].astype(str),
            strict=True,
        )
    )
    lines = [
        *_laying(folder, commune_of),
        *_cables(folder, prices, commune_of),
        *_splicing(folder, prices, commune_of),
        *_electricity(folder, prices),
    ]
    return [q for q in lines if q.quantity > 0]


def _split(amount: float, communes: list[str]) -> dict[str, float]:
    share = amount / len(communes)
    split: dict[str, float] = defaultdict(float)
    for code in communes:
        split[code] += share
    return split


def _add(total: dict[str, float], part: dict[str, float]) -> None:
    for code, value in part.items():
        total[code] += value


def _laying(folder: PlanFolder, commune_of: dict[str, str]) -> list[Quantity]:
    metres: dict[str, float] = defaultdict(float)
    split: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    trenches = folder.layers["trenches"]
    for mode, kind, length, masts in zip(
        trenches["mode"],
        trenches["road_kind"],
        trenches["length_m"],
        trenches["masts"],
        strict=True,
    ):
        key = f"trench.{kind or OFF_ROAD}" if mode == "trench" else f"laying.{mode}"
        metres[key] += float(length)
        communes = [commune_of.get(m, "") for m in str(masts or "").split(",") if m]
        _add(split[key], _split(float(length), communes or [""]))
    basis = {
        "trench": "longueur des tronçons du plan posés en tranchée neuve, par type de voie",
        "laying.duct": "longueur des tronçons du plan tirés en fourreau FttH existant",
        "laying.aerial": "longueur des tronçons du plan posés sur appuis aériens existants",
    }
    return [
        Quantity(
            key,
            round(metres[key], 1),
            "m",
            basis.get(key, basis["trench"]),
            _nonzero(split[key], round(metres[key], 1)),
        )
        for key in sorted(metres)
    ]


def _cables(
    folder: PlanFolder, prices: PriceCatalogue, commune_of: dict[str, str]
) -> list[Quantity]:
    slack = prices.rules["cable_slack"].fraction
    loop = prices.rules["cable_loop_m"].value
    metres: dict[str, float] = defaultdict(float)
    split: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    cables = folder.layers["cables"]
    for mast, fibres, length in zip(
        cables["mast_id"], cables["fibres"], cables["length_m"], strict=True
    ):
        key = prices.cable_for(int(fibres)).key
        laid = float(length) * (1.0 + slack) + 2.0 * loop
        metres[key] += laid
        split[key][commune_of.get(str(mast), "")] += laid
    basis = (
        "longueur de chaque liaison du plan + "
        f"{percent(prices.rules['cable_slack'].value, 2)} "
        f"+ {with_unit(loop, 'm', 2, trim=True)} de lovage à chaque extrémité ; "
        "plus petit câble contenant les fibres"
    )
    return [
        Quantity(
            key, round(metres[key], 1), "m", basis, _nonzero(split[key], round(metres[key], 1))
        )
        for key in sorted(metres)
    ]


def _splicing(
    folder: PlanFolder, prices: PriceCatalogue, commune_of: dict[str, str]
) -> list[Quantity]:
    connections = folder.layers["connections"]
    splices = folder.layers["splices"]
    masts = folder.layers["masts"]
    route_communes = [commune_of.get(str(m), "") for m in connections["mast_id"]]

    # A closure at an FttH node serves the masts connected there; a branch closure, the commune
    # of the nearest mast (the plan does not say which masts branch there).
    closures: dict[str, float] = defaultdict(float)
    by_node: dict[str, list[str]] = defaultdict(list)
    for node, commune in zip(connections["node_id"].astype(str), route_communes, strict=True):
        by_node[node].append(commune)
    branch_communes: list[str] = []
    for kind, node, point in zip(
        splices["kind"], splices["node_id"].astype(str), splices.geometry, strict=True
    ):
        if kind == "ftth_node" and by_node.get(node):
            _add(closures, _split(1.0, by_node[node]))
        else:
            nearest = int(np.argmin(masts.geometry.distance(point).to_numpy()))
            commune = str(masts["commune"].iloc[nearest])
            closures[commune] += 1.0
            branch_communes.append(commune)

    fibres = folder.fibres_per_mast
    fusion: dict[str, float] = defaultdict(float)
    links: dict[str, float] = defaultdict(float)
    for n, commune in zip(connections["splices"], route_communes, strict=True):
        fusion[commune] += int(n) * fibres
        links[commune] += 1.0

    spacing = prices.rules["chamber_spacing_m"].value
    trench_by_commune: dict[str, float] = defaultdict(float)
    trenches = folder.layers["trenches"]
    for mode, length, mast_list in zip(
        trenches["mode"], trenches["length_m"], trenches["masts"], strict=True
    ):
        if mode == "trench":
            communes = [commune_of.get(m, "") for m in str(mast_list or "").split(",") if m]
            _add(trench_by_commune, _split(float(length), communes or [""]))
    trench_m = sum(trench_by_commune.values())
    pulling = math.ceil(trench_m / spacing) if spacing > 0 and trench_m > 0 else 0
    chambers: dict[str, float] = defaultdict(float)
    if pulling:
        _add(chambers, {c: pulling * m / trench_m for c, m in trench_by_commune.items()})
    for commune in branch_communes:
        chambers[commune] += 1.0
    n_chambers = pulling + len(branch_communes)
    return [
        Quantity(
            "splicing.chamber",
            n_chambers,
            "u",
            f"une chambre tous les {with_unit(spacing, 'm', 1, trim=True)} de tranchée neuve "
            f"({with_unit(trench_m, 'm')}), "
            "plus une par boîtier de dérivation",
            _nonzero(chambers, n_chambers),
        ),
        Quantity(
            "splicing.closure",
            len(splices),
            "u",
            "boîtiers du plan: un au nœud FttH de chaque raccordement, un par dérivation",
            _nonzero(closures, len(splices)),
        ),
        Quantity(
            "splicing.fibre_splice",
            int(connections["splices"].sum()) * fibres,
            "u",
            f"soudures de chaque liaison du plan, pour {fibres} fibres par mât",
            _nonzero(fusion, int(connections["splices"].sum()) * fibres),
        ),
        Quantity(
            "splicing.ftth_connection",
            len(connections),
            "u",
            "une par liaison du plan (principale et, pour les mâts critiques, secours)",
            _nonzero(links, len(connections)),
        ),
    ]


def _electricity(folder: PlanFolder, prices: PriceCatalogue) -> list[Quantity]:
    masts = folder.layers["masts"]
    routed = "power_links" in folder.layers and all(c in masts for c in ROUTED_COLUMNS)
    links = _routed_links(folder) if routed else _crow_flies_links(masts)
    return [*_connections(masts, prices, routed), *links]


def _connections(masts: pd.DataFrame, prices: PriceCatalogue, routed: bool) -> list[Quantity]:
    """One electricity connection per mast, by the kind of its power point."""
    at_hand_m = prices.rules["enedis_at_hand_m"].value
    counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    distances = pd.to_numeric(masts["power_distance_m"], errors="coerce").fillna(0.0)
    for commune, kind, distance in zip(
        masts["commune"].astype(str), masts["power_kind"].astype(str), distances, strict=True
    ):
        if kind == "public_lighting":
            key = "electricity.public_lighting"
        elif kind == "enedis" and distance <= at_hand_m:
            key = "electricity.enedis_at_hand"
        else:
            key = "electricity.enedis_branch"
        counts[key][commune] += 1.0
    how = "par la voirie" if routed else "à vol d'oiseau"
    at_hand = with_unit(at_hand_m, "m", 2, trim=True)
    basis = {
        "electricity.enedis_at_hand": f"mâts à moins de {at_hand} ({how}) de leur point Enedis",
        "electricity.enedis_branch": (
            f"mâts à plus de {at_hand} ({how}) de leur point Enedis (ou sans point connu)"
        ),
        "electricity.public_lighting": (
            f"mâts dont le point d'alimentation ({how}) est une armoire d'éclairage public"
        ),
    }
    lines = []
    for key in sorted(counts):
        total = round(sum(counts[key].values()))
        lines.append(Quantity(key, total, "u", basis[key], _nonzero(counts[key], total)))
    return lines


def _routed_links(folder: PlanFolder) -> list[Quantity]:
    """The low-voltage links along the roads: cable per mast, each trench stretch once.

    A stretch several masts' links share is one trench, split between their communes; a
    deferred mast (left out of ``masts`` by the estimate) lays nothing.
    """
    masts = folder.layers["masts"]
    commune_of = dict(zip(masts["mast_id"].astype(str), masts["commune"].astype(str), strict=True))
    cable = _power_metres(masts)
    pieces = folder.layers["power_links"]
    pieces = pieces[pieces["mast_id"].astype(str).isin(commune_of)]
    trench: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for _, group in pieces.groupby("piece", sort=True):
        shared = group["laying"].iat[0] == "shared"
        key = "electricity.trench_shared" if shared else "electricity.trench"
        communes = [commune_of[str(m)] for m in dict.fromkeys(group["mast_id"].astype(str))]
        _add(trench[key], _split(float(group["length_m"].iat[0]), communes))
    crow = int((masts["power_path"].astype(str) == "crow_flies").sum())
    own_basis = (
        "tronçons des liaisons basse tension hors des tranchées neuves de la fibre (fibre en "
        "fourreau FttH existant, en aérien, ou absente) et raccord hors voirie au point, "
        "chacun compté une fois"
    )
    if crow:
        own_basis += f"; dont {crow} mât(s) sans voie jusqu'à un point, mesuré(s) à vol d'oiseau"
    return _metre_lines(
        {
            "electricity.link_cable": (
                cable,
                "longueur de la liaison de chaque mât, par la voirie, au point d'alimentation "
                "dont la liaison coûte le moins (un câble par mât)",
            ),
            "electricity.trench_shared": (
                trench["electricity.trench_shared"],
                "tronçons des liaisons basse tension posés dans une tranchée neuve de la fibre "
                "(un fourreau de plus), chacun compté une fois",
            ),
            "electricity.trench": (trench["electricity.trench"], own_basis),
        }
    )


def _crow_flies_links(masts: pd.DataFrame) -> list[Quantity]:
    """A plan folder from an older Vigie: crow-flies metres, each in a trench of its own."""
    metres = _power_metres(masts)
    older = (
        "distance à vol d'oiseau de chaque mât à son point d'alimentation le plus proche "
        "(plan écrit par une version antérieure de Vigie : refaire `vigie plan` pour la mesurer "
        "par la voirie)"
    )
    return _metre_lines(
        {
            "electricity.link_cable": (metres, older),
            "electricity.trench": (metres, older + ", toute en tranchée propre"),
        }
    )


def _power_metres(masts: pd.DataFrame) -> dict[str, float]:
    """Per commune, the metres of its masts' low-voltage links (``power_distance_m``)."""
    metres: dict[str, float] = defaultdict(float)
    distances = pd.to_numeric(masts["power_distance_m"], errors="coerce").fillna(0.0)
    for commune, distance in zip(masts["commune"].astype(str), distances, strict=True):
        metres[commune] += float(distance)
    return metres


def _metre_lines(lines: dict[str, tuple[dict[str, float], str]]) -> list[Quantity]:
    out = []
    for key, (split, basis) in lines.items():
        total = round(sum(split.values()), 1)
        out.append(Quantity(key, total, "m", basis, _nonzero(split, total)))
    return out


def _nonzero(split: dict[str, float], total: float) -> dict[str, float]:
    """The split without empty communes, sorted by code; it sums to ``total`` (to rounding)."""
    assert math.isclose(sum(split.values()), total, rel_tol=1e-6, abs_tol=0.1), (split, total)
    return {code: value for code, value in sorted(split.items()) if value}
