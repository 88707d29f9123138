"""The application file of one project owner as a printable document (HTML, A4), and the index.

Self-contained (styles and the map inline, no script, no remote resource), so it opens offline
and prints to PDF from any browser. Every piece of data is escaped (``html.escape``): commune
names and mast ids come from input files. Numbers are French (``planning.french``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from planning.french import euros, number, percent
from vigie.estimate.application import SCHEDULE_NOTE, Application
from vigie.estimate.application_map import BOUNDARIES_CREDIT
from vigie.estimate.financing import OWNER_LABELS, OwnerPlan

STYLE = """
@page { size: A4; margin: 14mm 12mm 16mm 12mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 9.5pt; color: #111; margin: 0; }
main { max-width: 186mm; margin: 0 auto; }
h1 { font-size: 16pt; margin: 0 0 2mm; }
h2 { font-size: 12pt; margin: 6mm 0 2mm; border-bottom: 1px solid #4a6a8a; color: #1f4e79; }
p.sub { margin: 0 0 3mm; color: #333; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; }
th, td { border: 1px solid #999; padding: 1mm 1.5mm; vertical-align: top; text-align: left; }
th { background: #dde7f0; }
td.n { text-align: right; white-space: nowrap; }
tr.total td { font-weight: bold; background: #f2f2f2; }
tr { page-break-inside: avoid; break-inside: avoid; }
figure { margin: 2mm 0; break-inside: avoid; page-break-inside: avoid; }
figure svg { width: 100%; height: auto; max-height: 150mm; }
figcaption, .note { font-size: 8pt; color: #444; }
.box { border: 1.5px solid #111; padding: 2mm 3mm; margin: 2mm 0; break-inside: avoid; }
.field { border-bottom: 1px dotted #666; min-height: 8mm; margin: 1mm 0 2mm; }
.field.tall { min-height: 45mm; border: 1px dotted #666; }
.indicative { font-weight: bold; color: #8a3b00; }
section { break-inside: auto; }
@media print { h2 { break-after: avoid; page-break-after: avoid; } }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]) -> str:
    """A table; cells are already escaped HTML."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for row in rows:
        css = ' class="total"' if row and row[0].startswith("<b>") else ""
        cells = "".join(
            f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr{css}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _money(value: float) -> str:
    return _e(euros(value, digits=2))


def application_html(app: Application, map_svg: str) -> str:
    """The printable document; ``map_svg`` is an ``<svg>`` element built by Vigie."""
    owner = app.owner
    title = f"Dossier de demande de subvention FIPD vidéoprotection — {owner.label}"
    parts = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="sub">{_e(app.call_title)} ({app.call_year}). Établi à partir du plan '
        f"{_e(app.source)}.</p>",
        _owner_section(app),
        _cameras_section(app, map_svg),
        _finance_section(app),
        _schedule_section(app),
        _opinion_section(app),
        _legal_section(app),
    ]
    return _page(title, "\n".join(parts))


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _owner_section(app: Application) -> str:
    owner = app.owner
    rows = [
        ("Maître d'ouvrage", f"{OWNER_LABELS[owner.kind]} {owner.nom}"),
        ("Code", owner.code),
        ("Intercommunalité (SIREN)", owner.epci or "—"),
        ("Communes d'implantation (INSEE)", ", ".join(owner.communes)),
        ("Mâts / caméras", f"{number(len(owner.masts))} / {number(owner.cameras)}"),
        (
            "Coût de l'opération",
            f"{euros(owner.total_ht, 'HT', 2)} — {euros(app.total_ttc, 'TTC', 2)}",
        ),
    ]
    return (
        "<section><h2>1. Porteur du projet</h2>"
        + _table(("Rubrique", "Valeur"), ((_e(a), _e(b)) for a, b in rows), set())
        + "</section>"
    )


def _cameras_section(app: Application, map_svg: str) -> str:
    rows = [
        (
            _e(i),
            _e(s.mast_id),
            _e(f"{s.commune_nom} ({s.commune})" if s.commune_nom else s.commune),
            _e(f"{number(s.x, 1)} / {number(s.y, 1)}"),
            _e(f"{number(s.lat, 6)} / {number(s.lon, 6)}"),
            _e(s.model_label),
            _e(number(s.cameras)),
            _e(s.purpose),
        )
        for i, s in enumerate(app.sites, 1)
    ]
    rows.append(("<b>Total</b>", "", "", "", "", "", _e(number(app.owner.cameras)), ""))
    table = _table(
        (
            "N°",
            "Mât",
            "Commune",
            "X / Y Lambert-93 (m)",
            "Latitude / longitude WGS84",
            "Modèle",
            "Caméras",
            "Finalité proposée (à confirmer)",
        ),
        rows,
        {0, 6},
    )
    figure = f"<figure>{map_svg}<figcaption>{_e(BOUNDARIES_CREDIT)}</figcaption></figure>"
    note = (
        '<p class="note">Adresses précises à compléter par le porteur. Les finalités '
        "proposées sont celles du CSI, art. L251-2, à confirmer ou préciser pour chaque "
        "caméra dans la demande d'autorisation préfectorale.</p>"
    )
    return f"<section><h2>2. Caméras et implantation</h2>{table}{note}{figure}</section>"


def _finance_section(app: Application) -> str:
    owner = app.owner
    costs = [
        ("Coût de l'opération HT", _money(owner.total_ht)),
        (f"TVA ({percent(app.vat_rate, 2)})", _money(app.vat)),
        ("<b>Coût de l'opération TTC</b>", _money(app.total_ttc)),
        (
            f"Plafond des aides publiques ({percent(app.cap_percent, 2)} du coût HT)",
            _money(owner.cap),
        ),
        ("Coûts d'exploitation par an HT (non éligibles, pour mémoire)", _money(app.running_ht)),
    ]
    funders = []
    for f in app.funders:
        ceiling = _money(f.ceiling) if f.ceiling is not None else "—"
        funders.append(
            (
                _e(f.label),
                _e("oui" if f.applies else "non"),
                _money(f.base),
                ceiling,
                _money(f.retained),
                _e(percent(f.rate, 2)) + f" <small>(max. {_e(percent(f.max_rate, 2))})</small>",
                _money(f.requested),
                _money(f.amount),
            )
        )
    resources = [(_e(f.label), _money(f.amount), _e(_share(f.amount, owner))) for f in app.funders]
    resources.append(
        (
            "<b>Autofinancement du maître d'ouvrage</b>",
            _money(owner.own_share),
            _e(percent(app.own_percent, 2)),
        )
    )
    resources.append(("<b>Total des ressources HT</b>", _money(owner.total_ht), _e(percent(100))))
    ok = owner.own_share >= owner.total_ht - owner.cap - 0.005
    check = (
        f'<p class="note">Participation minimale du maître d\'ouvrage : '
        f"{percent(100 - app.cap_percent, 2)} (CGCT L1111-10) — "
        f"{'respectée' if ok else 'NON respectée'}.</p>"
    )
    return (
        "<section><h2>3. Plan de financement</h2>"
        + _table(("Dépenses", "Montant"), costs, {1})
        + _table(
            (
                "Financeur",
                "Sollicitable",
                "Base éligible HT",
                "Plafond (par caméra, fois les caméras)",
                "Base retenue HT",
                "Taux sollicité",
                "Aide sollicitée",
                "Aide après plafond",
            ),
            funders,
            {2, 3, 4, 5, 6, 7},
        )
        + _table(("Ressources", "Montant HT", "Part du coût HT"), resources, {1, 2})
        + check
        + '<p class="note">Les taux sont sollicités, pas acquis : chaque financeur décide projet '
        "par projet, dans la limite de son taux maximal. Les aides portent sur le coût HT ; la "
        "TVA reste à la charge du maître d'ouvrage (récupérable selon les règles du FCTVA).</p>"
        + "".join(f'<p class="note">{_e(note)}</p>' for note in owner.notes)
        + "</section>"
    )


def _share(amount: float, owner: OwnerPlan) -> str:
    return percent(100.0 * amount / owner.total_ht, 2) if owner.total_ht else percent(0)


def _schedule_section(app: Application) -> str:
    rows = [
        (_e(s.label), _e(number(s.months)), _e(f"mois {s.start}"), _e(f"mois {s.end}"))
        for s in app.schedule
    ]
    return (
        '<section><h2>4. Calendrier prévisionnel <span class="indicative">(indicatif)</span></h2>'
        + _table(("Phase", "Durée (mois)", "Début", "Fin"), rows, {1, 2, 3})
        + f'<p class="note">{_e(SCHEDULE_NOTE)}</p></section>'
    )


def _opinion_section(app: Application) -> str:
    owner = app.owner
    return (
        "<section><h2>5. Avis du référent sûreté</h2>"
        '<div class="box"><b>Avis du référent sûreté (police nationale ou gendarmerie '
        "nationale)</b> — favorable / réservé / défavorable, et observations :"
        '<div class="field tall"></div>'
        'Nom, grade et service :<div class="field"></div>'
        'Date :<div class="field"></div>Signature :<div class="field"></div></div>'
        f'<div class="box"><b>Engagement du porteur de projet</b> — '
        f"{_e(OWNER_LABELS[owner.kind])} {_e(owner.nom)}<br>"
        "Délibération approuvant l'opération et son plan de financement (n° et date) :"
        '<div class="field"></div>Nom et qualité du signataire :<div class="field"></div>'
        'Date, signature et cachet :<div class="field"></div></div></section>'
    )


def _legal_section(app: Application) -> str:
    notes = [
        "Code de la sécurité intérieure, art. L251-1 et suivants (notamment L252-1) : tout "
        "système de vidéoprotection sur la voie publique est autorisé par le préfet, après avis "
        "de la commission départementale de vidéoprotection, pour cinq ans renouvelables ; "
        "l'autorisation désigne le responsable du système et les personnes habilitées à "
        "visionner les images. Les images sont conservées un mois au plus (art. L252-5).",
        "La lecture automatisée de plaques d'immatriculation (LAPI) est réservée à la police, à "
        "la gendarmerie et aux douanes (art. L233-1) : elle ne figure dans le dossier d'aucune "
        "collectivité.",
        f"CGCT, art. L1111-10 : le maître d'ouvrage finance au moins "
        f"{percent(100 - app.cap_percent, 2)} du coût de l'opération ; les aides publiques sont "
        f"plafonnées à {percent(app.cap_percent, 2)}. {app.cap_source.strip()}",
        "Les taux sont sollicités, pas acquis : le préfet (FIPD) et les autres financeurs "
        "décident projet par projet.",
        f"Appel à projets : {app.call_source.strip()}",
    ]
    items = "".join(f"<li>{_e(n)}</li>" for n in notes)
    return f'<section><h2>6. Cadre juridique</h2><ul class="note">{items}</ul></section>'


def index_html(apps: Sequence[Application], others: Sequence[OwnerPlan], source: str) -> str:
    """``index.html``: every owner's file with its cost, aids and own share."""
    rows = [
        (
            f'<a href="{_e(a.stem)}.html">{_e(a.owner.label)}</a> '
            f'(<a href="{_e(a.stem)}.xlsx">xlsx</a>)',
            _e(number(a.owner.cameras)),
            _money(a.owner.total_ht),
            _money(a.owner.aid_total),
            _money(a.owner.own_share),
            _e(percent(a.own_percent, 2)),
        )
        for a in apps
    ]
    rows.append(
        (
            "<b>Total</b>",
            _e(number(sum(a.owner.cameras for a in apps))),
            _money(sum(a.owner.total_ht for a in apps)),
            _money(sum(a.owner.aid_total for a in apps)),
            _money(sum(a.owner.own_share for a in apps)),
            "",
        )
    )
    table = _table(
        (
            "Maître d'ouvrage",
            "Caméras",
            "Coût HT",
            "Aides sollicitées (après plafond)",
            "Part du maître d'ouvrage HT",
            "Part (%)",
        ),
        rows,
        {1, 2, 3, 4, 5},
    )
    without = "".join(
        f"<li>{_e(o.label)} : {_money(o.total_ht)} HT, sans dossier (hors appel à projets)</li>"
        for o in others
    )
    body = (
        "<h1>Dossiers de demande de subvention FIPD vidéoprotection</h1>"
        f'<p class="sub">Un dossier par maître d\'ouvrage local, établi à partir du plan '
        f"{_e(source)}. Les taux sont sollicités, pas acquis.</p>{table}"
        + (f'<h2>Sans dossier</h2><ul class="note">{without}</ul>' if without else "")
    )
    return _page("Dossiers FIPD vidéoprotection", body)
