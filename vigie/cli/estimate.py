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
    from cameras.catalogue import Catalogue
    from planning.plan_folder import PlanFolder
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
    call_file: Annotated[
        Path | None,
        typer.Option("--call", help="The call for projects (YAML); default: the FIPD model."),
    ] = None,
    rates: Annotated[
        list[str] | None,
        typer.Option("--rate", help="Rate asked of a funder, FUNDER=PERCENT (e.g. fipd=40)."),
    ] = None,
    applications_dir: Annotated[
        Path | None,
        typer.Option(
            "--applications",
            help="Folder for each local project owner's FIPD application (.xlsx and .html) "
            "and an index.html; created if missing.",
        ),
    ] = None,
) -> None:
    """Price a plan: DQE of the works in lots, the AMO apart, totals HT/TVA/TTC, and each
    project owner's financing plan under a call for projects.

    Nothing is written when a plan folder, a price, a rate or a camera model is wrong; with
    --applications, neither the estimate nor any application file unless all of them are.
    """
    from planning.plan_folder import read_plan_folder
    from vigie.estimate.calls import load_call, parse_rates, with_rates
    from vigie.estimate.files import write_estimate
    from vigie.estimate.pricing import load_catalogues, price_plan

    started = time.perf_counter()
    if applications_dir is not None:
        _check_applications(plan_dirs, applications_dir)
    prices, catalogue = load_catalogues(prices_file)
    call = with_rates(load_call(call_file), parse_rates(rates or []))
    folders = [read_plan_folder(d) for d in plan_dirs]
    estimates = [price_plan(folder, prices, catalogue, call) for folder in folders]
    if applications_dir is None:
        path = write_estimate(estimates, out_file)
    else:
        path = out_file
        _write_applications(estimates[0], folders[0], catalogue, applications_dir, out_file)
    for result in estimates:
        out.print(headline_table(result))
        out.print(programme_table(result))
    err.print(f"écrit : {path} ({number(time.perf_counter() - started, 1)} s)", highlight=False)


def _check_applications(plan_dirs: list[Path], directory: Path) -> None:
    """Refuse before any work: one plan only, and a folder that can be written."""
    from vigie.errors import ConfigurationError
    from vigie.estimate.application_files import check_target

    if len(plan_dirs) > 1:
        raise ConfigurationError("--applications: give one plan folder (the one to finance)")
    check_target(directory)


def _write_applications(
    estimate: Estimate, folder: PlanFolder, catalogue: Catalogue, directory: Path, out_file: Path
) -> None:
    """Every local owner's application, then the estimate, then both in place (or nothing)."""
    from vigie.cli.context import progress_bars
    from vigie.estimate.application import applications
    from vigie.estimate.application_files import write_applications
    from vigie.estimate.files import write_estimate

    apps = applications(estimate, folder, catalogue)
    others = [o for o in estimate.financing.owners if not o.local]
    with progress_bars() as progress:
        task = progress.add_task("dossiers de demande FIPD", total=len(apps))
        write_applications(
            apps,
            others,
            estimate.source,
            directory,
            progress=lambda _: progress.advance(task),
            before_publish=lambda: write_estimate([estimate], out_file),
        )
    aids = sum(a.owner.aid_total for a in apps)
    own = sum(a.owner.own_share for a in apps)
    err.print(
        f"dossiers FIPD : {number(len(apps))} maître(s) d'ouvrage, aides sollicitées "
        f"{euros(aids, 'HT')}, part des maîtres d'ouvrage {euros(own, 'HT')} — "
        f"{directory / 'index.html'}",
        highlight=False,
    )
    for owner in others:
        err.print(f"sans dossier (hors appel à projets) : {owner.label}", highlight=False)


def headline_table(result: Estimate) -> Table:
    """The figures elected officials ask first: totals, aid asked, rest, cost per camera, and
    what the network costs to run every year and over the plan's horizon."""
    totals = result.totals()
    financing = result.financing
    table = figures_table(f"Estimation de {result.source}")
    figures = result.figures
    table.add_row("mâts / caméras", f"{number(figures['masts'])} / {number(figures['cameras'])}")
    for lot in result.lots:
        table.add_row(lot.title, euros(lot.subtotal, "HT"))
    table.add_row("total des travaux", euros(totals["works_ht"], "HT"))
    table.add_row(
        f"AMO, marché distinct ({percent(result.amo.rate, 2)} des travaux, "
        f"{number(result.amo.days)} jours)",
        euros(result.amo.amount, "HT"),
    )
    table.add_row("coût total du projet", euros(totals["total_ht"], "HT"))
    vat = percent(result.vat_rate, 2)
    table.add_row(f"coût total TTC (TVA {vat})", euros(totals["total_ttc"], "TTC"))
    for funder in financing.call.funders:
        if not funder.requested_rate:
            continue
        table.add_row(
            f"aide {funder.key.upper()} sollicitée ({percent(funder.requested_rate, 2)} de "
            f"{euros(financing.base(funder.key))} retenus)",
            euros(financing.aid(funder.key)),
        )
    table.add_row("reste à charge des maîtres d'ouvrage", euros(totals["rest_ht"], "HT"))
    local = [o for o in financing.owners if o.local]
    table.add_row("maîtres d'ouvrage financés", number(len(local)))
    excluded = [o for o in financing.owners if not o.local]
    for owner in excluded:
        table.add_row(f"hors appel : {owner.label}", euros(owner.total_ht, "HT"))
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


def programme_table(result: Estimate) -> Table:
    """The estimate beside the programme's envelope: the seed's headings, and what they buy."""
    from vigie.estimate.programme import compare, load_envelope

    comparison = compare(result, load_envelope())
    envelope = comparison.envelope
    table = Table(
        title=f"Comparaison avec l'enveloppe du programme ({euros(envelope.total, 'HT')})"
    )
    for header in ("poste", "enveloppe", "estimation", "par mât", "mâts permis"):
        table.add_column(header, justify="left" if header == "poste" else "right")
    for row in comparison.headings:
        share = row.estimate / comparison.total if comparison.total else 0.0
        table.add_row(
            row.heading.label,
            euros(row.heading.envelope, "HT"),
            f"{euros(row.estimate, 'HT')} ({percent(100 * share, 1)})",
            euros(row.per_mast, "HT"),
            "—" if row.masts_affordable is None else number(row.masts_affordable),
        )
    label = next(
        r.heading.label for r in comparison.headings if r.heading.key == comparison.binding
    )
    table.add_row(
        "l'enveloppe permet, poste par poste",
        "",
        "",
        "",
        f"{number(comparison.masts_affordable)} mâts, {number(comparison.cameras_affordable)} "
        f"caméras (limite : {label.lower()})",
    )
    table.add_row(
        "l'enveloppe permet, si les postes s'échangent",
        "",
        "",
        "",
        f"{number(comparison.masts_within_total)} mâts",
    )
    table.add_row(
        "FIPD",
        f"{euros(envelope.fipd)} attendus",
        f"{euros(comparison.fipd)} sollicités ({percent(100 * comparison.fipd_share, 1)} du coût)",
        "",
        f"{euros(comparison.fipd_at_envelope)} pour ces mâts, "
        f"{euros(comparison.fipd_on_envelope)} pour toute l'enveloppe",
    )
    return table
