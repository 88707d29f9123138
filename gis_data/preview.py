"""Draw the committed sample as a PNG for the READMEs: `python gis_data/preview.py`.

A picture is how an engineer judges a network at a glance; this one shows what the synthetic layers
look like on the real communes. Needs matplotlib (in the ``dev`` extra).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D

HERE = Path(__file__).resolve().parent
SAMPLE = HERE / "eure" / "eure.gpkg"
OUT = HERE / "eure" / "preview.png"

ROAD_STYLE = {
    "primary": ("#c0392b", 1.6),
    "secondary": ("#e67e22", 1.2),
    "tertiary": ("#b7950b", 0.9),
    "local": ("#b0b0b0", 0.25),
    "track": ("#a0826d", 0.4),
}
NODE_STYLE = {"NRO": ("#1a5276", 70, "s"), "PM": ("#2e86c1", 14, "D"), "PBO": ("#85c1e9", 1.5, "o")}


def main() -> None:
    layers = {
        name: gpd.read_file(SAMPLE, layer=name, engine="pyogrio")
        for name in ("communes", "roads", "ftth_routes", "ftth_nodes", "masts")
    }
    fig, ax = plt.subplots(figsize=(11, 11), dpi=110)
    layers["communes"].plot(ax=ax, facecolor="#f7f7f2", edgecolor="#7f8c8d", linewidth=0.6)
    roads = layers["roads"]
    for kind, (colour, width) in ROAD_STYLE.items():
        part = roads[roads["kind"] == kind]
        if len(part):
            part.plot(ax=ax, color=colour, linewidth=width, zorder=2)
    routes = layers["ftth_routes"]
    routes[routes["kind"] == "duct"].plot(ax=ax, color="#2874a6", linewidth=0.5, zorder=3)
    routes[routes["kind"] == "aerial"].plot(
        ax=ax, color="#48c9b0", linewidth=0.5, linestyle=(0, (2, 1)), zorder=3
    )
    nodes = layers["ftth_nodes"]
    for kind, (colour, size, marker) in NODE_STYLE.items():
        part = nodes[nodes["kind"] == kind]
        part.plot(ax=ax, color=colour, markersize=size, marker=marker, zorder=4)
    masts = layers["masts"]
    masts[~masts["critical"]].plot(ax=ax, color="#e74c3c", markersize=22, marker="^", zorder=5)
    masts[masts["critical"]].plot(
        ax=ax, color="#e74c3c", edgecolor="black", markersize=60, marker="^", zorder=6
    )
    legend = [
        Line2D([], [], color=ROAD_STYLE["primary"][0], lw=2, label="route principale"),
        Line2D([], [], color=ROAD_STYLE["secondary"][0], lw=2, label="route secondaire"),
        Line2D([], [], color=ROAD_STYLE["tertiary"][0], lw=2, label="route tertiaire"),
        Line2D([], [], color=ROAD_STYLE["local"][0], lw=2, label="rue / chemin"),
        Line2D([], [], color="#2874a6", lw=2, label="FttH : fourreau"),
        Line2D([], [], color="#48c9b0", lw=2, ls=":", label="FttH : aérien"),
        Line2D([], [], color=NODE_STYLE["NRO"][0], marker="s", ls="", label="NRO"),
        Line2D([], [], color=NODE_STYLE["PM"][0], marker="D", ls="", label="PM"),
        Line2D([], [], color="#e74c3c", marker="^", ls="", label="mât"),
        Line2D(
            [], [], color="#e74c3c", mec="black", marker="^", ms=10, ls="", label="mât critique"
        ),
    ]
    ax.legend(handles=legend, loc="lower left", fontsize=9, framealpha=0.9)
    ax.set_title(
        "Échantillon Vigie — CA Evreux Portes de Normandie\n"
        "communes réelles ; routes, réseau FttH et mâts synthétiques",
        fontsize=12,
    )
    ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
