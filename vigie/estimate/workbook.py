"""The DQE workbook an AMO puts in a tender file: French labels, amounts as formulas.

Sheets: ``DQE`` (lines in lots, subtotals, AMO, total HT, TVA, TTC), ``financement`` (summary by
lot with a chart, FIPD subsidy, the rest split between intercommunalities and communes, per
intercommunality), ``par commune``, ``hypothèses et sources`` (how each quantity was measured, the
price schedule with years and sources, notes) and, with several plans, ``comparaison`` with one
``DQE n`` sheet per plan. Every amount is a formula over the quantities and unit prices, so an
edited quantity, price or rate carries through to every total; the cached values are left to the
spreadsheet (LibreOffice and Excel compute them on opening).

Data (plan paths, commune names, designations, notes naming mast ids, the price file's labels
and sources) is written with ``_text``, which keeps text as text however it starts; formulas only
with ``_formula``, from strings this module builds (``vigie.spreadsheet_safety``).

Workbook-level names point at the totals of the first plan (``total_ht``, ``tva``, ``total_ttc``,
``fipd``…), for readers and tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.chart import PieChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

from vigie.estimate.dqe import AMO_LOT, Estimate
from vigie.spreadsheet_safety import xlsx_cell as _text
from vigie.spreadsheet_safety import xlsx_formula as _formula

MONEY = "#,##0.00"
QUANTITY = "#,##0.0"
COUNT = "#,##0"
SHARE = "0.00%"
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
LOT_FILL = PatternFill("solid", fgColor="DDE7F0")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
HEADERS = (
    "N° prix",
    "Désignation",
    "Unité",
    "Quantité",
    "Prix unitaire HT (€)",
    "Montant HT (€)",
    "Éligible FIPD",
)
FIRST_LINE_ROW = 6
RUNNING_SHEET = "Coûts d'exploitation"
COLUMNS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass
class _DqeCells:
    """Where a DQE sheet put its totals (absolute references, sheet included)."""

    sheet: str
    last_row: int = 0
    lots: dict[str, str] = field(default_factory=dict)
    works: str = ""
    amo: str = ""
    total_ht: str = ""
    vat: str = ""
    total_ttc: str = ""
    line_rows: list[int] = field(default_factory=list)
    """The row of each line of the lots, in the order of ``Estimate.lines``."""

    @property
    def vat_rate(self) -> str:
        """The TVA rate: column D of the TVA row."""
        return self.vat.replace("!$F$", "!$D$")

    def eligible_formula(self) -> str:
        rows = f"{FIRST_LINE_ROW}:$G${self.last_row}"
        return (
            f'SUMIF({self.sheet}!$G${rows},"oui",'
            f"{self.sheet}!$F${FIRST_LINE_ROW}:$F${self.last_row})"
        )


def build_workbook(estimates: list[Estimate]) -> Workbook:
    """The workbook of one plan, or of several side by side (the first one is financed)."""
    book = Workbook()
    book.remove(book.active)
    several = len(estimates) > 1
    cells = []
    for i, estimate in enumerate(estimates, 1):
        sheet = book.create_sheet(f"DQE {i}" if several else "DQE")
        cells.append(_dqe_sheet(sheet, estimate, title_suffix=f" — plan {i}" if several else ""))
    first = estimates[0]
    finance = book.create_sheet("financement")
    communes = book.create_sheet("par commune")
    rates = _finance_sheet(finance, first, cells[0], communes_sheet="'par commune'")
    _communes_sheet(communes, first, cells[0], rates)
    running = _running_sheet(book.create_sheet(RUNNING_SHEET), first, cells[0])
    years = first.running.horizon_years
    tco = _tco_sheet(book.create_sheet(f"Coût complet sur {years} ans"), first, cells[0], running)
    if several:
        _comparison_sheet(book.create_sheet("comparaison"), estimates, cells, rates)
    _assumptions_sheet(book.create_sheet("hypothèses et sources"), estimates)
    names = {
        **{f"lot_{n}_ht": ref for n, ref in cells[0].lots.items()},
        "works_ht": cells[0].works,
        "amo_ht": cells[0].amo,
        "total_ht": cells[0].total_ht,
        "tva": cells[0].vat,
        "total_ttc": cells[0].total_ttc,
        **rates.names,
        **running.names,
        **tco,
    }
    for name, ref in names.items():
        book.defined_names[name] = DefinedName(name, attr_text=ref)
    for sheet in book.worksheets:  # printed as AMOs file them: landscape, one page wide
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
    return book


def _ref(sheet: str, column: str, row: int) -> str:
    return f"{sheet}!${column}${row}"


def _quoted(title: str) -> str:
    """A sheet title as formulas name it (quoted, its apostrophes doubled)."""
    return "'" + title.replace("'", "''") + "'"


def _dqe_sheet(ws: Worksheet, estimate: Estimate, *, title_suffix: str) -> _DqeCells:
    cells = _DqeCells(sheet=ws.title if " " not in ws.title else f"'{ws.title}'")
    _text(ws, 1, 1, f"Détail quantitatif estimatif (DQE){title_suffix}").font = TITLE
    _text(ws, 2, 1, f"Plan : {estimate.source}")
    intro = (
        "Montants en euros hors taxes. Les montants sont des formules : modifier une quantité, "
        "un prix ou un taux met à jour les totaux, le financement et la répartition par commune."
    )
    _text(ws, 3, 1, intro)
    for col, header in enumerate(HEADERS, 1):
        _text(ws, 5, col, header).font = BOLD
    row = FIRST_LINE_ROW
    subtotals = []
    for lot in estimate.lots:
        _lot_row(ws, row, lot.title)
        row += 1
        first = row
        for line in lot.lines:
            cells.line_rows.append(row)
            _line_row(ws, row, line.number, line.designation, unit=line.unit, qty=line.quantity)
            _priced_cells(ws, row, line.unit_price, eligible=line.fipd_eligible)
            row += 1
        _total_row(ws, row, f"Sous-total {lot.title}", f"=SUM(F{first}:F{max(first, row - 1)})")
        cells.lots[lot.number] = _ref(cells.sheet, "F", row)
        subtotals.append(row)
        row += 2
    _total_row(
        ws, row, "Total des travaux HT (lots 1 à 3)", "=" + "+".join(f"F{r}" for r in subtotals)
    )
    works_row = row
    cells.works = _ref(cells.sheet, "F", row)
    row += 2
    _lot_row(ws, row, AMO_LOT[1])
    row += 1
    amo = estimate.amo
    _line_row(ws, row, amo.number, amo.designation, unit="%", qty=amo.quantity)
    _formula(ws, row, 5, f"=F{works_row}").number_format = MONEY
    _formula(ws, row, 6, f"=ROUND(D{row}*E{row}/100,2)").number_format = MONEY
    _text(ws, row, 7, "oui" if amo.fipd_eligible else "non")
    amo_row = row
    cells.amo = _ref(cells.sheet, "F", row)
    cells.last_row = row
    row += 2
    _total_row(ws, row, "Total HT", f"=F{works_row}+F{amo_row}")
    ht_row = row
    cells.total_ht = _ref(cells.sheet, "F", row)
    row += 1
    _text(ws, row, 2, "TVA")
    _text(ws, row, 3, "%")
    _text(ws, row, 4, estimate.vat_rate)
    _formula(ws, row, 5, f"=F{ht_row}").number_format = MONEY
    _formula(ws, row, 6, f"=ROUND(D{row}*E{row}/100,2)").number_format = MONEY
    cells.vat = _ref(cells.sheet, "F", row)
    row += 1
    _total_row(ws, row, "Total TTC", f"=F{ht_row}+F{row - 1}")
    cells.total_ttc = _ref(cells.sheet, "F", row)
    _widths(ws, {"A": 9, "B": 78, "C": 7, "D": 13, "E": 20, "F": 18, "G": 13})
    ws.freeze_panes = "A6"
    return cells


def _priced_cells(ws: Worksheet, row: int, price: float, *, eligible: bool) -> None:
    _text(ws, row, 5, price).number_format = MONEY
    _formula(ws, row, 6, f"=ROUND(D{row}*E{row},2)").number_format = MONEY
    _text(ws, row, 7, "oui" if eligible else "non")


def _lot_row(ws: Worksheet, row: int, title: str) -> None:
    _text(ws, row, 1, title).font = BOLD
    for col in range(1, 8):
        ws.cell(row, col).fill = LOT_FILL


def _line_row(ws: Worksheet, row: int, number: str, label: str, *, unit: str, qty: float) -> None:
    _text(ws, row, 1, number)
    _text(ws, row, 2, label).alignment = Alignment(wrap_text=True)
    _text(ws, row, 3, unit)
    _text(ws, row, 4, qty).number_format = QUANTITY if unit == "m" else COUNT


def _total_row(ws: Worksheet, row: int, label: str, formula: str) -> None:
    _text(ws, row, 2, label).font = BOLD
    cell = _formula(ws, row, 6, formula)
    cell.font = BOLD
    cell.number_format = MONEY
    for col in range(1, 8):
        ws.cell(row, col).fill = TOTAL_FILL


def _widths(ws: Worksheet, widths: dict[str, float]) -> None:
    for column, width in widths.items():
        ws.column_dimensions[column].width = width


@dataclass
class _Rates:
    """Cells of the financing sheet other sheets refer to."""

    fipd_rate: str
    epci_share: str
    fipd: str
    names: dict[str, str]


def _finance_sheet(
    ws: Worksheet, estimate: Estimate, dqe: _DqeCells, *, communes_sheet: str
) -> _Rates:
    _text(ws, 1, 1, "Plan de financement (montants HT)").font = TITLE
    _text(ws, 2, 1, f"Plan : {estimate.source}")
    for col, header in enumerate(("Poste", "Montant HT (€)", "Part du total HT"), 1):
        _text(ws, 4, col, header).font = BOLD
    posts = [(lot.title, dqe.lots[lot.number]) for lot in estimate.lots]
    posts.append((AMO_LOT[1], dqe.amo))
    for i, (title, ref) in enumerate(posts):
        row = 5 + i
        _text(ws, row, 1, title)
        _formula(ws, row, 2, f"={ref}").number_format = MONEY
        _formula(ws, row, 3, f"=IF($B${5 + len(posts)}=0,0,B{row}/$B${5 + len(posts)})")
        ws.cell(row, 3).number_format = SHARE
    total_row = 5 + len(posts)
    _text(ws, total_row, 1, "Total HT").font = BOLD
    _formula(ws, total_row, 2, f"={dqe.total_ht}").number_format = MONEY

    ws.add_chart(_breakdown_chart(ws, first_row=5, last_row=total_row - 1), "E4")

    row = total_row + 2
    _text(ws, row, 1, "Paramètres (modifiables)").font = BOLD
    _text(ws, row + 1, 1, "Taux de subvention FIPD sur les dépenses éligibles (%)")
    _text(ws, row + 1, 2, estimate.fipd_rate)
    _text(ws, row + 2, 1, "Part du reste à charge portée par l'intercommunalité (%)")
    _text(ws, row + 2, 2, estimate.epci_share)
    fipd_rate, epci_share = f"financement!$B${row + 1}", f"financement!$B${row + 2}"

    row += 4
    _text(ws, row, 1, "Financement").font = BOLD
    lines = [
        ("Dépenses éligibles au FIPD HT", f"={dqe.eligible_formula()}", "eligible_ht"),
        ("Subvention FIPD (État)", f"=ROUND(B{row + 1}*{fipd_rate}/100,2)", "fipd"),
        ("Reste à charge HT", f"=B{total_row}-B{row + 2}", "rest_ht"),
        ("dont intercommunalités", f"=ROUND(B{row + 3}*{epci_share}/100,2)", "epci_part"),
        ("dont communes", f"=B{row + 3}-B{row + 4}", "commune_part"),
        ("TVA (avancée par les acheteurs, FCTVA)", f"={dqe.vat}", None),
        ("Total TTC", f"={dqe.total_ttc}", None),
    ]
    names = {}
    for i, (label, formula, name) in enumerate(lines, 1):
        _text(ws, row + i, 1, label)
        _formula(ws, row + i, 2, formula).number_format = MONEY
        _formula(ws, row + i, 3, f"=IF($B${total_row}=0,0,B{row + i}/$B${total_row})")
        ws.cell(row + i, 3).number_format = SHARE
        if name:
            names[name] = f"financement!$B${row + i}"
    fipd = names["fipd"]

    _epci_table(ws, estimate, row + len(lines) + 2, communes_sheet=communes_sheet)
    _widths(ws, {"A": 58, "B": 18, "C": 18, "D": 20, "E": 20, "F": 22, "G": 18})
    return _Rates(fipd_rate=fipd_rate, epci_share=epci_share, fipd=fipd, names=names)


def _breakdown_chart(ws: Worksheet, *, first_row: int, last_row: int) -> PieChart:
    chart = PieChart()
    chart.title = "Répartition du coût HT"
    # the header row above the data names the series
    chart.add_data(
        Reference(ws, min_col=2, min_row=first_row - 1, max_row=last_row), titles_from_data=True
    )
    chart.set_categories(Reference(ws, min_col=1, min_row=first_row, max_row=last_row))
    chart.dataLabels = DataLabelList()
    chart.dataLabels.showPercent = True
    for flag in ("showVal", "showCatName", "showSerName", "showLegendKey"):
        setattr(chart.dataLabels, flag, False)
    chart.height, chart.width = 9, 16
    return chart


def _epci_table(ws: Worksheet, estimate: Estimate, row: int, *, communes_sheet: str) -> None:
    """Per intercommunality: sums of the per-commune sheet (formulas, so edits carry)."""
    _text(ws, row, 1, "Par intercommunalité").font = BOLD
    headers = (
        "EPCI (SIREN)",
        "Communes",
        "Montant HT (€)",
        "Subvention FIPD (€)",
        "Reste à charge HT (€)",
        "Part intercommunalité (€)",
        "Part communes (€)",
    )
    for col, header in enumerate(headers, 1):
        _text(ws, row + 1, col, header).font = BOLD
    epcis = sorted({c.epci for c in estimate.communes})
    n = len(estimate.communes)
    first, last = 4, 3 + n
    for i, epci in enumerate(epcis, row + 2):
        _text(ws, i, 1, epci)
        _formula(ws, i, 2, f"=COUNTIF({communes_sheet}!$C${first}:$C${last},A{i})")
        for col, source in zip("CDEFG", "HIJKL", strict=True):
            formula = (
                f"=SUMIF({communes_sheet}!$C${first}:$C${last},$A{i},"
                f"{communes_sheet}!${source}${first}:${source}${last})"
            )
            _formula(ws, i, COLUMNS.index(col) + 1, formula).number_format = MONEY


def _communes_sheet(ws: Worksheet, estimate: Estimate, dqe: _DqeCells, rates: _Rates) -> None:
    _text(ws, 1, 1, "Répartition par commune (là où les mâts sont implantés)").font = TITLE
    intro = (
        "Clé des travaux : part de chaque commune dans les lignes du DQE (équipements de ses "
        "mâts, part de ses mâts dans les tranchées et câbles partagés). L'AMO suit la même clé. "
        "Chaque montant est arrondi au centime : les sommes peuvent différer de quelques "
        "centimes des totaux de la feuille financement."
    )
    _text(ws, 2, 1, intro)
    headers = (
        "Code INSEE",
        "Commune",
        "EPCI (SIREN)",
        "Mâts",
        "Caméras",
        "Clé travaux",
        "Clé FIPD",
        "Montant HT (€)",
        "Subvention FIPD (€)",
        "Reste à charge HT (€)",
        "Part intercommunalité (€)",
        "Part commune (€)",
    )
    for col, header in enumerate(headers, 1):
        _text(ws, 3, col, header).font = BOLD
    row = 4
    for share in estimate.communes:
        values = (share.code, share.nom, share.epci, share.masts, share.cameras)
        for col, value in enumerate(values, 1):
            _text(ws, row, col, value)
        _text(ws, row, 6, share.works_key).number_format = SHARE
        _text(ws, row, 7, share.eligible_key).number_format = SHARE
        _formula(ws, row, 8, f"=ROUND(F{row}*{dqe.total_ht},2)")
        _formula(ws, row, 9, f"=ROUND(G{row}*{rates.fipd},2)")
        _formula(ws, row, 10, f"=H{row}-I{row}")
        _formula(ws, row, 11, f"=ROUND(J{row}*{rates.epci_share}/100,2)")
        _formula(ws, row, 12, f"=J{row}-K{row}")
        for col in range(8, 13):
            ws.cell(row, col).number_format = MONEY
        row += 1
    _text(ws, row, 2, "Total").font = BOLD
    for col in "DEFGHIJKL":
        cell = _formula(ws, row, COLUMNS.index(col) + 1, f"=SUM({col}4:{col}{row - 1})")
        cell.font = BOLD
        cell.number_format = SHARE if col in "FG" else MONEY
    ws.freeze_panes = "A4"
    _widths(
        ws, dict(zip("ABCDEFGHIJKL", (11, 30, 13, 7, 9, 12, 12, 16, 18, 18, 20, 16), strict=True))
    )


@dataclass
class _RunningCells:
    """Cells of the running-cost sheet other sheets refer to."""

    total: str
    ttc: str
    names: dict[str, str]


RUNNING_HEADERS = (
    "N°",
    "Désignation",
    "Propriétaire",
    "Unité",
    "Quantité",
    "Prix unitaire HT par an (€)",
    "Montant HT par an (€)",
    "Source du prix",
    "Estimation",
    "Mode de calcul",
)


def _running_sheet(ws: Worksheet, estimate: Estimate, dqe: _DqeCells) -> _RunningCells:
    """Yearly rents and leases, line by line, with the source of each price; HT, TVA, TTC."""
    running = estimate.running
    _text(ws, 1, 1, "Coûts d'exploitation annuels (loyers et locations)").font = TITLE
    _text(ws, 2, 1, f"Plan : {estimate.source}")
    intro = (
        "Montants par an en euros HT, hors investissement. Les loyers sont des ESTIMATIONS "
        "(aucune grille tarifaire publique trouvée) : remplacer les prix par ceux des offres "
        "réelles (Orange GC BLO, Enedis, opérateur du réseau d'initiative publique) ici, ou avec "
        "vigie plan --params pour que les tracés en tiennent compte."
    )
    _text(ws, 3, 1, intro)
    for col, header in enumerate(RUNNING_HEADERS, 1):
        _text(ws, 5, col, header).font = BOLD
    row = first = FIRST_LINE_ROW
    for line in running.lines:
        _text(ws, row, 1, line.number)
        _text(ws, row, 2, line.designation).alignment = Alignment(wrap_text=True)
        _text(ws, row, 3, line.owner)
        _text(ws, row, 4, line.unit)
        _text(ws, row, 5, line.quantity).number_format = QUANTITY
        _text(ws, row, 6, line.unit_price).number_format = MONEY
        _formula(ws, row, 7, f"=ROUND(E{row}*F{row},2)").number_format = MONEY
        _text(ws, row, 8, line.source)
        _text(ws, row, 9, "oui" if line.estimate else "non")
        _text(ws, row, 10, line.basis)
        row += 1
    if not running.lines:
        _text(ws, row, 2, "Aucun loyer ni location dans ce plan.")
        row += 1
    row += 1
    total_row = row
    _running_total(ws, row, "Total HT par an", f"=SUM(G{first}:G{max(first, row - 2)})")
    row += 1
    _text(ws, row, 2, "TVA")
    _text(ws, row, 4, "%")
    _formula(ws, row, 5, f"={dqe.vat_rate}")
    _formula(ws, row, 6, f"=G{total_row}").number_format = MONEY
    _formula(ws, row, 7, f"=ROUND(E{row}*F{row}/100,2)").number_format = MONEY
    row += 1
    _running_total(ws, row, "Total TTC par an", f"=G{total_row}+G{row - 1}")
    ttc_row = row
    row += 2
    _text(ws, row, 2, "Contrôle : total annuel du plan (summary.json, running_eur_per_year)")
    _text(ws, row, 7, running.plan_total).number_format = MONEY
    for note in running.notes:
        row += 1
        _text(ws, row, 2, note)
    _widths(ws, dict(zip("ABCDEFGHIJ", (7, 62, 22, 7, 13, 16, 18, 60, 11, 60), strict=True)))
    ws.freeze_panes = "A6"
    sheet = _quoted(ws.title)
    total, ttc = _ref(sheet, "G", total_row), _ref(sheet, "G", ttc_row)
    return _RunningCells(
        total=total, ttc=ttc, names={"running_ht_year": total, "running_ttc_year": ttc}
    )


def _running_total(ws: Worksheet, row: int, label: str, formula: str) -> None:
    _text(ws, row, 2, label).font = BOLD
    cell = _formula(ws, row, 7, formula)
    cell.font = BOLD
    cell.number_format = MONEY
    for col in range(1, 11):
        ws.cell(row, col).fill = TOTAL_FILL


def _tco_sheet(
    ws: Worksheet, estimate: Estimate, dqe: _DqeCells, running: _RunningCells
) -> dict[str, str]:
    """Investment plus N years of running costs, in total and per commune; then how the DQE's
    investment relates to the plan's own (``summary.json``)."""
    years = estimate.running.horizon_years
    _text(ws, 1, 1, f"Coût complet sur {years} ans (investissement et exploitation)").font = TITLE
    _text(ws, 2, 1, f"Plan : {estimate.source}")
    intro = (
        "Investissement : total du DQE (lots 1 à 3 et AMO). Exploitation : total annuel de la "
        "feuille « Coûts d'exploitation » multiplié par la durée, sans actualisation ni "
        "indexation des loyers (comme vigie plan)."
    )
    _text(ws, 3, 1, intro)
    _text(ws, 5, 1, "Durée (années, modifiable)").font = BOLD
    _text(ws, 5, 2, years)
    n = "$B$5"
    for col, header in enumerate(("Poste", "Montant HT (€)", "Montant TTC (€)"), 1):
        _text(ws, 7, col, header).font = BOLD
    _text(ws, 8, 1, "Investissement (DQE)")
    _formula(ws, 8, 2, f"={dqe.total_ht}")
    _formula(ws, 8, 3, f"={dqe.total_ttc}")
    _text(ws, 9, 1, "Coûts d'exploitation par an")
    _formula(ws, 9, 2, f"={running.total}")
    _formula(ws, 9, 3, f"={running.ttc}")
    _text(ws, 10, 1, "Coûts d'exploitation sur la durée")
    _formula(ws, 10, 2, f"=B9*{n}")
    _formula(ws, 10, 3, f"=C9*{n}")
    _text(ws, 11, 1, "Coût complet sur la durée").font = BOLD
    _formula(ws, 11, 2, "=B8+B10").font = BOLD
    _formula(ws, 11, 3, "=C8+C10").font = BOLD
    for row in range(8, 12):
        for col in (2, 3):
            ws.cell(row, col).number_format = MONEY
    sheet = _quoted(ws.title)
    names = {"horizon_years": _ref(sheet, "B", 5), "tco_ht": _ref(sheet, "B", 11)}

    row = 13
    _text(ws, row, 1, "Par commune (investissement : feuille « par commune »)").font = BOLD
    headers = (
        "Code INSEE",
        "Commune",
        "Investissement HT (€)",
        "Exploitation HT par an (€)",
        "Exploitation HT sur la durée (€)",
        "Coût complet HT (€)",
    )
    for col, header in enumerate(headers, 1):
        _text(ws, row + 1, col, header).font = BOLD
    first = row + 2
    for i, share in enumerate(estimate.communes):
        r = first + i
        _text(ws, r, 1, share.code)
        _text(ws, r, 2, share.nom)
        _formula(ws, r, 3, f"='par commune'!$H${4 + i}")
        _text(ws, r, 4, share.running_year)
        _commune_tco(ws, r, n)
    r = first + len(estimate.communes)
    _text(ws, r, 2, "Liens partagés non répartis et arrondis")
    _formula(ws, r, 3, f"={dqe.total_ht}-SUM(C{first}:C{r - 1})" if r > first else "=0")
    _formula(ws, r, 4, f"={running.total}-SUM(D{first}:D{r - 1})" if r > first else "=0")
    _commune_tco(ws, r, n)
    _text(ws, r + 1, 2, "Total").font = BOLD
    for col in "CDEF":
        cell = _formula(ws, r + 1, COLUMNS.index(col) + 1, f"=SUM({col}{first}:{col}{r})")
        cell.font = BOLD
        cell.number_format = MONEY
    for rr in range(first, r + 1):
        for col in (3, 4):
            ws.cell(rr, col).number_format = MONEY

    _reconciliation_block(ws, r + 3, estimate, dqe)
    _widths(ws, dict(zip("ABCDEF", (58, 30, 20, 22, 24, 60), strict=True)))
    return names


def _commune_tco(ws: Worksheet, row: int, years: str) -> None:
    _formula(ws, row, 5, f"=D{row}*{years}").number_format = MONEY
    _formula(ws, row, 6, f"=C{row}+E{row}").number_format = MONEY


def _reconciliation_block(ws: Worksheet, row: int, estimate: Estimate, dqe: _DqeCells) -> None:
    """The plan's investment (summary.json) post by post beside the DQE lines that price it."""
    _text(ws, row, 1, "Rapprochement avec l'investissement du plan (summary.json)").font = BOLD
    note = (
        "vigie plan chiffre le seul réseau fibre, avec ses propres paramètres, pour choisir les "
        "tracés ; le DQE chiffre tout le projet avec le bordereau des prix. Les deux totaux "
        "diffèrent donc ; voici pourquoi, poste par poste."
    )
    _text(ws, row + 1, 1, note)
    headers = ("Poste", "Plan HT (€)", "DQE HT (€)", "Écart DQE - plan (€)", "", "Pourquoi")
    for col, header in enumerate(headers, 1):
        if header:
            _text(ws, row + 2, col, header).font = BOLD
    first = row + 3
    for i, post in enumerate(estimate.reconciliation):
        r = first + i
        _text(ws, r, 1, post.label)
        _text(ws, r, 2, post.plan)
        cells = [f"{dqe.sheet}!$F${dqe.line_rows[k]}" for k in post.lines]
        _formula(ws, r, 3, "=" + ("+".join(cells) if cells else "0"))
        _formula(ws, r, 4, f"=C{r}-B{r}")
        _text(ws, r, 6, post.why)
    last = first + len(estimate.reconciliation) - 1
    r = last + 1
    _text(ws, r, 1, "Investissement du plan (totals.cost_eur) / lignes correspondantes du DQE")
    ws.cell(r, 1).font = BOLD
    if estimate.plan_cost is None:
        _text(ws, r, 2, "non renseigné")
    else:
        _text(ws, r, 2, estimate.plan_cost)
    _formula(ws, r, 3, f"=SUM(C{first}:C{max(first, last)})")
    _formula(ws, r, 4, f"=C{r}-N(B{r})")
    _text(ws, r + 1, 1, "Hors du plan : mâts, caméras, électricité, équipements, AMO")
    _formula(ws, r + 1, 3, f"={dqe.total_ht}-C{r}")
    _text(ws, r + 2, 1, "Total HT du DQE").font = BOLD
    _formula(ws, r + 2, 3, f"={dqe.total_ht}").font = BOLD
    for rr in range(first, r + 3):
        for col in (2, 3, 4):
            ws.cell(rr, col).number_format = MONEY


def _comparison_sheet(
    ws: Worksheet, estimates: list[Estimate], cells: list[_DqeCells], rates: _Rates
) -> None:
    _text(ws, 1, 1, "Comparaison des plans").font = TITLE
    _text(ws, 2, 1, "Montants HT; la subvention FIPD applique le taux de la feuille financement.")
    _text(ws, 4, 1, "Poste").font = BOLD
    for col, estimate in enumerate(estimates, 2):
        _text(ws, 4, col, f"Plan {col - 1} : {estimate.source}").font = BOLD
        ws.cell(4, col).alignment = Alignment(wrap_text=True)
    rows: list[tuple[str, list[str]]] = [
        (lot.title, [f"={c.lots[lot.number]}" for c in cells]) for lot in estimates[0].lots
    ]
    rows += [
        (AMO_LOT[1], [f"={c.amo}" for c in cells]),
        ("Total HT", [f"={c.total_ht}" for c in cells]),
        ("TVA", [f"={c.vat}" for c in cells]),
        ("Total TTC", [f"={c.total_ttc}" for c in cells]),
        (
            "Subvention FIPD",
            [f"=ROUND({c.eligible_formula()}*{rates.fipd_rate}/100,2)" for c in cells],
        ),
    ]
    for i, (label, formulas) in enumerate(rows, 5):
        _text(ws, i, 1, label)
        for col, formula in enumerate(formulas, 2):
            _formula(ws, i, col, formula).number_format = MONEY
    running_row = 5 + len(rows)  # each plan's own rents; the TCO follows its DQE's total
    _text(ws, running_row, 1, "Coûts d'exploitation HT par an")
    _text(ws, running_row + 1, 1, "Coût complet HT sur la durée de chaque plan")
    for col, (estimate, c) in enumerate(zip(estimates, cells, strict=True), 2):
        letter = COLUMNS[col - 1]
        _text(ws, running_row, col, estimate.running_ht).number_format = MONEY
        years = estimate.running.horizon_years
        tco = f"={c.total_ht}+{years}*{letter}{running_row}"
        _formula(ws, running_row + 1, col, tco).number_format = MONEY
    row = running_row + 3
    labels = {
        "masts": "Mâts",
        "masts_connected": "Mâts raccordés en fibre",
        "cameras": "Caméras",
        "new_trench_m": "Tranchée neuve (m)",
        "duct_m": "Tirage en fourreau existant (m)",
        "aerial_m": "Pose aérienne (m)",
        "cable_m": "Câble optique (m)",
    }
    for i, (key, label) in enumerate(labels.items(), row):
        _text(ws, i, 1, label)
        for col, estimate in enumerate(estimates, 2):
            _text(ws, i, col, estimate.figures.get(key, 0)).number_format = QUANTITY
    _widths(ws, {"A": 52, **{chr(ord("B") + i): 28 for i in range(len(estimates))}})


def _assumptions_sheet(ws: Worksheet, estimates: list[Estimate]) -> None:
    _text(ws, 1, 1, "Hypothèses et sources").font = TITLE
    intro = (
        "Prix en euros HT. « Estimation » : aucun chiffre public trouvé, valeur retenue par "
        "Vigie. Plusieurs chiffres publics datent d'environ 2010 : à remplacer par les prix des "
        "marchés en cours (vigie estimate --prices FICHIER)."
    )
    _text(ws, 2, 1, intro)
    row = 4
    _text(ws, row, 1, "Quantités : mode de calcul").font = BOLD
    row += 1
    for estimate in estimates:
        _text(ws, row, 1, f"Plan : {estimate.source}").font = BOLD
        row += 1
        for line in estimate.lines:
            _text(ws, row, 1, line.number)
            _text(ws, row, 2, line.designation)
            _text(ws, row, 3, line.basis)
            row += 1
        for note in estimate.notes:
            _text(ws, row, 2, note)
            row += 1
        row += 1
    _text(ws, row, 1, "Bordereau des prix unitaires et règles").font = BOLD
    row += 1
    headers = (
        "Clé",
        "Désignation",
        "Unité",
        "Prix HT (€) ou valeur",
        "Année",
        "Source",
        "Estimation",
        "Note",
        "Éligible FIPD",
    )
    for col, header in enumerate(headers, 1):
        _text(ws, row, col, header).font = BOLD
    for entry in estimates[0].catalogue:
        row += 1
        values = (
            entry["key"],
            entry["label"],
            entry["unit"],
            entry["price"],
            entry["year"],
            entry["source"],
            "oui" if entry["estimate"] else "non",
            entry["note"],
            "oui" if entry["fipd_eligible"] else "non",
        )
        for col, value in enumerate(values, 1):
            _text(ws, row, col, value)
    _widths(ws, dict(zip("ABCDEFGHI", (30, 70, 60, 14, 8, 70, 11, 60, 12), strict=True)))
