"""Who gets which draft, and what each template is given. Pure functions over the registry.

- `invited` applies "Who is invited" of the registry contract to a meeting; `screen` drops
  anyone opted out and lists anyone without a usable e-mail with their cell.
- `Composer` renders one template set (compiled once per run) for each person, in their
  language when a template exists (French otherwise), into draft bytes (`mail.DraftFactory`).
  Everything is rendered in memory first: a template error stops the run before any write.
- The Journal `Détail` records, per drafting, the meeting, the people drafted, the meeting's
  fingerprint (date, times, place) and the calendar SEQUENCE, for `--only-new` and updates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Template

from . import i18n
from .audience import is_invited, require_audience
from .config import Config
from .errors import SelectionError, TemplateFailure
from .journal import JournalEntry
from .mail import DraftFactory, Mailbox, UnsafeHeader
from .model import (
    BREAKFAST,
    EVENING,
    GROUP_MEETING_TYPES,
    LAUNCH,
    MEETING,
    Meeting,
    Person,
    Registry,
)
from .parsing import did_you_mean, fold
from .rendering import Folders, find_template, load_template, render, template_names

INVITATION_COMMAND = "draft-invitations"
TEMPLATE_KINDS = {
    MEETING: "reunion",
    LAUNCH: "lancement",
    BREAKFAST: "petit-dejeuner",
    EVENING: "soiree",
}
Extra = Callable[[Person, str], dict[str, Any]]  # per-person context, given the language
MAX_DETAIL = 30_000  # characters of person IDs per Journal cell (Excel holds 32,767)


# -- who is invited ---------------------------------------------------------------------


def find_meeting(registry: Registry, meeting_id: str) -> Meeting:
    """The meeting with this ID (case-insensitive), or `SelectionError` with the closest one."""
    wanted = meeting_id.strip().casefold()
    for meeting in registry.meetings.values():
        if meeting.id.casefold() == wanted:
            return meeting
    hint = (
        did_you_mean(meeting_id, registry.meetings)
        or "lancez « gt check » ou ouvrez l'onglet Réunions pour voir les ID"
    )
    raise SelectionError(f"réunion inconnue « {meeting_id} »", hint)


def invited(registry: Registry, meeting: Meeting) -> list[Person]:
    """The meeting's audience by its type, before anyone is screened out, by name."""
    people = registry.people.values()
    require_audience(meeting)
    if meeting.type not in (*GROUP_MEETING_TYPES, LAUNCH, EVENING):
        raise SelectionError(f"type de réunion « {meeting.type} » inconnu pour {meeting.id}")
    chosen = [p for p in people if is_invited(registry, meeting, p)]
    return sorted(chosen, key=lambda p: p.sort_key)


@dataclass(frozen=True)
class Skipped:
    """Someone of the audience who gets no draft, why, and the cell to fix."""

    person: Person
    reason: str
    cell: str = ""

    def __str__(self) -> str:
        who = f"{self.person.full_name} ({self.person.id})"
        return f"{self.cell} : {who} — {self.reason}" if self.cell else f"{who} — {self.reason}"


@dataclass
class Audience:
    recipients: list[Person] = field(default_factory=list)
    opted_out: list[Person] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)  # data problems, with their cell


def _cell(person: Person, field_name: str) -> str:
    return person.source.cell(field_name).ref if person.source else ""


def screen(people: Iterable[Person]) -> Audience:
    """Never anyone opted out; anyone without a valid e-mail is listed with the cell instead."""
    result = Audience()
    for person in people:
        if person.opted_out:
            result.opted_out.append(person)
        elif not person.email_valid:
            why = (
                "pas d'adresse e-mail"
                if not person.email
                else f"adresse e-mail invalide ou en double « {person.email} »"
            )
            result.skipped.append(Skipped(person, why, _cell(person, "email")))
        else:
            result.recipients.append(person)
    return result


# -- the Journal: what was drafted before ------------------------------------------------


def fingerprint(meeting: Meeting) -> str:
    """Changes when the meeting's date, times or place change (then SEQUENCE goes up)."""
    parts = (meeting.date, meeting.start, meeting.end, meeting.place, meeting.address)
    raw = "|".join("" if v is None else str(v) for v in parts)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class History:
    drafted: frozenset[str] = frozenset()  # person IDs drafted for this meeting before
    sequence: int | None = None  # SEQUENCE of the last drafting
    fingerprint: str = ""  # fingerprint of the meeting at the last drafting

    def next_sequence(self, current: str) -> int:
        if self.sequence is None:
            return 0
        return self.sequence if current == self.fingerprint else self.sequence + 1


def history(entries: Iterable[JournalEntry], meeting_id: str) -> History:
    """What earlier `draft-invitations` runs recorded for this meeting."""
    drafted: set[str] = set()
    sequence, last = None, ""
    for entry in entries:
        if (
            entry.command != INVITATION_COMMAND
            or entry.detail.get("reunion", "").casefold() != meeting_id.casefold()
        ):
            continue
        drafted |= expand_ids(entry.detail.get("personnes", ""))
        if entry.detail.get("sequence", "").isdigit():
            sequence = int(entry.detail["sequence"])
        last = entry.detail.get("empreinte", last)
    return History(frozenset(drafted), sequence, last)


def journal_entries(
    when: dt.datetime,
    command: str,
    by: str,
    changes: str,
    detail: dict[str, str],
    people: Sequence[str],
    problems: str = "",
) -> list[JournalEntry]:
    """One entry (more if thousands of IDs would overflow a cell), `personnes` compressed."""
    chunks: list[list[str]] = [[]]
    size = 0
    for pid in people:
        if size > MAX_DETAIL:
            chunks.append([])
            size = 0
        chunks[-1].append(pid)
        size += len(pid) + 1
    entries = []
    for n, chunk in enumerate(chunks, start=1):
        note = changes if len(chunks) == 1 else f"{changes} (partie {n}/{len(chunks)})"
        entries.append(
            JournalEntry(
                when, command, by, note, problems, {**detail, "personnes": compress_ids(chunk)}
            )
        )
    return entries


_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def _quote(pid: str) -> str:
    return urllib.parse.quote(pid, safe="-_~/:+@#.").replace("..", ".%2E")


def compress_ids(ids: Iterable[str]) -> str:
    """`P-0001..P-0004,P-0009,ORG-A`: runs of 3+ consecutive numbered IDs as ranges."""
    out: list[str] = []
    run: list[tuple[str, int, str]] = []

    def flush() -> None:
        if len(run) >= 3:
            out.append(f"{run[0][2]}..{run[-1][2]}")
        else:
            out.extend(item[2] for item in run)
        run.clear()

    for pid in sorted(set(ids), key=_natural):
        quoted = _quote(pid)
        match = _NUMBERED.match(quoted)
        if (
            match
            and run
            and run[-1][0] == match.group(1) + f"#{len(match.group(2))}"
            and run[-1][1] + 1 == int(match.group(2))
        ):
            run.append((run[-1][0], int(match.group(2)), quoted))
            continue
        flush()
        if match:
            run.append((match.group(1) + f"#{len(match.group(2))}", int(match.group(2)), quoted))
        else:
            out.append(quoted)
    flush()
    return ",".join(out)


def expand_ids(text: str) -> set[str]:
    """The inverse of `compress_ids`."""
    ids: set[str] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, dots, last = part.partition("..")
        a, b = _NUMBERED.match(first), _NUMBERED.match(last)
        if dots and a and b and a.group(1) == b.group(1):
            width = len(a.group(2))
            ids.update(
                urllib.parse.unquote(f"{a.group(1)}{n:0{width}d}")
                for n in range(int(a.group(2)), int(b.group(2)) + 1)
            )
        else:
            ids.add(urllib.parse.unquote(part))
    return ids


def _natural(pid: str) -> tuple[str, int, str]:
    match = _NUMBERED.match(pid)
    return (match.group(1), int(match.group(2)), pid) if match else (pid, -1, pid)


# -- what templates are given ------------------------------------------------------------


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
        "label": season.label,
        "start": i18n.short_day_text(season.start, language),
        "end": i18n.short_day_text(season.end, language),
        "groups": [g for g in groups if g],
        "meetings": [
            {
                "id": m.id,
                "type": m.type,
                "group": (registry.groups[m.group].name if m.group in registry.groups else ""),
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


# -- rendering ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateSet:
    """The templates of one kind (`reunion`, `membre-actif`), compiled once, per language:
    `<kind>.<lang>.eml.j2` (subject and text, required in the default language) and
    optionally `<kind>.<lang>.html.j2` (an autoescaped HTML alternative)."""

    kind: str
    default: str
    text: dict[str, Template]
    html: dict[str, Template]

    @classmethod
    def load(
        cls, folders: Folders, kind: str, languages: Sequence[str], default: str
    ) -> TemplateSet:
        if find_template(folders, f"{kind}.{default}.eml.j2") is None:
            names = template_names(folders, "*.eml.j2")
            known = sorted({name.split(".")[0] for name in names} - MEETING_KINDS)
            hint = did_you_mean(kind, known) or (
                "modèles disponibles : " + ", ".join(known) if known else ""
            )
            raise TemplateFailure(
                f"{folders[0] / f'{kind}.{default}.eml.j2'} : modèle introuvable",
                hint or "vérifiez le dossier des modèles",
            )
        text: dict[str, Template] = {}
        html: dict[str, Template] = {}
        for lang in dict.fromkeys([default, *languages]):
            for suffix, found in (("eml", text), ("html", html)):
                name = f"{kind}.{lang}.{suffix}.j2"
                if find_template(folders, name) is not None:
                    found[lang] = load_template(folders, name)
        return cls(kind, default, text, html)

    def language_for(self, person: Person) -> str:
        return person.language if person.language in self.text else self.default


MEETING_KINDS = {"reunion", "lancement", "petit-dejeuner", "soiree"}  # draft-invitations' own
SUBJECT = re.compile(r"\A\s*Subject:[ \t]*", re.IGNORECASE)


def split_subject(rendered: str, template: Template, who: str) -> tuple[str, str]:
    """`Subject: …`, a blank line, then the body. Only the subject is read from the text:
    every header is built by the tool, so nothing in a template or a cell can add one."""
    match = SUBJECT.match(rendered)
    head, sep, body = rendered[match.end() if match else 0 :].partition("\n\n")
    if not match or not sep or not head.strip():
        raise TemplateFailure(
            f"{template.filename or template.name} : le modèle doit commencer par « Subject: … » suivi d'une ligne vide (pour {who})",
            "voir templates/emails/README.md ; rien n'a été écrit",
        )
    return head, body.lstrip("\n")


@dataclass(frozen=True)
class Draft:
    person: Person
    language: str
    filename: str
    subject: str
    data: bytes


class Composer:
    """Renders one template set for many people into drafts (bytes), all in memory.

    `shared(language)` gives the context common to everyone of a language and `factory(language)`
    the draft factory (envelope and attachments) of that language; both are built once."""

    def __init__(
        self,
        registry: Registry,
        templates: TemplateSet,
        shared: Callable[[str], dict[str, Any]],
        factory: Callable[[str], DraftFactory],
    ) -> None:
        self.registry = registry
        self.templates = templates
        self._make_shared = shared
        self._make_factory = factory
        self._shared: dict[str, dict[str, Any]] = {}
        self._factories: dict[str, DraftFactory] = {}

    def shared(self, language: str) -> dict[str, Any]:
        if language not in self._shared:
            self._shared[language] = self._make_shared(language)
        return self._shared[language]

    def factory(self, language: str) -> DraftFactory:
        if language not in self._factories:
            self._factories[language] = self._make_factory(language)
        return self._factories[language]

    def compose(self, person: Person, filename: str, extra: Extra | None = None) -> Draft | Skipped:
        """A draft, or `Skipped` when a value of this person cannot go into a header."""
        language = self.templates.language_for(person)
        who = f"{person.full_name} ({person.id})"
        context = {
            **self.shared(language),
            "person": person_context(self.registry, person),
            "language": language,
            **(extra(person, language) if extra else {}),
        }
        template = self.templates.text[language]
        subject, text = split_subject(render(template, context, who), template, who)
        html_template = self.templates.html.get(language)
        html = render(html_template, context, who) if html_template is not None else None
        try:
            data = self.factory(language).draft(
                Mailbox(person.full_name, person.email), subject, text, html
            )
        except UnsafeHeader as err:
            return _unsafe(person, err)
        return Draft(person, language, filename, " ".join(subject.split()), data)


def _unsafe(person: Person, err: UnsafeHeader) -> Skipped:
    if err.field != "To":
        raise TemplateFailure(
            f"en-tête {err.field} impossible pour {person.full_name} ({person.id}) : {err.why}",
            "le sujet rendu contient un caractère de contrôle ; corrigez le modèle ou la cellule",
        )
    field_name = "email" if err.value.strip() == person.email.strip() else "last_name"
    return Skipped(
        person, f"valeur inutilisable dans un en-tête : {err.why}", _cell(person, field_name)
    )


def compose_all(
    composer: Composer,
    people: Sequence[Person],
    extra: Extra | None = None,
    tick: Callable[[], None] | None = None,
) -> tuple[list[Draft], list[Skipped]]:
    """Every draft, in memory; a template error raises before anything is written."""
    names = file_names(people)
    drafts: list[Draft] = []
    skipped: list[Skipped] = []
    for person in people:
        result = composer.compose(person, names[person.id], extra)
        (drafts if isinstance(result, Draft) else skipped).append(result)  # type: ignore[arg-type]
        if tick is not None:
            tick()
    return drafts, skipped


def slug(text: str, keep_case: bool = False) -> str:
    """ASCII, `-` separated: `N'Diaye Aïcha` → `ndiaye-aicha`; `P-0042` kept as is."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    if not keep_case:
        ascii_text = ascii_text.lower()
    ascii_text = re.sub(r"['’]", "", ascii_text)
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-")


def file_names(people: Sequence[Person]) -> dict[str, str]:
    """Stable, readable file names: `P-0042-dupont-anne.eml` (unique within the run)."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for person in sorted(people, key=lambda p: p.id):
        base = "-".join(
            filter(
                None,
                (
                    slug(person.id, keep_case=True) or "personne",
                    slug(person.last_name)[:30],
                    slug(person.first_name)[:30],
                ),
            )
        )
        name, n = f"{base}.eml", 2
        while name.casefold() in used:
            name, n = f"{base}-{n}.eml", n + 1
        used.add(name.casefold())
        names[person.id] = name
    return names


def folder_name(text: str) -> str:
    return slug(text, keep_case=True) or "brouillons"


def sort_people(people: Iterable[Person]) -> list[Person]:
    return sorted(people, key=lambda p: (fold(p.last_name), fold(p.first_name), p.id))


# -- draft-invitations -------------------------------------------------------------------


@dataclass
class InvitationPlan:
    meeting: Meeting
    audience: Audience
    recipients: list[Person]  # who gets a draft this run (after --only-new)
    already: list[Person]  # drafted by an earlier run, left out by --only-new
    history: History
    fingerprint: str
    sequence: int

    @property
    def changed(self) -> bool:
        """The meeting's date, time or place changed since the last drafting."""
        return self.history.sequence is not None and self.fingerprint != self.history.fingerprint


def plan_invitations(
    registry: Registry,
    meeting: Meeting,
    entries: Iterable[JournalEntry],
    today: dt.date,
    *,
    only_new: bool,
    force: bool,
) -> InvitationPlan:
    """Who gets a draft for `meeting`; a meeting without date, or past (unless `force`), is refused."""
    from .ics import MeetingTimeError

    if meeting.date is None:
        where = meeting.source.cell("date").ref if meeting.source else meeting.id
        raise MeetingTimeError(
            f"{where} : la réunion {meeting.id} n'a pas de date",
            "indiquez la date dans l'onglet Réunions, puis relancez",
        )
    if meeting.date < today and not force:
        raise SelectionError(
            f"la réunion {meeting.id} a eu lieu le {meeting.date:%d/%m/%Y} (nous sommes le {today:%d/%m/%Y})",
            "vérifiez l'ID ou la date ; ajoutez --force pour rédiger quand même",
        )
    audience = screen(invited(registry, meeting))
    past = history(entries, meeting.id)
    current = fingerprint(meeting)
    recipients, already = audience.recipients, []
    if only_new and past.sequence is not None and current != past.fingerprint:
        raise SelectionError(
            f"la réunion {meeting.id} a changé (date, heure ou lieu) depuis la dernière rédaction : "
            "les personnes déjà invitées doivent recevoir la mise à jour",
            "relancez sans --only-new (avec --force si le dossier existe) : tout le monde recevra "
            "l'invitation mise à jour, et les calendriers la remplaceront",
        )
    if only_new:
        recipients = [p for p in audience.recipients if p.id not in past.drafted]
        already = [p for p in audience.recipients if p.id in past.drafted]
    return InvitationPlan(
        meeting, audience, recipients, already, past, current, past.next_sequence(current)
    )


LABELS = {
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


def calendar_summary(registry: Registry, meeting: Meeting, language: str) -> str:
    label = LABELS.get(language, LABELS["fr"])[meeting.type]
    group = registry.groups.get(meeting.group or "")
    return f"{group.name if group else 'Convergences'} — {label}"


def invitation_composer(
    registry: Registry, config: Config, meeting: Meeting, sequence: int, now: dt.datetime
) -> Composer:
    """Templates compiled, sender chosen, calendar built: once per run (and language)."""
    from . import ics
    from .mail import Envelope, attachment

    kind = TEMPLATE_KINDS[meeting.type]
    templates = TemplateSet.load(
        config.template_folders("emails"), kind, config.languages, config.default_language
    )
    sender = sender_for(registry, config, meeting.group)
    envelope = Envelope(sender, sender, now)
    start, end = ics.meeting_span(meeting, config.timezone)
    uid = ics.uid_for(meeting.id, config.sender_email.rpartition("@")[2] or "gt-registry")
    location = ", ".join(filter(None, (meeting.place, meeting.address)))

    def shared(language: str) -> dict[str, Any]:
        context = {
            "meeting": meeting_context(registry, meeting, language),
            "group": group_context(registry, meeting.group),
            "sender": {"name": sender.name, "email": sender.email},
        }
        if meeting.type == LAUNCH:
            context["season"] = season_context(registry, config, meeting, language)
        return context

    def factory(language: str) -> DraftFactory:
        description = "\n".join(filter(None, (meeting.theme, meeting.video_link)))
        event = ics.CalendarEvent(
            uid,
            sequence,
            calendar_summary(registry, meeting, language),
            start,
            end,
            location,
            description,
            meeting.video_link,
            sender.name,
            sender.email,
        )
        data = ics.calendar_bytes(event, config.timezone, now)
        part = attachment(
            data,
            "text",
            "calendar",
            f"{folder_name(meeting.id)}.ics",
            method="PUBLISH",
            charset="utf-8",
        )
        return DraftFactory(envelope, [part])

    return Composer(registry, templates, shared, factory)


# -- draft-emails ------------------------------------------------------------------------

ACTIVE_NOTICE, HOSTS_CALL = "membre-actif", "appel-hotes"
# A template that only makes sense for one audience implies it (no "you are active" to all).
IMPLIED_AUDIENCE = {ACTIVE_NOTICE: "active", HOSTS_CALL: "hosts"}


def organisations_to_host(
    registry: Registry, season_start: dt.date, season_end: dt.date
) -> set[str]:
    """Organisations that offer a room and have not hosted a meeting this season."""
    hosted = {
        m.host_id
        for m in registry.meetings.values()
        if m.host_id and m.date and season_start <= m.date <= season_end
    }
    return {
        org.id for org in registry.organisations.values() if org.has_room and org.id not in hosted
    }


def mailing_people(
    registry: Registry, active_ids: set[str] | None, hosts: set[str] | None, group: str | None
) -> list[Person]:
    """Group members (of `group`, or of any group); with `hosts`, every contact of those
    organisations instead; with `active_ids`, the active members (a person active through
    attendance or an override is one, in a group or not). Sorted by name."""
    people: Iterable[Person] = registry.people.values()
    if hosts is not None:
        people = [p for p in people if p.organisation_id in hosts]
    elif active_ids is None:
        people = [p for p in people if p.groups]
    if group:
        people = [p for p in people if group in p.groups]
    if active_ids is not None:
        people = [p for p in people if p.id in active_ids]
    return sort_people(people)


def find_group(registry: Registry, code: str) -> str:
    for known in registry.groups:
        if known.casefold() == code.strip().casefold():
            return known
    raise SelectionError(
        f"groupe inconnu « {code} »",
        did_you_mean(code, registry.groups) or "codes connus : " + ", ".join(registry.groups),
    )


def status_context(registry: Registry, status: Any, language: str) -> dict[str, Any]:
    """A person's season in a template: meetings attended, active, rank (eligibility.PersonStatus)."""
    if status is None:
        return {"count": 0, "active": False, "rank": None, "meetings": []}
    meetings = [
        f"{registry.groups[m.group].name if m.group in registry.groups else m.type}, {i18n.short_day_text(m.date, language)}"
        for m in status.meetings
        if m.date
    ]
    return {
        "count": len(status.meetings),
        "active": status.active,
        "rank": status.rank,
        "meetings": meetings,
    }


def mailing_composer(
    registry: Registry, config: Config, kind: str, group: str | None, season: Any, now: dt.datetime
) -> Composer:
    """Templates compiled and sender chosen once; no attachment."""
    from .mail import Envelope

    templates = TemplateSet.load(
        config.template_folders("emails"), kind, config.languages, config.default_language
    )
    sender = sender_for(registry, config, group)
    factory = DraftFactory(Envelope(sender, sender, now))

    def shared(language: str) -> dict[str, Any]:
        return {
            "group": group_context(registry, group),
            "sender": {"name": sender.name, "email": sender.email},
            "season": {
                "label": season.label,
                "start": i18n.short_day_text(season.start, language),
                "end": i18n.short_day_text(season.end, language),
            },
        }

    return Composer(registry, templates, shared, lambda _language: factory)


def mailing_extra(registry: Registry, statuses: dict[str, Any]) -> Extra:
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
