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
from dataclasses import dataclass, field

from .config import Config
from .errors import ConfigError
from .model import PRESENT, Meeting, Organisation, Person, Registry
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

    def ranked(self) -> list[PersonStatus]:
        """Active members by rank, then everyone else by name."""
        return sorted(
            self.statuses.values(), key=lambda s: (s.rank is None, s.rank or 0, s.person.sort_key)
        )

    def active(self) -> list[PersonStatus]:
        return [s for s in self.ranked() if s.active]


def meeting_label(meeting: Meeting) -> str:
    return meeting.group or meeting.type


def explain(person: Person, meetings: tuple[Meeting, ...]) -> str:
    """`3 réunions : AI 14/01, FI 03/03, Lancement 19/11` (+ the override and its reason)."""
    parts = sorted((meeting_label(m), m.date or dt.date.min) for m in meetings)
    count = f"{len(meetings)} réunion{'s' if len(meetings) > 1 else ''}"
    text = count + (
        " : " + ", ".join(f"{label} {day:%d/%m}" for label, day in parts) if parts else ""
    )
    if person.override:
        text += f" — dérogation : {person.override}" + (
            f" ({person.notes})" if person.notes else ""
        )
    return text


def counted_meetings(
    registry: Registry, config: Config, season: Season, today: dt.date
) -> dict[str, list[Meeting]]:
    """Per person ID, the distinct counted meetings of the season at which they were present."""
    counted = {
        m.id: m
        for m in registry.meetings.values()
        if m.type in config.counted_types
        and m.date is not None
        and m.date in season
        and m.date <= today
    }
    seen: dict[str, dict[str, Meeting]] = defaultdict(dict)
    for row in registry.attendance:
        meeting = counted.get(row.meeting_id)
        if meeting is not None and row.status == PRESENT and row.person_id in registry.people:
            seen[row.person_id][meeting.id] = meeting
    return {pid: sorted(ms.values(), key=lambda m: (m.date, m.id)) for pid, ms in seen.items()}


def compute_eligibility(
    registry: Registry, config: Config, today: dt.date, season: Season | None = None
) -> Eligibility:
    """Every person's status, ranks and the organisations' figures for `season` (default: the
    season in force on `today`)."""
    season = season or season_for(today, config.season_first_month, config.season_last_month)
    attended = counted_meetings(registry, config, season, today)
    threshold = config.active_threshold
    statuses: dict[str, PersonStatus] = {}
    for person in registry.people.values():
        meetings = tuple(attended.get(person.id, ()))
        computed = len(meetings) >= threshold
        active = computed if person.override is None else person.override == "actif"
        since = meetings[threshold - 1].date if computed else None
        statuses[person.id] = PersonStatus(
            person, meetings, computed, active, since, None, explain(person, meetings)
        )
    ordered = sorted(
        (s for s in statuses.values() if s.active),
        key=lambda s: (-s.count, s.active_since or dt.date.max, s.person.sort_key),
    )
    for rank, status in enumerate(ordered, start=1):
        statuses[status.person.id] = _with_rank(status, rank)
    result = Eligibility(season, today, statuses)
    result.organisations = summarise_organisations(registry, result, attended)
    return result


def _with_rank(status: PersonStatus, rank: int) -> PersonStatus:
    from dataclasses import replace

    return replace(status, rank=rank)


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
