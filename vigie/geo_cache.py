"""GeoJSON read from GeoPackages for the dashboard, cached per file and modification time.

Reading and reprojecting a layer takes a fraction of a second; the map asks for it on every page
load, so the result is kept until the file changes.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

_LOCK = threading.Lock()
_CACHE: dict[tuple[str, str, int, int], Any] = {}
_MAX_ENTRIES = 32


def layer_geojson(
    path: Path, layer: str, columns: tuple[str, ...], *, tolerance_m: float = 0.0
) -> dict[str, Any]:
    """``layer`` of ``path`` as a WGS84 FeatureCollection with only ``columns`` as properties.

    ``tolerance_m`` simplifies the geometries (in Lambert-93 metres) before reprojection: the
    map needs boundaries, not survey precision. Raises OSError/ValueError on an unreadable file.
    """
    stat = path.stat()
    key = (str(path), layer, stat.st_mtime_ns, int(tolerance_m * 1000))
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    try:
        frame = pyogrio.read_dataframe(path, layer=layer)
    except (DataSourceError, DataLayerError) as err:
        raise ValueError(f"{path}: cannot read layer {layer}: {err}") from err
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: layer {layer} lacks the column(s) {', '.join(missing)}")
    frame = frame[[*columns, "geometry"]]
    if tolerance_m > 0:
        if frame.crs is not None and frame.crs.to_epsg() != 2154:
            frame = frame.to_crs(2154)
        frame = frame.set_geometry(frame.geometry.simplify(tolerance_m))
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    document = json.loads(frame.to_json(drop_id=True, to_wgs84=False))
    with _LOCK:
        if len(_CACHE) >= _MAX_ENTRIES:
            _CACHE.clear()
        _CACHE[key] = document
    return document
