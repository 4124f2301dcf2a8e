"""Fictional demo data: a whole 2019-2020 season, deterministic (the same every time).

About 40 organisations of the six types, 120 people, the four groups of the terms of
reference, a launch, three meetings per group, a summer evening, and attendance.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from .config import Config
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


def _organisations(rng: random.Random) -> list[dict[str, Any]]:
    orgs = []
    n = 0
    for kind in ORGANISATION_TYPES:
        for name in ORG_NAMES[kind]:
            n += 1
            country = rng.choice(COUNTRIES)
            has_room = rng.random() < 0.3
            orgs.append(
                {
                    "id": f"ORG-{n:03d}",
                    "name": name,
                    "type": kind,
                    "country": country,
                    "city": rng.choice(CITIES[country]),
                    "website": f"https://www.{_ascii(name)[:18]}.example.org",
                    "partner": "oui" if rng.random() < 0.2 else "non",
                    "forum_coorganiser": "oui" if rng.random() < 0.1 else "non",
                    "has_room": "oui" if has_room else "non",
                    "address": f"{rng.randint(1, 120)} rue de la République, {rng.choice(CITIES[country])}"
                    if has_room
                    else "",
                }
            )
    return orgs


def _people(rng: random.Random, orgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    people = []
    used: set[str] = set()
    for n in range(1, 121):
        org = orgs[(n - 1) % len(orgs)] if n <= len(orgs) else rng.choice(orgs)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{_ascii(first)}.{_ascii(last)}@{_ascii(org['name'])[:14]}.example.org"
        while email in used:
            email = email.replace("@", f"{rng.randint(1, 9)}@", 1)
        used.add(email)
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
                    dt.date(2019, 10, 1) + dt.timedelta(days=rng.randint(0, 60))
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


def _meetings(rng: random.Random, orgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    hosts = [o for o in orgs if o["has_room"] == "oui"] or orgs
    meetings = [
        {
            "id": "R-2019-LANC",
            "type": "Lancement",
            "group": "",
            "date": "19/11/2019",
            "start": "9h30",
            "end": "12h30",
            "theme": "Bilan du Forum Mondial 2019 et ligne éditoriale du prochain Forum",
        }
    ]
    dates = {
        "AI": ["14/01/2020", "10/03/2020", "12/05/2020"],
        "MEI": ["21/01/2020", "17/03/2020", "19/05/2020"],
        "FI": ["28/01/2020", "03/03/2020", "26/05/2020"],
        "PDMI": ["06/02/2020", "02/04/2020", "04/06/2020"],
    }
    for code, days in dates.items():
        for i, day in enumerate(days, start=1):
            kind = "Petit-déjeuner" if code == "PDMI" else "Réunion"
            meetings.append(
                {
                    "id": f"R-2020-{code}-{i}",
                    "type": kind,
                    "group": code,
                    "date": day,
                    "start": "8h30" if kind == "Petit-déjeuner" else "9h30",
                    "end": "10h30" if kind == "Petit-déjeuner" else "11h30",
                    "theme": f"Séance {i} du {code}",
                }
            )
    meetings.append(
        {
            "id": "R-2020-SOIREE",
            "type": "Soirée",
            "group": "",
            "date": "25/06/2020",
            "start": "18h30",
            "end": "21h30",
            "theme": "Présentation du programme du Forum Mondial Convergences",
        }
    )
    meetings.append(
        {
            "id": "R-2020-AI-4",
            "type": "Réunion",
            "group": "AI",
            "date": "08/09/2020",
            "start": "9h30",
            "end": "11h30",
            "theme": "Préparation des sessions du Forum",
            "video": "https://meet.example.org/gt-ai",
        }
    )
    for m in meetings:
        host = rng.choice(hosts)
        m["place"] = f"Salle {host['name']}"
        m["address"] = host["address"] or f"{rng.randint(1, 90)} boulevard Voltaire, Paris"
        m["host"] = host["id"]
        m["video_link"] = m.pop("video", "")
    return meetings


def _attendance(
    rng: random.Random, people: list[dict[str, Any]], meetings: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    rows = []
    last_day = dt.date(2020, 6, 15)  # the demo's "today": the Soirée and AI-4 are still ahead
    for m in meetings:
        day, month, year = (int(x) for x in m["date"].split("/"))
        if dt.date(year, month, day) > last_day:
            continue  # not yet held
        if m["type"] in ("Lancement", "Soirée"):
            audience = [p for p in people if p["groups"]]
        else:
            audience = [p for p in people if m["group"] in p["groups"]]
        for p in audience:
            roll = rng.random()
            if roll < 0.45:
                rows.append(
                    {
                        "meeting": m["id"],
                        "person": p["id"],
                        "status": rng.choice(["présent", "présente", "", "présent·e"]),
                        "comment": "",
                    }
                )
            elif roll < 0.55:
                rows.append(
                    {
                        "meeting": m["id"],
                        "person": p["id"],
                        "status": rng.choice(["excusé", "excusée"]),
                        "comment": "Empêché·e",
                    }
                )
    return rows


def demo_rows(config: Config) -> dict[str, Rows]:
    """The demo registry as rows per tab name (header row first), headers from `config`."""
    rng = random.Random(2019)
    orgs = _organisations(rng)
    people = _people(rng, orgs)
    meetings = _meetings(rng, orgs)
    attendance = _attendance(rng, people, meetings)
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
