"""The registry model: plain dataclasses, each record knowing the cells it came from.

Every backend (xlsx, Google Sheets) produces the same raw rows; `loader.load_registry`
turns them into these records, so the rules never know where the data came from.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# A cell value as backends return it: text, numbers, booleans, dates/times, or empty.
Value = str | int | float | bool | dt.datetime | dt.date | dt.time | None
Rows = list[list[Value]]

# Canonical meeting types and attendance statuses (the contract's spelling).
LAUNCH, MEETING, BREAKFAST, EVENING = "Lancement", "Réunion", "Petit-déjeuner", "Soirée"
MEETING_TYPES = (LAUNCH, MEETING, BREAKFAST, EVENING)
GROUP_MEETING_TYPES = (MEETING, BREAKFAST)
PRESENT, EXCUSED, ABSENT = "présent", "excusé", "absent"
ORGANISATION_TYPES = (
    "Acteur public",
    "Économie sociale et solidaire",
    "Entreprise",
    "ONG",
    "Média",
    "Recherche et enseignement supérieur",
)
LANGUAGES = ("fr", "en", "es", "pt")
OVERRIDE_ACTIVE, OVERRIDE_INACTIVE = "actif", "inactif"


def column_letter(column: int) -> str:
    """1 → A, 27 → AA (by hand: importing openpyxl for this would cost every run 0.4 s)."""
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_number(letters: str) -> int:
    """A → 1, AA → 27: the inverse of `column_letter`."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def quote_tab(tab: str) -> str:
    """A tab name as written in an A1 range for the Sheets API (`'My tab'`, `Sheet1`)."""
    if tab.replace("_", "").isalnum() and tab.isascii():
        return tab
    return "'" + tab.replace("'", "''") + "'"


@dataclass(frozen=True, order=True)
class Location:
    """Where a value came from: tab, 1-based row and column (None for a whole tab or row)."""

    tab: str
    row: int | None = None
    column: int | None = None

    @property
    def ref(self) -> str:
        """A1 reference for messages: `Présences!B17`, `Présences!17`, or `Présences`."""
        if self.row is None:
            return self.tab if self.column is None else f"{self.tab}!{column_letter(self.column)}"
        if self.column is None:
            return f"{self.tab}!{self.row}"
        return f"{self.tab}!{column_letter(self.column)}{self.row}"


_LINE_BREAKS = re.compile(r"\r\n|[\n\r\v\f\x85\u2028\u2029]")


@dataclass(frozen=True)
class Problem:
    """A data problem found in the sheet: where, a stable code, a French message and a hint."""

    location: Location
    code: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        """One line, whatever the cell quoted: a line break in it is shown as ⏎."""
        text = f"{self.location.ref} : {self.message}"
        return _LINE_BREAKS.sub("⏎", f"{text} ({self.hint})" if self.hint else text)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tab": self.location.tab,
            "row": self.location.row,
            "column": None if self.location.column is None else column_letter(self.location.column),
            "cell": self.location.ref,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }


class RowSource(NamedTuple):
    """The row a record came from and the column of each of its fields (1-based).
    A named tuple: 100k attendance rows each carry one, so it must be cheap to make."""

    tab: str
    row: int
    columns: dict[str, int] = {}  # noqa: RUF012  (shared per tab, never mutated)

    def cell(self, field_name: str) -> Location:
        return Location(self.tab, self.row, self.columns.get(field_name))


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    type: str
    country: str = ""
    city: str = ""
    website: str = ""
    partner: bool = False
    forum_coorganiser: bool = False
    has_room: bool = False
    address: str = ""
    source: RowSource | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Person:
    id: str
    first_name: str
    last_name: str
    email: str  # trimmed, as typed; "" when missing
    organisation_id: str  # resolved to the organisation's ID ("" when unknown)
    phone: str = ""
    function: str = ""
    groups: tuple[str, ...] = ()
    language: str = "fr"
    opted_out: bool = False
    charter_signed: dt.date | None = None
    override: str | None = None  # "actif" / "inactif" / None (computed)
    notes: str = ""
    email_valid: bool = True  # False when missing or rejected by email-validator
    source: RowSource | None = field(default=None, compare=False)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def sort_key(self) -> tuple[str, str, str]:
        """Alphabetical by last name, then first name, then ID (accents folded)."""
        from .parsing import fold

        return (fold(self.last_name), fold(self.first_name), self.id)


@dataclass(frozen=True)
class Group:
    code: str
    name: str
    description: str = ""
    co_animation: str = ""
    platform: str = ""
    referent: str = ""
    referent_email: str = ""
    source: RowSource | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Meeting:
    id: str
    type: str  # one of MEETING_TYPES
    date: dt.date | None
    group: str | None = None  # group code for Réunion / Petit-déjeuner
    start: dt.time | None = None
    end: dt.time | None = None
    place: str = ""
    address: str = ""
    host_id: str = ""
    theme: str = ""
    video_link: str = ""
    source: RowSource | None = field(default=None, compare=False)
    unreadable_date: str = field(default="", compare=False)  # the cell, when not a date
    # ("start" or "end", the cell) for each time cell that is not a time
    unreadable_times: tuple[tuple[str, str], ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Attendance:
    meeting_id: str
    person_id: str  # resolved to the person's ID
    status: str = PRESENT  # PRESENT / EXCUSED / ABSENT
    comment: str = ""
    source: RowSource | None = field(default=None, compare=False)


@dataclass
class Registry:
    """Everything the staff keep, validated; rows with blocking problems are left out."""

    organisations: dict[str, Organisation] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    meetings: dict[str, Meeting] = field(default_factory=dict)
    attendance: list[Attendance] = field(default_factory=list)
    # Raw rows of the tabs the tool owns (Éligibilité, Bilan organisations, Journal), header
    # included, keyed by their logical name ("eligibility", "summary", "journal"); a missing
    # tab is absent.
    owned: dict[str, Rows] = field(default_factory=dict)
    # False when `Personnes` has no opt-out column and the configuration does not say that
    # this registry has none: then nobody may be contacted or exported.
    opt_out_column: bool = True

    def members_of(self, group_code: str) -> list[Person]:
        return [p for p in self.people.values() if group_code in p.groups]

    def organisation_of(self, person: Person) -> Organisation | None:
        return self.organisations.get(person.organisation_id)
