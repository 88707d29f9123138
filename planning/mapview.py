"""``map.html``: a self-contained map of a plan, for anyone without QGIS.

One HTML file with its data (GeoJSON in WGS84) and a small canvas renderer inline: it opens from
a USB stick on a closed network, with no tile server and no CDN. Drag to pan, wheel to zoom,
hover a mast for its status.
"""

from __future__ import annotations

import json
from html import escape
from importlib.resources import files
from typing import Any

import geopandas as gpd
import shapely

from planning.budget_text import next_euro_lines
from planning.french import euros, number, percent, with_unit
from planning.qgis_styles import MAST_STATUSES, TRENCH_MODES
from planning.schema import WEB_CRS

_PRECISION = 6  # decimal degrees: about 0.1 m


def _features(frame: gpd.GeoDataFrame | None, columns: list[str]) -> list[dict[str, Any]]:
    """Compact features: ``{"g": coordinates, "p": properties}`` in WGS84."""
    if frame is None or frame.empty:
        return []
    web = frame.to_crs(WEB_CRS)
    geoms = shapely.set_precision(web.geometry.array, 10**-_PRECISION)
    out = []
    records = web[columns].to_dict("records") if columns else [{}] * len(web)
    for geom, props in zip(geoms, records, strict=True):
        if geom is None or geom.is_empty:
            continue
        if geom.geom_type == "Point":
            coords: Any = [round(geom.x, _PRECISION), round(geom.y, _PRECISION)]
        elif geom.geom_type == "LineString":
            coords = [[round(x, _PRECISION), round(y, _PRECISION)] for x, y in geom.coords]
        else:  # polygons: outer rings only, enough for a backdrop
            coords = [
                [[round(x, _PRECISION), round(y, _PRECISION)] for x, y in part.exterior.coords]
                for part in shapely.get_parts(geom)
            ]
        out.append({"g": coords, "p": {k: _plain(v) for k, v in props.items()}})
    return out


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return value


def render_map(
    frames: dict[str, gpd.GeoDataFrame],
    summary: dict[str, Any],
    *,
    ftth_nodes: gpd.GeoDataFrame | None = None,
    communes: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
) -> str:
    """The HTML page: trenches by mode, FttH nodes, masts by status, communes as a backdrop."""
    data = {
        "communes": _features(communes, ["nom"] if communes is not None else []),
        "trenches": _features(frames["trenches"], ["mode", "length_m", "cost_eur", "fibres"]),
        "cables": _features(frames["cables"][frames["cables"]["role"] == "secondary"], []),
        "nodes": _features(
            ftth_nodes[ftth_nodes["kind"].isin(["NRO", "PM"])] if ftth_nodes is not None else None,
            ["id", "kind", "free_fibres"],
        ),
        "masts": _features(
            frames["masts"], ["mast_id", "commune", "status", "reason", "cost_eur", "margin_db"]
        ),
        "links": _features(frames["links"], ["from_id", "to_id", "kind", "length_m"])
        if "links" in frames
        else [],
        "sites": _features(sites, ["id", "kind", "nom"]) if sites is not None else [],
        "colours": {
            "modes": {c.value: [f"rgb({c.colour})", c.label] for c in TRENCH_MODES},
            "status": {c.value: [f"rgb({c.colour})", c.label] for c in MAST_STATUSES},
        },
    }
    totals = summary["totals"]
    facts = [
        ("Mâts", f"{number(totals['masts'])} ({number(totals['connected'])} raccordés)"),
        ("Injoignables", number(totals["unreachable"])),
        ("Bilan optique dépassé", number(totals["over_budget"])),
        ("Coût total HT", euros(totals["cost_eur"])),
    ]
    if totals.get("running_eur_per_year"):
        years = totals["horizon_years"]
        facts.append(("Loyers et locations par an", euros(totals["running_eur_per_year"])))
        facts.append((f"Coût complet sur {years} ans", euros(totals["tco_eur"])))
    if (budget := summary.get("budget")) is not None:
        facts.append(("Enveloppe HT", euros(budget["envelope_eur"])))
        facts.append(("Reportés (enveloppe)", number(totals.get("deferred", 0))))
        facts.extend(("Ensuite", line) for line in next_euro_lines(budget, 1))
    for mode, metres in totals["length_m_by_mode"].items():
        label = data["colours"]["modes"].get(mode, [None, mode])[1]
        facts.append((label, with_unit(metres / 1000, "km", 2)))
    bound = summary.get("bound") or {}
    if bound.get("gap") is not None:
        facts.append(("Écart à la borne", percent(100 * bound["gap"], 2, trim=False)))
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
    payload = _script_json(data)
    page = (files("planning") / "assets" / "map.html").read_text(encoding="utf-8")
    return page.replace("__ROWS__", rows).replace("__DATA__", payload)


def _script_json(data: Any) -> str:
    """JSON to sit inside a ``<script>``: ``<``, ``>`` and ``&`` as ``\\u`` escapes, so that no
    value from the plan (a mast id such as ``</script>`` or ``<!--<script>``) can end or bend the
    script element; the script reads the same strings."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
