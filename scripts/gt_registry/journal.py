"""The `Journal` tab: one row appended per run that wrote anything.

Columns: Date, Commande, Par, Changements, Problèmes, Détail. `Détail` holds `key=value`
pairs separated by `; ` that later runs read back (e.g. which people were already drafted
for a meeting), so the journal stays readable by staff and by the tool. Person IDs in a
`Détail` are compressed (`P-0001..P-0004`, `compress_ids`) and a run that drafted thousands
of people gets as many rows as needed to stay within a cell (`people_entries`).

Rows are only ever appended (`rows_to_append`, written as a backend's `appended`), never the
tab rewritten: two runs at once both keep their row. Each row carries its run's ID in
`Détail` (`run=…`, `new_run_id`), so a write retried after a dropped connection can
recognise its own row instead of appending it twice.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .model import Rows, Value
from .parsing import text

HEADERS = ["Date", "Commande", "Par", "Changements", "Problèmes", "Détail"]
MAX_DETAIL = 30_000  # characters of person IDs per Journal cell (Excel holds 32,767)
RUN = "run"  # the `Détail` key of a run's unique ID
HEADER_SEARCH = 5  # rows looked at for the header: staff may keep a banner above it


def new_run_id() -> str:
    """A unique ID for one run's Journal rows (`run=…` in `Détail`)."""
    return uuid.uuid4().hex


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


def has_header(rows: Rows | None) -> bool:
    """Whether the Journal's header row is among its first rows (a staff banner may be above)."""
    return any(
        [text(v) for v in row][: len(HEADERS)] == HEADERS for row in (rows or [])[:HEADER_SEARCH]
    )


def rows_to_append(rows: Rows | None, entries: Iterable[JournalEntry]) -> Rows:
    """What to append at the end of the Journal tab (`rows`: as read) for `entries`: their
    rows, after the header row when the tab has none (a new or emptied tab). Whatever the
    tab holds stays as it is."""
    new = [entry.as_row() for entry in entries]
    return new if has_header(rows) else [list(HEADERS), *new]


# -- people recorded in `Détail` ---------------------------------------------------------


def people_entries(
    when: dt.datetime,
    command: str,
    by: str,
    changes: str,
    detail: dict[str, str],
    people: Sequence[str],
    problems: str = "",
) -> list[JournalEntry]:
    """One entry (more if thousands of IDs would overflow a cell), `personnes` compressed."""
    chunks: list[list[str]] = [[]]
    size = 0
    for pid in people:
        if size > MAX_DETAIL:
            chunks.append([])
            size = 0
        chunks[-1].append(pid)
        size += len(pid) + 1
    made = []
    for n, chunk in enumerate(chunks, start=1):
        note = changes if len(chunks) == 1 else f"{changes} (partie {n}/{len(chunks)})"
        made.append(
            JournalEntry(
                when, command, by, note, problems, {**detail, "personnes": compress_ids(chunk)}
            )
        )
    return made


_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def _quote(pid: str) -> str:
    return urllib.parse.quote(pid, safe="-_~/:+@#.").replace("..", ".%2E")


def compress_ids(ids: Iterable[str]) -> str:
    """`P-0001..P-0004,P-0009,ORG-A`: runs of 3+ consecutive numbered IDs as ranges."""
    out: list[str] = []
    run: list[tuple[str, int, str]] = []

    def flush() -> None:
        if len(run) >= 3:
            out.append(f"{run[0][2]}..{run[-1][2]}")
        else:
            out.extend(item[2] for item in run)
        run.clear()

    for pid in sorted(set(ids), key=_natural):
        quoted = _quote(pid)
        match = _NUMBERED.match(quoted)
        if (
            match
            and run
            and run[-1][0] == match.group(1) + f"#{len(match.group(2))}"
            and run[-1][1] + 1 == int(match.group(2))
        ):
            run.append((run[-1][0], int(match.group(2)), quoted))
            continue
        flush()
        if match:
            run.append((match.group(1) + f"#{len(match.group(2))}", int(match.group(2)), quoted))
        else:
            out.append(quoted)
    flush()
    return ",".join(out)


def expand_ids(text: str) -> set[str]:
    """The inverse of `compress_ids`."""
    ids: set[str] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, dots, last = part.partition("..")
        a, b = _NUMBERED.match(first), _NUMBERED.match(last)
        if dots and a and b and a.group(1) == b.group(1):
            width = len(a.group(2))
            ids.update(
                urllib.parse.unquote(f"{a.group(1)}{n:0{width}d}")
                for n in range(int(a.group(2)), int(b.group(2)) + 1)
            )
        else:
            ids.add(urllib.parse.unquote(part))
    return ids


def _natural(pid: str) -> tuple[str, int, str]:
    match = _NUMBERED.match(pid)
    return (match.group(1), int(match.group(2)), pid) if match else (pid, -1, pid)
