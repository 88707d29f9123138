"""Camera masts: the programme's targets, in the centre of every commune of 1,000 inhabitants+.

The programme equips the communes of at least 1,000 inhabitants, about one mast per 900 inhabitants.
Masts stand a few metres off a street crossing near the centre; the one nearest the town hall of a
town, and some on main crossroads, are critical: they get a second route and more cameras.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from planning.sample.communes import Communes
from planning.sample.frames import layer_frame
from planning.sample.network import RoadNetwork
from planning.sample.placement import offset_point, spread

CAMERA_MODELS = ("fixed_4mp", "dome_4mp", "ptz_2mp_30x", "multi_4x5mp", "lpr_2mp")
"""Catalogue ids of the camera models a mast may carry."""

MODEL_SHARES = (0.3, 0.25, 0.15, 0.15, 0.15)
MIN_POPULATION = 1_000
INHABITANTS_PER_MAST = 900
EPCI_EVERY = 10
"""One mast in ten of the others (in id order) belongs to the intercommunality."""
TOWN_HALL = 3_000  # inhabitants: above it the mast at the town hall is critical
OFFSET = (2.0, 15.0)  # m from the street node


def masts_layer(
    net: RoadNetwork,
    roads: shapely.STRtree,
    communes: Communes,
    by_commune: list[np.ndarray],
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """The `masts` layer: ids M-<code>-001, inside their commune, 2-15 m off a street node."""
    frame = communes.frame
    degree = net.degree()
    ids, codes, points, critical = [], [], [], []
    for i, (code, pop, polygon) in enumerate(
        zip(frame["code"], frame["population"], frame.geometry, strict=True)
    ):
        if pop < MIN_POPULATION or len(by_commune[i]) == 0:
            continue
        want = int(np.ceil(pop / INHABITANTS_PER_MAST))
        pool = by_commune[i]
        dist = np.hypot(*(net.nodes[pool] - communes.centres[i]).T)
        pool = pool[np.argsort(dist, kind="stable")[: max(3 * want, 12)]]
        shapely.prepare(polygon)
        placed = 0
        for rank, node in enumerate(pool[spread(net.nodes[pool], len(pool), 0)].tolist()):
            point = offset_point(net.nodes[node], polygon, roads, rng, OFFSET)
            if point is None:
                continue
            placed += 1
            ids.append(f"M-{code}-{placed:03d}")
            codes.append(code)
            points.append(point)
            town_hall = rank == 0 and pop >= TOWN_HALL
            crossroads = degree[node] >= 4 and rng.random() < 0.1
            critical.append(town_hall or crossroads or rng.random() < 0.02)
            if placed == want:
                break
    critical_mask = np.asarray(critical, dtype=bool)
    cameras = np.where(
        critical_mask,
        rng.integers(2, 5, len(ids)),
        rng.choice([1, 2, 3, 4], size=len(ids), p=[0.35, 0.35, 0.2, 0.1]),
    )
    models = [
        CAMERA_MODELS[m] for m in rng.choice(len(CAMERA_MODELS), size=len(ids), p=MODEL_SHARES)
    ]
    return layer_frame(
        "masts",
        {
            "id": ids,
            "commune": codes,
            "cameras": cameras,
            "camera_model": models,
            "critical": critical_mask,
            "owner": mast_owners(models),
        },
        shapely.points(np.array(points).reshape(-1, 2)),
    )


def mast_owners(models: list[str]) -> list[str]:
    """Who owns each mast: a fixed pattern, not a draw (the rest of the sample does not move).

    Plate reading (`lpr_2mp`) is the State's (gendarmerie passage points: the law reserves it to
    police, gendarmerie and customs); of the other masts, in order, every `EPCI_EVERY`-th is the
    intercommunality's; the rest the commune's.
    """
    owners, others = [], 0
    for model in models:
        if model == "lpr_2mp":
            owners.append("etat")
            continue
        others += 1
        owners.append("epci" if others % EPCI_EVERY == 0 else "commune")
    return owners
