"""The six planning layers: geometry, required fields and allowed values.

One table, read by the validator, the sample generator and the README, so the three never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

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


@dataclass(frozen=True)
class LayerSpec:
    name: str
    geometry: str  # "LineString", "Point" or "Polygon" (multi-part polygons allowed)
    id_field: str
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)
    description: str = ""

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)


ROAD_KINDS = ("motorway", "primary", "secondary", "tertiary", "local", "track")
FTTH_ROUTE_KINDS = ("duct", "aerial")
FTTH_NODE_KINDS = ("NRO", "PM", "PBO", "chamber")
POWER_POINT_KINDS = ("enedis", "public_lighting")

_ID = FieldSpec("id", FieldType.ID, description="unique identifier")

LAYERS: dict[str, LayerSpec] = {
    spec.name: spec
    for spec in (
        LayerSpec(
            "roads",
            "LineString",
            "id",
            (_ID, FieldSpec("kind", FieldType.TEXT, choices=ROAD_KINDS, description="road class")),
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
    )
}

LAYER_NAMES: tuple[str, ...] = tuple(LAYERS)
