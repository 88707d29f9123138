"""Import the camera inventory from a CSV or GeoJSON file, all rows or none.

CSV: a header with ``id, name, commune, latitude, longitude, host, port, username, password,
model, critical, basic_auth, tls, mast_id`` (``port``, ``username``, ``password``, ``model``,
``critical``, ``basic_auth``, ``tls``, ``mast_id`` optional).
GeoJSON: a FeatureCollection of Points (WGS84 longitude, latitude) whose properties carry the
same fields. Every problem is reported with its line (CSV) or feature (GeoJSON) number, and
nothing is written unless every row is good; a camera already in the inventory is updated.
Passwords are stored encrypted only, for the camera's address: a row that moves a camera with a
stored password to another host or port must give the password again (a password is only ever
sent to the address it was given for).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cameras.catalogue import load_catalogue
from vigie.credentials import KeyRing, seal_camera_password
from vigie.errors import VigieError
from vigie.models import Camera, Commune

__all__ = ["CameraImportError", "ImportSummary", "InventoryRow", "import_cameras", "read_inventory"]

CAMERA_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
INSEE = re.compile(r"^[0-9][0-9AB][0-9]{3}$")
REQUIRED = ("id", "name", "commune", "host")
KNOWN = {
    *REQUIRED,
    *("latitude", "longitude", "port", "username", "password", "model", "critical", "basic_auth"),
    "tls",
    "mast_id",
}
TRUE, FALSE = {"1", "true", "yes", "oui", "vrai"}, {"", "0", "false", "no", "non", "faux"}


class CameraImportError(VigieError):
    """The inventory file has problems; each line names the row; nothing was imported."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"{path}:{p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s), nothing imported:\n{lines}")


@dataclass(frozen=True, kw_only=True)
class InventoryRow:
    """One good row of the file; ``where`` is ``line N`` or ``feature N``."""

    where: str
    id: str
    name: str
    commune: str
    latitude: float
    longitude: float
    host: str
    port: int
    username: str
    password: str
    model: str
    critical: bool = False
    """The mast's flag: a critical camera DOWN opens a critical incident."""
    basic_auth: bool = False
    tls: bool = False
    """Answer the camera's HTTP Basic challenge (password in clear); off by default."""
    mast_id: str | None = None
    """The mast holding it: its cameras DOWN together are one mast incident (correlation)."""


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int


def read_inventory(path: Path) -> list[InventoryRow]:
    """The rows of ``path`` (``.csv``, ``.geojson`` or ``.json``), or every problem at once."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise CameraImportError(path, [f"cannot read the file: {err}"]) from err
    problems: list[str] = []
    if path.suffix.lower() == ".csv":
        records = _csv_records(text, problems)
    elif path.suffix.lower() in (".geojson", ".json"):
        records = _geojson_records(text, problems)
    else:
        raise CameraImportError(path, ["expected a .csv or .geojson file"])
    rows = [row for where, record in records if (row := _row(where, record, problems))]
    seen: dict[str, str] = {}
    for row in rows:
        if row.id in seen:
            problems.append(f"{row.where}: camera {row.id} already given at {seen[row.id]}")
        seen.setdefault(row.id, row.where)
    if problems:
        raise CameraImportError(path, problems)
    return rows


def _csv_records(text: str, problems: list[str]) -> list[tuple[str, dict[str, Any]]]:
    reader = csv.DictReader(text.splitlines())
    header = set(reader.fieldnames or ())
    missing = {*REQUIRED, "latitude", "longitude"} - header
    if missing:
        problems.append(f"line 1: missing column(s) {', '.join(sorted(missing))}")
        return []
    unknown = header - KNOWN
    if unknown:
        problems.append(f"line 1: unknown column(s) {', '.join(sorted(unknown))}")
    return [(f"line {reader.line_num}", dict(record)) for record in reader]


def _geojson_records(text: str, problems: list[str]) -> list[tuple[str, dict[str, Any]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        problems.append(f"line {err.lineno}: not JSON: {err.msg}")
        return []
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        problems.append("feature 0: expected a GeoJSON FeatureCollection")
        return []
    records = []
    for index, feature in enumerate(data.get("features") or [], start=1):
        where = f"feature {index}"
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        coordinates = (geometry or {}).get("coordinates")
        if (geometry or {}).get("type") != "Point" or not (
            isinstance(coordinates, list) and len(coordinates) >= 2
        ):
            problems.append(f"{where}: geometry must be a Point (longitude, latitude)")
            continue
        properties = dict(feature.get("properties") or {})
        unknown = set(properties) - KNOWN
        if unknown:
            problems.append(f"{where}: unknown propertie(s) {', '.join(sorted(unknown))}")
        properties["longitude"], properties["latitude"] = coordinates[0], coordinates[1]
        records.append((where, properties))
    return records


def _mast_problems(mast_id: str | None) -> list[str]:
    if mast_id is None or CAMERA_ID.match(mast_id):
        return []
    return [f"mast_id {mast_id!r}: letters, digits, . _ - only, at most 64"]


def _row(where: str, record: dict[str, Any], problems: list[str]) -> InventoryRow | None:
    found: list[str] = []

    def text(name: str) -> str:
        value = record.get(name)
        return "" if value is None else str(value).strip()

    def number(name: str, low: float, high: float) -> float:
        try:
            value = float(text(name))
        except ValueError:
            found.append(f"{name} {text(name)!r} is not a number")
            return 0.0
        if not low <= value <= high:
            found.append(f"{name} {value} is outside [{low}, {high}]")
        return value

    for name in REQUIRED:
        if not text(name):
            found.append(f"{name} is missing")
    camera_id = text("id")
    if camera_id and not CAMERA_ID.match(camera_id):
        found.append(f"id {camera_id!r}: letters, digits, . _ - only, at most 64")
    if text("commune") and not INSEE.match(text("commune")):
        found.append(f"commune {text('commune')!r} is not an INSEE code")
    latitude = number("latitude", -90, 90)
    longitude = number("longitude", -180, 180)
    port = 80
    if text("port"):
        try:
            port = int(text("port"))
        except ValueError:
            found.append(f"port {text('port')!r} is not an integer")
        else:
            if not 1 <= port <= 65535:
                found.append(f"port {port} is outside 1..65535")
    model = text("model")
    if model and model not in load_catalogue().cameras:
        found.append(f"model {model!r} is not in the camera catalogue")
    flags = {}
    for flag in ("critical", "basic_auth", "tls"):
        flags[flag] = text(flag).lower()
        if flags[flag] not in TRUE | FALSE:
            found.append(f"{flag} {text(flag)!r} is not true or false")
    mast_id = text("mast_id") or None
    found += _mast_problems(mast_id)
    if found:
        name = f" (camera {camera_id})" if camera_id else ""
        problems.extend(f"{where}{name}: {problem}" for problem in found)
        return None
    return InventoryRow(
        where=where,
        id=camera_id,
        name=text("name"),
        commune=text("commune"),
        latitude=latitude,
        longitude=longitude,
        host=text("host"),
        port=port,
        username=text("username"),
        password=str(record.get("password") or ""),
        model=model,
        critical=flags["critical"] in TRUE,
        basic_auth=flags["basic_auth"] in TRUE,
        tls=flags["tls"] in TRUE,
        mast_id=mast_id,
    )


def import_cameras(
    session: Session, path: Path, rows: list[InventoryRow], *, keys: KeyRing | None, now: datetime
) -> ImportSummary:
    """Create or update the cameras of ``rows`` in the session's transaction; checks first that
    every commune is known and that passwords can be encrypted, reporting every bad row."""
    communes = {r.commune for r in rows}
    known = set(session.scalars(select(Commune.code).where(Commune.code.in_(communes))))
    problems = [
        f"{r.where} (camera {r.id}): commune {r.commune} is unknown (`vigie db load-communes`?)"
        for r in rows
        if r.commune not in known
    ]
    if keys is None:
        problems += [
            f"{r.where} (camera {r.id}): a password needs VIGIE_CREDENTIALS_KEYS to be stored"
            for r in rows
            if r.password
        ]
    existing = {
        c.id: c for c in session.scalars(select(Camera).where(Camera.id.in_([r.id for r in rows])))
    }
    problems += [
        f"{r.where} (camera {r.id}): moves the camera from its address to {r.host}:{r.port} "
        "without its password: give the password again (a password is only ever sent to the "
        "address it was given for)"
        for r in rows
        if (camera := existing.get(r.id)) is not None
        and camera.password_encrypted
        and not r.password
        and (camera.host, camera.port) != (r.host, r.port)
    ]
    if problems:
        raise CameraImportError(path, problems)
    for row in rows:
        camera = existing.get(row.id)
        if camera is None:
            camera = Camera(id=row.id, created_at=now, password_encrypted="")
            session.add(camera)
        camera.name = row.name
        camera.commune_code = row.commune
        camera.latitude = row.latitude
        camera.longitude = row.longitude
        camera.host = row.host
        camera.port = row.port
        camera.username = row.username
        camera.model = row.model
        camera.critical = row.critical
        camera.basic_auth = row.basic_auth
        camera.mast_id = row.mast_id
        if camera.tls != row.tls:
            camera.tls = row.tls
            camera.tls_fingerprint = None  # pinned again on first use over HTTPS
        camera.updated_at = now
        if row.password and keys is not None:
            camera.password_encrypted = seal_camera_password(keys, camera, row.password)
    session.flush()
    return ImportSummary(created=len(rows) - len(existing), updated=len(existing))
