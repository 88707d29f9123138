"""The map of an application: the owner's communes and its masts, as an inline SVG figure.

The boundaries are the open data shipped in ``gis_data/sources`` (IGN Admin Express 2018 via
france-geojson, Licence Ouverte / Etalab 2.0): a prefecture's reader sees where each camera stands
in the commune. Communes merged since 2018 are drawn as the union of their former communes
(``commune-deleguee`` entries of the administrative file name their new commune). Drawn in
Lambert-93, so distances and shapes are true. SVG keeps the labels as text (sharp in print,
searchable in the PDF).
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pyogrio

from vigie.estimate.application import CameraSite

BOUNDARIES_CREDIT = (
    "Limites communales : IGN Admin Express COG 2018, simplifiées (collection france-geojson), "
    "Licence Ouverte / Etalab 2.0 ; code officiel géographique : etalab/decoupage-administratif "
    "(MIT). Emplacements des mâts : plan Vigie."
)

OFFSETS = ((4, 4), (-4, -9), (4, -9), (-4, 4))
"""Label offsets in points, taken in turn."""
MAX_NAMED = 12
"""Above this many masts, the map numbers them (the table's N°) instead of naming them."""


@dataclass(frozen=True)
class Boundaries:
    """The commune boundaries in Lambert-93, and where each former commune went."""

    frame: gpd.GeoDataFrame
    merged_into: dict[str, str]

    def of(self, codes: tuple[str, ...]) -> gpd.GeoDataFrame:
        """The boundaries of ``codes`` (current communes), former communes included."""
        wanted = set(codes)
        return self.frame[self.frame["code"].map(self.current).isin(wanted)]

    def current(self, code: str) -> str:
        """The current commune a 2018 code belongs to."""
        return self.merged_into.get(code, code)


def load_boundaries(geojson: Path | None = None, admin: Path | None = None) -> Boundaries:
    """Read the shipped boundaries once (a few hundred polygons) for every application."""
    from gis_data import data_path  # noqa: PLC0415 (read only when writing applications)

    geojson = geojson or data_path("sources", "communes-27-eure.geojson")
    admin = admin or data_path("sources", "communes-27-admin.json")
    frame = pyogrio.read_dataframe(geojson).to_crs(2154)
    frame["code"] = frame["code"].astype(str)
    merged: dict[str, str] = {}
    try:
        communes = json.loads(admin.read_text(encoding="utf-8")).get("communes", [])
    except (OSError, ValueError):
        communes = []
    for item in communes:
        if (
            isinstance(item, dict)
            and item.get("type") != "commune-actuelle"
            and item.get("chefLieu")
            and item.get("code") != item.get("chefLieu")
        ):
            merged[str(item["code"])] = str(item["chefLieu"])
    return Boundaries(frame, merged)


def map_svg(
    sites: tuple[CameraSite, ...], communes: tuple[str, ...], boundaries: Boundaries
) -> str:
    """An ``<svg>`` element: the communes' outlines and the masts, labelled by id."""
    import matplotlib  # noqa: PLC0415 (costly import, only when writing applications)

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # noqa: PLC0415

    plt.rcParams["svg.fonttype"] = "none"  # labels as text
    plt.rcParams["svg.hashsalt"] = "vigie"  # same input, same file
    figure, axes = plt.subplots(figsize=(7.0, 5.2))
    try:
        shapes = boundaries.of(communes)
        if not shapes.empty:
            shapes.plot(ax=axes, facecolor="#eef3f8", edgecolor="#4a6a8a", linewidth=0.8)
            current = shapes.assign(current=shapes["code"].map(boundaries.current))
            for code, group in current.groupby("current"):
                point = group.union_all().representative_point()
                name = group.loc[group["code"] == code, "nom"]
                axes.annotate(
                    str(name.iloc[0] if len(name) else code),
                    (point.x, point.y),
                    fontsize=7,
                    color="#4a6a8a",
                    ha="center",
                    alpha=0.8,
                )
        xs, ys = [s.x for s in sites], [s.y for s in sites]
        colours = ["#c0392b" if s.critical else "#1f4e79" for s in sites]
        axes.scatter(xs, ys, s=28, c=colours, zorder=3, edgecolors="white", linewidths=0.6)
        numbered = len(sites) > MAX_NAMED
        for i, site in enumerate(sites):  # labels of neighbouring masts alternate sides
            dx, dy = OFFSETS[i % len(OFFSETS)]
            axes.annotate(
                str(i + 1) if numbered else site.mast_id,
                (site.x, site.y),
                xytext=(dx, dy),
                ha="left" if dx > 0 else "right",
                textcoords="offset points",
                fontsize=6.5,
                zorder=4,
            )
        zoomed = _zoom(axes, xs, ys, shapes)
        axes.set_aspect("equal")
        axes.set_axis_off()
        title = "Implantation des mâts (rouge : mât critique) — Lambert-93"
        if numbered:
            title += " — numéros du tableau"
        if zoomed:
            title += " — vue resserrée sur les mâts"
        axes.set_title(title, fontsize=9)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    finally:
        plt.close(figure)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # no XML prolog nor DOCTYPE inside HTML
    head, rest = svg.split(">", 1)  # scale to the page: the viewBox stays, the size goes
    head = re.sub(r'\s(?:width|height)="[^"]*"', "", head)
    return f'{head} role="img" aria-label="Carte des mâts">{rest}'


def _zoom(axes, xs: list[float], ys: list[float], shapes: gpd.GeoDataFrame) -> bool:
    """Frame the masts when they gather in a small part of their communes; True if zoomed."""
    if not xs or shapes.empty:
        return False
    left, bottom, right, top = shapes.total_bounds
    span = max(max(xs) - min(xs), max(ys) - min(ys))
    if span * 3 > max(right - left, top - bottom):
        return False
    pad = max(400.0, span * 0.15)
    axes.set_xlim(min(xs) - pad, max(xs) + pad)
    axes.set_ylim(min(ys) - pad, max(ys) + pad)
    return True
