"""The camera and mast catalogue: models with their resolution, power draw, price and source.

Read from ``cameras/catalogue.yaml`` (euros HT). The estimate prices masts, cameras and per-mast
equipment from it; supervision's expected-profile checks read the models' resolutions. Overrides
are merged over the YAML by the caller (`vigie estimate --prices`), then checked here: every
problem is reported at once, naming the entry (``cameras.ptz_2mp_30x.price``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

__all__ = [
    "CAMERA_KINDS",
    "CameraModel",
    "Catalogue",
    "CatalogueError",
    "MastModel",
    "PricedItem",
    "default_catalogue_data",
    "load_catalogue",
]

CAMERA_KINDS = ("fixed", "dome", "ptz", "multi_sensor", "plate_reading")
SECTIONS = ("cameras", "masts", "network", "installation")


class CatalogueError(ValueError):
    """The catalogue (or an override of it) is incomplete or wrong: fix the entries named."""


@dataclass(frozen=True, kw_only=True)
class PricedItem:
    """One priced entry; ``estimate`` when no public figure backs the price."""

    key: str
    label: str
    unit: str
    price: float
    year: int
    source: str
    estimate: bool = False
    note: str = ""
    fipd_eligible: bool = True


@dataclass(frozen=True, kw_only=True)
class CameraModel(PricedItem):
    kind: str
    resolution: str
    """Main stream width x height, per sensor (``"4x 2592x1944"`` for four sensors)."""
    megapixels: float
    sensors: int
    power_w: float
    """Power draw in watts (PoE budget of the mast's switch, heaters off)."""
    mast_height_m: int
    """The mast height this model usually needs (PTZ and multi-sensor see farther from higher)."""

    @property
    def frame_size(self) -> tuple[int, int]:
        """Width and height in pixels of one sensor's main stream, for expected-profile checks."""
        width, height = self.resolution.split()[-1].lower().split("x")
        return int(width), int(height)


@dataclass(frozen=True, kw_only=True)
class MastModel(PricedItem):
    height_m: int


@dataclass(frozen=True)
class Catalogue:
    cameras: dict[str, CameraModel] = field(default_factory=dict)
    masts: dict[int, MastModel] = field(default_factory=dict)
    network: dict[str, PricedItem] = field(default_factory=dict)
    """Equipment every mast gets once (switch, media converter, cabinet)."""
    installation: dict[str, PricedItem] = field(default_factory=dict)

    def camera(self, model: str) -> CameraModel:
        """The model ``model``, or a `CatalogueError` listing the known ones."""
        try:
            return self.cameras[model]
        except KeyError:
            known = ", ".join(sorted(self.cameras))
            raise CatalogueError(
                f"camera model {model!r} is not in the catalogue (known: {known}); "
                "add it under `cameras:` in a --prices file"
            ) from None

    def mast_for(self, height_m: float) -> MastModel:
        """The shortest mast at least ``height_m`` high."""
        for height in sorted(self.masts):
            if height >= height_m:
                return self.masts[height]
        raise CatalogueError(
            f"no mast of {height_m:g} m or more in the catalogue "
            f"(highest: {max(self.masts, default=0)} m)"
        )


def default_catalogue_data() -> dict[str, Any]:
    """The shipped ``catalogue.yaml`` as plain data, for merging overrides over it."""
    text = resources.files("cameras").joinpath("catalogue.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def load_catalogue(data: Mapping[str, Any] | None = None) -> Catalogue:
    """The catalogue from ``data`` (default: the shipped YAML), checked as a whole."""
    data = default_catalogue_data() if data is None else data
    problems: list[str] = []
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        problems.append(f"unknown section(s) {', '.join(unknown)} (known: {', '.join(SECTIONS)})")
    sections: dict[str, dict[Any, Any]] = {}
    for section in SECTIONS:
        entries = data.get(section) or {}
        if not isinstance(entries, Mapping) or not entries:
            problems.append(f"{section}: must list at least one entry")
            entries = {}
        sections[section] = {}
        for key, entry in entries.items():
            item = _item(section, str(key), entry, problems)
            if item is not None:
                sections[section][item[0]] = item[1]
    highest = max(sections["masts"], default=0)
    problems.extend(
        f"cameras.{model.key}.mast_height_m: no mast of {model.mast_height_m} m or more"
        for model in sections["cameras"].values()
        if model.mast_height_m > highest
    )
    if problems:
        raise CatalogueError("camera catalogue: " + "; ".join(problems))
    return Catalogue(**sections)


_CAMERA_FIELDS = {
    "kind": str,
    "resolution": str,
    "megapixels": float,
    "sensors": int,
    "power_w": float,
    "mast_height_m": int,
}


def _item(section: str, key: str, entry: Any, problems: list[str]) -> tuple[Any, Any] | None:
    where = f"{section}.{key}"
    if not isinstance(entry, Mapping):
        problems.append(f"{where}: must be a mapping of fields")
        return None
    before = len(problems)
    common = _priced_fields(where, entry, problems)
    extra: dict[str, Any] = {}
    if section == "cameras":
        for name, kind in _CAMERA_FIELDS.items():
            extra[name] = _number_or_text(where, entry, name, kind, problems)
        if extra["kind"] is not None and extra["kind"] not in CAMERA_KINDS:
            problems.append(f"{where}.kind: {extra['kind']!r} is not one of {CAMERA_KINDS}")
    if section == "masts":
        try:
            height = int(key)
        except ValueError:
            problems.append(f"{where}: a mast is keyed by its height in metres")
            return None
        extra["height_m"] = height
    allowed = {*_PRICED, *(_CAMERA_FIELDS if section == "cameras" else ())}
    for name in sorted(set(entry) - allowed):
        problems.append(f"{where}.{name}: unknown field")
    if len(problems) > before:
        return None
    if section == "cameras":
        return key, CameraModel(key=key, **common, **extra)
    if section == "masts":
        return extra["height_m"], MastModel(key=key, **common, **extra)
    return key, PricedItem(key=key, **common)


_PRICED = ("label", "unit", "price", "year", "source", "estimate", "note", "fipd_eligible")


def _priced_fields(where: str, entry: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    price = entry.get("price")
    if price is None:
        problems.append(f"{where}.price: missing")
    elif isinstance(price, bool) or not isinstance(price, int | float):
        problems.append(f"{where}.price: {price!r} is not a number")
    elif price < 0:
        problems.append(f"{where}.price: {price} is negative")
    for name in ("label", "unit", "source"):
        if not str(entry.get(name) or "").strip():
            problems.append(f"{where}.{name}: missing")
    year = entry.get("year")
    if isinstance(year, bool) or not isinstance(year, int):
        problems.append(f"{where}.year: missing or not a year")
    return {
        "label": str(entry.get("label", "")),
        "unit": str(entry.get("unit", "")),
        "price": float(price) if isinstance(price, int | float) else 0.0,
        "year": year if isinstance(year, int) else 0,
        "source": str(entry.get("source", "")),
        "estimate": bool(entry.get("estimate", False)),
        "note": str(entry.get("note") or ""),
        "fipd_eligible": bool(entry.get("fipd_eligible", True)),
    }


def _number_or_text(
    where: str, entry: Mapping[str, Any], name: str, kind: type, problems: list[str]
) -> Any:
    value = entry.get(name)
    if value is None:
        problems.append(f"{where}.{name}: missing")
        return None
    if kind is str:
        if name == "resolution" and not re.fullmatch(r"(\d+x )?\d+x\d+", str(value)):
            problems.append(f"{where}.resolution: {value!r} is not WIDTHxHEIGHT (or Nx WxH)")
            return None
        return str(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        problems.append(f"{where}.{name}: {value!r} is not a number >= 0")
        return None
    return kind(value)
