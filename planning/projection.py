"""The one place that reprojects layers: to Lambert-93 for metric work, to WGS84 for the web.

A layer is only reprojected after checking that its coordinates are plausible in the CRS it claims:
a layer declared EPSG:4326 but holding Lambert-93 metres would otherwise turn into infinities or,
worse, into finite nonsense far away.
"""

from __future__ import annotations

import functools

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as PyprojCRSError
from pyproj.exceptions import ProjError

from planning.errors import LayerError
from planning.schema import WEB_CRS, WORK_CRS

_AREA_MARGIN = 0.05
"""Tolerance around a projected CRS's area of use, as a share of its width and height."""

_GEOGRAPHIC_MARGIN_DEG = 1.0

_SET_CRS_HINT = (
    "set the right CRS in QGIS (Layer Properties > Source > Assigned Coordinate Reference System) "
    "and save the layer again, or give the Shapefile its .prj"
)


class ProjectionError(LayerError):
    """A layer cannot be reprojected: its CRS is missing or does not match its coordinates.

    ``layer`` names the layer, ``code`` is a short slug for reports (``missing-crs``,
    ``crs-mismatch``, ``non-finite-coordinates``) and ``reason`` the message without the layer name.
    """

    def __init__(self, layer: str, code: str, reason: str) -> None:
        super().__init__(f"{layer}: {reason}")
        self.layer = layer
        self.code = code
        self.reason = reason


def crs_name(crs: CRS | None) -> str:
    """``EPSG:2154`` when the CRS has an authority code, else its name (or ``none``)."""
    if crs is None:
        return "none"
    authority = crs.to_authority(min_confidence=70)
    return f"{authority[0]}:{authority[1]}" if authority else crs.name


MISSING_CRS_REASON = (
    f"no CRS: the layer's coordinates cannot be located; {_SET_CRS_HINT} (Lambert-93 is EPSG:2154)"
)


def to_work_crs(gdf: gpd.GeoDataFrame, *, layer: str) -> gpd.GeoDataFrame:
    """Return ``gdf`` in Lambert-93 (EPSG:2154), checking its coordinates first.

    Raises
    ------
    ProjectionError
        The CRS is missing, the coordinates lie outside the area of use of the declared CRS,
        or the transformation yields non-finite coordinates.
    """
    return _reproject(gdf, layer=layer, target=WORK_CRS)


def to_web_crs(gdf: gpd.GeoDataFrame, *, layer: str) -> gpd.GeoDataFrame:
    """Return ``gdf`` in WGS84 longitude/latitude (EPSG:4326), for maps and the API."""
    return _reproject(gdf, layer=layer, target=WEB_CRS)


def _reproject(gdf: gpd.GeoDataFrame, *, layer: str, target: str) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise ProjectionError(layer, "missing-crs", MISSING_CRS_REASON)
    _check_area_of_use(gdf, layer=layer)
    target_crs = CRS.from_user_input(target)
    if gdf.crs.equals(target_crs):
        return gdf.copy()
    try:
        out = gdf.to_crs(target_crs)
    except (ProjError, PyprojCRSError) as err:
        raise ProjectionError(
            layer, "crs-mismatch", f"cannot transform from {crs_name(gdf.crs)} to {target}: {err}"
        ) from err
    coords = shapely.get_coordinates(out.geometry.array)
    if not np.isfinite(coords).all():
        bad = int((~np.isfinite(coords).all(axis=1)).sum())
        raise ProjectionError(
            layer,
            "non-finite-coordinates",
            f"transforming from {crs_name(gdf.crs)} to {target} yields {bad} non-finite "
            f"coordinates: the coordinates do not look like {crs_name(gdf.crs)}; {_SET_CRS_HINT}",
        )
    return out


def outside_area_of_use(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Mask of the features lying outside the area of use of the layer's CRS.

    A few such features in a layer that otherwise fits its CRS are misplaced or mistyped points
    (a mast at 0,0), to report one by one; most of a layer outside means the CRS itself is wrong,
    which `to_work_crs` refuses.
    """
    bounds = shapely.bounds(gdf.geometry.array)  # NaN rows for null and empty geometries
    limits = None if gdf.crs is None else _plausible_bounds(gdf.crs)
    if limits is None:
        return np.zeros(len(gdf), dtype=bool)
    x0, y0, x1, y1 = limits
    with np.errstate(invalid="ignore"):
        return (bounds[:, 0] < x0) | (bounds[:, 1] < y0) | (bounds[:, 2] > x1) | (bounds[:, 3] > y1)


def _check_area_of_use(gdf: gpd.GeoDataFrame, *, layer: str) -> None:
    """Refuse a layer whose coordinates mostly fall outside what its declared CRS can describe."""
    limits = _plausible_bounds(gdf.crs)
    geoms = gdf.geometry.array
    bounds = shapely.bounds(geoms)  # NaN rows for null and empty geometries
    present = ~np.isnan(bounds).any(axis=1)
    if not present.any():
        return
    bounds = bounds[present]
    if not np.isfinite(bounds).all():
        raise ProjectionError(
            layer, "non-finite-coordinates", "some coordinates are infinite: fix the geometries"
        )
    if limits is None:
        return
    x0, y0, x1, y1 = limits
    outside = (bounds[:, 0] < x0) | (bounds[:, 1] < y0) | (bounds[:, 2] > x1) | (bounds[:, 3] > y1)
    if outside.sum() * 2 <= len(bounds):  # a minority of strays: reported per feature
        return
    lx0, ly0 = bounds[:, 0].min(), bounds[:, 1].min()
    lx1, ly1 = bounds[:, 2].max(), bounds[:, 3].max()
    name = crs_name(gdf.crs)
    raise ProjectionError(
        layer,
        "crs-mismatch",
        f"coordinates do not look like {name}: {int(outside.sum())} of {len(bounds)} features lie "
        f"outside its area of use (layer spans x {lx0:.6g}..{lx1:.6g}, y {ly0:.6g}..{ly1:.6g}; "
        f"expected x {x0:.6g}..{x1:.6g}, y {y0:.6g}..{y1:.6g}){_guess((lx0, ly0, lx1, ly1))}; "
        f"{_SET_CRS_HINT}",
    )


@functools.lru_cache(maxsize=32)  # building a transformer costs ~15 ms; layers share few CRSs
def _plausible_bounds(crs: CRS) -> tuple[float, float, float, float] | None:
    """The declared CRS's area of use in its own units, with a margin; None when unknown."""
    area = crs.area_of_use
    if crs.is_geographic:
        if area is None:
            return (-180.0, -90.0, 180.0, 90.0)
        m = _GEOGRAPHIC_MARGIN_DEG
        west, south, east, north = area.bounds
        return (
            max(west - m, -180.0),
            max(south - m, -90.0),
            min(east + m, 180.0),
            min(north + m, 90.0),
        )
    if area is None:
        return None
    try:
        to_crs = Transformer.from_crs(CRS.from_epsg(4326), crs, always_xy=True)
        x0, y0, x1, y1 = to_crs.transform_bounds(*area.bounds, densify_pts=21)
    except (ProjError, PyprojCRSError):
        return None
    if not np.isfinite([x0, y0, x1, y1]).all():
        return None
    dx, dy = (x1 - x0) * _AREA_MARGIN, (y1 - y0) * _AREA_MARGIN
    return (x0 - dx, y0 - dy, x1 + dx, y1 + dy)


def _guess(extent: tuple[float, float, float, float]) -> str:
    """Name the likely CRS of an extent, when it is one of the two usual suspects."""
    for code, label in ((WORK_CRS, "Lambert-93 metres"), (WEB_CRS, "longitudes/latitudes")):
        limits = _plausible_bounds(CRS.from_user_input(code))
        if limits is None:
            continue
        x0, y0, x1, y1 = limits
        if x0 <= extent[0] and y0 <= extent[1] and extent[2] <= x1 and extent[3] <= y1:
            return f"; they look like {label} ({code})"
    return ""
