"""The eligibility rules of the terms of reference, as pure functions over the registry.

- A season runs from `first_month` to `last_month` (November to June); the season in force is
  the most recent one that has started on "today".
- An active member was *present* at `threshold` (2) or more distinct counted meetings of the
  season (duplicates count once; excused/absent never; future meetings never; Soirée not by
  default). Active members get a free World Forum entry.
- Priority rank among active members: more meetings first, then who became active first (the
  date of their threshold-th meeting), then name. A manual override (`Dérogation`) wins.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from .config import Config
from .errors import ConfigError
from .model import OVERRIDE_ACTIVE, PRESENT, Meeting, Organisation, Person, Registry
from .parsing import fold


@dataclass(frozen=True)
class Season:
    start: dt.date
    end: dt.date

    @property
    def label(self) -> str:
        return (
            f"{self.start.year}-{self.end.year}"
            if self.start.year != self.end.year
            else str(self.start.year)
        )

    def __contains__(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def _season_starting(year: int, first_month: int, last_month: int) -> Season:
    end_year = year + 1 if last_month < first_month else year
    end = dt.date(
        end_year + (last_month == 12), 1 if last_month == 12 else last_month + 1, 1
    ) - dt.timedelta(days=1)
    return Season(dt.date(year, first_month, 1), end)


def season_for(today: dt.date, first_month: int, last_month: int) -> Season:
    """The most recent season that has started on `today` (Nov 2019 – Oct 2020 → 2019-2020)."""
    year = today.year if today.month >= first_month else today.year - 1
    return _season_starting(year, first_month, last_month)


def parse_season(label: str, first_month: int, last_month: int) -> Season:
    """`2019-2020` (or `2019/20`, or `2019`): the season that starts in the first year."""
    match = re.fullmatch(r"\s*(\d{4})(?:\s*[-/]\s*(\d{2}|\d{4}))?\s*", label)
    if not match:
        raise ConfigError(f"saison « {label} » illisible", "exemple : --season 2019-2020")
    season = _season_starting(int(match.group(1)), first_month, last_month)
    if match.group(2) and int(match.group(2)) % 100 != season.end.year % 100:
        raise ConfigError(
            f"saison « {label} » incohérente : elle irait du {season.start:%d/%m/%Y} au {season.end:%d/%m/%Y}",
            f"essayez --season {season.label}",
        )
    return season


@dataclass(frozen=True)
class PersonStatus:
    person: Person
    meetings: tuple[Meeting, ...]  # distinct counted meetings attended, by date
    computed_active: bool
    active: bool  # after the manual override, if any
    active_since: dt.date | None  # date of the meeting that made them active (computed)
    rank: int | None = None
    why: str = ""

    @property
    def count(self) -> int:
        return len(self.meetings)

    @property
    def overridden(self) -> bool:
        return self.person.override is not None

    @property
    def free_forum_entry(self) -> bool:
        return self.active


@dataclass(frozen=True)
class OrganisationSummary:
    organisation: Organisation
    meetings: int  # distinct counted meetings attended by any of its people
    active_people: int


@dataclass
class Eligibility:
    season: Season
    today: dt.date
    statuses: dict[str, PersonStatus] = field(default_factory=dict)
    organisations: list[OrganisationSummary] = field(default_factory=list)
    # Person IDs in `ranked()` order, computed once by `compute_eligibility` (sorting 10k
    # people by folded name is the costly part); recomputed when `statuses` was built by hand.
    order: list[str] = field(default_factory=list, repr=False)

    def ranked(self) -> list[PersonStatus]:
        """Active members by rank, then everyone else by name."""
        if len(self.order) != len(self.statuses) or any(p not in self.statuses for p in self.order):
            self.order = [s.person.id for s in sorted(self.statuses.values(), key=_ranked_key)]
        return [self.statuses[pid] for pid in self.order]

    def active(self) -> list[PersonStatus]:
        return [s for s in self.ranked() if s.active]


def _ranked_key(status: PersonStatus) -> tuple[bool, int, tuple[str, str, str]]:
    return (status.rank is None, status.rank or 0, status.person.sort_key)


def meeting_label(meeting: Meeting) -> str:
    return meeting.group or meeting.type


Tag = tuple[str, dt.date, str]  # (label, date, "AI 14/01"): how a meeting is cited in the why


def meeting_tag(meeting: Meeting) -> Tag:
    day = meeting.date or dt.date.min
    return (meeting_label(meeting), day, f"{meeting_label(meeting)} {day:%d/%m}")


def explain(
    person: Person, meetings: tuple[Meeting, ...], tags: Mapping[str, Tag] | None = None
) -> str:
    """`3 réunions : AI 14/01, FI 03/03, Lancement 19/11` (+ the override and its reason).
    `tags`: each meeting's tag by ID, computed once per run (formatting dates is not free)."""
    parts = sorted(tags[m.id] if tags else meeting_tag(m) for m in meetings)
    count = f"{len(meetings)} réunion{'s' if len(meetings) > 1 else ''}"
    text = count + (" : " + ", ".join(tag for _label, _day, tag in parts) if parts else "")
    if person.override:
        text += f" — dérogation : {person.override}" + (
            f" ({person.notes})" if person.notes else ""
        )
    return text


def counted_in(
    registry: Registry, config: Config, season: Season, today: dt.date
) -> dict[str, Meeting]:
    """The meetings that count: a counted type, dated inside the season and not after today."""
    return {
        m.id: m
        for m in registry.meetings.values()
        if m.type in config.counted_types
        and m.date is not None
        and m.date in season
        and m.date <= today
    }


def counted_meetings(
    registry: Registry, config: Config, season: Season, today: dt.date
) -> dict[str, list[Meeting]]:
    """Per person ID, the distinct counted meetings of the season at which they were present,
    by date (then ID)."""
    counted = counted_in(registry, config, season, today)
    position = {mid: i for i, mid in enumerate(sorted(counted, key=lambda i: (counted[i].date, i)))}
    people = registry.people
    seen: dict[str, set[str]] = defaultdict(set)
    for row in registry.attendance:
        if row.status == PRESENT and row.meeting_id in position and row.person_id in people:
            seen[row.person_id].add(row.meeting_id)
    return {
        pid: [counted[mid] for mid in sorted(ids, key=position.__getitem__)]
        for pid, ids in seen.items()
    }


def compute_eligibility(
    registry: Registry, config: Config, today: dt.date, season: Season | None = None
) -> Eligibility:
    """Every person's status, ranks and the organisations' figures for `season` (default: the
    season in force on `today`)."""
    season = season or season_for(today, config.season_first_month, config.season_last_month)
    attended = counted_meetings(registry, config, season, today)
    tags = {mid: meeting_tag(m) for mid, m in counted_in(registry, config, season, today).items()}
    threshold = config.active_threshold
    names = {pid: person.sort_key for pid, person in registry.people.items()}
    facts = {}  # person ID → (meetings, computed, active, since)
    for person in registry.people.values():
        meetings = tuple(attended.get(person.id, ()))
        computed = len(meetings) >= threshold
        active = computed if person.override is None else person.override == OVERRIDE_ACTIVE
        facts[person.id] = (
            meetings,
            computed,
            active,
            meetings[threshold - 1].date if computed else None,
        )
    ordered = sorted(
        (pid for pid, fact in facts.items() if fact[2]),
        key=lambda pid: (-len(facts[pid][0]), facts[pid][3] or dt.date.max, names[pid]),
    )
    ranks = {pid: rank for rank, pid in enumerate(ordered, start=1)}
    statuses = {
        pid: PersonStatus(person, *facts[pid], ranks.get(pid), explain(person, facts[pid][0], tags))
        for pid, person in registry.people.items()
    }
    others = sorted((pid for pid in statuses if pid not in ranks), key=names.__getitem__)
    result = Eligibility(season, today, statuses, order=[*ordered, *others])
    result.organisations = summarise_organisations(registry, result, attended)
    return result


def summarise_organisations(
    registry: Registry, eligibility: Eligibility, attended: dict[str, list[Meeting]]
) -> list[OrganisationSummary]:
    meetings: dict[str, set[str]] = defaultdict(set)
    active: dict[str, int] = defaultdict(int)
    for person in registry.people.values():
        org = person.organisation_id
        meetings[org].update(m.id for m in attended.get(person.id, ()))
        if eligibility.statuses[person.id].active:
            active[org] += 1
    summaries = [
        OrganisationSummary(org, len(meetings[org.id]), active[org.id])
        for org in registry.organisations.values()
    ]
    return sorted(
        summaries, key=lambda s: (-s.meetings, -s.active_people, fold(s.organisation.name))
    )
