"""The camera and mast catalogue: models with their resolution, power draw, price and source.

Read from ``cameras/catalogue.yaml`` (euros HT). The estimate prices masts, cameras and per-mast
equipment from it; supervision's expected-profile checks read the models' resolutions. Overrides
are merged over the YAML by the caller (`vigie estimate --prices`), then checked here: every
problem is reported at once, naming the entry (``cameras.ptz_2mp_30x.price``).

Two rules ride on the models: the PoE class each needs (`CameraModel.poe`, from its power draw
unless the YAML says otherwise), which `cameras.poe` matches against the switches of the
``network`` section; and the owners the law lets run it (`CameraModel.reserved_to`, with its
`CameraModel.legal_basis`): plate reading is the State's.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

__all__ = [
    "CAMERA_KINDS",
    "OWNERS",
    "POE_CLASSES",
    "SEPARATE_SUPPLY",
    "CameraModel",
    "Catalogue",
    "CatalogueError",
    "MastModel",
    "PricedItem",
    "SwitchModel",
    "default_catalogue_data",
    "load_catalogue",
    "poe_class_for",
]

CAMERA_KINDS = ("fixed", "dome", "ptz", "multi_sensor", "plate_reading")
SECTIONS = ("cameras", "masts", "network", "installation")

OWNERS = ("commune", "epci", "etat", "departement")
"""Who may own a mast: the masts layer's ``owner`` choices (`planning.schema.MAST_OWNERS`)."""

POE_CLASSES: dict[str, tuple[float, float]] = {
    "af": (12.95, 15.4),
    "at": (25.5, 30.0),
    "bt3": (51.0, 60.0),
    "bt4": (71.3, 90.0),
}
"""IEEE 802.3 PoE types, weakest first: (watts at the device, watts at the switch port). The
difference is the worst cable loss (100 m); 802.3af, 802.3at (PoE+), 802.3bt types 3 and 4."""

NO_POE = "none"
"""A camera's ``poe`` when no PoE port can power it: it needs a separate supply."""

SEPARATE_SUPPLY = "separate_supply"
"""The ``network`` entry priced once per camera that no switch port of the catalogue can power."""


def poe_class_for(power_w: float) -> str | None:
    """The weakest PoE class that powers ``power_w`` watts at the device; None above 802.3bt."""
    for name, (device_w, _) in POE_CLASSES.items():
        if power_w <= device_w:
            return name
    return None


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
    poe: str | None = None
    """The PoE class it needs (a `POE_CLASSES` key), None when it needs a separate supply."""
    reserved_to: str | None = None
    """The only owner (`OWNERS`) the law lets run this model, or None: anyone."""
    legal_basis: str = ""
    """Why it is reserved, with the legal reference (French, as users read it)."""

    @property
    def poe_draw_w(self) -> float:
        """Watts it takes from a switch's budget: its draw plus its class's worst cable loss."""
        if self.poe is None:
            return 0.0
        device_w, port_w = POE_CLASSES[self.poe]
        return self.power_w + port_w - device_w

    def allowed_for(self, owner: str) -> bool:
        """Whether a mast owned by ``owner`` may carry this model."""
        return self.reserved_to is None or owner == self.reserved_to

    @property
    def frame_size(self) -> tuple[int, int]:
        """Width and height in pixels of one sensor's main stream, for expected-profile checks."""
        width, height = self.resolution.split()[-1].lower().split("x")
        return int(width), int(height)


@dataclass(frozen=True, kw_only=True)
class MastModel(PricedItem):
    height_m: int


@dataclass(frozen=True, kw_only=True)
class SwitchModel(PricedItem):
    """A per-mast PoE switch: a ``network`` entry with ``ports``, ``poe`` and ``budget_w``."""

    ports: int
    poe: str
    """The strongest PoE class its ports give (a `POE_CLASSES` key)."""
    budget_w: float
    """Total PoE power it delivers at its ports, in watts."""

    @property
    def port_w(self) -> float:
        """Watts one port delivers at the device (802.3 maximum of its class)."""
        return POE_CLASSES[self.poe][0]

    def powers(self, camera: CameraModel) -> bool:
        """Whether one of its ports can power ``camera`` (class and watts)."""
        return camera.poe is not None and _POE_RANK[camera.poe] <= _POE_RANK[self.poe]


_POE_RANK = {name: rank for rank, name in enumerate(POE_CLASSES)}


@dataclass(frozen=True)
class Catalogue:
    cameras: dict[str, CameraModel] = field(default_factory=dict)
    masts: dict[int, MastModel] = field(default_factory=dict)
    network: dict[str, PricedItem] = field(default_factory=dict)
    """Per-mast equipment: PoE switches (`SwitchModel`), the separate supply, and what every mast
    gets once (media converter, cabinet)."""
    installation: dict[str, PricedItem] = field(default_factory=dict)

    @property
    def switches(self) -> dict[str, SwitchModel]:
        """The PoE switches a mast may get, by key (``switch_poe_plus``…)."""
        return {k: v for k, v in self.network.items() if isinstance(v, SwitchModel)}

    @property
    def separate_supply(self) -> PricedItem:
        """The supply of one camera no switch port can power (``network.separate_supply``)."""
        return self.network[SEPARATE_SUPPLY]

    @property
    def per_mast_network(self) -> dict[str, PricedItem]:
        """The network equipment every mast gets once (media converter, cabinet)."""
        return {
            k: v
            for k, v in self.network.items()
            if not isinstance(v, SwitchModel) and k != SEPARATE_SUPPLY
        }

    def reserved_models(self) -> dict[str, CameraModel]:
        """The camera models the law reserves to one owner, by key (``lpr_2mp``: the State)."""
        return {k: m for k, m in self.cameras.items() if m.reserved_to is not None}

    def refused(self, model: str, owner: str) -> CameraModel | None:
        """The model ``model`` when the law refuses it to a mast owned by ``owner``, else None.

        Unknown models are None here (the estimate reports them).
        """
        camera = self.cameras.get(model)
        return camera if camera is not None and not camera.allowed_for(owner) else None

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
    """The shipped ``catalogue.yaml`` as plain data, for merging overrides over it (a copy of
    its own: the caller may change it)."""
    return copy.deepcopy(_shipped_data())


@functools.cache
def _shipped_data() -> dict[str, Any]:
    """The shipped YAML parsed once per process: an import of a plan checks each mast's camera
    model against the catalogue, and parsing it each time took 60 ms (7 s for 110 masts)."""
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
    network = sections["network"]
    if network and not any(isinstance(item, SwitchModel) for item in network.values()):
        problems.append(
            "network: needs at least one PoE switch (an entry with ports, poe, budget_w)"
        )
    if network and SEPARATE_SUPPLY not in network:
        problems.append(
            f"network.{SEPARATE_SUPPLY}: missing (the supply of a camera too hungry for PoE)"
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


_KINDS = {"cameras": CameraModel, "masts": MastModel, "switch": SwitchModel}


def _item(section: str, key: str, entry: Any, problems: list[str]) -> tuple[Any, Any] | None:
    where = f"{section}.{key}"
    if not isinstance(entry, Mapping):
        problems.append(f"{where}: must be a mapping of fields")
        return None
    before = len(problems)
    common = _priced_fields(where, entry, problems)
    kind, extra = _extra_fields(section, key, entry, problems)
    allowed = {
        *_PRICED,
        *((*_CAMERA_FIELDS, *_CAMERA_RULES) if section == "cameras" else ()),
        *(_SWITCH_FIELDS if section == "network" else ()),
    }
    for name in sorted(set(entry) - allowed):
        problems.append(f"{where}.{name}: unknown field")
    if len(problems) > before:
        return None
    item = _KINDS.get(kind, PricedItem)(key=key, **common, **extra)
    return (extra["height_m"] if kind == "masts" else key), item


def _extra_fields(
    section: str, key: str, entry: Mapping[str, Any], problems: list[str]
) -> tuple[str, dict[str, Any]]:
    """The fields beyond the price of an entry, and its kind (``cameras``, ``switch``…)."""
    where = f"{section}.{key}"
    extra: dict[str, Any] = {}
    if section == "cameras":
        for name, kind in _CAMERA_FIELDS.items():
            extra[name] = _number_or_text(where, entry, name, kind, problems)
        if extra["kind"] is not None and extra["kind"] not in CAMERA_KINDS:
            problems.append(f"{where}.kind: {extra['kind']!r} is not one of {CAMERA_KINDS}")
        _camera_rules(where, entry, extra, problems)
        return section, extra
    if section == "masts":
        try:
            extra["height_m"] = int(key)
        except ValueError:
            problems.append(f"{where}: a mast is keyed by its height in metres")
        return section, extra
    if section == "network" and key == "switch":
        problems.append(
            f"{where}: no longer an entry: the mast's switch is chosen by PoE power among "
            "network.switch_poe_plus, network.switch_poe_bt (or your own: ports, poe, budget_w); "
            "override those"
        )
    if section == "network" and set(entry) & set(_SWITCH_FIELDS):
        _switch_fields(where, entry, extra, problems)
        return "switch", extra
    return section, extra


_CAMERA_RULES = ("poe", "reserved_to", "legal_basis")
_SWITCH_FIELDS = ("ports", "poe", "budget_w")


def _camera_rules(
    where: str, entry: Mapping[str, Any], extra: dict[str, Any], problems: list[str]
) -> None:
    """A camera's PoE class (given or derived from ``power_w``) and who may run it."""
    poe = entry.get("poe")
    if poe is None:
        power = extra.get("power_w")
        extra["poe"] = poe_class_for(power) if power is not None else None
    elif poe == NO_POE:
        extra["poe"] = None
    elif poe not in POE_CLASSES:
        problems.append(f"{where}.poe: {poe!r} is not one of {(*POE_CLASSES, NO_POE)}")
    elif extra.get("power_w") is not None and extra["power_w"] > POE_CLASSES[poe][0]:
        problems.append(
            f"{where}.poe: {poe} gives {POE_CLASSES[poe][0]:g} W at the device, less than its "
            f"power_w ({extra['power_w']:g} W)"
        )
    else:
        extra["poe"] = poe
    reserved = entry.get("reserved_to")
    basis = str(entry.get("legal_basis") or "").strip()
    extra["reserved_to"] = None if reserved is None else str(reserved)
    extra["legal_basis"] = basis
    if reserved is not None and reserved not in OWNERS:
        problems.append(f"{where}.reserved_to: {reserved!r} is not one of {OWNERS}")
    if reserved is not None and not basis:
        problems.append(f"{where}.legal_basis: missing (say which law reserves the model)")


def _switch_fields(
    where: str, entry: Mapping[str, Any], extra: dict[str, Any], problems: list[str]
) -> None:
    poe = entry.get("poe")
    if poe not in POE_CLASSES:
        problems.append(f"{where}.poe: {poe!r} is not one of {tuple(POE_CLASSES)}")
    extra["poe"] = poe
    for name, kind in (("ports", int), ("budget_w", float)):
        value = _number_or_text(where, entry, name, kind, problems)
        if value is not None and value <= 0:
            problems.append(f"{where}.{name}: must be more than 0")
        extra[name] = value


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
