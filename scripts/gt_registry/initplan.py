"""`gt init`, decided once for every backend, on plain data.

`plan_init` is given the tabs to have (`TabLayout`s), what the registry holds now (a `Snapshot`:
each existing tab's rows, the header row at least, the whole tab where demo data may go), the
demo rows and `force`, and decides everything: the tabs to create, the headers to add (matched
through their aliases, as the loader matches them), the demo rows in each tab's own column order,
what is left alone without `--force`, and the decoration (frozen header row, drop-downs, column
widths, warning protection of the tool's tabs). It does no I/O: each backend's `initialise`
only applies the `InitPlan` it returns (one `spreadsheets:batchUpdate` on Google Sheets, one
save of the workbook for a file).

What a plan may write, by construction: the header row only beyond its last cell, and data rows
only in a tab with nothing below its header, unless `force`. `layout` (the tabs the configuration
asks for) and `init_registry` (the one call `gt init` makes) sit at the ends of the module.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import journal
from .backends import InitReport, Snapshot, TabLayout
from .model import MEETING_TYPES, ORGANISATION_TYPES, Rows, Value
from .parsing import normalise_header

if TYPE_CHECKING:
    from .config import Config
    from .session import Session

YES_NO = ("oui", "non")
Spellings = Mapping[str, set[str]]  # header → every normalised spelling that counts as it


def layout(config: Config, group_codes: tuple[str, ...] = ()) -> list[TabLayout]:
    """Every tab with its headers and drop-down lists, staff tabs first."""
    choices: dict[str, dict[str, tuple[str, ...]]] = {
        "organisations": {
            "type": ORGANISATION_TYPES,
            "partner": YES_NO,
            "forum_coorganiser": YES_NO,
            "has_room": YES_NO,
        },
        "people": {
            "language": config.languages,
            "opted_out": YES_NO,
            "override": ("actif", "inactif"),
        },
        "meetings": {
            "type": MEETING_TYPES,
            "group": group_codes or (f"={config.tab('groups')}!$A$2:$A$200",),
        },
        "attendance": {"status": ("présent", "excusé", "absent")},
    }
    tabs = []
    for key, spec in config.staff_tabs.items():
        by_field = choices.get(key, {})
        headers = tuple(f.header for f in spec.fields)
        tab_choices = {spec.field(k).header: v for k, v in by_field.items()}
        tabs.append(TabLayout(spec.name, headers, tab_choices))
    for owned in config.owned_tabs.values():
        tabs.append(TabLayout(owned.name, owned.headers, {}, owned=True))
    return tabs


# -- the plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Dropdown:
    """A drop-down under a header (0-based column), from row 2 down; never strict, since staff
    may need a value not listed yet."""

    column: int
    choices: tuple[str, ...]

    @property
    def range_formula(self) -> str | None:
        """A single choice such as `=Groupes!$A$2:$A$200` names a range holding the choices:
        that formula; None when the choices are the values themselves."""
        if len(self.choices) == 1 and self.choices[0].startswith("="):
            return self.choices[0]
        return None


@dataclass(frozen=True)
class TabPlan:
    """What `gt init` does to one tab. Rows and columns are 0-based."""

    layout: TabLayout
    title: str  # the tab's real name (the layout's name for a tab to create)
    create: bool
    headers: tuple[str, ...]  # the whole header row once initialised
    first_new: int  # column of the first added header (0 for a new tab)
    rows: Rows | None = None  # demo rows in `headers` order, below the header (None: no fill)
    clear: tuple[int, int] = (0, 0)  # rows × columns below the header that the fill blanks
    dropdowns: tuple[Dropdown, ...] = ()
    freeze: bool = False  # the header row frozen (unless it already is)
    protect: bool = False  # a warning protection (unless there already is one)
    widths: tuple[int, ...] = ()  # characters, for each added column

    @property
    def added(self) -> tuple[str, ...]:
        return self.headers[self.first_new :]

    @property
    def height(self) -> int:
        """Rows the tab needs: the header and the demo rows."""
        return 1 + len(self.rows or ())

    def cells(self) -> Iterator[tuple[tuple[int, int], Value]]:
        """Every cell the plan writes, (row, column) → value; None blanks the cell."""
        for offset, header in enumerate(self.added):
            yield (0, self.first_new + offset), header
        if self.rows is None:
            return
        height = max(len(self.rows), self.clear[0])
        width = max(len(self.headers), self.clear[1])
        for r in range(height):
            row = self.rows[r] if r < len(self.rows) else []
            for c in range(width):
                yield (r + 1, c), row[c] if c < len(row) else None


@dataclass(frozen=True)
class InitPlan:
    tabs: tuple[TabPlan, ...]
    report: InitReport


def plan_init(
    tabs: Sequence[TabLayout],
    current: Snapshot,
    demo: Mapping[str, Rows] | None,
    force: bool,
    spellings: Mapping[str, Spellings] | None = None,
) -> InitPlan:
    """The plan for `tabs` given `current` (a tab exists when `current.tabs` holds it, under
    its layout name), `demo` rows per tab (header row first) and `force` (replace the data
    rows of tabs that have some with the demo's). `spellings`: per tab name, the aliases of
    each header (`backends.header_spellings`)."""
    plans = tuple(
        _plan_tab(
            tab,
            current,
            _folded_get(demo or {}, tab.name),
            force,
            (spellings or {}).get(tab.name, {}),
        )
        for tab in tabs
    )
    report = InitReport(
        created_tabs=[p.layout.name for p in plans if p.create],
        added_headers={p.layout.name: list(p.added) for p in plans if not p.create and p.added},
        filled_tabs=[p.layout.name for p in plans if p.rows is not None],
    )
    return InitPlan(plans, report)


def _plan_tab(
    tab: TabLayout, current: Snapshot, demo: Rows | None, force: bool, spellings: Spellings
) -> TabPlan:
    aliases = {normalise_header(h): s for h, s in spellings.items()}
    wanted = _wanted_headers(tab, demo)
    rows = current.tabs.get(tab.name)
    create = rows is None
    rows = rows or []
    existing = [] if create else [_text(cell) for cell in (rows[0] if rows else [])]
    missing = [h for h in wanted if _column_of(h, existing, aliases) is None]
    headers = (*existing, *missing)
    fill = bool(demo) and (create or force or not _has_data(rows))
    new = headers[len(existing) :]
    dropdowns = []
    for header, choices in tab.choices.items():
        column = _column_of(header, new, aliases)
        if column is not None and choices:
            dropdowns.append(Dropdown(len(existing) + column, tuple(choices)))
    aligned = _align(demo, headers, aliases) if demo and fill else None
    return TabPlan(
        layout=tab,
        title=tab.name if create else current.real_name(tab.name),
        create=create,
        headers=headers,
        first_new=len(existing),
        rows=aligned,
        clear=(len(rows) - 1, _width(rows[1:])) if fill and len(rows) > 1 else (0, 0),
        dropdowns=tuple(dropdowns),
        freeze=create or bool(missing),
        protect=tab.owned,
        widths=tuple(_fit(h, aligned, len(existing) + i) for i, h in enumerate(new)),
    )


# Columns whose values are long even when the tab is still empty (the Journal, addresses).
WIDE_HEADERS = {"e-mail": 30, "adresse": 36, "détail": 60, "changements": 40, "problèmes": 40}


def _fit(header: str, rows: Rows | None, column: int) -> int:
    """A column's width in characters: its header (and filter arrow), its longest value, or
    what such a column usually holds; never under 12 nor over 60."""
    longest = max((len(_text(row[column])) for row in rows or [] if column < len(row)), default=0)
    usual = next((w for key, w in WIDE_HEADERS.items() if key in header.casefold()), 0)
    return min(60, max(12, len(header) + 4, longest + 2, usual))


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _width(rows: Rows) -> int:
    return max((len(row) for row in rows), default=0)


def _folded_get(tabs: Mapping[str, Rows], name: str) -> Rows | None:
    """A tab's rows by name, case ignored."""
    return next((rows for key, rows in tabs.items() if key.casefold() == name.casefold()), None)


def _column_of(header: str, headers: Sequence[str], aliases: Spellings) -> int | None:
    """Index of `header` (or one of its aliases) in `headers`, or None."""
    key = normalise_header(header)
    spellings = aliases.get(key, {key})
    return next((i for i, h in enumerate(headers) if normalise_header(h) in spellings), None)


def _wanted_headers(tab: TabLayout, demo: Rows | None) -> list[str]:
    """The layout's headers, then any extra header the demo data brings."""
    headers = list(tab.headers)
    folded = {normalise_header(h) for h in headers}
    for cell in demo[0] if demo else []:
        text = _text(cell)
        if text and normalise_header(text) not in folded:
            headers.append(text)
            folded.add(normalise_header(text))
    return headers


def _align(demo: Rows, headers: Sequence[str], aliases: Spellings) -> Rows:
    """Demo data rows (header row first) rearranged into the tab's own column order."""
    positions = [_column_of(_text(cell), headers, aliases) for cell in demo[0]]
    rows: Rows = []
    for source in demo[1:]:
        row: list[Value] = [None] * len(headers)
        for position, value in zip(positions, source, strict=False):
            if position is not None:
                row[position] = value
        rows.append(row)
    return rows


def _has_data(rows: Rows) -> bool:
    """Whether a tab has any non-blank cell below its header row."""
    return any(_text(cell) for row in rows[1:] for cell in row)


# -- the command's one call ---------------------------------------------------------------


def init_registry(
    run: Session, data: dict[str, Rows] | None, force: bool, dry_run: bool = False
) -> InitReport:
    """`gt init` on the session's registry (`data`: demo rows per tab, or None): the backend
    plans and applies, then a run that wrote something gets its Journal row (one more read
    and write, as the contract asks of every run that writes)."""
    config = run.config
    codes = tuple(str(r[0]) for r in data[config.tab("groups")][1:]) if data else ()
    report = run.backend.initialise(layout(config, codes), data, force, dry_run=dry_run)
    if report.changed and not dry_run:
        snapshot = run.backend.read()
        tab = config.tab("journal")
        by = run.backend.identity()
        detail = {journal.RUN: journal.new_run_id()}
        entry = journal.JournalEntry(run.now, "init", by, _changes(report), "aucun", detail)
        appended = {tab: journal.rows_to_append(snapshot.tabs.get(tab), [entry])}
        run.backend.write({}, snapshot, appended)
    return report


def _changes(report: InitReport) -> str:
    """The Journal's `Changements` cell for an init."""
    return "; ".join(
        part
        for part in (
            report.created_tabs and "onglets créés : " + ", ".join(report.created_tabs),
            report.added_headers and "en-têtes ajoutés : " + ", ".join(report.added_headers),
            report.filled_tabs and "données de démonstration : " + ", ".join(report.filled_tabs),
        )
        if part
    )
