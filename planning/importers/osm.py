"""OpenStreetMap roads (``.osm.pbf``, ``.osm``, ``.osm.gz``, ``.osm.bz2``) into the ``roads`` layer.

A département extract (100-200 MB of PBF, some 20 million nodes) is streamed in two passes with
pyosmium, never loaded whole:

1. the ways: each ``highway`` way is mapped to a kind or skipped with its reason (`classify`); the
   node ids of the mapped ways are counted (a flat int64 array, then sorted), so that a node used
   more than once (a junction) is known before any geometry is built;
2. the nodes and ways again: libosmium keeps node locations in its ``flex_mem`` index (sparse,
   about 16 bytes a node of the file: some 320 MB for 20 million nodes; an id-set filter of the
   roads' nodes would be smaller in theory, but libosmium's id sets are bitmaps over the whole id
   range, 1.6 GB once ids are spread), and each mapped way is split at its junctions into
   segments ``w123`` or ``w123-1``, ``w123-2``...

The ``roads`` layer is thus noded where OSM roads meet, and every segment keeps its way's id.
What the table below leaves out is in the report, per way, with the reason.
"""

from __future__ import annotations

import itertools
import logging
from array import array
from pathlib import Path

import numpy as np
import osmium
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from planning.errors import LayerError
from planning.importers.report import ImportReport, ImportResult, Progress, Reason
from planning.importers.roads import ROAD_COLUMNS, kinds, road_frame
from planning.schema import WEB_CRS, WORK_CRS

logger = logging.getLogger(__name__)

SOURCE = "osm"

HIGHWAY_KINDS: dict[str, str] = {
    # Grade-separated, fenced, under a concession or the State: trenching along them is the
    # costliest and rarely allowed. In France trunk is the "voie express" (2x2, no crossings).
    "motorway": "motorway",
    "motorway_link": "motorway",
    "trunk": "motorway",
    "trunk_link": "motorway",
    "primary": "primary",
    "primary_link": "primary",
    "secondary": "secondary",
    "secondary_link": "secondary",
    "tertiary": "tertiary",
    "tertiary_link": "tertiary",
    # Streets and lanes of the commune: a trench in the verge or the pavement.
    "unclassified": "local",
    "residential": "local",
    "living_street": "local",
    "pedestrian": "local",  # town-centre pedestrian streets: where cameras often are
    "service": "local",  # access roads, car parks (camera sites too); driveways are skipped
    "road": "local",  # class not yet known to mappers: treated as the cheapest street
    "busway": "local",
    "track": "track",
}
"""``highway`` value -> planning road kind."""

SKIPPED_HIGHWAYS: dict[str, Reason] = {
    "footway": Reason(
        "osm.footway",
        "footway or sidewalk: fibre follows the road itself, not a footpath beside it",
    ),
    "path": Reason("osm.path", "path: not a road a trench is dug along"),
    "cycleway": Reason(
        "osm.cycleway",
        "cycle path: fibre follows roads (a cycle track beside a road duplicates it)",
    ),
    "bridleway": Reason("osm.bridleway", "bridleway: not a road a trench is dug along"),
    "steps": Reason("osm.steps", "steps: no trench can be dug along steps"),
    "corridor": Reason("osm.corridor", "indoor corridor, not a road"),
    "elevator": Reason("osm.elevator", "elevator, not a road"),
    "via_ferrata": Reason("osm.via_ferrata", "via ferrata, not a road"),
    "ladder": Reason("osm.ladder", "ladder, not a road"),
    "platform": Reason("osm.platform", "public transport platform, not a road"),
    "bus_stop": Reason("osm.bus_stop", "bus stop, not a road"),
    "rest_area": Reason("osm.rest_area", "rest area drawn as a way, not a road"),
    "services": Reason("osm.services", "motorway services drawn as a way, not a road"),
    "raceway": Reason("osm.raceway", "race track, not a public road"),
    "bus_guideway": Reason("osm.bus_guideway", "guided busway: no trench beside the guide rails"),
    "escape": Reason("osm.escape", "escape lane, not a road to dig along"),
    "emergency_bay": Reason("osm.emergency_bay", "emergency bay, not a road"),
    "construction": Reason("osm.construction", "road under construction: not there yet"),
    "proposed": Reason("osm.proposed", "proposed road: not built"),
    "planned": Reason("osm.planned", "planned road: not built"),
    "abandoned": Reason("osm.abandoned", "abandoned road: no longer a road"),
    "disused": Reason("osm.disused", "disused road: no longer a road"),
    "razed": Reason("osm.razed", "razed road: no longer a road"),
}
"""``highway`` values left out, each with its code and the reason the report gives."""

SKIPPED_SERVICES: dict[str, Reason] = {
    "driveway": Reason(
        "osm.driveway", "driveway to a single property: private, and no mast stands at its end"
    ),
    "drive-through": Reason(
        "osm.drive_through", "drive-through lane of a shop: private, not a road to dig along"
    ),
}
"""``service`` values of ``highway=service`` left out; parking aisles are kept (car parks are
typical camera sites)."""

UNPAVED = frozenset({
    "unpaved", "compacted", "fine_gravel", "gravel", "rock", "pebblestone", "ground", "dirt",
    "earth", "grass", "grass_paver", "mud", "sand", "woodchips", "clay", "salt", "snow", "ice",
})  # fmt: skip
PAVED = frozenset({
    "paved", "asphalt", "chipseal", "concrete", "concrete:lanes", "concrete:plates",
    "paving_stones", "sett", "unhewn_cobblestone", "cobblestone", "bricks", "metal", "wood",
})  # fmt: skip
_NO = frozenset({"no", "false", "0"})
_ONEWAY_YES = frozenset({"yes", "true", "1"})
_PRIVATE_ACCESS = frozenset({"private", "no"})

_PROGRESS_EVERY = 5_000


def classify(tags: osmium.osm.TagList | dict[str, str]) -> tuple[str | None, Reason | None]:
    """``(kind, None)`` for a way mapped to a road, ``(None, reason)`` for one left out."""
    highway = tags.get("highway")
    if highway is None:
        return None, Reason("osm.no_highway", "no highway tag")
    if tags.get("area") == "yes":
        return None, Reason(
            "osm.area", f"highway={highway} drawn as an area (area=yes), not a road line"
        )
    if highway in SKIPPED_HIGHWAYS:
        return None, SKIPPED_HIGHWAYS[highway]
    kind = HIGHWAY_KINDS.get(highway)
    if kind is None:
        return None, Reason(
            "osm.unknown_highway", f"unknown highway={highway}: not in the mapping table (README)"
        )
    if highway == "service" and tags.get("service") in SKIPPED_SERVICES:
        return None, SKIPPED_SERVICES[tags.get("service")]
    if kind == "local" and paved(tags) is False:
        kind = "track"  # an unpaved lane is dug like a track: no surface to reinstate
    return kind, None


def paved(tags: osmium.osm.TagList | dict[str, str]) -> bool | None:
    """True/False from ``surface`` (and ``tracktype``), None when OSM does not say."""
    surface = tags.get("surface")
    if surface in PAVED:
        return True
    if surface in UNPAVED:
        return False
    tracktype = tags.get("tracktype")
    if tracktype == "grade1":
        return True
    if tracktype in {"grade2", "grade3", "grade4", "grade5"}:
        return False
    return None


def attributes(tags: osmium.osm.TagList | dict[str, str]) -> dict[str, object]:
    """The roads layer's optional fields from a way's tags (``oneway=-1`` is reported as
    one-way; the caller reverses the geometry so the line runs the way traffic does)."""
    oneway_tag = tags.get("oneway")
    implied = tags.get("junction") in {"roundabout", "circular"} or tags.get("highway") in {
        "motorway",
        "motorway_link",
    }
    if oneway_tag in _ONEWAY_YES or oneway_tag == "-1":
        oneway = True
    elif oneway_tag in _NO:
        oneway = False
    else:
        oneway = implied
    return {
        "oneway": oneway,
        "bridge": tags.get("bridge", "no") not in _NO,
        "tunnel": tags.get("tunnel", "no") not in _NO,
        "paved": paved(tags),
        "private": tags.get("access") in _PRIVATE_ACCESS,
        "name": tags.get("name"),
    }


def import_osm(
    source: Path | str,
    *,
    area: BaseGeometry | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the roads of an OpenStreetMap file into a ``roads`` layer in Lambert-93.

    Raises
    ------
    LayerError
        The file is missing, unreadable as OSM data (corrupt, truncated, wrong format), or holds
        no road (in ``area``, when given).
    """
    path = Path(source)
    if not path.is_file():
        raise LayerError(f"{path}: no such file (an OpenStreetMap .osm.pbf, .osm, .osm.bz2 file)")
    report = ImportReport(source=str(path), format=SOURCE)
    tell = progress or (lambda step, done, total: None)
    try:
        junctions, mapped = _scan_ways(path, report, tell)
        pieces = _build_segments(path, junctions=junctions, mapped=mapped, report=report, tell=tell)
    except RuntimeError as error:  # libosmium's errors: bad header, truncated blob, bad XML...
        raise LayerError(
            f"{path}: cannot read it as OpenStreetMap data ({error}); check it is a complete "
            ".osm.pbf (or .osm, .osm.bz2) file, downloading it again if it was cut short"
        ) from error
    roads = pieces.frame()
    if area is not None:
        roads = _keep_in_area(roads, pieces.way_ids, area, report)
    if roads.empty:
        where = " in the area given" if area is not None else ""
        raise LayerError(
            f"{path}: no road{where} could be imported ({len(report.unmapped)} ways left out, "
            "see the report): is it an OpenStreetMap extract of the place?"
        )
    report.count("roads", kinds(roads))
    report.notes.append(
        "OpenStreetMap data © OpenStreetMap contributors, under the ODbL 1.0: credit them "
        "(and share alike a database made from it) in what you publish"
    )
    timestamp = _file_timestamp(path)
    if timestamp:
        report.notes.append(f"OpenStreetMap data as of {timestamp}")
    logger.info(
        "osm import of %s: %d road segments, %d left out", path, len(roads), len(report.unmapped)
    )
    return ImportResult(layers={"roads": roads}, report=report)


def _scan_ways(path: Path, report: ImportReport, tell: Progress) -> tuple[np.ndarray, int]:
    """First pass: classify the highway ways and find the nodes the mapped ones use more than
    once (junctions, sorted)."""
    refs = array("q")
    seen = mapped = 0
    tell("ways", 0, 0)
    highways = osmium.filter.KeyFilter("highway")  # held here: the iterator does not own it
    with osmium.io.Reader(str(path), osmium.osm.WAY) as reader:
        for way in osmium.OsmFileIterator(reader, highways):
            seen += 1
            if seen % _PROGRESS_EVERY == 0:
                tell("ways", seen, 0)
            _, why = classify(way.tags)
            if why is not None:
                report.skip("way", f"w{way.id}", why.text, code=why.code)
                continue
            nodes = [n.ref for n in way.nodes]
            if len(nodes) < 2:
                report.skip(
                    "way", f"w{way.id}", "fewer than two nodes: not a line", code="osm.too_short"
                )
                continue
            refs.extend(nodes)
            mapped += 1
    tell("ways", seen, seen)
    ids, counts = np.unique(np.frombuffer(refs, dtype=np.int64), return_counts=True)
    return ids[counts > 1], mapped


class _Pieces:
    """Road segments collected during the second pass, as flat arrays (a département's
    millions of coordinates stay compact)."""

    def __init__(self) -> None:
        self.columns: dict[str, list] = {c: [] for c in ROAD_COLUMNS}
        self.way_ids: list[str] = []
        self.lon = array("d")
        self.lat = array("d")
        self.sizes = array("q")

    def add(self, way_id: str, piece_id: str, coords: list[tuple[float, float]], values: dict):
        for column in ROAD_COLUMNS:
            self.columns[column].append(values.get(column))
        self.columns["id"][-1] = piece_id
        self.way_ids.append(way_id)
        for lon, lat in coords:
            self.lon.append(lon)
            self.lat.append(lat)
        self.sizes.append(len(coords))

    def frame(self):
        lon = np.frombuffer(self.lon, dtype=np.float64)
        lat = np.frombuffer(self.lat, dtype=np.float64)
        x, y = Transformer.from_crs(WEB_CRS, WORK_CRS, always_xy=True).transform(lon, lat)
        index = np.repeat(np.arange(len(self.sizes)), np.frombuffer(self.sizes, dtype=np.int64))
        geometry = (
            shapely.linestrings(np.column_stack([x, y]), indices=index)
            if len(index)
            else np.array([], dtype=object)
        )
        return road_frame(self.columns, geometry)


def _build_segments(
    path: Path,
    *,
    junctions: np.ndarray,
    mapped: int,
    report: ImportReport,
    tell: Progress,
) -> _Pieces:
    """Second pass: node locations, then each mapped way split at its junctions (and a closed
    way in two, so that no segment is a ring); ways left out were reported by the first pass."""
    pieces = _Pieces()
    index = osmium.index.create_map("flex_mem")
    locations = osmium.NodeLocationsForWays(index)
    locations.ignore_errors()  # a missing node leaves an invalid location: reported per way
    done = 0
    tell("roads", 0, mapped)
    with osmium.io.Reader(str(path), osmium.osm.NODE | osmium.osm.WAY) as reader:
        # Filters and handlers are held in locals: the iterator does not own them.
        only_ways = osmium.filter.EntityFilter(osmium.osm.WAY)
        highways = osmium.filter.KeyFilter("highway")
        ways = osmium.OsmFileIterator(reader, locations, only_ways, highways)
        for way in ways:
            if classify(way.tags)[0] is None or len(way.nodes) < 2:
                continue
            done += 1
            if done % _PROGRESS_EVERY == 0:
                tell("roads", done, mapped)
            _add_way(way, junctions, pieces, report)
    tell("roads", done, mapped)
    return pieces


def _add_way(
    way: osmium.osm.Way, junctions: np.ndarray, pieces: _Pieces, report: ImportReport
) -> None:
    way_id = f"w{way.id}"
    refs: list[int] = []
    coords: list[tuple[float, float]] = []
    missing = 0
    for node in way.nodes:
        location = node.location
        if not location.valid():
            missing += 1
            continue
        refs.append(node.ref)
        coords.append((location.lon, location.lat))
    if missing:
        report.skip(
            "way",
            way_id,
            f"{missing} of its {len(way.nodes)} nodes have no location in the file "
            "(an extract that cut the way, or a broken file)",
            code="osm.missing_nodes",
        )
        return
    values = attributes(way.tags)
    values["kind"], _ = classify(way.tags)
    values["source"] = SOURCE
    if way.tags.get("oneway") == "-1":
        refs.reverse()
        coords.reverse()
    cuts = _cut_points(refs, junctions)
    runs = []
    for start, end in itertools.pairwise(cuts):
        run = _dedupe(coords[start : end + 1])
        if len(run) < 2:
            continue
        if refs[start] == refs[end] and len(run) >= 3:  # a ring: two halves
            middle = len(run) // 2
            runs.extend((run[: middle + 1], run[middle:]))
        else:
            runs.append(run)
    if not runs:
        report.skip(
            "way",
            way_id,
            "zero length: all its nodes share one location",
            code="osm.zero_length",
        )
        return
    for number, run in enumerate(runs, 1):
        piece_id = way_id if len(runs) == 1 else f"{way_id}-{number}"
        pieces.add(way_id, piece_id, run, values)


def _cut_points(refs: list[int], junctions: np.ndarray) -> list[int]:
    """Indices where the way is cut: its ends and every inner node that is a junction."""
    inner = np.asarray(refs[1:-1], dtype=np.int64)
    if len(inner) and len(junctions):
        found = np.searchsorted(junctions, inner)
        hit = junctions[np.minimum(found, len(junctions) - 1)] == inner
        middle = (np.flatnonzero(hit) + 1).tolist()
    else:
        middle = []
    return [0, *middle, len(refs) - 1]


def _dedupe(coords: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Drop consecutive repeated points (two OSM nodes at one place)."""
    out = [coords[0]]
    for point in coords[1:]:
        if point != out[-1]:
            out.append(point)
    return out


def _keep_in_area(roads, way_ids: list[str], area: BaseGeometry, report: ImportReport):
    """Segments touching ``area`` are kept whole (the network stays connected just past its
    edge); the others are reported, per way when none of its segments is kept."""
    shapely.prepare(area)
    inside = shapely.intersects(roads.geometry.array, area)
    ids = np.asarray(way_ids, dtype=object)
    kept_ways = set(ids[inside].tolist())
    reported: set[str] = set()
    outside = zip(ids[~inside].tolist(), roads["id"].to_numpy()[~inside].tolist(), strict=True)
    for way_id, piece_id in outside:
        if way_id in kept_ways:
            report.skip("way", piece_id, "segment outside the area", code="osm.segment_outside")
        elif way_id not in reported:
            reported.add(way_id)
            report.skip("way", way_id, "outside the area", code="osm.outside")
    return roads[inside].reset_index(drop=True)


def _file_timestamp(path: Path) -> str | None:
    try:
        with osmium.io.Reader(str(path), osmium.osm.NOTHING) as reader:
            header = reader.header()
    except RuntimeError:
        return None
    return header.get("osmosis_replication_timestamp") or header.get("timestamp") or None
