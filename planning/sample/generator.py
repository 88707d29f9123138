"""Generate the six planning layers on the real communes of the Eure, deterministically.

Communes are real (open data); roads, the FttH network, masts and power points are synthetic,
because the real ones cannot be shipped offline. The same inputs and seed always give the same
layers: every random draw comes from one seeded generator per stage, and every loop runs in a
sorted order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from planning.sample.communes import load_communes
from planning.sample.frames import layer_frame
from planning.sample.ftth import ftth_layers
from planning.sample.links import commune_links
from planning.sample.masts import masts_layer
from planning.sample.network import RoadNetwork, build_network
from planning.sample.placement import locate, nodes_by_commune
from planning.sample.power import power_layer
from planning.sample.streets import street_mesh
from planning.schema import LAYER_NAMES, WORK_CRS

Progress = Callable[[str, int, int], None]
DEFAULT_EPCI = "200071454"  # CA Evreux Portes de Normandie, 74 communes
DEFAULT_SEED = 27


@dataclass
class Sample:
    """The six layers (keyed by layer name, EPSG:2154) and the decisions taken on the way."""

    layers: dict[str, gpd.GeoDataFrame]
    notes: list[str] = field(default_factory=list)
    scope: str = "epci"
    seed: int = DEFAULT_SEED


def generate_sample(
    communes_geojson: Path,
    admin_json: Path,
    *,
    scope: str = "epci",
    epci: str = DEFAULT_EPCI,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
) -> Sample:
    """Build the sample layers of one EPCI (`scope="epci"`) or of the whole département.

    Raises `SampleError` when an input file is missing or inconsistent, or the scope is unknown.
    """
    report = progress or _silent
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]
    streets_rng, links_rng, ftth_rng, masts_rng, power_rng = streams

    report("communes", 0, 1)
    communes, notes = load_communes(communes_geojson, admin_json, scope=scope, epci=epci)
    frame = communes.frame
    report("communes", 1, 1)

    meshes = []
    pieces: list[tuple[np.ndarray, str]] = []
    total = len(frame)
    for i, (polygon, pop) in enumerate(zip(frame.geometry, frame["population"], strict=True)):
        mesh = street_mesh(polygon, tuple(communes.centres[i]), int(pop), streets_rng)
        meshes.append(mesh)
        pieces.extend((mesh.nodes[edge], "local") for edge in mesh.edges)
        pieces.extend((track, "track") for track in mesh.tracks)
        report("streets", i + 1, total)

    report("roads", 0, 1)
    pieces.extend(commune_links(communes, meshes, links_rng))
    net, road_notes = build_network(pieces)
    notes.extend(road_notes)
    lines = net.lines()
    roads = _roads_frame(net, lines)
    report("roads", 1, 1)

    report("ftth", 0, 1)
    polygons = np.asarray(frame.geometry.array)
    node_commune = locate(net.nodes, polygons)
    # Equipment stands in the streets of a commune, not on the roads between communes.
    street = np.zeros(len(net.nodes), dtype=bool)
    local = net.kind_names == "local"
    street[net.u[local]] = street[net.v[local]] = True
    by_commune = [n[street[n]] for n in nodes_by_commune(node_commune, len(frame))]
    ftth_nodes, ftth_routes = ftth_layers(net, communes, node_commune, by_commune, ftth_rng)
    report("ftth", 1, 1)

    report("masts", 0, 1)
    road_tree = shapely.STRtree(lines)  # masts and power points keep off the carriageway
    masts = masts_layer(net, road_tree, communes, by_commune, masts_rng)
    report("masts", 1, 1)
    report("power_points", 0, 1)
    power = power_layer(net, road_tree, communes, by_commune, power_rng)
    report("power_points", 1, 1)

    layers = {
        "roads": roads,
        "ftth_routes": ftth_routes,
        "ftth_nodes": ftth_nodes,
        "masts": masts,
        "power_points": power,
        "communes": layer_frame(
            "communes",
            {c: frame[c].to_numpy() for c in ("code", "nom", "population", "epci")},
            frame.geometry,
        ),
        "sites": sites_layer(),
    }
    return Sample(
        {name: layers[name] for name in LAYER_NAMES if name in layers}, notes, scope, seed
    )


SITES = (
    ("CSU-27", "csu", "Centre de supervision urbain départemental (Évreux)", 1.1508, 49.0241),
    (
        "GGD-27",
        "gendarmerie",
        "Groupement de gendarmerie de l'Eure (position approchée)",
        1.1390,
        49.0155,
    ),
)
"""Where the pictures go. The syndicate has not published the CSU's address: the sample puts it at
the préfecture in Évreux (WGS84 lon, lat), the gendarmerie's departmental group nearby. Real, not
synthetic, places: the same whatever the sample's scope."""


def sites_layer() -> gpd.GeoDataFrame:
    """The CSU and the gendarmerie, in Lambert-93."""
    points = gpd.GeoSeries(
        [shapely.Point(lon, lat) for *_, lon, lat in SITES], crs="EPSG:4326"
    ).to_crs(WORK_CRS)
    return layer_frame(
        "sites",
        {"id": [s[0] for s in SITES], "kind": [s[1] for s in SITES], "nom": [s[2] for s in SITES]},
        points,
    )


def _roads_frame(net: RoadNetwork, lines: np.ndarray) -> gpd.GeoDataFrame:
    return layer_frame(
        "roads",
        {"id": [f"R{k + 1:06d}" for k in range(len(net.start))], "kind": net.kind_names},
        lines,
    )


def _silent(step: str, done: int, total: int) -> None:
    """Progress sink used when the caller wants none."""
