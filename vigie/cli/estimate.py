"""``vigie estimate``: the priced bill of quantities (DQE) and financing plan of one or more
plans (registered in ``vigie.cli.main``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from vigie.cli.context import err, out

if TYPE_CHECKING:
    from vigie.estimate.dqe import Estimate


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
    from vigie.estimate.files import write_estimate
    from vigie.estimate.pricing import load_catalogues, price_plan

    started = time.perf_counter()
    prices, catalogue = load_catalogues(prices_file)
    estimates = [price_plan(read_plan_folder(d), prices, catalogue) for d in plan_dirs]
    path = write_estimate(estimates, out_file)
    for result in estimates:
        out.print(headline_table(result))
    err.print(f"wrote {path} ({time.perf_counter() - started:.1f} s)", highlight=False)


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
