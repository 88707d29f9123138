"""Calls for projects as data: who funds what, up to which rate, under which ceiling.

A call (``vigie/estimate/calls/*.yaml``, one file per call, with its source) lists its funders:
the categories of spending each one finds eligible or excludes (with the rule's wording, shown
beside every DQE line), the ceiling of the eligible base per camera, the maximum rate and the
rate the project owner asks. The rate asked is an input (``--rate fipd=40``): nothing here
assumes a subsidy is granted. The cap on public aid (CGCT L1111-10) is the call's too, so a
prefecture's own rules replace the model's without code.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from vigie.errors import ConfigurationError

CATEGORIES: dict[str, str] = {
    "genie_civil": "Génie civil",
    "fibre": "Réseau de fibre optique",
    "transmission": "Transmission vers le CSU et la gendarmerie",
    "supports": "Mâts et supports",
    "cameras": "Caméras",
    "installation": "Pose et mise en service",
    "electricite": "Alimentation électrique",
    "equipements_reseau": "Équipements réseau",
    "licences": "Licences logicielles",
    "etudes": "Études et assistance à maîtrise d'ouvrage",
    "fonctionnement": "Fonctionnement (loyers, locations)",
}
"""Categories of spending, as calls for projects name them."""

_CATEGORY_OF_PREFIX: tuple[tuple[str, str], ...] = (
    ("installation.supervision_licence", "licences"),
    ("installation.", "installation"),
    ("trench.", "genie_civil"),
    ("laying.", "genie_civil"),
    ("cable.", "fibre"),
    ("splicing.", "fibre"),
    ("transport.", "transmission"),
    ("masts.", "supports"),
    ("cameras.", "cameras"),
    ("electricity.", "electricite"),
    ("network.", "equipements_reseau"),
    ("amo.", "etudes"),
    ("rules.amo", "etudes"),
    ("running.", "fonctionnement"),
)

OWNER_KINDS = ("commune", "epci", "departement", "etat")
"""Who may carry a mast (the masts layer's ``owner``); the State funds its own masts."""

DEFAULT_CALL = "fipd-videoprotection.yaml"


def category_of(key: str) -> str:
    """The spending category of a DQE line, from its price key."""
    for prefix, category in _CATEGORY_OF_PREFIX:
        if key.startswith(prefix):
            return category
    return "equipements_reseau"


@dataclass(frozen=True)
class Funder:
    key: str
    label: str
    max_rate: float
    requested_rate: float
    owners: tuple[str, ...]
    eligible: dict[str, str]
    """Category -> the rule that makes it eligible, as the call words it."""
    excluded: dict[str, str]
    """Category -> why it is excluded."""
    ceiling_per_camera: float | None = None
    note: str = ""

    def rule(self, category: str) -> tuple[bool, str]:
        """Whether a category is eligible, and the rule that decided it (French)."""
        if category in self.eligible:
            return True, f"éligible : {self.eligible[category]}"
        if category in self.excluded:
            return False, f"exclu : {self.excluded[category]}"
        return False, f"non prévu par l'appel (catégorie « {CATEGORIES.get(category, category)} »)"


@dataclass(frozen=True)
class Call:
    key: str
    title: str
    year: int
    source: str
    public_aid_cap: float
    """Public aid at most this share (%) of the owner's project cost."""
    cap_source: str
    funders: tuple[Funder, ...]
    path: str = ""
    notes: list[str] = field(default_factory=list)

    def funder(self, key: str) -> Funder:
        return next(f for f in self.funders if f.key == key)

    def has(self, key: str) -> bool:
        return any(f.key == key for f in self.funders)


def default_call_path() -> Path:
    return Path(str(resources.files("vigie.estimate").joinpath("calls", DEFAULT_CALL)))


def load_call(path: Path | None = None) -> Call:
    """Read and check a call file; every problem is named at once."""
    path = path or default_call_path()
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"{path}: cannot read the call for projects: {error}") from error
    problems: list[str] = []
    call = _call(data, problems)
    if problems or call is None:
        raise ConfigurationError(f"{path}: " + "; ".join(problems))
    return replace(call, path=str(path))


def with_rates(call: Call, rates: dict[str, float]) -> Call:
    """The call with the rates a project owner asks instead of the file's defaults."""
    known = {f.key for f in call.funders}
    unknown = sorted(set(rates) - known)
    if unknown:
        raise ConfigurationError(
            f"--rate: unknown funder(s) {', '.join(unknown)} "
            f"(this call has: {', '.join(sorted(known))})"
        )
    funders = []
    for funder in call.funders:
        rate = rates.get(funder.key, funder.requested_rate)
        if not 0 <= rate <= funder.max_rate:
            raise ConfigurationError(
                f"--rate {funder.key}={rate:g}: the call allows 0 to {funder.max_rate:g} %"
            )
        funders.append(replace(funder, requested_rate=float(rate)))
    return replace(call, funders=tuple(funders))


def parse_rates(values: list[str]) -> dict[str, float]:
    """``["fipd=40", "detr=20"]`` -> ``{"fipd": 40.0, "detr": 20.0}``."""
    rates = {}
    for value in values:
        name, sep, number = value.partition("=")
        try:
            if not sep:
                raise ValueError
            rates[name.strip().lower()] = float(number.replace(",", "."))
        except ValueError:
            raise ConfigurationError(
                f"--rate {value!r}: expected FUNDER=PERCENT, e.g. fipd=40"
            ) from None
    return rates


def _call(data: Any, problems: list[str]) -> Call | None:
    if not isinstance(data, dict):
        problems.append("must be a mapping with key, title, year, source, funders")
        return None
    for name in ("key", "title", "year", "source", "funders", "public_aid_cap"):
        if name not in data:
            problems.append(f"missing `{name}`")
    cap = data.get("public_aid_cap") or {}
    cap_percent = _number(
        cap.get("percent") if isinstance(cap, dict) else None,
        "public_aid_cap.percent",
        problems,
        0,
        100,
    )
    funders = []
    raw = data.get("funders") or []
    if not isinstance(raw, list) or not raw:
        problems.append("`funders` must be a non-empty list")
        raw = []
    for i, entry in enumerate(raw):
        funder = _funder(entry, f"funders[{i}]", problems)
        if funder:
            funders.append(funder)
    keys = [f.key for f in funders]
    if len(set(keys)) != len(keys):
        problems.append(f"funder keys must be unique: {', '.join(keys)}")
    if problems:
        return None
    return Call(
        key=str(data["key"]),
        title=str(data["title"]),
        year=int(data["year"]),
        source=str(data["source"]).strip(),
        public_aid_cap=cap_percent,
        cap_source=str(cap.get("source", "")).strip(),
        funders=tuple(funders),
    )


def _funder(entry: Any, where: str, problems: list[str]) -> Funder | None:
    if not isinstance(entry, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    for name in ("key", "label", "max_rate", "requested_rate", "owners"):
        if name not in entry:
            problems.append(f"{where}: missing `{name}`")
    if any(name not in entry for name in ("key", "label", "max_rate", "requested_rate", "owners")):
        return None
    where = f"{where} ({entry['key']})"
    max_rate = _number(entry["max_rate"], f"{where}.max_rate", problems, 0, 100)
    requested = _number(entry["requested_rate"], f"{where}.requested_rate", problems, 0, 100)
    if requested > max_rate:
        problems.append(f"{where}: requested_rate {requested:g} is over max_rate {max_rate:g}")
    owners = tuple(str(o) for o in entry.get("owners") or [])
    for owner in owners:
        if owner not in OWNER_KINDS:
            problems.append(f"{where}.owners: unknown {owner!r} (known: {', '.join(OWNER_KINDS)})")
    rules: dict[str, dict[str, str]] = {}
    for name in ("eligible", "excluded"):
        value = entry.get(name) or {}
        if not isinstance(value, dict):
            problems.append(f"{where}.{name}: must map categories to their rule")
            value = {}
        for category in value:
            if category not in CATEGORIES:
                problems.append(
                    f"{where}.{name}: unknown category {category!r} "
                    f"(known: {', '.join(CATEGORIES)})"
                )
        rules[name] = {str(k): str(v).strip() for k, v in value.items()}
    both = sorted(set(rules["eligible"]) & set(rules["excluded"]))
    if both:
        problems.append(f"{where}: both eligible and excluded: {', '.join(both)}")
    ceiling = entry.get("ceiling_per_camera")
    return Funder(
        key=str(entry["key"]).lower(),
        label=str(entry["label"]),
        max_rate=max_rate,
        requested_rate=requested,
        owners=owners,
        eligible=rules["eligible"],
        excluded=rules["excluded"],
        ceiling_per_camera=None
        if ceiling is None
        else _number(ceiling, f"{where}.ceiling_per_camera", problems, 0, None),
        note=str(entry.get("note", "")).strip(),
    )


def _number(value: Any, where: str, problems: list[str], low: float, high: float | None) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        problems.append(f"{where}: expected a number, got {value!r}")
        return 0.0
    if number < low or (high is not None and number > high):
        problems.append(f"{where}: {number:g} is out of range")
    return number
