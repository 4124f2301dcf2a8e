"""The registry in a shared Google Sheets spreadsheet, through gspread's low-level HTTP client.

Request budget, which shapes this module:

- steady state: a run reads every tab with ONE `values:batchGet` and writes with at most ONE
  `spreadsheets:batchUpdate`, which Google applies all or nothing: `updateCells` over each
  tool-owned tab rewritten whole (Éligibilité, Bilan organisations; text stays text) and
  `appendCells` for the rows a run adds (its Journal row, its Brouillons records), so that a
  row another run appended meanwhile stays;
- first run (tool-owned tabs missing): the read costs 3 requests (the batchGet answers 400,
  then one metadata request and one batchGet of the tabs that exist); the same ONE
  batchUpdate also creates the tabs (addSheet) and protects the new ones;
- a tab spelled differently from the configuration ("Presences" for "Présences"; case alone
  does not count, Sheets ignores it) costs the same 2 extra read requests on every run until
  staff rename it, as `gt check` asks them to;
- a tool-owned tab outgrowing its grid: the growth (appendDimension) goes in the same batch;
  tabs not made by the tool cost one metadata request (their sheet IDs);
- a write that fails when it may have been applied (dropped connection, 5xx) is re-sent only
  after one read shows it was not (the appended rows carry the run's unique ID);
- `gt init`: one metadata request, one batchGet, at most one batchUpdate (tabs, cells as
  `updateCells`, drop-downs, protections), checked the same way before any re-send.

gspread's `open_by_key()` and `worksheet()` each cost a metadata request, so they are never
used here.
"""

from __future__ import annotations

import datetime as dt
import getpass
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import gspread
import requests
from google.auth import exceptions as auth_errors
from google.auth.credentials import Credentials
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient

from ..auth import refresh_failure, sheets_credentials
from ..config import Config
from ..errors import SourceError, WriteFailed
from ..initplan import Dropdown, InitPlan, plan_init
from ..journal import HEADERS as JOURNAL_HEADERS
from ..journal import parse_detail
from ..model import Rows, Value, column_letter, column_number, quote_tab
from ..retry import DROPPED, backoff
from . import (
    NOTHING_APPENDED,
    InitReport,
    Snapshot,
    TabLayout,
    header_spellings,
    match_tabs,
    tab_names,
)

SHEETS_URL = "https://docs.google.com/spreadsheets/d/{key}"

# Statuses worth retrying (quota, timeouts, Google's transient failures); 400/401/403/404
# are answers, not accidents, and are never retried.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_ATTEMPTS = 5
MAX_WAIT = 120.0  # seconds of back-off per request, all attempts together
FIRST_DELAY = 4.0  # Sheets quotas are per minute: 4 + 8 + 16 + 32 s spans one
MAX_DELAY = 45.0
SLEEP: Callable[[float], None] = time.sleep  # patched by tests
TIMEOUT = (10.0, 90.0)  # connect, read: a hung connection must not block a scheduler forever

NEW_TAB_ROWS, NEW_TAB_COLUMNS = 1000, 26  # Google's defaults for a new tab
GROWTH_MARGIN = 200  # rows added beyond the need, so growing stays rare
# The sheet IDs the tool gives the tabs it creates, so that a steady-state write (whose read
# is one values:batchGet, which tells no IDs) can name them; checked in the write itself.
OWNED_SHEET_IDS = {"eligibility": 1_700_000_001, "summary": 1_700_000_002, "journal": 1_700_000_003}
RECHECK_ROWS = 20  # rows above the read's last one a retry looks at (rows deleted meanwhile)
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
    `MAX_WAIT` seconds of waiting at most, then `RetriesExhausted`. `attempts` = 1 for a
    write whose retry must first check whether the failed attempt was applied."""

    attempts = MAX_ATTEMPTS

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        waited = 0.0
        for attempt in range(1, self.attempts + 1):
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
            if attempt == self.attempts or waited + delay > MAX_WAIT:
                raise RetriesExhausted(attempt, cause) from cause
            SLEEP(delay)
            waited += delay
        raise AssertionError("unreachable")

    @contextmanager
    def single_attempt(self) -> Iterator[None]:
        self.attempts = 1
        try:
            yield
        finally:
            self.attempts = MAX_ATTEMPTS


def _delay(attempt: int, cause: Exception) -> float:
    """Exponential back-off with equal jitter (so many runs do not retry in step), or the
    server's Retry-After when it gives one."""
    retry_after = (
        cause.response.headers.get("Retry-After", "") if isinstance(cause, APIError) else ""
    )
    return backoff(attempt, FIRST_DELAY, MAX_DELAY, retry_after)


@dataclass(frozen=True)
class _Sheet:
    """An existing tab, as the metadata describes it."""

    title: str
    sheet_id: int
    rows: int
    columns: int
    frozen_rows: int = 0
    protected: bool = False


class GoogleSheetsBackend:
    """The registry in a Google Sheets spreadsheet, shared with a service account."""

    def __init__(self, key: str, config: Config) -> None:
        self.key = key
        self.config = config
        self.description = SHEETS_URL.format(key=key)
        self.location = self.description
        self._credentials: Credentials | None = None
        self._client: gspread.Client | None = None
        # Configured tab name → its real name, as found by the last read: later reads ask
        # for the real name directly. Reads only: a write knows only its `previous` snapshot.
        self._real: dict[str, str] = {}

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

    @contextmanager
    def exclusive(self, notice: Callable[[str], None] | None = None) -> Iterator[None]:
        """No lock on Google Sheets: the write appends the Journal row atomically."""
        yield

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
        with self._errors(writing=False):
            asked = {name: self._real.get(name, name) for name in names}
            try:
                tabs, titles, grid = self._batch_get(asked)
            except APIError as err:
                if not _unknown_range(err):
                    raise
            else:
                self._real.update(titles)
                return _snapshot(tabs, titles, tuple(titles.values()), grid)
            sheets = self._sheets()
            found = match_tabs(names, [sheet.title for sheet in sheets.values()])
            tabs, titles, grid = self._batch_get(found) if found else ({}, {}, {})
            self._real = dict(titles)
            return _snapshot(
                tabs,
                titles,
                tuple(sheet.title for sheet in sheets.values()),
                {sheet.title: (sheet.rows, sheet.columns) for sheet in sheets.values()} | grid,
                {sheet.title: sheet.sheet_id for sheet in sheets.values()},
            )

    def _batch_get(
        self, asked: Mapping[str, str]
    ) -> tuple[dict[str, Rows], dict[str, str], dict[str, tuple[int, int]]]:
        """Whole tabs, `asked` = {configured name: tab name to ask for}: rows per configured
        name (Sheets' JSON types kept: text, numbers, booleans), each tab's real title as
        Sheets echoes it (a name differing only in case is matched by Sheets itself), and
        the grid size (rows, columns) per real title."""
        ranges = [quote_tab(title) for title in asked.values()]
        response = self._http().values_batch_get(self.key, ranges, params=dict(RENDER))
        tabs: dict[str, Rows] = {}
        titles: dict[str, str] = {}
        grids: dict[str, tuple[int, int]] = {}
        for (name, title), value_range in zip(
            asked.items(), response.get("valueRanges", []), strict=False
        ):
            echoed = value_range.get("range", "")
            title = _range_title(echoed) or title
            titles[name] = title
            grid = _grid_size(echoed)
            if grid is not None:
                grids[title] = grid
            tabs[name] = [list(row) for row in value_range.get("values", [])]
        return tabs, titles, grids

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

    def write(
        self,
        contents: dict[str, Rows],
        previous: Snapshot,
        appended: Mapping[str, Rows] = NOTHING_APPENDED,
    ) -> None:
        """Rewrite `contents` (whole tabs) and append `appended` (rows added after the last
        row of each tab *as it is when Google applies the write*: the Journal row), all or
        nothing, in ONE `spreadsheets:batchUpdate`: new tabs (addSheet, first run) and
        growth (appendDimension), `updateCells` over each rewritten tab (RAW: text stays
        text, a value starting with "=" included; what the tab held beyond is blanked),
        `appendCells` for the appended rows (two runs at once both keep their row), the
        warning protection of new tabs. Google applies a batchUpdate atomically.

        Sheet IDs: from the read's metadata when it fetched some (first run); else the IDs
        the tool gives the tabs it creates (`OWNED_SHEET_IDS`), each checked in the same
        batch by renaming the tab to the title just read (a no-op; a different tab, or none,
        makes Google refuse the whole batch); a refusal costs one metadata request and the
        batch again. Tabs are written under their real names (`previous.actual`).

        A write that fails when it may have been applied (a dropped connection, a 5xx) is
        retried only after reading back the tab (one request): if the appended rows (each
        carries its run's unique ID) are there, the write was applied and is not sent twice."""
        everything = {**contents, **appended}
        self._refuse_staff_tabs(everything, previous)
        appended = {name: rows for name, rows in appended.items() if rows}
        if not contents and not appended:
            return
        known = list(dict.fromkeys([*previous.existing, *previous.actual.values(), *previous.tabs]))
        titles: dict[str, str] = {}
        for name in everything:
            wanted = previous.real_name(name)
            titles[name] = match_tabs([wanted], known).get(wanted) or wanted
        with self._errors(writing=True):
            preferred = self._preferred_ids(previous)
            guessed = (
                None if previous.sheet_ids is not None else self._guess(titles, previous, preferred)
            )
            sheets = _known_sheets(previous) if previous.sheet_ids is not None else guessed
            if sheets is None:
                sheets = self._sheets()
            requests_ = _write_requests(
                contents, appended, titles, sheets, preferred, guard=bool(guessed)
            )

            def applied() -> bool:
                return self._applied(contents, appended, titles, previous)

            try:
                self._apply({"requests": requests_}, applied)
            except APIError as err:
                if not guessed or not _guess_refused(err):
                    raise
                sheets = self._sheets()  # a tab made by hand or by an older gt: its real ID
                # …written down in the Journal row, so that the next runs know it from the read
                appended = self._remember_ids(appended, sheets)
                requests_ = _write_requests(
                    contents, appended, titles, sheets, preferred, guard=False
                )
                self._apply({"requests": requests_}, applied)

    def _preferred_ids(self, previous: Snapshot | None = None) -> dict[str, int]:
        """Configured tool-owned tab name → its sheet ID: the one the Journal last wrote down
        (`onglets=` in Détail, for tabs an older gt or a person made), else the tool's own."""
        remembered = (
            _remembered_ids(previous.tabs.get(self.config.tab("journal"))) if previous else {}
        )
        return {
            spec.name: remembered.get(key, OWNED_SHEET_IDS[key])
            for key, spec in self.config.owned_tabs.items()
            if key in OWNED_SHEET_IDS
        }

    def _remember_ids(
        self, appended: Mapping[str, Rows], sheets: Mapping[str, _Sheet]
    ) -> dict[str, Rows]:
        """The Journal rows with the real sheet IDs of the tool's tabs added to their Détail."""
        found = {
            key: sheet.sheet_id
            for key, spec in self.config.owned_tabs.items()
            if (sheet := _find_sheet(sheets, spec.name)) is not None
        }
        journal_tab = self.config.tab("journal")
        if journal_tab not in appended or not found:
            return dict(appended)
        note = "onglets=" + ",".join(f"{key}:{sheet_id}" for key, sheet_id in found.items())
        at = JOURNAL_HEADERS.index("Détail")
        rows = []
        for row in appended[journal_tab]:
            cells = [*row, *[""] * (at + 1 - len(row))]
            cells[at] = "; ".join(part for part in (str(cells[at] or ""), note) if part)
            rows.append(cells)
        return {**appended, journal_tab: rows}

    def _guess(
        self, titles: Mapping[str, str], previous: Snapshot, preferred: Mapping[str, int]
    ) -> dict[str, _Sheet] | None:
        """The tabs to write as the tool made them (their sheet IDs, the grids the read saw),
        or None when one is not a tool-owned tab the read found."""
        sheets: dict[str, _Sheet] = {}
        for name, title in titles.items():
            grid = _folded_get(previous.grid, title)
            if name not in preferred or grid is None or title not in previous.existing:
                return None
            sheets[title.casefold()] = _Sheet(title, preferred[name], *grid)
        return sheets

    def _apply(self, body: dict[str, Any], applied: Callable[[], bool]) -> None:
        """One batchUpdate, retried like every request, except that after a failure which
        may have been applied (dropped connection, 5xx) `applied()` is asked first."""
        http = self._http()
        waited, uncertain = 0.0, False
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with _single_attempt(http):
                    http.batch_update(self.key, body)
                return
            except RetriesExhausted as err:
                cause = err.cause
            uncertain = _maybe_applied(cause)
            delay = _delay(attempt, cause)
            if attempt == MAX_ATTEMPTS or waited + delay > MAX_WAIT:
                if uncertain and applied():
                    return
                raise RetriesExhausted(attempt, cause) from cause
            SLEEP(delay)
            waited += delay
            if uncertain and applied():
                return
        raise AssertionError("unreachable")

    def _applied(
        self,
        contents: Mapping[str, Rows],
        appended: Mapping[str, Rows],
        titles: Mapping[str, str],
        previous: Snapshot,
    ) -> bool:
        """Whether a write that failed midway was applied: one read of the tab's last rows
        (from a little above where the read left it, to its end) for the appended rows,
        else of the rewritten tabs, compared with what was sent."""
        http = self._http()
        try:
            if appended:
                name, rows = next(iter(appended.items()))
                seen = len(_folded_get(previous.tabs, name) or [])
                first = max(1, seen + 1 - RECHECK_ROWS)
                last = column_letter(max(_width(rows), 1))
                answer = http.values_get(
                    self.key, f"{quote_tab(titles[name])}!A{first}:{last}", params=dict(RENDER)
                )
                return _contains(answer.get("values", []), rows)
            ranges = {name: quote_tab(titles[name]) for name in contents}
            found = self._rows_of(ranges)
            return all(_same(found.get(name, []), rows) for name, rows in contents.items())
        except APIError as err:
            if _unknown_range(err):
                return False  # the tab does not exist: a first-run write was not applied
            raise

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
        return sheets

    # -- init -------------------------------------------------------------------------

    def initialise(
        self,
        layout: list[TabLayout],
        data: dict[str, Rows] | None,
        force: bool,
        dry_run: bool = False,
    ) -> InitReport:
        """Apply `initplan.plan_init`'s plan (missing tabs and headers, drop-downs, a frozen
        header row, a warning protection on tool-owned tabs, `data` in empty tabs or, with
        `force`, in every tab). Costs one metadata request and one batchGet, then at most one
        `batchUpdate` (tabs, growth, decoration and cells: `updateCells`), applied by Google
        all or nothing; a complete registry sends no write. A failure that may have been
        applied (dropped connection, 5xx) is re-sent only after checking that it was not
        (`_init_applied`): never « already exists », never half a registry."""
        spellings = {tab.name: header_spellings(self.config, tab.name) for tab in layout}
        with self._errors(writing=True):
            sheets = self._sheets()
            current = self._init_snapshot(layout, data or {}, sheets)
            plan = plan_init(layout, current, data, force, spellings)
            if dry_run:
                return plan.report
            requests_ = _init_requests(plan, sheets, self._preferred_ids())
            if requests_:
                self._apply({"requests": requests_}, lambda: self._init_applied(plan))
        return plan.report

    def _init_applied(self, plan: InitPlan) -> bool:
        """Whether `gt init`'s batchUpdate, failed midway, was applied (it is atomic: all or
        nothing): the tabs it creates exist now, and the headers it writes are in their row 1
        (one metadata request, one batchGet). A plan that writes no header (decoration or
        data alone) counts as not applied: it is sent again."""
        now = self._sheets()
        wanted: dict[str, tuple[int, list[str]]] = {}  # title → (first column, headers)
        for tab in plan.tabs:
            sheet = _find_sheet(now, tab.title)
            if sheet is None:
                return False
            if tab.create:
                wanted[sheet.title] = (0, list(tab.headers))
            elif tab.added:
                wanted[sheet.title] = (tab.first_new, list(tab.added))
        if not wanted:
            return False
        found = self._rows_of({title: f"{quote_tab(title)}!1:1" for title in wanted})
        for title, (first, headers) in wanted.items():
            row = (found.get(title) or [[]])[0]
            if _comparable_row(row[first : first + len(headers)]) != _comparable_row(headers):
                return False
        return True

    def _init_snapshot(
        self, layout: list[TabLayout], data: Mapping[str, Rows], sheets: Mapping[str, _Sheet]
    ) -> Snapshot:
        """Row 1 of every existing layout tab, or the whole tab when demo data may go there
        (one batchGet), keyed by layout name."""
        found = match_tabs([tab.name for tab in layout], [s.title for s in sheets.values()])
        ranges = {
            name: quote_tab(title) + ("" if _folded_get(data, name) is not None else "!1:1")
            for name, title in found.items()
        }
        tabs: dict[str, Rows] = {name: [] for name in found}
        tabs |= self._rows_of(ranges) if ranges else {}
        return _snapshot(tabs, found, tuple(s.title for s in sheets.values()), {})

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
            # As Gmail says it (`auth.refresh_failure`): revoked, delegation refused, Google's
            # token service down, for a service-account key and a `gt login` alike.
            failure = refresh_failure(err, self._origin(), nothing)
            raise kind(failure.message, failure.hint) from err
        except (auth_errors.GoogleAuthError, requests.exceptions.RequestException) as err:
            raise kind(
                f"{self.description} : échec de la connexion à Google ({_first_line(err)}){nothing}",
                "vérifiez la connexion réseau, puis réessayez",
            ) from err

    def _origin(self) -> str:
        """Where the credentials came from, for a message."""
        if self.config.credentials is not None:
            return f"--credentials {self.config.credentials}"
        return "identifiants par défaut : GOOGLE_APPLICATION_CREDENTIALS, gt login ou gcloud"

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


# -- pure helpers ---------------------------------------------------------------------


def load_credentials(path: Path | None) -> Credentials:
    """The run's credentials for Sheets, by the one precedence of `auth.resolve`
    (--credentials > GOOGLE_APPLICATION_CREDENTIALS > gt login > ADC), scoped to Sheets only.
    Errors never quote the file's contents."""
    return sheets_credentials(path).credentials


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


T = TypeVar("T")


def _folded_get(mapping: Mapping[str, T], name: str) -> T | None:
    """A value by tab name, case ignored (Sheets ignores it too)."""
    return next((v for key, v in mapping.items() if key.casefold() == name.casefold()), None)


def _snapshot(
    tabs: dict[str, Rows],
    titles: Mapping[str, str],
    existing: tuple[str, ...],
    grid: dict[str, tuple[int, int]],
    sheet_ids: dict[str, int] | None = None,
) -> Snapshot:
    """What a read (or `gt init`) found: `titles` = {configured name: real title}."""
    actual = {name: title for name, title in titles.items() if title != name}
    return Snapshot(tabs, existing, actual, grid=grid, sheet_ids=sheet_ids)


def _known_sheets(previous: Snapshot) -> dict[str, _Sheet]:
    """The tabs as the read's metadata described them (`previous.sheet_ids` set)."""
    return {
        title.casefold(): _Sheet(title, sheet_id, *previous.grid.get(title, (0, 0)))
        for title, sheet_id in (previous.sheet_ids or {}).items()
    }


def _write_requests(
    contents: Mapping[str, Rows],
    appended: Mapping[str, Rows],
    titles: Mapping[str, str],
    sheets: Mapping[str, _Sheet],
    preferred: Mapping[str, int],
    guard: bool,
) -> list[dict[str, Any]]:
    """The requests of one atomic `spreadsheets:batchUpdate`: the title checks of guessed
    IDs (`guard`), new tabs and growth, the cells of every rewritten tab, the appended rows,
    then the protection of the new tabs."""
    taken = {sheet.sheet_id for sheet in sheets.values()}
    guards: list[dict[str, Any]] = []
    structure: list[dict[str, Any]] = []
    cells: list[dict[str, Any]] = []
    protections: list[dict[str, Any]] = []
    for name in dict.fromkeys([*contents, *appended]):
        rows, added = contents.get(name), appended.get(name)
        width = max(_width(rows or []), _width(added or []), 1)
        sheet = _find_sheet(sheets, titles[name])
        if sheet is None:
            sheet_id = _new_sheet_id(preferred.get(name), taken)
            taken.add(sheet_id)
            height = len(rows or []) + len(added or []) + GROWTH_MARGIN
            grid = (max(NEW_TAB_ROWS, height), max(NEW_TAB_COLUMNS, width))
            structure.append(_add_sheet(titles[name], sheet_id, *grid))
            protections.append(_protection(sheet_id))
        else:
            sheet_id = sheet.sheet_id
            if guard:
                guards.append(_same_title(sheet))
            height = max(len(rows), 1) + GROWTH_MARGIN if rows is not None else 0
            if (rows is not None and max(len(rows), 1) > sheet.rows) or width > sheet.columns:
                structure += _grow(sheet, height, width)  # appendCells adds rows, not columns
        if rows is not None:
            cells.append(_update_cells(sheet_id, rows))
        if added:
            cells.append(_append_cells(sheet_id, added))
    return guards + structure + cells + protections


def _new_sheet_id(preferred: int | None, taken: set[int]) -> int:
    """The tool's own ID for a tab it creates, unless another tab has it already."""
    if preferred is not None and preferred not in taken:
        return preferred
    return _free_sheet_id(taken)


def _same_title(sheet: _Sheet) -> dict[str, Any]:
    """Rename the tab to the title it has: nothing for the tab we mean; Google refuses the
    whole batch if that ID is another tab (the title is taken) or no tab ("No grid")."""
    return {
        "updateSheetProperties": {
            "properties": {"sheetId": sheet.sheet_id, "title": sheet.title},
            "fields": "title",
        }
    }


def _remembered_ids(journal_rows: Rows | None) -> dict[str, int]:
    """The tool tabs' sheet IDs the Journal last wrote down (`onglets=eligibility:12,…`)."""
    at = JOURNAL_HEADERS.index("Détail")
    for row in reversed(journal_rows or []):
        note = parse_detail(str(row[at]) if len(row) > at and row[at] is not None else "")
        if "onglets" in note:
            pairs = (part.partition(":") for part in note["onglets"].split(","))
            return {key: int(value) for key, _sep, value in pairs if value.isdigit()}
    return {}


def _guess_refused(err: APIError) -> bool:
    """Google's refusal of a guessed sheet ID: no such grid, or its title check failed."""
    message = str(err.error.get("message", "")) if err.error else ""
    return err.response.status_code == 400 and (
        "No grid with id" in message or "already exists" in message
    )


def _maybe_applied(cause: Exception) -> bool:
    """A failure after which the request may still have been applied: the connection
    dropped or timed out, or a server error (not a quota refusal, checked first)."""
    if isinstance(cause, APIError):
        return cause.response.status_code >= 500 or cause.response.status_code == 408
    return True


@contextmanager
def _single_attempt(http: HTTPClient) -> Iterator[None]:
    if isinstance(http, RetryingHTTPClient):
        with http.single_attempt():
            yield
    else:
        yield


def _comparable_row(row: Iterable[object]) -> list[object]:
    """A row as Sheets answers what was sent (dates as ISO text, blanks trimmed at the end),
    numbers compared as numbers."""
    cells: list[object] = []
    for value in row:
        cell = _cell(value)
        cells.append(
            float(cell) if isinstance(cell, int | float) and not isinstance(cell, bool) else cell
        )
    while cells and cells[-1] == "":
        cells.pop()
    return cells


def _contains(found: Rows, rows: Rows) -> bool:
    """Whether `rows` appear, in order and together, among `found`."""
    wanted = [_comparable_row(row) for row in rows]
    seen = [_comparable_row(row) for row in found]
    return any(seen[i : i + len(wanted)] == wanted for i in range(len(seen) - len(wanted) + 1))


def _same(found: Rows, rows: Rows) -> bool:
    """Whether a tab read back holds exactly `rows` (trailing blank rows ignored)."""
    wanted = [_comparable_row(row) for row in rows]
    while wanted and not wanted[-1]:
        wanted.pop()
    return [_comparable_row(row) for row in found] == wanted


def _init_requests(
    plan: InitPlan, sheets: Mapping[str, _Sheet], preferred: Mapping[str, int]
) -> list[dict[str, Any]]:
    """`gt init`'s plan as the requests of ONE `spreadsheets:batchUpdate`: tabs and growth
    first, then the cells (`updateCells`: headers, demo rows, as `write` sends them), then
    drop-downs, frozen header rows and protections. Tool-owned tabs get the tool's sheet IDs
    (`preferred`), other new tabs free ones."""
    taken = {sheet.sheet_id for sheet in sheets.values()}
    structure: list[dict[str, Any]] = []
    cells: list[dict[str, Any]] = []
    decoration: list[dict[str, Any]] = []
    for tab in plan.tabs:
        if tab.create:
            sheet_id = _new_sheet_id(preferred.get(tab.title), taken)
            taken.add(sheet_id)
            grid = (
                max(NEW_TAB_ROWS, tab.height + GROWTH_MARGIN),
                max(NEW_TAB_COLUMNS, len(tab.headers)),
            )
            structure.append(_add_sheet(tab.title, sheet_id, *grid))  # header row frozen
            cells.append(_cells_at(sheet_id, [list(tab.headers), *(tab.rows or [])]))
            sheet = _Sheet(tab.title, sheet_id, *grid, frozen_rows=1)
        else:
            sheet = sheets[tab.title.casefold()]  # the real title, from the metadata
            structure += _grow(sheet, tab.height, len(tab.headers))
            if tab.added:
                cells.append(_cells_at(sheet.sheet_id, [list(tab.added)], column=tab.first_new + 1))
            if tab.rows is not None:
                cells.append(_cells_at(sheet.sheet_id, tab.rows, row=2, at_least=tab.clear))
        decoration += [_validation(sheet.sheet_id, dropdown) for dropdown in tab.dropdowns]
        if tab.freeze and not sheet.frozen_rows:
            decoration.append(_freeze(sheet.sheet_id))
        if tab.protect and not sheet.protected:
            decoration.append(_protection(sheet.sheet_id))
    return structure + cells + decoration


def _cells_at(
    sheet_id: int, rows: Rows, row: int = 1, column: int = 1, at_least: tuple[int, int] = (0, 0)
) -> dict[str, Any]:
    """updateCells from (`row`, `column`), 1-based, padded with blanks to `at_least` (rows,
    columns): what a previous content had there is cleared in the same request."""
    height = max(len(rows), at_least[0], 1)
    width = max(_width(rows), at_least[1], 1)
    padded = [[*cells, *[None] * (width - len(cells))] for cells in rows]
    padded += [[None] * width for _ in range(height - len(rows))]
    return {
        "updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": row - 1, "columnIndex": column - 1},
            "rows": [{"values": [_cell_data(value) for value in cells]} for cells in padded],
            "fields": "userEnteredValue",
        }
    }


_RANGE_END = re.compile(r"!\$?([A-Z]+)\$?(\d+):\$?([A-Z]+)\$?(\d+)$")


def _grid_size(a1: str) -> tuple[int, int] | None:
    """(rows, columns) of a whole-tab range as Sheets echoes it: `Tab!A1:Z1000`."""
    match = _RANGE_END.search(a1)
    if match is None:
        return None
    return int(match.group(4)), column_number(match.group(3))


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


def _append_cells(sheet_id: int, rows: Rows) -> dict[str, Any]:
    """appendCells: `rows` after the tab's last row with data when Google applies it (rows
    are inserted if the grid is full), so rows another run appended meanwhile stay."""
    return {
        "appendCells": {
            "sheetId": sheet_id,
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


def _validation(sheet_id: int, dropdown: Dropdown) -> dict[str, Any]:
    """A drop-down under a header, not strict (see `initplan.Dropdown`)."""
    formula = dropdown.range_formula
    if formula is not None:
        condition = {"type": "ONE_OF_RANGE", "values": [{"userEnteredValue": formula}]}
    else:
        values = [{"userEnteredValue": c} for c in dropdown.choices]
        condition = {"type": "ONE_OF_LIST", "values": values}
    grid_range = {
        "sheetId": sheet_id,
        "startRowIndex": 1,
        "startColumnIndex": dropdown.column,
        "endColumnIndex": dropdown.column + 1,
    }
    return {
        "setDataValidation": {
            "range": grid_range,
            "rule": {"condition": condition, "strict": False, "showCustomUi": True},
        }
    }


def _freeze(sheet_id: int) -> dict[str, Any]:
    return {
        "updateSheetProperties": {
            "properties": {"sheetId": sheet_id, "gridProperties": {"frozenRowCount": 1}},
            "fields": "gridProperties.frozenRowCount",
        }
    }
