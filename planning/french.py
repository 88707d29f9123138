"""Numbers as a French reader writes them: ``472 587 €``, ``3,28 km``, ``13 %``.

One helper for every figure French users read outside a spreadsheet (the CLI's summaries, the
plan's map, the notes of the estimate), so that none of them shows ``472,587`` or ``3.28``. The
thousands are grouped with a narrow no-break space (U+202F) and the decimals follow a comma, as
in the CLDR's French locale, which the dashboard's ``Intl.NumberFormat("fr-FR")`` also follows; a
no-break space (U+00A0) joins a number to its unit so that a line never breaks between them.
"""

from __future__ import annotations

__all__ = ["NBSP", "NNBSP", "euros", "number", "percent", "with_unit"]

NNBSP = "\u202f"
"""Narrow no-break space: between groups of thousands."""
NBSP = "\u00a0"
"""No-break space: between a number and its unit."""


def number(value: float, digits: int = 0, *, trim: bool = False) -> str:
    """``value`` with ``digits`` decimals, French style: ``number(1234567.891, 2)`` is
    ``1 234 567,89``; ``trim`` drops trailing zeros (``2,50`` -> ``2,5``, ``3,00`` -> ``3``)."""
    text = f"{value:,.{digits}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    if text.lstrip("-").strip("0.,") == "":  # -0.001 rounded: no "-0"
        text = text.lstrip("-")
    return text.replace(",", NNBSP).replace(".", ",")


def with_unit(value: float, unit: str, digits: int = 0, *, trim: bool = False) -> str:
    """``with_unit(3281.5, "km", 1)`` is ``3 281,5 km``, unbreakable before the unit."""
    return f"{number(value, digits, trim=trim)}{NBSP}{unit}"


def euros(value: float, suffix: str = "", digits: int = 0) -> str:
    """``euros(472587.4, "HT")`` is ``472 587 € HT``: whole euros unless ``digits`` says."""
    return with_unit(value, f"€{NBSP}{suffix}" if suffix else "€", digits)


def percent(value: float, digits: int = 0, *, trim: bool = True) -> str:
    """``percent(13)`` is ``13 %`` and ``percent(0.5, 2)`` ``0,5 %``: ``value`` is already a
    percentage (multiply a share by 100 first)."""
    return with_unit(value, "%", digits, trim=trim)
