"""The ``roads`` layer as the road importers (OSM, BD TOPO) write it: one column set, one way.

Both importers hand their columns here, so the layer has the same fields, types and order
whatever the source.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import geopandas as gpd
import pandas as pd

from planning.schema import WORK_CRS

ROAD_COLUMNS = ("id", "kind", "oneway", "bridge", "tunnel", "paved", "private", "source", "name")
"""Fields of an imported ``roads`` layer: the schema's, then the source's name for people."""

BOOLEAN_COLUMNS = ("oneway", "bridge", "tunnel", "paved", "private")


def road_frame(columns: Mapping[str, Sequence], geometry: object) -> gpd.GeoDataFrame:
    """A ``roads`` layer in Lambert-93; booleans are nullable, so "unknown" stays blank
    rather than turning into a false "no"."""
    data = {
        c: pd.array(list(columns[c]), dtype="boolean" if c in BOOLEAN_COLUMNS else "string")
        for c in ROAD_COLUMNS
    }
    return gpd.GeoDataFrame(data, geometry=geometry, crs=WORK_CRS)


def kinds(roads: gpd.GeoDataFrame) -> Counter[str]:
    """Segments per ``kind``, for the report."""
    return Counter(roads["kind"].astype(str).tolist())
