"""``--area``: the part of a source to import, as a polygon in Lambert-93.

Three spellings, tried in this order:

- a WGS84 box ``minlon,minlat,maxlon,maxlat`` (``1.10,49.00,1.20,49.05``), as bbox tools print it;
- INSEE commune codes ``27229`` or ``27229,27056``: those communes' outlines, from the Eure's
  communes shipped with Vigie (``gis_data/sources/communes-27-eure.geojson``);
- a path to a polygon file (GeoJSON, GeoPackage, Shapefile) in any declared CRS: the union of its
  polygons.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from planning.errors import PlanningError
from planning.projection import ProjectionError, to_work_crs
from planning.schema import WEB_CRS

INSEE_CODE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_NUMBER = r"[-+]?\d+(?:\.\d*)?"
_BBOX = re.compile(rf"^\s*{_NUMBER}\s*(,\s*{_NUMBER}\s*){{3}}$")


class AreaError(PlanningError):
    """``--area`` cannot be turned into a polygon: fix the value named in the message."""


def parse_area(value: str, *, communes: Path | None = None) -> BaseGeometry:
    """The polygon (Lambert-93) that ``value`` names; see the module docstring.

    ``communes`` is the communes file INSEE codes are looked up in (default: the Eure's).
    """
    text = value.strip()
    if not text:
        raise AreaError("--area is empty: give minlon,minlat,maxlon,maxlat, INSEE codes or a file")
    if _BBOX.match(text):
        return _bbox(text)
    codes = [c.strip() for c in text.split(",")]
    if all(INSEE_CODE.match(c) for c in codes):
        return _communes(codes, communes)
    path = Path(text)
    if path.exists():
        return _polygon_file(path)
    raise AreaError(
        f"--area {value!r}: neither a box minlon,minlat,maxlon,maxlat (WGS84), INSEE commune "
        "codes (27229,27056) nor an existing polygon file"
    )


def _bbox(text: str) -> BaseGeometry:
    minlon, minlat, maxlon, maxlat = (float(v) for v in text.split(","))
    if not (-180 <= minlon < maxlon <= 180 and -90 <= minlat < maxlat <= 90):
        raise AreaError(
            f"--area {text}: not a WGS84 box minlon,minlat,maxlon,maxlat (longitudes in "
            "-180..180, latitudes in -90..90, each minimum below its maximum)"
        )
    box = shapely.segmentize(shapely.box(minlon, minlat, maxlon, maxlat), 0.01)
    return _to_work(gpd.GeoDataFrame(geometry=[box], crs=WEB_CRS), f"--area {text}")


def _communes(codes: list[str], communes: Path | None) -> BaseGeometry:
    if communes is None:
        communes = Path(str(files("gis_data").joinpath("sources", "communes-27-eure.geojson")))
    table = gpd.read_file(communes, engine="pyogrio")
    found = table[table["code"].astype(str).isin(codes)]
    unknown = sorted(set(codes) - set(found["code"].astype(str)))
    if unknown:
        raise AreaError(
            f"--area: commune(s) {', '.join(unknown)} not in {Path(communes).name} (the Eure's "
            "communes): check the INSEE code (not the postcode), or give a polygon file"
        )
    return _to_work(found, "--area")


def _polygon_file(path: Path) -> BaseGeometry:
    try:
        gdf = gpd.read_file(path, engine="pyogrio")
    except Exception as error:  # pyogrio/GDAL raise several types for unreadable files
        raise AreaError(f"--area {path}: cannot read it as a polygon file ({error})") from error
    polygons = gdf[gdf.geometry.notna() & gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polygons.empty:
        raise AreaError(f"--area {path}: holds no polygon (a GeoJSON/GeoPackage of outlines)")
    return _to_work(polygons, f"--area {path}")


def _to_work(gdf: gpd.GeoDataFrame, what: str) -> BaseGeometry:
    try:
        work = to_work_crs(gdf, layer=what)
    except ProjectionError as error:
        raise AreaError(str(error)) from error
    area = shapely.union_all(shapely.make_valid(work.geometry.array))
    if area.is_empty:
        raise AreaError(f"{what}: the polygon is empty")
    return area
