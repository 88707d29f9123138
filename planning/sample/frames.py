"""Shape generated columns into a layer exactly as the schema declares it.

Names, order, dtypes and CRS come from `planning.schema`, so the sample cannot drift from it.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np

from planning.schema import LAYERS, WORK_CRS, FieldType


def layer_frame(name: str, columns: dict[str, Sequence], geometry: Sequence) -> gpd.GeoDataFrame:
    """A GeoDataFrame of layer `name`: the schema's fields in order, geometry, Lambert-93.

    Optional fields (owner, priority...) are written only when the generator gives them.
    """
    spec = LAYERS[name]
    fields = [f for f in spec.fields if f.required or f.name in columns]
    expected = [f.name for f in fields]
    if sorted(columns) != sorted(expected):
        raise ValueError(f"{name}: columns {sorted(columns)} differ from the schema {expected}")
    data = {}
    for field in fields:
        values = columns[field.name]
        if field.type is FieldType.INTEGER:
            data[field.name] = np.asarray(values, dtype="int64")
        elif field.type is FieldType.BOOLEAN:
            data[field.name] = np.asarray(values, dtype=bool)
        else:  # text and ids: plain Python strings, stored as TEXT
            data[field.name] = np.asarray([str(v) for v in values], dtype=object)
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(list(geometry), crs=WORK_CRS))
