"""The catalogues a plan is priced with, and a plan priced: what ``vigie estimate`` and the plans
routes share."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from cameras.catalogue import (
    SECTIONS,
    Catalogue,
    CatalogueError,
    default_catalogue_data,
    load_catalogue,
)
from gis_data import data_path
from planning.prices import (
    PRICE_SECTIONS,
    PriceCatalogue,
    PriceError,
    default_price_data,
    load_prices,
    merge_prices,
)
from vigie.errors import ConfigurationError
from vigie.estimate.calls import Call
from vigie.estimate.dqe import Estimate, build_estimate
from vigie.inventory.communes import ReferentialError, read_referential

if TYPE_CHECKING:
    from planning.plan_folder import PlanFolder


def load_catalogues(prices_file: Path | None) -> tuple[PriceCatalogue, Catalogue]:
    """The two catalogues, with ``prices_file`` merged over their defaults."""
    overrides: dict[str, Any] = {}
    if prices_file is not None:
        try:
            overrides = yaml.safe_load(prices_file.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise ConfigurationError(f"{prices_file}: cannot read the prices: {error}") from error
        if not isinstance(overrides, dict):
            raise ConfigurationError(f"{prices_file}: must be a mapping of sections")
        planning_sections = (*PRICE_SECTIONS, "rules")
        unknown = sorted(set(overrides) - {*planning_sections, *SECTIONS})
        if unknown:
            raise ConfigurationError(
                f"{prices_file}: unknown section(s) {', '.join(map(str, unknown))} "
                f"(known: {', '.join((*planning_sections, *SECTIONS))})"
            )
    where = f"{prices_file}: " if prices_file else ""
    planning_part = {k: v for k, v in overrides.items() if k not in SECTIONS}
    camera_part = {k: v for k, v in overrides.items() if k in SECTIONS}
    problems = []  # both catalogues are checked, so one run names every problem
    try:
        prices = load_prices(merge_prices(default_price_data(), planning_part))
    except PriceError as error:
        problems.append(str(error))
    try:
        catalogue = load_catalogue(merge_prices(default_catalogue_data(), camera_part))
    except (CatalogueError, PriceError) as error:
        problems.append(str(error).replace("price override", "catalogue override"))
    if problems:
        raise ConfigurationError(where + "; ".join(problems))
    return prices, catalogue


def price_plan(
    folder: PlanFolder, prices: PriceCatalogue, catalogue: Catalogue, call: Call | None = None
) -> Estimate:
    """``build_estimate``, with a missing camera model reported as a user error."""

    try:
        return build_estimate(folder, prices, catalogue, call, epci_names())
    except CatalogueError as error:
        raise ConfigurationError(f"{folder.path}: {error}") from error


@functools.cache
def epci_names() -> dict[str, str]:
    """SIREN -> name of the intercommunalities, from the communes referential shipped (read
    once per process: the plans route prices a plan on every request)."""
    try:
        return read_referential(data_path("sources", "communes-27-admin.json")).epcis
    except ReferentialError:
        return {}
