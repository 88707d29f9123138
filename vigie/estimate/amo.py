"""The AMO contract, priced apart from the works: it is awarded before them, on its own.

An AMO (assistance à maîtrise d'ouvrage) is bought as a rate of the works or as days per phase;
the estimate gives both: the seed's rate (1.7 M€ for 11.5 M€ of works, 14.8 %) times the works,
and the days it pays at a daily rate, phase by phase.
"""

from __future__ import annotations

from dataclasses import dataclass

from planning.prices import PriceCatalogue
from vigie.estimate.rounding import money

AMO_KEY = "amo.contract"
"""Price key of the AMO (its category is ``etudes``: studies and project management)."""

PHASES: tuple[tuple[str, float], ...] = (
    ("Diagnostic de sécurité, programme et plan d'implantation", 15.0),
    ("Conception, dossiers d'autorisation préfectorale et de subvention, DCE", 20.0),
    ("Passation des marchés de travaux (consultation, analyse des offres)", 15.0),
    ("Suivi de l'exécution des travaux", 35.0),
    ("Réception, mise en service et transfert à l'exploitation", 15.0),
)
"""Phases of the AMO and their share of its price (%): ESTIMATE (usual split of such missions,
no public figure found)."""


@dataclass(frozen=True)
class AmoPhase:
    label: str
    share: float
    amount: float
    days: float


@dataclass(frozen=True)
class AmoEstimate:
    rate: float
    """% of the works HT."""
    works_ht: float
    amount: float
    daily_rate: float
    phases: tuple[AmoPhase, ...]
    source: str
    vat_rate: float

    @property
    def days(self) -> float:
        return round(sum(p.days for p in self.phases), 1)

    @property
    def vat(self) -> float:
        return money(self.amount * self.vat_rate / 100.0)

    @property
    def ttc(self) -> float:
        return money(self.amount + self.vat)


def amo_estimate(works_ht: float, prices: PriceCatalogue) -> AmoEstimate:
    """The AMO contract for works of ``works_ht`` euros HT."""
    rate = prices.rules["amo_rate"]
    daily = prices.rules["amo_daily_rate"].value
    amount = money(rate.value * works_ht / 100.0)
    phases = tuple(
        AmoPhase(
            label,
            share,
            money(amount * share / 100.0),
            round(money(amount * share / 100.0) / daily, 1) if daily else 0.0,
        )
        for label, share in PHASES
    )
    return AmoEstimate(
        rate=rate.value,
        works_ht=works_ht,
        amount=amount,
        daily_rate=daily,
        phases=phases,
        source=rate.source,
        vat_rate=prices.rules["vat_rate"].value,
    )
