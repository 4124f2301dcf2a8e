"""Backends: where the registry lives. One small interface, two implementations.

- `read()` returns the raw rows of every tab the registry needs (staff tabs and owned tabs),
  in one go (one HTTP request for Google Sheets).
- `write(contents, previous, appended)` replaces the *whole* contents of tool-owned tabs
  (`contents`: Éligibilité, Bilan organisations) and adds `appended` rows at the end of
  tool-owned tabs *as they are at write time* (the Journal row: a row another run added
  since our read stays), and nothing else, in one go (one HTTP request for Google Sheets);
  `previous` is the snapshot read earlier, so leftover rows of a longer previous content are
  cleared.
- `initialise(layout, data, force, dry_run)` creates missing tabs/headers (`gt init`): it
  reads what it needs, lets `initplan.plan_init` decide, and applies that plan.

A backend keeps no state between `read()` and `write()`: whatever a write needs to know about
the registry (real tab names, Google's grid sizes and sheet IDs) travels in the `Snapshot`.

Nothing from Google is imported unless the sheet is a Google one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from ..errors import ConfigError
from ..model import Problem, Rows

if TYPE_CHECKING:
    from ..config import Config

# `…/spreadsheets/d/KEY/edit`, also `…/spreadsheets/u/1/d/KEY/…` (several accounts signed in);
# `…/d/e/2PACX…` is a "Publish to the web" link: no key, read-only, refused with a hint.
GOOGLE_URL = re.compile(r"docs\.google\.com/spreadsheets/(?:u/\d+/)?d/(?!e/)([A-Za-z0-9_-]+)")
PUBLISHED_URL = re.compile(r"docs\.google\.com/spreadsheets/(?:u/\d+/)?d/e/")
SHEET_URL_HINT = (
    "ouvrez la feuille dans Google Sheets et copiez l'adresse de la barre d'adresse "
    "(https://docs.google.com/spreadsheets/d/CLÉ/edit), ou donnez seulement la clé"
)
GOOGLE_KEY = re.compile(r"^[A-Za-z0-9_-]{30,}$")
NOTHING_APPENDED: Mapping[str, Rows] = MappingProxyType({})


@dataclass
class Snapshot:
    """What `read()` returns: rows per tab name (header row first; ragged rows allowed),
    and the names of every tab that exists in the spreadsheet."""

    tabs: dict[str, Rows] = field(default_factory=dict)
    existing: tuple[str, ...] = ()
    # Configured tab name → the tab's real name, when staff spelled it differently
    # ("Presences" for "Présences"): `tabs` is keyed by the configured name, messages and
    # writes use the real one.
    actual: dict[str, str] = field(default_factory=dict)
    # Google Sheets only (empty for a workbook): each tab's grid (rows, columns) by real name,
    # so a write knows whether a tab must grow; and every tab's sheet ID by real name when
    # the read fetched the spreadsheet's metadata (None: it did not, a write needing IDs asks).
    grid: dict[str, tuple[int, int]] = field(default_factory=dict)
    sheet_ids: dict[str, int] | None = None
    # Workbook only: (size, mtime_ns, sha256) of the file as read, so a write refuses a file
    # changed since; and data problems found while reading (a stray far cell, ignored).
    version: tuple[int, int, str] | None = None
    problems: list[Problem] = field(default_factory=list)

    def real_name(self, configured: str) -> str:
        return self.actual.get(configured, configured)


@dataclass(frozen=True)
class TabLayout:
    """A tab to create for `gt init`: headers, and the drop-down choices per header."""

    name: str
    headers: tuple[str, ...]
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    owned: bool = False  # tool-owned: protected with a warning


@dataclass
class InitReport:
    created_tabs: list[str] = field(default_factory=list)
    added_headers: dict[str, list[str]] = field(default_factory=dict)
    filled_tabs: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created_tabs or self.added_headers or self.filled_tabs)


class Backend(Protocol):
    description: str
    location: str  # the same registry's same name from any folder: a real path, an address

    def read(self) -> Snapshot: ...

    def write(
        self,
        contents: dict[str, Rows],
        previous: Snapshot,
        appended: Mapping[str, Rows] = NOTHING_APPENDED,
    ) -> None: ...

    def identity(self) -> str: ...

    def exclusive(
        self, notice: Callable[[str], None] | None = None
    ) -> AbstractContextManager[None]:
        """Held from the read to the write by every command that writes: no other writer
        in between (a lock file beside a workbook; nothing on Google Sheets, whose write
        appends the Journal row atomically). `notice` is told when it has to wait."""
        ...

    def initialise(
        self,
        layout: list[TabLayout],
        data: dict[str, Rows] | None,
        force: bool,
        dry_run: bool = False,
    ) -> InitReport: ...


def google_key(sheet: str) -> str | None:
    """The spreadsheet key of a Google Sheets URL or bare key, or None for a file path.
    A web address that names no spreadsheet (a published link, a document) is refused
    rather than taken for a path, whose folders `gt init` would create."""
    match = GOOGLE_URL.search(sheet)
    if match:
        return match.group(1)
    if PUBLISHED_URL.search(sheet):
        raise ConfigError(
            f"{sheet} : c'est un lien de publication (« Publier sur le Web ») : il ne donne "
            "qu'une copie en lecture seule, sans la clé de la feuille",
            SHEET_URL_HINT,
        )
    if re.match(r"^[a-z][a-z0-9+.-]*://", sheet, re.IGNORECASE) or "docs.google.com" in sheet:
        raise ConfigError(
            f"{sheet} : ce n'est pas l'adresse d'une feuille Google Sheets",
            SHEET_URL_HINT + " ; pour un classeur, donnez le chemin d'un fichier .xlsx",
        )
    if GOOGLE_KEY.match(sheet) and not Path(sheet).suffix:
        return sheet
    return None


def open_backend(config: Config) -> Backend:
    """The backend for `config.sheet`: Google Sheets for a URL or key, a workbook otherwise."""
    key = google_key(config.sheet)
    if key is not None:
        from .gsheets import GoogleSheetsBackend

        return GoogleSheetsBackend(key, config)
    from .xlsx import WorkbookBackend

    return WorkbookBackend(Path(config.sheet), config)


def match_tabs(wanted: Iterable[str], existing: Iterable[str]) -> dict[str, str]:
    """Each wanted tab → the existing tab of that name, exactly, else ignoring case, accents,
    spaces and punctuation (as headers are). Wanted tabs with no match are left out."""
    from ..parsing import normalise_header

    existing = list(existing)
    loose: dict[str, str] = {}
    for name in existing:
        loose.setdefault(normalise_header(name), name)
    found: dict[str, str] = {}
    for name in wanted:
        if name in existing:
            found[name] = name
        elif normalise_header(name) in loose:
            found[name] = loose[normalise_header(name)]
    return found


def header_spellings(config: Config, tab_name: str) -> dict[str, set[str]]:
    """For a staff tab: each configured header → every spelling that counts as it (header and
    aliases, normalised as the loader compares them). Empty for other tabs."""
    from ..parsing import normalise_header

    for spec in config.staff_tabs.values():
        if spec.name == tab_name:
            return {
                f.header: {normalise_header(n) for n in (f.header, *f.aliases)} for f in spec.fields
            }
    return {}


def tab_names(config: Config) -> list[str]:
    """Every tab a read asks for: staff tabs then owned tabs, in config order."""
    return [t.name for t in config.staff_tabs.values()] + [
        t.name for t in config.owned_tabs.values()
    ]
