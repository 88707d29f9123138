"""``vigie cameras import|purge-observations``: the camera inventory and supervision data.

Registered in ``vigie.cli.main``; changes are recorded in the audit trail as ``cli:<os user>``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from planning.french import number
from vigie.cli.context import actor, database_session, out

cameras_app = typer.Typer(
    help="Camera inventory and supervision data: import, purge-observations.",
    no_args_is_help=True,
)


@cameras_app.command("import")
def import_file(
    file: Annotated[
        Path,
        typer.Argument(
            help="Inventory (.csv or .geojson), or a plan: its folder or a .gpkg with masts."
        ),
    ],
    host: Annotated[
        str | None, typer.Option(help="Plan: the address of every camera (e.g. the simulator).")
    ] = None,
    first_port: Annotated[
        int, typer.Option(min=1, max=65535, help="Plan: port of the first camera; then +1 each.")
    ] = 8080,
    username: Annotated[str, typer.Option(help="Plan: the cameras' ONVIF user name.")] = "",
    password_file: Annotated[
        Path | None,
        typer.Option(
            help="Plan: a file holding the cameras' password (never on the command line)."
        ),
    ] = None,
) -> None:
    """Create or update the cameras of FILE; any bad row or mast is reported and nothing is
    imported. A plan gives one camera per camera of each mast (README: Cameras from a plan)."""
    from vigie import audit
    from vigie.clock import utcnow
    from vigie.credentials import KeyRing
    from vigie.errors import ConfigurationError
    from vigie.inventory.cameras import import_cameras, read_inventory
    from vigie.inventory.plans import plan_inventory, plan_masts_path
    from vigie.inventory.topology import plan_topology, save_masts

    from_plan = file.is_dir() or file.suffix.lower() == ".gpkg"
    if from_plan:
        if not host:
            raise ConfigurationError(f"{file}: a plan needs --host (where its cameras answer)")
        password = ""
        if password_file is not None:
            try:
                password = password_file.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as err:
                raise ConfigurationError(f"--password-file {password_file}: {err}") from err
        rows = plan_inventory(
            file, host=host, first_port=first_port, username=username, password=password
        )
    elif host or password_file or username:
        raise ConfigurationError(
            f"{file}: --host, --username and --password-file apply to a plan only; "
            "an inventory file carries its own addresses"
        )
    else:
        rows = read_inventory(file)
    with database_session() as (session, settings):
        keys = KeyRing.from_settings(settings) if settings.credentials_keys else None
        summary = import_cameras(session, file, rows, keys=keys, now=utcnow())
        masts = 0
        if from_plan:  # each mast's path in the planned network, for correlation
            masts = save_masts(
                session,
                plan_topology(plan_masts_path(file), {(r.mast_id or "", r.commune) for r in rows}),
            )
        audit.record(
            session,
            actor=actor(),
            role="system",
            action="camera.import",
            object_type="plan" if from_plan else "file",
            object_id=file.name,
            detail={"created": summary.created, "updated": summary.updated, "masts": masts},
        )
    out.print(
        f"{number(summary.created)} caméra(s) créée(s), {number(summary.updated)} mise(s) à jour "
        f"depuis {file}",
        highlight=False,
    )


@cameras_app.command("purge-observations")
def purge(
    days: Annotated[
        int | None,
        typer.Option(
            min=1, help="Keep this many days (default: VIGIE_OBSERVATION_RETENTION_DAYS)."
        ),
    ] = None,
) -> None:
    """Delete check results older than the retention; states, history and incidents stay."""
    from vigie.clock import utcnow
    from vigie.supervisor.store import purge_observations

    with database_session() as (session, settings):
        keep = days or settings.observation_retention_days
        removed = purge_observations(session, now=utcnow(), retention=timedelta(days=keep))
    out.print(
        f"{number(removed)} observation(s) de plus de {number(keep)} jours supprimée(s)",
        highlight=False,
    )
