"""``vigie simulate``: run N virtual ONVIF cameras until Ctrl-C (registered in
:mod:`vigie.cli.main`)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from planning.french import number
from vigie.cli.context import err

console = err  # what it prints is not a result


def _snapshot_size(text: str) -> str:
    """Refuse a bad ``--snapshot-size`` as a usage error, before any port is opened."""
    from cameras.simulator.server import parse_snapshot_size

    try:
        parse_snapshot_size(text)
    except ValueError as error:
        raise typer.BadParameter(str(error).removeprefix("--snapshot-size: ")) from None
    return text


def simulate(
    *,
    cameras: Annotated[
        int, typer.Option(min=1, max=30000, help="Number of virtual cameras.")
    ] = 100,
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port of camera 0; camera i listens on P+i.")
    ] = 20000,
    scenario: Annotated[
        Path | None,
        typer.Option(help="YAML or JSON file: credentials and faults at start (see README)."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address the cameras listen on.")] = "127.0.0.1",
    control_port: Annotated[
        int | None, typer.Option(help="Port of the control API on 127.0.0.1 (default P+N).")
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(help="Also write the control API's token to this file (mode 0600)."),
    ] = None,
    snapshot_size: Annotated[
        str,
        typer.Option(
            callback=_snapshot_size,
            metavar="WxH|main",
            help="Size of every snapshot, WxH from 160x90 to 3840x2160; or 'main': each camera's"
            " main-profile size (its scenario 'resolutions' rule, else 1920x1080), as real"
            " cameras send. The default keeps snapshots cheap; benchmarks of the supervisor"
            " want 'main' or 1920x1080.",
        ),
    ] = "640x360",
    personality: Annotated[
        str,
        typer.Option(
            metavar="NAME",
            help="Vendor personality of every camera (a scenario's 'personalities' rules choose"
            " per camera): a real camera's captured replies and quirks. One of: bosch, dlink,"
            " hikvision, ipd, ipnc, sunba, uniview (README: Cameras we supervise).",
        ),
    ] = "bosch",
) -> None:
    """Run N virtual ONVIF cameras, one port each, with faults from a scenario or the control API.

    Stop with Ctrl-C.
    """
    from cameras.simulator.scenario import Scenario, load_scenario
    from cameras.simulator.server import Simulator, parse_snapshot_size

    loaded = load_scenario(scenario) if scenario is not None else Scenario()
    simulator = Simulator(
        cameras,
        port,
        host=host,
        scenario=loaded,
        control_port=control_port,
        scenario_source=str(scenario or "scenario"),
        snapshot_size=parse_snapshot_size(snapshot_size),
        personality=personality,
    )
    asyncio.run(_run(simulator, token_file))


async def _run(simulator, token_file: Path | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    n = len(simulator.cameras)
    with Progress(
        TextColumn("opening camera ports"), BarColumn(), MofNCompleteColumn(), console=console
    ) as progress:
        task = progress.add_task("open", total=n)
        await simulator.start(lambda done, total: progress.update(task, completed=done))
    if token_file is not None:
        descriptor = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(simulator.control_token + "\n")
    console.print(_summary(simulator))
    console.print("Ctrl-C to stop.", style="dim")
    try:
        await stop.wait()
    finally:
        await simulator.stop()
        console.print(f"stopped: {number(simulator.requests)} requests served")


def _summary(simulator) -> Table:
    first, last = simulator.cameras[0].port, simulator.cameras[-1].port
    scenario = simulator.scenario
    table = Table(title="ONVIF simulator", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    table.add_row("cameras", number(len(simulator.cameras)))
    table.add_row("device service", f"http://{simulator.host}:{first}..{last}/onvif/device_service")
    kinds = Counter(camera.personality.name for camera in simulator.cameras)
    table.add_row("personalities", ", ".join(f"{k} x{v}" for k, v in sorted(kinds.items())))
    table.add_row("snapshot", f"http://{simulator.host}:PORT/... (each personality's path)")
    size = simulator.snapshot_size
    table.add_row(
        "snapshot size",
        "each camera's main profile" if isinstance(size, str) else f"{size[0]}x{size[1]}",
    )
    table.add_row("username", scenario.username)
    table.add_row(
        "password",
        "as in the scenario file" if "password" in scenario.model_fields_set else scenario.password,
    )
    faults = Counter(f.describe() for c in simulator.cameras for f in c.faults.values())
    table.add_row("faults", ", ".join(f"{k} x{v}" for k, v in sorted(faults.items())) or "none")
    table.add_row("control API", f"{simulator.control_url}/cameras (127.0.0.1 only)")
    table.add_row("control token", f"Authorization: Bearer {simulator.control_token}")
    return table
