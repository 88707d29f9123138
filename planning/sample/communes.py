"""Real communes of the Eure: read the open data, fold 2018 boundaries onto the current communes.

The boundaries date from 2018 while the administrative records are current, so eleven 2018 codes are
no longer communes. Each fold is a decision a reviewer may question, so each one becomes a note.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from planning.errors import SampleError
from planning.schema import WORK_CRS

SCOPES = ("epci", "departement")
CURRENT = "commune-actuelle"
FOLDED = ("commune-deleguee", "commune-associee")


@dataclass(frozen=True)
class Communes:
    """The current communes of a scope, sorted by code, in Lambert-93."""

    frame: gpd.GeoDataFrame  # code, nom, population, epci, geometry
    centres: np.ndarray  # (n, 2) a point inside each commune where its streets start
    neighbours: tuple[tuple[int, int, float, tuple[float, float]], ...]
    """(i, j, shared border length in m, a point on it), i < j, for communes sharing a border."""


def load_communes(
    communes_geojson: Path, admin_json: Path, *, scope: str, epci: str
) -> tuple[Communes, list[str]]:
    """Read both files, fold the 2018 boundaries onto current communes and keep the scope."""
    if scope not in SCOPES:
        raise SampleError(f"unknown scope {scope!r}: use one of {', '.join(SCOPES)}")
    records, epcis = _read_admin(Path(admin_json))
    shapes, names = _read_boundaries(Path(communes_geojson))
    current = {code: rec for code, rec in records.items() if rec["type"] == CURRENT}
    folded = {code: rec for code, rec in records.items() if rec["type"] in FOLDED}
    missing = sorted(set(current) - set(shapes))
    if missing:
        raise SampleError(
            f"{communes_geojson}: no boundary for current communes {', '.join(missing)}; "
            "use boundaries at least as recent as the administrative file"
        )
    pieces, notes = _fold(shapes, names, current, folded)

    if scope == "epci":
        if epci not in epcis:
            known = ", ".join(f"{siren} ({nom})" for siren, nom in sorted(epcis.items()))
            raise SampleError(f"{admin_json}: no EPCI with SIREN {epci!r}; known: {known}")
        codes = sorted(code for code, rec in current.items() if rec.get("epci_siren") == epci)
    else:
        codes = sorted(current)
    if not codes:
        raise SampleError(f"{admin_json}: the scope {scope!r} holds no commune")

    geoms = [_clean(shapely.union_all(pieces[code])) for code in codes]
    frame = gpd.GeoDataFrame(
        {
            "code": codes,
            "nom": [str(current[c]["nom"]) for c in codes],
            "population": np.array([int(current[c]["population"] or 0) for c in codes], "int64"),
            "epci": [str(current[c].get("epci_siren") or "") for c in codes],
        },
        geometry=geoms,
        crs=WORK_CRS,
    )
    centres = np.array([_centre(g) for g in geoms])
    return Communes(frame, centres, _neighbours(geoms)), notes


def _read_admin(path: Path) -> tuple[dict[str, dict], dict[str, str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        rows = data["communes"]
        epcis = {str(e["siren"]): str(e["nom"]) for e in data["epci"]}
    except FileNotFoundError as err:
        raise SampleError(f"{path}: file not found") from err
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise SampleError(
            f"{path}: not an administrative file with 'communes' and 'epci' ({err})"
        ) from err
    records: dict[str, dict] = {}
    for row in rows:
        try:
            code, kind = str(row["code"]), str(row["type"])
        except (KeyError, TypeError) as err:
            raise SampleError(f"{path}: commune record without code or type: {row!r}") from err
        # A commune déléguée may share its code with its chef-lieu: the current commune wins.
        if kind == CURRENT or code not in records:
            records[code] = row
    return records, epcis


def _read_boundaries(path: Path) -> tuple[dict[str, list[BaseGeometry]], dict[str, str]]:
    if not path.exists():
        raise SampleError(f"{path}: file not found")
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
        raise SampleError(f"{path}: cannot read the commune boundaries ({err})") from err
    if "code" not in frame.columns or frame.crs is None:
        raise SampleError(f"{path}: needs a 'code' property and a CRS")
    frame = frame.to_crs(WORK_CRS)
    names = frame["nom"].astype(str) if "nom" in frame.columns else frame["code"].astype(str)
    shapes: dict[str, list[BaseGeometry]] = {}
    for code, geom in zip(frame["code"].astype(str), frame.geometry, strict=True):
        if geom is not None and not geom.is_empty:
            shapes.setdefault(code, []).append(shapely.make_valid(geom))
    return shapes, dict(zip(frame["code"].astype(str), names, strict=True))


def _fold(
    shapes: dict[str, list[BaseGeometry]],
    names: dict[str, str],
    current: dict[str, dict],
    folded: dict[str, dict],
) -> tuple[dict[str, list[BaseGeometry]], list[str]]:
    """Give every 2018 polygon to a current commune, and say where each stray one went."""
    pieces = {code: list(shapes[code]) for code in sorted(current)}
    notes: list[str] = []
    orphans = []
    for code in sorted(set(shapes) - set(current)):
        rec = folded.get(code)
        head = str(rec.get("chefLieu") or "") if rec else ""
        if head in current:
            pieces[head].extend(shapes[code])
            notes.append(
                f"2018 commune {code} ({rec['nom']}) is a {rec['type']} of {head} "
                f"({current[head]['nom']}): its polygon was merged into {head}"
            )
        else:
            orphans.append(code)
    if not orphans:
        return pieces, notes
    # Communes that vanished without a record merged into a neighbour, often several together into
    # one commune nouvelle: neighbouring orphans are handled as one cluster, which goes to the
    # current commune sharing the longest border with the whole cluster.
    bases = {code: shapely.union_all(geoms) for code, geoms in pieces.items()}
    codes = sorted(bases)
    tree = shapely.STRtree([bases[c] for c in codes])
    for cluster in _clusters({code: shapely.union_all(shapes[code]) for code in orphans}):
        zone = shapely.union_all([g for code in cluster for g in shapes[code]]).buffer(1.0)
        hits = sorted(tree.query(zone, predicate="intersects"))
        borders = [
            (shapely.intersection(bases[codes[i]].boundary, zone).length, codes[i]) for i in hits
        ]
        listed = ", ".join(f"{code} ({names[code]})" for code in cluster)
        if not borders or max(borders)[0] <= 0:
            raise SampleError(f"2018 communes {listed} have no record and touch no current commune")
        length, target = max(borders)
        for code in cluster:
            pieces[target].extend(shapes[code])
        notes.append(
            f"2018 commune(s) {listed} have no record in the administrative file: merged into "
            f"{target} ({current[target]['nom']}), the current commune sharing the longest border "
            f"with them ({length:.0f} m)"
        )
    return pieces, notes


def _clusters(geoms: dict[str, BaseGeometry]) -> list[list[str]]:
    """Groups of codes whose polygons touch each other (transitively), in code order."""
    codes = sorted(geoms)
    group = {code: code for code in codes}

    def root(code: str) -> str:
        while group[code] != code:
            code = group[code]
        return code

    for i, first in enumerate(codes):
        for second in codes[i + 1 :]:
            if shapely.dwithin(geoms[first], geoms[second], 1.0):
                group[root(second)] = root(first)
    clusters: dict[str, list[str]] = {}
    for code in codes:
        clusters.setdefault(root(code), []).append(code)
    return sorted(clusters.values())


def _clean(geom: BaseGeometry) -> BaseGeometry:
    """Drop the slivers a union of simplified polygons can leave, keep (Multi)Polygon."""
    geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 1.0]
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _centre(geom: BaseGeometry) -> tuple[float, float]:
    """The town centre is unknown: take the centroid of the main part when it lies inside."""
    main = max(shapely.get_parts(geom), key=lambda p: p.area)
    inner = main.buffer(-150.0)
    if inner.is_empty:
        inner = main
    point = main.centroid
    if not inner.contains(point):
        point = inner.point_on_surface()
    return round(point.x, 2), round(point.y, 2)


def _neighbours(
    geoms: list[BaseGeometry],
) -> tuple[tuple[int, int, float, tuple[float, float]], ...]:
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=1.0)
    pairs = []
    for i, j in sorted(zip(left.tolist(), right.tolist(), strict=True)):
        if i >= j:
            continue
        border = shapely.intersection(geoms[i].boundary, geoms[j].buffer(1.0))
        lines = [p for p in shapely.get_parts(border) if p.length > 0]
        length = float(sum(p.length for p in lines))
        if length < 100.0:  # a corner point is not a shared border
            continue
        longest = max(lines, key=lambda p: p.length)
        mid = longest.interpolate(0.5, normalized=True)
        pairs.append((i, j, length, (round(mid.x, 2), round(mid.y, 2))))
    return tuple(pairs)
