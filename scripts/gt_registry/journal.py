"""The `Journal` tab: one row appended per run that wrote anything.

Columns: Date, Commande, Par, Changements, Problèmes, Détail. `Détail` holds `key=value`
pairs separated by `; ` that later runs read back (e.g. which people were already drafted
for a meeting), so the journal stays readable by staff and by the tool.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .model import Rows, Value
from .parsing import text

HEADERS = ["Date", "Commande", "Par", "Changements", "Problèmes", "Détail"]


@dataclass(frozen=True)
class JournalEntry:
    when: dt.datetime
    command: str
    by: str
    changes: str
    problems: str = ""
    detail: dict[str, str] = field(default_factory=dict)

    def as_row(self) -> list[Value]:
        detail = "; ".join(f"{k}={v}" for k, v in self.detail.items())
        return [
            self.when.strftime("%Y-%m-%d %H:%M"),
            self.command,
            self.by,
            self.changes,
            self.problems,
            detail,
        ]


def parse_detail(value: str) -> dict[str, str]:
    pairs = (part.partition("=") for part in value.split("; ") if "=" in part)
    return {k.strip(): v.strip() for k, _sep, v in pairs}


def read_entries(rows: Rows | None) -> list[JournalEntry]:
    """The entries of an existing Journal tab (header row skipped, unreadable dates kept as min)."""
    entries = []
    for row in (rows or [])[1:]:
        cells = [text(v) for v in row] + [""] * len(HEADERS)
        try:
            when = dt.datetime.strptime(cells[0], "%Y-%m-%d %H:%M")
        except ValueError:
            when = dt.datetime.min
        entries.append(
            JournalEntry(when, cells[1], cells[2], cells[3], cells[4], parse_detail(cells[5]))
        )
    return entries


def append(rows: Rows | None, entry: JournalEntry) -> Rows:
    """The whole Journal tab with `entry` appended (rows kept as they were, header ensured)."""
    existing = [list(r) for r in (rows or [])]
    if not existing or [text(v) for v in existing[0]][: len(HEADERS)] != HEADERS:
        existing = [list(HEADERS), *(existing[1:] if existing else [])]
    return [*existing, entry.as_row()]
