"""Reading a GraceTHD delivery (shapefiles + CSV, in a folder or a .zip) into plain tables.

Deliveries come from many tools: file and field names in any case, fields cut to 10 characters by
the DBF format, CSV separated by ';' or ',', in UTF-8 or Windows Latin-1. This module absorbs that
and gives the mapping clean lower-case tables, every value a string or None.
"""

from __future__ import annotations

import logging
import tempfile
import zipfile
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from planning.errors import LayerError
from planning.importers.gracethd_model import (
    GEOMETRY_TABLES,
    KEY_FIELDS,
    OPTIONAL_TABLES,
    REQUIRED_TABLES,
)
from planning.importers.report import Progress
from planning.schema import WORK_CRS

log = logging.getLogger(__name__)

DBF_NAME_LENGTH = 10
CSV_SEPARATORS = (";", ",", "\t")


class GraceTHDError(LayerError):
    """A GraceTHD delivery cannot be read as given: the message names the file and what to fix."""


class MissingTableError(GraceTHDError):
    """A table the import cannot do without is not in the delivery."""


class UnknownVersionError(GraceTHDError):
    """The delivery's tables lack the fields of GraceTHD v2.0.x."""


class TableEncodingError(GraceTHDError):
    """A CSV table is not text in UTF-8 or Latin-1."""


@dataclass
class Delivery:
    """The tables of one delivery, keyed by lower-case table name (``t_noeud``...)."""

    source: Path
    version: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def table(self, name: str) -> pd.DataFrame:
        """The table, or an empty one with its key fields when the delivery has none."""
        if name in self.tables:
            return self.tables[name]
        return pd.DataFrame(columns=list(KEY_FIELDS.get(name, ())))


def read_delivery(source: Path | str, *, progress: Progress | None = None) -> Delivery:
    """Read every table the importer uses from ``source`` (a folder or a .zip of one)."""
    source = Path(source)
    if not source.exists():
        raise GraceTHDError(
            f"{source}: no such file or folder; give a GraceTHD delivery folder or .zip"
        )
    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise GraceTHDError(f"{source}: not a folder nor a .zip; give a GraceTHD delivery")
        with tempfile.TemporaryDirectory(prefix="vigie-gracethd-") as tmp:
            with zipfile.ZipFile(source) as archive:
                archive.extractall(tmp)
            return _read_folder(Path(tmp), source, progress)
    return _read_folder(source, source, progress)


def _read_folder(root: Path, source: Path, progress: Progress | None) -> Delivery:
    files = _table_files(root)
    missing = [name for name in REQUIRED_TABLES if name not in files]
    if missing:
        raise MissingTableError(
            f"{source}: the delivery has no {', '.join(missing)} "
            f"({' or '.join(_expected_file(n) for n in missing)}); a GraceTHD delivery has every "
            "table of the model, empty ones included: ask the supplier for the complete export"
        )
    delivery = Delivery(source=source, version="2.0.x")
    wanted = [*REQUIRED_TABLES, *OPTIONAL_TABLES]
    for done, name in enumerate(wanted):
        if progress:
            progress("read", done, len(wanted))
        path = files.get(name)
        if path is None:
            delivery.notes.append(f"no {name} in the delivery: {OPTIONAL_TABLES[name]}")
            continue
        table = _read_table(name, path, delivery.notes)
        _check_fields(name, path, table)
        delivery.tables[name] = table
    if progress:
        progress("read", len(wanted), len(wanted))
    patches = sorted(stem for stem in files if "_patch20" in stem)
    if any(stem.endswith("_patch202") for stem in patches):
        delivery.version = "2.0.2"
    delivery.notes.insert(
        0,
        f"GraceTHD v{delivery.version} delivery"
        + (f" (patch tables {', '.join(patches)} not used)" if patches else ""),
    )
    return delivery


def _expected_file(name: str) -> str:
    return f"{name}.shp" if name in GEOMETRY_TABLES else f"{name}.csv"


def _table_files(root: Path) -> dict[str, Path]:
    """Lower-case table name -> file, the shallowest first; shapefiles for geometry tables."""
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*"), key=lambda p: (len(p.parts), str(p))):
        suffix = path.suffix.lower()
        stem = path.stem.lower()
        if not path.is_file() or not stem.startswith("t_"):
            continue
        if suffix == ".shp" or (suffix == ".csv" and stem not in GEOMETRY_TABLES):
            found.setdefault(stem, path)
    return found


def _read_table(name: str, path: Path, notes: list[str]) -> pd.DataFrame:
    if name in GEOMETRY_TABLES:
        return _read_shapefile(name, path, notes)
    return _read_csv(name, path, notes)


def _read_shapefile(name: str, path: Path, notes: list[str]) -> gpd.GeoDataFrame:
    try:
        gdf = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio raises several types for broken files
        raise GraceTHDError(f"{path}: cannot read the {name} shapefile ({exc})") from exc
    if gdf.crs is None:
        notes.append(f"{path.name} has no .prj: read as Lambert-93 (EPSG:2154), GraceTHD's CRS")
        gdf = gdf.set_crs(WORK_CRS)
    elif not gdf.crs.equals(WORK_CRS) and gdf.crs.to_epsg() != 2154:
        notes.append(f"{path.name} is in {gdf.crs.to_string()}: reprojected to Lambert-93")
        gdf = gdf.to_crs(WORK_CRS)
    else:
        gdf = gdf.set_crs(WORK_CRS, allow_override=True)
    gdf = gdf.set_geometry(shapely.force_2d(gdf.geometry.values))
    columns = {c: c.lower().strip() for c in gdf.columns if c != gdf.geometry.name}
    gdf = gdf.rename(columns=columns)
    gdf = _untruncate(name, gdf)
    for column in gdf.columns:
        if column != gdf.geometry.name:
            gdf[column] = _as_text(gdf[column])
    return gdf


def _read_csv(name: str, path: Path, notes: list[str]) -> pd.DataFrame:
    data = path.read_bytes()
    if b"\x00" in data:
        raise TableEncodingError(
            f"{path}: the {name} table holds NUL bytes (UTF-16 or a binary file); "
            "export it again as a CSV in UTF-8 or Latin-1"
        )
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if encoding != "utf-8-sig":
        notes.append(f"{path.name} is not UTF-8: read as {encoding}")
    header = text.split("\n", 1)[0]
    separator = max(CSV_SEPARATORS, key=header.count)
    try:
        table = pd.read_csv(
            StringIO(text), sep=separator, dtype=str, keep_default_na=False, na_filter=False
        )
    except pd.errors.ParserError as exc:
        raise GraceTHDError(f"{path}: the {name} table is not a valid CSV ({exc})") from exc
    table.columns = [str(c).lower().strip() for c in table.columns]
    table = _untruncate(name, table)
    for column in table.columns:
        table[column] = _as_text(table[column])
    return table


def _untruncate(name: str, table: pd.DataFrame) -> pd.DataFrame:
    """Give back the model's names to fields a DBF cut to 10 characters."""
    renames = {
        expected[:DBF_NAME_LENGTH]: expected
        for expected in KEY_FIELDS.get(name, ())
        if len(expected) > DBF_NAME_LENGTH
        and expected not in table.columns
        and expected[:DBF_NAME_LENGTH] in table.columns
    }
    return table.rename(columns=renames)


def _as_text(values: pd.Series) -> pd.Series:
    """Every value as a stripped string, None when empty (codes compare as text)."""

    def clean(value: object) -> str | None:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        return text or None

    return pd.Series([clean(v) for v in values], index=values.index, dtype=object)


def _check_fields(name: str, path: Path, table: pd.DataFrame) -> None:
    missing = [f for f in KEY_FIELDS.get(name, ()) if f not in table.columns]
    if missing:
        raise UnknownVersionError(
            f"{path}: the {name} table has no {', '.join(missing)}, so this is not a GraceTHD "
            f"v2.0.x delivery (its fields: {', '.join(map(str, table.columns[:12]))}...). "
            "Vigie reads GraceTHD v2.0.x (the CNIG standard); export the delivery in that version"
        )
