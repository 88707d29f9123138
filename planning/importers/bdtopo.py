"""IGN BD TOPO v3 road segments (``troncon_de_route``) into the ``roads`` layer.

Reads the GeoPackage delivery (layer ``troncon_de_route``, fields ``cleabs``, ``nature``...) or the
Shapefile one (``TRONCON_DE_ROUTE.shp``, fields cut to ten characters: ``ID``, ``NATURE``,
``POS_SOL``...), or a delivery folder holding either, in any CRS IGN ships (Lambert-93 in
metropolitan France). Field names and values follow IGN's "BD TOPO Version 3 - Descriptif de
contenu" (thème Transport, classe Tronçon de route). BD TOPO segments already end at every
intersection (IGN's capture rules), so they are kept as they are; 3D lines become 2D.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from planning.errors import LayerError
from planning.importers.report import ImportReport, ImportResult, Progress, Reason
from planning.importers.roads import kinds, road_frame
from planning.projection import ProjectionError, to_work_crs

logger = logging.getLogger(__name__)

SOURCE = "bdtopo"
LAYER = "troncon_de_route"

FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("cleabs", "id"),
    "nature": ("nature",),
    "importance": ("importance",),
    "etat": ("etat_de_l_objet", "etat"),
    "sens": ("sens_de_circulation", "sens"),
    "position": ("position_par_rapport_au_sol", "pos_sol"),
    "access": ("acces_vehicule_leger", "acces_vl"),
    "private": ("prive",),
    "name": ("nom_collaboratif_gauche", "nom_1_gauche", "nom_1_g"),
}
"""What we read -> the field's name in the GeoPackage delivery, then in the Shapefile one
(matched without regard to case)."""

REQUIRED = ("id", "nature")

MOTORWAY_NATURES = frozenset({"Type autoroutier", "Autoroute", "Quasi-autoroute"})
ROAD_NATURES = frozenset({"Route à 1 chaussée", "Route à 2 chaussées", "Rond-point", "Bretelle"})
TRACK_NATURES = frozenset({"Route empierrée", "Chemin"})

IMPORTANCE_KINDS: dict[str, str] = {
    "1": "primary",  # links between metropolises (motorways are caught by their nature first)
    "2": "primary",  # links between départements
    "3": "secondary",  # links between communes of a département
    "4": "tertiary",  # fast links inside a commune, links between its parts
    "5": "local",  # local service roads
    "6": "local",  # fine service roads, lanes
    "NC": "local",  # not classified
}
"""``importance`` -> kind for the roads of ``ROAD_NATURES`` (a ``Bretelle`` of importance 1 is a
motorway slip road: motorway)."""

SKIPPED_NATURES: dict[str, Reason] = {
    "Sentier": Reason("bdtopo.footpath", "footpath (Sentier): not a road a trench is dug along"),
    "Escalier": Reason("bdtopo.steps", "steps (Escalier): no trench can be dug along steps"),
    "Piste cyclable": Reason("bdtopo.cycleway", "cycle path (Piste cyclable): fibre follows roads"),
    "Bac ou liaison maritime": Reason(
        "bdtopo.ferry", "ferry or sea link (Bac ou liaison maritime): no road to dig"
    ),
    "Bac auto": Reason("bdtopo.ferry", "car ferry (Bac auto): no road to dig"),
    "Bac piéton": Reason("bdtopo.ferry", "foot ferry (Bac piéton): no road to dig"),
}
"""``nature`` values left out, each with its code and the reason the report gives."""

IN_SERVICE = "En service"
_TRUE = frozenset({"vrai", "true", "oui", "1", "t", "yes"})


def kind_for(nature: str, importance: str) -> tuple[str | None, Reason | None]:
    """``(kind, None)`` for a segment mapped to a road, ``(None, reason)`` for one left out."""
    if nature in MOTORWAY_NATURES:
        return "motorway", None
    if nature in SKIPPED_NATURES:
        return None, SKIPPED_NATURES[nature]
    if nature in TRACK_NATURES:
        return "track", None
    if nature in ROAD_NATURES:
        if nature == "Bretelle" and importance == "1":
            return "motorway", None
        return IMPORTANCE_KINDS.get(importance, "local"), None
    return None, Reason(
        "bdtopo.unknown_nature", f"unknown nature {nature!r}: not in the mapping table (README)"
    )


def import_bdtopo(
    source: Path | str,
    *,
    area: BaseGeometry | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import BD TOPO's ``troncon_de_route`` into a ``roads`` layer in Lambert-93.

    Raises
    ------
    LayerError
        No ``troncon_de_route`` layer or file, a required field missing, no CRS, or no road left.
    """
    tell = progress or (lambda step, done, total: None)
    path, layer = _locate(Path(source))
    report = ImportReport(source=str(path), format=SOURCE)
    columns = _columns(path, layer)
    tell("roads", 0, 0)
    try:
        raw = gpd.read_file(
            path, layer=layer, columns=[c for c in columns.values() if c], engine="pyogrio"
        )
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as error:
        raise LayerError(f"{path}: cannot read layer {layer} ({error})") from error
    total = len(raw)
    tell("roads", 0, total)
    try:
        raw = to_work_crs(raw, layer=f"{path.name}:{layer}")
    except ProjectionError as error:
        raise LayerError(f"{path}: {error}") from error
    table = pd.DataFrame({key: _text(raw, column) for key, column in columns.items()})
    rows = _map_rows(table, report)
    roads = _roads(raw, table, rows, report)
    if area is not None:
        roads = _keep_in_area(roads, area, report)
    tell("roads", total, total)
    if roads.empty:
        where = " in the area given" if area is not None else ""
        raise LayerError(
            f"{path}: no road{where} could be imported from {layer} ({len(report.unmapped)} "
            "segments left out, see the report)"
        )
    report.count("roads", kinds(roads))
    report.notes.append("BD TOPO © IGN, Licence Ouverte / Open Licence Etalab 2.0: credit IGN")
    logger.info(
        "bdtopo import of %s: %d segments, %d left out", path, len(roads), len(report.unmapped)
    )
    return ImportResult(layers={"roads": roads}, report=report)


def _locate(source: Path) -> tuple[Path, str | None]:
    """The file and layer holding ``troncon_de_route``: a GeoPackage, a Shapefile, or a
    delivery folder holding one of them (IGN's deliveries nest it a few folders deep)."""
    if not source.exists():
        raise LayerError(f"{source}: no such file or folder (BD TOPO's troncon_de_route)")
    if source.is_dir():
        candidates = sorted(
            p
            for p in source.rglob("*")
            if p.suffix.lower() in {".shp", ".gpkg"}
            and (p.stem.lower() == LAYER or p.suffix.lower() == ".gpkg")
        )
        for candidate in candidates:
            try:
                return _locate(candidate)
            except LayerError:
                continue
        raise LayerError(
            f"{source}: no TRONCON_DE_ROUTE.shp nor GeoPackage with a {LAYER} layer in this "
            "folder: give BD TOPO's Transport theme (unzipped; .7z archives must be extracted)"
        )
    suffix = source.suffix.lower()
    if suffix == ".shp":
        return source, None
    if suffix != ".gpkg":
        raise LayerError(
            f"{source}: not a GeoPackage or Shapefile: give BD TOPO's troncon_de_route "
            "(.gpkg, or TRONCON_DE_ROUTE.shp with its .dbf, .shx and .prj)"
        )
    try:
        names = [str(row[0]) for row in pyogrio.list_layers(source)]
    except pyogrio.errors.DataSourceError as error:
        raise LayerError(f"{source}: cannot open it as a GeoPackage ({error})") from error
    for name in names:
        if name.lower() == LAYER:
            return source, name
    raise LayerError(
        f"{source}: no {LAYER} layer (it has: {', '.join(names) or 'none'}): give the BD TOPO "
        "GeoPackage of the Transport theme, or its TRONCON_DE_ROUTE.shp"
    )


def _columns(path: Path, layer: str | None) -> dict[str, str | None]:
    """Our keys -> the source's field names; a required one missing is an error."""
    try:
        fields = [str(f) for f in pyogrio.read_info(path, layer=layer)["fields"]]
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as error:
        raise LayerError(f"{path}: cannot read it ({error})") from error
    by_lower = {f.lower(): f for f in fields}
    found = {
        key: next((by_lower[n] for n in names if n in by_lower), None)
        for key, names in FIELDS.items()
    }
    for key in REQUIRED:
        if found[key] is None:
            names = FIELDS[key]
            raise LayerError(
                f"{path}: {layer or path.stem} has no field '{names[0]}' ({names[-1].upper()} in "
                "Shapefiles): is it BD TOPO v3's troncon_de_route? (v2 deliveries are not read)"
            )
    return found


def _text(gdf: gpd.GeoDataFrame, column: str | None) -> pd.Series:
    """A field as stripped text ('' when absent or null); integers such as POS_SOL as '1'."""
    if column is None:
        return pd.Series([""] * len(gdf), index=gdf.index, dtype=object)
    return gdf[column].map(_as_text)


def _as_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _map_rows(table: pd.DataFrame, report: ImportReport) -> np.ndarray:
    """Kind per row ('' for rows left out, each reported)."""
    out = np.empty(len(table), dtype=object)
    for i, (sid, nature, importance, etat) in enumerate(
        zip(table["id"], table["nature"], table["importance"], table["etat"], strict=True)
    ):
        if etat and etat != IN_SERVICE:
            out[i] = ""
            report.skip(
                LAYER,
                sid,
                f"not in service (etat_de_l_objet: {etat}): not built, or gone",
                code="bdtopo.not_in_service",
            )
            continue
        kind, why = kind_for(nature, importance)
        if why is not None:
            out[i] = ""
            report.skip(LAYER, sid, why.text, code=why.code)
        else:
            out[i] = kind
    return out


def _roads(
    raw: gpd.GeoDataFrame, table: pd.DataFrame, kind: np.ndarray, report: ImportReport
) -> gpd.GeoDataFrame:
    keep = kind != ""
    geometry = shapely.force_2d(raw.geometry.array[keep])
    table = table[keep].reset_index(drop=True)
    kind = kind[keep]
    # Sens inverse: traffic runs against the digitising direction; turn the line round so that
    # oneway means "along the line", as in the OSM import.
    reverse = (table["sens"] == "Sens inverse").to_numpy()
    geometry = np.where(reverse, shapely.reverse(geometry), geometry)
    position = pd.to_numeric(table["position"], errors="coerce")
    columns = {
        "id": table["id"].tolist(),
        "kind": kind.tolist(),
        "oneway": [
            {"Sens direct": True, "Sens inverse": True, "Double sens": False}.get(s)
            for s in table["sens"]
        ],
        "bridge": [None if pd.isna(p) else bool(p > 0) for p in position],
        "tunnel": [None if pd.isna(p) else bool(p < 0) for p in position],
        "paved": [k != "track" for k in kind],
        "private": [
            p.lower() in _TRUE or a == "Restreint aux ayants droit"
            for p, a in zip(table["private"], table["access"], strict=True)
        ],
        "source": [SOURCE] * len(table),
        "name": [n or None for n in table["name"]],
    }
    roads = road_frame(columns, geometry)
    return _single_parts(roads, report)


def _single_parts(roads: gpd.GeoDataFrame, report: ImportReport) -> gpd.GeoDataFrame:
    """MultiLineStrings (Shapefiles store lines so) become LineStrings; a real multi-part line
    becomes ``id-1``, ``id-2``...; empty geometries are reported."""
    empty = roads.geometry.is_empty.to_numpy() | roads.geometry.isna().to_numpy()
    for sid in roads.loc[empty, "id"]:
        report.skip(LAYER, sid, "empty geometry", code="bdtopo.empty_geometry")
    roads = roads[~empty]
    parts = roads.explode(index_parts=True)
    counts = parts.groupby(level=0)["id"].transform("size").to_numpy()
    numbers = parts.index.get_level_values(1).to_numpy() + 1
    parts["id"] = [
        sid if n == 1 else f"{sid}-{k}"
        for sid, n, k in zip(parts["id"], counts, numbers, strict=True)
    ]
    return parts.reset_index(drop=True)


def _keep_in_area(roads: gpd.GeoDataFrame, area: BaseGeometry, report: ImportReport):
    shapely.prepare(area)
    inside = shapely.intersects(roads.geometry.array, area)
    for sid in roads.loc[~inside, "id"]:
        report.skip(LAYER, sid, "outside the area", code="bdtopo.outside")
    return roads[inside].reset_index(drop=True)
