"""The ``vigie`` command line: one module per command group, joined here.

Errors a user can fix (``USER_ERRORS``) print as one line on stderr and exit 1; usage errors exit 2.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from vigie import __version__
from vigie.cli import (
    cameras,
    doctor,
    estimate,
    importers,
    notify,
    plan,
    security,
    serve,
    simulate,
    webhooks,
)
from vigie.cli.context import err, out
from vigie.errors import USER_ERRORS

app = typer.Typer(
    name="vigie",
    help="Plan and supervise the video-protection network of a French département.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(plan.validate)
app.command()(plan.plan)
app.add_typer(plan.sample_app, name="sample")
app.add_typer(importers.import_app, name="import")
for _command in (importers.osm, importers.bdtopo, importers.gracethd):
    importers.import_app.command()(_command)
app.command()(estimate.estimate)
app.add_typer(serve.db_app, name="db")
app.command()(serve.serve)
app.command()(serve.demo)
app.command()(doctor.doctor)
app.command()(simulate.simulate)
app.add_typer(cameras.cameras_app, name="cameras")
app.add_typer(webhooks.webhooks_app, name="webhooks")
app.add_typer(notify.notify_app, name="notify")
for _name, _typer in security.APPS.items():  # users, tokens, audit, keys
    app.add_typer(_typer, name=_name)


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
