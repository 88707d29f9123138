"""The ``vigie`` command line.

Errors a user can fix (``USER_ERRORS``) print as one line on stderr and exit 1; usage errors exit 2.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vigie import __version__, security_cli
from vigie.cli_cameras import cameras_app
from vigie.cli_estimate import estimate
from vigie.cli_simulate import simulate
from vigie.cli_webhooks import webhooks_app
from vigie.errors import USER_ERRORS

if TYPE_CHECKING:  # the commands import planning lazily, so that `vigie --help` starts fast
    from planning.parameters import PlanParameters
    from planning.plan import Plan
    from planning.validate import Report

app = typer.Typer(
    name="vigie",
    help="Plan and supervise the video-protection network of a French département.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema and reference data.", no_args_is_help=True)
sample_app = typer.Typer(help="Generate sample planning layers.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(sample_app, name="sample")
app.add_typer(cameras_app, name="cameras")
app.add_typer(webhooks_app, name="webhooks")
app.command()(estimate)
app.command()(simulate)
for _name, _typer in security_cli.APPS.items():  # users, tokens, audit, keys
    app.add_typer(_typer, name=_name)

out = Console()
err = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        out.print(f"vigie {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Plan and supervise the video-protection network of a French département."""


# --- planning ------------------------------------------------------------------------------------

LayersArg = Annotated[
    Path, typer.Argument(help="A GeoPackage, a folder of GeoJSON/Shapefile files, or a .zip.")
]


@app.command()
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


@app.command()
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
    result, paths = _plan_and_write(report, params, out_dir, source=layers, bound=bound)
    out.print(_plan_table(result))
    for mast in result.failed:
        sys.stdout.write(f"masts:{mast.mast_id}: {mast.status}: {mast.reason}\n")
    err.print(
        f"wrote {paths['plan']}, {paths['summary'].name}, {paths['map'].name} "
        f"({time.perf_counter() - started:.1f} s)",
        highlight=False,
    )
    raise typer.Exit(PLAN_EXIT_INCOMPLETE if result.failed else 0)


def _plan_table(result) -> Table:
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
    with _progress() as progress:
        report = _reporter(progress)
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


def _reporter(progress: Progress) -> Callable[[str, int, int], None]:
    """A ``progress(step, done, total)`` callback drawing one bar per step."""
    tasks: dict[str, int] = {}

    def report(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = progress.add_task(step, total=total)
        progress.update(tasks[step], completed=done, total=total)

    return report


def _plan_and_write(
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

    with _progress() as progress:
        with _stdout_to_stderr():
            result, _ = plan_layers(
                report.layers, params, progress=_reporter(progress), bound=bound
            )
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


@contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Keep stdout for results: HiGHS prints its banner there from C++ (HiGHS issue #1932)."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


# --- database ------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Create or migrate the database schema (Alembic) on the configured database."""
    from vigie import db
    from vigie.settings import load_settings

    settings = load_settings()
    engine = db.make_engine(settings.db_url, echo=settings.database_echo)
    before = db.current_revision(engine)
    after = db.upgrade(engine, revision)
    err.print(f"database {db._safe_url(settings.db_url)}: {before or 'empty'} -> {after}")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the configured database (and the code's)."""
    from vigie import db
    from vigie.settings import load_settings

    settings = load_settings()
    engine = db.make_engine(settings.db_url)
    current = db.current_revision(engine)
    out.print(f"{current or 'none'} (code: {db.head_revision()})", highlight=False)


@db_app.command("load-communes")
def db_load_communes(
    source: Annotated[
        Path | None,
        typer.Option(help="A decoupage-administratif JSON extract. Default: the Eure's."),
    ] = None,
) -> None:
    """Load or refresh the communes and intercommunalities (reference for scopes and reports)."""
    from gis_data import data_path
    from vigie import db
    from vigie.referential import load_referential, read_referential
    from vigie.settings import load_settings

    settings = load_settings()
    engine = db.make_engine(settings.db_url)
    db.require_current_schema(engine)
    referential = read_referential(source or data_path("sources", "communes-27-admin.json"))
    with db.session_scope(db.session_factory(engine)) as session:
        n_epcis, n_communes = load_referential(session, referential)
    err.print(f"{n_communes} communes and {n_epcis} intercommunalities in the database")


# --- service -------------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    tls_cert: Annotated[Path | None, typer.Option(help="TLS certificate (PEM).")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    migrate: Annotated[
        bool, typer.Option("--migrate", help="Run `vigie db upgrade` before serving.")
    ] = False,
) -> None:
    """Run the service: the API, and the supervisor polling the cameras (VIGIE_SUPERVISE)."""
    import uvicorn

    from vigie import db
    from vigie.api import create_app
    from vigie.errors import ConfigurationError
    from vigie.settings import load_settings

    settings = load_settings()
    settings.require_service_secrets()
    tls_cert, tls_key = tls_cert or settings.tls_cert, tls_key or settings.tls_key
    if (tls_cert is None) != (tls_key is None):
        raise ConfigurationError("give both --tls-cert and --tls-key, or neither")
    engine = db.make_engine(settings.db_url)
    if migrate:
        db.upgrade(engine)
    db.require_current_schema(engine)
    engine.dispose()
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        server_header=False,
    )


# --- the whole product ---------------------------------------------------------------------------


@app.command()
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the demo: plan, database, simulator token.")
    ] = Path("out/demo"),
    plan_only: Annotated[
        bool,
        typer.Option("--plan-only", help="Only check, plan and price the sample; serve nothing."),
    ] = False,
    host: Annotated[str, typer.Option(help="Address the service listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the service and dashboard.")] = 8000,
    sim_port: Annotated[
        int, typer.Option(help="Port of the first simulated camera (one port per camera).")
    ] = 20000,
) -> None:
    """The whole product on the embedded defaults: plan and price the Eure sample, then supervise
    its cameras (simulated, with faults over the first minutes) with the dashboard, until Ctrl-C."""
    from gis_data import data_path
    from planning.parameters import PlanParameters
    from planning.summary import summarize
    from planning.validate import validate_path
    from vigie.demo import plan_folder, run_demo

    sample = data_path("eure", "eure.gpkg")
    with err.status(f"Validating {sample.name}…"):
        report = validate_path(sample)
    for problem in report.problems:
        out.print(str(problem), highlight=False)
    out.print(_summary_table(summarize(report.layers), sample.name))
    verdict = "usable" if report.ok else "NOT usable"
    out.print(
        f"{sample.name}: {verdict} — {len(report.errors)} error(s), "
        f"{len(report.warnings)} warning(s).",
        highlight=False,
    )
    if not report.ok:
        raise typer.Exit(1)
    plan_dir = plan_folder(out_dir)
    result, paths = _plan_and_write(report, PlanParameters(), plan_dir, source=sample)
    out.print(_plan_table(result))
    out.print(
        f"plan written to {paths['plan'].parent}/ — open {paths['map']} in a browser, "
        f"{paths['plan'].name} in QGIS",
        highlight=False,
    )
    estimate(plan_dirs=[paths["plan"].parent], out_file=paths["plan"].parent / "dqe.xlsx")
    if plan_only:
        return
    run_demo(out_dir, host=host, port=port, sim_port=sim_port, say=out.print)


def _summary_table(summary, title: str) -> Table:
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


def main() -> None:
    """Console-script entry point: user errors as one line, never a traceback."""
    try:
        app()
    except USER_ERRORS as error:
        sys.stderr.write(f"error: {error}\n")
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
