"""Fictional demo data: a whole season, deterministic (the same every time for a season).

About 40 organisations of the six types, 120 people, the four groups of the terms of
reference, a launch, three meetings per group, a summer evening, AI's September meeting, and
attendance at the meetings already held. By default the season in force today (`demo_plan`);
the 2019-2020 season is the model, and `demo_rows(config, 2019)` its rows as they always were.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from typing import Any

import click

from . import clock
from .config import Config
from .eligibility import season_for
from .model import ORGANISATION_TYPES, Rows

GROUPS = [
    (
        "AI",
        "GT Action internationale",
        "Leviers pour atteindre les ODD, dans les pays et au niveau international.",
        "",
        "France",
        "Camille Laurent",
        "camille.laurent@convergences.example.org",
    ),
    (
        "MEI",
        "GT Modèles économiques à impact",
        "Modèles économiques et pratiques à fort impact sociétal.",
        "",
        "France",
        "Julien Petit",
        "julien.petit@convergences.example.org",
    ),
    (
        "FI",
        "GT Finance à impact",
        "Financement du développement durable et de l'innovation sociale.",
        "",
        "France",
        "Sarah Benali",
        "sarah.benali@convergences.example.org",
    ),
    (
        "PDMI",
        "Petits déjeuners de la mesure d'impact",
        "Échanger et co-construire autour de la mesure d'impact social et environnemental.",
        "Avise ; (IM)PROVE",
        "France",
        "Camille Laurent",
        "camille.laurent@convergences.example.org",
    ),
]

ORG_NAMES = {
    "Acteur public": [
        "Agence française de coopération",
        "Ville de Montreuil",
        "Ministère de la Transition",
        "Région Occitanie",
        "Agence des territoires",
        "Conseil départemental du Nord",
        "Institut public du climat",
    ],
    "Économie sociale et solidaire": [
        "Coopérative Terre Commune",
        "Fondation Solidaires",
        "Mutuelle des Possibles",
        "Association Avenir Partagé",
        "Réseau Entreprendre Ensemble",
        "Les Ateliers du Lien",
        "Fondation Horizon",
    ],
    "Entreprise": [
        "Banque Équilibre",
        "Groupe Lumen",
        "Nord Énergie",
        "Atelier Numérique SAS",
        "Société Générale d'Impact",
        "Cabinet Ardoise",
        "Verdane Industries",
    ],
    "ONG": [
        "Solidarité Sans Frontières",
        "Action Eau Vive",
        "Enfance et Avenir",
        "Planète Partagée",
        "Santé pour Tous",
        "Terres Vivantes",
        "Droits et Dignité",
    ],
    "Média": [
        "Le Journal des Solutions",
        "Radio Horizon",
        "Impact Magazine",
        "Web Transition TV",
        "La Gazette durable",
        "Médias Citoyens",
    ],
    "Recherche et enseignement supérieur": [
        "Université de Lyon — Chaire ESS",
        "École de Commerce Atlantique",
        "Institut de Recherche pour le Développement durable",
        "Sciences Sociales Lab",
        "Centre d'études sur la finance inclusive",
        "École d'ingénieurs Avenir",
    ],
}
FIRST = [
    "Camille",
    "Léa",
    "Hugo",
    "Chloé",
    "Lucas",
    "Manon",
    "Nathan",
    "Inès",
    "Théo",
    "Sarah",
    "Louis",
    "Jade",
    "Gabriel",
    "Emma",
    "Arthur",
    "Zoé",
    "Yasmine",
    "Karim",
    "Aïcha",
    "Mamadou",
    "Fatou",
    "João",
    "Lucía",
    "Élodie",
    "François",
    "Hélène",
    "Noémie",
    "Raphaël",
    "Amélie",
    "Olivier",
]
LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Diallo",
    "Traoré",
    "Benali",
    "N'Diaye",
    "Da Silva",
    "Pereira",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
]
FUNCTIONS = [
    "Chargée de mission",
    "Directeur général",
    "Responsable RSE",
    "Chargé de plaidoyer",
    "Responsable partenariats",
    "Chercheuse",
    "Journaliste",
    "Directrice des programmes",
    "Chef de projet",
    "Déléguée générale",
]
COUNTRIES = ["France"] * 8 + ["Maroc", "Sénégal", "Belgique", "Brésil", "Espagne"]
CITIES = {
    "France": ["Paris", "Lyon", "Lille", "Marseille", "Nantes", "Montreuil"],
    "Maroc": ["Casablanca", "Rabat"],
    "Sénégal": ["Dakar"],
    "Belgique": ["Bruxelles"],
    "Brésil": ["São Paulo"],
    "Espagne": ["Madrid"],
}
LANG_BY_COUNTRY = {"Brésil": "pt", "Espagne": "es"}


def _ascii(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isalnum() and c.isascii()).lower()


# Where an organisation's drawn country does not fit its name, the name (or the city) that
# does: `Ville de Montreuil` drawn in Belgium is a Brussels agency. The random draws are the
# same as ever (people, meetings and attendance do not move); only what they read changes.
LOCAL_NAMES: dict[str, tuple[str, str | None, str | None]] = {
    # former name: (name, country or None to keep the draw, city or None to keep the draw)
    "Ville de Montreuil": ("Agence bruxelloise pour la transition", None, None),
    "Ministère de la Transition": ("Secretaria do Clima de São Paulo", None, None),
    "Région Occitanie": ("Ville de Lille", None, None),
    "Conseil départemental du Nord": ("Métropole de Lyon", None, None),
    "Fondation Solidaires": ("Fondation Solidaires", "France", "Paris"),  # hosts in France
    "Réseau Entreprendre Ensemble": ("Red Emprender Juntos", None, None),
    "Nord Énergie": ("Atlas Énergie", None, None),
    "Atelier Numérique SAS": ("Taller Digital", None, None),
    "Société Générale d'Impact": ("Compagnie nordique d'impact", None, None),
    "Cabinet Ardoise": ("Cabinet Ardoise", "France", "Nantes"),  # hosts in France
    "Verdane Industries": ("Verdana Industrias", None, None),
    "Solidarité Sans Frontières": ("Solidariedade Sem Fronteiras", None, None),
    "Droits et Dignité": ("Droits et Dignité", "France", "Paris"),  # hosts in France
    "Université de Lyon — Chaire ESS": ("Université de Lyon — Chaire ESS", None, "Lyon"),
    "Sciences Sociales Lab": ("Laboratorio de Ciencias Sociales", None, None),
}
# Streets of each country, written as they are there (number first or after the street).
STREETS = {
    "France": ["{n} rue de la République", "{n} avenue Jean-Jaurès", "{n} rue Victor-Hugo"],
    "Maroc": ["{n} avenue Mohammed V", "{n} boulevard Hassan II"],
    "Sénégal": ["{n} avenue Cheikh Anta Diop", "{n} rue Carnot"],
    "Belgique": ["Rue de la Loi {n}", "Boulevard Anspach {n}"],
    "Brésil": ["Rua Augusta, {n}", "Avenida Paulista, {n}"],
    "Espagne": ["Calle de Alcalá, {n}", "Calle Mayor, {n}"],
}
ROOMS = ["Salle du Conseil", "Espace Agora", "Salle Olympe-de-Gouges", "Auditorium", "Salle 3Zéro"]


def _organisations(rng: random.Random) -> list[dict[str, Any]]:
    orgs = []
    n = 0
    for kind in ORGANISATION_TYPES:
        for drawn_name in ORG_NAMES[kind]:
            n += 1
            drawn_country = rng.choice(COUNTRIES)
            has_room = rng.random() < 0.3
            city = rng.choice(CITIES[drawn_country])
            name, local_country, local_city = LOCAL_NAMES.get(drawn_name, (drawn_name, None, None))
            country = local_country or drawn_country
            city = local_city or city
            partner = "oui" if rng.random() < 0.2 else "non"
            coorganiser = "oui" if rng.random() < 0.1 else "non"
            number = rng.randint(1, 120) if has_room else 0
            if has_room:  # the former demo drew a second city here, for the address
                rng.choice(CITIES[drawn_country])
            streets = STREETS[country]
            orgs.append(
                {
                    "id": f"ORG-{n:03d}",
                    "name": name,
                    "type": kind,
                    "country": country,
                    "city": city,
                    "website": f"https://www.{_ascii(name)[:18]}.example.org",
                    "partner": partner,
                    "forum_coorganiser": coorganiser,
                    "has_room": "oui" if has_room else "non",
                    "address": f"{streets[n % len(streets)].format(n=number)}, {city}"
                    if has_room
                    else "",
                    "drawn_name": drawn_name,  # the e-mail draws of the former demo
                }
            )
    return orgs


def _people(rng: random.Random, orgs: list[dict[str, Any]], year: int) -> list[dict[str, Any]]:
    """The people; charters signed in the autumn of `year`, before the demo's first season."""
    people = []
    used: set[str] = set()
    for n in range(1, 121):
        org = orgs[(n - 1) % len(orgs)] if n <= len(orgs) else rng.choice(orgs)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        # the same draws as the former demo: its addresses decide when a digit is added
        email = f"{_ascii(first)}.{_ascii(last)}@{_ascii(org['drawn_name'])[:14]}.example.org"
        while email in used:
            email = email.replace("@", f"{rng.randint(1, 9)}@", 1)
        used.add(email)
        email = f"{email.partition('@')[0]}@{_ascii(org['name'])[:14]}.example.org"
        groups = rng.sample([g[0] for g in GROUPS], k=rng.choice([0, 1, 1, 1, 2, 2, 3]))
        people.append(
            {
                "id": f"P-{n:04d}",
                "first_name": first,
                "last_name": last,
                "email": email,
                "phone": f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
                "function": rng.choice(FUNCTIONS),
                "organisation": org["id"],
                "groups": ", ".join(sorted(groups)),
                "language": LANG_BY_COUNTRY.get(
                    org["country"], "en" if rng.random() < 0.08 else "fr"
                ),
                "opted_out": "oui" if rng.random() < 0.04 else "",
                "charter_signed": (
                    dt.date(year, 10, 1) + dt.timedelta(days=rng.randint(0, 60))
                ).strftime("%d/%m/%Y")
                if rng.random() < 0.7
                else "",
                "override": "",
                "notes": "",
            }
        )
    people[7]["override"] = "actif"
    people[7]["notes"] = "Co-anime le GT : membre actif par décision de l'équipe."
    return people


MODEL_YEAR = 2019
"""The model season is 2019-2020 (the season of the terms of reference): every other demo
season is that one moved by whole years (`shifted`), with the same hosts and attendance."""

# The model calendar, 2019-2020. Each date keeps its weekday and its week of the month in
# every season: the launch is always the third Tuesday of November.
LAUNCH = dt.date(2019, 11, 19)
GROUP_DATES = {
    "AI": [dt.date(2020, 1, 14), dt.date(2020, 3, 10), dt.date(2020, 5, 12)],
    "MEI": [dt.date(2020, 1, 21), dt.date(2020, 3, 17), dt.date(2020, 5, 19)],
    "FI": [dt.date(2020, 1, 28), dt.date(2020, 3, 3), dt.date(2020, 5, 26)],
    "PDMI": [dt.date(2020, 2, 6), dt.date(2020, 4, 2), dt.date(2020, 6, 4)],
}
# Three themes per group, in the words of the terms of reference.
THEMES = {
    "AI": [
        "Localiser les ODD : l'action des territoires et des acteurs locaux",
        "Partenariats multi-acteurs et coopération internationale pour l'Agenda 2030",
        "Négociations mondiales : quels leviers pour la société civile ?",
    ],
    "MEI": [
        "Économie circulaire : des modèles qui changent d'échelle",
        "Responsabilité sociétale des entreprises et des organisations",
        "Économie inclusive : l'emploi au cœur des modèles économiques",
    ],
    "FI": [
        "Investissement à impact : mesurer pour mieux financer",
        "Finance climat : mobiliser l'épargne pour la transition",
        "Microfinance et finance inclusive : de nouveaux publics",
    ],
    "PDMI": [
        "Définir ses indicateurs d'impact social",
        "Évaluer son impact environnemental : méthodes et outils",
        "Valoriser son impact auprès des financeurs",
    ],
}
EVENING = dt.date(2020, 6, 25)  # the summer programme evening (Soirée)
RENTREE = dt.date(2020, 9, 8)  # AI's fourth meeting, after the summer, before the next season


def shifted(day: dt.date, years: int) -> dt.date:
    """`day` moved by whole `years` onto the same weekday of the same week of its month (the
    third Tuesday of November stays a third Tuesday of November): meetings stay on weekdays,
    in their order. Model dates are all in a month's first 28 days."""
    week = (day.day - 1) // 7
    first = dt.date(day.year + years, day.month, 1)
    return first + dt.timedelta(days=(day.weekday() - first.weekday()) % 7 + 7 * week)


def reference_day(season_start_year: int) -> dt.date:
    """The "today" of a named demo season (`--demo-season`, without `--as-of`): 15 June of its
    last year — every group meeting held, the summer evening and AI's fourth meeting ahead."""
    return dt.date(season_start_year + 1, 6, 15)


def _calendar(year: int) -> list[dict[str, Any]]:
    """The meetings of the demo season that starts in November `year`, by kind, without their
    host; each ID carries the year of the meeting's own date (`R-2020-AI-4`)."""
    years = year - MODEL_YEAR
    launch = shifted(LAUNCH, years)
    meetings: list[dict[str, Any]] = [
        {
            "id": f"R-{launch.year}-LANC",
            "type": "Lancement",
            "group": "",
            "day": launch,
            "start": "9h30",
            "end": "12h30",
            "theme": f"Bilan du Forum Mondial {launch.year} et ligne éditoriale du prochain Forum",
        }
    ]
    for code, model_days in GROUP_DATES.items():
        for i, model_day in enumerate(model_days, start=1):
            day = shifted(model_day, years)
            kind = "Petit-déjeuner" if code == "PDMI" else "Réunion"
            meetings.append(
                {
                    "id": f"R-{day.year}-{code}-{i}",
                    "type": kind,
                    "group": code,
                    "day": day,
                    "start": "8h30" if kind == "Petit-déjeuner" else "9h30",
                    "end": "10h30" if kind == "Petit-déjeuner" else "11h30",
                    "theme": THEMES[code][i - 1],
                }
            )
    evening, rentree = shifted(EVENING, years), shifted(RENTREE, years)
    meetings.append(
        {
            "id": f"R-{evening.year}-SOIREE",
            "type": "Soirée",
            "group": "",
            "day": evening,
            "start": "18h30",
            "end": "21h30",
            "theme": f"Les temps forts du Forum Mondial Convergences {evening.year}",
        }
    )
    meetings.append(
        {
            "id": f"R-{rentree.year}-AI-4",
            "type": "Réunion",
            "group": "AI",
            "day": rentree,
            "start": "9h30",
            "end": "11h30",
            "theme": "Préparation des sessions du Forum Mondial Convergences",
            "video": "https://meet.example.org/gt-ai",
        }
    )
    for m in meetings:
        m["date"] = m["day"].strftime("%d/%m/%Y")
    return meetings


def _meetings(rng: random.Random, orgs: list[dict[str, Any]], year: int) -> list[dict[str, Any]]:
    hosts = [o for o in orgs if o["has_room"] == "oui"] or orgs
    meetings = _calendar(year)
    for m in meetings:
        host = rng.choice(hosts)
        m["place"] = ROOMS[int(host["id"][-3:]) % len(ROOMS)]
        m["address"] = host["address"] or f"{rng.randint(1, 90)} boulevard Voltaire, Paris"
        m["host"] = host["id"]
        m["video_link"] = m.pop("video", "")
    return meetings


def _attendance(
    rng: random.Random,
    people: list[dict[str, Any]],
    meetings: list[dict[str, Any]],
    today: dt.date,
) -> list[dict[str, Any]]:
    """Who came, for the meetings held on or before `today`. Every meeting draws its share of
    the random stream, held or not: a meeting's attendance does not depend on `today`."""
    rows = []
    for m in meetings:
        if m["type"] in ("Lancement", "Soirée"):
            audience = [p for p in people if p["groups"]]
        else:
            audience = [p for p in people if m["group"] in p["groups"]]
        drawn = []
        for p in audience:
            roll = rng.random()
            if roll < 0.45:
                drawn.append(
                    {
                        "meeting": m["id"],
                        "person": p["id"],
                        "status": rng.choice(["présent", "présente", "", "présent·e"]),
                        "comment": "",
                    }
                )
            elif roll < 0.55:
                drawn.append(
                    {
                        "meeting": m["id"],
                        "person": p["id"],
                        "status": rng.choice(["excusé", "excusée"]),
                        "comment": "Empêché·e",
                    }
                )
        if m["day"] <= today:
            rows += drawn
    return rows


@dataclass(frozen=True)
class DemoPlan:
    """Which demo seasons the registry holds, and its "today"."""

    years: tuple[int, ...]  # start years of the seasons held: one, or two around the summer
    today: dt.date  # meetings on or before it are held (with attendance), the others to come

    def meetings(self) -> list[dict[str, Any]]:
        return [m for year in self.years for m in _calendar(year)]

    def next_meeting(self) -> dict[str, Any]:
        """The first meeting after `today` (there always is one)."""
        return min((m for m in self.meetings() if m["day"] > self.today), key=lambda m: m["day"])


def demo_plan(
    config: Config, season_start_year: int | None = None, today: dt.date | None = None
) -> DemoPlan:
    """The demo season for `today` (default: the clock's today, or for a named season its
    `reference_day`): the season in force on `today` (`eligibility.season_for`), or the one
    named by `season_start_year`. There is always a held meeting and one to come:

    - when every meeting of the season is past (from AI's September meeting to the end of
      October: between seasons, the season in force is the one that ended), the next season's
      meetings are scheduled too (no attendance yet);
    - when none is held yet (November, before the launch), the previous season is there too,
      held whole — and `sync-eligibility` counts nothing in the new season until the launch.
    """
    if today is None:
        today = (
            reference_day(season_start_year)
            if season_start_year is not None
            else clock.today(config.timezone)
        )
    if season_start_year is None:
        season = season_for(today, config.season_first_month, config.season_last_month)
        season_start_year = season.start.year
    days = [m["day"] for m in _calendar(season_start_year)]
    if min(days) > today:
        return DemoPlan((season_start_year - 1, season_start_year), today)
    if max(days) <= today:
        return DemoPlan((season_start_year, season_start_year + 1), today)
    return DemoPlan((season_start_year,), today)


def demo_rows(
    config: Config, season_start_year: int | None = None, today: dt.date | None = None
) -> dict[str, Rows]:
    """The demo registry as rows per tab name (header row first), headers from `config`.

    `season_start_year` and `today` as in `demo_plan`. `demo_rows(config, 2019)` is the
    2019-2020 season on 15 June 2020, the same rows as ever (tests and screenshots rely on it).
    Organisations and people are the same in every season; each season has the same hosts and
    attendance, moved onto its own dates."""
    plan = demo_plan(config, season_start_year, today)
    rng = random.Random(2019)
    orgs = _organisations(rng)
    people = _people(rng, orgs, plan.years[0])
    after_people = rng.getstate()
    meetings: list[dict[str, Any]] = []
    attendance: list[dict[str, Any]] = []
    for year in plan.years:
        rng.setstate(after_people)
        season = _meetings(rng, orgs, year)
        meetings += season
        attendance += _attendance(rng, people, season, plan.today)
    groups = [
        dict(
            zip(
                [
                    "code",
                    "name",
                    "description",
                    "co_animation",
                    "platform",
                    "referent",
                    "referent_email",
                ],
                g,
                strict=True,
            )
        )
        for g in GROUPS
    ]
    records = {
        "organisations": orgs,
        "people": people,
        "groups": groups,
        "meetings": meetings,
        "attendance": attendance,
    }
    out: dict[str, Rows] = {}
    for key, spec in config.staff_tabs.items():
        header = [f.header for f in spec.fields]
        out[spec.name] = [list(header)] + [
            [r.get(f.key, "") for f in spec.fields] for r in records[key]
        ]
    return out


def next_step(config: Config, plan: DemoPlan) -> str:
    """What `gt init --demo` suggests next: the sync, then the invitations to the next
    meeting; with `--as-of` when the demo's "today" is not the clock's."""
    from .i18n import day_text  # Babel: only when a demo was written

    as_of = "" if plan.today == clock.today(config.timezone) else f"--as-of {plan.today} "
    meeting = plan.next_meeting()
    group = dict((g[0], g[1]) for g in GROUPS).get(meeting["group"], meeting["type"])
    return (
        f"« gt {as_of}sync-eligibility », puis « gt {as_of}draft-invitations {meeting['id']} » "
        f"(prochaine réunion : {group}, le {day_text(meeting['day'], 'fr')})"
    )


class DemoSeasonType(click.ParamType):
    """`--demo-season 2019-2020`: two consecutive years; the start year."""

    name = "AAAA-AAAA"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        match = re.fullmatch(r"\s*(\d{4})\s*-\s*(\d{4})\s*", str(value))
        if not match:
            self.fail(
                f"saison « {value} » illisible : attendu deux années consécutives (exemple : 2019-2020)",
                param,
                ctx,
            )
        start, end = int(match.group(1)), int(match.group(2))
        if end != start + 1:
            self.fail(
                f"saison « {value} » : les deux années doivent se suivre (essayez {start}-{start + 1})",
                param,
                ctx,
            )
        return start
