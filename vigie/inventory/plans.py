"""Cameras from a plan: one inventory row per camera of each mast, addressed like the simulator.

``vigie cameras import PLAN`` takes a plan folder (``vigie plan``'s output, holding
``plan.gpkg``) or a GeoPackage with a ``masts`` layer (the plan's, or the planning input's). Each
mast with ``cameras`` = n gives cameras ``<mast id>-1`` .. ``<mast id>-n`` at the mast's position
(WGS84), with its commune, camera model and critical flag. Addresses: every camera on ``host``;
masts sorted by id, cameras by number, camera i (from 0) on port ``first_port + i``: the
numbering of ``vigie simulate --cameras N --port P``. Every bad mast is reported, and nothing is
imported unless all are good (``CameraImportError``, as for inventory files).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyogrio

from cameras.catalogue import load_catalogue
from vigie.inventory.cameras import CAMERA_ID, INSEE, CameraImportError, InventoryRow

__all__ = ["plan_inventory", "plan_masts_path"]

WGS84 = "EPSG:4326"


def plan_masts_path(path: Path) -> Path:
    """The GeoPackage holding the masts: ``PLAN/plan.gpkg`` for a plan folder."""
    if path.is_dir():
        gpkg = path / "plan.gpkg"
        if not gpkg.is_file():
            raise CameraImportError(path, ["not a plan folder: no plan.gpkg (run `vigie plan`)"])
        return gpkg
    if path.suffix.lower() != ".gpkg":
        raise CameraImportError(path, ["expected a plan folder or a .gpkg with a masts layer"])
    return path


@dataclass(frozen=True, slots=True)
class _Mast:
    id: str
    commune: str
    cameras: int
    model: str
    critical: bool
    latitude: float
    longitude: float


def plan_inventory(
    path: Path, *, host: str, first_port: int, username: str, password: str
) -> list[InventoryRow]:
    """The cameras of the plan's masts (see the module docstring), or every problem at once."""
    gpkg = plan_masts_path(path)
    problems: list[str] = []
    masts = _read_masts(gpkg, problems)
    rows: list[InventoryRow] = []
    port = first_port
    for mast in sorted(masts, key=lambda m: m.id):
        for k in range(1, mast.cameras + 1):
            if port > 65535:
                problems.append(
                    f"masts:{mast.id}: camera {k} would get port {port}, beyond 65535; "
                    "choose a lower --first-port"
                )
            rows.append(
                InventoryRow(
                    where=f"masts:{mast.id}",
                    id=f"{mast.id}-{k}",
                    name=f"{mast.id} caméra {k}",
                    commune=mast.commune,
                    latitude=round(mast.latitude, 7),
                    longitude=round(mast.longitude, 7),
                    host=host,
                    port=port,
                    username=username,
                    password=password,
                    model=mast.model,
                    critical=mast.critical,
                    mast_id=mast.id,
                )
            )
            port += 1
    if problems:
        raise CameraImportError(gpkg, problems)
    return rows


def _read_masts(gpkg: Path, problems: list[str]) -> list[_Mast]:
    try:
        masts = pyogrio.read_dataframe(gpkg, layer="masts")
    except Exception as err:  # pyogrio raises DataSourceError, DataLayerError, OSError...
        raise CameraImportError(gpkg, [f"layer masts: cannot read it: {err}"]) from err
    id_column = "mast_id" if "mast_id" in masts else "id"
    missing = {id_column, "commune", "cameras"} - set(masts.columns)
    if missing:
        fields = ", ".join(sorted(missing))
        raise CameraImportError(gpkg, [f"layer masts: missing field(s) {fields}"])
    if masts.crs is None:
        raise CameraImportError(gpkg, ["layer masts: no coordinate reference system"])
    positions = masts.geometry.to_crs(WGS84)
    found: list[_Mast] = []
    seen: set[str] = set()
    for index, record in enumerate(masts.to_dict("records")):
        mast_id = str(record[id_column] or "").strip()
        mast = _mast(
            mast_id, record, positions.iloc[index], seen=seen, problems=problems, index=index
        )
        seen.add(mast_id)
        if mast is not None:
            found.append(mast)
    return found


def _mast(
    mast_id: str,
    record: dict[str, Any],
    point: Any,
    *,
    seen: set[str],
    problems: list[str],
    index: int,
) -> _Mast | None:
    found = []
    if not mast_id or not CAMERA_ID.match(mast_id) or len(mast_id) > 60:
        found.append(f"mast id {mast_id!r}: letters, digits, . _ - only, at most 60")
    elif mast_id in seen:
        found.append(f"mast {mast_id} given twice")
    commune = str(record["commune"] or "").strip()
    if not INSEE.match(commune):
        found.append(f"commune {commune!r} is not an INSEE code")
    count = _count(record["cameras"])
    if count is None:
        found.append(f"cameras {record['cameras']!r} must be an integer >= 1")
    model = str(record.get("camera_model") or "").strip()
    if model and model not in load_catalogue().cameras:
        found.append(f"camera_model {model!r} is not in the camera catalogue")
    if point is None or point.is_empty or point.geom_type != "Point":
        found.append("geometry must be a point")
    if found or count is None:
        where = f"masts:{mast_id or f'feature {index + 1}'}"
        problems.extend(f"{where}: {p}" for p in found)
        return None
    return _Mast(mast_id, commune, count, model, _flag(record.get("critical")), point.y, point.x)


def _count(value: object) -> int | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return int(number) if number.is_integer() and number >= 1 else None


def _flag(value: object) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False  # missing, or NaN from an empty field
    if isinstance(value, str):
        return re.fullmatch(r"(?i)1|true|yes|oui|vrai", value.strip()) is not None
    return bool(value)
