"""An HTTP-level fake of the Google Sheets API v4 (and of Google's OAuth token endpoint).

It is mounted as a `requests` transport adapter, so real gspread and real google-auth run
unmodified above it: every byte they send is parsed here as Google would, and every answer
has the shape recorded from the real API (`shared/google-recordings/`): ranges echoed as
`Sheet1!A1:Z1000` or `'My tab'!A1:B2`, trailing empty cells and rows left out, no `values`
key for an empty range, integral numbers as JSON integers, Google's error bodies.

spreadsheets:batchUpdate is applied all or nothing, as Google does, with these requests:
addSheet, deleteSheet, updateSheetProperties, appendDimension, setDataValidation,
addProtectedRange, updateCells and appendCells (userEnteredValue only; appendCells writes
after the tab's last row with data *when the batch is applied*, adding rows if the grid is
full, as Google does).

Faults: `fail_next` (an error status), `drop_next` (the connection lost), each either before
the request is served or, with `applied=True`, after it was applied (the answer is lost);
`on_request` runs a callback between requests (a staff edit, or a whole second run, for
interleavings).

Known simplifications: formulas are stored as text, not computed; cell formats other than
"this cell holds a date" are not kept; JWT signatures are not verified; a tab name in a
range is matched without regard to case, as Sheets does.

Fixtures (import them with `from fake_sheets import *`): `fake_sheets`, `service_account_file`,
and the autouse `no_network` (any real socket connection fails).
"""

from __future__ import annotations

import ast
import base64
import copy
import datetime as dt
import json
import math
import os
import re
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

# No test looks for a Compute Engine metadata server (Application Default Credentials'
# last resort): google-auth reads NO_GCE_CHECK once, when it first imports its metadata
# module, which nothing imports before conftest has imported this file (at collection,
# before any test); `no_network` also sets it, and points the server at a refused address.
os.environ["NO_GCE_CHECK"] = "true"

__all__ = [
    "SHEETS_SCOPE",
    "FakeRequest",
    "FakeSheets",
    "fake_sheets",
    "make_service_account_key",
    "no_network",
    "no_token_backoff",
    "service_account_file",
]

SHEETS_HOST = "https://sheets.googleapis.com/"
TOKEN_URL = "https://oauth2.googleapis.com/token"
SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
SCOPES_ALLOWING_SHEETS = {
    SHEETS_SCOPE,
    SHEETS_SCOPE + ".readonly",
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/drive.file",
}
EPOCH = dt.date(1899, 12, 30)  # Sheets' serial day 0
DEFAULT_ROWS, DEFAULT_COLUMNS = 1000, 26
WRITE_KINDS = {
    "values.batchUpdate",
    "values.update",
    "values.clear",
    "values.batchClear",
    "batchUpdate",
}

Cell = str | int | float | bool
Json = dict[str, Any]
Key = tuple[int, int]  # (row, column), 1-based


class ApiError(Exception):
    """An error answer, with Google's JSON error body."""

    def __init__(self, status: int, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason or _STATUS_NAMES.get(status, "UNKNOWN")

    def body(self) -> Json:
        return {"error": {"code": self.status, "message": self.message, "status": self.reason}}


_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_INJECTED_MESSAGES = {
    429: "Quota exceeded for quota metric '{what} requests' and limit '{what} requests per "
    "minute per user' of service 'sheets.googleapis.com' for consumer "
    "'project_number:000000000000'.",
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
    504: "Deadline exceeded.",
    408: "Request timed out.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
}
_BAD_GATEWAY_PAGE = (
    "<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Error 502 (Server Error)!!1"
    "</title><p><b>502.</b> <ins>That’s an error.</ins><p>The server encountered a temporary "
    "error and could not complete your request.<p>Please try again in 30 seconds. "
    "<ins>That’s all we know.</ins></html>"
)


# -- A1 notation -------------------------------------------------------------------------


def column_letters(column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def cell_name(row: int, column: int) -> str:
    return f"{column_letters(column)}{row}"


def range_tab_name(title: str) -> str:
    """A tab name as Sheets writes it in the ranges it returns: bare when it is a plain
    identifier that cannot be read as a cell (`Sheet1`), quoted otherwise."""
    plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title)
    cell_like = re.fullmatch(r"[A-Za-z]{1,3}[0-9]+", title)
    if plain and not cell_like:
        return title
    return "'" + title.replace("'", "''") + "'"


_PART = re.compile(r"^\$?([A-Za-z]{0,3})\$?([0-9]*)$")


def split_range(text: str) -> tuple[str | None, str | None]:
    """`'My tab'!A1:B2` → ("My tab", "A1:B2"); `Sheet1` → ("Sheet1", None); a quoted name
    is unquoted. No `!` and no quotes: returned as (text, None), the caller decides."""
    if text.startswith("'"):
        index, name = 1, ""
        while index < len(text):
            if text[index] == "'":
                if text[index + 1 : index + 2] == "'":
                    name, index = name + "'", index + 2
                    continue
                rest = text[index + 1 :]
                if rest == "":
                    return name, None
                if rest.startswith("!"):
                    return name, rest[1:]
                break
            name, index = name + text[index], index + 1
        raise ApiError(400, f"Unable to parse range: {text}")
    if "!" in text:
        name, ref = text.split("!", 1)
        return name, ref
    return text, None


@dataclass(frozen=True)
class Box:
    """A rectangle of cells, 1-based and inclusive; `single` for a one-cell reference,
    which for a write is an anchor rather than a bound."""

    top: int
    left: int
    bottom: int
    right: int
    single: bool = False

    @property
    def a1(self) -> str:
        if self.single:
            return cell_name(self.top, self.left)
        return f"{cell_name(self.top, self.left)}:{cell_name(self.bottom, self.right)}"


def parse_ref(ref: str, rows: int, columns: int) -> Box | None:
    """An A1 reference against a grid of `rows` × `columns`; None if it is not A1."""
    parts = ref.split(":")
    if len(parts) > 2 or not all(parts):
        return None
    matches = [_PART.match(part) for part in parts]
    if any(m is None or not (m.group(1) or m.group(2)) for m in matches):
        return None
    (col1, row1), *end = [(m.group(1), m.group(2)) for m in matches if m]
    if not end:
        if not (col1 and row1):
            return None
        row, column = int(row1), column_number(col1)
        return Box(row, column, row, column, single=True)
    col2, row2 = end[0]
    top, left = int(row1) if row1 else 1, column_number(col1) if col1 else 1
    bottom = int(row2) if row2 else rows
    right = column_number(col2) if col2 else columns
    return Box(min(top, bottom), min(left, right), max(top, bottom), max(left, right))


# -- values --------------------------------------------------------------------------------


def to_serial(value: dt.date | dt.datetime) -> int | float:
    if isinstance(value, dt.datetime):
        delta = value - dt.datetime.combine(EPOCH, dt.time())
        return _number(delta.days + delta.seconds / 86400)
    return (value - EPOCH).days


def _number(value: float | int) -> int | float:
    """Google's numbers are doubles; integral ones come back as JSON integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _format_number(value: int | float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.15g}"


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def user_entered(value: Any) -> tuple[Cell | None, str | None]:
    """A value typed by a user: numbers, TRUE/FALSE and ISO dates are recognised;
    formulas are kept as text (this fake computes nothing). Returns (value, format)."""
    if not isinstance(value, str):
        return raw(value), None
    if value == "":
        return None, None
    if value.startswith("'"):
        return value[1:], None
    if value.startswith("="):
        return _formula(value), None
    if value.upper() in ("TRUE", "FALSE"):
        return value.upper() == "TRUE", None
    if _NUMBER.match(value):
        return _number(float(value)), None
    if _ISO_DATE.match(value):
        try:
            return to_serial(dt.date.fromisoformat(value)), "date"
        except ValueError:
            return value, None
    return value, None


def _formula(text: str) -> Cell:
    """Plain arithmetic formulas (`=4/2`) are computed; any other formula stays text."""
    try:
        result = _arithmetic(ast.parse(text[1:], mode="eval").body)
    except ZeroDivisionError:
        return "#DIV/0!"
    except (SyntaxError, ValueError):
        return text
    return _number(result)


def _arithmetic(node: ast.AST) -> float:
    operators: dict[type, Callable[[float, float], float]] = {
        ast.Add: lambda a, b: a + b,
        ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b,
        ast.Div: lambda a, b: a / b,
    }
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        if isinstance(node.value, bool):
            raise ValueError("not a number")
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _arithmetic(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in operators:
        return operators[type(node.op)](_arithmetic(node.left), _arithmetic(node.right))
    raise ValueError("not plain arithmetic")


def raw(value: Any) -> Cell | None:
    """A value sent with RAW input: stored as is ("" clears the cell)."""
    if value == "" and isinstance(value, str):
        return None
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ApiError(400, f"Invalid value at 'data.values' ({value})")
        return _number(value)
    raise ApiError(
        400,
        f"Invalid value at 'data.values' (type.googleapis.com/google.protobuf.ListValue), {json.dumps(value)}",
    )


# -- the spreadsheet model ---------------------------------------------------------------------


@dataclass
class Tab:
    sheet_id: int
    title: str
    rows: int = DEFAULT_ROWS
    columns: int = DEFAULT_COLUMNS
    frozen_rows: int = 0
    cells: dict[Key, Cell] = field(default_factory=dict)
    formats: dict[Key, str] = field(default_factory=dict)  # "date" / "datetime" cells
    validations: list[Json] = field(default_factory=list)
    protected_ranges: list[Json] = field(default_factory=list)

    def set_rows(self, rows: list[list[Any]]) -> None:
        """Replace the contents (a staff edit): Python dates become serials, marked as dates."""
        self.cells.clear()
        self.formats.clear()
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                self.put((r, c), value)
        self.rows = max(self.rows, len(rows))
        self.columns = max(self.columns, max((len(row) for row in rows), default=0))

    def put(self, key: Key, value: Any, fmt: str | None = None) -> None:
        if isinstance(value, dt.date):
            fmt = "datetime" if isinstance(value, dt.datetime) else "date"
            value = to_serial(value)
        elif isinstance(value, dt.time):
            fmt = "time"
            value = _number((value.hour * 3600 + value.minute * 60 + value.second) / 86400)
        stored = None if value is None else raw(value)
        self.cells.pop(key, None)
        self.formats.pop(key, None)
        if stored is not None:
            self.cells[key] = stored
            if fmt:
                self.formats[key] = fmt

    def trimmed(self) -> list[list[Cell]]:
        """The contents as Sheets returns them: trailing empty cells and rows left out."""
        if not self.cells:
            return []
        bottom = max(r for r, _ in self.cells)
        rows: list[list[Cell]] = []
        for r in range(1, bottom + 1):
            used = [c for (row, c) in self.cells if row == r]
            width = max(used, default=0)
            rows.append([self.cells.get((r, c), "") for c in range(1, width + 1)])
        return rows

    def properties(self, index: int) -> Json:
        grid: Json = {"rowCount": self.rows, "columnCount": self.columns}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows  # proto3: zero values are left out
        return {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": index,
            "sheetType": "GRID",
            "gridProperties": grid,
        }


@dataclass
class Spreadsheet:
    key: str
    title: str
    tabs: list[Tab]
    access: str | None = "writer"  # "writer", "reader" or None (not shared)

    def find(self, name: str) -> Tab | None:
        for tab in self.tabs:
            if tab.title.casefold() == name.casefold():
                return tab
        return None

    def by_id(self, sheet_id: int) -> Tab | None:
        return next((t for t in self.tabs if t.sheet_id == sheet_id), None)

    def resolve(self, text: str) -> tuple[Tab, Box]:
        """A range string to a tab and a box, the way Sheets reads it."""
        name, ref = split_range(text)
        tab = self.find(name) if name is not None else None
        if tab is None and ref is None and name is not None and not text.startswith("'"):
            # No `!`: a bare A1 reference means the first tab.
            box = parse_ref(name, self.tabs[0].rows, self.tabs[0].columns) if self.tabs else None
            if box is not None:
                return self.tabs[0], box
        if tab is None:
            raise ApiError(400, f"Unable to parse range: {text}")
        if ref is None:
            return tab, Box(1, 1, tab.rows, tab.columns)
        box = parse_ref(ref, tab.rows, tab.columns)
        if box is None:
            raise ApiError(400, f"Unable to parse range: {text}")
        return tab, box

    def metadata(self) -> Json:
        sheets = []
        for index, tab in enumerate(self.tabs):
            sheet: Json = {"properties": tab.properties(index)}
            if tab.protected_ranges:
                sheet["protectedRanges"] = copy.deepcopy(tab.protected_ranges)
            sheets.append(sheet)
        return {
            "spreadsheetId": self.key,
            "properties": {
                "title": self.title,
                "locale": "fr_FR",
                "autoRecalc": "ON_CHANGE",
                "timeZone": "Europe/Paris",
            },
            "sheets": sheets,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{self.key}/edit",
        }


def grid_error(tab: Tab, box: Box) -> ApiError:
    return ApiError(
        400,
        f"Range ({range_tab_name(tab.title)}!{box.a1}) exceeds grid limits. "
        f"Max rows: {tab.rows}, max columns: {tab.columns}",
    )


def check_inside(tab: Tab, box: Box) -> None:
    if box.bottom > tab.rows or box.right > tab.columns:
        raise grid_error(tab, box)


# -- fields masks ---------------------------------------------------------------------------


def parse_fields(mask: str) -> dict[str, Any]:
    """`sheets(properties(sheetId,title)),spreadsheetId` → a tree; {} means "everything"."""
    tree: dict[str, Any] = {}
    _parse_field_list(mask.replace(" ", ""), 0, tree)
    return tree


def _parse_field_list(text: str, index: int, tree: dict[str, Any]) -> int:
    while index < len(text):
        match = re.compile(r"[A-Za-z_][\w./]*").match(text, index)
        if match is None:
            raise ApiError(400, f"Invalid field selection {text}")
        node = tree
        for name in re.split(r"[./]", match.group(0)):
            node = node.setdefault(name, {})
        index = match.end()
        if text[index : index + 1] == "(":
            index = _parse_field_list(text, index + 1, node)
            if text[index : index + 1] != ")":
                raise ApiError(400, f"Invalid field selection {text}")
            index += 1
        if text[index : index + 1] == ",":
            index += 1
        elif text[index : index + 1] == ")":
            return index
    return index


def prune(value: Any, tree: Mapping[str, Any]) -> Any:
    if not tree:
        return value
    if isinstance(value, list):
        return [prune(item, tree) for item in value]
    if isinstance(value, dict):
        return {k: prune(value[k], sub) for k, sub in tree.items() if k in value}
    return value


# -- the fake service --------------------------------------------------------------------------


@dataclass
class FakeRequest:
    """One request received: its kind, method, URL, query parameters, decoded body and the
    status answered (None when the connection was dropped)."""

    kind: str
    method: str
    url: str
    params: dict[str, list[str]]
    body: Any
    status: int | None = None


@dataclass
class _Failure:
    kind: str
    status: int | None  # None: drop the connection
    remaining: int | None  # None: forever
    applied: bool = False  # the request is applied first, then its answer lost


@dataclass
class _Hook:
    kind: str
    callback: Callable[[FakeSheets], None]
    after: int
    fired: bool = False


class FakeSheets:
    """Spreadsheets in memory, served over fake HTTP. See the module docstring."""

    def __init__(self) -> None:
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.requests: list[FakeRequest] = []
        self.tokens: dict[str, Json] = {}  # access token → JWT claims it was issued for
        self._failures: list[_Failure] = []
        self._hooks: list[_Hook] = []
        self._next_id = 1_000_001

    # -- setting up --------------------------------------------------------------------

    def add_spreadsheet(
        self,
        key: str,
        tabs: Mapping[str, list[list[Any]]] | None = None,
        *,
        title: str = "Registre GT",
        access: str | None = "writer",
        grid: tuple[int, int] = (DEFAULT_ROWS, DEFAULT_COLUMNS),
        sheet_ids: Mapping[str, int] | None = None,
    ) -> Spreadsheet:
        """A spreadsheet with these tabs ({name: rows}, dates as `datetime.date`), each
        `grid` = (rows, columns) big at least; `access` is how it is shared with every
        caller: "writer", "reader" or None (not shared: 403); `sheet_ids` gives some tabs
        their sheet ID (as the program that created them chose it)."""
        spreadsheet = Spreadsheet(key, title, [], access)
        for index, (name, rows) in enumerate((tabs or {"Sheet1": []}).items()):
            chosen = (sheet_ids or {}).get(name)
            default = 0 if index == 0 else self._new_id()
            tab = Tab(sheet_id=default if chosen is None else chosen, title=name)
            tab.rows, tab.columns = grid
            tab.set_rows(rows)
            spreadsheet.tabs.append(tab)
        self.spreadsheets[key] = spreadsheet
        return spreadsheet

    def share(self, key: str, access: str | None) -> None:
        self.spreadsheets[key].access = access

    def set_tab(self, key: str, name: str, rows: list[list[Any]]) -> None:
        """Replace a tab's contents, as a staff member editing the sheet would."""
        self._tab(key, name).set_rows(rows)

    def fail_next(
        self, kind: str, status: int = 429, times: int | None = 1, *, applied: bool = False
    ) -> None:
        """The next `times` requests of `kind` (None: all of them) get an error `status`;
        with `applied`, after being applied (a 5xx whose work was done nonetheless)."""
        self._failures.append(_Failure(kind, status, times, applied))

    def drop_next(self, kind: str, times: int | None = 1, *, applied: bool = False) -> None:
        """The next `times` requests of `kind` lose their connection (ConnectionError);
        with `applied`, after being applied: the write is done, its answer lost."""
        self._failures.append(_Failure(kind, None, times, applied))

    def on_request(self, kind: str, callback: Callable[[FakeSheets], None], after: int = 1) -> None:
        """Call `callback(fake)` once, right after the `after`-th request of `kind` has
        been answered (after=0: just before the first one) — e.g. a staff edit between a
        read and a write."""
        self._hooks.append(_Hook(kind, callback, after))

    # -- inspecting ----------------------------------------------------------------------

    def tab(self, key: str, name: str) -> list[list[Cell]]:
        """A tab's values, trimmed as Sheets returns them (dates as serial numbers)."""
        return self._tab(key, name).trimmed()

    def tab_names(self, key: str) -> list[str]:
        return [tab.title for tab in self.spreadsheets[key].tabs]

    def sheet_properties(self, key: str, name: str) -> Json:
        spreadsheet = self.spreadsheets[key]
        tab = self._tab(key, name)
        return tab.properties(spreadsheet.tabs.index(tab))

    def validations(self, key: str, name: str) -> list[Json]:
        """setDataValidation requests applied to this tab, in order ({range, rule})."""
        return copy.deepcopy(self._tab(key, name).validations)

    def protected_ranges(self, key: str, name: str) -> list[Json]:
        return copy.deepcopy(self._tab(key, name).protected_ranges)

    def count(self, kind: str | None = None) -> int:
        """Requests received of this kind ("values.batchGet", "values.batchUpdate",
        "batchUpdate", "metadata", "values.get", "values.update", "values.clear",
        "values.batchClear", "token"), failed and dropped ones included; None: all but
        token requests."""
        if kind is None:
            return sum(1 for r in self.requests if r.kind != "token")
        return sum(1 for r in self.requests if r.kind == kind)

    def kinds(self) -> list[str]:
        """The kinds of every request received, in order (tokens left out)."""
        return [r.kind for r in self.requests if r.kind != "token"]

    def last(self, kind: str) -> FakeRequest:
        return next(r for r in reversed(self.requests) if r.kind == kind)

    def _tab(self, key: str, name: str) -> Tab:
        tab = self.spreadsheets[key].find(name)
        if tab is None:
            raise KeyError(f"no tab {name!r} in {key}")
        return tab

    def _new_id(self) -> int:
        self._next_id += 7919  # not consecutive, like Google's
        return self._next_id

    # -- serving ---------------------------------------------------------------------------

    def handle(
        self, method: str, url: str, headers: Mapping[str, Any], body: Any
    ) -> tuple[int, bytes, dict[str, str]]:
        """Answer one HTTP request: (status, body, headers). Raises ConnectionError for a
        dropped connection."""
        kind, route = self._route(method, url)
        params = parse_qs(urlsplit(url).query, keep_blank_values=True)
        text = body.decode("utf-8") if isinstance(body, bytes) else body or ""
        decoded: Any = parse_qs(text) if kind == "token" else (json.loads(text) if text else None)
        record = FakeRequest(kind, method, url, params, decoded)
        self._fire(kind, before=True)
        self.requests.append(record)
        try:
            status, payload, content_type = self._answer(record, route, headers)
        finally:
            self._fire(kind, before=False)
        record.status = status
        return status, payload, {"Content-Type": content_type}

    def _answer(
        self, record: FakeRequest, route: tuple[str, ...], headers: Mapping[str, Any]
    ) -> tuple[int, bytes, str]:
        failure = self._take_failure(record.kind)
        if failure is not None and failure.applied:
            try:
                self._serve(record.kind, route, record.params, record.body, headers)
            except ApiError as err:
                return self._error(record.kind, err)  # refused: nothing applied, nothing lost
        if failure is not None and failure.status is None:
            raise requests.exceptions.ConnectionError(
                "('Connection aborted.', RemoteDisconnected('Remote end closed connection "
                "without response'))"
            )
        try:
            if failure is not None and failure.status is not None:
                raise self._injected(record.kind, failure.status)
            answer = self._serve(record.kind, route, record.params, record.body, headers)
        except ApiError as err:
            return self._error(record.kind, err)
        payload = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        return 200, payload, "application/json; charset=UTF-8"

    def _route(self, method: str, url: str) -> tuple[str, tuple[str, ...]]:
        if url.startswith(TOKEN_URL):
            return "token", ()
        path = urlsplit(url).path
        # The range is percent-encoded by gspread, so a literal ":" is always a method.
        match = re.fullmatch(r"/v4/spreadsheets/([^/:]+)(/values)?(?:/([^/:]+))?(?::(\w+))?", path)
        if match is None:
            return "unknown", ()
        key, values, a1, verb = match.groups()
        a1 = unquote(a1) if a1 else ""
        routes = {
            ("GET", None, False, None): "metadata",
            ("POST", None, False, "batchUpdate"): "batchUpdate",
            ("GET", "/values", False, "batchGet"): "values.batchGet",
            ("POST", "/values", False, "batchUpdate"): "values.batchUpdate",
            ("POST", "/values", False, "batchClear"): "values.batchClear",
            ("GET", "/values", True, None): "values.get",
            ("PUT", "/values", True, None): "values.update",
            ("POST", "/values", True, "clear"): "values.clear",
        }
        kind = routes.get((method.upper(), values, bool(a1), verb), "unknown")
        return kind, (key, a1)

    def _fire(self, kind: str, before: bool) -> None:
        served = self.count(kind)
        for hook in self._hooks:
            if hook.kind != kind or hook.fired:
                continue
            if (before and hook.after == 0) or (not before and hook.after == served):
                hook.fired = True
                hook.callback(self)

    def _take_failure(self, kind: str) -> _Failure | None:
        for failure in self._failures:
            if failure.kind == kind and (failure.remaining is None or failure.remaining > 0):
                if failure.remaining is not None:
                    failure.remaining -= 1
                return failure
        return None

    def _injected(self, kind: str, status: int) -> ApiError:
        what = "Write" if kind in WRITE_KINDS else "Read"
        message = _INJECTED_MESSAGES.get(status, HTTPStatus(status).phrase)
        return ApiError(status, message.format(what=what))

    def _error(self, kind: str, err: ApiError) -> tuple[int, bytes, str]:
        if err.status == 502:  # Google's front end answers a 502 with an HTML page
            return 502, _BAD_GATEWAY_PAGE.encode("utf-8"), "text/html; charset=UTF-8"
        if kind == "token":  # OAuth's error body: a refusal, or the token service failing
            code = "internal_failure" if err.status >= 500 else "invalid_grant"
            body: Json = {"error": code, "error_description": err.message}
        else:
            body = err.body()
        return (
            err.status,
            json.dumps(body, ensure_ascii=False).encode("utf-8"),
            "application/json; charset=UTF-8",
        )

    def _serve(
        self,
        kind: str,
        route: tuple[str, ...],
        params: dict[str, list[str]],
        body: Any,
        headers: Mapping[str, Any],
    ) -> Json:
        if kind == "token":
            return self._token(body)
        if kind == "unknown":
            raise ApiError(404, "Method not found.")
        self._authorise(headers)
        key, a1 = route
        spreadsheet = self.spreadsheets.get(key)
        if spreadsheet is None:
            raise ApiError(404, "Requested entity was not found.")
        writing = kind in WRITE_KINDS
        if spreadsheet.access is None or (writing and spreadsheet.access != "writer"):
            raise ApiError(403, "The caller does not have permission")
        handlers: dict[str, Callable[[], Json]] = {
            "metadata": lambda: self._metadata(spreadsheet, params),
            "values.batchGet": lambda: self._batch_get(spreadsheet, params),
            "values.get": lambda: _read(spreadsheet, a1, params),
            "values.batchUpdate": lambda: self._values_batch_update(spreadsheet, body or {}),
            "values.update": lambda: self._values_update(spreadsheet, a1, params, body or {}),
            "values.clear": lambda: _clear(spreadsheet, a1),
            "values.batchClear": lambda: self._batch_clear(spreadsheet, body or {}),
            "batchUpdate": lambda: self._batch_update(spreadsheet, body or {}),
        }
        return handlers[kind]()

    # -- OAuth --------------------------------------------------------------------------------

    def _token(self, form: dict[str, list[str]]) -> Json:
        grant = form.get("grant_type", [""])[0]
        assertion = form.get("assertion", [""])[0]
        if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer" or assertion.count(".") != 2:
            raise ApiError(400, "Invalid grant: unsupported grant type or malformed assertion")
        payload = assertion.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if claims.get("aud") != TOKEN_URL or not claims.get("iss"):
            raise ApiError(
                400, "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe."
            )
        token = f"ya29.fake-{len(self.tokens) + 1}"
        self.tokens[token] = claims
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def _authorise(self, headers: Mapping[str, Any]) -> None:
        auth = CaseInsensitiveDict(headers).get("authorization", "")
        claims = self.tokens.get(auth.removeprefix("Bearer "))
        if claims is None:
            raise ApiError(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential.",
            )
        if not set(str(claims.get("scope", "")).split()) & SCOPES_ALLOWING_SHEETS:
            raise ApiError(403, "Request had insufficient authentication scopes.")

    # -- reads -----------------------------------------------------------------------------

    def _metadata(self, spreadsheet: Spreadsheet, params: dict[str, list[str]]) -> Json:
        answer = spreadsheet.metadata()
        fields = params.get("fields", [""])[0]
        return prune(answer, parse_fields(fields)) if fields else answer

    def _batch_get(self, spreadsheet: Spreadsheet, params: dict[str, list[str]]) -> Json:
        ranges = params.get("ranges", [])
        value_ranges = [_read(spreadsheet, a1, params) for a1 in ranges]
        return {"spreadsheetId": spreadsheet.key, "valueRanges": value_ranges}

    # -- writes ----------------------------------------------------------------------------

    def _values_batch_update(self, spreadsheet: Spreadsheet, body: Json) -> Json:
        option = _input_option(body.get("valueInputOption"))
        # Sheets checks every range before writing any: a bad one writes nothing.
        plans = [_plan_write(spreadsheet, item, option) for item in body.get("data", [])]
        responses = [_apply_write(spreadsheet, plan) for plan in plans]
        rows = {
            (plan[0].sheet_id, r) for plan in plans for r in range(plan[1].top, plan[1].bottom + 1)
        }
        cols = {
            (plan[0].sheet_id, c) for plan in plans for c in range(plan[1].left, plan[1].right + 1)
        }
        answer: Json = {"spreadsheetId": spreadsheet.key}
        if plans:
            answer |= {
                "totalUpdatedRows": len(rows),
                "totalUpdatedColumns": len(cols),
                "totalUpdatedCells": sum(r["updatedCells"] for r in responses),
                "totalUpdatedSheets": len({plan[0].sheet_id for plan in plans}),
            }
        answer["responses"] = responses
        return answer

    def _values_update(
        self, spreadsheet: Spreadsheet, a1: str, params: dict[str, list[str]], body: Json
    ) -> Json:
        option = _input_option(params.get("valueInputOption", [None])[0])
        plan = _plan_write(spreadsheet, {**body, "range": a1}, option)
        return _apply_write(spreadsheet, plan)

    def _batch_clear(self, spreadsheet: Spreadsheet, body: Json) -> Json:
        cleared = [_clear(spreadsheet, a1)["clearedRange"] for a1 in body.get("ranges", [])]
        return {"spreadsheetId": spreadsheet.key, "clearedRanges": cleared}

    def _batch_update(self, spreadsheet: Spreadsheet, body: Json) -> Json:
        """spreadsheets:batchUpdate, all or nothing as on Google: applied to a copy first."""
        work = copy.deepcopy(spreadsheet)
        replies = []
        for index, request in enumerate(body.get("requests", [])):
            name, payload = next(iter(request.items()), ("", {}))
            handler = _STRUCTURE.get(name)
            if handler is None:
                raise ApiError(
                    400,
                    f"Invalid JSON payload received. Unknown name \"{name}\" at 'requests[{index}]': Cannot find field.",
                )
            try:
                replies.append(handler(self, work, payload))
            except ApiError as err:
                raise ApiError(400, f"Invalid requests[{index}].{name}: {err.message}") from err
        spreadsheet.tabs = work.tabs
        return {"spreadsheetId": spreadsheet.key, "replies": replies}

    def _add_sheet(self, spreadsheet: Spreadsheet, payload: Json) -> Json:
        props = payload.get("properties", {})
        title = props.get("title") or f"Sheet{len(spreadsheet.tabs) + 1}"
        if spreadsheet.find(title) is not None:
            raise ApiError(
                400, f'A sheet with the name "{title}" already exists. Please enter another name.'
            )
        sheet_id = props.get("sheetId", self._new_id())
        if spreadsheet.by_id(sheet_id) is not None:
            raise ApiError(400, f"A sheet with the id {sheet_id} already exists.")
        grid = props.get("gridProperties", {})
        tab = Tab(
            sheet_id=sheet_id,
            title=title,
            rows=grid.get("rowCount", DEFAULT_ROWS),
            columns=grid.get("columnCount", DEFAULT_COLUMNS),
            frozen_rows=grid.get("frozenRowCount", 0),
        )
        spreadsheet.tabs.insert(props.get("index", len(spreadsheet.tabs)), tab)
        return {"addSheet": {"properties": tab.properties(spreadsheet.tabs.index(tab))}}

    def _delete_sheet(self, spreadsheet: Spreadsheet, payload: Json) -> Json:
        spreadsheet.tabs.remove(_sheet(spreadsheet, payload.get("sheetId", 0)))
        return {}

    def _update_sheet_properties(self, spreadsheet: Spreadsheet, payload: Json) -> Json:
        props = payload.get("properties", {})
        tab = _sheet(spreadsheet, props.get("sheetId", 0))
        attributes = {
            "title": "title",
            "gridProperties.rowCount": "rows",
            "gridProperties.columnCount": "columns",
            "gridProperties.frozenRowCount": "frozen_rows",
        }
        paths = [p.strip() for p in payload.get("fields", "").replace("/", ".").split(",")]
        if "gridProperties" in paths:
            paths += [p for p in attributes if p.startswith("gridProperties.")]
        for path in paths:
            if path not in attributes:
                continue  # loosely: other properties are not modelled
            value: Any = props
            for part in path.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if path == "title" and value is not None:
                other = spreadsheet.find(str(value))
                if other is not None and other is not tab:
                    raise ApiError(
                        400,
                        f'A sheet with the name "{value}" already exists. Please enter another name.',
                    )
            if value is not None or path != "title":
                setattr(tab, attributes[path], value or 0 if path != "title" else value)
        return {}

    def _append_dimension(self, spreadsheet: Spreadsheet, payload: Json) -> Json:
        tab = _sheet(spreadsheet, payload.get("sheetId", 0))
        if payload.get("dimension") == "ROWS":
            tab.rows += int(payload.get("length", 0))
        else:
            tab.columns += int(payload.get("length", 0))
        return {}

    def _set_data_validation(self, spreadsheet: Spreadsheet, payload: Json) -> Json:
        grid_range = payload.get("range", {})
        tab = _sheet(spreadsheet, grid_range.get("sheetId", 0))
        _check_grid_range(tab, grid_range)
        tab.validations.append(copy.deepcopy(payload))
        return {}

    def _add_protected_range(self, spreadsheet: Spreadsheet, payload: Json) -> Json:
        protected = _proto3(copy.deepcopy(payload.get("protectedRange", {})))
        grid_range = protected.get("range", {})
        tab = _sheet(spreadsheet, grid_range.get("sheetId", 0))
        _check_grid_range(tab, grid_range)
        if grid_range.get("sheetId") == 0:
            del grid_range["sheetId"]  # proto3 default: Google leaves it out
        protected["protectedRangeId"] = self._new_id()
        protected["requestingUserCanEdit"] = True
        if not protected.get("warningOnly"):
            protected.pop("warningOnly", None)
            protected.setdefault("editors", {})
        tab.protected_ranges.append(protected)
        return {"addProtectedRange": {"protectedRange": copy.deepcopy(protected)}}

    def _update_cells(self, spreadsheet: Spreadsheet, payload: Json) -> Json:
        """updateCells: `rows` of CellData written from `start` (a GridCoordinate: only the
        cells given change) or from the top-left of `range` (a GridRange: every cell of the
        range the rows do not cover is cleared, for the `fields` named). Only
        `userEnteredValue` is modelled; other fields are accepted and ignored."""
        fields = {f.strip() for f in str(payload.get("fields", "")).split(",") if f.strip()}
        if not fields:
            raise ApiError(400, "At least one field must be specified.")
        start, grid_range = payload.get("start"), payload.get("range")
        if (start is None) == (grid_range is None):
            raise ApiError(400, "Exactly one of start or range must be set.")
        rows = payload.get("rows", [])
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ApiError(
                400, "Invalid value at 'rows' (type.googleapis.com/google.apps.sheets.v4.RowData)"
            )
        cells = [[_cell_value(cell) for cell in row.get("values", [])] for row in rows]
        height = len(cells)
        width = max((len(row) for row in cells), default=0)
        if grid_range is not None:
            tab = _sheet(spreadsheet, grid_range.get("sheetId", 0))
            box = Box(
                grid_range.get("startRowIndex", 0) + 1,
                grid_range.get("startColumnIndex", 0) + 1,
                grid_range.get("endRowIndex", tab.rows),
                grid_range.get("endColumnIndex", tab.columns),
            )
            check_inside(tab, box)
            if height > box.bottom - box.top + 1 or width > box.right - box.left + 1:
                raise ApiError(400, f"The rows do not fit in the range {box.a1}.")
        else:
            tab = _sheet(spreadsheet, start.get("sheetId", 0))
            top, left = start.get("rowIndex", 0) + 1, start.get("columnIndex", 0) + 1
            box = Box(top, left, top + max(height, 1) - 1, left + max(width, 1) - 1)
            check_inside(tab, box)
        if not fields & {"*", "userEnteredValue"}:
            return {}
        if grid_range is not None:
            for key in [
                k
                for k in tab.cells
                if box.top <= k[0] <= box.bottom and box.left <= k[1] <= box.right
            ]:
                tab.put(key, None)
        for r, row in enumerate(cells):
            for c, value in enumerate(row):
                tab.put((box.top + r, box.left + c), value)
        return {}


def _append_cells(self: FakeSheets, spreadsheet: Spreadsheet, payload: Json) -> Json:
    """appendCells: `rows` of CellData after the last row with data in the tab (of any
    column), rows inserted if the grid is full; columns are not added (400). Only
    `userEnteredValue` is modelled."""
    fields = {f.strip() for f in str(payload.get("fields", "")).split(",") if f.strip()}
    if not fields:
        raise ApiError(400, "At least one field must be specified.")
    tab = _sheet(spreadsheet, payload.get("sheetId", 0))
    rows = payload.get("rows", [])
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ApiError(
            400, "Invalid value at 'rows' (type.googleapis.com/google.apps.sheets.v4.RowData)"
        )
    cells = [[_cell_value(cell) for cell in row.get("values", [])] for row in rows]
    top = max((r for r, _ in tab.cells), default=0) + 1
    width = max((len(row) for row in cells), default=0)
    bottom = top + len(cells) - 1
    if width > tab.columns:
        raise grid_error(tab, Box(top, 1, bottom, width))
    tab.rows = max(tab.rows, bottom)
    if fields & {"*", "userEnteredValue"}:
        for r, row in enumerate(cells):
            for c, value in enumerate(row):
                tab.put((top + r, 1 + c), value)
    return {}


_STRUCTURE: dict[str, Callable[[FakeSheets, Spreadsheet, Json], Json]] = {
    "addSheet": FakeSheets._add_sheet,
    "deleteSheet": FakeSheets._delete_sheet,
    "updateSheetProperties": FakeSheets._update_sheet_properties,
    "appendDimension": FakeSheets._append_dimension,
    "setDataValidation": FakeSheets._set_data_validation,
    "addProtectedRange": FakeSheets._add_protected_range,
    "updateCells": FakeSheets._update_cells,
    "appendCells": _append_cells,
}

_EXTENDED = {"numberValue": (int, float), "stringValue": (str,), "boolValue": (bool,)}


def _cell_value(cell: Any) -> Cell | None:
    """A CellData's userEnteredValue (an ExtendedValue: exactly one of its kinds), as
    stored: a stringValue stays text even when it looks like a number or a formula; a
    formulaValue is computed as `user_entered` does; no value clears the cell."""
    if not isinstance(cell, dict):
        raise ApiError(
            400,
            "Invalid value at 'rows.values' (type.googleapis.com/google.apps.sheets.v4.CellData)",
        )
    value = cell.get("userEnteredValue")
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) != 1:
        raise ApiError(400, "Invalid userEnteredValue: exactly one kind of value must be set.")
    ((kind, content),) = value.items()
    if kind == "formulaValue" and isinstance(content, str):
        return _formula(content) if content.startswith("=") else user_entered(content)[0]
    types = _EXTENDED.get(kind)
    if types is None:
        raise ApiError(
            400, f"Invalid JSON payload received. Unknown name \"{kind}\" at 'userEnteredValue'."
        )
    if not isinstance(content, types) or (kind == "numberValue" and isinstance(content, bool)):
        raise ApiError(400, f"Invalid value at 'userEnteredValue.{kind}' ({json.dumps(content)})")
    return content


def _proto3(value: Any) -> Any:
    """Drop what a proto3 answer leaves out: nulls, false, empty strings and lists."""
    if isinstance(value, dict):
        cleaned = {k: _proto3(v) for k, v in value.items()}
        # `is False`, not `in`: 0 == False, and zero indexes are kept in Google's answers.
        return {k: v for k, v in cleaned.items() if not (v is None or v is False or v in ("", []))}
    if isinstance(value, list):
        return [_proto3(item) for item in value]
    return value


def _sheet(spreadsheet: Spreadsheet, sheet_id: int) -> Tab:
    tab = spreadsheet.by_id(sheet_id)
    if tab is None:
        raise ApiError(400, f"No grid with id: {sheet_id}")
    return tab


def _check_grid_range(tab: Tab, grid_range: Json) -> None:
    bottom = grid_range.get("endRowIndex", tab.rows)
    right = grid_range.get("endColumnIndex", tab.columns)
    top = grid_range.get("startRowIndex", 0) + 1
    left = grid_range.get("startColumnIndex", 0) + 1
    check_inside(tab, Box(top, left, bottom, right))


def _input_option(option: str | None) -> str:
    if option not in ("RAW", "USER_ENTERED"):
        raise ApiError(400, "'valueInputOption' is required but not specified")
    return option


def _render(tab: Tab, key: Key, params: dict[str, list[str]]) -> Cell:
    value = tab.cells.get(key, "")
    render = params.get("valueRenderOption", ["FORMATTED_VALUE"])[0]
    dates = params.get("dateTimeRenderOption", ["SERIAL_NUMBER"])[0]
    fmt = tab.formats.get(key)
    date_text = fmt is not None and (render == "FORMATTED_VALUE" or dates == "FORMATTED_STRING")
    if date_text and fmt and isinstance(value, int | float):
        return _date_text(value, fmt)
    if render != "FORMATTED_VALUE" or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return _format_number(value)


def _date_text(serial: int | float, fmt: str) -> str:
    moment = dt.datetime.combine(EPOCH, dt.time()) + dt.timedelta(days=float(serial))
    if fmt == "date":
        return moment.date().isoformat()
    if fmt == "time":
        return moment.time().isoformat()
    return moment.isoformat(sep=" ")


def _read(spreadsheet: Spreadsheet, a1: str, params: dict[str, list[str]]) -> Json:
    """One ValueRange as Sheets answers it."""
    tab, box = spreadsheet.resolve(a1)
    check_inside(tab, box)
    rows = [
        [_render(tab, (r, c), params) for c in range(box.left, box.right + 1)]
        for r in range(box.top, box.bottom + 1)
    ]
    major = params.get("majorDimension", ["ROWS"])[0]
    if major == "COLUMNS":
        rows = [list(column) for column in zip(*rows, strict=True)]
    rows = [_trim(row) for row in rows]
    while rows and not rows[-1]:
        rows.pop()
    answer: Json = {"range": f"{range_tab_name(tab.title)}!{box.a1}", "majorDimension": major}
    if rows:
        answer["values"] = rows
    return answer


def _trim(row: list[Cell]) -> list[Cell]:
    while row and row[-1] == "":
        row = row[:-1]
    return row


def _plan_write(
    spreadsheet: Spreadsheet, item: Json, option: str
) -> tuple[Tab, Box, list[list[Any]]]:
    tab, box = spreadsheet.resolve(item.get("range", ""))
    values = item.get("values", [])
    if not isinstance(values, list) or not all(isinstance(row, list) for row in values):
        raise ApiError(
            400,
            f"Invalid value at 'data.values' (type.googleapis.com/google.protobuf.ListValue), {json.dumps(values)}",
        )
    if item.get("majorDimension") == "COLUMNS":
        width = max((len(column) for column in values), default=0)
        values = [
            [column[r] if r < len(column) else None for column in values] for r in range(width)
        ]
    height, width = len(values), max((len(row) for row in values), default=0)
    written = Box(box.top, box.left, box.top + max(height, 1) - 1, box.left + max(width, 1) - 1)
    if not box.single and (written.bottom > box.bottom or written.right > box.right):
        raise ApiError(
            400,
            f"Requested writing within range [{range_tab_name(tab.title)}!{box.a1}], but tried "
            f"writing to {'row' if written.bottom > box.bottom else 'column'} "
            f"[{written.bottom if written.bottom > box.bottom else column_letters(written.right)}]",
        )
    check_inside(tab, written)
    cells = [
        [user_entered(v) if option == "USER_ENTERED" else (raw(v), None) for v in row]
        for row in values
    ]
    return tab, written, cells


def _apply_write(spreadsheet: Spreadsheet, plan: tuple[Tab, Box, list[list[Any]]]) -> Json:
    tab, box, cells = plan
    for r, row in enumerate(cells):
        for c, (value, fmt) in enumerate(row):
            key = (box.top + r, box.left + c)
            if value is None:
                tab.cells.pop(key, None)
                tab.formats.pop(key, None)
            else:
                tab.put(key, value, fmt)
    rows, columns = box.bottom - box.top + 1, box.right - box.left + 1
    return {
        "spreadsheetId": spreadsheet.key,
        "updatedRange": f"{range_tab_name(tab.title)}!{box.a1 if not (rows == columns == 1) else cell_name(box.top, box.left)}",
        "updatedRows": rows,
        "updatedColumns": columns,
        "updatedCells": rows * columns,
    }


def _clear(spreadsheet: Spreadsheet, a1: str) -> Json:
    tab, box = spreadsheet.resolve(a1)
    for key in [
        k for k in tab.cells if box.top <= k[0] <= box.bottom and box.left <= k[1] <= box.right
    ]:
        del tab.cells[key]
        tab.formats.pop(key, None)
    return {
        "spreadsheetId": spreadsheet.key,
        "clearedRange": f"{range_tab_name(tab.title)}!{box.a1}",
    }


# -- transport -------------------------------------------------------------------------------


class FakeSheetsAdapter(BaseAdapter):
    """A requests transport adapter that answers from a FakeSheets instead of the network."""

    def __init__(self, fake: FakeSheets) -> None:
        super().__init__()
        self.fake = fake

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        status, body, headers = self.fake.handle(
            request.method or "GET", request.url or "", request.headers, request.body
        )
        response = requests.Response()
        response.status_code = status
        response.reason = HTTPStatus(status).phrase
        response.headers = CaseInsensitiveDict(headers)
        response._content = body  # what requests itself sets once a body is read
        response.encoding = "utf-8"
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


def install(monkeypatch: pytest.MonkeyPatch, fake: FakeSheets) -> None:
    """Route Google's Sheets and token URLs, from every requests Session, to `fake`."""
    adapter = FakeSheetsAdapter(fake)
    original = requests.Session.get_adapter

    def get_adapter(self: requests.Session, url: str) -> BaseAdapter:
        if url.startswith((SHEETS_HOST, TOKEN_URL)):
            return adapter
        return original(self, url)

    monkeypatch.setattr(requests.Session, "get_adapter", get_adapter)


# -- service-account keys ----------------------------------------------------------------------


def make_service_account_key(email: str = "gt-registre@gt-tests.iam.gserviceaccount.com") -> Json:
    """A throwaway service-account key (a real RSA key, useless outside these tests)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return {
        "type": "service_account",
        "project_id": "gt-tests",
        "private_key_id": "0" * 40,
        "private_key": pem,
        "client_email": email,
        "client_id": "100000000000000000000",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": TOKEN_URL,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/gt-tests",
        "universe_domain": "googleapis.com",
    }


_KEY_CACHE: list[Json] = []  # one RSA key per test session: generating one takes ~50 ms


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def fake_sheets(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSheets]:
    """A fresh FakeSheets, answering every Sheets and OAuth token request."""
    fake = FakeSheets()
    install(monkeypatch, fake)
    yield fake


@pytest.fixture
def service_account_file(tmp_path: Path) -> Path:
    """A service-account key file for gt-registre@gt-tests.iam.gserviceaccount.com."""
    if not _KEY_CACHE:
        _KEY_CACHE.append(make_service_account_key())
    path = tmp_path / "compte-de-service.json"
    path.write_text(json.dumps(_KEY_CACHE[0]), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches the network or the developer's own Google credentials: IP sockets
    refuse to connect, and Application Default Credentials look nowhere real."""

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError("accès réseau interdit pendant les tests")

    original_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            refuse()
        return original_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", lambda self, address: refuse())
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", "/nonexistent/gt-tests-gcloud")
    monkeypatch.setenv("NO_GCE_CHECK", "true")  # read by google-auth once: see NO_GCE_CHECK
    # Should the metadata server be asked all the same, it is a refused address.
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")


@pytest.fixture
def no_token_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """For a test whose token endpoint answers 5xx: google-auth retries that request itself
    after `time.sleep` (1 s, then 2 s), with no public setting to turn it off; the sleep
    is skipped (the standard library's, for the test's length only)."""
    monkeypatch.setattr(time, "sleep", lambda _seconds: None)
