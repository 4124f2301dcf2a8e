"""Dates and times written out in the reader's language, with Babel (CLDR data).

Only the joining words ("de … à …", "from … to …") and the time patterns are ours; day and
month names come from Babel, so `mardi 14 janvier 2020, de 9 h 30 à 11 h 30` in French and
`Tuesday, January 14, 2020, from 9:30 AM to 11:30 AM` in English. The names of the meeting
types (`MEETING_LABELS`, for the calendar's title) are ours too.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_time

from .model import BREAKFAST, EVENING, LAUNCH, MEETING


@dataclass(frozen=True)
class Wording:
    """How one language joins a day and a time span, and writes a time of day."""

    span: str  # "{day}, de {start} à {end}"
    start_only: str  # "{day}, à {start}"
    time: str  # CLDR pattern for a time with minutes
    time_on_the_hour: str  # CLDR pattern for a time on the hour (French: "11 h")


WORDINGS = {
    "fr": Wording("{day}, de {start} à {end}", "{day}, à {start}", "H 'h' mm", "H 'h'"),
    "en": Wording("{day}, from {start} to {end}", "{day}, at {start}", "h:mm a", "h:mm a"),
    "es": Wording("{day}, de {start} a {end}", "{day}, a las {start}", "H:mm", "H:mm"),
    "pt": Wording("{day}, das {start} às {end}", "{day}, às {start}", "H'h'mm", "H'h'"),
}

MEETING_LABELS = {
    "fr": {
        MEETING: "réunion",
        LAUNCH: "rencontre de lancement des Groupes de travail",
        BREAKFAST: "petit-déjeuner",
        EVENING: "soirée de lancement du programme",
    },
    "en": {
        MEETING: "meeting",
        LAUNCH: "Working Groups launch meeting",
        BREAKFAST: "breakfast meeting",
        EVENING: "programme launch evening",
    },
    "es": {
        MEETING: "reunión",
        LAUNCH: "reunión de lanzamiento de los Grupos de trabajo",
        BREAKFAST: "desayuno",
        EVENING: "velada de presentación del programa",
    },
    "pt": {
        MEETING: "reunião",
        LAUNCH: "reunião de lançamento dos Grupos de trabalho",
        BREAKFAST: "café da manhã",
        EVENING: "noite de lançamento do programa",
    },
}


@lru_cache(maxsize=16)
def _locale(language: str) -> Locale:
    return Locale.parse(language if language in WORDINGS else "fr")


def _wording(language: str) -> Wording:
    return WORDINGS.get(language, WORDINGS["fr"])


def day_text(day: dt.date, language: str) -> str:
    """`mardi 14 janvier 2020` / `Tuesday, January 14, 2020`."""
    return _first_of_month(format_date(day, "full", locale=_locale(language)), day, language)


def short_day_text(day: dt.date, language: str) -> str:
    """`14 janvier 2020` / `January 14, 2020` (no weekday), for lists and subjects."""
    return _first_of_month(format_date(day, "long", locale=_locale(language)), day, language)


def _first_of_month(text: str, day: dt.date, language: str) -> str:
    """French writes the first of the month as an ordinal (`1er janvier`); CLDR does not."""
    if language == "fr" and day.day == 1:
        return re.sub(r"(?<!\d)1 ", "1er ", text, count=1)
    return text


def time_text(moment: dt.time, language: str) -> str:
    """`9 h 30`, `11 h` / `9:30 AM` / `9:30` / `9h30`."""
    wording = _wording(language)
    pattern = wording.time_on_the_hour if moment.minute == 0 else wording.time
    return format_time(moment, pattern, locale=_locale(language))


def when_text(day: dt.date, start: dt.time | None, end: dt.time | None, language: str) -> str:
    """The day and the time span: `mardi 14 janvier 2020, de 9 h 30 à 11 h 30`."""
    wording = _wording(language)
    written = day_text(day, language)
    if start is None:
        return written
    if end is None:
        return wording.start_only.format(day=written, start=time_text(start, language))
    return wording.span.format(
        day=written, start=time_text(start, language), end=time_text(end, language)
    )


def meeting_label(meeting_type: str, language: str) -> str:
    """`réunion`, `Working Groups launch meeting`… (French for a language we do not have)."""
    return MEETING_LABELS.get(language, MEETING_LABELS["fr"])[meeting_type]
