"""The application file of one project owner as a workbook a prefecture can read and recompute.

Sheets: ``caméras`` (its masts, where they stand in Lambert-93 and WGS84, model, cameras and
proposed purpose), ``plan de financement`` (cost HT, TVA, TTC, each funder's eligible base,
ceiling, rate and aid, the cap on public aid and the owner's share), ``calendrier`` (indicative
months) and ``avis du référent sûreté`` (framed fields to fill in by hand).

Every amount that is a sum or a product is a formula with the rounding of
``vigie.estimate.financing`` (``ROUND(…,2)`` where it calls ``money``), so LibreOffice's values
equal the JSON's to the cent and an edited rate carries through. Data goes through ``_text`` (text
stays text, however it starts), formulas through ``_formula`` only (``vigie.spreadsheet_safety``).
Workbook-level names (``cout_ht``, ``aide_fipd``, ``part_mo``…) point at the figures.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

from vigie.estimate.application import SCHEDULE_NOTE, Application
from vigie.estimate.financing import OWNER_LABELS
from vigie.spreadsheet_safety import xlsx_cell as _text
from vigie.spreadsheet_safety import xlsx_formula as _formula

MONEY = "#,##0.00"
SHARE = "0.0000%"
PERCENT = "0.00%"
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEAD_FILL = PatternFill("solid", fgColor="DDE7F0")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
THIN = Side(style="thin")
FRAME = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
FINANCE = "plan de financement"
SHEET = "'" + FINANCE + "'"
FUNDER_FIRST_ROW = 17


def application_workbook(app: Application) -> bytes:
    """The ``.xlsx`` file of one owner's application."""
    book = Workbook()
    book.remove(book.active)
    _cameras_sheet(book.create_sheet("caméras"), app)
    names = _finance_sheet(book.create_sheet(FINANCE), app)
    _schedule_sheet(book.create_sheet("calendrier"), app)
    _opinion_sheet(book.create_sheet("avis du référent sûreté"), app)
    for name, ref in names.items():
        book.defined_names[name] = DefinedName(name, attr_text=ref)
    for sheet in book.worksheets:
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _header(ws: Worksheet, app: Application, title: str) -> None:
    owner = app.owner
    _text(ws, 1, 1, f"{title} — {owner.label}").font = TITLE
    _text(
        ws,
        2,
        1,
        f"Demande de subvention FIPD vidéoprotection — {app.call_title} ({app.call_year}). "
        f"Maître d'ouvrage : {OWNER_LABELS[owner.kind]} {owner.nom}, code {owner.code}.",
    )


def _head_row(ws: Worksheet, row: int, headers: tuple[str, ...]) -> None:
    for col, header in enumerate(headers, 1):
        cell = _text(ws, row, col, header)
        cell.font = BOLD
        cell.fill = HEAD_FILL
        cell.alignment = WRAP
        cell.border = FRAME


def _cameras_sheet(ws: Worksheet, app: Application) -> None:
    _header(ws, app, "Liste des caméras")
    _text(
        ws,
        3,
        1,
        "Emplacements en Lambert-93 (EPSG:2154, mètres) et en WGS84 (degrés décimaux). Adresse et "
        "finalité : à compléter ou confirmer par le porteur (finalités du CSI, art. L251-2).",
    )
    headers = (
        "Mât",
        "Commune (INSEE)",
        "Commune",
        "X Lambert-93 (m)",
        "Y Lambert-93 (m)",
        "Latitude WGS84",
        "Longitude WGS84",
        "Adresse ou lieu-dit (à compléter)",
        "Modèle de caméra",
        "Nombre de caméras",
        "Finalité proposée",
    )
    _head_row(ws, 5, headers)
    row = 6
    for site in app.sites:
        values = (
            site.mast_id,
            site.commune,
            site.commune_nom,
            site.x,
            site.y,
            site.lat,
            site.lon,
            "",
            site.model_label,
            site.cameras,
            site.purpose,
        )
        for col, value in enumerate(values, 1):
            cell = _text(ws, row, col, value)
            cell.border = FRAME
            cell.alignment = WRAP
        for col in (4, 5):
            ws.cell(row, col).number_format = "0.0"
        for col in (6, 7):
            ws.cell(row, col).number_format = "0.000000"
        row += 1
    _text(ws, row, 9, "Total des caméras").font = BOLD
    total = _formula(ws, row, 10, f"=SUM(J6:J{max(6, row - 1)})")
    total.font = BOLD
    _widths(ws, (16, 11, 24, 13, 13, 12, 12, 28, 40, 10, 70))
    ws.freeze_panes = "B6"


def _finance_sheet(ws: Worksheet, app: Application) -> dict[str, str]:
    """The owner's plan as formulas, row by row as ``financing.finance`` computes it."""
    _header(ws, app, "Plan de financement (montants HT sauf mention)")
    _text(
        ws,
        3,
        1,
        "Les taux sont sollicités, pas acquis : chaque financeur décide projet par projet, dans "
        "la limite de son taux maximal. Cellules modifiables : taux sollicités, plafonds.",
    )
    names = _costs(ws, app)
    aids_row, funder_names = _funders(ws, app)
    own_row, row = _resources(ws, app, aids_row)
    names.update(funder_names)
    names["aides"] = f"{SHEET}!$L${aids_row}"
    names["part_mo"] = f"{SHEET}!$B${own_row}"
    notes = [
        f"Plafond des aides publiques : {app.cap_source.strip()}",
        f"Appel à projets : {app.call_source.strip()}",
        "TVA : à la charge du maître d'ouvrage (récupérable selon les règles du FCTVA) ; les aides "
        "portent sur le coût HT.",
        *(f"{f.label} : {f.note}" for f in app.funders if f.note),
        *app.owner.notes,
    ]
    for i, note in enumerate(notes, row + 2):
        _text(ws, i, 1, note)
    _widths(ws, (62, 18, 18, 14, 16, 18, 16, 16, 11, 13, 16, 18, 11))
    return names


def _costs(ws: Worksheet, app: Application) -> dict[str, str]:
    """Rows 5 to 14: the owner's cost HT, TVA, TTC, the cap on public aid, its cameras."""
    rows: tuple[tuple[str, float | str, str], ...] = (
        ("Coût total du projet, tous maîtres d'ouvrage (HT)", app.project_ht, MONEY),
        (
            "Clé du maître d'ouvrage (sa part des travaux ; l'AMO suit la même clé)",
            app.owner.works_key,
            SHARE,
        ),
        ("Coût de l'opération du maître d'ouvrage HT", "=ROUND(B6*B5,2)", MONEY),
        ("Taux de TVA (%)", app.vat_rate, "0.00"),
        ("TVA", "=ROUND(B7*B8/100,2)", MONEY),
        ("Coût de l'opération TTC", "=B7+B9", MONEY),
        ("Plafond des aides publiques (% du coût HT, CGCT L1111-10)", app.cap_percent, "0.00"),
        ("Plafond des aides publiques HT", "=ROUND(B7*B11/100,2)", MONEY),
        ("Nombre de caméras", app.owner.cameras, "0"),
        ("Coûts d'exploitation HT par an (non éligibles, pour mémoire)", app.running_ht, MONEY),
    )
    for i, (label, value, fmt) in enumerate(rows, 5):
        _text(ws, i, 1, label)
        write = _formula if isinstance(value, str) else _text
        write(ws, i, 2, value).number_format = fmt
    for r in (7, 10, 12):
        ws.cell(r, 1).font = BOLD
        ws.cell(r, 2).font = BOLD
    return {
        "cout_ht": f"{SHEET}!$B$7",
        "tva": f"{SHEET}!$B$9",
        "cout_ttc": f"{SHEET}!$B$10",
        "plafond_aides": f"{SHEET}!$B$12",
    }


FUNDER_HEADERS = (
    "Financeur",
    "Sollicitable par ce maître d'ouvrage",
    "Dépenses éligibles du projet HT",
    "Clé du maître d'ouvrage",
    "Base éligible HT",
    "Plafond de dépense par caméra (modifiable)",
    "Plafond de la base",
    "Base retenue HT",
    "Taux maximal (%)",
    "Taux sollicité (%, modifiable)",
    "Aide sollicitée HT",
    "Aide après plafond des aides publiques",
    "Part du coût HT",
)


def _funders(ws: Worksheet, app: Application) -> tuple[int, dict[str, str]]:
    """One row per funder, in the call's order (the cap cuts the last ones); their total row."""
    title = "Financeurs, dans l'ordre de l'appel (le plafond des aides réduit les derniers)"
    _text(ws, FUNDER_FIRST_ROW - 2, 1, title).font = BOLD
    _head_row(ws, FUNDER_FIRST_ROW - 1, FUNDER_HEADERS)
    names = {}
    r = FUNDER_FIRST_ROW
    for funder in app.funders:
        _text(ws, r, 1, funder.label)
        _text(ws, r, 2, "oui" if funder.applies else "non")
        _text(ws, r, 3, funder.eligible_total).number_format = MONEY
        _text(ws, r, 4, funder.share).number_format = SHARE
        _formula(ws, r, 5, f"=ROUND(D{r}*C{r},2)")
        if funder.ceiling_per_camera is not None:
            _text(ws, r, 6, funder.ceiling_per_camera)
        _formula(ws, r, 7, f'=IF(F{r}="","",ROUND(F{r}*$B$13,2))')
        _formula(ws, r, 8, f'=IF(B{r}="non",0,IF(G{r}="",E{r},MIN(E{r},G{r})))')
        _text(ws, r, 9, funder.max_rate)
        _text(ws, r, 10, funder.rate)
        _formula(ws, r, 11, f"=ROUND(H{r}*J{r}/100,2)")
        before = f"SUM(L${FUNDER_FIRST_ROW}:L{r - 1})" if r > FUNDER_FIRST_ROW else "0"
        _formula(ws, r, 12, f"=MIN(K{r},MAX(0,ROUND($B$12-{before},2)))")
        _formula(ws, r, 13, f"=IF($B$7=0,0,L{r}/$B$7)").number_format = PERCENT
        for col in (5, 6, 7, 8, 11, 12):
            ws.cell(r, col).number_format = MONEY
        for col in range(1, 14):
            ws.cell(r, col).border = FRAME
        names[f"base_{funder.key}"] = f"{SHEET}!$H${r}"
        names[f"demande_{funder.key}"] = f"{SHEET}!$K${r}"
        names[f"aide_{funder.key}"] = f"{SHEET}!$L${r}"
        r += 1
    _text(ws, r, 1, "Total des aides publiques").font = BOLD
    for col, letter in ((11, "K"), (12, "L")):
        cell = _formula(ws, r, col, f"=SUM({letter}{FUNDER_FIRST_ROW}:{letter}{r - 1})")
        cell.font, cell.number_format = BOLD, MONEY
    _formula(ws, r, 13, f"=IF($B$7=0,0,L{r}/$B$7)").number_format = PERCENT
    return r, names


def _resources(ws: Worksheet, app: Application, aids_row: int) -> tuple[int, int]:
    """Resources equal to the cost: each aid, the owner's own share; the 20 % check."""
    row = aids_row + 2
    _text(ws, row, 1, "Plan de financement (ressources = dépenses)").font = BOLD
    _head_row(ws, row + 1, ("Ressource", "Montant HT", "Part du coût HT"))
    row += 2
    first = row
    for i, funder in enumerate(app.funders):
        _text(ws, row, 1, funder.label)
        _formula(ws, row, 2, f"=L{FUNDER_FIRST_ROW + i}").number_format = MONEY
        _formula(ws, row, 3, f"=IF($B$7=0,0,B{row}/$B$7)").number_format = PERCENT
        row += 1
    own_row = row
    _text(ws, row, 1, "Autofinancement du maître d'ouvrage").font = BOLD
    own = _formula(ws, row, 2, f"=B7-L{aids_row}")
    own.font, own.number_format = BOLD, MONEY
    _formula(ws, row, 3, f"=IF($B$7=0,0,B{row}/$B$7)").number_format = PERCENT
    row += 1
    _text(ws, row, 1, "Total des ressources HT (égal au coût HT)").font = BOLD
    total = _formula(ws, row, 2, f"=SUM(B{first}:B{own_row})")
    total.font, total.number_format = BOLD, MONEY
    for r in range(first, row + 1):
        for col in (1, 2, 3):
            ws.cell(r, col).border = FRAME
    row += 2
    _text(ws, row, 1, "Participation minimale du maître d'ouvrage (CGCT L1111-10) respectée")
    minimum = f'=IF(B{own_row}>=ROUND(B7*(100-B11)/100,2)-0.005,"oui","non")'
    _formula(ws, row, 2, minimum).font = BOLD
    return own_row, row


def _schedule_sheet(ws: Worksheet, app: Application) -> None:
    _header(ws, app, "Calendrier prévisionnel INDICATIF")
    _text(ws, 3, 1, SCHEDULE_NOTE)
    _head_row(ws, 5, ("Phase", "Durée (mois, modifiable)", "Début (mois)", "Fin (mois)"))
    first = 6
    for i, step in enumerate(app.schedule):
        r = first + i
        _text(ws, r, 1, step.label)
        _text(ws, r, 2, step.months)
        if step.after is not None:
            _formula(ws, r, 3, f"=D{first + step.after}+1")
        elif step.alongside is not None:
            _formula(ws, r, 3, f"=C{first + step.alongside}")
        else:
            _text(ws, r, 3, step.start)
        _formula(ws, r, 4, f"=C{r}+B{r}-1")
        for col in range(1, 5):
            ws.cell(r, col).border = FRAME
    r = first + len(app.schedule) + 1
    _text(ws, r, 1, "Mois comptés à partir du lancement de l'opération (mois 1).")
    _widths(ws, (80, 16, 14, 12))


def _opinion_sheet(ws: Worksheet, app: Application) -> None:
    _header(ws, app, "Avis du référent sûreté et engagement du porteur")
    row = 4
    row = _frame(
        ws,
        row,
        "Avis du référent sûreté (police nationale ou gendarmerie nationale)",
        (
            "Avis (favorable, réservé, défavorable) et observations",
            "Nom, grade et service",
            "Date",
            "Signature",
        ),
        opinion_rows=8,
    )
    _frame(
        ws,
        row + 1,
        "Engagement du porteur de projet",
        (
            f"Maître d'ouvrage : {OWNER_LABELS[app.owner.kind]} {app.owner.nom}",
            "Délibération approuvant l'opération et le plan de financement (n° et date)",
            "Nom et qualité du signataire",
            "Date",
            "Signature et cachet",
        ),
        opinion_rows=1,
    )
    _widths(ws, (50, 30, 30, 30))


def _frame(
    ws: Worksheet, row: int, title: str, fields: tuple[str, ...], *, opinion_rows: int
) -> int:
    """A framed block: a title, then a label and an empty merged field per line."""
    _text(ws, row, 1, title).font = BOLD
    row += 1
    for i, label in enumerate(fields):
        height = opinion_rows if i == 0 else 2 if label.startswith("Signature") else 1
        _text(ws, row, 1, label).alignment = WRAP
        ws.merge_cells(start_row=row, start_column=2, end_row=row + height - 1, end_column=4)
        for r in range(row, row + height):
            for col in range(1, 5):
                ws.cell(r, col).border = FRAME
        row += height
    return row


def _widths(ws: Worksheet, widths: tuple[int, ...]) -> None:
    for i, width in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = width
