"""Contact lists, sign-in sheets and the member directory: selection, context, safe cells.

Pure functions over the registry; the `contacts` command only parses options and writes.

- `select` applies `--group` / `--active` / `--type` / `--country` / `--meeting` (combined as
  "and"; several `--group` or `--type` values are alternatives), then always drops opted-out
  people, counting who was left out at each step and why.
- `build_context` gives every template the same plain data: contacts (only what a list may
  show, never notes or overrides), the organisations by group and by type, the meeting.
- The filters `csv_cell`, `csv_row`, `vcard_escape` and `vcard_line` are registered in the
  one Jinja environment (`rendering.template_filter`): CSV quoting with formula
  neutralisation, vCard 3.0 escaping and 75-octet folding with CRLF.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from jinja2 import Template
from markupsafe import Markup, escape

from . import i18n
from .audience import invited_people, is_invited, require_audience, require_opt_out_column
from .config import Config, Limits
from .eligibility import Eligibility, Season, compute_eligibility
from .errors import SelectionError, TemplateFailure
from .files import (
    atomic_write_bytes,
    check_output_file,
    protected_places,
    protected_places_of,
    refused,
)
from .lines import Line
from .model import (
    EVENING,
    LAUNCH,
    ORGANISATION_TYPES,
    Meeting,
    Organisation,
    Person,
    Registry,
)
from .parsing import closest, did_you_mean, fold
from .rendering import (
    FILE_LIMITS,
    Folders,
    LimitExceeded,
    load_template,
    render,
    template_filter,
)

# ---------------------------------------------------------------------------------------------
# Formats


@dataclass(frozen=True)
class Format:
    """A built-in format: its template in `templates/contacts/` and what it asks of the list."""

    name: str
    template: str
    description: str
    sep: str = ";"  # default for --sep
    needs_email: bool = False  # people without a valid e-mail are left out
    needs_meeting: bool = False  # --meeting is required
    active_only: bool = False  # implies --active (and the rank order)
    unit: str = "personnes"  # what the summary counts


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("csv", "csv.csv.j2", "tableau pour Excel en français (;, UTF-8 avec BOM)"),
        Format("google", "google.csv.j2", "import dans Google Contacts", sep=","),
        Format("outlook", "outlook.csv.j2", "import dans Outlook", sep=","),
        Format("vcard", "vcard.vcf.j2", "fiches vCard 3.0 (.vcf)"),
        Format(
            "emails",
            "emails.txt.j2",
            "adresses sur une ligne, pour le champ Cci",
            sep="; ",
            needs_email=True,
        ),
        Format(
            "forum",
            "forum.csv.j2",
            "entrées offertes au Forum : membres actifs par rang",
            active_only=True,
        ),
        Format(
            "emargement",
            "emargement.html.j2",
            "feuille d'émargement A4 d'une réunion",
            needs_meeting=True,
        ),
        Format(
            "annuaire",
            "annuaire.html.j2",
            "annuaire des organisations membres",
            unit="organisations",
        ),
    )
}
DEFAULT_FORMAT = "csv"
CONTACTS_FOLDER = "contacts"

# ---------------------------------------------------------------------------------------------
# Formula-safe CSV cells

# What makes a spreadsheet read a cell as a formula (OWASP "CSV injection"), with the
# full-width and small forms that some spreadsheets normalise to ASCII.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n＝＋－＠﹦﹢﹣−")
NEUTRALISER = "'"
# A phone number kept usable: `+`, then digits, spaces, dots and parentheses only (no `-` or
# `/`, which a spreadsheet would compute), 6 to 15 digits (E.164).
_PHONE = re.compile(r"\+\d[\d .()\u00a0]*")


def is_phone_number(text: str) -> bool:
    """`+33 6 12 34 56 78` → True; `+1-555-0100` or `+1+1` → False."""
    digits = sum(c.isdigit() for c in text)
    return bool(_PHONE.fullmatch(text)) and 6 <= digits <= 15


def is_formula(text: str) -> bool:
    """Would a spreadsheet evaluate this cell (first character, or first after spaces)?"""
    if not text:
        return False
    if text[0] in FORMULA_TRIGGERS or text.lstrip()[:1] in FORMULA_TRIGGERS:
        return not is_phone_number(text)
    return False


def neutralise(value: Any) -> str:
    """The cell as text, with a leading `'` when a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    return NEUTRALISER + text if is_formula(text) else text


@template_filter("web_address")
def web_address(url: Any) -> Markup:
    """A web address for print: without `https://` (and a trailing `/`), allowed to break only
    after a `.` or a `/` (`<wbr>`), never inside a word: `www.<wbr>example.<wbr>org`."""
    text = str(url or "")
    text = re.sub(r"^[a-z]+://", "", text, flags=re.IGNORECASE).rstrip("/")
    return Markup("").join(
        Markup(escape(part)) + (Markup("<wbr>") if part.endswith((".", "/")) else Markup(""))
        for part in re.findall(r"[^./]*[./]?", text)
        if part
    )


@template_filter("csv_cell")
def csv_cell(value: Any) -> str:
    """One CSV field, always quoted (`"` doubled), neutralised against formulas."""
    return '"' + neutralise(value).replace('"', '""') + '"'


@template_filter("csv_row")
def csv_row(values: Iterable[Any], sep: str = ";") -> str:
    """A whole CSV record ending with CRLF: write `{{ [a, b] | csv_row(sep) -}}`."""
    if len(sep) != 1 or sep in '"\r\n':
        raise ValueError(
            f'séparateur CSV « {sep} » invalide : un seul caractère, autre que " (exemples : ; ou ,)'
        )
    return sep.join(csv_cell(v) for v in values) + "\r\n"


# ---------------------------------------------------------------------------------------------
# vCard 3.0 (RFC 2426): escaping and folding

VCARD_LINE_OCTETS = 75


@template_filter("vcard_escape")
def vcard_escape(value: Any) -> str:
    """A TEXT value: `\\`, `,`, `;` escaped, line breaks as `\\n`."""
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    return re.sub(r"\r\n|\r|\n", r"\\n", text)


def fold_line(line: str, limit: int = VCARD_LINE_OCTETS) -> str:
    """Fold at `limit` octets of UTF-8 (never inside a character), CRLF + space between parts."""
    parts: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        budget = limit if not parts else limit - 1  # continuation lines start with a space
        if size + width > budget:
            parts.append(current)
            current, size = "", 0
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts) + "\r\n"


@template_filter("vcard_line")
def vcard_line(value: Any, name: str, sep: str = ";") -> str:
    """A property line, folded, with CRLF: `{{ p.full_name | vcard_line("FN") -}}`.

    A list is a structured value (`N`, `ORG`: components joined by `;`) or, with `sep=","`, a
    list value (`CATEGORIES`); each component is escaped. Text is escaped."""
    if isinstance(value, list | tuple):
        text = sep.join(vcard_escape(v) for v in value)
    else:
        text = vcard_escape(value)
    return fold_line(f"{name}:{text}")


# ---------------------------------------------------------------------------------------------
# Selection


@dataclass(frozen=True)
class Criteria:
    """What `gt contacts` was asked for (as typed; `resolve` makes it canonical)."""

    groups: tuple[str, ...] = ()
    active: bool = False
    types: tuple[str, ...] = ()
    country: str | None = None
    meeting: str | None = None


@dataclass(frozen=True)
class Selection:
    people: tuple[Person, ...]
    left_out: tuple[tuple[str, int], ...] = ()  # (reason, how many), in the order applied
    criteria: Criteria = field(default_factory=Criteria)


def _resolve_one(
    word: str, choices: Sequence[str], what: str, option: str, unknown: str = "inconnu"
) -> str:
    for choice in choices:
        if fold(choice) == fold(word.strip()):
            return choice
    hint = did_you_mean(word, choices)
    near = closest(word, choices, cutoff=0.5) if len(word) <= 4 else None
    hint = hint or (f"vouliez-vous dire {near} ?" if near else "")
    known = ", ".join(choices) if len(choices) <= 12 else ", ".join(choices[:12]) + ", …"
    raise SelectionError(
        f"{option} : {what} « {word} » {unknown}", hint or f"valeurs possibles : {known}"
    )


def resolve(registry: Registry, criteria: Criteria) -> Criteria:
    """Canonical codes, types, country and meeting ID; unknown ones suggest the closest."""
    groups = tuple(
        dict.fromkeys(
            _resolve_one(g, list(registry.groups), "groupe", "--group") for g in criteria.groups
        )
    )
    types = tuple(
        dict.fromkeys(
            _resolve_one(t, ORGANISATION_TYPES, "type d'organisation", "--type")
            for t in criteria.types
        )
    )
    country = criteria.country
    if country is not None:
        countries = sorted(
            {o.country for o in registry.organisations.values() if o.country}, key=fold
        )
        country = _resolve_one(country, countries, "pays", "--country")
    meeting = criteria.meeting
    if meeting is not None:
        meeting = _resolve_one(meeting, list(registry.meetings), "réunion", "--meeting", "inconnue")
        require_audience(registry.meetings[meeting])
    return Criteria(groups, criteria.active, types, country, meeting)


def meeting_audience(registry: Registry, meeting: Meeting) -> list[Person]:
    """Who is invited to `meeting`, by name, never anyone opted out.

    Réunion / Petit-déjeuner: the group's members; Lancement: every member of a group;
    Soirée: every group member plus everyone of a partner or Forum co-organiser."""
    return [p for p in invited_people(registry, meeting) if not p.opted_out]


Step = tuple[str, Callable[[Person], bool]]


def _steps(registry: Registry, criteria: Criteria, eligibility: Eligibility | None) -> list[Step]:
    steps: list[Step] = []
    if criteria.meeting is not None:
        meeting = registry.meetings[criteria.meeting]
        steps.append(
            (f"non invitée{{s}} à {meeting.id}", lambda p: is_invited(registry, meeting, p))
        )
    if criteria.groups:
        wanted = set(criteria.groups)
        steps.append(
            (f"hors groupe(s) {', '.join(criteria.groups)}", lambda p: bool(wanted & set(p.groups)))
        )
    if criteria.types or criteria.country:

        def org_matches(person: Person) -> bool:
            org = registry.organisation_of(person)
            if org is None:
                return False
            if criteria.types and org.type not in criteria.types:
                return False
            return not criteria.country or fold(org.country) == fold(criteria.country)

        label = ", ".join(filter(None, [", ".join(criteria.types), criteria.country or ""]))
        steps.append((f"d'une organisation hors sélection ({label})", org_matches))
    if criteria.active:
        if eligibility is None:
            raise ValueError("--active needs the eligibility")
        statuses = eligibility.statuses
        steps.append(
            (
                f"non active{{s}} sur la saison {eligibility.season.label}",
                lambda p: p.id in statuses and statuses[p.id].active,
            )
        )
    steps.append(("désinscrite{s}", lambda p: not p.opted_out))
    return steps


def select(
    registry: Registry,
    criteria: Criteria,
    eligibility: Eligibility | None = None,
    *,
    needs_email: bool = False,
) -> Selection:
    """The people matching every criterion, opted-out people always excluded, counted by reason.

    `criteria` must be resolved (`resolve`). With `criteria.active`, people come in rank order;
    otherwise by name."""
    people = sorted(registry.people.values(), key=lambda p: p.sort_key)
    steps = _steps(registry, criteria, eligibility)
    if needs_email:
        steps.append(("sans e-mail valide", lambda p: p.email_valid and bool(p.email)))
    left_out: list[tuple[str, int]] = []
    for reason, keep in steps:
        kept = [p for p in people if keep(p)]
        if len(kept) < len(people):
            count = len(people) - len(kept)
            left_out.append((reason.replace("{s}", "s" if count > 1 else ""), count))
        people = kept
    if criteria.active and eligibility is not None:
        people.sort(key=lambda p: (eligibility.statuses[p.id].rank or 0, p.sort_key))
    return Selection(tuple(people), tuple(left_out), criteria)


def summary(selection: Selection, written: int, unit: str = "personnes", where: str = "") -> str:
    """`12 personnes écrites dans ai.csv ; laissées de côté : 80 hors groupe(s) AI, 1 désinscrites.`"""
    plural = "s" if written > 1 else ""
    text = f"{written} {unit.rstrip('s')}{plural} écrite{plural}"
    if unit != "personnes":
        text += f" ({len(selection.people)} personne{'s' if len(selection.people) > 1 else ''})"
    if where:
        text += f" dans {where}"
    if selection.left_out:
        text += " ; laissées de côté : " + ", ".join(
            f"{n} {reason}" for reason, n in selection.left_out
        )
    return text + "."


def describe(registry: Registry, criteria: Criteria) -> str:
    """A short French title for the selection: `GT Action internationale — membres actifs`."""
    parts = [registry.groups[g].name for g in criteria.groups if g in registry.groups]
    if criteria.types:
        parts.append(", ".join(criteria.types))
    if criteria.country:
        parts.append(criteria.country)
    if criteria.active:
        parts.append("membres actifs")
    if criteria.meeting:
        parts.append(f"invités à {criteria.meeting}")
    return " — ".join(parts) or "toutes les personnes"


# ---------------------------------------------------------------------------------------------
# Template context


@dataclass(frozen=True)
class Contact:
    """What a list may show of a person (never notes, overrides or the opt-out flag)."""

    id: str
    first_name: str
    last_name: str
    full_name: str
    email: str
    phone: str
    function: str
    organisation: str
    organisation_type: str
    country: str
    groups: tuple[str, ...]
    language: str
    rank: int | None = None
    meetings: int | None = None  # counted meetings this season (when eligibility is known)


@dataclass(frozen=True)
class DirectoryEntry:
    """An organisation in the directory: its people counted in that section only."""

    id: str
    name: str
    type: str
    country: str
    city: str
    website: str
    people: int
    hosted: tuple[str, ...]  # `14/01/2020 (AI)` for each meeting it hosts this season


@dataclass(frozen=True)
class Section:
    title: str
    code: str
    entries: tuple[DirectoryEntry, ...]


@dataclass(frozen=True)
class MeetingView:
    id: str
    type: str
    date: str  # `jeudi 25 juin 2020`
    time: str  # `de 18 h 30 à 21 h 30`
    place: str
    address: str
    group_code: str
    group_name: str
    theme: str
    host: str


def contact(registry: Registry, person: Person, eligibility: Eligibility | None) -> Contact:
    org = registry.organisation_of(person)
    status = eligibility.statuses.get(person.id) if eligibility else None
    return Contact(
        id=person.id,
        first_name=person.first_name,
        last_name=person.last_name,
        full_name=person.full_name,
        email=person.email if person.email_valid else "",
        phone=person.phone,
        function=person.function,
        organisation=org.name if org else "",
        organisation_type=org.type if org else "",
        country=org.country if org else "",
        groups=person.groups,
        language=person.language,
        rank=status.rank if status else None,
        meetings=status.count if status else None,
    )


def meeting_view(registry: Registry, meeting: Meeting) -> MeetingView:
    day = i18n.day_text(meeting.date, "fr") if meeting.date else "date à préciser"
    time = ""
    if meeting.start and meeting.end:
        time = f"de {i18n.time_text(meeting.start, 'fr')} à {i18n.time_text(meeting.end, 'fr')}"
    elif meeting.start:
        time = f"à {i18n.time_text(meeting.start, 'fr')}"
    group = registry.groups.get(meeting.group or "")
    host = registry.organisations.get(meeting.host_id)
    group_name = (
        group.name
        if group
        else {
            LAUNCH: "Rencontre de lancement — tous les groupes",
            EVENING: "Soirée de lancement du programme",
        }.get(meeting.type, meeting.type)
    )
    return MeetingView(
        meeting.id,
        meeting.type,
        day,
        time,
        meeting.place,
        meeting.address,
        meeting.group or "",
        group_name,
        meeting.theme,
        host.name if host else "",
    )


def hosted_meetings(registry: Registry, season: Season | None) -> dict[str, tuple[str, ...]]:
    """Per organisation ID, the meetings of the season it hosts: `14/01/2020 (AI)`."""
    hosted: dict[str, list[Meeting]] = {}
    for meeting in registry.meetings.values():
        if meeting.host_id and meeting.date and (season is None or meeting.date in season):
            hosted.setdefault(meeting.host_id, []).append(meeting)
    return {
        org: tuple(
            f"{m.date:%d/%m/%Y} ({m.group or m.type})"
            for m in sorted(ms, key=lambda m: (m.date, m.id))
        )
        for org, ms in hosted.items()
    }


def _entries(
    orgs: dict[str, Organisation], counts: dict[str, int], hosted: dict[str, tuple[str, ...]]
) -> tuple[DirectoryEntry, ...]:
    entries = (
        DirectoryEntry(
            o.id, o.name, o.type, o.country, o.city, o.website, counts[o.id], hosted.get(o.id, ())
        )
        for o in orgs.values()
        if counts.get(o.id)
    )
    return tuple(sorted(entries, key=lambda e: (fold(e.name), e.id)))


def directory(
    registry: Registry, people: Sequence[Person], season: Season | None
) -> tuple[tuple[Section, ...], tuple[Section, ...]]:
    """The organisations of `people`, by group (people in that group) and by type."""
    hosted = hosted_meetings(registry, season)
    by_group: list[Section] = []
    for code, group in registry.groups.items():
        counts: dict[str, int] = {}
        for person in people:
            if code in person.groups:
                counts[person.organisation_id] = counts.get(person.organisation_id, 0) + 1
        entries = _entries(registry.organisations, counts, hosted)
        if entries:
            by_group.append(Section(group.name, code, entries))
    totals: dict[str, int] = {}
    for person in people:
        totals[person.organisation_id] = totals.get(person.organisation_id, 0) + 1
    by_type: list[Section] = []
    kinds = list(ORGANISATION_TYPES) + sorted(
        {o.type for o in registry.organisations.values()} - set(ORGANISATION_TYPES)
    )
    for kind in kinds:
        orgs = {k: o for k, o in registry.organisations.items() if o.type == kind}
        entries = _entries(orgs, totals, hosted)
        if entries:
            by_type.append(Section(kind, kind, entries))
    return tuple(by_group), tuple(by_type)


def build_context(
    registry: Registry,
    selection: Selection,
    eligibility: Eligibility | None,
    *,
    today: dt.date,
    sep: str,
    season: Season | None = None,
) -> dict[str, Any]:
    """Everything a contacts template can use (the same for every format)."""
    by_group, by_type = directory(registry, selection.people, season)
    meeting = registry.meetings.get(selection.criteria.meeting or "")
    return {
        "people": [contact(registry, p, eligibility) for p in selection.people],
        "organisations_by_group": list(by_group),
        "organisations_by_type": list(by_type),
        "organisations_count": len({e.id for s in by_type for e in s.entries}),
        "meeting": meeting_view(registry, meeting) if meeting else None,
        "groups": {code: g.name for code, g in registry.groups.items()},
        "title": describe(registry, selection.criteria),
        "season": season.label if season else "",
        "today": i18n.short_day_text(today, "fr"),
        "sep": sep,
        "bom": "\ufeff",
        "crlf": "\r\n",
    }


# ---------------------------------------------------------------------------------------------
# Rendering and writing


def load(folders: Folders, fmt: Format | None, custom: Path | None) -> Template:
    """The template of a built-in format, or a template file of one's own (`--template`)."""
    if custom is not None:
        return load_template((custom.resolve().parent,), custom.name)
    assert fmt is not None
    return load_template(folders, fmt.template)


def render_list(template: Template, context: dict[str, Any], who: str, limits: Limits) -> str:
    """Render; on a template error, name the first person whose row fails (if one does).
    A limit passed is the template's, not a person's: no search then."""
    try:
        return render(template, context, who, limits)
    except TemplateFailure as err:
        if isinstance(err.__cause__, LimitExceeded | RecursionError):
            raise
        culprit = _first_failing(template, context, limits)
        if culprit is None:
            raise
        render(
            template,
            context | {"people": context["people"][: culprit + 1]},
            _who(context["people"][culprit]),
            limits,
        )
        raise


def _who(person: Contact) -> str:
    return f"{person.full_name}, {person.id}"


def _first_failing(template: Template, context: dict[str, Any], limits: Limits) -> int | None:
    """Bisect the people list for the shortest prefix that fails to render."""

    def fails(count: int) -> bool:
        try:
            render(template, context | {"people": context["people"][:count]}, "", limits)
        except TemplateFailure:
            return True
        return False

    people = context["people"]
    if fails(0) or not fails(len(people)):
        return None
    low, high = 0, len(people)  # fails(low) is False, fails(high) is True
    while high - low > 1:
        middle = (low + high) // 2
        if fails(middle):
            high = middle
        else:
            low = middle
    return high - 1


def write_output(
    data: bytes,
    out: Path,
    *,
    force: bool = False,
    config: Config | None = None,
    protected: Sequence[Path] = (),
) -> None:
    """Write atomically (a temporary file then a rename): never a partial file. Refused, with
    nothing written, as `files.check_output_file` says: never the registry, the configuration
    (given `config`) or a template (`protected`), an existing file only with `force`."""
    places = protected_places(config, protected) if config else protected_places_of(protected)
    check_output_file(out, places, force, option="--out")
    try:
        atomic_write_bytes(out, data)
    except OSError as err:
        raise refused(err, out, "--out") from err


@dataclass(frozen=True)
class Result:
    """A rendered list, and where it went: `out`, or standard output (`stdout`) when `out`
    is `None`; nowhere with `dry_run`."""

    data: bytes
    selection: Selection
    written: int
    unit: str
    out: Path | None = None
    dry_run: bool = False

    @property
    def stdout(self) -> bytes | None:
        """The bytes for standard output (no `--out`, not a dry run), written as they are."""
        return self.data if self.out is None and not self.dry_run else None

    def summary(self, where: str = "") -> str:
        return summary(self.selection, self.written, self.unit, where)

    def dry_run_lines(self, where: str = "") -> list[str]:
        return [
            f"Simulation (--dry-run) : {self.summary(where)}",
            "Rien n'a été écrit : relancez sans --dry-run.",
        ]

    def lines(self) -> list[Line]:
        """What the command shows on the side (standard error): who was written, or would be."""
        where = str(self.out) if self.out else ""
        if self.dry_run:
            return [Line(text) for text in self.dry_run_lines(where)]
        return [Line(self.summary(where), "done")]


def empty_message(selection: Selection, fmt: Format | None) -> SelectionError:
    reasons = (
        ", ".join(f"{n} {reason}" for reason, n in selection.left_out)
        or "le registre ne contient personne"
    )
    hint = "élargissez la sélection (retirez --active, --type, --country ou changez de --group) ; aucun fichier n'a été écrit"
    what = "aucune organisation" if fmt and fmt.unit == "organisations" else "personne"
    return SelectionError(f"sélection vide : {what} à écrire ({reasons})", hint)


def produce(
    registry: Registry,
    criteria: Criteria,
    *,
    fmt: Format | None,
    custom: Path | None,
    template_folders: Folders,
    eligibility: Eligibility | None,
    today: dt.date,
    sep: str | None = None,
    limits: Limits = FILE_LIMITS,
) -> Result:
    """Select, build the context, render: the whole `gt contacts` minus the writing."""
    require_opt_out_column(registry)
    criteria = resolve(registry, criteria)
    if fmt is not None and fmt.active_only:
        criteria = replace(criteria, active=True)
    if fmt is not None and fmt.needs_meeting and criteria.meeting is None:
        upcoming = sorted(
            (m for m in registry.meetings.values() if m.date and m.date >= today),
            key=lambda m: (m.date, m.id),
        )
        example = upcoming[0].id if upcoming else next(iter(registry.meetings), "R-2020-01")
        raise SelectionError(
            f"le format {fmt.name} demande une réunion",
            f"ajoutez --meeting ID (par exemple --meeting {example})",
        )
    selection = select(registry, criteria, eligibility, needs_email=bool(fmt and fmt.needs_email))
    if not selection.people:
        raise empty_message(selection, fmt)
    template = load(template_folders, fmt, custom)
    season = eligibility.season if eligibility else None
    context = build_context(
        registry,
        selection,
        eligibility,
        today=today,
        sep=sep if sep is not None else (fmt.sep if fmt else ";"),
        season=season,
    )
    text = render_list(template, context, describe(registry, criteria), limits)
    unit = fmt.unit if fmt else "personnes"
    written = context["organisations_count"] if unit == "organisations" else len(selection.people)
    return Result(text.encode("utf-8"), selection, written, unit)


def contact_list(
    registry: Registry,
    config: Config,
    today: dt.date,
    criteria: Criteria,
    *,
    format_name: str | None = None,
    custom: Path | None = None,
    sep: str | None = None,
    out: Path | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> Result:
    """`gt contacts` minus the printing: a built-in format (CSV by default) or the `custom`
    template, with the season's eligibility in force on `today`, written to `out` (see
    `write_output`; never the `custom` template), or left for standard output when `out` is
    `None`; nothing is written with `dry_run`."""
    result = produce(
        registry,
        criteria,
        fmt=None if custom else FORMATS[format_name or DEFAULT_FORMAT],
        custom=custom,
        template_folders=config.template_folders(CONTACTS_FOLDER),
        eligibility=compute_eligibility(registry, config, today),
        today=today,
        sep=sep,
        limits=config.file_limits,
    )
    if out is not None and not dry_run:
        protected = (custom,) if custom else ()
        write_output(result.data, out, force=force, config=config, protected=protected)
    return replace(result, out=out, dry_run=dry_run)
