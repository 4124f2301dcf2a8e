"""A synthetic registry of any size, for the benchmarks: `generate_registry(people, attendance_rows)`.

Deterministic (seeded), shaped like the real sheet: organisations of the six types, the four
working groups of the terms of reference, a 2019-2020 season of meetings (a launch, monthly
group meetings, breakfasts, a summer evening) plus a few from the previous season, and
attendance rows drawn at random — so duplicates, excused and absent rows occur naturally.
Headers come from the configuration (`config.staff_tabs`), so renamed tabs or headers follow.
Nothing is dated after 15 June 2020: run the tools with `--as-of 2020-06-15`.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

from gt_registry.config import Config, load_config
from gt_registry.demo import FIRST as DEMO_FIRST
from gt_registry.demo import LAST as DEMO_LAST
from gt_registry.model import ORGANISATION_TYPES

AS_OF = dt.date(2020, 6, 15)
GROUPS = [
    ("AI", "GT Action internationale"),
    ("MEI", "GT Modèles économiques à impact"),
    ("FI", "GT Finance à impact"),
    ("PDMI", "Petits déjeuners de la mesure d'impact"),
]
# The demo's own names (scripts/demo.py): one list of fictional people in the project.
FIRST, LAST = DEMO_FIRST, DEMO_LAST
STATUSES = ["présent"] * 17 + ["excusé"] * 2 + ["absent"]

Tabs = dict[str, list[list[Any]]]


def _table(config: Config, key: str, records: list[dict[str, Any]]) -> list[list[Any]]:
    """Rows under the configured headers of tab `key`, in the configured column order."""
    fields = config.staff_tabs[key].fields
    return [
        [f.header for f in fields],
        *([record.get(f.key, "") for f in fields] for record in records),
    ]


def _meetings() -> list[dict[str, Any]]:
    meetings = [
        {
            "id": "R-LANC",
            "type": "Lancement",
            "date": dt.date(2019, 11, 19),
            "start": "09:30",
            "end": "12:30",
        }
    ]
    for code, _name in GROUPS:
        kind = "Petit-déjeuner" if code == "PDMI" else "Réunion"
        for month in (12, 1, 2, 3, 4, 5, 6):
            year = 2019 if month == 12 else 2020
            day = dt.date(year, month, 3 + 2 * len(meetings) % 9)
            meetings.append(
                {
                    "id": f"R-{code}-{year}-{month:02d}",
                    "type": kind,
                    "group": code,
                    "date": day,
                    "start": "09:30",
                    "end": "11:30",
                }
            )
        meetings.append(
            {"id": f"R-{code}-2019-05", "type": kind, "group": code, "date": dt.date(2019, 5, 14)}
        )
    meetings.append(
        {
            "id": "R-SOIREE",
            "type": "Soirée",
            "date": dt.date(2020, 6, 11),
            "start": "18:30",
            "end": "21:00",
        }
    )
    return meetings


def generate_registry(
    people: int, attendance_rows: int, config: Config | None = None, seed: int = 2019
) -> Tabs:
    """The staff tabs ({tab name: rows, header first}) of a registry of `people` people and
    `attendance_rows` rows of `Présences`."""
    config = config or load_config(None, environ={})
    rng = random.Random(seed)
    n_orgs = max(3, people // 10)
    orgs = [
        {"id": f"ORG-{i:05d}", "name": f"Organisation {i}", "type": ORGANISATION_TYPES[i % len(ORGANISATION_TYPES)],
         "country": "France", "city": "Paris", "partner": "oui" if i % 10 == 0 else "non"}
        for i in range(1, n_orgs + 1)
    ]  # fmt: skip
    persons = []
    for i in range(1, people + 1):
        org = orgs[rng.randrange(n_orgs)]["id"]
        persons.append({
            "id": f"P-{i:06d}",
            "first_name": rng.choice(FIRST),
            "last_name": f"{rng.choice(LAST)} {i}",
            "email": f"p{i}@{org.lower()}.example.org",
            "organisation": org,
            "groups": ", ".join(sorted(rng.sample([g for g, _ in GROUPS], rng.randint(1, 2)))),
            "language": "fr",
            "opted_out": "oui" if rng.random() < 0.02 else "",
            "override": "actif" if rng.random() < 0.005 else ("inactif" if rng.random() < 0.005 else ""),
        })  # fmt: skip
    meetings = _meetings()
    attendance = [
        {
            "meeting": rng.choice(meetings)["id"],
            "person": f"P-{rng.randint(1, people):06d}",
            "status": rng.choice(STATUSES),
        }
        for _ in range(attendance_rows)
    ]
    groups = [{"code": code, "name": name} for code, name in GROUPS]
    return {
        config.tab("organisations"): _table(config, "organisations", orgs),
        config.tab("people"): _table(config, "people", persons),
        config.tab("groups"): _table(config, "groups", groups),
        config.tab("meetings"): _table(config, "meetings", meetings),
        config.tab("attendance"): _table(config, "attendance", attendance),
    }


def owned_headers(config: Config | None = None) -> Tabs:
    """The tool-owned tabs as `gt init` leaves them: a header row each."""
    config = config or load_config(None, environ={})
    return {spec.name: [list(spec.headers)] for spec in config.owned_tabs.values()}


def write_workbook(tabs: Tabs, path: Path) -> Path:
    """Save `tabs` as an .xlsx workbook (openpyxl's write-only mode: fast at 100k rows)."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    for name, rows in tabs.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path
