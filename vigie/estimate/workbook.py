"""The DQE workbook an AMO puts in a tender file: French labels, amounts as formulas.

Sheets: ``DQE`` (the works: lines in lots, subtotals, total HT, TVA, TTC, and per funder whether
each line is eligible), ``AMO`` (the AMO contract apart: rate of the works, phases and days),
``financement`` (the project by lot with a chart, the call's rates and ceilings as editable
cells, the eligible spending, the aid asked of each funder and the owners' share),
``par maître d'ouvrage`` (each commune's, EPCI's… plan: cost, base per funder, ceiling, aid asked,
cap on public aid, own share), ``éligibilité`` (every line, per funder, with the rule that
decided), the running costs, the N-year cost, ``hypothèses et sources`` and, with several plans,
``comparaison`` with one ``DQE n`` sheet per plan. Every amount is a formula over the quantities,
unit prices and rates, so an edited quantity, price or rate carries through to every total; the
cached values are left to the spreadsheet (LibreOffice and Excel compute them on opening).

Data (plan paths, commune names, designations, notes naming mast ids, the price file's labels
and sources) is written with ``_text``, which keeps text as text however it starts; formulas only
with ``_formula``, from strings this module builds (``vigie.spreadsheet_safety``).

Workbook-level names point at the totals of the first plan (``total_ht``, ``tva``, ``total_ttc``,
``fipd``, ``aid_detr``…), for readers and tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.chart import PieChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

from vigie.estimate.calls import CATEGORIES, Funder, category_of
from vigie.estimate.dqe import Estimate
from vigie.estimate.financing import OWNER_LABELS, LineRule, OwnerPlan
from vigie.estimate.programme import compare, load_envelope
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
)
FIRST_LINE_ROW = 6
RUNNING_SHEET = "Coûts d'exploitation"
OWNERS_SHEET = "par maître d'ouvrage"
AMO_SHEET = "AMO"
COLUMNS = [
    *"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    *(a + b for a in "AB" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
]
OWNER_FIRST_ROW = 6
OWNER_FUNDER_COLUMNS = 5
"""Per funder: key, base, base retained (ceiling), aid asked, aid after the cap."""


@dataclass
class _DqeCells:
    """Where a DQE sheet put its totals (absolute references, sheet included)."""

    sheet: str
    first_row: int = FIRST_LINE_ROW
    last_row: int = 0
    lots: dict[str, str] = field(default_factory=dict)
    works: str = ""
    vat: str = ""
    works_ttc: str = ""
    funder_columns: dict[str, str] = field(default_factory=dict)
    """Per funder key: the column saying ``oui`` where a line is eligible."""
    category_column: str = ""
    """The column of each line's spending category (``cameras``, ``genie_civil``…)."""
    line_rows: list[int] = field(default_factory=list)
    """The row of each line of the lots, in the order of ``Estimate.lines``."""

    @property
    def vat_rate(self) -> str:
        """The TVA rate: column D of the TVA row."""
        return self.vat.replace("!$F$", "!$D$")

    def category_formula(self, category: str) -> str:
        column = self.category_column
        return (
            f'SUMIF({self.sheet}!${column}${self.first_row}:${column}${self.last_row},"{category}",'
            f"{self.sheet}!$F${self.first_row}:$F${self.last_row})"
        )

    def eligible_formula(self, funder: str) -> str:
        column = self.funder_columns[funder]
        rows = f"{self.first_row}:${column}${self.last_row}"
        return (
            f'SUMIF({self.sheet}!${column}${rows},"oui",'
            f"{self.sheet}!$F${self.first_row}:$F${self.last_row})"
        )


@dataclass
class _AmoCells:
    amount: str
    vat: str
    ttc: str


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
    amo = _amo_sheet(book.create_sheet(AMO_SHEET), first, cells[0])
    finance = book.create_sheet("financement")
    owners = book.create_sheet(OWNERS_SHEET)
    rates = _finance_sheet(finance, first, cells[0], amo)
    _owners_sheet(owners, first, rates)
    _eligibility_sheet(book.create_sheet("éligibilité"), first)
    running = _running_sheet(book.create_sheet(RUNNING_SHEET), first, cells[0])
    years = first.running.horizon_years
    tco = _tco_sheet(
        book.create_sheet(f"Coût complet sur {years} ans"), first, cells[0], rates, running
    )
    programme = _programme_sheet(book.create_sheet("programme"), first, cells[0], amo)
    if several:
        _comparison_sheet(book.create_sheet("comparaison"), estimates, cells)
    _assumptions_sheet(book.create_sheet("hypothèses et sources"), estimates)
    names = {
        **{f"lot_{n}_ht": ref for n, ref in cells[0].lots.items()},
        "works_ht": cells[0].works,
        "works_ttc": cells[0].works_ttc,
        "amo_ht": amo.amount,
        "amo_ttc": amo.ttc,
        **rates.names,
        **running.names,
        **tco,
        **programme,
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
    cells = _DqeCells(sheet=_quoted(ws.title) if " " in ws.title else ws.title)
    _text(ws, 1, 1, f"Détail quantitatif estimatif (DQE) des travaux{title_suffix}").font = TITLE
    _text(ws, 2, 1, f"Plan : {estimate.source}")
    intro = (
        "Montants en euros hors taxes. Les montants sont des formules : modifier une quantité, "
        "un prix ou un taux met à jour les totaux, le financement et la répartition par maître "
        "d'ouvrage. L'AMO est un marché distinct (feuille AMO). Colonnes « Éligible » : selon "
        "l'appel à projets (feuille éligibilité pour la règle appliquée)."
    )
    _text(ws, 3, 1, intro)
    funders = estimate.financing.call.funders
    headers = (*HEADERS, *(f"Éligible {f.key.upper()}" for f in funders), "Catégorie")
    for col, header in enumerate(headers, 1):
        _text(ws, 5, col, header).font = BOLD
    cells.funder_columns = {f.key: COLUMNS[len(HEADERS) + i] for i, f in enumerate(funders)}
    cells.category_column = COLUMNS[len(HEADERS) + len(funders)]
    width = len(headers)
    eligibility = iter(estimate.financing.lines)
    row = FIRST_LINE_ROW
    subtotals = []
    for lot in estimate.lots:
        _lot_row(ws, row, lot.title, width)
        row += 1
        first = row
        for line in lot.lines:
            cells.line_rows.append(row)
            _line_row(ws, row, line.number, line.designation, unit=line.unit, qty=line.quantity)
            _text(ws, row, 5, line.unit_price).number_format = MONEY
            _formula(ws, row, 6, f"=ROUND(D{row}*E{row},2)").number_format = MONEY
            rules = next(eligibility)
            for i, funder in enumerate(funders):
                _text(
                    ws,
                    row,
                    len(HEADERS) + 1 + i,
                    "oui" if rules.eligible_for(funder.key) else "non",
                )
            _text(ws, row, len(HEADERS) + len(funders) + 1, rules.category)
            row += 1
        _total_row(
            ws, row, f"Sous-total {lot.title}", f"=SUM(F{first}:F{max(first, row - 1)})", width
        )
        cells.lots[lot.number] = _ref(cells.sheet, "F", row)
        subtotals.append(row)
        row += 2
    cells.last_row = row - 1
    _total_row(
        ws,
        row,
        "Total des travaux HT (lots 1 à 3)",
        "=" + "+".join(f"F{r}" for r in subtotals),
        width,
    )
    works_row = row
    cells.works = _ref(cells.sheet, "F", row)
    row += 1
    _text(ws, row, 2, "TVA")
    _text(ws, row, 3, "%")
    _text(ws, row, 4, estimate.vat_rate)
    _formula(ws, row, 5, f"=F{works_row}").number_format = MONEY
    _formula(ws, row, 6, f"=ROUND(D{row}*E{row}/100,2)").number_format = MONEY
    cells.vat = _ref(cells.sheet, "F", row)
    row += 1
    _total_row(ws, row, "Total des travaux TTC", f"=F{works_row}+F{row - 1}", width)
    cells.works_ttc = _ref(cells.sheet, "F", row)
    _widths(ws, {"A": 9, "B": 78, "C": 7, "D": 13, "E": 20, "F": 18})
    for i in range(len(funders)):
        ws.column_dimensions[COLUMNS[len(HEADERS) + i]].width = 13
    ws.freeze_panes = "A6"
    return cells


def _amo_sheet(ws: Worksheet, estimate: Estimate, dqe: _DqeCells) -> _AmoCells:
    """The AMO contract: a rate of the works, shown also as days per phase."""
    amo = estimate.amo
    _text(ws, 1, 1, "Assistance à maîtrise d'ouvrage (marché distinct des travaux)").font = TITLE
    intro = (
        "L'AMO est attribuée avant les travaux, par un marché à part : elle n'est pas un lot du "
        "DQE. Chiffrée en part des travaux (taux modifiable), et en jours par phase au prix de "
        "journée (modifiable). Études et AMO : non éligibles au FIPD (feuille éligibilité)."
    )
    _text(ws, 2, 1, intro)
    rows = (
        ("Montant des travaux HT (DQE, lots 1 à 3)", f"={dqe.works}", None),
        ("Taux de l'AMO (% des travaux, modifiable)", amo.rate, None),
        ("Montant de l'AMO HT", "=ROUND(B4*B5/100,2)", MONEY),
        ("TVA", f"=ROUND(B6*{dqe.vat_rate}/100,2)", MONEY),
        ("Montant de l'AMO TTC", "=B6+B7", MONEY),
    )
    for i, (label, value, fmt) in enumerate(rows, 4):
        _text(ws, i, 1, label)
        cell = _formula(ws, i, 2, value) if isinstance(value, str) else _text(ws, i, 2, value)
        cell.number_format = fmt or (MONEY if i == 4 else "0.0")
    _text(ws, 9, 1, f"Source du taux : {amo.source}")
    _text(ws, 11, 1, "Prix de journée HT (modifiable)")
    _text(ws, 11, 2, amo.daily_rate).number_format = MONEY
    for col, header in enumerate(("Phase", "Part (%)", "Montant HT (€)", "Jours"), 1):
        _text(ws, 13, col, header).font = BOLD
    row = 14
    for phase in amo.phases:
        _text(ws, row, 1, phase.label)
        _text(ws, row, 2, phase.share)
        _formula(ws, row, 3, f"=ROUND($B$6*B{row}/100,2)").number_format = MONEY
        _formula(ws, row, 4, f"=IF($B$11=0,0,ROUND(C{row}/$B$11,1))").number_format = "0.0"
        row += 1
    _text(ws, row, 1, "Total").font = BOLD
    for col in "BCD":
        _formula(ws, row, COLUMNS.index(col) + 1, f"=SUM({col}14:{col}{row - 1})").font = BOLD
    ws.cell(row, 3).number_format = MONEY
    _text(
        ws,
        row + 1,
        1,
        "Répartition par phase et prix de journée : ESTIMATIONS (aucun barème public trouvé).",
    )
    _widths(ws, {"A": 70, "B": 18, "C": 18, "D": 10})
    sheet = AMO_SHEET
    return _AmoCells(_ref(sheet, "B", 6), _ref(sheet, "B", 7), _ref(sheet, "B", 8))


@dataclass
class _Rates:
    """Cells of the financing sheet other sheets refer to."""

    total_ht: str
    cap: str
    rates: dict[str, str]
    ceilings: dict[str, str]
    eligible: dict[str, str]
    """Per funder: eligible spending of the whole project (before ceilings)."""
    names: dict[str, str]


def _finance_sheet(ws: Worksheet, estimate: Estimate, dqe: _DqeCells, amo: _AmoCells) -> _Rates:
    financing = estimate.financing
    call = financing.call
    _text(ws, 1, 1, "Plan de financement du projet (montants HT)").font = TITLE
    _text(ws, 2, 1, f"Plan : {estimate.source}")
    for col, header in enumerate(("Poste", "Montant HT (€)", "Part du total HT"), 1):
        _text(ws, 4, col, header).font = BOLD
    posts = [(lot.title, dqe.lots[lot.number]) for lot in estimate.lots]
    posts.append(("Assistance à maîtrise d'ouvrage (marché distinct)", amo.amount))
    for i, (title, ref) in enumerate(posts):
        row = 5 + i
        _text(ws, row, 1, title)
        _formula(ws, row, 2, f"={ref}").number_format = MONEY
        _formula(ws, row, 3, f"=IF($B${5 + len(posts)}=0,0,B{row}/$B${5 + len(posts)})")
        ws.cell(row, 3).number_format = SHARE
    total_row = 5 + len(posts)
    _text(ws, total_row, 1, "Coût total du projet HT").font = BOLD
    _formula(ws, total_row, 2, f"=SUM(B5:B{total_row - 1})").number_format = MONEY
    _text(ws, total_row + 1, 1, "TVA (travaux et AMO)")
    _formula(ws, total_row + 1, 2, f"={dqe.vat}+{amo.vat}").number_format = MONEY
    _text(ws, total_row + 2, 1, "Coût total du projet TTC").font = BOLD
    _formula(ws, total_row + 2, 2, f"=B{total_row}+B{total_row + 1}").number_format = MONEY
    names = {
        "total_ht": f"financement!$B${total_row}",
        "tva": f"financement!$B${total_row + 1}",
        "total_ttc": f"financement!$B${total_row + 2}",
    }
    ws.add_chart(_breakdown_chart(ws, first_row=5, last_row=total_row - 1), "F4")

    rates, ceilings, eligible, aid_rows = _call_table(
        ws, total_row + 4, estimate, cells=(dqe, amo), names=names
    )
    row = total_row + 4 + 3 + len(call.funders) + 2
    _text(ws, row, 1, "Plafond des aides publiques (% du coût de chaque projet, modifiable)")
    _text(ws, row, 3, call.public_aid_cap)
    cap = f"financement!$C${row}"
    _text(ws, row + 1, 1, f"({call.cap_source})")
    row += 3
    _text(ws, row, 1, "Financement (somme des plans par maître d'ouvrage)").font = BOLD
    lines = [
        ("Coût total du projet HT", f"=B{total_row}", None),
        (
            "Aides sollicitées HT (tous financeurs)",
            "=" + "+".join(f"G{r}" for r in aid_rows),
            "aids_ht",
        ),
        ("Reste à charge des maîtres d'ouvrage HT", f"=B{row + 1}-B{row + 2}", "rest_ht"),
        ("TVA (avancée par les acheteurs, FCTVA)", f"=B{total_row + 1}", None),
    ]
    for i, (label, formula, name) in enumerate(lines, 1):
        _text(ws, row + i, 1, label)
        _formula(ws, row + i, 2, formula).number_format = MONEY
        _formula(ws, row + i, 3, f"=IF($B${total_row}=0,0,B{row + i}/$B${total_row})")
        ws.cell(row + i, 3).number_format = SHARE
        if name:
            names[name] = f"financement!$B${row + i}"
    row += len(lines) + 2
    _text(
        ws,
        row,
        1,
        "Les taux sont ceux sollicités : chaque financeur décide projet par projet ; aucune aide "
        "n'est acquise avant sa décision.",
    )
    _widths(ws, {"A": 58, "B": 18, "C": 18, "D": 22, "E": 22, "F": 20, "G": 20})
    return _Rates(
        total_ht=names["total_ht"],
        cap=cap,
        rates=rates,
        ceilings=ceilings,
        eligible=eligible,
        names=names,
    )


def _call_table(
    ws: Worksheet,
    row: int,
    estimate: Estimate,
    *,
    cells: tuple[_DqeCells, _AmoCells],
    names: dict[str, str],
) -> tuple[dict[str, str], dict[str, str], dict[str, str], list[int]]:
    """The call's funders: editable rates and ceilings, eligible spending, base, aid asked."""
    financing = estimate.financing
    call = financing.call
    dqe, amo = cells
    _text(ws, row, 1, f"Appel à projets : {call.title} ({call.year})").font = BOLD
    _text(ws, row + 1, 1, f"Source : {call.source}")
    row += 3
    headers = (
        "Financeur",
        "Taux maximal (%)",
        "Taux sollicité (%, modifiable)",
        "Plafond de dépense par caméra (€, modifiable)",
        "Dépenses éligibles du projet HT (€)",
        "Base retenue HT (€)",
        "Aide sollicitée HT (€)",
    )
    for col, header in enumerate(headers, 1):
        _text(ws, row, col, header).font = BOLD
        ws.cell(row, col).alignment = Alignment(wrap_text=True)
    rates, ceilings, eligible = {}, {}, {}
    owners_sheet = _quoted(OWNERS_SHEET)
    last_owner = OWNER_FIRST_ROW + len(financing.owners) - 1
    aid_rows = []
    for i, funder in enumerate(call.funders):
        r = row + 1 + i
        _text(ws, r, 1, funder.label)
        _text(ws, r, 2, funder.max_rate)
        _text(ws, r, 3, funder.requested_rate)
        if funder.ceiling_per_camera is not None:
            _text(ws, r, 4, funder.ceiling_per_camera).number_format = MONEY
        amo_eligible = any(
            rule.funder == funder.key and rule.eligible for rule in financing.amo_rules
        )
        formula = f"={dqe.eligible_formula(funder.key)}" + (
            f"+{amo.amount}" if amo_eligible else ""
        )
        _formula(ws, r, 5, formula).number_format = MONEY
        base_col, aid_col = _owner_funder_columns(i)[2], _owner_funder_columns(i)[4]
        _formula(
            ws, r, 6, f"=SUM({owners_sheet}!${base_col}${OWNER_FIRST_ROW}:${base_col}${last_owner})"
        ).number_format = MONEY
        _formula(
            ws, r, 7, f"=SUM({owners_sheet}!${aid_col}${OWNER_FIRST_ROW}:${aid_col}${last_owner})"
        ).number_format = MONEY
        rates[funder.key] = f"financement!$C${r}"
        ceilings[funder.key] = f"financement!$D${r}"
        eligible[funder.key] = f"financement!$E${r}"
        names[f"eligible_{funder.key}"] = f"financement!$F${r}"
        names[f"aid_{funder.key}"] = f"financement!$G${r}"
        aid_rows.append(r)
    if "fipd" in rates:
        names["fipd"] = names["aid_fipd"]
    return rates, ceilings, eligible, aid_rows


def _owner_funder_columns(index: int) -> tuple[str, str, str, str, str]:
    """Columns of funder ``index`` in the owners sheet: key, base, retained, asked, after cap."""
    first = 9 + index * OWNER_FUNDER_COLUMNS  # J is the 10th column (index 9)
    return tuple(COLUMNS[first + k] for k in range(OWNER_FUNDER_COLUMNS))  # type: ignore[return-value]


def _owners_sheet(ws: Worksheet, estimate: Estimate, rates: _Rates) -> None:
    """Each project owner's financing plan, as formulas over the financing sheet's cells."""
    financing = estimate.financing
    funders = financing.call.funders
    _text(ws, 1, 1, "Plan de financement par maître d'ouvrage (montants HT)").font = TITLE
    intro = (
        "Clé travaux : part du maître d'ouvrage dans les lignes du DQE (équipements de ses mâts, "
        "part de ses mâts dans les tranchées et câbles partagés) ; l'AMO suit la même clé. Base : "
        "sa part des dépenses éligibles de chaque financeur, plafonnée par caméra ; aide "
        "sollicitée : base fois taux ; puis plafond des aides publiques (financeurs servis "
        "dans l'ordre de l'appel). Montants arrondis au centime : les sommes peuvent différer de "
        "quelques centimes des totaux de la feuille financement."
    )
    _text(ws, 2, 1, intro)
    fixed = (
        "Type",
        "Code",
        "Maître d'ouvrage",
        "EPCI (SIREN)",
        "Mâts",
        "Caméras",
        "Clé travaux",
        "Coût HT (€)",
        "Plafond des aides publiques (€)",
    )
    header_row = OWNER_FIRST_ROW - 1
    for col, header in enumerate(fixed, 1):
        _text(ws, header_row, col, header).font = BOLD
    for i, funder in enumerate(funders):
        columns = _owner_funder_columns(i)
        _text(ws, header_row - 1, COLUMNS.index(columns[0]) + 1, funder.label).font = BOLD
        for column, header in zip(
            columns,
            (
                "clé",
                "base éligible (€)",
                "base retenue (€)",
                "aide sollicitée (€)",
                "aide après plafond (€)",
            ),
            strict=True,
        ):
            _text(
                ws, header_row, COLUMNS.index(column) + 1, f"{funder.key.upper()} {header}"
            ).font = BOLD
    after = COLUMNS.index(_owner_funder_columns(len(funders) - 1)[4]) + 1
    total_col, own_col, own_share_col = COLUMNS[after], COLUMNS[after + 1], COLUMNS[after + 2]
    for column, header in (
        (total_col, "Total des aides (€)"),
        (own_col, "Part du maître d'ouvrage (€)"),
        (own_share_col, "Part du maître d'ouvrage (%)"),
    ):
        _text(ws, header_row, COLUMNS.index(column) + 1, header).font = BOLD
    row = OWNER_FIRST_ROW
    for owner in financing.owners:
        _owner_row(
            ws, row, owner, funders=funders, rates=rates, tail=(total_col, own_col, own_share_col)
        )
        row += 1
    _text(ws, row, 3, "Total").font = BOLD
    sums = ["E", "F", "H", "I"]
    for i in range(len(funders)):
        sums += list(_owner_funder_columns(i)[1:])
    sums += [total_col, own_col]
    for col in sums:
        cell = _formula(
            ws, row, COLUMNS.index(col) + 1, f"=SUM({col}{OWNER_FIRST_ROW}:{col}{row - 1})"
        )
        cell.font = BOLD
        cell.number_format = COUNT if col in "EF" else MONEY
    row += 2
    for owner in financing.owners:
        for note in owner.notes:
            _text(ws, row, 3, note)
            row += 1
    ws.freeze_panes = f"D{OWNER_FIRST_ROW}"
    _widths(ws, {"A": 16, "B": 12, "C": 40, "D": 13, "E": 7, "F": 9, "G": 11, "H": 16, "I": 18})


def _owner_row(
    ws: Worksheet,
    row: int,
    owner: OwnerPlan,
    *,
    funders: tuple[Funder, ...],
    rates: _Rates,
    tail: tuple[str, str, str],
) -> None:
    values = (
        OWNER_LABELS[owner.kind],
        owner.code,
        owner.nom,
        owner.epci,
        len(owner.masts),
        owner.cameras,
    )
    for col, value in enumerate(values, 1):
        _text(ws, row, col, value)
    _text(ws, row, 7, owner.works_key).number_format = SHARE
    _formula(ws, row, 8, f"=ROUND(G{row}*{rates.total_ht},2)").number_format = MONEY
    _formula(ws, row, 9, f"=ROUND(H{row}*{rates.cap}/100,2)").number_format = MONEY
    granted: list[str] = []
    for i, (funder, aid) in enumerate(zip(funders, owner.aids, strict=True)):
        key, base, kept, asked, after = _owner_funder_columns(i)
        _text(ws, row, COLUMNS.index(key) + 1, aid.key).number_format = SHARE
        _formula(
            ws, row, COLUMNS.index(base) + 1, f"=ROUND({key}{row}*{rates.eligible[funder.key]},2)"
        )
        ceiling = rates.ceilings[funder.key]
        kept_formula = (
            f'=IF({ceiling}="",{base}{row},MIN({base}{row},{ceiling}*F{row}))'
            if aid.applies
            else "=0"
        )
        _formula(ws, row, COLUMNS.index(kept) + 1, kept_formula)
        _formula(
            ws,
            row,
            COLUMNS.index(asked) + 1,
            f"=ROUND({kept}{row}*{rates.rates[funder.key]}/100,2)",
        )
        before = "+".join(f"{c}{row}" for c in granted) or "0"
        _formula(ws, row, COLUMNS.index(after) + 1, f"=MIN({asked}{row},MAX(0,I{row}-({before})))")
        granted.append(after)
        for column in (base, kept, asked, after):
            ws.cell(row, COLUMNS.index(column) + 1).number_format = MONEY
    total_col, own_col, share_col = tail
    _formula(ws, row, COLUMNS.index(total_col) + 1, "=" + "+".join(f"{c}{row}" for c in granted))
    _formula(ws, row, COLUMNS.index(own_col) + 1, f"=H{row}-{total_col}{row}")
    _formula(ws, row, COLUMNS.index(share_col) + 1, f"=IF(H{row}=0,0,{own_col}{row}/H{row})")
    ws.cell(row, COLUMNS.index(total_col) + 1).number_format = MONEY
    ws.cell(row, COLUMNS.index(own_col) + 1).number_format = MONEY
    ws.cell(row, COLUMNS.index(share_col) + 1).number_format = SHARE


def _eligibility_sheet(ws: Worksheet, estimate: Estimate) -> None:
    """Every line (works, AMO, running costs), per funder, with the rule that decided."""
    financing = estimate.financing
    funders = financing.call.funders
    _text(ws, 1, 1, "Éligibilité de chaque dépense, par financeur").font = TITLE
    _text(ws, 2, 1, f"Appel à projets : {financing.call.title} ({financing.call.year})")
    headers = [
        "N°",
        "Désignation",
        "Catégorie",
        "Montant HT (€)",
        "dont mâts réservés à l'État (€)",
    ]
    for funder in funders:
        headers += [f"{funder.key.upper()}", f"{funder.key.upper()} : règle"]
    for col, header in enumerate(headers, 1):
        _text(ws, 4, col, header).font = BOLD
    rows = [
        (
            line.number,
            line.designation,
            line.category,
            line.amount,
            line.reserved_amount,
            line.rules,
        )
        for line in financing.lines
    ]
    rows.append(
        (
            "AMO",
            "Assistance à maîtrise d'ouvrage (marché distinct)",
            "etudes",
            estimate.amo.amount,
            0.0,
            financing.amo_rules,
        )
    )
    category = category_of("running.")
    running = tuple(LineRule(f.key, *f.rule(category)) for f in funders)
    for line in estimate.running.lines:
        rows.append(
            (line.number, f"{line.designation} (par an)", category, line.amount, 0.0, running)
        )
    row = 5
    for number, label, category, amount, reserved, rules in rows:
        _text(ws, row, 1, number)
        _text(ws, row, 2, label)
        _text(ws, row, 3, CATEGORIES.get(category, category))
        _text(ws, row, 4, amount).number_format = MONEY
        _text(ws, row, 5, reserved).number_format = MONEY
        for i, rule in enumerate(rules):
            _text(ws, row, 6 + 2 * i, "oui" if rule.eligible else "non")
            _text(ws, row, 7 + 2 * i, rule.rule)
        row += 1
    ws.freeze_panes = "C5"
    _widths(ws, {"A": 7, "B": 60, "C": 28, "D": 16, "E": 16})
    for i in range(len(funders)):
        ws.column_dimensions[COLUMNS[5 + 2 * i]].width = 7
        ws.column_dimensions[COLUMNS[6 + 2 * i]].width = 50


def _lot_row(ws: Worksheet, row: int, title: str, width: int = 7) -> None:
    _text(ws, row, 1, title).font = BOLD
    for col in range(1, width + 1):
        ws.cell(row, col).fill = LOT_FILL


def _line_row(ws: Worksheet, row: int, number: str, label: str, *, unit: str, qty: float) -> None:
    _text(ws, row, 1, number)
    _text(ws, row, 2, label).alignment = Alignment(wrap_text=True)
    _text(ws, row, 3, unit)
    _text(ws, row, 4, qty).number_format = QUANTITY if unit == "m" else COUNT


def _total_row(ws: Worksheet, row: int, label: str, formula: str, width: int = 7) -> None:
    _text(ws, row, 2, label).font = BOLD
    cell = _formula(ws, row, 6, formula)
    cell.font = BOLD
    cell.number_format = MONEY
    for col in range(1, width + 1):
        ws.cell(row, col).fill = TOTAL_FILL


def _widths(ws: Worksheet, widths: dict[str, float]) -> None:
    for column, width in widths.items():
        ws.column_dimensions[column].width = width


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
    ws: Worksheet, estimate: Estimate, dqe: _DqeCells, rates: _Rates, running: _RunningCells
) -> dict[str, str]:
    """Investment plus N years of running costs, in total and per project owner; then how the
    DQE's investment relates to the plan's own (``summary.json``)."""
    years = estimate.running.horizon_years
    _text(ws, 1, 1, f"Coût complet sur {years} ans (investissement et exploitation)").font = TITLE
    _text(ws, 2, 1, f"Plan : {estimate.source}")
    intro = (
        "Investissement : coût total du projet (DQE des travaux et AMO). Exploitation : total "
        "annuel de la feuille « Coûts d'exploitation » multiplié par la durée, sans actualisation "
        "ni indexation des loyers (comme vigie plan)."
    )
    _text(ws, 3, 1, intro)
    _text(ws, 5, 1, "Durée (années, modifiable)").font = BOLD
    _text(ws, 5, 2, years)
    n = "$B$5"
    for col, header in enumerate(("Poste", "Montant HT (€)", "Montant TTC (€)"), 1):
        _text(ws, 7, col, header).font = BOLD
    _text(ws, 8, 1, "Investissement (travaux et AMO)")
    _formula(ws, 8, 2, f"={rates.names['total_ht']}")
    _formula(ws, 8, 3, f"={rates.names['total_ttc']}")
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

    r = _tco_owners(ws, estimate, rates, running, n)
    _reconciliation_block(ws, r + 3, estimate, dqe)
    _widths(ws, dict(zip("ABCDEF", (58, 30, 20, 22, 24, 60), strict=True)))
    return names


def _tco_owners(
    ws: Worksheet, estimate: Estimate, rates: _Rates, running: _RunningCells, n: str
) -> int:
    """Per project owner: investment, running costs, over the horizon; returns the last row."""
    row = 13
    owners_sheet = _quoted(OWNERS_SHEET)
    _text(ws, row, 1, f"Par maître d'ouvrage (investissement : feuille « {OWNERS_SHEET} »)")
    ws.cell(row, 1).font = BOLD
    headers = (
        "Maître d'ouvrage",
        "Code",
        "Investissement HT (€)",
        "Exploitation HT par an (€)",
        "Exploitation HT sur la durée (€)",
        "Coût complet HT (€)",
    )
    for col, header in enumerate(headers, 1):
        _text(ws, row + 1, col, header).font = BOLD
    first = row + 2
    owners = estimate.financing.owners
    for i, owner in enumerate(owners):
        r = first + i
        _text(ws, r, 1, owner.label)
        _text(ws, r, 2, owner.code)
        _formula(ws, r, 3, f"={owners_sheet}!$H${OWNER_FIRST_ROW + i}")
        _text(ws, r, 4, estimate.running_by_owner.get((owner.kind, owner.code), 0.0))
        _owner_tco(ws, r, n)
    r = first + len(owners)
    _text(ws, r, 1, "Arrondis")
    _formula(ws, r, 3, f"={rates.names['total_ht']}-SUM(C{first}:C{r - 1})" if r > first else "=0")
    _formula(ws, r, 4, f"={running.total}-SUM(D{first}:D{r - 1})" if r > first else "=0")
    _owner_tco(ws, r, n)
    _text(ws, r + 1, 1, "Total").font = BOLD
    for col in "CDEF":
        cell = _formula(ws, r + 1, COLUMNS.index(col) + 1, f"=SUM({col}{first}:{col}{r})")
        cell.font = BOLD
        cell.number_format = MONEY
    for rr in range(first, r + 1):
        for col in (3, 4):
            ws.cell(rr, col).number_format = MONEY

    return r


def _owner_tco(ws: Worksheet, row: int, years: str) -> None:
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
    _text(ws, r + 1, 1, "Hors du plan : mâts, caméras, électricité, équipements")
    _formula(ws, r + 1, 3, f"={dqe.works}-C{r}")
    _text(ws, r + 2, 1, "Total HT des travaux (DQE)").font = BOLD
    _formula(ws, r + 2, 3, f"={dqe.works}").font = BOLD
    for rr in range(first, r + 3):
        for col in (2, 3, 4):
            ws.cell(rr, col).number_format = MONEY


def _programme_sheet(
    ws: Worksheet, estimate: Estimate, dqe: _DqeCells, amo: _AmoCells
) -> dict[str, str]:
    """The estimate beside the programme's envelope, heading by heading, and what it buys."""
    comparison = compare(estimate, load_envelope())
    envelope = comparison.envelope
    rates_total = "total_ht"  # the financing sheet's project total, by its workbook name
    _text(ws, 1, 1, f"Comparaison avec l'enveloppe du programme : {envelope.title}").font = TITLE
    _text(ws, 2, 1, f"Source : {envelope.source}")
    _text(
        ws,
        3,
        1,
        "Mâts permis : enveloppe du poste divisée par le coût par mât du plan (même mélange de "
        "caméras et de raccordements) ; le poste qui s'épuise le premier décide.",
    )
    headers = (
        "Poste",
        "Enveloppe HT (€)",
        "Estimation HT (€)",
        "Part de l'enveloppe",
        "Part de l'estimation",
        "Estimation par mât (€)",
        "Mâts permis par l'enveloppe",
    )
    for col, header in enumerate(headers, 1):
        _text(ws, 5, col, header).font = BOLD
        ws.cell(5, col).alignment = Alignment(wrap_text=True)
    first = 6
    last = first + len(comparison.headings) - 1
    total_row, masts_row = last + 1, last + 3
    for i, row_data in enumerate(comparison.headings):
        r = first + i
        heading = row_data.heading
        parts = [dqe.category_formula(c) for c in heading.categories]
        if "etudes" in heading.categories:
            parts.append(amo.amount)
        _text(ws, r, 1, heading.label)
        _text(ws, r, 2, heading.envelope).number_format = MONEY
        _formula(ws, r, 3, "=" + "+".join(parts)).number_format = MONEY
        _formula(ws, r, 4, f"=B{r}/B${total_row}").number_format = SHARE
        _formula(ws, r, 5, f"=C{r}/C${total_row}").number_format = SHARE
        _formula(ws, r, 6, f"=C{r}/$B${masts_row}").number_format = MONEY
        _formula(ws, r, 7, f'=IF(F{r}=0,"",ROUNDDOWN(B{r}/F{r},0))').number_format = COUNT
    _text(ws, total_row, 1, "Total").font = BOLD
    for col in "BC":
        cell = _formula(ws, total_row, COLUMNS.index(col) + 1, f"=SUM({col}{first}:{col}{last})")
        cell.number_format = MONEY
        cell.font = BOLD
    _formula(ws, total_row, 6, f"=C{total_row}/$B${masts_row}").number_format = MONEY
    _formula(ws, total_row, 7, f"=ROUNDDOWN(B{total_row}/F{total_row},0)").number_format = COUNT
    rows = (
        ("Mâts du plan", comparison.masts, COUNT),
        ("Caméras du plan", comparison.cameras, COUNT),
        ("Mâts que permet l'enveloppe, poste par poste", f"=MIN(G{first}:G{last})", COUNT),
        (
            "Caméras que permet l'enveloppe, poste par poste",
            f"=ROUNDDOWN(B{masts_row + 2}*B{masts_row + 1}/B{masts_row},0)",
            COUNT,
        ),
        ("Aide FIPD sollicitée par le plan", "=fipd", MONEY),
        (
            "Aide FIPD à l'échelle de l'enveloppe (même aide par mât)",
            f"=ROUND(B{masts_row + 4}/B{masts_row}*B{masts_row + 2},2)",
            MONEY,
        ),
        ("FIPD attendu par le programme (jusqu'à 50 %)", envelope.fipd, MONEY),
        ("Part du coût du plan apportée par le FIPD", f"=B{masts_row + 4}/{rates_total}", SHARE),
        (
            "Aide FIPD pour toute l'enveloppe, à cette part",
            f"=ROUND(B{total_row}*B{masts_row + 4}/{rates_total},2)",
            MONEY,
        ),
        (
            "Mâts que permet l'enveloppe si les postes s'échangent",
            f"=ROUNDDOWN(B{total_row}/({rates_total}/B{masts_row}),0)",
            COUNT,
        ),
    )
    names = {}
    for i, (label, value, fmt) in enumerate(rows):
        r = masts_row + i
        _text(ws, r, 1, label)
        cell = _formula(ws, r, 2, value) if isinstance(value, str) else _text(ws, r, 2, value)
        cell.number_format = fmt
    names["programme_masts"] = _ref("programme", "B", masts_row + 2)
    names["programme_cameras"] = _ref("programme", "B", masts_row + 3)
    names["programme_fipd"] = _ref("programme", "B", masts_row + 5)
    names["programme_fipd_envelope"] = _ref("programme", "B", masts_row + 8)
    names["programme_masts_total"] = _ref("programme", "B", masts_row + 9)
    _widths(ws, {"A": 52, "B": 18, "C": 18, "D": 14, "E": 14, "F": 18, "G": 16})
    return names


def _comparison_sheet(ws: Worksheet, estimates: list[Estimate], cells: list[_DqeCells]) -> None:
    _text(ws, 1, 1, "Comparaison des plans").font = TITLE
    _text(
        ws,
        2,
        1,
        "Montants HT. Travaux : formules des feuilles DQE ; AMO, aides et coût complet : calculés "
        "par Vigie pour chaque plan avec le même appel à projets.",
    )
    _text(ws, 4, 1, "Poste").font = BOLD
    for col, estimate in enumerate(estimates, 2):
        _text(ws, 4, col, f"Plan {col - 1} : {estimate.source}").font = BOLD
        ws.cell(4, col).alignment = Alignment(wrap_text=True)
    rows: list[tuple[str, list[str | float]]] = [
        (lot.title, [f"={c.lots[lot.number]}" for c in cells]) for lot in estimates[0].lots
    ]
    rows += [
        ("Total des travaux HT", [f"={c.works}" for c in cells]),
        ("Total des travaux TTC", [f"={c.works_ttc}" for c in cells]),
        ("AMO HT", [e.amo.amount for e in estimates]),
        ("Total HT", [e.total_ht for e in estimates]),
        ("Total TTC", [e.total_ttc for e in estimates]),
        ("Aide FIPD sollicitée", [e.fipd for e in estimates]),
        ("Aides sollicitées (tous financeurs)", [e.aids for e in estimates]),
        ("Reste à charge HT", [e.rest_ht for e in estimates]),
        ("Coûts d'exploitation HT par an", [e.running_ht for e in estimates]),
        ("Coût complet HT sur la durée de chaque plan", [e.tco_ht for e in estimates]),
    ]
    for i, (label, values) in enumerate(rows, 5):
        _text(ws, i, 1, label)
        for col, value in enumerate(values, 2):
            cell = (
                _formula(ws, i, col, value) if isinstance(value, str) else _text(ws, i, col, value)
            )
            cell.number_format = MONEY
    row = 5 + len(rows) + 1
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
        "Éligible aux aides (bordereau)",
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
