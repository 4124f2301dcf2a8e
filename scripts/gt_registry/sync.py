"""The write-back of `sync-eligibility`, planned as pure functions over plain data.

From the registry, build the whole new contents of the tool-owned tabs `Éligibilité` and
`Bilan organisations`, compare them with what the same run read (keyed by person ID, never by
row position, and ignoring the "Mis à jour le" column), and say what changed, down to the cell.
A run in which nothing changed writes nothing. `write_back` is the only function here that
touches a backend: one `write` call that rewrites the two tabs and appends the `Journal` row
(one request on Google Sheets).

Who is listed in `Éligibilité`: every person with at least one counted meeting in the season,
plus anyone made active by a `Dérogation`. People who opted out are listed too: opting out
stops the e-mails, not the rights earned by attending (their `Détail` says "ne pas contacter").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from . import journal
from .backends import Backend, Snapshot
from .config import Config
from .eligibility import Eligibility, PersonStatus, Season, compute_eligibility
from .errors import SourceError, WriteFailed
from .model import Person, Problem, Registry, Rows, Value, column_letter
from .parsing import normalise_header, text

COMMAND = "sync-eligibility"
UPDATED_HEADER = "Mis à jour le"
YES, NO = "oui", "non"
NAMES_SHOWN = 10
NOTHING_WRITTEN = "rien n'a été écrit"


@dataclass(frozen=True)
class CellChange:
    """One cell of `Éligibilité` that a write would change, for a person already listed."""

    cell: str  # A1 reference in the new tab: `Éligibilité!I3`
    person_id: str
    header: str
    before: str
    after: str

    def __str__(self) -> str:
        before, after = _shown(self.before), _shown(self.after)
        return f"{self.cell} ({self.person_id}, {self.header}) : {before} → {after}"


def _shown(value: str) -> str:
    return f"« {value} »" if value else "(vide)"


@dataclass(frozen=True)
class RankChange:
    label: str  # `Anne Aubert (P-1)`
    before: str
    after: int


@dataclass(frozen=True)
class GroupFigure:
    code: str
    name: str
    members: int
    active: int
    meetings: int  # distinct counted meetings of the group with at least one person present


@dataclass
class SyncPlan:
    """Everything one run would write, and how it differs from what was read."""

    eligibility: Eligibility
    rows: Rows  # the whole `Éligibilité` tab, header first
    summary: Rows  # the whole `Bilan organisations` tab, header first
    listed: list[PersonStatus]
    groups: list[GroupFigure]
    first_run: bool  # no previous `Éligibilité` rows (missing, empty, or header only)
    eligibility_changed: bool
    summary_changed: bool
    newly_active: list[str] = field(default_factory=list)
    no_longer_active: list[str] = field(default_factory=list)
    rank_changes: list[RankChange] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    cells: list[CellChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.eligibility_changed or self.summary_changed

    @property
    def active(self) -> list[PersonStatus]:
        return [s for s in self.listed if s.active]

    @property
    def by_override(self) -> int:
        return sum(1 for s in self.active if not s.computed_active)


# -- the new contents -----------------------------------------------------------------------


def listed_statuses(eligibility: Eligibility) -> list[PersonStatus]:
    """The people of `Éligibilité`, by rank then name: a counted meeting, or active."""
    return [s for s in eligibility.ranked() if s.count > 0 or s.active]


def yes_no(flag: bool) -> str:
    return YES if flag else NO


def detail(status: PersonStatus) -> str:
    """The why of the flags, and a reminder when the person opted out of e-mails."""
    if status.person.opted_out:
        return status.why + " — désinscrit·e : ne pas contacter"
    return status.why


def person_row(status: PersonStatus, registry: Registry, today: dt.date) -> list[Value]:
    person = status.person
    organisation = registry.organisations.get(person.organisation_id)
    return [
        person.id,
        person.first_name,
        person.last_name,
        organisation.name if organisation else "",
        person.email,
        status.count,
        yes_no(status.active),
        yes_no(status.free_forum_entry),
        status.rank if status.rank is not None else "",
        detail(status),
        today.strftime("%d/%m/%Y"),
    ]


def eligibility_rows(
    eligibility: Eligibility, registry: Registry, config: Config, today: dt.date
) -> Rows:
    """The whole `Éligibilité` tab: our header, then one row per listed person."""
    header: list[Value] = list(config.owned_tabs["eligibility"].headers)
    return [header, *(person_row(s, registry, today) for s in listed_statuses(eligibility))]


def summary_rows(eligibility: Eligibility, config: Config) -> Rows:
    """The whole `Bilan organisations` tab: every organisation, most involved first."""
    header: list[Value] = list(config.owned_tabs["summary"].headers)
    body: Rows = [
        [s.organisation.id, s.organisation.name, s.organisation.type, s.meetings, s.active_people]
        for s in eligibility.organisations
    ]
    return [header, *body]


def group_figures(eligibility: Eligibility, registry: Registry) -> list[GroupFigure]:
    figures = []
    for code, group in registry.groups.items():
        members = [eligibility.statuses[p.id] for p in registry.members_of(code)]
        meetings = {
            m.id for s in eligibility.statuses.values() for m in s.meetings if m.group == code
        }
        figures.append(
            GroupFigure(
                code, group.name, len(members), sum(s.active for s in members), len(meetings)
            )
        )
    return figures


# -- comparing with what was read --------------------------------------------------------------


def comparable(rows: Rows | None, skip: int | None = None) -> list[tuple[str, ...]]:
    """A tab as compared: cells as text (3 == 3.0 == "3"), column `skip` left out, trailing
    blanks dropped, so that a value read back equals the value written."""
    out = []
    for row in rows or []:
        cells = [text(v) for i, v in enumerate(row) if i != skip]
        while cells and not cells[-1]:
            cells.pop()
        out.append(tuple(cells))
    while out and not any(out[-1]):
        out.pop()
    return out


def previous_people(rows: Rows | None) -> dict[str, dict[str, str]] | None:
    """Person ID → {header: text} from a previous `Éligibilité`, or None when there is none
    (first run, or a tab whose header has no `ID`)."""
    if not rows:
        return None
    header = [normalise_header(text(v)) for v in rows[0]]
    if "id" not in header:
        return None
    people: dict[str, dict[str, str]] = {}
    for row in rows[1:]:
        cells = [text(v) for v in row] + [""] * (len(header) - len(row))
        values = {name: cell for name, cell in zip(header, cells, strict=False) if name}
        if values.get("id"):
            people.setdefault(values["id"], values)
    return people


def label(person: Person) -> str:
    return f"{person.full_name} ({person.id})"


def _previous_label(person_id: str, values: dict[str, str]) -> str:
    name = f"{values.get('prenom', '')} {values.get('nom', '')}".strip()
    return f"{name} ({person_id})" if name else person_id


def _was_active(values: dict[str, str] | None) -> bool:
    return values is not None and normalise_header(values.get("membreactif", "")) == YES


def diff_people(
    plan: SyncPlan, before: dict[str, dict[str, str]] | None, headers: Sequence[str], tab: str
) -> None:
    """Fill the plan's newly active / no longer active / rank changes / added / removed / cells."""
    keys = [normalise_header(h) for h in headers]
    previous = before or {}
    for row_number, (status, row) in enumerate(
        zip(plan.listed, plan.rows[1:], strict=True), start=2
    ):
        person = status.person
        old = previous.get(person.id)
        if status.active and not _was_active(old):
            plan.newly_active.append(label(person))
        if old is None:
            plan.added.append(label(person))
            continue
        if status.active and _was_active(old) and old.get("priorite", "") != str(status.rank):
            plan.rank_changes.append(
                RankChange(label(person), old.get("priorite", ""), status.rank or 0)
            )
        for column, (key, header, value) in enumerate(
            zip(keys, headers, row, strict=True), start=1
        ):
            if header != UPDATED_HEADER and old.get(key, "") != text(value):
                cell = f"{tab}!{column_letter(column)}{row_number}"
                plan.cells.append(
                    CellChange(cell, person.id, header, old.get(key, ""), text(value))
                )
    now = {s.person.id: s for s in plan.listed}
    for person_id, values in previous.items():
        current = now.get(person_id)
        if _was_active(values) and (current is None or not current.active):
            plan.no_longer_active.append(
                label(current.person) if current else _previous_label(person_id, values)
            )
        if current is None:
            plan.removed.append(_previous_label(person_id, values))


def plan_sync(
    registry: Registry, config: Config, today: dt.date, season: Season | None = None
) -> SyncPlan:
    """Compute the eligibility and compare the new owned tabs with those in `registry.owned`."""
    eligibility = compute_eligibility(registry, config, today, season)
    headers = list(config.owned_tabs["eligibility"].headers)
    rows = eligibility_rows(eligibility, registry, config, today)
    summary = summary_rows(eligibility, config)
    skip = headers.index(UPDATED_HEADER)
    before_rows = registry.owned.get("eligibility")
    before = previous_people(before_rows)
    plan = SyncPlan(
        eligibility=eligibility,
        rows=rows,
        summary=summary,
        listed=listed_statuses(eligibility),
        groups=group_figures(eligibility, registry),
        first_run=not before,
        eligibility_changed=comparable(rows, skip) != comparable(before_rows, skip),
        summary_changed=comparable(summary) != comparable(registry.owned.get("summary")),
    )
    diff_people(plan, before, headers, config.tab("eligibility"))
    return plan


# -- writing ----------------------------------------------------------------------------------


def changes_text(plan: SyncPlan) -> str:
    """What changed, in counts, for the `Journal`."""
    return (
        f"nouveaux actifs : {len(plan.newly_active)} ; plus actifs : {len(plan.no_longer_active)} ; "
        f"rangs modifiés : {len(plan.rank_changes)} ; lignes ajoutées : {len(plan.added)} ; "
        f"lignes retirées : {len(plan.removed)} ; cellules modifiées : {len(plan.cells)}"
    )


def problems_text(problems: Sequence[Problem], shown: int = 5) -> str:
    if not problems:
        return "aucun"
    cells = ", ".join(p.location.ref for p in problems[:shown])
    more = ", …" if len(problems) > shown else ""
    return f"{len(problems)} ({cells}{more})"


def journal_entry(
    plan: SyncPlan, by: str, problems: Sequence[Problem], now: dt.datetime
) -> journal.JournalEntry:
    season = plan.eligibility.season
    detail = {
        "saison": season.label,
        "au": plan.eligibility.today.isoformat(),
        "personnes": str(len(plan.listed)),
        "actifs": str(len(plan.active)),
        journal.RUN: journal.new_run_id(),
    }
    return journal.JournalEntry(
        now, COMMAND, by, changes_text(plan), problems_text(problems), detail
    )


def write_contents(
    plan: SyncPlan, config: Config, entry: journal.JournalEntry, journal_rows: Rows | None
) -> tuple[dict[str, Rows], dict[str, Rows]]:
    """One backend write: the two tabs rewritten whole, and the Journal row appended (after
    the header when the tab has none), as (`contents`, `appended`)."""
    contents = {config.tab("eligibility"): plan.rows, config.tab("summary"): plan.summary}
    appended = {config.tab("journal"): journal.rows_to_append(journal_rows, [entry])}
    return contents, appended


def write_back(
    backend: Backend,
    plan: SyncPlan,
    snapshot: Snapshot,
    registry: Registry,
    config: Config,
    problems: Sequence[Problem],
    now: dt.datetime,
) -> bool:
    """Write the plan in ONE `backend.write` call if anything changed; True when written.

    Every failure says, in its message, that the sheet is as it was."""
    if not plan.changed:
        return False
    try:
        entry = journal_entry(plan, backend.identity(), problems, now)
        contents, appended = write_contents(plan, config, entry, registry.owned.get("journal"))
        backend.write(contents, snapshot, appended)
    except SourceError as err:
        if NOTHING_WRITTEN in str(err):
            raise
        raise WriteFailed(
            f"{err.message} ; {NOTHING_WRITTEN}", err.hint or "réessayez plus tard"
        ) from err
    return True


# -- what the person running it reads ---------------------------------------------------------


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{count} {singular if count <= 1 else plural_form or singular + 's'}"


def names(items: Sequence[str]) -> str:
    if not items:
        return ""
    shown = ", ".join(items[:NAMES_SHOWN])
    rest = len(items) - NAMES_SHOWN
    more = f", … et {plural(rest, 'autre', 'autres')}" if rest > 0 else ""
    return f" — {shown}{more}"  # no nested parentheses: the names carry their ID in them


def summary_lines(plan: SyncPlan) -> list[str]:
    """The French summary of a run: season, counts, changes since the last sync, per group."""
    elig = plan.eligibility
    season, active = elig.season, plan.active
    since = "première synchronisation" if plan.first_run else "depuis la dernière synchronisation"
    lines = [
        f"Saison {season.label} (du {season.start:%d/%m/%Y} au {season.end:%d/%m/%Y}), calcul au {elig.today:%d/%m/%Y}.",
        f"{plural(len(plan.listed), 'personne comptée', 'personnes comptées')}, "
        f"{plural(len(active), 'membre actif', 'membres actifs')} (dont {plan.by_override} par dérogation), "
        f"{plural(len(active), 'entrée FMC offerte', 'entrées FMC offertes')}.",
        f"Nouveaux actifs ({since}) : {len(plan.newly_active)}{names(plan.newly_active)}.",
        f"Ne sont plus actifs : {len(plan.no_longer_active)}{names(plan.no_longer_active)}.",
        f"Rangs de priorité modifiés : {len(plan.rank_changes)}.",
    ]
    if plan.groups:
        lines.append("Par groupe :")
        lines += [
            f"  {g.code} — {g.name} : {plural(g.members, 'membre')}, {plural(g.active, 'actif')}, "
            f"{plural(g.meetings, 'réunion comptée', 'réunions comptées')}"
            for g in plan.groups
        ]
    return lines


def change_lines(plan: SyncPlan, config: Config, limit: int = 200) -> list[str]:
    """For --dry-run: the exact cells that would change, and the rows added or removed."""
    if not plan.changed:
        return ["Aucune cellule ne changerait."]
    tab = config.tab("eligibility")
    lines = [f"{tab} : ligne ajoutée pour {who}" for who in plan.added]
    lines += [f"{tab} : ligne retirée pour {who}" for who in plan.removed]
    lines += [str(change) for change in plan.cells]
    if plan.eligibility_changed and not lines:
        lines.append(f"{tab} : en-tête ou ordre des lignes rétabli")
    if plan.summary_changed:
        lines.append(
            f"{config.tab('summary')} : réécrit ({plural(len(plan.summary) - 1, 'organisation')})"
        )
    head = [f"Changements qui seraient écrits ({plural(len(lines), 'ligne')}) :"]
    extra = (
        [f"  … et {plural(len(lines) - limit, 'autre', 'autres')}"] if len(lines) > limit else []
    )
    return head + [f"  {line}" for line in lines[:limit]] + extra


def outcome_lines(plan: SyncPlan, config: Config, *, dry_run: bool) -> list[str]:
    """After the summary: the cells a dry run would change, or what the run wrote (if anything)."""
    if dry_run:
        return [
            *change_lines(plan, config),
            f"Simulation (--dry-run) : {NOTHING_WRITTEN}.",
        ]
    if not plan.changed:
        return [f"Rien n'a changé depuis la dernière synchronisation : {NOTHING_WRITTEN}."]
    return [
        f"Écrit : onglets « {config.tab('eligibility')} » et « {config.tab('summary')} » réécrits, une ligne ajoutée au « {config.tab('journal')} »."
    ]


def next_step(problems: Sequence[Problem], dry_run: bool) -> str:
    if problems:
        return "Prochaine étape : corrigez les cellules signalées dans le tableur, puis relancez « gt sync-eligibility »."
    if dry_run:
        return "Prochaine étape : relancez sans --dry-run pour écrire ces changements."
    return "Prochaine étape : la liste des entrées FMC offertes est dans l'onglet « Éligibilité » ; prochaine synchronisation la semaine prochaine."
