"""What each mast needs besides fibre, read from the input layers: its camera model and power.

The estimate prices a mast's electricity by the nearest power point of the `power_points`
layer: an Enedis delivery point (a connection under Enedis's scale of charges) or a public-lighting
cabinet (adapted to give a permanent supply, as communes commonly do for their cameras), plus the
metres of low-voltage link to it. Pure: layers in (Lambert-93), a table out.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

SUPPLY_COLUMNS = ("camera_model", "power_point_id", "power_kind", "power_distance_m")
"""The columns `mast_supply` adds to each mast of a plan."""


def mast_supply(masts: gpd.GeoDataFrame, power_points: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """Per mast id: ``camera_model`` and the nearest power point (id, kind, distance in m).

    Masts with no power point at all get an empty id and kind and a NaN distance; the estimate
    then prices an Enedis complete branch with no extra metres, and says so.
    """
    ids = masts["id"].astype(str).to_numpy()
    models = (
        masts["camera_model"].fillna("").astype(str).to_numpy()
        if "camera_model" in masts
        else np.full(len(masts), "", dtype=object)
    )
    point_ids = np.full(len(masts), "", dtype=object)
    kinds = np.full(len(masts), "", dtype=object)
    distances = np.full(len(masts), np.nan)
    if power_points is not None and len(power_points) and len(masts):
        (mast_pos, point_pos), nearest_m = power_points.sindex.nearest(
            masts.geometry, return_all=False, return_distance=True
        )
        point_ids[mast_pos] = power_points["id"].astype(str).to_numpy()[point_pos]
        kinds[mast_pos] = power_points["kind"].astype(str).to_numpy()[point_pos]
        distances[mast_pos] = np.round(nearest_m, 1)
    return pd.DataFrame(
        dict(zip(SUPPLY_COLUMNS, (models, point_ids, kinds, distances), strict=True)),
        index=pd.Index(ids, name="mast_id"),
    )
