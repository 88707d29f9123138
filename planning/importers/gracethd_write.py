"""Writing planning layers (``ftth_routes``, ``ftth_nodes``) as a GraceTHD v2.0.x delivery.

Why: a delivery built from layers we know lets the tests round-trip the importer, and gives an
engineer a GraceTHD view of a network drawn in Vigie. The tables follow the model's field lists
exactly (shapefiles for t_noeud, t_cheminement, t_cableline; ';'-separated UTF-8 CSV for the rest)
and every code comes from the model's code lists. Mapping rules: docs/import-gracethd.md.
"""

from __future__ import annotations

import csv
import logging
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from planning.errors import LayerError
from planning.importers.gracethd_model import GEOMETRY_TABLES, SHAPEFILE_NUMBERS, TABLE_FIELDS
from planning.schema import WORK_CRS

log = logging.getLogger(__name__)

STATUS = "REC"  # l_statut: as-built (récolement): the layers describe a network that exists
PROGRESS = "E"  # l_avancement: EXISTANT
ROUTE_IMPLANTATION = {"duct": "7", "aerial": "0"}  # l_implantation_type CONDUITE, AERIEN TELECOM
SITE_TYPES = {"NRO": ("BAT", "NRO"), "PM": ("ADR", "SRO")}  # st_typephy, st_typelog
CABLE_TYPELOG = {"PBO": "DI", "PM": "TR", "NRO": "CO"}  # l_infra_type_log for the feeding cable
CABLE_SIZES = (6, 12, 24, 36, 48, 72, 96, 144, 288, 432, 576, 720)


def write_gracethd(
    layers: dict[str, gpd.GeoDataFrame], out_dir: Path | str, *, created: datetime | None = None
) -> Path:
    """Write ``ftth_routes`` and ``ftth_nodes`` as a GraceTHD v2.0.x delivery in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stamp = (created or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%S")
    for name in ("ftth_routes", "ftth_nodes"):
        if name not in layers:
            raise LayerError(f"write_gracethd: no {name} layer to write; give both FttH layers")
    routes = layers["ftth_routes"].to_crs(WORK_CRS)
    nodes = layers["ftth_nodes"].to_crs(WORK_CRS)
    organisations = _Organisations(stamp)

    tables = {
        **_node_tables(nodes, organisations, stamp),
        **_route_tables(routes, organisations, stamp),
        **_cable_tables(nodes, organisations, stamp),
        # tables the layers say nothing about, written empty so the delivery is complete
        "t_cab_cond": [],
        "t_ltech": [],
        "t_fibre": [],
        "t_position": [],
        "t_ropt": [],
    }
    tables["t_organisme"] = organisations.rows
    for name, rows in tables.items():
        if name in GEOMETRY_TABLES:
            _write_shapefile(out, name, rows)
        else:
            _write_csv(out, name, rows)
    log.info("GraceTHD delivery written to %s (%d nodes, %d routes)", out, len(nodes), len(routes))
    return out


class _Organisations:
    """Owner and manager names -> t_organisme codes (``OR`` + 12 digits, as in GraceTHD samples)."""

    def __init__(self, stamp: str) -> None:
        self.codes: dict[str, str] = {}
        self.rows: list[dict] = []
        self.stamp = stamp

    def code(self, name: object) -> str | None:
        if name is None or (isinstance(name, float) and pd.isna(name)) or str(name) == "":
            return None
        name = str(name)
        if name not in self.codes:
            code = f"OR{len(self.codes) + 1:012d}"
            self.codes[name] = code
            self.rows.append({"or_code": code, "or_nom": name, "or_creadat": self.stamp})
        return self.codes[name]


def _value(row: pd.Series, field: str) -> object:
    value = row.get(field)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value


def _node_tables(nodes: gpd.GeoDataFrame, orgs: _Organisations, stamp: str) -> dict[str, list]:
    noeuds, sites, ptechs, ebps = [], [], [], []
    for _, row in nodes.iterrows():
        code = str(row["id"])
        kind = row["kind"]
        prop = orgs.code(_value(row, "owner"))
        gest = orgs.code(_value(row, "manager"))
        noeuds.append(
            {
                "nd_code": code,
                "nd_type": "ST" if kind in SITE_TYPES else "PT",
                "nd_creadat": stamp,
                "geometry": row.geometry,
            }
        )
        if kind in SITE_TYPES:
            typephy, typelog = SITE_TYPES[kind]
            sites.append(
                {
                    "st_code": code,
                    "st_nd_code": code,
                    "st_nom": code,
                    "st_prop": prop,
                    "st_gest": gest,
                    "st_statut": STATUS,
                    "st_avct": PROGRESS,
                    "st_typephy": typephy,
                    "st_typelog": typelog,
                    "st_creadat": stamp,
                }
            )
            continue
        # a chamber is a chamber (C); a PBO's support is not in the layers: AUTRE (Z)
        ptechs.append(
            {
                "pt_code": code,
                "pt_etiquet": code,
                "pt_nd_code": code,
                "pt_prop": prop,
                "pt_gest": gest,
                "pt_statut": STATUS,
                "pt_avct": PROGRESS,
                "pt_typephy": "C" if kind == "chamber" else "Z",
                "pt_typelog": "I",
                "pt_creadat": stamp,
            }
        )
        if kind == "PBO":
            ebps.append(
                {
                    "bp_code": code,
                    "bp_etiquet": code,
                    "bp_pt_code": code,
                    "bp_prop": prop,
                    "bp_gest": gest,
                    "bp_statut": STATUS,
                    "bp_avct": PROGRESS,
                    "bp_typelog": "PBO",
                    "bp_creadat": stamp,
                }
            )
    return {"t_noeud": noeuds, "t_sitetech": sites, "t_ptech": ptechs, "t_ebp": ebps}


def _route_tables(routes: gpd.GeoDataFrame, orgs: _Organisations, stamp: str) -> dict[str, list]:
    """One t_cheminement per route; a duct's ``spare`` free conduits plus one occupied conduit
    (the FttH cable's); an aerial route its virtual AER conduit, its spare in ``cm_cddispo``."""
    chemins, conduits, links = [], [], []
    for _, row in routes.iterrows():
        code = str(row["id"])
        spare = int(row["spare"])
        prop = orgs.code(_value(row, "owner"))
        gest = orgs.code(_value(row, "manager"))
        chemins.append(
            {
                "cm_code": code,
                "cm_statut": STATUS,
                "cm_avct": PROGRESS,
                "cm_typ_imp": ROUTE_IMPLANTATION[row["kind"]],
                "cm_cddispo": spare,
                "cm_long": round(row.geometry.length, 2),
                "cm_creadat": stamp,
                "geometry": row.geometry,
            }
        )
        if row["kind"] == "duct":
            pipes = [(0, 0)] * spare + [(100, 1)]  # (cd_occup %, cd_nbcable)
            types = ["NC"] * len(pipes)
        else:
            pipes = [(None, None)]
            types = ["AER"]
        for number, ((occupancy, count), cd_type) in enumerate(
            zip(pipes, types, strict=True), start=1
        ):
            conduit = f"{code}-CD{number}"
            conduits.append(
                {
                    "cd_code": conduit,
                    "cd_etiquet": conduit,
                    "cd_prop": prop,
                    "cd_gest": gest,
                    "cd_statut": STATUS,
                    "cd_avct": PROGRESS,
                    "cd_type": cd_type,
                    "cd_nbcable": count,
                    "cd_occup": occupancy,
                    "cd_creadat": stamp,
                }
            )
            links.append({"dm_cd_code": conduit, "dm_cm_code": code, "dm_creadat": stamp})
    return {"t_cheminement": chemins, "t_conduite": conduits, "t_cond_chem": links}


def _cable_tables(nodes: gpd.GeoDataFrame, orgs: _Organisations, stamp: str) -> dict[str, list]:
    """The cable feeding each NRO, PM and PBO: from its parent (``cb_nd1``, upstream) to the
    node, or, for a node with no parent, an intrasite cable at the node; ``cb_fo_disp`` its free
    fibres."""
    where = dict(zip(nodes["id"].astype(str), nodes.geometry, strict=True))
    cables, lines = [], []
    for _, row in nodes.iterrows():
        kind = row["kind"]
        if kind == "chamber":
            continue
        code = str(row["id"])
        free = int(row["free_fibres"])
        parent = _value(row, "parent")
        parent = str(parent) if parent is not None and str(parent) in where else None
        if parent is None and free == 0:
            continue
        cable = f"CB-{code}"
        cables.append(
            {
                "cb_code": cable,
                "cb_etiquet": cable,
                "cb_nd1": parent or code,
                "cb_nd2": code,
                "cb_prop": orgs.code(_value(row, "owner")),
                "cb_gest": orgs.code(_value(row, "manager")),
                "cb_statut": STATUS,
                "cb_avct": PROGRESS,
                "cb_tech": "OPT",
                "cb_typephy": "C",
                "cb_typelog": CABLE_TYPELOG[kind],
                "cb_capafo": next((n for n in CABLE_SIZES if n >= free), free),
                "cb_fo_disp": free,
                "cb_creadat": stamp,
            }
        )
        if parent is not None:
            line = shapely.LineString([where[parent], where[code]])
            lines.append(
                {
                    "cl_code": cable,
                    "cl_cb_code": cable,
                    "cl_long": round(line.length, 2),
                    "cl_creadat": stamp,
                    "geometry": line,
                }
            )
    return {"t_cable": cables, "t_cableline": lines}


def _write_csv(out: Path, name: str, rows: list[dict]) -> None:
    fields = TABLE_FIELDS[name]
    with (out / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, delimiter=";", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({f: "" if row.get(f) is None else row[f] for f in fields})


def _write_shapefile(out: Path, name: str, rows: list[dict]) -> None:
    fields = TABLE_FIELDS[name]
    table = pd.DataFrame(
        [{f: row.get(f) for f in fields} for row in rows], columns=list(fields), dtype=object
    )
    for field in fields:
        if field in SHAPEFILE_NUMBERS:
            table[field] = pd.array(table[field], dtype=SHAPEFILE_NUMBERS[field])
        else:
            table[field] = ["" if v is None else str(v) for v in table[field]]
    geometry = [row["geometry"] for row in rows]
    gdf = gpd.GeoDataFrame(table, geometry=geometry, crs=WORK_CRS)
    gdf.to_file(
        out / f"{name}.shp",
        driver="ESRI Shapefile",
        engine="pyogrio",
        geometry_type=GEOMETRY_TABLES[name],
        encoding="UTF-8",
    )
