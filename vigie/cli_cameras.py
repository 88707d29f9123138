"""``vigie cameras import|purge-observations``: the camera inventory and supervision data.

Registered in ``vigie.cli``; changes are recorded in the audit trail as ``cli:<os user>``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

cameras_app = typer.Typer(
    help="Camera inventory and supervision data: import, purge-observations.",
    no_args_is_help=True,
)

out = Console()


@cameras_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="Inventory: .csv or .geojson (README).")],
) -> None:
    """Create or update the cameras of FILE; any bad row is reported and nothing is imported."""
    from vigie import audit
    from vigie.camera_import import import_cameras, read_inventory
    from vigie.clock import utcnow
    from vigie.credentials import KeyRing
    from vigie.security_cli import _actor, _session

    rows = read_inventory(file)
    with _session() as (session, settings):
        keys = KeyRing.from_settings(settings) if settings.credentials_keys else None
        summary = import_cameras(session, file, rows, keys=keys, now=utcnow())
        audit.record(
            session,
            actor=_actor(),
            role="system",
            action="camera.import",
            object_type="file",
            object_id=file.name,
            detail={"created": summary.created, "updated": summary.updated},
        )
    out.print(f"{summary.created} camera(s) created, {summary.updated} updated from {file}")


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
    from vigie.security_cli import _session
    from vigie.supervision_store import purge_observations

    with _session() as (session, settings):
        keep = days or settings.observation_retention_days
        removed = purge_observations(session, now=utcnow(), retention=timedelta(days=keep))
    out.print(f"{removed} observation(s) older than {keep} days deleted")
