"""`vigie estimate`: the priced bill of quantities (DQE) and financing plan of one or more plans."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from cameras.catalogue import Catalogue
    from planning.plan_folder import PlanFolder
    from planning.prices import PriceCatalogue
    from vigie.dqe import Estimate

out = Console()
err = Console(stderr=True)


def estimate(
    plan_dirs: Annotated[
        list[Path], typer.Argument(help="Plan folder(s) written by `vigie plan`; several compare.")
    ],
    out_file: Annotated[
        Path, typer.Option("--out", help="FILE.xlsx (workbook), FILE.csv or FILE.json.")
    ],
    prices_file: Annotated[
        Path | None,
        typer.Option(
            "--prices", help="YAML (or JSON) prices merged over the catalogues (see README)."
        ),
    ] = None,
) -> None:
    """Price a plan: DQE in lots, totals HT/TVA/TTC, FIPD financing, split per commune.

    Nothing is written when a plan folder, a price or a camera model is wrong.
    """
    from planning.plan_folder import read_plan_folder
    from vigie.dqe_files import write_estimate

    started = time.perf_counter()
    prices, catalogue = load_catalogues(prices_file)
    estimates = [price_plan(read_plan_folder(d), prices, catalogue) for d in plan_dirs]
    path = write_estimate(estimates, out_file)
    for result in estimates:
        out.print(headline_table(result))
    err.print(f"wrote {path} ({time.perf_counter() - started:.1f} s)", highlight=False)


def load_catalogues(prices_file: Path | None) -> tuple[PriceCatalogue, Catalogue]:
    """The two catalogues, with ``prices_file`` merged over their defaults."""
    import yaml

    from cameras.catalogue import SECTIONS, CatalogueError, default_catalogue_data, load_catalogue
    from planning.prices import (
        PRICE_SECTIONS,
        PriceError,
        default_price_data,
        load_prices,
        merge_prices,
    )
    from vigie.errors import ConfigurationError

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


def price_plan(folder: PlanFolder, prices: PriceCatalogue, catalogue: Catalogue) -> Estimate:
    """`vigie.dqe.build_estimate`, with a missing camera model reported as a user error."""
    from cameras.catalogue import CatalogueError
    from vigie.dqe import build_estimate
    from vigie.errors import ConfigurationError

    try:
        return build_estimate(folder, prices, catalogue)
    except CatalogueError as error:
        raise ConfigurationError(f"{folder.path}: {error}") from error


def headline_table(result: Estimate) -> Table:
    """The figures elected officials ask first: totals, subsidy, rest, cost per camera."""
    totals = result.totals()
    table = Table(title=f"Estimate of {result.source}", show_header=True, header_style="bold")
    table.add_column("what")
    table.add_column("figure", justify="right")
    figures = result.figures
    table.add_row("masts / cameras", f"{figures['masts']} / {figures['cameras']}")
    for lot in result.lots:
        table.add_row(lot.title, f"{lot.subtotal:,.0f} € HT")
    table.add_row(
        f"project management (AMO {result.amo.quantity:g} %)", f"{result.amo.amount:,.0f} € HT"
    )
    table.add_row("total", f"{totals['total_ht']:,.0f} € HT")
    table.add_row(f"total with VAT ({result.vat_rate:g} %)", f"{totals['total_ttc']:,.0f} € TTC")
    table.add_row(f"FIPD subsidy ({result.fipd_rate:g} % of eligible)", f"{totals['fipd']:,.0f} €")
    table.add_row("left to communes and EPCI", f"{totals['rest_ht']:,.0f} € HT")
    if figures["cameras"]:
        per_camera = totals["total_ht"] / figures["cameras"]
        table.add_row("all-in per camera", f"{per_camera:,.0f} € HT")
    return table
