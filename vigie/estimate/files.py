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
from vigie.estimate.amo import AMO_KEY
from vigie.estimate.dqe import Estimate
from vigie.estimate.programme import compare, comparison_json, load_envelope
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
    "eligibilite",
    "proprietaire",
)
AMO_LOT = "amo"
"""The CSV's ``lot`` of the AMO: a contract of its own, outside the works lots."""
RUNNING_LOT = "exploitation"
"""The CSV's ``lot`` of the yearly running costs: amounts per year, beside the investment."""


def estimate_rows(estimates: list[Estimate]) -> list[dict[str, Any]]:
    """The DQE lines of every plan, its subtotals, the AMO and the totals, as flat rows (CSV)."""
    rows: list[dict[str, Any]] = []
    for estimate in estimates:
        eligibility = iter(estimate.financing.lines)
        for lot in estimate.lots:
            for line in lot.lines:
                rules = next(eligibility)
                rows.append(
                    {
                        "plan": estimate.source,
                        "lot": lot.number,
                        "numero": line.number,
                        "cle": line.key,
                        "designation": line.designation,
                        "unite": line.unit,
                        "quantite": line.quantity,
                        "prix_unitaire_ht": line.unit_price,
                        "montant_ht": line.amount,
                        "eligible_fipd": _yes(rules.rules, "fipd"),
                        "eligibilite": _eligibility(rules.rules),
                        "proprietaire": "",
                    }
                )
            rows.append(_total(estimate, lot.number, f"Sous-total {lot.title}", lot.subtotal))
        totals = estimate.totals()
        amo = estimate.amo
        rows.append(
            {
                **_total(
                    estimate,
                    AMO_LOT,
                    "Assistance à maîtrise d'ouvrage (marché distinct)",
                    amo.amount,
                ),
                "cle": AMO_KEY,
                "unite": "%",
                "quantite": amo.rate,
                "prix_unitaire_ht": amo.works_ht,
                "eligible_fipd": _yes(estimate.financing.amo_rules, "fipd"),
                "eligibilite": _eligibility(estimate.financing.amo_rules),
            }
        )
        labels = [
            ("works_ht", "Total des travaux HT (lots 1 à 3)"),
            ("amo_ht", "AMO HT"),
            ("total_ht", "Total HT du projet (travaux et AMO)"),
            ("vat", f"TVA {percent(estimate.vat_rate, 2)}"),
            ("total_ttc", "Total TTC du projet"),
        ]
        for funder in estimate.financing.call.funders:
            labels.append((f"eligible_{funder.key}", f"Base retenue {funder.label}"))
            labels.append(
                (
                    f"aid_{funder.key}",
                    f"Aide sollicitée {funder.label} ({percent(funder.requested_rate, 2)})",
                )
            )
        labels += [
            ("aids_ht", "Aides sollicitées (tous financeurs)"),
            ("rest_ht", "Reste à charge des maîtres d'ouvrage HT"),
        ]
        for key, label in labels:
            rows.append(_total(estimate, "", label, totals[key], key=key))
        rows.extend(_running_rows(estimate))
    return rows


def _yes(rules: Any, funder: str) -> str:
    rule = next((r for r in rules if r.funder == funder), None)
    return "" if rule is None else ("oui" if rule.eligible else "non")


def _eligibility(rules: Any) -> str:
    return "; ".join(f"{r.funder}: {'oui' if r.eligible else 'non'}" for r in rules)


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
            "eligible_fipd": "non",
            "eligibilite": "dépense de fonctionnement",
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
        "eligibilite": "",
        "proprietaire": "",
    }


def estimate_document(estimates: list[Estimate]) -> dict[str, Any]:
    """The JSON document: per plan its lines, lots, AMO, totals, financing per owner."""
    return {"currency": "EUR", "estimates": [_estimate_json(e) for e in estimates]}


def _estimate_json(e: Estimate) -> dict[str, Any]:
    financing = e.financing
    return {
        "plan": e.source,
        "figures": e.figures,
        "lots": [
            {"lot": lot.number, "title": lot.title, "subtotal_ht": lot.subtotal} for lot in e.lots
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
                "category": rules.category,
                "eligibility": _rules_json(rules.rules),
                "fipd_eligible": financing.call.has("fipd") and rules.eligible_for("fipd"),
                "reserved_to_state_ht": rules.reserved_amount,
                "basis": line.basis,
                "by_commune": line.by_commune,
            }
            for line, rules in zip(e.lines, financing.lines, strict=True)
        ],
        "amo": {
            **dataclasses.asdict(e.amo),
            "days": e.amo.days,
            "vat": e.amo.vat,
            "ttc": e.amo.ttc,
            "eligibility": _rules_json(financing.amo_rules),
        },
        "rates": {
            "amo_percent": e.amo.rate,
            "vat_percent": e.vat_rate,
            **{f"{f.key}_percent": f.requested_rate for f in financing.call.funders},
        },
        "call": {
            "key": financing.call.key,
            "title": financing.call.title,
            "year": financing.call.year,
            "source": financing.call.source,
            "file": financing.call.path,
            "public_aid_cap_percent": financing.call.public_aid_cap,
            "funders": [
                {
                    "key": f.key,
                    "label": f.label,
                    "max_rate": f.max_rate,
                    "requested_rate": f.requested_rate,
                    "ceiling_per_camera": f.ceiling_per_camera,
                    "owners": list(f.owners),
                    "eligible_spending_ht": financing.eligible_totals[f.key],
                }
                for f in financing.call.funders
            ],
        },
        "totals": e.totals(),
        "owners": [_owner_json(o, e) for o in financing.owners],
        "running": {
            "horizon_years": e.running.horizon_years,
            "total_ht_per_year": e.running_ht,
            "plan_total_ht_per_year": e.running.plan_total,
            "lines": [dataclasses.asdict(line) for line in e.running.lines],
            "by_commune": e.running.by_commune,
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
        "programme": comparison_json(compare(e, load_envelope())),
        "notes": e.notes,
        "catalogue": e.catalogue,
    }


def _rules_json(rules: Any) -> dict[str, dict[str, Any]]:
    """Per funder: whether the line is eligible and the rule that decided it."""
    return {r.funder: {"eligible": r.eligible, "rule": r.rule} for r in rules}


def _owner_json(owner: Any, e: Estimate) -> dict[str, Any]:
    return {
        "kind": owner.kind,
        "code": owner.code,
        "name": owner.nom,
        "label": owner.label,
        "epci": owner.epci,
        "masts": list(owner.masts),
        "communes": list(owner.communes),
        "cameras": owner.cameras,
        "works_key": owner.works_key,
        "total_ht": owner.total_ht,
        "public_aid_cap_ht": owner.cap,
        "aids": [dataclasses.asdict(a) for a in owner.aids],
        "aids_ht": owner.aid_total,
        "own_share_ht": owner.own_share,
        "capped": owner.capped,
        "running_ht_per_year": e.running_by_owner.get((owner.kind, owner.code), 0.0),
        "notes": list(owner.notes),
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
