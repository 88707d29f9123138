"""``vigie estimate``: the priced bill of quantities (DQE) and financing plan of one or more
plans (registered in ``vigie.cli.main``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from planning.french import euros, number, percent
from vigie.cli.context import err, out
from vigie.cli.plan import figures_table

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
    err.print(f"écrit : {path} ({number(time.perf_counter() - started, 1)} s)", highlight=False)


def headline_table(result: Estimate) -> Table:
    """The figures elected officials ask first: totals, subsidy, rest, cost per camera, and what
    the network costs to run every year and over the plan's horizon."""
    totals = result.totals()
    table = figures_table(f"Estimation de {result.source}")
    figures = result.figures
    table.add_row("mâts / caméras", f"{number(figures['masts'])} / {number(figures['cameras'])}")
    for lot in result.lots:
        table.add_row(lot.title, euros(lot.subtotal, "HT"))
    table.add_row(
        f"assistance à maîtrise d'ouvrage (AMO {percent(result.amo.quantity, 2)})",
        euros(result.amo.amount, "HT"),
    )
    table.add_row("total", euros(totals["total_ht"], "HT"))
    vat = percent(result.vat_rate, 2)
    table.add_row(f"total TTC (TVA {vat})", euros(totals["total_ttc"], "TTC"))
    table.add_row(
        f"subvention FIPD ({percent(result.fipd_rate, 2)} des dépenses éligibles)",
        euros(totals["fipd"]),
    )
    table.add_row("reste à charge des communes et EPCI", euros(totals["rest_ht"], "HT"))
    if figures["cameras"]:
        per_camera = totals["total_ht"] / figures["cameras"]
        table.add_row("investissement par caméra", euros(per_camera, "HT"))
    running, years = result.running, result.running.horizon_years
    yearly = euros(result.running_ht, "HT")
    if not running.lines and not running.plan_total:
        yearly += " (plan sans loyers : relancer vigie plan)"
    table.add_row("coûts d'exploitation par an (loyers et locations)", yearly)
    table.add_row(
        f"coût complet du projet sur {number(years)} ans (investissement + exploitation)",
        euros(result.tco_ht, "HT"),
    )
    return table
