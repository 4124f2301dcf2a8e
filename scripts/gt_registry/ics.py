"""The calendar invitation attached to each draft (iCalendar, RFC 5545, with `icalendar`).

`METHOD:PUBLISH`: the sheet stays the truth, nobody is asked to RSVP. The UID is stable per
meeting, so a re-issued invitation (`SEQUENCE` + 1) updates the calendar entry instead of
adding a second one. Times are local to the configured zone (Europe/Paris) and carry its
VTIMEZONE; a local time that does not exist or happens twice on a daylight-saving change day
is an error, never a guess. The calendar is the same for every recipient of a language, so
it is built once per run and language, not once per message.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from .clock import clock_change
from .errors import RegistryError
from .model import Meeting

PRODID = "-//Convergences//gt-registry//FR"
DEFAULT_DURATION = dt.timedelta(hours=2)  # "ces réunions durent environ 2 heures"


class MeetingTimeError(RegistryError):
    """The meeting's date or times cannot be placed on a calendar (names the cell)."""


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    sequence: int
    summary: str
    start: dt.datetime | dt.date  # aware datetime, or a date for an all-day meeting
    end: dt.datetime | dt.date
    location: str = ""
    description: str = ""
    url: str = ""
    organizer_name: str = ""
    organizer_email: str = ""


def uid_for(meeting_id: str, domain: str) -> str:
    """A UID stable per meeting: `r-2020-ai-1.gt-registry@convergences.example.org`."""
    slug = re.sub(r"[^a-z0-9]+", "-", meeting_id.casefold()).strip("-") or "reunion"
    return f"{slug}.gt-registry@{domain}"


def _where(meeting: Meeting, field: str) -> str:
    return meeting.source.cell(field).ref if meeting.source else f"réunion {meeting.id}"


def localise(day: dt.date, moment: dt.time, zone: ZoneInfo, where: str) -> dt.datetime:
    """`day` at `moment` in `zone`; a time skipped or repeated by a clock change is refused."""
    change = clock_change(day, moment, zone)
    if change is None:
        return dt.datetime.combine(day, moment, tzinfo=zone)
    if change == "skipped":
        problem = "n'existe pas (les horloges avancent d'une heure ce jour-là)"
    else:
        problem = "existe deux fois (les horloges reculent d'une heure ce jour-là)"
    raise MeetingTimeError(
        f"{where} : l'heure {moment:%H:%M} du {day:%d/%m/%Y} {problem} dans le fuseau {zone.key}",
        "choisissez une heure qui ne tombe pas pendant le changement d'heure, puis relancez",
    )


def meeting_span(
    meeting: Meeting, zone_name: str
) -> tuple[dt.datetime | dt.date, dt.datetime | dt.date]:
    """Start and end of the meeting: aware datetimes, or dates for an all-day meeting."""
    if meeting.date is None:
        raise MeetingTimeError(
            f"{_where(meeting, 'date')} : la réunion {meeting.id} n'a pas de date",
            "indiquez la date dans l'onglet Réunions, puis relancez",
        )
    if meeting.start is None:
        return meeting.date, meeting.date + dt.timedelta(days=1)
    zone = ZoneInfo(zone_name)
    start = localise(meeting.date, meeting.start, zone, _where(meeting, "start"))
    if meeting.end is None:
        return start, (start.astimezone(dt.UTC) + DEFAULT_DURATION).astimezone(zone)
    end = localise(meeting.date, meeting.end, zone, _where(meeting, "end"))
    if end <= start:
        raise MeetingTimeError(
            f"{_where(meeting, 'end')} : la réunion {meeting.id} finit ({meeting.end:%H:%M}) "
            f"avant de commencer ({meeting.start:%H:%M})",
            "corrigez l'heure de début ou de fin, puis relancez",
        )
    return start, end


@lru_cache(maxsize=8)
def _vtimezone(zone_name: str, year: int) -> bytes:
    """The VTIMEZONE for the years around the meeting, built once per run."""
    from icalendar import Timezone

    zone = Timezone.from_tzid(
        zone_name, first_date=dt.date(year - 1, 1, 1), last_date=dt.date(year + 2, 1, 1)
    )
    return zone.to_ical()


def calendar_bytes(event: CalendarEvent, zone_name: str, stamp: dt.datetime) -> bytes:
    """A whole VCALENDAR (METHOD:PUBLISH) holding the zone and the event, as bytes."""
    from icalendar import Calendar, Event, Timezone, vCalAddress

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if isinstance(event.start, dt.datetime):
        calendar.add_component(Timezone.from_ical(_vtimezone(zone_name, event.start.year)))
    item = Event()
    item.add("uid", event.uid)
    item.add("sequence", event.sequence)
    item.add("dtstamp", stamp.astimezone(dt.UTC))
    item.add("dtstart", event.start)
    item.add("dtend", event.end)
    item.add("summary", event.summary)
    item.add("status", "CONFIRMED")
    item.add("transp", "OPAQUE")
    for name, value in (("location", event.location), ("description", event.description)):
        if value:
            item.add(name, value)
    if event.url.startswith(("https://", "http://")):
        item.add("url", event.url)
    if event.organizer_email:
        organizer = vCalAddress(f"mailto:{event.organizer_email}")
        if event.organizer_name:
            organizer.params["cn"] = event.organizer_name
        item.add("organizer", organizer)
    calendar.add_component(item)
    return calendar.to_ical()
