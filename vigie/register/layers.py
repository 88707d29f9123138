"""The fields of view as map layers: GeoJSON (WGS84, for the dashboard and any GIS) and a
GeoPackage layer (for QGIS, written by pyogrio), one feature per camera with a field of view."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyogrio.raw import write
from shapely.geometry import mapping

from vigie.models import Authorisation, Camera, FieldOfView
from vigie.register.fov import FieldOfView as Sector

LAYER = "champs_de_vision"


def properties(
    camera: Camera, fov: FieldOfView, authorisation: Authorisation | None, state: str, today: date
) -> dict[str, Any]:
    return {
        "camera_id": camera.id,
        "name": camera.name,
        "commune": camera.commune_code,
        "state": state,
        "direction": fov.direction,
        "angle": fov.angle,
        "range_m": fov.range_m,
        "authorisation": authorisation.number if authorisation else None,
        "authorisation_ends_on": authorisation.ends_on.isoformat() if authorisation else None,
        "authorised": bool(
            authorisation and authorisation.granted_on <= today <= authorisation.ends_on
        ),
    }


def sector(camera: Camera, fov: FieldOfView) -> Sector:
    return Sector(
        latitude=camera.latitude,
        longitude=camera.longitude,
        direction=fov.direction,
        angle=fov.angle,
        range_m=fov.range_m,
    )


def feature_collection(rows: list[tuple[Camera, FieldOfView, dict[str, Any]]]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (RFC 7946: WGS84 longitude/latitude, no ``crs`` member)."""
    return {
        "type": "FeatureCollection",
        "name": LAYER,
        "features": [
            {
                "type": "Feature",
                "id": camera.id,
                "geometry": mapping(sector(camera, fov).polygon()),
                "properties": props,
            }
            for camera, fov, props in rows
        ],
    }


def geopackage(rows: list[tuple[Camera, FieldOfView, dict[str, Any]]]) -> bytes:
    """The same layer as a GeoPackage (EPSG:4326), as bytes; an empty layer keeps its fields."""
    geometry = np.array(
        [shapely.to_wkb(sector(camera, fov).polygon()) for camera, fov, _ in rows], dtype=object
    )
    field_data = [
        np.array([props[name] for _, _, props in rows], dtype=kind) for name, kind in FIELDS.items()
    ]
    with tempfile.TemporaryDirectory(prefix="vigie-fov-") as folder:
        path = Path(folder) / "fov.gpkg"
        write(
            str(path),
            geometry=geometry,
            field_data=field_data,
            fields=list(FIELDS),
            layer=LAYER,
            driver="GPKG",
            geometry_type="Polygon",
            crs="EPSG:4326",
        )
        return path.read_bytes()


FIELDS: dict[str, Any] = {
    "camera_id": object,
    "name": object,
    "commune": object,
    "state": object,
    "direction": np.float64,
    "angle": np.float64,
    "range_m": np.float64,
    "authorisation": object,
    "authorisation_ends_on": object,
    "authorised": np.bool_,
}
"""The layer's fields and their types (GeoPackage columns)."""
