"""Electricity delivery points: Enedis substations and cabinets, public-lighting cabinets.

A mast needs power close by; real networks put a few cabinets in every village and many in towns,
always along a street, a few metres off the carriageway. Enedis reports close to 800,000 HTA/BT
substations for mainland France's 66 million inhabitants, one per 80-90 people, and its
low-voltage network then runs along the streets; with the public-lighting cabinets, one point per
100 inhabitants (at least one of each kind per commune) is a conservative density, most of them
within a few hundred metres of the commune's centre, where its streets and people are.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from planning.sample.communes import Communes
from planning.sample.frames import layer_frame
from planning.sample.network import RoadNetwork
from planning.sample.placement import offset_point

INHABITANTS_PER_POINT = 100
TOWN_RADIUS_M = 400.0  # the built-up centre, where most points stand
OFFSET = (3.0, 8.0)  # m from the street node


def power_layer(
    net: RoadNetwork,
    roads: shapely.STRtree,
    communes: Communes,
    by_commune: list[np.ndarray],
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """The `power_points` layer: ids P-<code>-001, at least one of each kind per commune."""
    frame = communes.frame
    ids, kinds, points = [], [], []
    for i, (code, pop, polygon) in enumerate(
        zip(frame["code"], frame["population"], frame.geometry, strict=True)
    ):
        pool = by_commune[i]
        if len(pool) == 0:
            continue
        want = min(len(pool), 2 + round(pop / INHABITANTS_PER_POINT))
        shapely.prepare(polygon)
        placed = 0
        # denser where people live: streets near the centre carry more cabinets than lanes
        dist = np.hypot(*(net.nodes[pool] - communes.centres[i]).T)
        weight = 1.0 / (1.0 + (dist / TOWN_RADIUS_M) ** 2)
        chosen = rng.choice(pool, size=want, replace=False, p=weight / weight.sum())
        for node in chosen.tolist():
            point = offset_point(net.nodes[node], polygon, roads, rng, OFFSET)
            if point is None:
                continue
            placed += 1
            ids.append(f"P-{code}-{placed:03d}")
            # The first is an Enedis substation, the second a lighting cabinet, then a mix.
            if placed <= 2:
                kinds.append("enedis" if placed == 1 else "public_lighting")
            else:
                kinds.append("enedis" if rng.random() < 0.55 else "public_lighting")
            points.append(point)
    return layer_frame(
        "power_points",
        {"id": ids, "kind": kinds},
        shapely.points(np.array(points).reshape(-1, 2)),
    )
