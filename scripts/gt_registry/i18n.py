"""Dates and times written out in the reader's language, with Babel (CLDR data).

Only the joining words ("de … à …", "from … to …") and the time patterns are ours; day and
month names come from Babel, so `mardi 14 janvier 2020, de 9 h 30 à 11 h 30` in French and
`Tuesday 8 September 2020, from 09:30 to 11:30` in (British) English. The names of the meeting
types (`MEETING_LABELS`, for the calendar's title) are ours too.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_time
from babel.lists import format_list
from jinja2 import pass_context
from jinja2.runtime import Context

from .model import BREAKFAST, EVENING, LAUNCH, MEETING
from .rendering import template_filter


@dataclass(frozen=True)
class Wording:
    """How one language joins a day and a time span, and writes a time of day."""

    span: str  # "{day}, de {start} à {end}"
    start_only: str  # "{day}, à {start}"
    time: str  # CLDR pattern for a time with minutes
    time_on_the_hour: str  # CLDR pattern for a time on the hour (French: "11 h")
    day_no_year: str  # CLDR pattern for a weekday and day without the year ("mardi 8 septembre")


WORDINGS = {
    "fr": Wording(
        "{day}, de {start} à {end}", "{day}, à {start}", "H 'h' mm", "H 'h'", "EEEE d MMMM"
    ),
    # British usage, as « organisation » and « programme »: Tuesday 8 September, 09:30.
    "en": Wording(
        "{day}, from {start} to {end}", "{day}, at {start}", "HH:mm", "HH:mm", "EEEE d MMMM"
    ),
    "es": Wording(
        "{day}, de {start} a {end}", "{day}, a las {start}", "H:mm", "H:mm", "EEEE d 'de' MMMM"
    ),
    "pt": Wording(
        "{day}, das {start} às {end}", "{day}, às {start}", "H'h'mm", "H'h'", "EEEE, d 'de' MMMM"
    ),
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
        LAUNCH: "reunión de lanzamiento de los Grupos de Trabajo",
        BREAKFAST: "desayuno",
        EVENING: "velada de presentación del programa",
    },
    "pt": {
        MEETING: "reunião",
        LAUNCH: "reunião de lançamento dos Grupos de Trabalho",
        BREAKFAST: "café da manhã",
        EVENING: "noite de lançamento do programa",
    },
}


# The CLDR locale of each language: British English (`en_GB`: 8 September 2020).
LOCALES = {"en": "en_GB"}


@lru_cache(maxsize=16)
def _locale(language: str) -> Locale:
    return Locale.parse(LOCALES.get(language, language) if language in WORDINGS else "fr")


def _wording(language: str) -> Wording:
    return WORDINGS.get(language, WORDINGS["fr"])


def day_text(day: dt.date, language: str) -> str:
    """`mardi 14 janvier 2020` / `Tuesday, January 14, 2020` / `martes 14 de enero de 2020`."""
    pattern = DAY_PATTERNS.get(language, "full")
    return _first_of_month(format_date(day, pattern, locale=_locale(language)), day, language)


# Spanish writes « el martes 14 de enero », without CLDR's comma after the weekday; British
# English « Tuesday 8 September 2020 », without it either.
DAY_PATTERNS = {"es": "EEEE d 'de' MMMM 'de' y", "en": "EEEE d MMMM y"}


def short_day_text(day: dt.date, language: str) -> str:
    """`14 janvier 2020` / `January 14, 2020` (no weekday), for lists and subjects."""
    return _first_of_month(format_date(day, "long", locale=_locale(language)), day, language)


def _first_of_month(text: str, day: dt.date, language: str) -> str:
    """French and Portuguese write the first of the month as an ordinal (`1er janvier`,
    `1º de janeiro`); CLDR does not."""
    if language in FIRST_OF_MONTH and day.day == 1:
        return re.sub(r"(?<!\d)1 ", FIRST_OF_MONTH[language] + " ", text, count=1)
    return text


FIRST_OF_MONTH = {"fr": "1er", "pt": "1º"}


def time_text(moment: dt.time, language: str) -> str:
    """`9 h 30`, `11 h` / `09:30` / `9:30` / `9h30`."""
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


# Numbers under ten written out in running text; for « réunion » / « reunión » / « reunião »,
# so French, Spanish and Portuguese give the feminine form of one (and two).
NUMBERS = {
    "fr": ("zéro", "une", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"),
    "en": ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    "es": ("ninguna", "una", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"),
    "pt": ("nenhuma", "uma", "duas", "três", "quatro", "cinco", "seis", "sete", "oito", "nove"),
}


def number_text(count: int, language: str) -> str:
    """`une`, `deux` … `neuf`, then `10`, `11` (a count of meetings, in running text)."""
    words = NUMBERS.get(language, NUMBERS["fr"])
    return words[count] if 0 <= count < len(words) else str(count)


def plural(count: int, singular: str, plural_form: str, number: bool = True) -> str:
    """`1 brouillon rédigé`, `42 brouillons rédigés`, `0 brouillon rédigé` (French: 0 and 1 are
    singular); without `number`, the words only."""
    words = singular if abs(count) < 2 else plural_form
    return f"{count} {words}" if number else words


def day_month_text(day: dt.date, language: str) -> str:
    """`mardi 8 septembre` / `Tuesday 8 September` (no year), for what changed."""
    pattern = _wording(language).day_no_year
    return _first_of_month(format_date(day, pattern, locale=_locale(language)), day, language)


def span_text(start: dt.time | None, end: dt.time | None, language: str) -> str:
    """`de 9 h 30 à 11 h 30` / `from 09:30 to 11:30` (empty without a start)."""
    wording = _wording(language)
    if start is None:
        return ""
    if end is None:
        return wording.start_only.removeprefix("{day}, ").format(start=time_text(start, language))
    return wording.span.removeprefix("{day}, ").format(
        start=time_text(start, language), end=time_text(end, language)
    )


@template_filter("as_list")
@pass_context
def as_list(context: Context, items: object, language: str | None = None) -> str:
    """`{{ group.co_animation | as_list }}`: `Avise ; (IM)PROVE` → `Avise et (IM)PROVE`, in the
    template's language (`Avise and (IM)PROVE`, `Avise y (IM)PROVE`, `Avise e (IM)PROVE`)."""
    return list_text(items, language or str(context.get("language") or "fr"))


def list_text(items: object, language: str) -> str:
    """A list written as a list: `Avise et (IM)PROVE`, `A, B and C` (Babel's `format_list`).

    A text is split at `;` and line breaks, as staff type several names in one cell."""
    if isinstance(items, str):
        parts = re.split(r"\s*[;\n]\s*", items)
    elif isinstance(items, list | tuple):
        parts = [str(item) for item in items]
    else:
        parts = [str(items)]
    names = [part.strip() for part in parts if part and part.strip()]
    return format_list(names, locale=_locale(language)) if names else ""


# -- a meeting that changed since the last drafting ----------------------------------


@dataclass(frozen=True)
class ChangeWording:
    """How one language says that a meeting moved: old → new, in one or two sentences."""

    prefix: str  # subject prefix
    nouns: dict[str, tuple[str, str]]  # meeting type → (subject noun, agreement suffix)
    moved_same_time: str
    moved: str  # no time known
    moved_new_time: str
    new_time: str
    new_place: str
    also_new_place: str
    place_set: str
    place_unset: str
    unknown: str


CHANGES = {
    "fr": ChangeWording(
        "Mise à jour : ",
        {
            MEETING: ("La réunion", "e"),
            BREAKFAST: ("Le petit-déjeuner", ""),
            LAUNCH: ("La rencontre de lancement", "e"),
            EVENING: ("La soirée de lancement du programme", "e"),
        },
        "{noun} du {old} est déplacé{e} au {new}, à la même heure ({span}).",
        "{noun} du {old} est déplacé{e} au {new}.",
        "{noun} du {old} est déplacé{e} au {new}, {span}.",
        "{noun} du {old} aura lieu {span} (et non plus {old_span}).",
        "{noun} du {old} change de lieu : {place} (précédemment : {old_place}).",
        "Nouveau lieu : {place} (précédemment : {old_place}).",
        "Lieu : {place}.",
        "Le lieu vous sera précisé très prochainement.",
        "Cette invitation remplace la précédente : la date, l'horaire ou le lieu ont changé.",
    ),
    "en": ChangeWording(
        "Update: ",
        {
            MEETING: ("The meeting", ""),
            BREAKFAST: ("The breakfast meeting", ""),
            LAUNCH: ("The launch meeting", ""),
            EVENING: ("The programme launch evening", ""),
        },
        "{noun} on {old} has been moved to {new}, at the same time ({span}).",
        "{noun} on {old} has been moved to {new}.",
        "{noun} on {old} has been moved to {new}, {span}.",
        "{noun} on {old} will now take place {span} (previously {old_span}).",
        "{noun} on {old} has a new venue: {place} (previously: {old_place}).",
        "New venue: {place} (previously: {old_place}).",
        "Venue: {place}.",
        "The venue will be confirmed shortly.",
        "This invitation replaces the previous one: the date, time or venue has changed.",
    ),
    "es": ChangeWording(
        "Actualización: ",
        {
            MEETING: ("La reunión", ""),
            BREAKFAST: ("El desayuno", ""),
            LAUNCH: ("La reunión de lanzamiento", ""),
            EVENING: ("La velada de presentación del programa", ""),
        },
        "{noun} del {old} se traslada al {new}, a la misma hora ({span}).",
        "{noun} del {old} se traslada al {new}.",
        "{noun} del {old} se traslada al {new}, {span}.",
        "{noun} del {old} tendrá lugar {span} (y ya no {old_span}).",
        "{noun} del {old} cambia de lugar: {place} (antes: {old_place}).",
        "Nuevo lugar: {place} (antes: {old_place}).",
        "Lugar: {place}.",
        "Le confirmaremos el lugar muy pronto.",
        "Esta invitación reemplaza a la anterior: la fecha, el horario o el lugar han cambiado.",
    ),
    "pt": ChangeWording(
        "Atualização: ",
        {
            MEETING: ("A reunião", ""),
            BREAKFAST: ("O café da manhã", ""),
            LAUNCH: ("A reunião de lançamento", ""),
            EVENING: ("A noite de lançamento do programa", ""),
        },
        "{noun} de {old}, passa para {new}, no mesmo horário ({span}).",
        "{noun} de {old}, passa para {new}.",
        "{noun} de {old}, passa para {new}, {span}.",
        "{noun} de {old}, terá novo horário: {span} (e não mais {old_span}).",
        "{noun} de {old}, muda de local: {place} (antes: {old_place}).",
        "Novo local: {place} (antes: {old_place}).",
        "Local: {place}.",
        "Confirmaremos o local em breve.",
        "Este convite substitui o anterior: a data, o horário ou o local mudaram.",
    ),
}


def change_wording(language: str) -> ChangeWording:
    return CHANGES.get(language, CHANGES["fr"])


def change_text(
    meeting_type: str,
    old: tuple[dt.date | None, dt.time | None, dt.time | None, str],
    new: tuple[dt.date | None, dt.time | None, dt.time | None, str],
    language: str,
) -> str:
    """What changed, old → new, each of `old` and `new` being (day, start, end, place):
    `La réunion du mardi 8 septembre est déplacée au mardi 15 septembre 2020, à la même heure
    (de 9 h 30 à 11 h 30).`"""
    words = change_wording(language)
    noun, agreement = words.nouns.get(meeting_type, words.nouns[MEETING])
    (old_day, old_start, old_end, old_place), (day, start, end, place) = old, new
    if old_day is None or day is None:
        return words.unknown
    values = {
        "noun": noun,
        "e": agreement,
        "old": day_month_text(old_day, language),
        "new": day_text(day, language),
        "span": span_text(start, end, language),
        "old_span": span_text(old_start, old_end, language),
        "place": place,
        "old_place": old_place,
    }
    sentences = []
    same_time = (old_start, old_end) == (start, end)
    if old_day != day:
        if not start:
            pattern = words.moved
        else:
            pattern = words.moved_same_time if same_time else words.moved_new_time
        sentences.append(pattern.format(**values))
    elif not same_time and start and old_start:
        sentences.append(words.new_time.format(**values))
    if old_place != place:
        if not place:
            sentences.append(words.place_unset)
        elif not old_place:
            sentences.append(words.place_set.format(**values))
        else:
            pattern = words.also_new_place if sentences else words.new_place
            sentences.append(pattern.format(**values))
    return " ".join(sentences) or words.unknown
