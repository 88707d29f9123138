"""``vigie validate|plan|sample``: planning layers checked, routed and generated.

Registered in ``vigie.cli.main``. Commands import planning lazily, so that ``vigie --help`` starts
fast. What they print for people (tables, verdicts) is in French with French numbers; the problem
lines (``LAYER:FEATURE_ID: message``, ``masts:ID: status: reason``) stay as scripts parse them.
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

from planning.french import euros, number, percent, with_unit
from vigie.cli.context import err, out, progress_bars, reporter, stdout_to_stderr

if TYPE_CHECKING:
    from planning.parameters import PlanParameters
    from planning.plan import Plan
    from planning.validate import Problem, Report

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
    with err.status(f"Vérification de {layers}…"):
        report = validate_path(
            layers, far_from_road_warning_m=warn_distance, far_from_road_error_m=max_snap
        )
        report.add(reserved_camera_problems(report))
    elapsed = time.perf_counter() - started
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        for problem in report.problems:
            sys.stdout.write(f"{problem}\n")
    failed = not (report.ok_strict if strict else report.ok)
    features = sum(len(g) for g in report.layers.values())
    err.print(
        f"{verdict(layers, report, failed=failed)} dans {number(features)} entités "
        f"({number(elapsed, 1)} s)",
        highlight=False,
    )
    raise typer.Exit(1 if failed else 0)


RESERVED_CAMERA = "camera-reserved"
"""The code of a mast whose camera model the law reserves to another owner (a warning)."""


def reserved_camera_problems(report: Report) -> list[Problem]:
    """A warning per mast whose owner the law refuses its camera model (plate reading: the State).

    The rule is the camera catalogue's (`Catalogue.refused`), which planning does not know; a
    mast without an owner is the commune's. Models the catalogue lacks are the estimate's to name.
    """
    import numpy as np

    from cameras.catalogue import load_catalogue
    from planning.schema import MAST_OWNERS, mast_owner
    from planning.validate import Problem, Severity

    masts = report.layers.get("masts")
    if masts is None or "camera_model" not in masts or "id" not in masts:
        return []
    catalogue = load_catalogue()
    owners = masts["owner"] if "owner" in masts else [None] * len(masts)
    problems = []
    for row, (mast_id, model, given) in enumerate(
        zip(masts["id"], masts["camera_model"], owners, strict=True)
    ):
        owner = mast_owner(given)
        camera = catalogue.refused(str(model), owner) if owner in MAST_OWNERS else None
        if camera is None:
            continue
        missing = _blank(given)
        whose = f"'{owner}' (no owner given)" if missing else f"'{owner}'"
        label = masts.index[row]
        position = int(label) if isinstance(label, int | np.integer) else row
        feature = f"#{position + 1}" if _blank(mast_id) else str(mast_id)
        problems.append(
            Problem(
                "masts",
                feature,
                Severity.WARNING,
                RESERVED_CAMERA,
                f"camera model '{camera.key}' is reserved to '{camera.reserved_to}' but the "
                f"mast's owner is {whose}: {camera.legal_basis} Give the mast to "
                f"'{camera.reserved_to}' (field owner) or choose another model",
                row=position,
            )
        )
    return problems


def _blank(value: object) -> bool:
    import pandas as pd

    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return True
    return not str(value).strip()


def verdict(layers: Path | str, report: Report, *, failed: bool) -> str:
    """``eure.gpkg: utilisable — 0 erreur(s), 0 avertissement(s)``, as validate and demo say it."""
    word = "[red]inutilisable[/red]" if failed else "[green]utilisable[/green]"
    return (
        f"{layers}: {word} — {number(len(report.errors))} erreur(s), "
        f"{number(len(report.warnings))} avertissement(s)"
    )


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
    budget: Annotated[
        float | None,
        typer.Option(
            "--budget",
            min=0,
            metavar="EUROS",
            help="Envelope in euros HT: plan only the masts worth most within it (by priority); "
            "the others are deferred.",
        ),
    ] = None,
) -> None:
    """Route dedicated fibre from every mast to the FttH network at the least cost.

    Exit 0 when every mast is connected (or deferred by --budget), 3 when the plan was written
    but some masts are unreachable or over the optical budget, 1 on invalid input.
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
    with err.status(f"Vérification de {layers}…"):
        report = validate_path(layers)
        report.add(reserved_camera_problems(report))
    # A mast the planner cannot reach is a result (reported, exit 3), not a reason to stop.
    blocking = [p for p in report.errors if p.code not in PLANNER_REPORTS]
    if blocking:
        for problem in report.problems:
            sys.stdout.write(f"{problem}\n")
        err.print(
            f"{layers}: inutilisable — {len(blocking)} erreur(s) : corrigez-les, puis relancez "
            "vigie plan",
            highlight=False,
        )
        raise typer.Exit(1)
    for problem in report.problems:  # the law does not stop a plan, but it must be read
        if problem.code == RESERVED_CAMERA:
            sys.stdout.write(f"{problem}\n")
    result, paths = plan_and_write(
        report, params, out_dir, source=layers, bound=bound, budget=budget
    )
    out.print(plan_table(result))
    if result.budget is not None:
        out.print(budget_table(result.budget))
    for mast in result.failed:
        sys.stdout.write(f"masts:{mast.mast_id}: {mast.status}: {mast.reason}\n")
    err.print(
        f"écrits : {paths['plan']}, {paths['summary'].name}, {paths['map'].name} "
        f"({number(time.perf_counter() - started, 1)} s)",
        highlight=False,
    )
    incomplete = [m for m in result.failed if m.status != "deferred"]  # deferred: by choice
    raise typer.Exit(PLAN_EXIT_INCOMPLETE if incomplete else 0)


def budget_table(block: dict) -> Table:
    """What the envelope bought and what the next euros would (``--budget``)."""
    from planning.budget_text import next_euro_lines

    table = figures_table("Enveloppe")
    envelope, spent = block["envelope_eur"], block["spent_eur"]
    table.add_row("enveloppe", euros(envelope, "HT"))
    share = f" ({percent(100 * spent / envelope)})" if envelope > 0 else ""
    table.add_row("dépensé", euros(spent, "HT") + share)
    table.add_row("plan complet", euros(block["full_plan_eur"], "HT"))
    table.add_row(
        "priorité raccordée",
        f"{number(block['priority_connected'])} / {number(block['priority_total'])}",
    )
    table.add_row("mâts reportés (enveloppe)", number(block["masts_deferred"]))
    if block.get("last_chosen_priority_per_keur") is not None:
        table.add_row(
            "derniers mâts choisis",
            f"{number(block['last_chosen_priority_per_keur'], 2)} point(s) de priorité par k€",
        )
    for line in next_euro_lines(block):
        table.add_row("ensuite (estimation)", line)
    return table


def plan_table(result: Plan) -> Table:
    """The plan's headline figures, as `vigie plan` and `vigie demo` print them."""
    from planning.export import summarize_plan
    from planning.qgis_styles import TRENCH_MODES

    totals = summarize_plan(result)["totals"]
    modes = {c.value: c.label.lower() for c in TRENCH_MODES}
    table = figures_table("Plan de raccordement")
    table.add_row("mâts raccordés", f"{number(totals['connected'])} / {number(totals['masts'])}")
    table.add_row("injoignables", number(totals["unreachable"]))
    table.add_row("bilan optique dépassé", number(totals["over_budget"]))
    table.add_row(
        "mâts critiques avec un second chemin",
        f"{number(totals['critical_with_second_route'])} / {number(totals['critical'])}",
    )
    diverse = sum(1 for m in result.masts if m.diversity and m.diversity["disjoint"])
    if any(m.diversity for m in result.masts):
        table.add_row(
            "  dont sans point commun jusqu'au CSU",
            f"{number(diverse)} / {number(totals['critical_with_second_route'])}",
        )
    for mode, metres in totals["length_m_by_mode"].items():
        table.add_row(modes.get(mode, mode), with_unit(metres / 1000, "km", 2))
    table.add_row("génie civil", euros(totals["civil_works_eur"], "HT"))
    table.add_row("câble", euros(totals["cable_eur"], "HT"))
    table.add_row("épissures et raccordements", euros(totals["splices_and_connections_eur"], "HT"))
    if result.links:
        nro = [lk for lk in result.links if lk.kind == "nro_csu"]
        km = sum(lk.length_m for lk in result.links) / 1000
        table.add_row(
            f"liens loués vers le CSU {result.csu['id'] if result.csu else ''}",
            f"{number(len(nro))} NRO, {number(len(result.links) - len(nro))} gendarmerie, "
            f"{with_unit(km, 'km', 1)}",
        )
        table.add_row(
            "frais d'accès des liens loués", euros(totals["leased_links_access_eur"], "HT")
        )
    elif result.csu is None:
        table.add_row("CSU", "aucun site CSU : les routes s'arrêtent au NRO")
    table.add_row("total investissement (réseau fibre)", euros(totals["cost_eur"], "HT"))
    table.add_row("loyers et locations par an", euros(totals["running_eur_per_year"], "HT"))
    table.add_row(
        f"coût complet du réseau fibre sur {number(totals['horizon_years'])} ans",
        euros(totals["tco_eur"], "HT"),
    )
    table.add_row("écart à la borne inférieure", bound_text(result.bound))
    return table


def bound_text(bound: dict | None) -> str:
    """The plan's gap to the proven lower bound, or why there is none (``primary_bound``)."""
    if bound is None:
        return "non calculé (option --no-bound)"
    if bound.get("computed"):
        gap = percent(100 * bound["gap"], 2, trim=False)
        return f"{gap} (plan optimal)" if bound.get("optimal") else gap
    why = bound.get("why")
    if why == "no_mast":
        return "non calculé : aucun mât raccordé"
    if why == "too_large":
        return (
            f"non calculé : réseau trop grand ({number(bound['edges'])} arêtes ; "
            f"au plus {number(bound['max_edges'])} après réductions)"
        )
    if why == "too_large_reduced":
        return (
            f"non calculé : réseau trop grand ({number(bound['edges'])} arêtes ; "
            f"encore plus de {number(bound['max_edges'])} après réductions)"
        )
    return f"non calculé : {bound.get('reason') or 'raison inconnue'}"


def figures_table(title: str) -> Table:
    """The two-column table every summary of the CLI prints."""
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("indicateur")
    table.add_column("valeur", justify="right")
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
    counts = ", ".join(f"{number(len(gdf))} {name}" for name, gdf in sample.layers.items())
    err.print(
        f"écrit : {out_file} : {counts} ({number(time.perf_counter() - started, 1)} s)",
        highlight=False,
    )


def plan_and_write(
    report: Report,
    params: PlanParameters,
    out_dir: Path,
    *,
    source: Path,
    bound: bool = True,
    budget: float | None = None,
) -> tuple[Plan, dict[str, Path]]:
    """Plan validated layers with progress bars, and write the three outputs."""
    from planning.export import write_plan
    from planning.pipeline import plan_layers

    with progress_bars() as progress:
        with stdout_to_stderr():
            result, _ = plan_layers(
                report.layers, params, progress=reporter(progress), bound=bound, budget=budget
            )
        paths = write_plan(
            result,
            out_dir,
            ftth_nodes=report.layers.get("ftth_nodes"),
            communes=report.layers.get("communes"),
            masts=report.layers.get("masts"),
            power_points=report.layers.get("power_points"),
            sites=report.layers.get("sites"),
            source=str(source),
        )
    return result, paths


ROAD_KINDS = {
    "motorway": "autoroute",
    "primary": "route principale",
    "secondary": "route secondaire",
    "tertiary": "route tertiaire",
    "local": "voie de desserte locale",
    "track": "chemin",
}
FTTH_ROUTE_KINDS = {"duct": "fourreau", "aerial": "aérien"}
FTTH_NODE_KINDS = {"chamber": "chambre"}  # NRO, PM, PBO are French already
POWER_KINDS = {"enedis": "Enedis", "public_lighting": "éclairage public"}


def summary_table(summary, title: str) -> Table:
    """What the layers hold (communes, roads, FttH, masts...), before planning them."""
    table = figures_table(f"Couches {title}")
    population = f"{number(summary.population)} habitants"
    table.add_row("communes", f"{number(summary.communes)} ({population})")
    table.add_row("intercommunalités", number(summary.epcis))
    for kind, km in summary.road_km.items():
        table.add_row(f"routes : {ROAD_KINDS.get(kind, kind)}", with_unit(km, "km", 1))
    for kind, km in summary.ftth_route_km.items():
        table.add_row(f"lignes FttH : {FTTH_ROUTE_KINDS.get(kind, kind)}", with_unit(km, "km", 1))
    for kind, n in summary.ftth_nodes.items():
        free = summary.free_fibres.get(kind, 0)
        table.add_row(
            f"nœuds FttH : {FTTH_NODE_KINDS.get(kind, kind)}",
            f"{number(n)} ({number(free)} fibres libres)",
        )
    table.add_row(
        "mâts",
        f"{number(summary.masts)} ({number(summary.critical_masts)} critiques) dans "
        f"{number(summary.communes_with_masts)} communes",
    )
    table.add_row("caméras", number(summary.cameras))
    for kind, n in summary.power_points.items():
        table.add_row(f"points d'alimentation : {POWER_KINDS.get(kind, kind)}", number(n))
    return table
