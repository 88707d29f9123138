"""``vigie validate|plan|sample``: planning layers checked, routed and generated.

Registered in ``vigie.cli.main``. Commands import planning lazily, so that ``vigie --help`` starts
fast.
"""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from vigie.cli.context import err, out, progress_bars, reporter, stdout_to_stderr

if TYPE_CHECKING:
    from planning.parameters import PlanParameters
    from planning.plan import Plan
    from planning.validate import Report

sample_app = typer.Typer(help="Generate sample planning layers.", no_args_is_help=True)

LayersArg = Annotated[
    Path, typer.Argument(help="A GeoPackage, a folder of GeoJSON/Shapefile files, or a .zip.")
]


def validate(
    layers: LayersArg,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON report instead of one line per problem.")
    ] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too.")] = False,
    warn_distance: Annotated[
        float, typer.Option(help="Metres from a road beyond which a mast or node is a warning.")
    ] = 30.0,
    max_snap: Annotated[
        float, typer.Option(help="Metres from a road beyond which a mast or node is an error.")
    ] = 200.0,
) -> None:
    """Check planning layers before use: one line per problem, LAYER:FEATURE_ID: message.

    Exit 0 when the layers are usable, 1 otherwise (warnings count only with --strict).
    """
    from planning.validate import validate_path

    started = time.perf_counter()
    with err.status(f"Validating {layers}…"):
        report = validate_path(
            layers, far_from_road_warning_m=warn_distance, far_from_road_error_m=max_snap
        )
    elapsed = time.perf_counter() - started
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        for problem in report.problems:
            sys.stdout.write(f"{problem}\n")
    failed = not (report.ok_strict if strict else report.ok)
    n_errors, n_warnings = len(report.errors), len(report.warnings)
    verdict = "[red]not usable[/red]" if failed else "[green]usable[/green]"
    err.print(
        f"{layers}: {verdict} — {n_errors} error(s), {n_warnings} warning(s) "
        f"in {sum(len(g) for g in report.layers.values())} features ({elapsed:.1f} s)",
        highlight=False,
    )
    raise typer.Exit(1 if failed else 0)


PLANNER_REPORTS = frozenset({"far-from-road", "no-ftth-reachable"})
"""Validation errors `vigie plan` reports per mast (unreachable) instead of refusing the layers."""

PLAN_EXIT_INCOMPLETE = 3
"""`vigie plan` wrote the plan, but some masts are unreachable or over the optical budget."""


def plan(
    layers: LayersArg,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for plan.gpkg, summary.json, map.html.")
    ],
    params_file: Annotated[
        Path | None,
        typer.Option("--params", help="JSON file overriding planning parameters (see README)."),
    ] = None,
    fibres_per_mast: Annotated[
        int | None, typer.Option(min=1, help="Fibres needed per mast (default 2).")
    ] = None,
    bound: Annotated[
        bool, typer.Option(help="Compute a lower bound and the plan's gap (small instances).")
    ] = True,
) -> None:
    """Route dedicated fibre from every mast to the FttH network at the least cost.

    Exit 0 when every mast is connected, 3 when the plan was written but some masts are
    unreachable or over the optical budget, 1 on invalid input.
    """
    from planning.parameters import PlanParameters
    from planning.validate import validate_path
    from vigie.errors import ConfigurationError

    overrides: dict = {}
    if params_file is not None:
        try:
            overrides = json.loads(params_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ConfigurationError(
                f"{params_file}: cannot read the parameters: {error}"
            ) from error
    if fibres_per_mast is not None:
        overrides.setdefault("network", {})["fibres_per_mast"] = fibres_per_mast
    params = PlanParameters.from_dict(overrides)

    started = time.perf_counter()
    with err.status(f"Validating {layers}…"):
        report = validate_path(layers)
    # A mast the planner cannot reach is a result (reported, exit 3), not a reason to stop.
    blocking = [p for p in report.errors if p.code not in PLANNER_REPORTS]
    if blocking:
        for problem in report.problems:
            sys.stdout.write(f"{problem}\n")
        err.print(
            f"{layers}: not usable — {len(blocking)} error(s): fix them, then plan again",
            highlight=False,
        )
        raise typer.Exit(1)
    result, paths = plan_and_write(report, params, out_dir, source=layers, bound=bound)
    out.print(plan_table(result))
    for mast in result.failed:
        sys.stdout.write(f"masts:{mast.mast_id}: {mast.status}: {mast.reason}\n")
    err.print(
        f"wrote {paths['plan']}, {paths['summary'].name}, {paths['map'].name} "
        f"({time.perf_counter() - started:.1f} s)",
        highlight=False,
    )
    raise typer.Exit(PLAN_EXIT_INCOMPLETE if result.failed else 0)


def plan_table(result) -> Table:
    """The plan's headline figures, as `vigie plan` and `vigie demo` print them."""
    from planning.export import summarize_plan

    totals = summarize_plan(result)["totals"]
    table = Table(title="Plan", show_header=True, header_style="bold")
    table.add_column("what")
    table.add_column("figure", justify="right")
    table.add_row("masts connected", f"{totals['connected']} / {totals['masts']}")
    table.add_row("unreachable", str(totals["unreachable"]))
    table.add_row("over the optical budget", str(totals["over_budget"]))
    table.add_row(
        "critical masts with a second route",
        f"{totals['critical_with_second_route']} / {totals['critical']}",
    )
    for mode, metres in totals["length_m_by_mode"].items():
        table.add_row(f"{mode}", f"{metres / 1000:,.2f} km")
    table.add_row("civil works", f"{totals['civil_works_eur']:,.0f} € HT")
    table.add_row("cable", f"{totals['cable_eur']:,.0f} € HT")
    table.add_row("splices and connections", f"{totals['splices_and_connections_eur']:,.0f} € HT")
    table.add_row("total", f"{totals['cost_eur']:,.0f} € HT")
    bound = result.bound or {}
    if bound.get("computed"):
        table.add_row("gap to the lower bound", f"{100 * bound['gap']:.2f} %")
    elif bound:
        table.add_row("gap to the lower bound", "not computed")
    return table


class Scope(StrEnum):
    epci = "epci"
    departement = "departement"


@sample_app.command("eure")
def sample_eure(
    out_file: Annotated[Path, typer.Option("--out", help="GeoPackage to write.")],
    scope: Annotated[
        Scope, typer.Option(help="One intercommunality, or the whole département.")
    ] = Scope.epci,
    epci: Annotated[
        str, typer.Option(help="SIREN of the intercommunality (scope epci).")
    ] = "200071454",
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same layers.")] = 27,
) -> None:
    """Generate the Eure sample: real communes; synthetic roads, FttH network and masts."""
    from gis_data import data_path
    from planning.sample import generate_sample, write_sample

    started = time.perf_counter()
    with progress_bars() as progress:
        report = reporter(progress)
        sample = generate_sample(
            data_path("sources", "communes-27-eure.geojson"),
            data_path("sources", "communes-27-admin.json"),
            scope=scope.value,
            epci=epci,
            seed=seed,
            progress=report,
        )
        write_sample(sample, out_file)
    for note in sample.notes:
        err.print(f"note: {note}", highlight=False)
    counts = ", ".join(f"{len(gdf)} {name}" for name, gdf in sample.layers.items())
    err.print(f"wrote {out_file}: {counts} ({time.perf_counter() - started:.1f} s)")


def plan_and_write(
    report: Report,
    params: PlanParameters,
    out_dir: Path,
    *,
    source: Path,
    bound: bool = True,
) -> tuple[Plan, dict[str, Path]]:
    """Plan validated layers with progress bars, and write the three outputs."""
    from planning.export import write_plan
    from planning.pipeline import plan_layers

    with progress_bars() as progress:
        with stdout_to_stderr():
            result, _ = plan_layers(report.layers, params, progress=reporter(progress), bound=bound)
        paths = write_plan(
            result,
            out_dir,
            ftth_nodes=report.layers.get("ftth_nodes"),
            communes=report.layers.get("communes"),
            masts=report.layers.get("masts"),
            power_points=report.layers.get("power_points"),
            source=str(source),
        )
    return result, paths


def summary_table(summary, title: str) -> Table:
    """What the layers hold (communes, roads, FttH, masts...), before planning them."""
    table = Table(title=f"Sample {title}", show_header=True, header_style="bold")
    table.add_column("what")
    table.add_column("figure", justify="right")
    table.add_row("communes", f"{summary.communes} ({summary.population:,} inhabitants)")
    table.add_row("intercommunalities", str(summary.epcis))
    for kind, km in summary.road_km.items():
        table.add_row(f"roads: {kind}", f"{km:,.1f} km")
    for kind, km in summary.ftth_route_km.items():
        table.add_row(f"FttH routes: {kind}", f"{km:,.1f} km")
    for kind, n in summary.ftth_nodes.items():
        free = summary.free_fibres.get(kind, 0)
        table.add_row(f"FttH nodes: {kind}", f"{n:,} ({free:,} free fibres)")
    table.add_row(
        "masts",
        f"{summary.masts} ({summary.critical_masts} critical) in "
        f"{summary.communes_with_masts} communes",
    )
    table.add_row("cameras", str(summary.cameras))
    for kind, n in summary.power_points.items():
        table.add_row(f"power points: {kind}", str(n))
    return table
