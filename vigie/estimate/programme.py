"""An estimate beside the programme's envelope: the seed's three headings, and what they buy.

The département's strategy budgets 13.2 M€ in three headings (AMO 1.7 M€, equipment 9 M€, fibre
2.5 M€) and expects the FIPD to bring up to half. An estimate is set beside it heading by heading
(the DQE's categories gathered as ``programme.yaml`` says), and its cost per mast says how many
masts and cameras each heading's envelope buys at the plan's own mix: the heading that runs out
first decides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from vigie.errors import ConfigurationError
from vigie.estimate.calls import CATEGORIES
from vigie.estimate.dqe import Estimate
from vigie.estimate.rounding import money


@dataclass(frozen=True)
class Heading:
    key: str
    label: str
    envelope: float
    categories: tuple[str, ...]


@dataclass(frozen=True)
class Envelope:
    title: str
    source: str
    total: float
    fipd: float
    headings: tuple[Heading, ...]


@dataclass(frozen=True)
class HeadingComparison:
    heading: Heading
    estimate: float
    per_mast: float
    masts_affordable: int | None
    """Masts the heading's envelope buys at the plan's cost per mast (None: the plan spends 0)."""


@dataclass(frozen=True)
class Comparison:
    envelope: Envelope
    headings: tuple[HeadingComparison, ...]
    masts: int
    cameras: int
    total: float
    fipd: float
    masts_affordable: int
    """Masts the whole envelope buys, heading by heading: the first heading to run out decides."""
    binding: str
    """The key of that heading."""
    masts_within_total: int
    """Masts the whole envelope would buy if it could move between headings."""

    @property
    def cameras_per_mast(self) -> float:
        return self.cameras / self.masts if self.masts else 0.0

    @property
    def cameras_affordable(self) -> int:
        return math.floor(self.masts_affordable * self.cameras / self.masts) if self.masts else 0

    @property
    def fipd_share(self) -> float:
        """The FIPD asked as a share of the project's cost (the seed counts on half)."""
        return self.fipd / self.total if self.total else 0.0

    @property
    def fipd_on_envelope(self) -> float:
        """The FIPD the whole envelope would bring at the plan's share."""
        return money(self.envelope.total * self.fipd / self.total) if self.total else 0.0

    @property
    def fipd_at_envelope(self) -> float:
        """The FIPD the plan asks, per mast, times the masts the envelope buys."""
        return money(self.fipd / self.masts * self.masts_affordable) if self.masts else 0.0


def default_envelope_path() -> Path:
    return Path(str(resources.files("vigie.estimate").joinpath("programme.yaml")))


def load_envelope(path: Path | None = None) -> Envelope:
    path = path or default_envelope_path()
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        headings = tuple(
            Heading(
                str(h["key"]),
                str(h["label"]),
                float(h["envelope"]),
                tuple(str(c) for c in h["categories"]),
            )
            for h in data["headings"]
        )
        envelope = Envelope(
            str(data["title"]),
            str(data["source"]).strip(),
            float(data["total"]),
            float(data["fipd"]),
            headings,
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as error:
        raise ConfigurationError(
            f"{path}: cannot read the programme's envelope: {error}"
        ) from error
    unknown = sorted({c for h in headings for c in h.categories} - set(CATEGORIES))
    if unknown:
        raise ConfigurationError(f"{path}: unknown categories {', '.join(unknown)}")
    return envelope


def by_category(estimate: Estimate) -> dict[str, float]:
    """The project's cost HT per spending category (the AMO is ``etudes``)."""
    out: dict[str, float] = {}
    for line in estimate.financing.lines:
        out[line.category] = out.get(line.category, 0.0) + line.amount
    out["etudes"] = out.get("etudes", 0.0) + estimate.amo.amount
    return {k: money(v) for k, v in out.items()}


def compare(estimate: Estimate, envelope: Envelope) -> Comparison:
    """``estimate`` beside ``envelope``: per heading, its cost, per mast, and what it buys."""
    masts = int(estimate.figures["masts"])
    spent = by_category(estimate)
    rows = []
    for heading in envelope.headings:
        amount = money(sum(spent.get(c, 0.0) for c in heading.categories))
        per_mast = amount / masts if masts else 0.0
        affordable = math.floor(heading.envelope / per_mast) if per_mast > 0 else None
        rows.append(HeadingComparison(heading, amount, per_mast, affordable))
    limited = [r for r in rows if r.masts_affordable is not None]
    binding = min(limited, key=lambda r: r.masts_affordable or 0) if limited else None
    per_mast_total = estimate.total_ht / masts if masts else 0.0
    return Comparison(
        envelope=envelope,
        headings=tuple(rows),
        masts=masts,
        cameras=int(estimate.figures["cameras"]),
        total=estimate.total_ht,
        fipd=estimate.fipd,
        masts_affordable=binding.masts_affordable or 0 if binding else 0,
        binding=binding.heading.key if binding else "",
        masts_within_total=math.floor(envelope.total / per_mast_total) if per_mast_total else 0,
    )


def comparison_json(comparison: Comparison) -> dict[str, Any]:
    return {
        "title": comparison.envelope.title,
        "source": comparison.envelope.source,
        "envelope_total": comparison.envelope.total,
        "envelope_fipd": comparison.envelope.fipd,
        "headings": [
            {
                "key": row.heading.key,
                "label": row.heading.label,
                "categories": list(row.heading.categories),
                "envelope": row.heading.envelope,
                "estimate": row.estimate,
                "estimate_per_mast": round(row.per_mast, 2),
                "masts_affordable": row.masts_affordable,
            }
            for row in comparison.headings
        ],
        "masts": comparison.masts,
        "cameras": comparison.cameras,
        "total_ht": comparison.total,
        "masts_affordable": comparison.masts_affordable,
        "cameras_affordable": comparison.cameras_affordable,
        "binding_heading": comparison.binding,
        "masts_within_total": comparison.masts_within_total,
        "fipd_asked": comparison.fipd,
        "fipd_at_envelope": comparison.fipd_at_envelope,
        "fipd_share": round(comparison.fipd_share, 6),
        "fipd_on_envelope": comparison.fipd_on_envelope,
    }
