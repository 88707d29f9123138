"""``/api/v1/communes``: the commune boundaries of the département for the dashboard's map.

Geometry comes from the ``communes`` layer of ``settings.communes_geometry`` (default: the Eure
sample); names and intercommunalities from the database's referential when it knows the commune.
A scoped caller (a commune user) gets only its communes: its map opens on what it may see.
"""

import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import select

import gis_data
from vigie.auth.guards import require_roles
from vigie.auth.principal import Principal, apply_scope
from vigie.auth.roles import Role
from vigie.deps import SessionDep, SettingsDep
from vigie.geo_cache import layer_geojson
from vigie.models import Commune, Epci

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/communes", tags=["referential"])

AnyRole = Annotated[Principal, Depends(require_roles(*Role))]

SAMPLE = Path(gis_data.__file__).parent / "eure" / "eure.gpkg"
# About a pixel at the département's scale on a large screen.
TOLERANCE_M = 20.0


@router.get("", summary="Commune boundaries (GeoJSON, WGS84)")
def communes(principal: AnyRole, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """A FeatureCollection: ``code``, ``nom``, ``epci`` (SIREN) and ``epci_nom`` per commune;
    communes of the referential without a boundary in the layer come with a null geometry."""
    path = settings.communes_geometry or SAMPLE
    try:
        document = layer_geojson(path, "communes", ("code", "nom", "epci"), tolerance_m=TOLERANCE_M)
    except (OSError, ValueError) as err:
        # The path is the administrators' business, not the caller's: it goes to the log.
        log.error("VIGIE_COMMUNES_GEOMETRY: cannot read the communes layer of %s: %s", path, err)
        raise HTTPException(503, "the commune boundaries are unavailable (see the logs)") from err
    referential = {
        code: (nom, siren, epci_nom)
        for code, nom, siren, epci_nom in session.execute(
            apply_scope(
                select(Commune.code, Commune.nom, Commune.epci_siren, Epci.nom).outerjoin(
                    Epci, Epci.siren == Commune.epci_siren
                ),
                principal,
                Commune.code,
            )
        )
    }
    features = []
    for feature in document["features"]:
        props = feature["properties"]
        code = str(props["code"])
        known = referential.pop(code, None)
        if principal.restricted and known is None:
            continue
        nom, siren, epci_nom = known if known else (props["nom"], props["epci"], None)
        features.append(_feature(code, nom, siren, epci_nom, feature["geometry"]))
    # Communes of the referential the layer does not draw: named for the filters, no geometry.
    for code, (nom, siren, epci_nom) in sorted(referential.items()):
        features.append(_feature(code, nom, siren, epci_nom, None))
    return {"type": "FeatureCollection", "features": features}


def _feature(
    code: str, nom: str, siren: str | None, epci_nom: str | None, geometry: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {"code": code, "nom": nom, "epci": siren or None, "epci_nom": epci_nom},
    }
