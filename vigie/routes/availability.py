"""``/api/v1/availability``: availability per camera, commune, EPCI and local month, JSON or CSV.

Computed on request from the stored state history of the cameras the caller may see (scoped in
SQL), by :func:`supervision.availability.availability_report`; the ``all`` row totals only those
cameras. CSV with ``?format=csv`` or ``Accept: text/csv`` (a spreadsheet opens it as is).

Observed until the service clock's ``now``: a month in progress counts the time passed, not the
month's end (the last state would otherwise be extended into the future), and a month to come is
answered with zero seconds observed. Each row, the CSV included, says how much of its month it
covers (``observed_until``, ``elapsed_s``, ``elapsed_share``).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from supervision.availability import PARIS, Period, Place, availability_report
from vigie.auth.guards import require_roles
from vigie.auth.principal import Principal, apply_scope
from vigie.auth.roles import Role
from vigie.deps import Now, SessionDep
from vigie.models import Camera, Commune
from vigie.spreadsheet_safety import csv_cell, csv_record
from vigie.supervisor.store import state_spans

router = APIRouter(prefix="/api/v1/availability", tags=["supervision"])

# Communes and EPCIs pay for their cameras; the gendarmerie needs status, not reports.
Reader = Annotated[
    Principal, Depends(require_roles(Role.ADMIN, Role.ENGINEER, Role.OPERATOR, Role.COMMUNE))
]

MAX_PERIOD = timedelta(days=366)
CSV_COLUMNS = (
    "month",
    "level",
    "key",
    "ratio",
    "observed",
    "up_s",
    "degraded_s",
    "down_s",
    "maintenance_s",
    "unknown_s",
    # added with the observed part of the period; the columns above keep their place
    "period_start",
    "period_end",
    "observed_until",
    "elapsed_s",
    "elapsed_share",
)
CSV_COLUMNS_FR = {
    "month": "mois",
    "level": "niveau",
    "key": "clé",
    "ratio": "disponibilité (%)",
    "observed": "part observée (%)",
    "up_s": "en service (s)",
    "degraded_s": "dégradée (s)",
    "down_s": "hors service (s)",
    "maintenance_s": "maintenance (s)",
    "unknown_s": "inconnu (s)",
    "period_start": "début de période",
    "period_end": "fin de période",
    "observed_until": "observé jusqu'au",
    "elapsed_s": "écoulé (s)",
    "elapsed_share": "part écoulée (%)",
}
"""The French export's headers (``lang=fr``): what the dashboard's "Exporter en CSV" downloads."""
LEVELS_FR = {"camera": "caméra", "commune": "commune", "epci": "intercommunalité", "all": "toutes"}
PERCENT_COLUMNS = frozenset({"ratio", "observed", "elapsed_share"})
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def _period(
    month: str | None, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime]:
    """``month`` (a local month) or ``start`` and ``end``, never both, at most a year."""
    if month is not None:
        if start is not None or end is not None:
            raise HTTPException(422, "give either month or start and end, not both")
        match = MONTH.match(month)
        if match is None:
            raise HTTPException(422, f"month {month!r}: expected YYYY-MM")
        year, number = int(match[1]), int(match[2])
        following = (year + 1, 1) if number == 12 else (year, number + 1)
        return datetime(year, number, 1, tzinfo=PARIS), datetime(*following, 1, tzinfo=PARIS)
    if start is None or end is None:
        raise HTTPException(422, "give a month (YYYY-MM), or start and end (ISO 8601 with offset)")
    if end <= start:
        raise HTTPException(422, f"the period {start.isoformat()} .. {end.isoformat()} is empty")
    if end - start > MAX_PERIOD:
        raise HTTPException(422, "the period is longer than 366 days: ask for it in parts")
    return start, end


def _wants_csv(request: Request, format: str | None) -> bool:
    if format is not None:
        return format == "csv"
    return "text/csv" in request.headers.get("accept", "")


@router.get(
    "",
    responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV on request"}},
)
def availability(
    principal: Reader,
    session: SessionDep,
    request: Request,
    now: Now,
    *,
    month: Annotated[
        str | None,
        Query(description="A local month, YYYY-MM.", pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$"),
    ] = None,
    start: Annotated[datetime | None, Query(description="Period start (with offset).")] = None,
    end: Annotated[datetime | None, Query(description="Period end, excluded.")] = None,
    level: Annotated[
        list[Literal["camera", "commune", "epci", "all"]] | None,
        Query(description="Only these levels (default: all four)."),
    ] = None,
    commune: Annotated[list[str] | None, Query(description="Only these INSEE codes.")] = None,
    epci: Annotated[list[str] | None, Query(description="Only these EPCI SIRENs.")] = None,
    format: Annotated[Literal["json", "csv"] | None, Query()] = None,
    lang: Annotated[
        Literal["en", "fr"],
        Query(
            description="CSV for scripts (en: comma, dot, ISO names) or for a French "
            "spreadsheet (fr: semicolon, decimal comma, percentages, French headers, BOM)."
        ),
    ] = "en",
) -> Response:
    """Seconds per state and the availability ratio, per local month and level."""
    for moment in (start, end):
        if moment is not None and moment.tzinfo is None:
            raise HTTPException(422, f"{moment.isoformat()}: give a UTC offset (e.g. Z)")
    period_start, period_end = _period(month, start, end)
    statement = apply_scope(
        select(Camera.id, Camera.commune_code, Commune.epci_siren).join(
            Commune, Commune.code == Camera.commune_code
        ),
        principal,
        Camera.commune_code,
    )
    if commune:
        statement = statement.where(Camera.commune_code.in_(commune))
    if epci:
        statement = statement.where(Commune.epci_siren.in_(epci))
    places = {
        camera_id: Place(commune=code, epci=siren or "")
        for camera_id, code, siren in session.execute(statement)
    }
    observed = Period.seen_at(period_start, period_end, now)
    spans = state_spans(session, places, end=observed.observed_until)
    rows = [
        row.to_dict()
        for row in availability_report(spans, places, start=period_start, end=period_end, now=now)
        if level is None or row.level in level
    ]
    if _wants_csv(request, format):
        text = _csv_fr(rows) if lang == "fr" else _csv(rows)
        return Response(text, media_type="text/csv; charset=utf-8")
    body: dict[str, Any] = {
        "start": period_start.isoformat(),
        "end": period_end.isoformat(),
        "observed_until": observed.observed_until.isoformat(),
        "elapsed_s": observed.elapsed_s,
        "elapsed_share": observed.elapsed_share,
        "rows": rows,
    }
    return JSONResponse(body)


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            csv_record({name: "" if row[name] is None else row[name] for name in CSV_COLUMNS})
        )
    return out.getvalue()


def _csv_fr(rows: list[dict[str, Any]]) -> str:
    """What a French spreadsheet opens as is: ``;`` between cells, a decimal comma, shares as
    percentages, a byte-order mark so that the accents survive; a cell that a spreadsheet would
    read as a formula is quoted as text (``vigie.spreadsheet_safety``, as in :func:`_csv`)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([CSV_COLUMNS_FR[name] for name in CSV_COLUMNS])
    for row in rows:
        writer.writerow([_cell_fr(name, row[name]) for name in CSV_COLUMNS])
    return out.getvalue()


def _cell_fr(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "level":
        return LEVELS_FR.get(value, value)
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        shown = 100 * value if name in PERCENT_COLUMNS else value
        return f"{shown:.3f}".rstrip("0").rstrip(".").replace(".", ",")
    return csv_cell(str(value))
