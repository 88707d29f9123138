"""``vigie serve``, ``vigie demo`` and ``vigie db``: the service, the whole product on the
embedded defaults, and the database.

Registered in ``vigie.cli.main``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigie.cli.context import err, out

db_app = typer.Typer(help="Database schema and reference data.", no_args_is_help=True)


def _keys(settings) -> str | None:
    """VIGIE_CREDENTIALS_KEYS for migrations that re-encrypt camera passwords (0006)."""
    return settings.credentials_keys.get_secret_value() if settings.credentials_keys else None


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
    after = db.upgrade(engine, revision, credentials_keys=_keys(settings))
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
    from vigie.inventory.communes import load_referential, read_referential
    from vigie.settings import load_settings

    settings = load_settings()
    engine = db.make_engine(settings.db_url)
    db.require_current_schema(engine)
    referential = read_referential(source or data_path("sources", "communes-27-admin.json"))
    with db.session_scope(db.session_factory(engine)) as session:
        n_epcis, n_communes = load_referential(session, referential)
    err.print(f"{n_communes} communes and {n_epcis} intercommunalities in the database")


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
    from vigie.cli.server import VigieServer, live_drained, stop_live
    from vigie.errors import ConfigurationError
    from vigie.live.transport import LiveHttpProtocol
    from vigie.settings import load_settings

    settings = load_settings()
    settings.require_service_secrets()
    tls_cert, tls_key = tls_cert or settings.tls_cert, tls_key or settings.tls_key
    if (tls_cert is None) != (tls_key is None):
        raise ConfigurationError("give both --tls-cert and --tls-key, or neither")
    engine = db.make_engine(settings.db_url)
    if migrate:
        db.upgrade(engine, credentials_keys=_keys(settings))
    db.require_current_schema(engine)
    engine.dispose()
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        server_header=False,
        # The app decides which proxies it believes (VIGIE_TRUSTED_PROXIES, vigie.api); uvicorn's
        # own handling would trust X-Forwarded-For from 127.0.0.1 (or $FORWARDED_ALLOW_IPS).
        proxy_headers=False,
        # Live connections' transports in the scope: the hub counts what their sockets hold.
        http=LiveHttpProtocol,
        # A stop ends the live streams at once (VigieServer); this bounds the wait for the rest.
        timeout_graceful_shutdown=settings.shutdown_grace_s,  # type: ignore[arg-type]
    )
    server = VigieServer(config, on_exit=stop_live(app), drained=live_drained(app))
    server.run()
    if not server.started:
        raise typer.Exit(3)  # as uvicorn.run: the server could not start (the log says why)


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
    its cameras (simulated, with faults over the first minutes) with the dashboard, until Ctrl-C.

    The screen shows what a person needs (figures, address, logins, faults); logs go to
    OUT/vigie.log."""
    from vigie.cli.context import log_to_file

    # Before anything imports the libraries that log (or, like onvif, set logging up to print).
    log_file = log_to_file(out_dir / "vigie.log")

    from gis_data import data_path
    from planning.parameters import PlanParameters
    from planning.summary import summarize
    from planning.validate import validate_path
    from vigie.cli.demo import plan_folder, run_demo
    from vigie.cli.estimate import estimate
    from vigie.cli.plan import plan_and_write, plan_table, summary_table, verdict

    out.print(f"Démo Vigie : journal technique dans {log_file}", highlight=False)
    sample = data_path("eure", "eure.gpkg")
    with err.status(f"Vérification de {sample.name}…"):
        report = validate_path(sample)
    for problem in report.problems:
        out.print(str(problem), highlight=False)
    out.print(summary_table(summarize(report.layers), sample.name))
    out.print(f"{verdict(sample.name, report, failed=not report.ok)}.", highlight=False)
    if not report.ok:
        raise typer.Exit(1)
    plan_dir = plan_folder(out_dir)
    result, paths = plan_and_write(report, PlanParameters(), plan_dir, source=sample)
    out.print(plan_table(result))
    out.print(
        f"plan écrit dans {paths['plan'].parent}/ : ouvrez {paths['map']} dans un navigateur, "
        f"{paths['plan'].name} dans QGIS",
        highlight=False,
    )
    estimate(plan_dirs=[paths["plan"].parent], out_file=paths["plan"].parent / "dqe.xlsx")
    if plan_only:
        return
    run_demo(out_dir, host=host, port=port, sim_port=sim_port, say=say, log_file=log_file)


def say(text: str) -> None:
    """A line of the demo for the person watching it, as printed, never split or highlighted."""
    out.print(text, highlight=False, markup=False)
