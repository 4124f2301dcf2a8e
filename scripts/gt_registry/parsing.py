"""Parsing what staff type in the sheet. Pure functions: a value in, a value or a ValueError out.

Every parser accepts what either backend returns for a cell: text, int/float (Google serial
numbers for dates and times), bool (checkboxes), datetime/date/time (xlsx date cells), None.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from .model import ABSENT, EXCUSED, MEETING_TYPES, PRESENT, Value

GOOGLE_EPOCH = dt.date(1899, 12, 30)  # day 0 of Sheets (and Excel 1900-system) serial dates
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Characters a reader cannot see or tell from a space: no-break and narrow spaces, soft hyphen,
# zero-width characters, direction marks, the BOM. In an ID or an address they make two
# look-alike values different (`P-0001` and `P-0001` + a zero-width space).
INVISIBLE = re.compile(
    "[\u00a0\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u2000-\u200f"
    "\u202a-\u202f\u205f-\u206f\u3000\ufeff]"
)


def fold(text: str) -> str:
    """Lower-case, accents removed, for comparisons: `Économie` → `economie`."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def normalise_header(text: str) -> str:
    """A header as compared: case, accents, spaces and `-`/`_`/`·`/`.`/`'` ignored."""
    return re.sub(r"[\s\-_·.'’/]+", "", fold(text))


_LOOKALIKES = str.maketrans({"o": "0", "l": "1", "i": "1", "|": "1", "_": "-", " ": "-"})


def _skeleton(text: str) -> str:
    """What a typed ID looks like at a glance: O/0, l/1/I, `_`/`-` confused."""
    return fold(text).translate(_LOOKALIKES)


def closest(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice nearest to `word` (compared folded), for "vouliez-vous dire … ?" hints.
    A look-alike (`P-O1` for `P-01`, `R-AI-l` for `R-AI-1`) wins over a mere near one."""
    options = {fold(c): c for c in choices}
    skeleton = _skeleton(word)
    for folded, original in options.items():
        if _skeleton(folded) == skeleton:
            return original
    found = difflib.get_close_matches(fold(word), list(options), n=1, cutoff=cutoff)
    return options[found[0]] if found else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    near = closest(word, choices)
    return f"vouliez-vous dire {near} ?" if near else ""


# What a broken formula shows: Google sends these as text, python-calamine as an empty cell.
# Both backends then read the same thing: nothing.
FORMULA_ERRORS = frozenset(
    {
        "#N/A",
        "#REF!",
        "#VALUE!",
        "#DIV/0!",
        "#NAME?",
        "#NUM!",
        "#NULL!",
        "#ERROR!",
        "#SPILL!",
        "#CALC!",
    }
)


def text(value: Value) -> str:
    """A cell as text, trimmed. Numbers never become `1e+20` or `612345678.0`; a formula
    error (`#N/A`, `#REF!`…) is an empty cell."""
    if type(value) is str:  # the hot path: most cells are text
        value = value.strip()
        return "" if value[:1] == "#" and value in FORMULA_ERRORS else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return (
            value.isoformat(sep=" ", timespec="minutes")
            if value.time()
            else value.date().isoformat()
        )
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def has_control_chars(value: str) -> bool:
    return bool(CONTROL_CHARS.search(value))


def visible(value: str) -> str:
    """`value` without its invisible characters (see INVISIBLE)."""
    return INVISIBLE.sub("", value)


YES = {"oui", "yes", "x", "true", "vrai", "1", "o", "y", "si", "sim", "✓", "✔", "ok"}
NO = {"non", "no", "", "false", "faux", "0", "n", "nao", "não"}


@lru_cache(maxsize=4096, typed=True)  # staff repeat the same few spellings
def yes_no(value: Value) -> bool:
    """`oui/non`, `yes/no`, `x`/empty, TRUE/FALSE (checkboxes, `=TRUE()`), `1/0`."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if value in (0, 1):
            return bool(value)
        raise ValueError(f"« {text(value)} » n'est pas oui/non")
    word = fold(text(value)).strip().rstrip(".")
    if word.startswith("=") and word.endswith("()"):  # LibreOffice checkbox formulas
        word = word[1:-2]
    if word in YES:
        return True
    if word in NO:
        return False
    raise ValueError(f"« {text(value)} » n'est pas oui/non")


MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("janvier", "janv", "jan", "january"),
            ("fevrier", "fevr", "fev", "feb", "february"),
            ("mars", "mar", "march"),
            ("avril", "avr", "apr", "april"),
            ("mai", "may"),
            ("juin", "jun", "june"),
            ("juillet", "juil", "jul", "july"),
            ("aout", "aug", "august"),
            ("septembre", "sept", "sep", "september"),
            ("octobre", "oct", "october"),
            ("novembre", "nov", "november"),
            ("decembre", "dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_WRITTEN = re.compile(r"^(?:[a-z]+\.?,?\s+)?(\d{1,2})(?:er|e)?\s+([a-z]+)\.?\s+(\d{4})$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")


@lru_cache(maxsize=4096, typed=True)  # staff repeat the same few spellings
def date(value: Value) -> dt.date | None:
    """A date cell, a Google serial number, `14/01/2020`, `14.01.20` or `2020-01-14`."""
    if value is None or (isinstance(value, str) and not text(value)):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise ValueError("une case à cocher n'est pas une date")
    if isinstance(value, int | float):
        if not (1 <= value < 2958466):  # up to 9999-12-31
            raise ValueError(f"« {text(value)} » n'est pas une date")
        return GOOGLE_EPOCH + dt.timedelta(days=int(value))
    if isinstance(value, dt.time):
        raise ValueError("une heure n'est pas une date")
    raw = text(value)
    match = _DAY_FIRST.match(raw)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            if year < 100:
                year += 2000
            return dt.date(year, month, day)
        match = _ISO.match(raw)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return dt.date(year, month, day)
        match = _WRITTEN.match(fold(raw))  # « mardi 14 janvier 2020 », « 1er févr. 2020 »
        if match and match.group(2) in MONTHS:
            return dt.date(int(match.group(3)), MONTHS[match.group(2)], int(match.group(1)))
    except ValueError as err:
        raise ValueError(f"« {raw} » n'est pas une date valide") from err
    raise ValueError(f"« {raw} » n'est pas une date lisible (attendu : JJ/MM/AAAA)")


_TIME = re.compile(r"^(\d{1,2})\s*(?:[:hH]\s*(\d{2})?)?(?::(\d{2}))?$")


@lru_cache(maxsize=4096, typed=True)  # staff repeat the same few spellings
def time(value: Value) -> dt.time | None:
    """A time cell, a day fraction (serial), `9h30`, `09:30`, `9h`, `14 h 05`."""
    if value is None or (isinstance(value, str) and not text(value)):
        return None
    if isinstance(value, dt.datetime):
        return _minute(value.time())
    if isinstance(value, dt.time):
        return _minute(value)
    if isinstance(value, dt.timedelta):  # a workbook cell in a duration format ("9:30")
        if not dt.timedelta(0) <= value < dt.timedelta(days=1):
            raise ValueError(f"« {value} » n'est pas une heure de la journée")
        return (dt.datetime.min + value).time()
    if isinstance(value, bool):
        raise ValueError("une case à cocher n'est pas une heure")
    if isinstance(value, int | float):
        fraction = float(value) % 1 if value >= 1 else float(value)
        if not 0 <= fraction < 1:
            raise ValueError(f"« {text(value)} » n'est pas une heure")
        minutes = round(fraction * 24 * 60)
        if minutes == 24 * 60:
            minutes = 0
        return dt.time(minutes // 60, minutes % 60)
    raw = text(value).replace(" ", "")
    match = _TIME.match(raw)
    if not match or (match.group(2) is None and not re.search(r"[hH]$", raw)):
        raise ValueError(f"« {text(value)} » n'est pas une heure lisible (attendu : 9h30 ou 09:30)")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise ValueError(f"« {text(value)} » n'est pas une heure valide")
    return dt.time(hour, minute)


def _minute(moment: dt.time) -> dt.time:
    """Meetings are set to the minute: 09:30:59 in a cell is 9h31, as a Sheets fraction is."""
    total = moment.hour * 60 + moment.minute + (1 if moment.second >= 30 else 0)
    return dt.time((total // 60) % 24, total % 60)


@lru_cache(maxsize=4096, typed=True)  # staff repeat the same few spellings
def status(value: Value) -> str:
    """`présent` (default when empty), `excusé`, `absent`, any gender or inclusive form;
    `1`/`0` as on the yes/no columns. A cell without a word (`?`, `2`, `-`) is not a status."""
    typed = fold(text(value))
    word = re.sub(r"[^a-z]", "", typed)
    if typed in ("", "1", "✓", "✔"):
        return PRESENT
    if typed == "0":
        return ABSENT
    if word.startswith("present") or word in {"x", "oui", "yes", "true", "p"}:
        return PRESENT
    if word.startswith("excus") or word == "e":
        return EXCUSED
    if word.startswith("absent") or word in {"non", "no", "false", "a"}:
        return ABSENT
    raise ValueError(f"statut « {text(value)} » non compris (attendu : présent, excusé ou absent)")


_TYPE_ALIASES = {
    "lancement": "Lancement",
    "rencontredelancement": "Lancement",
    "pleniere": "Lancement",
    "reunion": "Réunion",
    "reuniongt": "Réunion",
    "petitdejeuner": "Petit-déjeuner",
    "petitsdejeuners": "Petit-déjeuner",
    "petitdej": "Petit-déjeuner",
    "soiree": "Soirée",
    "soireedelancementduprogramme": "Soirée",
}


@lru_cache(maxsize=4096, typed=True)  # staff repeat the same few spellings
def meeting_type(value: Value) -> str:
    word = normalise_header(text(value))
    if word in _TYPE_ALIASES:
        return _TYPE_ALIASES[word]
    hint = closest(text(value), MEETING_TYPES)
    raise ValueError(
        f"type de réunion « {text(value)} » inconnu"
        + (f" (vouliez-vous dire {hint} ?)" if hint else f" (attendu : {', '.join(MEETING_TYPES)})")
    )


def group_codes(value: Value) -> tuple[str, ...]:
    """`AI, FI; MEI` → ("AI", "FI", "MEI"), order kept, duplicates dropped."""
    parts = re.split(r"[,;\n/]+", text(value))
    seen: dict[str, None] = {}
    for part in parts:
        code = part.strip()
        if code:
            seen.setdefault(code, None)
    return tuple(seen)


def language(value: Value, allowed: Iterable[str], default: str) -> str:
    word = fold(text(value))
    if not word:
        return default
    names = {
        "francais": "fr",
        "french": "fr",
        "anglais": "en",
        "english": "en",
        "espagnol": "es",
        "spanish": "es",
        "espanol": "es",
        "portugais": "pt",
        "portuguese": "pt",
        "portugues": "pt",
    }
    region = len(word) == 5 and word[2] in "-_" and word[3:].isalpha()  # fr-FR, pt_BR
    code = names.get(word, word[:2] if region else word)
    if code in allowed:
        return code
    raise ValueError(f"langue « {text(value)} » inconnue (attendu : {', '.join(allowed)})")


@lru_cache(maxsize=4096, typed=True)  # staff repeat the same few spellings
def override(value: Value) -> str | None:
    word = re.sub(r"[^a-z]", "", fold(text(value)))
    if not word:
        return None
    if word.startswith("inactif") or word in {"inactive", "non", "no"}:
        return "inactif"
    if word.startswith("actif") or word in {"active", "oui", "yes"}:
        return "actif"
    raise ValueError(
        f"dérogation « {text(value)} » non comprise (attendu : actif, inactif ou vide)"
    )


def email_key(address: str) -> str:
    """How e-mails are compared: invisible characters removed, trimmed, case-insensitive."""
    return visible(address).strip().casefold()


# An address inside what staff paste: `Anne <a@b.org>`, `mailto:a@b.org`, `a@b.org; c@d.org`,
# `«a@b.org»`, `a@b.org | c@d.org`, `a@b.org/c@d.org`. Cutting too much only opts out more.
_ADDRESS_IN_TEXT = re.compile(
    r"[^\s<>;,:()\[\]{}\"'`?«»“”‘’‹›|/\\]+@[^\s<>;,:()\[\]{}\"'`?«»“”‘’‹›|/\\]+"
)


def email_keys(cell: str) -> set[str]:
    """Every address a cell carries, as compared (see `email_key`): the whole cell, and each
    address written in it (`Anne <A@b.org>; c@d.org` → a@b.org and c@d.org). For opt-out:
    a row that opted out opts out every address it names, however it was typed."""
    cleaned = visible(cell)
    found = (m.rstrip(".") for m in _ADDRESS_IN_TEXT.findall(cleaned))
    return {key for key in (email_key(cleaned), *map(email_key, found)) if key}


# The everyday address (ASCII, dot-atom local part, hostname labels, alphabetic TLD): accepted
# without email-validator, which costs ~0.1 ms an address; anything else goes through it.
# email-validator is imported only then: importing it compiles its RFC grammars (~60 ms, a
# tenth of a drafting run). Its default special-use domains, which it refuses (a test checks
# this copy against `email_validator.SPECIAL_USE_DOMAIN_NAMES`):
SPECIAL_USE_DOMAINS = ("arpa", "invalid", "local", "localhost", "onion", "test")
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


@lru_cache(maxsize=65536)
def valid_email(address: str) -> bool:
    """Syntax only (offline): one address, no display name, no list."""
    if (
        _PLAIN_EMAIL.fullmatch(address)
        and len(address) <= 254
        and len(address.partition("@")[0]) <= 64
    ):
        domain = address.rpartition("@")[2].lower()
        if not any(domain == d or domain.endswith("." + d) for d in SPECIAL_USE_DOMAINS):
            return True
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True
