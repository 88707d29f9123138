"""Draw a plan for the README: `python docs/plan_picture.py PLAN_DIR LAYERS [--commune CODE]`.

Zooms on the commune with the most masts (or the one given): trenches by mode, cables, FttH
nodes and masts by status, over the roads. Needs matplotlib (in the ``dev`` extra).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd
import matplotlib as mpl
import matplotlib.pyplot as plt
import pyogrio
from matplotlib.lines import Line2D

from planning.qgis_styles import MAST_STATUSES, TRENCH_MODES

mpl.use("Agg")
OUT = Path(__file__).resolve().parent / "plan-evreux.png"


def rgb(colour: str) -> tuple[float, float, float]:
    r, g, b = (int(c) / 255 for c in colour.split(","))
    return (r, g, b)


def draw_transport(ax: plt.Axes, plan: Path, layers: Path) -> None:
    """The leased links to the CSU and the sites they reach, where the plan has them."""
    if "links" in {name for name, _ in pyogrio.list_layers(plan)}:
        links = gpd.read_file(plan, layer="links")
        if len(links):
            links.plot(ax=ax, color="#b8860b", linewidth=1.4, linestyle=(0, (1, 2)), zorder=2)
    if "sites" in {name for name, _ in pyogrio.list_layers(layers)}:
        sites = gpd.read_file(layers, layer="sites")
        sites.plot(ax=ax, color="#b8860b", edgecolor="black", marker="*", markersize=260, zorder=7)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("plan", type=Path)
    parser.add_argument("layers", type=Path)
    parser.add_argument("--commune")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    gpkg = args.plan / "plan.gpkg"
    trenches = gpd.read_file(gpkg, layer="trenches")
    cables = gpd.read_file(gpkg, layer="cables")
    masts = gpd.read_file(gpkg, layer="masts")
    code = args.commune or masts["commune"].value_counts().index[0]
    communes = gpd.read_file(args.layers, layer="communes")
    area = communes[communes["code"] == code].geometry.iloc[0]
    box = masts[masts["commune"] == code].total_bounds
    pad = 250
    xmin, ymin, xmax, ymax = box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad
    roads = gpd.read_file(args.layers, layer="roads", bbox=(xmin, ymin, xmax, ymax))
    nodes = gpd.read_file(args.layers, layer="ftth_nodes", bbox=(xmin, ymin, xmax, ymax))

    fig, ax = plt.subplots(figsize=(11, 9), dpi=110)
    gpd.GeoSeries([area], crs=communes.crs).boundary.plot(ax=ax, color="#888", linewidth=1)
    roads.plot(ax=ax, color="#c8c8c8", linewidth=0.6, zorder=1)
    for cat in TRENCH_MODES:
        part = trenches[trenches["mode"] == cat.value]
        if len(part):
            style = (0, (4, 2)) if cat.dashed else "solid"
            part.plot(ax=ax, color=rgb(cat.colour), linewidth=3, linestyle=style, zorder=3)
    draw_transport(ax, gpkg, args.layers)
    second = cables[cables["role"] == "secondary"]
    if len(second):
        second.plot(ax=ax, color="#7840a0", linewidth=1.2, linestyle=(0, (2, 2)), zorder=4)
    node_styles = (("PBO", "#9ecae1", 6), ("PM", "#2166ac", 28), ("NRO", "#0b3c6e", 70))
    for kind, colour, size in node_styles:
        part = nodes[nodes["kind"] == kind]
        if len(part):
            part.plot(ax=ax, color=colour, marker="s", markersize=size, zorder=5)
    for cat in MAST_STATUSES:
        part = masts[masts["status"] == cat.value]
        if len(part):
            colour = rgb(cat.colour)
            part.plot(ax=ax, color=colour, edgecolor="black", marker="^", markersize=80, zorder=6)
    legend = [
        *(Line2D([], [], color=rgb(c.colour), lw=3, label=c.label) for c in TRENCH_MODES),
        Line2D([], [], color="#7840a0", lw=1.5, ls=":", label="Câble de secours (mât critique)"),
        Line2D([], [], color="#2166ac", marker="s", ls="", label="PM / NRO"),
        Line2D([], [], color="#9ecae1", marker="s", ls="", label="PBO"),
        Line2D([], [], color="#b8860b", lw=1.5, ls=":", label="Lien loué vers le CSU"),
        Line2D([], [], color="#b8860b", mec="black", marker="*", ms=13, ls="", label="CSU"),
        *(
            Line2D(
                [],
                [],
                color=rgb(c.colour),
                mec="black",
                marker="^",
                ms=9,
                ls="",
                label=f"Mât : {c.label}",
            )
            for c in MAST_STATUSES
        ),
    ]
    ax.legend(handles=legend, loc="lower right", fontsize=8.5, framealpha=0.92)
    name = communes.loc[communes["code"] == code, "nom"].iloc[0]
    ax.set_title(f"Vigie — plan de raccordement des mâts de {name} ({code})", fontsize=12)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
