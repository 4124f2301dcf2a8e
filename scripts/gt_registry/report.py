"""The season report (`gt report`): the figures behind every chart, as plain data.

Pure functions over the registry and the season's `Eligibility`; nothing here draws, formats
or writes (`report_page.py` draws and renders, the command writes). The rules are the
contract's and are not re-implemented here: the season and the counted meetings come from
`eligibility` (`counted_in`, `counted_meetings`), the active members from
`compute_eligibility` (overrides included, the count of `Éligibilité`), the group figures from
`sync.group_figures`, the organisations' figures from `Eligibility.organisations`. Rows with
problems never reach the registry (the loader leaves them out, as for the sync); they are
counted here by kind, from the loader's problems.

- A meeting is *held* when it is a counted meeting of the season (a counted type, inside the
  season, dated on or before today).
- Per meeting, each person counts once, with their best status: present, else excused, else
  absent (a duplicate row once).
- A meeting with no host (`Hôte` empty) was held at the network's own premises.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .config import Config
from .contacts import csv_row
from .eligibility import (
    Eligibility,
    Season,
    compute_eligibility,
    counted_in,
    counted_meetings,
    season_for,
)
from .errors import RegistryError
from .files import (
    Place,
    ProtectedOutput,
    atomic_write_bytes,
    check_folder_writable,
    check_output_file,
    check_protected,
    protected_places,
    refused,
    resolved,
)
from .lines import Line
from .model import ABSENT, EXCUSED, ORGANISATION_TYPES, PRESENT, Meeting, Problem, Registry
from .parsing import fold
from .sync import group_figures

TOP_ORGANISATIONS = 10
_BEST = {PRESENT: 0, EXCUSED: 1, ABSENT: 2}

# What each problem code of the loader means, for the data-quality section (by kind).
PROBLEM_KINDS = {
    "missing_value": "valeur obligatoire manquante",
    "duplicate_id": "identifiant en double",
    "duplicate_email": "adresse e-mail en double",
    "invalid_email": "adresse e-mail invalide",
    "unknown_organisation": "organisation inconnue",
    "unknown_group": "groupe inconnu",
    "unknown_meeting": "réunion inconnue",
    "unknown_person": "personne inconnue",
    "future_attendance": "présence à une réunion future",
    "bad_status": "statut de présence non compris",
    "bad_type": "type non compris",
    "bad_date": "date illisible",
    "bad_time": "heure illisible ou incohérente",
    "bad_yes_no": "oui/non illisible",
    "bad_language": "langue non prise en charge",
    "missing_group": "réunion sans groupe",
    "control_chars": "caractères de contrôle",
    "invisible_chars": "caractères invisibles",
    "tab_name": "onglet mal nommé",
    "missing_header": "en-tête manquant",
    "missing_tab": "onglet manquant",
    "no_opt_out_column": "colonne de désinscription absente",
}


@dataclass(frozen=True)
class MeetingFigure:
    id: str
    type: str
    group: str | None
    date: dt.date
    host: str  # organisation ID, "" at the network's own premises
    present: int
    excused: int
    absent: int


@dataclass(frozen=True)
class GroupFigure:
    code: str
    name: str
    members: int
    people_present: int  # distinct people present at one of the group's held meetings at least
    active_members: int  # members of the group who are active members (season-wide)
    meetings_held: int
    average_present: float | None  # per held meeting of the group


@dataclass(frozen=True)
class TypeFigure:
    type: str
    organisations: int  # in the registry
    organisations_present: int  # with someone present this season


@dataclass(frozen=True)
class HostFigure:
    organisation: str
    name: str
    type: str
    meetings: int
    by_group: dict[str, int]  # group code (or meeting type for Lancement) → meetings


@dataclass(frozen=True)
class OrganisationFigure:
    organisation: str
    name: str
    type: str
    meetings: int  # distinct counted meetings attended by any of its people
    active_people: int


@dataclass(frozen=True)
class SeasonFigure:
    season: str
    meetings_held: int
    people_present: int
    active_members: int  # overrides included for the report's season; computed for earlier ones
    organisations_present: int
    returning_active: int | None  # last season's active members present this season


@dataclass(frozen=True)
class ProblemKind:
    code: str
    kind: str
    count: int


@dataclass
class Report:
    season: Season
    as_of: dt.date
    threshold: int
    counted_types: tuple[str, ...]
    totals: dict[str, Any]
    meetings_by_type: dict[str, int]
    meetings: list[MeetingFigure]
    groups: list[GroupFigure]
    organisation_types: list[TypeFigure]
    hosts: list[HostFigure]
    hosting: dict[str, Any]
    involvement: list[dict[str, int]]
    top_organisations: list[OrganisationFigure]
    seasons: list[SeasonFigure]
    problems: list[ProblemKind] = field(default_factory=list)
    group_names: dict[str, str] = field(default_factory=dict)
    organisation_names: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The figures as `--json` prints them (dates ISO, plain lists and numbers)."""
        return {
            "season": self.season.label,
            "season_start": self.season.start.isoformat(),
            "season_end": self.season.end.isoformat(),
            "as_of": self.as_of.isoformat(),
            "active_threshold": self.threshold,
            "counted_types": list(self.counted_types),
            "totals": self.totals,
            "meetings_by_type": self.meetings_by_type,
            "meetings": [{**asdict(m), "date": m.date.isoformat()} for m in self.meetings],
            "groups": [asdict(g) for g in self.groups],
            "organisation_types": [asdict(t) for t in self.organisation_types],
            "hosts": [asdict(h) for h in self.hosts],
            "hosting": self.hosting,
            "involvement": self.involvement,
            "top_organisations": [asdict(o) for o in self.top_organisations],
            "seasons": [asdict(s) for s in self.seasons],
            "data_quality": {
                "problems": sum(p.count for p in self.problems),
                "by_kind": [asdict(p) for p in self.problems],
                "command": "gt check",
            },
        }


def build_report(
    registry: Registry,
    config: Config,
    today: dt.date,
    problems: Sequence[Problem] = (),
    season: Season | None = None,
) -> Report:
    """Every figure of the report for `season` (default: the season in force on `today`)."""
    season = season or season_for(today, config.season_first_month, config.season_last_month)
    eligibility = compute_eligibility(registry, config, today, season)
    held = counted_in(registry, config, season, today)
    order = sorted(held.values(), key=lambda m: (m.date, m.id))
    meetings = _meeting_figures(registry, eligibility, order)
    present_people = {pid for pid, s in eligibility.statuses.items() if s.count}
    orgs_present = _organisations_of(registry, present_people)
    earlier = _earlier_seasons(registry, config, today, season)
    known_before = set().union(*(orgs for _figure, orgs, _active, _present in earlier))
    total_present = sum(m.present for m in meetings)
    totals: dict[str, Any] = {
        "meetings_held": len(meetings),
        "people_present": len(present_people),
        "active_members": sum(s.active for s in eligibility.statuses.values()),
        "active_by_override": sum(
            s.active and not s.computed_active for s in eligibility.statuses.values()
        ),
        "organisations_present": len(orgs_present),
        "organisations_new": len(orgs_present - known_before),
        "average_attendance": round(total_present / len(meetings), 1) if meetings else None,
        "meetings_without_attendance": sum(
            1 for m in meetings if not (m.present or m.excused or m.absent)
        ),
    }
    by_type = Counter(m.type for m in meetings)
    current = SeasonFigure(
        season.label,
        totals["meetings_held"],
        totals["people_present"],
        totals["active_members"],
        totals["organisations_present"],
        None,
    )
    active_now = {pid for pid, s in eligibility.statuses.items() if s.active}
    seasons = _compared(
        [(f, a, p) for f, _orgs, a, p in earlier] + [(current, active_now, present_people)]
    )
    hosts, hosting = _hosting(registry, order)
    return Report(
        season=season,
        as_of=today,
        threshold=config.active_threshold,
        counted_types=config.counted_types,
        totals=totals,
        meetings_by_type={t: by_type[t] for t in config.counted_types if by_type[t]},
        meetings=meetings,
        groups=_groups(registry, eligibility, meetings),
        organisation_types=_types(registry, orgs_present),
        hosts=hosts,
        hosting=hosting,
        involvement=_involvement(eligibility),
        top_organisations=[
            OrganisationFigure(
                s.organisation.id,
                s.organisation.name,
                s.organisation.type,
                s.meetings,
                s.active_people,
            )
            for s in eligibility.organisations[:TOP_ORGANISATIONS]
            if s.meetings
        ],
        seasons=seasons if len(seasons) > 1 else [],
        problems=problem_kinds(problems),
        group_names={code: g.name for code, g in registry.groups.items()},
        organisation_names={oid: o.name for oid, o in registry.organisations.items()},
    )


def _meeting_figures(
    registry: Registry, eligibility: Eligibility, order: list[Meeting]
) -> list[MeetingFigure]:
    """Present from the eligibility (the same count as the sync); excused and absent from one
    pass over the attendance, each person once with their best status."""
    present: Counter[str] = Counter(m.id for s in eligibility.statuses.values() for m in s.meetings)
    best: dict[str, dict[str, str]] = {m.id: {} for m in order}
    people = registry.people
    for row in registry.attendance:
        seen = best.get(row.meeting_id)
        if seen is None or row.person_id not in people:
            continue
        old = seen.get(row.person_id)
        if old is None or _BEST[row.status] < _BEST[old]:
            seen[row.person_id] = row.status
    figures = []
    for m in order:
        statuses = Counter(best[m.id].values())
        assert m.date is not None  # counted meetings have a date
        figures.append(
            MeetingFigure(
                m.id,
                m.type,
                m.group,
                m.date,
                m.host_id,
                present[m.id],
                statuses[EXCUSED],
                statuses[ABSENT],
            )
        )
    return figures


def _organisations_of(registry: Registry, people: Iterable[str]) -> set[str]:
    orgs = registry.organisations
    return {oid for pid in people if (oid := registry.people[pid].organisation_id) and oid in orgs}


def _earlier_seasons(
    registry: Registry, config: Config, today: dt.date, season: Season
) -> list[tuple[SeasonFigure, set[str], set[str], set[str]]]:
    """Each earlier season with a counted meeting: its figures, organisations present,
    (computed) active members and people present, oldest first."""
    first, last = config.season_first_month, config.season_last_month
    found = {}
    for m in registry.meetings.values():
        if m.type in config.counted_types and m.date is not None and m.date < season.start:
            candidate = season_for(m.date, first, last)
            if m.date in candidate:
                found[candidate.start] = candidate
    results = []
    for start in sorted(found):
        earlier = found[start]
        attended = counted_meetings(registry, config, earlier, today)
        held = counted_in(registry, config, earlier, today)
        active = {pid for pid, ms in attended.items() if len(ms) >= config.active_threshold}
        orgs = _organisations_of(registry, attended)
        figure = SeasonFigure(earlier.label, len(held), len(attended), len(active), len(orgs), None)
        results.append((figure, orgs, active, set(attended)))
    return results


def _compared(
    seasons: list[tuple[SeasonFigure, set[str], set[str]]],
) -> list[SeasonFigure]:
    """The seasons side by side (figure, active members, people present), each with how many
    of the season before's active members were present in it. Earlier seasons' active members
    are computed (an override is a decision for the season in force)."""
    rows: list[SeasonFigure] = []
    before: set[str] | None = None
    for figure, active, present in seasons:
        returning = None if before is None else len(before & present)
        rows.append(SeasonFigure(**{**asdict(figure), "returning_active": returning}))
        before = active
    return rows


def _groups(
    registry: Registry, eligibility: Eligibility, meetings: list[MeetingFigure]
) -> list[GroupFigure]:
    present_at: dict[str, set[str]] = defaultdict(set)
    held_ids = {m.id: m for m in meetings}
    for status in eligibility.statuses.values():
        for m in status.meetings:
            if m.group and m.id in held_ids:
                present_at[m.group].add(status.person.id)
    figures = []
    for g in group_figures(eligibility, registry):
        own = [m for m in meetings if m.group == g.code]
        total = sum(m.present for m in own)
        figures.append(
            GroupFigure(
                g.code,
                g.name,
                g.members,
                len(present_at[g.code]),
                g.active,
                len(own),
                round(total / len(own), 1) if own else None,
            )
        )
    return figures


def _types(registry: Registry, present: set[str]) -> list[TypeFigure]:
    kinds = list(ORGANISATION_TYPES) + sorted(
        {o.type for o in registry.organisations.values()} - set(ORGANISATION_TYPES)
    )
    total = Counter(o.type for o in registry.organisations.values())
    came = Counter(registry.organisations[oid].type for oid in present)
    return [TypeFigure(kind, total[kind], came[kind]) for kind in kinds]


def _hosting(registry: Registry, order: list[Meeting]) -> tuple[list[HostFigure], dict[str, Any]]:
    by_host: dict[str, Counter[str]] = defaultdict(Counter)
    at_home = 0
    for m in order:
        if m.host_id:
            by_host[m.host_id][m.group or m.type] += 1
        else:
            at_home += 1
    orgs = registry.organisations
    hosts = sorted(
        (
            HostFigure(
                oid,
                orgs[oid].name if oid in orgs else oid,
                orgs[oid].type if oid in orgs else "",
                sum(counts.values()),
                dict(sorted(counts.items())),
            )
            for oid, counts in by_host.items()
        ),
        key=lambda h: (-h.meetings, fold(h.name), h.organisation),
    )
    waiting = sorted(
        (o for o in orgs.values() if o.has_room and o.id not in by_host),
        key=lambda o: (fold(o.name), o.id),
    )
    hosting = {
        "distinct_hosts": len(hosts),
        "network_premises": at_home,
        "rooms_not_hosted": [{"organisation": o.id, "name": o.name} for o in waiting],
    }
    return hosts, hosting


def _involvement(eligibility: Eligibility) -> list[dict[str, int]]:
    counts = Counter(s.count for s in eligibility.statuses.values() if s.count)
    return [{"meetings": k, "people": counts[k]} for k in range(1, max(counts, default=0) + 1)]


def problem_kinds(problems: Sequence[Problem]) -> list[ProblemKind]:
    """The problems `gt check` finds, counted by code, most frequent first."""
    counts = Counter(p.code for p in problems)
    return [
        ProblemKind(code, PROBLEM_KINDS.get(code, code), n)
        for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


# -- tables (the CSV export, and the tables beside the charts) ----------------------------------

Table = tuple[list[str], list[list[Any]]]


def _day(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"


def _decimal(value: float | None) -> str:
    """French Excel reads `14,5` as a number."""
    return "" if value is None else f"{value:g}".replace(".", ",")


def tables(report: Report) -> dict[str, Table]:
    """One table per chart, keyed by its CSV file name (without `.csv`)."""
    t = report.totals
    names = report.organisation_names
    key_rows: list[list[Any]] = [
        ["Réunions tenues", t["meetings_held"]],
        *([f"Réunions tenues : {kind}", n] for kind, n in report.meetings_by_type.items()),
        ["Personnes présentes (distinctes)", t["people_present"]],
        ["Membres actifs", t["active_members"]],
        ["Organisations présentes", t["organisations_present"]],
        ["Organisations nouvelles cette saison", t["organisations_new"]],
        ["Présence moyenne par réunion", _decimal(t["average_attendance"])],
    ]
    return {
        "chiffres-cles": (["Indicateur", "Valeur"], key_rows),
        "reunions": (
            ["Réunion", "Type", "Groupe", "Date", "Hôte", "Présents", "Excusés", "Absents"],
            [
                [
                    m.id,
                    m.type,
                    m.group or "",
                    _day(m.date),
                    names.get(m.host, m.host),
                    m.present,
                    m.excused,
                    m.absent,
                ]
                for m in report.meetings
            ],
        ),
        "groupes": (
            [
                "Code",
                "Groupe",
                "Membres",
                "Présents au moins une fois",
                "Membres actifs",
                "Réunions tenues",
                "Présence moyenne",
            ],
            [
                [
                    g.code,
                    g.name,
                    g.members,
                    g.people_present,
                    g.active_members,
                    g.meetings_held,
                    _decimal(g.average_present),
                ]
                for g in report.groups
            ],
        ),
        "types-organisations": (
            ["Type", "Organisations du registre", "Organisations présentes"],
            [[x.type, x.organisations, x.organisations_present] for x in report.organisation_types],
        ),
        "hotes": (
            ["Organisation", "Nom", "Type", "Réunions accueillies", "Par groupe"],
            [
                [
                    h.organisation,
                    h.name,
                    h.type,
                    h.meetings,
                    ", ".join(f"{k} {n}" for k, n in h.by_group.items()),
                ]
                for h in report.hosts
            ],
        ),
        "implication": (
            ["Réunions comptées", "Personnes"],
            [[row["meetings"], row["people"]] for row in report.involvement],
        ),
        "organisations-impliquees": (
            ["Organisation", "Nom", "Type", "Réunions", "Personnes actives"],
            [
                [o.organisation, o.name, o.type, o.meetings, o.active_people]
                for o in report.top_organisations
            ],
        ),
        "saisons": (
            [
                "Saison",
                "Réunions tenues",
                "Personnes présentes",
                "Membres actifs",
                "Organisations présentes",
                "Actifs de la saison précédente revenus",
            ],
            [
                [
                    s.season,
                    s.meetings_held,
                    s.people_present,
                    s.active_members,
                    s.organisations_present,
                    "" if s.returning_active is None else s.returning_active,
                ]
                for s in report.seasons
            ],
        ),
        "qualite-des-donnees": (
            ["Code", "Problème", "Nombre"],
            [[p.code, p.kind, p.count] for p in report.problems],
        ),
    }


def csv_files(report: Report, sep: str = ";") -> dict[str, bytes]:
    """Each table as a CSV for French Excel: `;`, UTF-8 with BOM, CRLF, formula-safe cells
    (`contacts.csv_row`, the one CSV cell helper of the project)."""
    files = {}
    for name, (header, rows) in tables(report).items():
        text = "\ufeff" + csv_row(header, sep) + "".join(csv_row(row, sep) for row in rows)
        files[f"{name}.csv"] = text.encode("utf-8")
    return files


# -- writing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One file `publish` writes, and the option that named it (for the messages)."""

    path: Path
    data: bytes
    option: str


def csv_folder_to_create(folder: Path, places: Sequence[Place]) -> bool:
    """May `folder` (`--csv`) receive the tables? True when it is missing (it will be
    created; its parent must exist and be writable). Refused, nothing written, when it is or
    lies in a template folder, is above the registry or the configuration, or is not a
    folder (`ProtectedOutput`, exit 2), or cannot be created (`OutputRefused`, exit 3)."""
    check_protected(folder, places, option="--csv", folder=True)
    if not os.path.lexists(folder):
        check_folder_writable(folder.parent, "--csv")
        return True
    if not folder.is_dir():
        raise ProtectedOutput(
            f"--csv {folder} : ce n'est pas un dossier : rien n'a été écrit",
            "donnez à --csv un dossier (nouveau, ou celui d'un bilan précédent avec --force)",
            option="--csv",
        )
    return False


def check_targets(
    targets: Sequence[Target], places: Sequence[Place], force: bool, created: Path | None
) -> None:
    """Every target checked before any is written (`files.check_output_file`); the files
    of the folder `created` (missing yet) only against the protected places."""
    seen: dict[Path, Target] = {}
    for target in targets:
        if created is not None and target.path.parent == created:
            check_protected(target.path, places, option=target.option, folder=False)
        else:
            check_output_file(target.path, places, force, option=target.option)
        real = resolved(target.path)
        if real in seen:
            raise ProtectedOutput(
                f"{target.option} {target.path} : c'est aussi un fichier de {seen[real].option} : rien n'a été écrit",
                f"choisissez un autre {target.option}",
                option=target.option,
            )
        seen[real] = target


@dataclass(frozen=True)
class Published:
    """What `publish` did: the text for standard output (`--json` without `--out`), the
    files written, and the lines the command shows."""

    stdout: str | None
    written: list[Path]
    season: str
    csv_dir: Path | None = None

    def summary(self) -> list[Line]:
        """The files written (the CSV folder once, not each of its files)."""
        if not self.written:
            return []
        files = [str(p) for p in self.written if self.csv_dir is None or p.parent != self.csv_dir]
        shown = ", ".join(files + ([f"{self.csv_dir} (CSV)"] if self.csv_dir else []))
        return [Line(f"Bilan de la saison {self.season} écrit : {shown}.", "done")]


def publish(
    report: Report,
    config: Config,
    *,
    out: Path | None = None,
    as_json: bool = False,
    csv_dir: Path | None = None,
    force: bool = False,
) -> Published:
    """`gt report` minus the printing: the JSON (to `out` or returned) or the page (to
    `out`, default `rapport-SAISON.html`; not when only `--csv`), and the CSVs into `csv_dir`.

    Every file is checked first, as every output of the tool (`files.check_output_file`:
    never the registry, the configuration, a template folder or what is inside it; an
    existing file only with `force`): when one is refused, nothing is written."""
    stdout = None
    targets = []
    if as_json:
        text = json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n"
        if out is None:
            stdout = text
        else:
            targets.append(Target(out, text.encode("utf-8"), "--out"))
    elif out is not None or csv_dir is None:
        from .report_page import render_page  # the charts and the template: the page only

        page = render_page(report, config).encode("utf-8")
        targets.append(Target(out or Path(f"rapport-{report.season.label}.html"), page, "--out"))
    places = protected_places(config)
    create = csv_dir is not None and csv_folder_to_create(csv_dir, places)
    if csv_dir is not None:
        targets += [Target(csv_dir / n, d, "--csv") for n, d in csv_files(report).items()]
    check_targets(targets, places, force, csv_dir if create else None)
    written: list[Path] = []
    if create and csv_dir is not None:
        try:
            csv_dir.mkdir()
        except OSError as err:
            raise refused(err, csv_dir, "--csv") from err
    for target in targets:
        try:
            atomic_write_bytes(target.path, target.data)
        except OSError as err:
            raise failed_midway(err, target, written) from err
        written.append(target.path)
    return Published(stdout, written, report.season.label, csv_dir)


def failed_midway(err: OSError, target: Target, written: Sequence[Path]) -> RegistryError:
    """A write that failed once every check had passed (a full disk): said with the files
    already written, if any (then not « rien n'a été écrit »)."""
    refusal = refused(err, target.path, target.option)
    if not written:
        return refusal
    message = refusal.message.replace(
        "rien n'a été écrit", f"déjà écrit(s) : {', '.join(map(str, written))}"
    )
    return RegistryError(message, refusal.hint)
