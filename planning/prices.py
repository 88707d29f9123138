"""Unit prices of civil works, fibre, electricity and project management, and how to override them.

The defaults live in ``planning/prices.yaml`` (euros HT, each with unit, year and source, and
``estimate: true`` where no public figure exists). A user's file is merged over them with
`merge_prices`; the result is checked as a whole by `load_prices`, which reports every problem
at once, naming the entry (``trench.local.price``).

Merge rule (`merge_prices`): mappings merge key by key, recursively; any other value in the
override replaces the default; new keys add entries (a new camera model, a new cable size). An
override entry that sets ``price`` or ``value`` must also set ``source`` and ``year``, so that no
new figure goes out under the old figure's source.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from planning.errors import PlanningError

__all__ = [
    "PriceCatalogue",
    "PriceError",
    "PriceItem",
    "RuleItem",
    "default_price_data",
    "load_prices",
    "merge_prices",
]

PRICE_SECTIONS = ("trench", "laying", "cable", "splicing", "electricity")
RULES = (
    "cable_slack",
    "cable_loop_m",
    "chamber_spacing_m",
    "enedis_at_hand_m",
    "amo_rate",
    "amo_daily_rate",
    "vat_rate",
)
PERCENT_RULES = ("cable_slack", "amo_rate", "vat_rate")
MOVED_RULES = {
    "fipd_rate": "the rates asked of each funder now come with the call for projects: "
    "vigie estimate --rate fipd=N (or --call FILE)",
    "epci_share": "each project owner (commune, EPCI) now has its own financing plan: "
    "set the masts layer's owner field",
}


class PriceError(PlanningError):
    """A price catalogue or its override is incomplete or wrong: fix the entries named."""


@dataclass(frozen=True, kw_only=True)
class PriceItem:
    """One unit price; ``estimate`` when no public figure backs it, ``note`` when it is old."""

    key: str
    """``section.name``, e.g. ``trench.local``: the price number of the DQE is built from it."""
    label: str
    unit: str
    price: float
    year: int
    source: str
    estimate: bool = False
    note: str = ""
    fipd_eligible: bool = True
    fibres: int | None = None
    """Cables only: the fibre count."""


@dataclass(frozen=True, kw_only=True)
class RuleItem:
    """A quantity rule or a rate; percentages are stored as given (13 for 13 %)."""

    key: str
    label: str
    unit: str
    value: float
    year: int
    source: str
    estimate: bool = False
    note: str = ""
    fipd_eligible: bool = True

    @property
    def fraction(self) -> float:
        """The value of a percentage as a fraction (0.13 for 13 %)."""
        return self.value / 100.0


@dataclass(frozen=True)
class PriceCatalogue:
    items: dict[str, PriceItem] = field(default_factory=dict)
    rules: dict[str, RuleItem] = field(default_factory=dict)

    def __getitem__(self, key: str) -> PriceItem:
        return self.items[key]

    def cables(self) -> list[PriceItem]:
        """Cable sizes, fewest fibres first."""
        return sorted(
            (i for k, i in self.items.items() if k.startswith("cable.")),
            key=lambda i: i.fibres or 0,
        )

    def cable_for(self, fibres: int) -> PriceItem:
        """The smallest cable with at least ``fibres`` fibres."""
        for cable in self.cables():
            if (cable.fibres or 0) >= fibres:
                return cable
        raise PriceError(f"no cable of {fibres} fibres or more in the price catalogue")


def default_price_data() -> dict[str, Any]:
    """The shipped ``prices.yaml`` as plain data, for merging overrides over it."""
    text = resources.files("planning").joinpath("prices.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def merge_prices(
    defaults: Mapping[str, Any], overrides: Mapping[str, Any], *, where: str = ""
) -> dict[str, Any]:
    """``defaults`` with ``overrides`` merged over them (rule in the module docstring)."""
    merged = dict(defaults)
    problems: list[str] = []
    _merge_into(merged, overrides, where, problems)
    if problems:
        raise PriceError("price override: " + "; ".join(problems))
    return merged


def _merge_into(
    merged: dict[str, Any], overrides: Mapping[str, Any], where: str, problems: list[str]
) -> None:
    if ("price" in overrides or "value" in overrides) and where:
        missing = [k for k in ("source", "year") if k not in overrides]
        if missing:
            problems.append(
                f"{where}: a new price needs its {' and '.join(missing)} "
                "(say where the figure comes from)"
            )
    for key, value in overrides.items():
        name = f"{where}.{key}" if where else str(key)
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            inner = dict(current)
            _merge_into(inner, value, name, problems)
            merged[key] = inner
        else:
            merged[key] = value


def load_prices(data: Mapping[str, Any] | None = None) -> PriceCatalogue:
    """The catalogue from ``data`` (default: the shipped YAML), checked as a whole."""
    data = default_price_data() if data is None else data
    problems: list[str] = []
    known = (*PRICE_SECTIONS, "rules")
    unknown = sorted(str(s) for s in set(data) - set(known))
    if unknown:
        problems.append(f"unknown section(s) {', '.join(unknown)} (known: {', '.join(known)})")
    items: dict[str, PriceItem] = {}
    for section in PRICE_SECTIONS:
        entries = data.get(section)
        if not isinstance(entries, Mapping) or not entries:
            problems.append(f"{section}: must list at least one price")
            continue
        for name, entry in entries.items():
            key = f"{section}.{name}"
            fields = _fields(key, entry, "price", problems)
            if fields is None:
                continue
            fibres = entry.get("fibres")
            if section == "cable" and (
                isinstance(fibres, bool) or not isinstance(fibres, int) or fibres < 1
            ):
                problems.append(f"{key}.fibres: a cable needs its fibre count")
                continue
            items[key] = PriceItem(key=key, price=fields.pop("price"), fibres=fibres, **fields)
    rules: dict[str, RuleItem] = {}
    entries = data.get("rules") if isinstance(data.get("rules"), Mapping) else {}
    for name in RULES:
        key = f"rules.{name}"
        if name not in entries:
            problems.append(f"{key}: missing")
            continue
        fields = _fields(key, entries[name], "value", problems)
        if fields is None:
            continue
        if name in PERCENT_RULES and fields["value"] > 100:
            problems.append(f"{key}.value: {fields['value']} is over 100 %")
            continue
        rules[name] = RuleItem(key=key, value=fields.pop("value"), **fields)
    for name in sorted(set(entries) - set(RULES)):
        moved = MOVED_RULES.get(name)
        problems.append(f"rules.{name}: " + (moved or "unknown rule"))
    if problems:
        raise PriceError("price catalogue: " + "; ".join(problems))
    return PriceCatalogue(items, rules)


_FIELDS = ("label", "unit", "year", "source", "estimate", "note", "fipd_eligible", "fibres")


def _fields(key: str, entry: Any, amount: str, problems: list[str]) -> dict[str, Any] | None:
    if not isinstance(entry, Mapping):
        problems.append(f"{key}: must be a mapping of fields")
        return None
    before = len(problems)
    value = entry.get(amount)
    if value is None:
        problems.append(f"{key}.{amount}: missing")
    elif isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        problems.append(f"{key}.{amount}: {value!r} is not a number")
    elif value < 0:
        problems.append(f"{key}.{amount}: {value} is negative")
    for name in ("label", "unit", "source"):
        if not str(entry.get(name) or "").strip():
            problems.append(f"{key}.{name}: missing")
    year = entry.get("year")
    if isinstance(year, bool) or not isinstance(year, int):
        problems.append(f"{key}.year: missing or not a year")
    problems.extend(f"{key}.{n}: unknown field" for n in sorted(set(entry) - {amount, *_FIELDS}))
    if len(problems) > before:
        return None
    return {
        amount: float(value),
        "label": str(entry["label"]),
        "unit": str(entry["unit"]),
        "year": int(year),
        "source": str(entry["source"]),
        "estimate": bool(entry.get("estimate", False)),
        "note": str(entry.get("note") or ""),
        "fipd_eligible": bool(entry.get("fipd_eligible", True)),
    }
