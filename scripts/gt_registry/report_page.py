"""The season report as one printable page: figures formatted in French, readings, charts.

`page_context` turns a `report.Report` into what `templates/report/rapport.html.j2` receives
(every number and date already written out with Babel, each chart as inline SVG from
`charts`, each table as rows of text); `render_page` renders it through the project's one
sandboxed Jinja environment. Imported only by `gt report`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from markupsafe import Markup

from . import charts
from .charts import GREY, LIGHT, Bar, Category, Fill, Segment
from .config import Config
from .i18n import day_text, list_text
from .rendering import FILE_LIMITS, load_template, render
from .report import Report, tables

LOCALE = "fr_FR"
TEMPLATE = "rapport.html.j2"
REPORT_FOLDER = "report"
MAIN = Fill("#0072B2", "solid")  # the main series when it is not a group's
LAUNCH_FILL = Fill("#4d4d4d", "solid", "Lancement / sans groupe")
EXCUSED_FILL = Fill(LIGHT, "solid", "excusés")
ABSENT_FILL = Fill(GREY, "outline", "absents")
CONTEXT_FILL = Fill(GREY, "outline")
KIND_NAMES = {
    "Lancement": ("lancement", None),
    "Réunion": ("réunion", None),
    "Petit-déjeuner": ("petit-déjeuner", "petits-déjeuners"),
    "Soirée": ("soirée", None),
}
MOST_HOSTS = 20  # bars in the hosting chart (the table lists every host)
WIDE, HALF = 640, 420  # chart widths in SVG units (× 0.28 mm): the page, and beside a table


def number(value: float | None) -> str:
    """`1 234`, `14,5` (French, Babel); an em dash for no value."""
    if value is None:
        return "—"
    return format_decimal(value, format="#,##0.#", locale=LOCALE)


def percent(part: int, whole: int) -> str:
    return format_percent(part / whole, locale=LOCALE) if whole else "—"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{number(count)} {singular if count <= 1 else plural_form or singular + 's'}"


def short_day(day: dt.date) -> str:
    return format_date(day, "d MMM", locale=LOCALE)


def _table(report: Report, name: str, keep: Sequence[int] | None = None) -> dict[str, Any]:
    header, rows = tables(report)[name]
    columns = list(keep) if keep is not None else list(range(len(header)))
    numeric = [
        bool(rows) and all(isinstance(row[i], int | float) or row[i] == "" for row in rows)
        for i in columns
    ]
    return {
        "header": [header[i] for i in columns],
        "rows": [
            [number(row[i]) if isinstance(row[i], int | float) else str(row[i]) for i in columns]
            for row in rows
        ],
        "numeric": numeric,
    }


def _figure(
    title: str, reading: str, svg: str, table: dict[str, Any], layout: str
) -> dict[str, Any]:
    return {
        "title": title,
        "reading": reading,
        "svg": Markup(svg),
        "table": table,
        "layout": layout,
    }


def page_context(report: Report) -> dict[str, Any]:
    """Everything the template shows, already written out in French."""
    fills = charts.group_fills(report.group_names)
    t = report.totals
    season = report.season
    meetings_by_type = ", ".join(
        plural(n, *KIND_NAMES.get(kind, (kind.lower(), None)))
        for kind, n in report.meetings_by_type.items()
    )
    new = (
        f"dont {plural(t['organisations_new'], 'nouvelle')} cette saison"
        if report.seasons
        else "première saison du registre"
    )
    key_figures = [
        {
            "label": "réunions tenues",
            "value": number(t["meetings_held"]),
            "detail": meetings_by_type,
        },
        {
            "label": "personnes présentes",
            "value": number(t["people_present"]),
            "detail": "au moins une fois",
        },
        {
            "label": "membres actifs",
            "value": number(t["active_members"]),
            "detail": f"{report.threshold} réunions ou plus"
            + (
                f", dont {number(t['active_by_override'])} par dérogation"
                if t["active_by_override"]
                else ""
            ),
        },
        {
            "label": "organisations présentes",
            "value": number(t["organisations_present"]),
            "detail": new,
        },
        {
            "label": "présence moyenne",
            "value": number(t["average_attendance"]),
            "detail": "personnes par réunion",
        },
    ]
    sections = [
        _meetings_section(report, fills),
        _groups_section(report, fills),
        _types_section(report),
        _hosting_section(report, fills),
        _involvement_section(report),
        _seasons_section(report),
        _quality_section(report),
    ]
    return {
        "title": f"Groupes de travail — bilan de la saison {season.label}",
        "season": season.label,
        "period": f"du {day_text(season.start, 'fr')} au {day_text(season.end, 'fr')}",
        "as_of": day_text(report.as_of, "fr"),
        "threshold": report.threshold,
        "counted_types": ", ".join(kind.lower() for kind in report.counted_types),
        "key_figures": key_figures,
        "key_table": _table(report, "chiffres-cles"),
        "sections": sections,
    }


def _section(
    number_: int,
    anchor: str,
    title: str,
    figures: list[dict[str, Any]],
    empty: str = "",
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    return {
        "number": number_,
        "id": anchor,
        "title": title,
        "figures": figures,
        "empty": empty if not figures else "",
        "notes": list(notes),
    }


def _meetings_section(report: Report, fills: dict[str, Fill]) -> dict[str, Any]:
    title = "Présence par réunion"
    if not report.meetings:
        return _section(
            2,
            "reunions",
            title,
            [],
            f"Aucune réunion comptée n'a encore eu lieu cette saison (au {day_text(report.as_of, 'fr')}).",
        )
    categories = [
        Category(
            f"{short_day(m.date)} · {m.group or m.type}",
            (
                Bar(
                    (
                        Segment(m.present, fills.get(m.group or "", LAUNCH_FILL)),
                        Segment(m.excused, EXCUSED_FILL),
                        Segment(m.absent, ABSENT_FILL),
                    ),
                    number(m.present),
                ),
            ),
        )
        for m in report.meetings
    ]
    used = {m.group for m in report.meetings}
    legend = [
        Fill(f.colour, f.pattern, f"présents {code}") for code, f in fills.items() if code in used
    ]
    if None in used:
        legend.append(Fill(LAUNCH_FILL.colour, "solid", "présents (lancement)"))
    legend += [EXCUSED_FILL, ABSENT_FILL]
    svg = charts.bar_chart(
        "Personnes présentes, excusées et absentes à chaque réunion, par date",
        categories,
        width=WIDE,
        legend=legend,
    )
    best = max(report.meetings, key=lambda m: (m.present, m.date))
    reading = (
        f"En moyenne {number(report.totals['average_attendance'])} personnes présentes par réunion ; "
        f"la plus suivie : {best.group or best.type} du {day_text(best.date, 'fr')} ({plural(best.present, 'présent')})."
    )
    notes = []
    if report.totals["meetings_without_attendance"]:
        notes.append(
            f"{plural(report.totals['meetings_without_attendance'], 'réunion tenue', 'réunions tenues')} sans aucune présence saisie : "
            "complétez l'onglet Présences."
        )
    figure = _figure(
        "Présents, excusés et absents, par réunion",
        reading,
        svg,
        _table(report, "reunions", [0, 3, 4, 5, 6, 7]),
        "below",
    )
    return _section(2, "reunions", title, [figure], notes=notes)


def _groups_section(report: Report, fills: dict[str, Fill]) -> dict[str, Any]:
    title = "Par groupe"
    if not report.groups:
        return _section(3, "groupes", title, [], "Le registre ne contient aucun groupe.")
    categories = [
        Category(
            g.code,
            (
                Bar((Segment(g.members, CONTEXT_FILL),), number(g.members), "membres"),
                Bar(
                    (Segment(g.people_present, Fill(LIGHT)),), number(g.people_present), "présents"
                ),
                Bar(
                    (Segment(g.active_members, fills[g.code]),), number(g.active_members), "actifs"
                ),
            ),
        )
        for g in report.groups
    ]
    svg = charts.bar_chart(
        "Membres, personnes présentes et membres actifs, par groupe", categories, width=HALF
    )
    with_meetings = [g for g in report.groups if g.average_present is not None]
    if with_meetings:
        best = max(round(g.average_present or 0, 1) for g in with_meetings)
        tops = [g.name for g in with_meetings if round(g.average_present or 0, 1) == best]
        average = f"{number(best)} {'personne' if best < 2 else 'personnes'} par réunion en moyenne"
        # No article before a group's name (« Le Petits déjeuners… »): a label, then the name.
        reading = (
            f"Groupe le plus suivi : {tops[0]}, {average}."
            if len(tops) == 1
            else f"Groupes les plus suivis, à égalité : {list_text(tops, 'fr')}, {average} chacun."
        )
    else:
        reading = "Aucune réunion de groupe n'a encore eu lieu cette saison."
    figure = _figure(
        "Membres, présents et actifs par groupe",
        reading,
        svg,
        _table(report, "groupes", [0, 2, 3, 4, 5, 6]),
        "below",
    )
    return _section(3, "groupes", title, [figure])


def _types_section(report: Report) -> dict[str, Any]:
    title = "Types d'organisations"
    if not any(x.organisations for x in report.organisation_types):
        return _section(4, "types", title, [], "Le registre ne contient aucune organisation.")
    categories = [
        Category(
            x.type,
            (
                Bar((Segment(x.organisations, CONTEXT_FILL),), number(x.organisations), "registre"),
                Bar(
                    (Segment(x.organisations_present, MAIN),),
                    number(x.organisations_present),
                    "présentes",
                ),
            ),
        )
        for x in report.organisation_types
    ]
    svg = charts.bar_chart(
        "Organisations du registre et organisations présentes, par type", categories, width=HALF
    )
    present = [x for x in report.organisation_types if x.organisations_present]
    if present:
        top = max(present, key=lambda x: x.organisations_present)
        reading = (
            f"{number(len(present))} types d'organisations sur {number(len(report.organisation_types))} étaient présents ; "
            f"le plus représenté : {top.type} ({plural(top.organisations_present, 'organisation')})."
        )
    else:
        reading = "Aucune organisation n'a encore été présente cette saison."
    figure = _figure(
        "Organisations par type", reading, svg, _table(report, "types-organisations"), "below"
    )
    return _section(4, "types", title, [figure])


def _hosting_section(report: Report, fills: dict[str, Fill]) -> dict[str, Any]:
    title = "Accueil des réunions"
    hosting = report.hosting
    waiting = hosting["rooms_not_hosted"]
    notes = []
    if waiting:
        names = ", ".join(o["name"] for o in waiting[:12]) + (" …" if len(waiting) > 12 else "")
        notes.append(
            f"Proposent une salle mais n'ont pas encore accueilli cette saison ({number(len(waiting))}) : {names}."
        )
    if not report.meetings:
        return _section(
            5, "accueil", title, [], "Aucune réunion n'a encore eu lieu cette saison.", notes
        )
    categories = [
        Category(
            h.name,
            (
                Bar(
                    tuple(Segment(n, fills.get(k, LAUNCH_FILL)) for k, n in h.by_group.items()),
                    number(h.meetings),
                ),
            ),
        )
        for h in report.hosts[:MOST_HOSTS]
    ]
    if len(report.hosts) > MOST_HOSTS:
        notes.append(
            f"Le graphique montre les {MOST_HOSTS} organisations qui ont le plus accueilli ; "
            f"le tableau les donne toutes ({number(len(report.hosts))})."
        )
    if hosting["network_premises"]:
        categories.append(
            Category(
                "Chez le réseau (sans hôte)",
                (
                    Bar(
                        (Segment(hosting["network_premises"], CONTEXT_FILL),),
                        number(hosting["network_premises"]),
                    ),
                ),
            )
        )
    used = {k for h in report.hosts for k in h.by_group}
    legend = [f for code, f in fills.items() if code in used]
    if used - set(fills):
        legend.append(LAUNCH_FILL)
    svg = charts.bar_chart(
        "Réunions accueillies par organisation, par groupe", categories, width=WIDE, legend=legend
    )
    reading = (
        f"{plural(hosting['distinct_hosts'], 'organisation différente a', 'organisations différentes ont')} accueilli "
        f"{plural(len(report.meetings) - hosting['network_premises'], 'réunion')}"
        + (
            f" ; {plural(hosting['network_premises'], 'réunion')} dans les locaux du réseau."
            if hosting["network_premises"]
            else " ; aucune dans les locaux du réseau."
        )
    )
    figure = _figure(
        "Réunions par organisation hôte", reading, svg, _table(report, "hotes", [1, 3, 4]), "below"
    )
    return _section(5, "accueil", title, [figure], notes=notes)


def _involvement_section(report: Report) -> dict[str, Any]:
    title = "Implication"
    if not report.involvement:
        return _section(
            6,
            "implication",
            title,
            [],
            "Personne n'a encore été présent à une réunion comptée cette saison.",
        )
    threshold = report.threshold
    below = Fill(LIGHT, "solid", f"moins de {threshold} réunions")
    active = Fill(MAIN.colour, "solid", f"{threshold} réunions ou plus (membres actifs)")
    columns = [
        (
            str(row["meetings"]),
            float(row["people"]),
            active if row["meetings"] >= threshold else below,
        )
        for row in report.involvement
    ]
    svg = charts.column_chart(
        "Nombre de personnes selon le nombre de réunions comptées auxquelles elles ont assisté",
        columns,
        width=HALF,
        caption="réunions comptées auxquelles la personne était présente",
        legend=[below, active],
        figure=number,
    )
    people = sum(row["people"] for row in report.involvement)
    computed = sum(row["people"] for row in report.involvement if row["meetings"] >= threshold)
    reading = (
        f"{number(computed)} personnes sur {number(people)} sont venues à {threshold} réunions ou plus "
        f"({percent(computed, people)})."
    )
    figures = [
        _figure(
            "Personnes par nombre de réunions",
            reading,
            svg,
            _table(report, "implication"),
            "beside",
        )
    ]
    if report.top_organisations:
        top = report.top_organisations
        svg = charts.bar_chart(
            "Les organisations les plus impliquées : réunions comptées où au moins une de leurs personnes était présente",
            [
                Category(o.name, (Bar((Segment(o.meetings, MAIN),), number(o.meetings)),))
                for o in top
            ],
            width=HALF,
        )
        reading = f"{top[0].name} est l'organisation la plus impliquée : {plural(top[0].meetings, 'réunion')} avec au moins une de ses personnes."
        figures.append(
            _figure(
                f"Les {number(len(top))} organisations les plus impliquées",
                reading,
                svg,
                _table(report, "organisations-impliquees", [1, 3, 4]),
                "below",
            )
        )
    return _section(6, "implication", title, figures)


def _seasons_section(report: Report) -> dict[str, Any]:
    title = "Saisons comparées"
    if not report.seasons:
        return _section(
            7,
            "saisons",
            title,
            [],
            "Le registre ne contient pas de saison antérieure : rien à comparer.",
        )
    current = report.season.label
    metrics = [
        ("Réunions tenues", "meetings_held"),
        ("Personnes présentes", "people_present"),
        ("Membres actifs", "active_members"),
        ("Organisations présentes", "organisations_present"),
    ]
    categories = [
        Category(
            label,
            tuple(
                Bar(
                    (Segment(getattr(s, key), MAIN if s.season == current else Fill(LIGHT)),),
                    number(getattr(s, key)),
                    s.season,
                )
                for s in report.seasons
            ),
        )
        for label, key in metrics
    ]
    svg = charts.bar_chart("Les saisons du registre comparées", categories, width=HALF)
    now, before = report.seasons[-1], report.seasons[-2]
    change = now.people_present - before.people_present
    trend = f"{'+' if change >= 0 else '−'}{number(abs(change))}"
    reading = (
        f"{plural(now.people_present, 'personne présente', 'personnes présentes')} contre {number(before.people_present)} "
        f"en {before.season} ({trend}) ; {number(now.returning_active or 0)} des {number(before.active_members)} "
        f"membres actifs de {before.season} sont revenus."
    )
    figure = _figure("Les saisons comparées", reading, svg, _table(report, "saisons"), "below")
    return _section(7, "saisons", title, [figure])


def _quality_section(report: Report) -> dict[str, Any]:
    total = sum(p.count for p in report.problems)
    section = _section(8, "qualite", "Qualité des données", [])
    if not total:
        section["empty"] = "Aucun problème de saisie : « gt check » ne signale rien."
        return section
    section["quality"] = {
        "reading": (
            f"{plural(total, 'problème')} dans le registre : les lignes concernées sont laissées de côté "
            "dans tous les chiffres ci-dessus. Pour les lister, cellule par cellule :"
        ),
        "command": "gt check",
        "table": _table(report, "qualite-des-donnees", [1, 2]),
    }
    return section


def render_page(report: Report, config: Config) -> str:
    """The whole page, rendered through the project's sandboxed Jinja environment."""
    template = load_template(config.template_folders(REPORT_FOLDER), TEMPLATE)
    return render(
        template, page_context(report), f"la saison {report.season.label}", limits=FILE_LIMITS
    )
