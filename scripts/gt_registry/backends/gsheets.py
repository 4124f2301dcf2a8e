"""The registry in a shared Google Sheets spreadsheet, through gspread's low-level HTTP client.

Request budget, which shapes this module:

- steady state: a run reads every tab with ONE `values:batchGet` and writes every tool-owned
  tab with at most ONE `values:batchUpdate` (RAW);
- first run (tool-owned tabs missing): the read costs 3 requests (the batchGet answers 400,
  then one metadata request and one batchGet of the tabs that exist), the write ONE
  `spreadsheets:batchUpdate` that creates the tabs, fills every owned tab and protects the
  new ones, atomically;
- a tab spelled differently from the configuration ("Presences" for "Présences"; case alone
  does not count, Sheets ignores it) costs the same 2 extra read requests on every run until
  staff rename it, as `gt check` asks them to;
- a tool-owned tab outgrowing its grid: one metadata request, then the write is one
  `spreadsheets:batchUpdate` (growth and cells together);
- `gt init`: one metadata request, one batchGet, at most one batchUpdate and one
  values:batchUpdate.

gspread's `open_by_key()` and `worksheet()` each cost a metadata request, so they are never
used here.
"""

from __future__ import annotations

import datetime as dt
import getpass
import math
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gspread
import requests
from google.auth import exceptions as auth_errors
from google.auth.credentials import Credentials
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from gspread.utils import rowcol_to_a1

from ..config import Config
from ..errors import SourceError, WriteFailed
from ..model import Rows, Value, quote_tab
from ..parsing import normalise_header as _fold  # the loader's own header comparison
from . import InitReport, Snapshot, TabLayout, match_tabs, tab_names

# Spreadsheets only: the tool never needs Drive, so a leaked token cannot list files.
SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
SHEETS_URL = "https://docs.google.com/spreadsheets/d/{key}"

# Statuses worth retrying (quota, timeouts, Google's transient failures); 400/401/403/404
# are answers, not accidents, and are never retried.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
DROPPED = (
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.Timeout,
    auth_errors.TransportError,  # the token request itself was cut
)
MAX_ATTEMPTS = 5
MAX_WAIT = 120.0  # seconds of back-off per request, all attempts together
FIRST_DELAY = 4.0  # Sheets quotas are per minute: 4 + 8 + 16 + 32 s spans one
MAX_DELAY = 45.0
SLEEP: Callable[[float], None] = time.sleep  # patched by tests
TIMEOUT = (10.0, 90.0)  # connect, read: a hung connection must not block a scheduler forever

NEW_TAB_ROWS, NEW_TAB_COLUMNS = 1000, 26  # Google's defaults for a new tab
GROWTH_MARGIN = 200  # rows added beyond the need, so growing stays rare
RENDER = {
    "valueRenderOption": "UNFORMATTED_VALUE",
    "dateTimeRenderOption": "SERIAL_NUMBER",  # the loader converts serials per column
    "majorDimension": "ROWS",
}
PROTECTION_NOTE = (
    "Onglet tenu par l'outil gt : il est réécrit à chaque synchronisation, "
    "ne le modifiez pas à la main."
)
CREDENTIALS_HINT = (
    "indiquez la clé JSON d'un compte de service avec --credentials CHEMIN "
    "ou la variable GOOGLE_APPLICATION_CREDENTIALS"
)


class RetriesExhausted(Exception):
    """A request still failed after every allowed attempt."""

    def __init__(self, attempts: int, cause: Exception) -> None:
        super().__init__(f"{attempts} tentatives : {cause}")
        self.attempts = attempts
        self.cause = cause


class RetryingHTTPClient(HTTPClient):
    """gspread's HTTP client with a bounded retry (its BackOffHTTPClient never gives up on
    a persistent 429): capped exponential back-off with jitter, `MAX_ATTEMPTS` attempts and
    `MAX_WAIT` seconds of waiting at most, then `RetriesExhausted`."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        waited = 0.0
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return super().request(*args, **kwargs)
            except APIError as err:
                # The HTTP status, not err.code: an HTML 502 page leaves err.code at -1.
                if err.response.status_code not in RETRY_STATUSES:
                    raise
                cause: Exception = err
            except DROPPED as err:
                cause = err
            delay = _delay(attempt, cause)
            if attempt == MAX_ATTEMPTS or waited + delay > MAX_WAIT:
                raise RetriesExhausted(attempt, cause) from cause
            SLEEP(delay)
            waited += delay
        raise AssertionError("unreachable")


def _delay(attempt: int, cause: Exception) -> float:
    """Exponential back-off with equal jitter (so many runs do not retry in step), or the
    server's Retry-After when it gives one."""
    base = min(MAX_DELAY, FIRST_DELAY * 2 ** (attempt - 1))
    delay = base / 2 + random.uniform(0, base / 2)
    if isinstance(cause, APIError):
        retry_after = cause.response.headers.get("Retry-After", "")
        if retry_after.isdigit():
            delay = max(delay, min(float(retry_after), MAX_DELAY))
    return delay


@dataclass(frozen=True)
class _Sheet:
    """What `gt init` needs to know about an existing tab, from the metadata."""

    title: str
    sheet_id: int
    rows: int
    columns: int
    frozen_rows: int
    protected: bool


class GoogleSheetsBackend:
    """The registry in a Google Sheets spreadsheet, shared with a service account."""

    def __init__(self, key: str, config: Config) -> None:
        self.key = key
        self.config = config
        self.description = SHEETS_URL.format(key=key)
        self._credentials: Credentials | None = None
        self._client: gspread.Client | None = None
        # Grid size (rows, columns) per folded real tab name, as the last read saw it: lets
        # a write know, without a metadata request, whether a tab must grow first.
        self._grids: dict[str, tuple[int, int]] = {}
        # Configured tab name → its real name, as found by the last read: later reads ask
        # for the real name directly.
        self._real: dict[str, str] = {}
        # Every tab's ID and size, when the last read needed the metadata (first run): the
        # write that follows creates the missing tabs without asking again.
        self._meta: dict[str, _Sheet] | None = None

    # -- credentials and client -------------------------------------------------------

    def _creds(self) -> Credentials:
        if self._credentials is None:
            self._credentials = load_credentials(self.config.credentials)
        return self._credentials

    def _http(self) -> HTTPClient:
        """gspread's HTTP client, built on first use (no credentials read before that)."""
        if self._client is None:
            client = gspread.Client(auth=self._creds(), http_client=RetryingHTTPClient)
            client.set_timeout(TIMEOUT)
            self._client = client
        return self._client.http_client

    def identity(self) -> str:
        """Who writes: the service account's e-mail, else what ADC knows, else the OS user."""
        creds = self._creds()
        for attribute in ("service_account_email", "account"):
            value = getattr(creds, attribute, None)
            if isinstance(value, str) and "@" in value:
                return value
        try:
            return getpass.getuser()
        except (OSError, KeyError):  # no login name in some containers
            return "inconnu"

    # -- read -------------------------------------------------------------------------

    def read(self) -> Snapshot:
        """Every registry tab in one `values:batchGet`. A tab that cannot be found under
        the name asked for (first run: owned tabs missing; a staff tab spelled differently,
        "Presences" for "Présences") costs one metadata request and one more batchGet,
        so 3 requests for that run. Tab names differing only in case cost nothing (Sheets
        matches them itself). The real names found are remembered, so a later read by the
        same backend asks for them directly; a new run pays the 2 extra requests again
        until the tab is renamed, which `gt check` tells staff to do."""
        names = tab_names(self.config)
        self._meta = None
        with self._errors(writing=False):
            asked = {name: self._real.get(name, name) for name in names}
            try:
                tabs, titles = self._batch_get(asked)
            except APIError as err:
                if not _unknown_range(err):
                    raise
            else:
                actual = {name: title for name, title in titles.items() if title != name}
                self._real.update(titles)
                return Snapshot(tabs=tabs, existing=tuple(titles.values()), actual=actual)
            sheets = self._sheets()
            self._meta = sheets
            existing = [sheet.title for sheet in sheets.values()]
            found = match_tabs(names, existing)
            tabs, titles = self._batch_get(found) if found else ({}, {})
            self._real = dict(titles)
            actual = {name: title for name, title in titles.items() if title != name}
            return Snapshot(tabs=tabs, existing=tuple(existing), actual=actual)

    def _batch_get(self, asked: Mapping[str, str]) -> tuple[dict[str, Rows], dict[str, str]]:
        """Whole tabs, `asked` = {configured name: tab name to ask for}: rows per configured
        name (Sheets' JSON types kept: text, numbers, booleans), and each tab's real title as
        Sheets echoes it (a name differing only in case is matched by Sheets itself)."""
        ranges = [quote_tab(title) for title in asked.values()]
        response = self._http().values_batch_get(self.key, ranges, params=dict(RENDER))
        tabs: dict[str, Rows] = {}
        titles: dict[str, str] = {}
        for (name, title), value_range in zip(
            asked.items(), response.get("valueRanges", []), strict=False
        ):
            echoed = value_range.get("range", "")
            title = _range_title(echoed) or title
            titles[name] = title
            grid = _grid_size(echoed)
            if grid is not None:
                self._grids[title.casefold()] = grid
            tabs[name] = [list(row) for row in value_range.get("values", [])]
        return tabs, titles

    def _rows_of(self, ranges: Mapping[str, str]) -> dict[str, Rows]:
        """Rows per name for arbitrary A1 ranges ({name: range}), e.g. header rows."""
        response = self._http().values_batch_get(
            self.key, list(ranges.values()), params=dict(RENDER)
        )
        return {
            name: [list(row) for row in value_range.get("values", [])]
            for name, value_range in zip(ranges, response.get("valueRanges", []), strict=False)
        }

    # -- write ------------------------------------------------------------------------

    def write(self, contents: dict[str, Rows], previous: Snapshot) -> None:
        """Replace the whole contents of tool-owned tabs, all or nothing, in ONE request:

        - steady state (every tab exists and is big enough): one `values:batchUpdate`
          (RAW), padded with blanks to clear what the previous contents had beyond;
        - a tab to create or to grow (first run, a tab outgrowing its grid): one
          `spreadsheets:batchUpdate` holding the new tabs (addSheet, with sheet IDs chosen
          here), the growth (appendDimension), every tab's cells (updateCells over the
          whole tab: whatever else it held is blanked) and the warning protection of the new
          tabs. Google applies a batchUpdate atomically, so a failure leaves the sheet as
          it was, new tabs included. Sheet IDs come from the read's metadata when it
          fetched some (first run), else cost one metadata request first.

        Tabs are written under their real names (`previous.actual`)."""
        self._refuse_staff_tabs(contents, previous)
        if not contents:
            return
        known = list(dict.fromkeys([*previous.existing, *previous.actual.values(), *previous.tabs]))
        titles: dict[str, str] = {}
        missing: list[str] = []
        for name in contents:
            wanted = previous.real_name(name)
            found = match_tabs([wanted], known).get(wanted)
            titles[name] = found or self._real.get(name, wanted)
            if found is None:
                missing.append(name)
        sizes = {name: (max(len(rows), 1), max(_width(rows), 1)) for name, rows in contents.items()}
        short = [
            name
            for name in contents
            if name not in missing
            and (grid := self._grids.get(titles[name].casefold()))
            and (sizes[name][0] > grid[0] or sizes[name][1] > grid[1])
        ]
        with self._errors(writing=True):
            if not missing and not short:
                data = [
                    _value_range(titles[name], rows, _tab_rows(previous.tabs, name))
                    for name, rows in contents.items()
                ]
                self._http().values_batch_update(
                    self.key, body={"valueInputOption": "RAW", "data": data}
                )
                return
            sheets = self._meta if self._meta is not None else self._sheets()
            requests_ = self._structured_write(contents, titles, sheets)
            self._http().batch_update(self.key, {"requests": requests_})
        self._meta = None  # sheet IDs and sizes changed: never reuse them

    def _structured_write(
        self, contents: Mapping[str, Rows], titles: Mapping[str, str], sheets: Mapping[str, _Sheet]
    ) -> list[dict[str, Any]]:
        """The requests of one atomic `spreadsheets:batchUpdate`: new tabs and growth first,
        then the cells of every tab, then the protection of the new tabs."""
        next_id = _free_sheet_id(sheet.sheet_id for sheet in sheets.values())
        structure: list[dict[str, Any]] = []
        cells: list[dict[str, Any]] = []
        protections: list[dict[str, Any]] = []
        for name, rows in contents.items():
            height, width = max(len(rows), 1), max(_width(rows), 1)
            sheet = _find_sheet(sheets, titles[name])
            if sheet is None:
                sheet_id, next_id = next_id, next_id + 1
                grid = (max(NEW_TAB_ROWS, height + GROWTH_MARGIN), max(NEW_TAB_COLUMNS, width))
                structure.append(_add_sheet(titles[name], sheet_id, *grid))
                protections.append(_protection(sheet_id))
            else:
                sheet_id = sheet.sheet_id
                grid = (sheet.rows, sheet.columns)
                if height > sheet.rows or width > sheet.columns:
                    structure += _grow(sheet, height + GROWTH_MARGIN, width)
                    grid = (max(sheet.rows, height + GROWTH_MARGIN), max(sheet.columns, width))
            title = sheet.title if sheet is not None else titles[name]
            self._grids[title.casefold()] = grid
            self._real[name] = title
            cells.append(_update_cells(sheet_id, rows))
        return structure + cells + protections

    def _refuse_staff_tabs(self, contents: Mapping[str, Rows], previous: Snapshot) -> None:
        """Staff tabs are never written: compared loosely (case, accents, spaces and
        punctuation ignored), by configured and by real name."""
        staff = [tab.name for tab in self.config.staff_tabs.values()]
        staff += [previous.real_name(name) for name in staff]
        for name in contents:
            if match_tabs([name, previous.real_name(name)], staff):
                raise SourceError(
                    f"{self.description} : refus d'écrire dans l'onglet « {name} », "
                    "qui appartient à l'équipe (l'outil ne fait que le lire)",
                    "seuls les onglets tenus par l'outil peuvent être réécrits",
                )

    def _sheets(self) -> dict[str, _Sheet]:
        """One metadata request: every tab's ID, title, size, frozen rows and protection,
        keyed by folded title, in the spreadsheet's order."""
        fields = (
            "sheets(properties(sheetId,title,gridProperties),"
            "protectedRanges(protectedRangeId,warningOnly))"
        )
        meta = self._http().fetch_sheet_metadata(
            self.key, params={"fields": fields, "includeGridData": "false"}
        )
        sheets = {}
        for sheet in meta.get("sheets", []):
            props = sheet.get("properties", {})
            grid = props.get("gridProperties", {})
            found = _Sheet(
                title=props["title"],
                sheet_id=int(props.get("sheetId", 0)),
                rows=int(grid.get("rowCount", 0)),
                columns=int(grid.get("columnCount", 0)),
                frozen_rows=int(grid.get("frozenRowCount", 0)),
                protected=bool(sheet.get("protectedRanges")),
            )
            sheets[found.title.casefold()] = found
            self._grids[found.title.casefold()] = (found.rows, found.columns)
        return sheets

    # -- init -------------------------------------------------------------------------

    def initialise(
        self,
        layout: list[TabLayout],
        data: dict[str, Rows] | None,
        force: bool,
        dry_run: bool = False,
    ) -> InitReport:
        """Add missing tabs and headers, drop-downs, a frozen header row and a warning
        protection on tool-owned tabs; fill empty tabs with `data` (every tab with `force`).
        Costs one metadata request and one batchGet, then at most one `batchUpdate` and
        one `values:batchUpdate`; a complete registry sends no write at all."""
        data = data or {}
        with self._errors(writing=True):
            sheets = self._sheets()
            current = self._current_rows(layout, data, sheets)
            plan = _InitPlan(self.config, sheets, data, force)
            for tab in layout:
                plan.add(tab, current.get(tab.name))
            if dry_run:
                return plan.report
            if plan.structure:
                self._http().batch_update(self.key, {"requests": plan.structure})
            if plan.values:
                self._http().values_batch_update(
                    self.key, body={"valueInputOption": "RAW", "data": plan.values}
                )
        return plan.report

    def _current_rows(
        self, layout: list[TabLayout], data: Mapping[str, Rows], sheets: Mapping[str, _Sheet]
    ) -> dict[str, Rows]:
        """Row 1 of every existing layout tab, or the whole tab when demo data may go there."""
        ranges = {}
        for tab in layout:
            sheet = _find_sheet(sheets, tab.name)
            if sheet is not None:
                whole = _tab_rows(data, tab.name) is not None
                ranges[tab.name] = quote_tab(sheet.title) + ("" if whole else "!1:1")
        return self._rows_of(ranges) if ranges else {}

    # -- errors -----------------------------------------------------------------------

    @contextmanager
    def _errors(self, writing: bool) -> Iterator[None]:
        """Turn gspread, google-auth and requests errors into our own, with a hint."""
        kind = WriteFailed if writing else SourceError
        nothing = " ; rien n'a été écrit dans la feuille" if writing else ""
        try:
            yield
        except RetriesExhausted as err:
            raise kind(
                f"{self.description} : Google Sheets ne répond pas ({_cause(err.cause)}) "
                f"après {err.attempts} tentatives{nothing}",
                "réessayez plus tard (quelques minutes suffisent en général)",
            ) from err
        except APIError as err:
            raise self._refused(err, kind, nothing) from err
        except auth_errors.RefreshError as err:
            raise kind(
                f"Google a refusé les identifiants du compte de service : {_first_line(err)}{nothing}",
                "la clé a peut-être été révoquée ; créez-en une nouvelle et " + CREDENTIALS_HINT,
            ) from err
        except (auth_errors.GoogleAuthError, requests.exceptions.RequestException) as err:
            raise kind(
                f"{self.description} : échec de la connexion à Google ({_first_line(err)}){nothing}",
                "vérifiez la connexion réseau, puis réessayez",
            ) from err

    def _refused(self, err: APIError, kind: type[SourceError], nothing: str) -> SourceError:
        status = err.response.status_code
        message = _first_line(err.error.get("message", "")) if err.error else ""
        if status == 403 and ("has not been used" in message or "disabled" in message):
            return kind(
                f"{self.description} : l'API Google Sheets n'est pas activée pour le projet "
                f"du compte de service{nothing}",
                "activez « Google Sheets API » dans la console Google Cloud de ce projet",
            )
        if status == 403:
            return kind(
                f"{self.description} : accès refusé à la feuille{nothing}",
                f"partagez la feuille avec {self.identity()} (en tant qu'éditeur)",
            )
        if status == 404:
            return kind(
                f"aucune feuille Google Sheets avec la clé {self.key}{nothing}",
                "vérifiez --sheet ou GT_SHEET : l'URL ou la clé de la feuille",
            )
        if status == 401:
            return kind(
                f"{self.description} : identifiants refusés par Google{nothing}", CREDENTIALS_HINT
            )
        return kind(
            f"{self.description} : Google Sheets a refusé la requête ({status} : {message}){nothing}",
            "vérifiez les noms d'onglets dans la configuration (onglet renommé ?)",
        )


class _InitPlan:
    """The requests `gt init` sends, built tab by tab: `structure` for
    `spreadsheets:batchUpdate`, `values` for `values:batchUpdate`."""

    def __init__(
        self,
        config: Config,
        sheets: Mapping[str, _Sheet],
        data: Mapping[str, Rows],
        force: bool,
    ) -> None:
        self.config = config
        self.sheets = sheets
        self.data = data
        self.force = force
        self.structure: list[dict[str, Any]] = []
        self.values: list[dict[str, Any]] = []
        self.report = InitReport()
        self._next_id = max((s.sheet_id for s in sheets.values()), default=0) + 1

    def add(self, tab: TabLayout, current: Rows | None) -> None:
        sheet = _find_sheet(self.sheets, tab.name)
        demo = _tab_rows(self.data, tab.name)
        wanted = _wanted_headers(tab, demo)
        if sheet is None:
            self._create(tab, wanted, demo)
        else:
            self._complete(tab, sheet, wanted, demo, current or [])

    def _create(self, tab: TabLayout, headers: list[str], demo: Rows | None) -> None:
        rows: Rows = [list(headers)]
        if demo:
            rows += _align(demo, headers, self._aliases(tab))
            self.report.filled_tabs.append(tab.name)
        sheet_id, self._next_id = self._next_id, self._next_id + 1
        grid = (max(NEW_TAB_ROWS, len(rows) + GROWTH_MARGIN), max(NEW_TAB_COLUMNS, len(headers)))
        self.structure.append(_add_sheet(tab.name, sheet_id, *grid))
        self._decorate(tab, sheet_id, headers, headers, protect=tab.owned)
        self.values.append(_value_range(tab.name, rows, []))
        self.report.created_tabs.append(tab.name)

    def _complete(
        self, tab: TabLayout, sheet: _Sheet, wanted: list[str], demo: Rows | None, current: Rows
    ) -> None:
        existing = [_text(cell) for cell in (current[0] if current else [])]
        aliases = self._aliases(tab)
        missing = [h for h in wanted if _column_of(h, existing, aliases) is None]
        headers = existing + missing
        fill = bool(demo) and (self.force or not _has_data(current))
        height = max(len(current), len(demo or []) if fill else 1, 1)
        self.structure += _grow(sheet, height, len(headers))
        if missing:
            first = len(existing) + 1
            self.values.append(
                {
                    "range": f"{quote_tab(sheet.title)}!{rowcol_to_a1(1, first)}:"
                    f"{rowcol_to_a1(1, len(headers))}",
                    "majorDimension": "ROWS",
                    "values": [missing],
                }
            )
            self.report.added_headers[tab.name] = missing
        protect = tab.owned and not sheet.protected
        freeze = bool(missing) and sheet.frozen_rows == 0
        self._decorate(tab, sheet.sheet_id, headers, missing, protect=protect, freeze=freeze)
        if fill and demo:
            self._fill(tab, sheet, headers, demo, current)

    def _fill(
        self, tab: TabLayout, sheet: _Sheet, headers: list[str], demo: Rows, current: Rows
    ) -> None:
        rows = _align(demo, headers, self._aliases(tab))
        value_range = _value_range(sheet.title, rows, current[1:], first_row=2)
        self.values.append(value_range)
        self.report.filled_tabs.append(tab.name)

    def _decorate(
        self,
        tab: TabLayout,
        sheet_id: int,
        headers: list[str],
        new_headers: list[str],
        *,
        protect: bool,
        freeze: bool = False,
    ) -> None:
        """Drop-downs on the new columns that have choices, a frozen header row, and a
        warning-only protection (staff are warned, never blocked)."""
        aliases = self._aliases(tab)
        for header, choices in tab.choices.items():
            column = _column_of(header, new_headers, aliases)
            if column is not None and choices:
                index = headers.index(new_headers[column])
                self.structure.append(_validation(sheet_id, index, choices))
        if freeze:
            self.structure.append(
                {
                    "updateSheetProperties": {
                        "properties": {
                            "sheetId": sheet_id,
                            "gridProperties": {"frozenRowCount": 1},
                        },
                        "fields": "gridProperties.frozenRowCount",
                    }
                }
            )
        if protect:
            self.structure.append(_protection(sheet_id))

    def _aliases(self, tab: TabLayout) -> dict[str, set[str]]:
        """Folded header → every folded spelling that counts as that header (config aliases)."""
        spec = next(
            (
                s
                for s in self.config.staff_tabs.values()
                if s.name.casefold() == tab.name.casefold()
            ),
            None,
        )
        if spec is None:
            return {}
        return {
            _fold(f.header): {_fold(f.header), *(_fold(a) for a in f.aliases)} for f in spec.fields
        }


# -- pure helpers ---------------------------------------------------------------------


def load_credentials(path: Path | None) -> Credentials:
    """A service-account key file's credentials, else Application Default Credentials,
    scoped to Sheets only. Errors never quote the key's contents."""
    if path is not None:
        from google.oauth2 import service_account

        try:
            return service_account.Credentials.from_service_account_file(str(path), scopes=SCOPES)
        except FileNotFoundError as err:
            raise SourceError(
                f"{path} : fichier d'identifiants introuvable", CREDENTIALS_HINT
            ) from err
        except OSError as err:
            raise SourceError(
                f"{path} : lecture impossible ({err.strerror})", CREDENTIALS_HINT
            ) from err
        except (ValueError, KeyError, auth_errors.GoogleAuthError) as err:
            raise SourceError(
                f"{path} : ce n'est pas une clé JSON de compte de service valide",
                "téléchargez une clé JSON (type « service_account ») depuis la console Google "
                "Cloud ; " + CREDENTIALS_HINT,
            ) from err
    import google.auth

    try:
        credentials, _project = google.auth.default(scopes=SCOPES)
    except auth_errors.GoogleAuthError as err:
        raise SourceError(
            f"aucun identifiant Google utilisable ({_first_line(err)})", CREDENTIALS_HINT
        ) from err
    return credentials


def _unknown_range(err: APIError) -> bool:
    """Sheets' answer to a range naming a tab that does not exist."""
    message = str(err.error.get("message", "")) if err.error else ""
    return err.response.status_code == 400 and message.startswith("Unable to parse range")


def _cause(err: Exception) -> str:
    if isinstance(err, APIError):
        status = err.response.status_code
        return "quota de requêtes dépassé (429)" if status == 429 else f"erreur {status}"
    if isinstance(err, requests.exceptions.Timeout):
        return "délai d'attente dépassé"
    return "connexion interrompue"


def _first_line(value: object) -> str:
    return str(value).strip().splitlines()[0] if str(value).strip() else ""


def _find_sheet(sheets: Mapping[str, _Sheet], name: str) -> _Sheet | None:
    """The tab of that name, exactly or spelled differently (case, accents, spaces)."""
    titles = {sheet.title: sheet for sheet in sheets.values()}
    real = match_tabs([name], titles).get(name)
    return titles[real] if real is not None else None


def _range_title(a1: str) -> str | None:
    """The tab name of a range as Sheets echoes it: `'My tab'!A1:B2` → `My tab`."""
    if a1.startswith("'"):
        end = a1.rfind("'!")
        return a1[1:end].replace("''", "'") if end > 0 else None
    title, bang, _ = a1.rpartition("!")
    return title if bang and title else None


def _free_sheet_id(used: Iterable[int]) -> int:
    """A sheet ID no tab has, such that the next few are free too (Google accepts any
    non-negative 31-bit ID chosen by the caller)."""
    taken = set(used)
    start = max(taken, default=0) + 1
    if start + 16 < 2**31:
        return start
    return next(i for i in range(1, 2**31, 16) if not taken & set(range(i, i + 16)))


def _tab_rows(tabs: Mapping[str, Rows], name: str) -> Rows | None:
    for key, rows in tabs.items():
        if key.casefold() == name.casefold():
            return rows
    return None


_RANGE_END = re.compile(r"!\$?([A-Z]+)\$?(\d+):\$?([A-Z]+)\$?(\d+)$")


def _grid_size(a1: str) -> tuple[int, int] | None:
    """(rows, columns) of a whole-tab range as Sheets echoes it: `Tab!A1:Z1000`."""
    match = _RANGE_END.search(a1)
    if match is None:
        return None
    letters = match.group(3)
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - ord("A") + 1
    return int(match.group(4)), column


def _cell(value: Value | object) -> str | int | float | bool:
    """A value as sent with RAW input: dates as ISO text, None and non-finite numbers blank."""
    if value is None:
        return ""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else ""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _width(rows: Rows) -> int:
    return max((len(row) for row in rows), default=0)


def _value_range(
    name: str, rows: Rows, previous: Rows | None, first_row: int = 1
) -> dict[str, Any]:
    """`rows` written from column A of `first_row`, padded with blanks so that whatever the
    previous content had beyond them (rows or columns) is cleared in the same request."""
    previous = previous or []
    height = max(len(rows), len(previous), 1)
    width = max(_width(rows), _width(previous), 1)
    values = [[_cell(v) for v in row] + [""] * (width - len(row)) for row in rows]
    values += [[""] * width for _ in range(height - len(rows))]
    last = rowcol_to_a1(first_row + height - 1, width)
    return {
        "range": f"{quote_tab(name)}!{rowcol_to_a1(first_row, 1)}:{last}",
        "majorDimension": "ROWS",
        "values": values,
    }


def _add_sheet(name: str, sheet_id: int | None, rows: int, columns: int) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "title": name,
        "gridProperties": {"rowCount": rows, "columnCount": columns, "frozenRowCount": 1},
    }
    if sheet_id is not None:  # chosen by us, so later requests of the batch can name it
        properties["sheetId"] = sheet_id
    return {"addSheet": {"properties": properties}}


def _cell_data(value: Value | object) -> dict[str, Any]:
    """A CellData for updateCells: text stays text (a stringValue is never read as a
    formula or a number), blanks are empty (clearing the cell)."""
    cell = _cell(value)
    if isinstance(cell, bool):
        return {"userEnteredValue": {"boolValue": cell}}
    if isinstance(cell, int | float):
        return {"userEnteredValue": {"numberValue": cell}}
    return {"userEnteredValue": {"stringValue": cell}} if cell != "" else {}


def _update_cells(sheet_id: int, rows: Rows) -> dict[str, Any]:
    """updateCells over the whole tab: `rows` from A1, every other cell of the tab blanked
    (Google clears what the rows do not cover in `range`, for the `fields` named)."""
    return {
        "updateCells": {
            "range": {"sheetId": sheet_id},
            "rows": [{"values": [_cell_data(value) for value in row]} for row in rows],
            "fields": "userEnteredValue",
        }
    }


def _protection(sheet_id: int) -> dict[str, Any]:
    """A warning-only protection of a whole tool-owned tab: staff are warned, never blocked."""
    return {
        "addProtectedRange": {
            "protectedRange": {
                "range": {"sheetId": sheet_id},
                "description": PROTECTION_NOTE,
                "warningOnly": True,
            }
        }
    }


def _grow(sheet: _Sheet, rows: int, columns: int) -> list[dict[str, Any]]:
    """appendDimension requests so that `sheet` has at least `rows` × `columns` cells."""
    growth = []
    for dimension, need, have in (("ROWS", rows, sheet.rows), ("COLUMNS", columns, sheet.columns)):
        if need > have:
            growth.append(
                {
                    "appendDimension": {
                        "sheetId": sheet.sheet_id,
                        "dimension": dimension,
                        "length": need - have,
                    }
                }
            )
    return growth


def _validation(sheet_id: int, column: int, choices: Sequence[str]) -> dict[str, Any]:
    """A drop-down under a header; not strict, since staff may need a value not yet listed.
    A single choice such as `=Groupes!$A$2:$A$200` is a range of choices, not a value."""
    if len(choices) == 1 and choices[0].startswith("="):
        condition = {"type": "ONE_OF_RANGE", "values": [{"userEnteredValue": choices[0]}]}
    else:
        condition = {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": c} for c in choices]}
    grid_range = {
        "sheetId": sheet_id,
        "startRowIndex": 1,
        "startColumnIndex": column,
        "endColumnIndex": column + 1,
    }
    return {
        "setDataValidation": {
            "range": grid_range,
            "rule": {"condition": condition, "strict": False, "showCustomUi": True},
        }
    }


def _text(value: Value | object) -> str:
    return "" if value is None else str(value).strip()


def _column_of(header: str, headers: Sequence[str], aliases: Mapping[str, set[str]]) -> int | None:
    """Index of `header` (or one of its aliases) in `headers`, or None."""
    key = _fold(header)
    spellings = aliases.get(key, {key})
    for index, existing in enumerate(headers):
        if _fold(existing) in spellings:
            return index
    return None


def _wanted_headers(tab: TabLayout, demo: Rows | None) -> list[str]:
    """The layout's headers, then any extra header the demo data brings."""
    headers = list(tab.headers)
    folded = {_fold(h) for h in headers}
    for cell in demo[0] if demo else []:
        text = _text(cell)
        if text and _fold(text) not in folded:
            headers.append(text)
            folded.add(_fold(text))
    return headers


def _align(demo: Rows, headers: Sequence[str], aliases: Mapping[str, set[str]]) -> Rows:
    """Demo data rows (header row first) rearranged into the tab's own column order."""
    positions = [_column_of(_text(cell), headers, aliases) for cell in demo[0]]
    rows: Rows = []
    for source in demo[1:]:
        row: list[Value] = [""] * len(headers)
        for position, value in zip(positions, source, strict=False):
            if position is not None:
                row[position] = value
        rows.append(row)
    return rows


def _has_data(rows: Rows) -> bool:
    """Whether a tab has any non-blank cell below its header row."""
    return any(_text(cell) for row in rows[1:] for cell in row)
