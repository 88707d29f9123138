"""QGIS styles (QML) for the plan layers, stored in ``plan.gpkg`` so QGIS opens them coloured.

Categories and colours match ``map.html``; labels are in French, as the users are.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr


@dataclass(frozen=True)
class Category:
    value: str
    label: str
    colour: str  # "r,g,b"
    width: float = 0.6  # mm: line width or marker size
    shape: str = "circle"  # marker shape for points
    dashed: bool = False


TRENCH_MODES = (
    Category("trench", "Tranchée neuve", "214,48,39", 1.0),
    Category("duct", "Fourreau existant", "33,102,172", 0.8),
    Category("aerial", "Appuis aériens existants", "26,152,80", 0.8, dashed=True),
)
CABLE_ROLES = (
    Category("primary", "Câble principal", "230,120,20", 0.5),
    Category("secondary", "Câble de secours", "120,60,160", 0.5, dashed=True),
)
CONNECTION_BUDGET = (
    Category("ok", "Bilan optique respecté", "120,120,120", 0.3, dashed=True),
    Category("over", "Bilan optique dépassé", "214,48,39", 0.5, dashed=True),
)
MAST_STATUSES = (
    Category("connected", "Raccordé", "26,152,80", 3.2, "triangle"),
    Category("over_budget", "Bilan optique dépassé", "253,174,97", 3.2, "triangle"),
    Category("unreachable", "Injoignable", "214,48,39", 3.6, "triangle"),
    Category("deferred", "Reporté (enveloppe)", "150,150,150", 2.8, "triangle"),
)
LINK_KINDS = (
    Category("nro_csu", "Lien loué NRO-CSU", "184,134,11", 0.8, "line"),
    Category("csu_gendarmerie", "Lien loué CSU-gendarmerie", "90,90,90", 0.8, "line"),
)
POWER_LAYINGS = (
    Category("shared", "Liaison BT dans la tranchée de la fibre", "255,200,0", 0.8),
    Category("own", "Liaison BT en tranchée propre", "230,85,13", 0.8),
    Category(
        "crow_flies", "Liaison BT à vol d'oiseau (hors voirie)", "230,85,13", 0.6, dashed=True
    ),
)

SPLICE_KINDS = (
    Category("ftth_node", "Raccordement au nœud FttH", "33,102,172", 2.4, "square"),
    Category("branch", "Boîtier d'épissure (dérivation)", "40,40,40", 1.6, "circle"),
)

COLOURS = {
    "trench": {c.value: c.colour for c in TRENCH_MODES},
    "status": {c.value: c.colour for c in MAST_STATUSES},
}


def _option(name: str, value: str) -> str:
    return f'<Option name="{name}" value={quoteattr(value)} type="QString"/>'


def _line_symbol(index: int, cat: Category) -> str:
    options = "".join(
        (
            _option("line_color", f"{cat.colour},255"),
            _option("line_width", str(cat.width)),
            _option("line_width_unit", "MM"),
            _option("line_style", "dash" if cat.dashed else "solid"),
            _option("capstyle", "round"),
            _option("joinstyle", "round"),
        )
    )
    return (
        f'<symbol type="line" name="{index}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="SimpleLine" enabled="1" locked="0" pass="0">'
        f'<Option type="Map">{options}</Option></layer></symbol>'
    )


def _marker_symbol(index: int, cat: Category) -> str:
    options = "".join(
        (
            _option("name", cat.shape),
            _option("color", f"{cat.colour},255"),
            _option("outline_color", "35,35,35,255"),
            _option("outline_width", "0.2"),
            _option("size", str(cat.width)),
            _option("size_unit", "MM"),
        )
    )
    return (
        f'<symbol type="marker" name="{index}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="SimpleMarker" enabled="1" locked="0" pass="0">'
        f'<Option type="Map">{options}</Option></layer></symbol>'
    )


def categorized_qml(attribute: str, categories: tuple[Category, ...], *, points: bool) -> str:
    """A QGIS 3 categorized renderer on ``attribute``."""
    symbol = _marker_symbol if points else _line_symbol
    cats = "".join(
        f"<category symbol={quoteattr(str(i))} value={quoteattr(c.value)} "
        f'label={quoteattr(c.label)} render="true"/>'
        for i, c in enumerate(categories)
    )
    symbols = "".join(symbol(i, c) for i, c in enumerate(categories))
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
        '<qgis version="3.34.0" styleCategories="Symbology">'
        f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attribute)} '
        'symbollevels="0" enableorderby="0" forceraster="0">'
        f"<categories>{cats}</categories><symbols>{symbols}</symbols>"
        "</renderer-v2></qgis>"
    )


LAYER_STYLES: dict[str, str] = {
    "trenches": categorized_qml("mode", TRENCH_MODES, points=False),
    "cables": categorized_qml("role", CABLE_ROLES, points=False),
    "connections": categorized_qml("budget", CONNECTION_BUDGET, points=False),
    "masts": categorized_qml("status", MAST_STATUSES, points=True),
    "splices": categorized_qml("kind", SPLICE_KINDS, points=True),
    "links": categorized_qml("kind", LINK_KINDS, points=False),
    "power_links": categorized_qml("laying", POWER_LAYINGS, points=False),
}
