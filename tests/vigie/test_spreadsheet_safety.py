"""The one rule of every CSV and XLSX export: text never becomes a formula."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from vigie.spreadsheet_safety import (
    csv_cell,
    csv_record,
    csv_row,
    restore,
    xlsx_cell,
    xlsx_formula,
)


@pytest.mark.parametrize(
    "text", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", "\n=1", "'=1", "'plain"]
)
def test_csv_quotes_formula_starts_reversibly(text: str) -> None:
    assert csv_cell(text) == "'" + text
    assert restore(csv_cell(text)) == text


@pytest.mark.parametrize("value", ["Évreux", "L'Aigle", "a=b", "", -3.5, 0, None, True])
def test_csv_leaves_plain_text_and_numbers_alone(value: object) -> None:
    assert csv_cell(value) == value
    if isinstance(value, str):
        assert restore(value) == value


def test_csv_rows_and_records() -> None:
    assert csv_row(["=x", 1]) == ["'=x", 1]
    assert csv_record({"a": "@x", "b": "y"}) == {"a": "'@x", "b": "y"}


def test_xlsx_text_stays_text_and_formulas_are_only_ours() -> None:
    book = Workbook()
    sheet = book.active
    xlsx_cell(sheet, 1, 1, '=HYPERLINK("http://x")')
    xlsx_cell(sheet, 1, 2, "plain")
    xlsx_cell(sheet, 1, 3, 2.5)
    xlsx_formula(sheet, 1, 4, "=A3*2")
    with pytest.raises(ValueError, match="not a formula"):
        xlsx_formula(sheet, 1, 5, "A3*2")
    buffer = io.BytesIO()
    book.save(buffer)
    row = next(load_workbook(buffer).active.iter_rows())
    assert [(c.value, c.data_type) for c in row[:4]] == [
        ('=HYPERLINK("http://x")', "s"),
        ("plain", "s"),
        (2.5, "n"),
        ("=A3*2", "f"),
    ]
    assert row[0].quotePrefix and not row[1].quotePrefix
