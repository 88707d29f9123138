"""A small BD TOPO v3 ``troncon_de_route``, written by us following IGN's published schema.

No IGN file can be downloaded here, so the tests build one: seventeen segments near Évreux with
the field names and values of "BD TOPO Version 3 - Descriptif de contenu" (IGN, thème Transport,
classe Tronçon de route: DC_BDTOPO_Transport.pdf on geoservices.ign.fr), as a GeoPackage
(``troncon_de_route``, long lower-case names) and as a Shapefile (``TRONCON_DE_ROUTE.shp``, names
cut to ten characters in upper case: ``ID``, ``NATURE``, ``POS_SOL``, ``ACCES_VL``..., as in IGN's
Shapefile deliveries and the public services republishing them). Lines are 3D, as IGN's are.
Coordinates are Lambert-93 (EPSG:2154); the geometry is invented, the vocabulary is IGN's.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

# (cleabs suffix, nature, importance, etat_de_l_objet, sens_de_circulation, position, acces VL,
#  prive, name, points) -- points are (x, y) offsets in metres from the origin below.
_ORIGIN = (562_000.0, 6_884_000.0)
SEGMENTS = [  # one segment a line, as a table
    ("01", "Type autoroutier", "1", "En service", "Sens direct", "0", "A péage", False, "Autoroute de Normandie", [(0, 0), (1000, 0)]),  # noqa: E501
    ("02", "Bretelle", "1", "En service", "Sens direct", "0", "A péage", False, None, [(1000, 0), (1200, 200)]),  # noqa: E501
    ("03", "Route à 2 chaussées", "2", "En service", "Sens direct", "1", "Libre", False, "Route nationale 13", [(500, -300), (500, 300)]),  # noqa: E501
    ("04", "Route à 1 chaussée", "3", "En service", "Double sens", "0", "Libre", False, "Route de Rouen", [(1200, 200), (1200, 800)]),  # noqa: E501
    ("05", "Rond-point", "3", "En service", "Sens direct", "0", "Libre", False, None, [(1200, 800), (1250, 850), (1200, 900), (1150, 850), (1200, 800)]),  # noqa: E501
    ("06", "Route à 1 chaussée", "4", "En service", "Double sens", "0", "Libre", False, "Rue de Pannette", [(1200, 900), (1200, 1500)]),  # noqa: E501
    ("07", "Route à 1 chaussée", "5", "En service", "Sens inverse", "0", "Libre", False, "Rue de la Harpe", [(1200, 1500), (800, 1500)]),  # noqa: E501
    ("08", "Route à 1 chaussée", "6", "En service", "Double sens", "0", "Restreint aux ayants droit", True, "Allée du Château", [(800, 1500), (800, 1800)]),  # noqa: E501
    ("09", "Route empierrée", "6", "En service", "Double sens", "0", "Libre", False, None, [(1200, 1500), (1600, 1500)]),  # noqa: E501
    ("10", "Chemin", "NC", "En service", "Sans objet", "0", "Libre", False, None, [(1600, 1500), (1600, 2000)]),  # noqa: E501
    ("11", "Sentier", "NC", "En service", "Sans objet", "0", "Physiquement impossible", False, None, [(800, 1800), (600, 2000)]),  # noqa: E501
    ("12", "Escalier", "NC", "En service", "Sans objet", "0", "Physiquement impossible", False, None, [(800, 1500), (780, 1450)]),  # noqa: E501
    ("13", "Piste cyclable", "NC", "En service", "Sans objet", "0", "Physiquement impossible", False, None, [(1200, 1500), (1210, 1000)]),  # noqa: E501
    ("14", "Route à 1 chaussée", "5", "En projet", "Double sens", "0", "Libre", False, None, [(1600, 2000), (2000, 2000)]),  # noqa: E501
    ("15", "Route à 1 chaussée", "4", "En service", "Double sens", "-1", "Libre", False, "Passage de la gare", [(800, 1500), (800, 1000)]),  # noqa: E501
    ("16", "Bac ou liaison maritime", "NC", "En service", "Double sens", "0", "A péage", False, "Bac de la Seine", [(1600, 2000), (1900, 2300)]),  # noqa: E501
    ("17", "Route à 1 chaussée", "5", "En construction", "Double sens", "0", "Libre", False, None, [(800, 1000), (500, 1000)]),  # noqa: E501
]  # fmt: skip

MAPPED = {"01": "motorway", "02": "motorway", "03": "primary", "04": "secondary",
          "05": "secondary", "06": "tertiary", "07": "local", "08": "local", "09": "track",
          "10": "track", "15": "tertiary"}  # fmt: skip
"""What the importer must make of each segment; the others are left out with a reason."""


def cleabs(suffix: str) -> str:
    """An IGN-style object key: 8 letters of the class, 16 digits (24 characters)."""
    return f"TRONROUT00000000270000{suffix}"


def _geometry(points: list[tuple[float, float]], number: int) -> shapely.LineString:
    x0, y0 = _ORIGIN
    return shapely.LineString(
        [(x0 + x, y0 + y, 60.0 + number + i) for i, (x, y) in enumerate(points)]
    )


def geopackage_frame() -> gpd.GeoDataFrame:
    """The segments with the GeoPackage delivery's field names."""
    rows = []
    for n, (suffix, nature, imp, etat, sens, pos, acces, prive, name, pts) in enumerate(SEGMENTS):
        rows.append({
            "cleabs": cleabs(suffix),
            "nature": nature,
            "nom_collaboratif_gauche": name,
            "nom_collaboratif_droite": name,
            "importance": imp,
            "fictif": False,
            "position_par_rapport_au_sol": pos,
            "etat_de_l_objet": etat,
            "date_creation": "2006-05-22 13:25:37",
            "date_modification": "2023-01-12 09:41:02",
            "sources": "BDTopo",
            "precision_planimetrique": 2.5,
            "precision_altimetrique": 1.5,
            "nombre_de_voies": 2,
            "largeur_de_chaussee": 6.0,
            "itineraire_vert": False,
            "prive": prive,
            "sens_de_circulation": sens,
            "urbain": True,
            "vitesse_moyenne_vl": 50,
            "acces_vehicule_leger": acces,
            "acces_pieton": None,
            "insee_commune_gauche": "27229",
            "insee_commune_droite": "27229",
            "geometry": _geometry(pts, n),
        })  # fmt: skip
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:2154")


def shapefile_frame() -> gpd.GeoDataFrame:
    """The segments with the Shapefile delivery's field names (ten characters, upper case)."""
    rows = []
    for n, (suffix, nature, imp, etat, sens, pos, acces, prive, name, pts) in enumerate(SEGMENTS):
        rows.append({
            "ID": cleabs(suffix),
            "NATURE": nature,
            "NOM_1_G": name,
            "NOM_1_D": name,
            "IMPORTANCE": imp,
            "FICTIF": "Faux",
            "POS_SOL": int(pos),
            "ETAT": etat,
            "DATE_CREAT": "2006-05-22 13:25:37",
            "DATE_MAJ": "2023-01-12 09:41:02",
            "PREC_PLANI": 2.5,
            "NB_VOIES": 2,
            "LARGEUR": 6.0,
            "PRIVE": "Vrai" if prive else "Faux",
            "SENS": sens,
            "URBAIN": "Vrai",
            "VIT_MOY_VL": 50,
            "ACCES_VL": acces,
            "INSEECOM_G": "27229",
            "INSEECOM_D": "27229",
            "geometry": _geometry(pts, n),
        })  # fmt: skip
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:2154")


def write_geopackage(path: Path) -> Path:
    geopackage_frame().to_file(path, layer="troncon_de_route", driver="GPKG", engine="pyogrio")
    return path


def write_shapefile(folder: Path) -> Path:
    """``folder/TRONCON_DE_ROUTE.shp`` (with .dbf, .shx, .prj and a UTF-8 .cpg)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "TRONCON_DE_ROUTE.shp"
    shapefile_frame().to_file(path, driver="ESRI Shapefile", engine="pyogrio", encoding="UTF-8")
    return path
