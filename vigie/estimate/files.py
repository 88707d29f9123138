"""Writing an estimate: the XLSX workbook, or the same lines as CSV or JSON.

Everything is computed before the first byte is written, and each file is written beside its
final name then renamed into place, so a failure never leaves a half-written estimate.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from pathlib import Path
from typing import Any

from planning.french import percent
from vigie.errors import ConfigurationError
from vigie.estimate.dqe import Estimate
from vigie.estimate.workbook import build_workbook
from vigie.spreadsheet_safety import csv_record

FORMATS = (".xlsx", ".csv", ".json")
CSV_COLUMNS = (
    "plan",
    "lot",
    "numero",
    "cle",
    "designation",
    "unite",
    "quantite",
    "prix_unitaire_ht",
    "montant_ht",
    "eligible_fipd",
    "proprietaire",
)
RUNNING_LOT = "exploitation"
"""The CSV's ``lot`` of the yearly running costs: amounts per year, beside the investment."""


def estimate_rows(estimates: list[Estimate]) -> list[dict[str, Any]]:
    """The DQE lines of every plan, then its subtotals and totals, as flat rows (CSV)."""
    rows: list[dict[str, Any]] = []
    for estimate in estimates:
        lots = [(lot.number, lot.title, lot.lines) for lot in estimate.lots]
        lots.append(
            (estimate.amo.number.split(".")[0], "Assistance à maîtrise d'ouvrage", [estimate.amo])
        )
        for number, title, lines in lots:
            for line in lines:
                rows.append(
                    {
                        "plan": estimate.source,
                        "lot": number,
                        "numero": line.number,
                        "cle": line.key,
                        "designation": line.designation,
                        "unite": line.unit,
                        "quantite": line.quantity,
                        "prix_unitaire_ht": line.unit_price,
                        "montant_ht": line.amount,
                        "eligible_fipd": "oui" if line.fipd_eligible else "non",
                        "proprietaire": "",
                    }
                )
            if number != estimate.amo.number.split(".")[0]:
                rows.append(
                    _total(estimate, number, f"Sous-total {title}", _subtotal(estimate, number))
                )
        totals = estimate.totals()
        for key, label in (
            ("works_ht", "Total des travaux HT (lots 1 à 3)"),
            ("total_ht", "Total HT"),
            ("vat", f"TVA {percent(estimate.vat_rate, 2)}"),
            ("total_ttc", "Total TTC"),
            ("fipd", f"Subvention FIPD ({percent(estimate.fipd_rate, 2)} des dépenses éligibles)"),
            ("rest_ht", "Reste à charge HT"),
        ):
            rows.append(_total(estimate, "", label, totals[key], key=key))
        rows.extend(_running_rows(estimate))
    return rows


def _running_rows(estimate: Estimate) -> list[dict[str, Any]]:
    """The yearly running costs (amounts per year), their totals, and the N-year TCO."""
    rows: list[dict[str, Any]] = [
        {
            "plan": estimate.source,
            "lot": RUNNING_LOT,
            "numero": line.number,
            "cle": line.key,
            "designation": line.designation,
            "unite": line.unit,
            "quantite": round(line.quantity, 3),
            "prix_unitaire_ht": line.unit_price,
            "montant_ht": line.amount,
            "eligible_fipd": "",
            "proprietaire": line.owner,
        }
        for line in estimate.running.lines
    ]
    years = estimate.running.horizon_years
    for key, label, amount in (
        ("running_ht_per_year", "Coûts d'exploitation HT par an", estimate.running_ht),
        ("running_ttc_per_year", "Coûts d'exploitation TTC par an", estimate.running_ttc),
        ("tco_ht", f"Coût complet HT sur {years} ans (investissement + exploitation)", None),
    ):
        total = _total(estimate, RUNNING_LOT, label, estimate.tco_ht if amount is None else amount)
        rows.append({**total, "cle": key})
    return rows


def _subtotal(estimate: Estimate, number: str) -> float:
    return next(lot.subtotal for lot in estimate.lots if lot.number == number)


def _total(
    estimate: Estimate, lot: str, label: str, amount: float, key: str = ""
) -> dict[str, Any]:
    return {
        "plan": estimate.source,
        "lot": lot,
        "numero": "",
        "cle": key or f"lot_{lot}_ht",
        "designation": label,
        "unite": "",
        "quantite": "",
        "prix_unitaire_ht": "",
        "montant_ht": amount,
        "eligible_fipd": "",
        "proprietaire": "",
    }


def estimate_document(estimates: list[Estimate]) -> dict[str, Any]:
    """The JSON document: per plan its lines, lots, totals, financing and per-commune split."""
    return {
        "currency": "EUR",
        "estimates": [
            {
                "plan": e.source,
                "figures": e.figures,
                "lots": [
                    {"lot": lot.number, "title": lot.title, "subtotal_ht": lot.subtotal}
                    for lot in e.lots
                ],
                "lines": [
                    {
                        "number": line.number,
                        "key": line.key,
                        "designation": line.designation,
                        "unit": line.unit,
                        "quantity": line.quantity,
                        "unit_price_ht": line.unit_price,
                        "amount_ht": line.amount,
                        "fipd_eligible": line.fipd_eligible,
                        "basis": line.basis,
                    }
                    for line in e.lines
                ],
                "rates": {
                    "amo_percent": e.amo.quantity,
                    "vat_percent": e.vat_rate,
                    "fipd_percent": e.fipd_rate,
                    "epci_share_percent": e.epci_share,
                },
                "totals": e.totals(),
                "communes": [dataclasses.asdict(c) for c in e.communes],
                "running": {
                    "horizon_years": e.running.horizon_years,
                    "total_ht_per_year": e.running_ht,
                    "plan_total_ht_per_year": e.running.plan_total,
                    "lines": [dataclasses.asdict(line) for line in e.running.lines],
                    "notes": e.running.notes,
                },
                "reconciliation": {
                    "plan_cost_ht": e.plan_cost,
                    "posts": [
                        {
                            "label": post.label,
                            "plan_ht": post.plan,
                            "dqe_ht": round(sum(e.lines[i].amount for i in post.lines), 2),
                            "why": post.why,
                        }
                        for post in e.reconciliation
                    ],
                },
                "notes": e.notes,
                "catalogue": e.catalogue,
            }
            for e in estimates
        ],
    }


def write_estimate(estimates: list[Estimate], out: Path) -> Path:
    """Write ``out`` in the format its suffix names (.xlsx, .csv or .json)."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigurationError(f"{out}: the output must end in {', '.join(FORMATS)}")
    if not out.parent.is_dir():
        raise ConfigurationError(f"{out}: folder {out.parent} does not exist")
    if suffix == ".xlsx":
        buffer = io.BytesIO()
        build_workbook(estimates).save(buffer)
        data = buffer.getvalue()
    elif suffix == ".csv":
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(csv_record(row) for row in estimate_rows(estimates))
        data = text.getvalue().encode("utf-8")
    else:
        document = json.dumps(estimate_document(estimates), ensure_ascii=False, indent=2)
        data = (document + "\n").encode("utf-8")
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.tmp{out.suffix}")
    try:
        tmp.write_bytes(data)
        tmp.replace(out)
    except OSError as err:
        raise ConfigurationError(f"{out}: cannot write it ({err.strerror or err})") from err
    finally:
        tmp.unlink(missing_ok=True)
    return out
