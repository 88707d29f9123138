"""Amounts rounded as the workbook's formulas round them, so the JSON and the sheet agree."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def money(value: float) -> float:
    """Round to the cent, half away from zero, as the spreadsheet's ROUND does."""
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
