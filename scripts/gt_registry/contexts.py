"""What each template is given: plain dicts built from the registry, in the reader's language.

The same names in every mailing (`person`, `group`, `sender`, `meeting`, `season`, `status`,
`organisation`), documented for staff in templates/emails/README.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import i18n
from .config import Config
from .mail import Mailbox
from .model import Meeting, Person, Registry
from .recipients import MeetingState

if TYPE_CHECKING:  # eligibility is imported by the runs that need it (a Lancement, a mailing)
    from .eligibility import PersonStatus, Season

Extra = Callable[[Person, str], dict[str, Any]]  # per-person context, given the language


def person_context(registry: Registry, person: Person) -> dict[str, Any]:
    org = registry.organisation_of(person)
    return {
        "id": person.id,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "full_name": person.full_name,
        "function": person.function,
        "organisation": org.name if org else "",
        "language": person.language,
    }


def group_context(registry: Registry, code: str | None) -> dict[str, str] | None:
    group = registry.groups.get(code or "")
    if group is None:
        return None
    return {
        "code": group.code,
        "name": group.name,
        "description": group.description,
        "co_animation": group.co_animation,
        "platform": group.platform,
        "referent": group.referent,
        "referent_email": group.referent_email,
    }


def meeting_context(registry: Registry, meeting: Meeting, language: str) -> dict[str, Any]:
    """The meeting in `language`: `when` is `mardi 14 janvier 2020, de 9 h 30 à 11 h 30`."""
    host = registry.organisations.get(meeting.host_id)
    day = meeting.date or dt.date.min
    return {
        "id": meeting.id,
        "type": meeting.type,
        "theme": meeting.theme,
        "day": i18n.day_text(day, language),
        "when": i18n.when_text(day, meeting.start, meeting.end, language),
        "start": i18n.time_text(meeting.start, language) if meeting.start else "",
        "end": i18n.time_text(meeting.end, language) if meeting.end else "",
        "place": meeting.place,
        "address": meeting.address,
        "host": host.name if host else "",
        "video_link": meeting.video_link,
        # for an HTML link: only a web address (never `javascript:` from a cell)
        "video_href": meeting.video_link
        if meeting.video_link.lower().startswith(("https://", "http://"))
        else "",
    }


def change_context(
    meeting: Meeting, previous: MeetingState | None, language: str
) -> dict[str, Any]:
    """What changed since the version a person was sent (`change` in a meeting's templates):
    `prefix` for the subject (`Mise à jour : `), `text` for the first paragraph (`La réunion
    du mardi 8 septembre est déplacée au mardi 15 septembre, même horaire.`), and the parts."""
    now = MeetingState.of(meeting)
    old = previous or MeetingState()
    known = previous is not None and old.date is not None
    return {
        "prefix": i18n.change_wording(language).prefix,
        "text": i18n.change_text(
            meeting.type,
            (old.date, old.start, old.end, old.where),
            (now.date, now.start, now.end, now.where),
            language,
        )
        if known
        else i18n.change_wording(language).unknown,
        "date_changed": known and old.date != now.date,
        "time_changed": known and (old.start, old.end) != (now.start, now.end),
        "place_changed": known and old.where != now.where,
        "old_day": i18n.day_text(old.date, language) if old.date else "",
        "old_when": i18n.when_text(old.date, old.start, old.end, language) if old.date else "",
        "old_place": old.where,
    }


def change_extra(
    meeting: Meeting, update: tuple[MeetingState | None, frozenset[str]] | None
) -> Extra:
    """Per person: `change` for whoever got the meeting's previous version, else `None`."""
    cache: dict[str, dict[str, Any]] = {}

    def extra(person: Person, language: str) -> dict[str, Any]:
        if update is None or person.id not in update[1]:
            return {"change": None}
        if language not in cache:
            cache[language] = change_context(meeting, update[0], language)
        return {"change": cache[language]}

    return extra


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def season_span(season: Season, language: str) -> dict[str, str]:
    return {
        "label": season.label,
        "start": i18n.short_day_text(season.start, language),
        "end": i18n.short_day_text(season.end, language),
    }


def season_context(
    registry: Registry, config: Config, meeting: Meeting, language: str
) -> dict[str, Any]:
    """For a Lancement: the groups, and the meetings already scheduled later in the season."""
    from .eligibility import season_for

    day = meeting.date or dt.date.min
    season = season_for(day, config.season_first_month, config.season_last_month)
    later = sorted(
        (
            m
            for m in registry.meetings.values()
            if m.date and m.id != meeting.id and day < m.date <= season.end
        ),
        key=lambda m: (m.date, m.id),
    )
    groups = [group_context(registry, code) for code in registry.groups]
    return {
        **season_span(season, language),
        "groups": [g for g in groups if g],
        "meetings": [
            {
                "id": m.id,
                "type": m.type,
                "group": (registry.groups[m.group].name if m.group in registry.groups else ""),
                "label": (
                    registry.groups[m.group].name
                    if m.group in registry.groups
                    else _capital(i18n.meeting_label(m.type, language))
                ),
                "when": i18n.when_text(m.date or day, m.start, m.end, language),
                "theme": m.theme,
            }
            for m in later
        ],
    }


def sender_for(registry: Registry, config: Config, group_code: str | None) -> Mailbox:
    """The group's référent when the sheet names one with an e-mail, else the configured sender."""
    group = registry.groups.get(group_code or "")
    if group is not None and group.referent_email:
        return Mailbox(group.referent or config.sender_name, group.referent_email)
    return Mailbox(config.sender_name, config.sender_email)


def status_context(
    registry: Registry, status: PersonStatus | None, language: str
) -> dict[str, Any]:
    """A person's season in a template: meetings attended, active, rank."""
    if status is None:
        return {
            "count": 0,
            "count_text": i18n.number_text(0, language),
            "active": False,
            "override": False,
            "rank": None,
            "meetings": [],
        }
    meetings = [
        f"{_meeting_name(registry, m, language)}, {i18n.short_day_text(m.date, language)}"
        for m in status.meetings
        if m.date
    ]
    return {
        "count": len(status.meetings),
        "count_text": i18n.number_text(len(status.meetings), language),
        "active": status.active,
        # active by the staff's decision (« dérogation »), not by the meetings attended
        "override": status.active and not status.computed_active,
        "rank": status.rank,
        "meetings": meetings,
    }


def _meeting_name(registry: Registry, meeting: Meeting, language: str) -> str:
    """The group's name, or the meeting type in the reader's language (`Launch meeting`)."""
    if meeting.group in registry.groups:
        return registry.groups[meeting.group].name
    label = i18n.meeting_label(meeting.type, language) if meeting.type else ""
    return label[:1].upper() + label[1:] if label else meeting.type


def mailing_extra(registry: Registry, statuses: dict[str, PersonStatus]) -> Extra:
    """Per person: their organisation (room, address) and their season's status."""

    def extra(person: Person, language: str) -> dict[str, Any]:
        org = registry.organisation_of(person)
        organisation = (
            {"name": org.name, "address": org.address, "has_room": org.has_room}
            if org
            else {"name": "", "address": "", "has_room": False}
        )
        return {
            "organisation": organisation,
            "status": status_context(registry, statuses.get(person.id), language),
        }

    return extra


def calendar_summary(registry: Registry, meeting: Meeting, language: str) -> str:
    """The calendar entry's title: `GT Action internationale — réunion`."""
    group = registry.groups.get(meeting.group or "")
    return (
        f"{group.name if group else 'Convergences'} — {i18n.meeting_label(meeting.type, language)}"
    )
