"""``vigie import osm|bdtopo|gracethd``: the data engineers hold, into planning layers.

Registered in ``vigie.cli.main``. Each command reads its source with a progress bar on stderr,
adds (or replaces) the layers it produces in ``--out`` and keeps the others already there, writes
the JSON report when asked, and prints a short summary in French: what was mapped per layer and
kind, what was left out per kind of reason (its French label, `planning.importers.labels_fr`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from planning.french import number
from vigie.cli.context import err, out, progress_bars
from vigie.cli.plan import FTTH_NODE_KINDS, FTTH_ROUTE_KINDS, ROAD_KINDS

if TYPE_CHECKING:
    from rich.progress import Progress

    from planning.importers import ImportResult

import_app = typer.Typer(
    help="Import OpenStreetMap, IGN BD TOPO or GraceTHD data into planning layers.",
    no_args_is_help=True,
)

OutOption = Annotated[
    Path,
    typer.Option(
        "--out", help="GeoPackage to add the layers to (created if need be; its other layers kept)."
    ),
]
AreaOption = Annotated[
    str | None,
    typer.Option(
        "--area",
        help="Keep only this area: minlon,minlat,maxlon,maxlat (WGS84), INSEE codes "
        "(27229,27056) or a polygon file.",
    ),
]
ReportOption = Annotated[
    Path | None, typer.Option("--report", help="Write the full report (every feature left out).")
]

STEPS = {
    "ways": "voies OSM lues",
    "roads": "tronçons de route",
    "read": "tables GraceTHD lues",
    "nodes": "nœuds FttH",
    "routes": "cheminements FttH",
}
"""French labels of the importers' progress steps."""

MAX_REASONS = 12
"""Kinds of reason listed in the summary; the rest are counted on one line (all are in the
report)."""


def osm(
    source: Annotated[
        Path, typer.Argument(help="OpenStreetMap extract: .osm.pbf, .osm, .osm.bz2.")
    ],
    out_file: OutOption,
    area: AreaOption = None,
    report: ReportOption = None,
) -> None:
    """OpenStreetMap roads into the roads layer (split at junctions, in Lambert-93)."""
    from planning.importers.osm import import_osm

    _run(import_osm, source, out_file, area=area, report_file=report)


def bdtopo(
    source: Annotated[
        Path,
        typer.Argument(
            help="BD TOPO troncon_de_route: GeoPackage, TRONCON_DE_ROUTE.shp or folder."
        ),
    ],
    out_file: OutOption,
    area: AreaOption = None,
    report: ReportOption = None,
) -> None:
    """IGN BD TOPO v3 road segments (troncon_de_route) into the roads layer."""
    from planning.importers.bdtopo import import_bdtopo

    _run(import_bdtopo, source, out_file, area=area, report_file=report)


def gracethd(
    source: Annotated[Path, typer.Argument(help="GraceTHD delivery (folder or archive).")],
    out_file: OutOption,
    area: AreaOption = None,
    report: ReportOption = None,
) -> None:
    """An FttH operator's GraceTHD delivery into ftth_routes and ftth_nodes."""
    try:
        from planning.importers.gracethd import import_gracethd
    except ImportError as error:
        from vigie.errors import ConfigurationError

        raise ConfigurationError(
            "vigie import gracethd is not available in this version of Vigie yet "
            f"({error}); import OSM or BD TOPO roads meanwhile"
        ) from error
    _run(import_gracethd, source, out_file, area=area, report_file=report)


def _run(
    importer: Callable[..., ImportResult],
    source: Path,
    out_file: Path,
    *,
    area: str | None,
    report_file: Path | None,
) -> None:
    from planning.importers import write_layers
    from planning.importers.area import parse_area

    started = time.perf_counter()
    polygon = parse_area(area) if area else None
    with progress_bars() as progress:
        result = importer(source, area=polygon, progress=_reporter(progress))
        write_layers(result.layers, out_file)
    if report_file is not None:
        result.report.write_json(report_file)
    out.print(summary_table(result))
    for note in result.report.notes:
        err.print(f"note : {note}", highlight=False)
    written = ", ".join(result.layers)
    where = (
        f" ; rapport : {report_file}" if report_file else " (--report FICHIER.json pour le détail)"
    )
    err.print(
        f"écrit : {out_file} ({written}){where} ({number(time.perf_counter() - started, 1)} s)",
        highlight=False,
    )


def _reporter(progress: Progress) -> Callable[[str, int, int], None]:
    """``progress(step, done, total)`` drawing one bar per step; a total of 0 is unknown."""
    tasks: dict[str, int] = {}

    def report(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = progress.add_task(STEPS.get(step, step), total=total or None)
        progress.update(tasks[step], completed=done, total=total or None)

    return report


def summary_table(result: ImportResult) -> Table:
    """Mapped per layer and kind, left out per kind of reason (most frequent first), in French."""
    from planning.importers.labels_fr import skip_label

    report = result.report
    table = Table(title=f"Import {report.format} : {report.source}", header_style="bold")
    table.add_column("couche")
    table.add_column("nature")
    table.add_column("entités", justify="right")
    for layer, kinds in report.kinds.items():
        for kind, n in sorted(kinds.items(), key=lambda item: -item[1]):
            labels = {"roads": ROAD_KINDS, "ftth_routes": FTTH_ROUTE_KINDS}
            label = labels.get(layer, FTTH_NODE_KINDS).get(kind, kind)
            table.add_row(layer, label, number(n))
    codes = report.codes().most_common()
    table.add_section()
    table.add_row("écartées", "total", number(len(report.unmapped)))
    for code, n in codes[:MAX_REASONS]:
        table.add_row("", skip_label(code), number(n))
    if len(codes) > MAX_REASONS:
        rest = sum(n for _, n in codes[MAX_REASONS:])
        table.add_row("", f"{number(len(codes) - MAX_REASONS)} autres raisons", number(rest))
    return table
