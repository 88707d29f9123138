"""The six planning layers: geometry, required fields and allowed values.

One table, read by the validator, the sample generator and the README, so the three never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import pandas as pd

WORK_CRS = "EPSG:2154"
"""Lambert-93: every metric computation happens in it."""

WEB_CRS = "EPSG:4326"


class FieldType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    ID = "id"  # text or integer, never null, unique in the layer


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: FieldType
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    pattern: str | None = None
    description: str = ""
    required: bool = True  # an optional field is checked only where the layer has it


@dataclass(frozen=True)
class LayerSpec:
    name: str
    geometry: str  # "LineString", "Point" or "Polygon" (multi-part polygons allowed)
    id_field: str
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)
    description: str = ""
    required: bool = True  # an optional layer may be absent; when present it is checked

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)


ROAD_KINDS = ("motorway", "primary", "secondary", "tertiary", "local", "track")
FTTH_ROUTE_KINDS = ("duct", "aerial")
FTTH_NODE_KINDS = ("NRO", "PM", "PBO", "chamber")
POWER_POINT_KINDS = ("enedis", "public_lighting")
SITE_KINDS = ("csu", "gendarmerie", "nro")
MAST_OWNERS = ("commune", "epci", "etat", "departement")
"""Who owns (and runs) a mast: `etat` is the gendarmerie or the police (e.g. plate reading at road
passage points), whose cameras the law reserves some uses to (`cameras.catalogue`)."""
DEFAULT_MAST_OWNER = "commune"

_ID = FieldSpec("id", FieldType.ID, description="unique identifier")


def _optional(name: str, type_: FieldType, description: str, **kw) -> FieldSpec:
    return FieldSpec(name, type_, description=description, required=False, **kw)


_OWNER = (
    _optional("owner", FieldType.TEXT, "owner of the infrastructure (rent is paid to it)"),
    _optional("manager", FieldType.TEXT, "manager (gestionnaire) of the infrastructure"),
)

LAYERS: dict[str, LayerSpec] = {
    spec.name: spec
    for spec in (
        LayerSpec(
            "roads",
            "LineString",
            "id",
            (
                _ID,
                FieldSpec("kind", FieldType.TEXT, choices=ROAD_KINDS, description="road class"),
                _optional("oneway", FieldType.BOOLEAN, "one-way for traffic (digging is not)"),
                _optional("bridge", FieldType.BOOLEAN, "on a bridge: no trench, a bracket"),
                _optional("tunnel", FieldType.BOOLEAN, "in a tunnel: no trench"),
                _optional("paved", FieldType.BOOLEAN, "paved surface (False: unpaved)"),
                _optional("private", FieldType.BOOLEAN, "private road: needs the owner's leave"),
                _optional("source", FieldType.TEXT, "where the road comes from (osm, bdtopo)"),
            ),
            "road segments, noded at intersections; fibre may be trenched along them",
        ),
        LayerSpec(
            "ftth_routes",
            "LineString",
            "id",
            (
                _ID,
                FieldSpec("kind", FieldType.TEXT, choices=FTTH_ROUTE_KINDS),
                FieldSpec(
                    "spare",
                    FieldType.INTEGER,
                    minimum=0,
                    description="free sub-ducts (duct) or spare cable capacity (aerial)",
                ),
                *_OWNER,
            ),
            "existing FttH civil works: ducts and aerial lines that can carry new cable",
        ),
        LayerSpec(
            "ftth_nodes",
            "Point",
            "id",
            (
                _ID,
                FieldSpec("kind", FieldType.TEXT, choices=FTTH_NODE_KINDS),
                FieldSpec(
                    "free_fibres",
                    FieldType.INTEGER,
                    minimum=0,
                    description="fibres free for a new connection at this node",
                ),
                _optional(
                    "parent",
                    FieldType.TEXT,
                    "id of the node upstream (PBO -> PM -> NRO) its fibres go back to",
                ),
                *_OWNER,
            ),
            "FttH network nodes: NRO -> PM -> PBO, and chambers of the duct network",
        ),
        LayerSpec(
            "masts",
            "Point",
            "id",
            (
                _ID,
                FieldSpec(
                    "commune",
                    FieldType.TEXT,
                    pattern=r"^(\d{5}|2[AB]\d{3})$",
                    description="INSEE code of the commune",
                ),
                FieldSpec("cameras", FieldType.INTEGER, minimum=1, maximum=16),
                FieldSpec("camera_model", FieldType.TEXT, description="catalogue model id"),
                FieldSpec("critical", FieldType.BOOLEAN, description="needs a second route"),
                _optional(
                    "priority",
                    FieldType.INTEGER,
                    "weight of the mast in a budget-constrained plan (higher first)",
                    minimum=0,
                ),
                _optional(
                    "owner",
                    FieldType.TEXT,
                    "who owns and runs the mast (missing or blank: the commune)",
                    choices=MAST_OWNERS,
                ),
            ),
            "camera masts to connect",
        ),
        LayerSpec(
            "power_points",
            "Point",
            "id",
            (_ID, FieldSpec("kind", FieldType.TEXT, choices=POWER_POINT_KINDS)),
            "electricity delivery points a mast can be connected to",
        ),
        LayerSpec(
            "communes",
            "Polygon",
            "code",
            (
                FieldSpec(
                    "code",
                    FieldType.ID,
                    pattern=r"^(\d{5}|2[AB]\d{3})$",
                    description="INSEE code",
                ),
                FieldSpec("nom", FieldType.TEXT, description="name"),
                FieldSpec("population", FieldType.INTEGER, minimum=0),
                FieldSpec(
                    "epci", FieldType.TEXT, pattern=r"^\d{9}$", description="SIREN of the EPCI"
                ),
            ),
            "commune boundaries, for the financing split and the map",
        ),
        LayerSpec(
            "sites",
            "Point",
            "id",
            (
                _ID,
                FieldSpec("kind", FieldType.TEXT, choices=SITE_KINDS),
                FieldSpec("nom", FieldType.TEXT, description="name"),
            ),
            "where the pictures go: the supervision centre (csu), gendarmerie sites, NRO buildings",
            required=False,
        ),
    )
}


def mast_owner(value: object) -> str:
    """A mast's ``owner`` as the layer gives it, `DEFAULT_MAST_OWNER` when missing or blank."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return DEFAULT_MAST_OWNER
    text = str(value).strip()
    return text or DEFAULT_MAST_OWNER


LAYER_NAMES: tuple[str, ...] = tuple(LAYERS)
REQUIRED_LAYERS: tuple[str, ...] = tuple(name for name, spec in LAYERS.items() if spec.required)
