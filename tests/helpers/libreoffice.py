"""A real spreadsheet engine for the workbooks' formulas: LibreOffice, headless.

The workbooks hold formulas only; LibreOffice computes them on opening and saves the values,
which the tests compare with the JSON of the same estimate. `.ci/run` installs LibreOffice.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def recalculate_all(workbooks: list[Path], tmp_path: Path) -> dict[Path, openpyxl.Workbook]:
    """Open each workbook in LibreOffice (one run), save it again, and read the computed values."""
    assert SOFFICE, "LibreOffice is missing: .ci/run installs libreoffice-calc-nogui"
    out = tmp_path / "recalculated"
    profile = tmp_path / "lo-profile"
    result = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--calc",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            *map(str, workbooks),
        ],
        capture_output=True,
        text=True,
        timeout=120 + 30 * len(workbooks),
    )
    books = {}
    for workbook in workbooks:
        converted = out / workbook.name
        assert converted.is_file(), result.stdout + result.stderr
        books[workbook] = openpyxl.load_workbook(converted, data_only=True)
    return books


def recalculate(workbook: Path, tmp_path: Path) -> openpyxl.Workbook:
    """Open ``workbook`` in LibreOffice, save it again as XLSX, and read the computed values."""
    return recalculate_all([workbook], tmp_path)[workbook]


def named(book: openpyxl.Workbook, name: str):
    """The value of a workbook-level name (a single cell)."""
    sheet, ref = next(iter(book.defined_names[name].destinations))
    sheet = sheet.replace("''", "'")  # openpyxl leaves a quoted title's apostrophes doubled
    return book[sheet][ref.replace("$", "")].value
