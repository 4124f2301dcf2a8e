"""Drafts rendered from a template set, one per person, all in memory.

- `TemplateSet` compiles the templates of one kind once per run, per language: the person's
  language when a template exists, the default language (French) otherwise.
- `Composer` renders them for each person into draft bytes (`mail.DraftFactory`); a value that
  cannot go into a header skips that person, with the cell to fix. Everything is rendered
  before anything is written: a template error stops the run before any write.
- `invitation_composer` (with the calendar invitation) and `mailing_composer` build one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jinja2 import Template

from . import ics
from .config import Config, Limits
from .contexts import (
    Extra,
    calendar_summary,
    group_context,
    meeting_context,
    person_context,
    season_context,
    season_span,
    sender_for,
)
from .errors import TemplateFailure
from .mail import DraftFactory, Envelope, Mailbox, UnsafeHeader, attachment
from .model import BREAKFAST, EVENING, LAUNCH, MEETING, Meeting, Person, Registry
from .parsing import did_you_mean
from .recipients import Skipped, cell_of
from .rendering import Folders, find_template, load_template, render, template_names

if TYPE_CHECKING:
    from .eligibility import Season

TEMPLATE_KINDS = {
    MEETING: "reunion",
    LAUNCH: "lancement",
    BREAKFAST: "petit-dejeuner",
    EVENING: "soiree",
}
MEETING_KINDS = frozenset(TEMPLATE_KINDS.values())  # draft-invitations' own templates


@dataclass(frozen=True)
class TemplateSet:
    """The templates of one kind (`reunion`, `membre-actif`), compiled once, per language:
    `<kind>.<lang>.eml.j2` (subject and text, required in the default language) and
    optionally `<kind>.<lang>.html.j2` (an autoescaped HTML alternative).

    The default language's are compiled when the set is loaded; another language's when its
    first person is rendered (still before anything is written): a run with no one speaking
    Portuguese does not compile the Portuguese templates (some 12 ms each)."""

    kind: str
    default: str
    folders: Folders
    names: dict[str, tuple[str, str | None]]  # language → (text template, HTML or None)
    _compiled: dict[str, tuple[Template, Template | None]] = field(
        default_factory=dict, compare=False, repr=False
    )

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
        found: dict[str, tuple[str, str | None]] = {}
        for lang in dict.fromkeys([default, *languages]):
            text, html = f"{kind}.{lang}.eml.j2", f"{kind}.{lang}.html.j2"
            if find_template(folders, text) is not None:
                found[lang] = (text, html if find_template(folders, html) is not None else None)
        templates = cls(kind, default, folders, found)
        templates.compiled(default)
        return templates

    def language_for(self, person: Person) -> str:
        return person.language if person.language in self.names else self.default

    def compiled(self, language: str) -> tuple[Template, Template | None]:
        """The text template and the HTML one (or None) of `language`, compiled once."""
        done = self._compiled.get(language)
        if done is None:
            text, html = self.names[language]
            done = self._compiled[language] = (
                load_template(self.folders, text),
                load_template(self.folders, html) if html is not None else None,
            )
        return done


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
    fallback: bool = False  # no template in the person's language: the default one instead


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
        limits: Limits,
    ) -> None:
        self.registry = registry
        self.templates = templates
        self.limits = limits
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
        template, html_template = self.templates.compiled(language)
        subject, text = split_subject(render(template, context, who, self.limits), template, who)
        html = (
            render(html_template, context, who, self.limits) if html_template is not None else None
        )
        try:
            data = self.factory(language).draft(
                Mailbox(person.full_name, person.email), subject, text, html, language=language
            )
        except UnsafeHeader as err:
            return _unsafe(person, err)
        fallback = bool(person.language) and person.language != language
        return Draft(person, language, filename, " ".join(subject.split()), data, fallback)


def _unsafe(person: Person, err: UnsafeHeader) -> Skipped:
    if err.field != "To":
        raise TemplateFailure(
            f"en-tête {err.field} impossible pour {person.full_name} ({person.id}) : {err.why}",
            "le sujet rendu contient un caractère de contrôle ; corrigez le modèle ou la cellule",
        )
    field_name = "email" if err.value.strip() == person.email.strip() else "last_name"
    return Skipped(
        person, f"valeur inutilisable dans un en-tête : {err.why}", cell_of(person, field_name)
    )


def compose_all(
    composer: Composer,
    people: Sequence[Person],
    extra: Extra | None = None,
    tick: Callable[[], None] | None = None,
    names: Mapping[str, str] | None = None,
) -> tuple[list[Draft], list[Skipped]]:
    """Every draft, in memory; a template error raises before anything is written. `names`:
    the people's `file_names`, when the caller has them already."""
    names = file_names(people) if names is None else names
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


NAME_BYTES = 120  # a file name's length, extension included: far below any system's limit
FOLDER_BYTES = 100
# Names Windows refuses for a file, whatever the extension.
RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(10)}


def bounded(base: str, limit: int) -> str:
    """`base` (a slug: ASCII letters, digits, `-`) cut to `limit` characters, with a short
    hash of the whole text when cut so that two long names stay apart; never a name Windows
    reserves."""
    if len(base) > limit:
        digest = hashlib.sha256(base.encode("utf-8")).hexdigest()[:8]
        base = f"{base[: limit - 9].rstrip('-')}-{digest}"
    if base.upper() in RESERVED:
        base = f"{base}-gt"
    return base


def file_names(people: Sequence[Person]) -> dict[str, str]:
    """Stable, readable file names: `P-0042-dupont-anne.eml` (unique within the run), at
    most `NAME_BYTES` long, with no separator or character a file system would refuse."""
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
        room = NAME_BYTES - len(".eml")
        name, n = f"{bounded(base, room)}.eml", 2
        while name.casefold() in used:
            suffix = f"-{n}"
            name, n = f"{bounded(base, room - len(suffix))}{suffix}.eml", n + 1
        used.add(name.casefold())
        names[person.id] = name
    return names


def folder_name(text: str) -> str:
    """A folder (or attachment) name from an ID: a bounded slug, `brouillons` when empty."""
    return bounded(slug(text, keep_case=True), FOLDER_BYTES) or "brouillons"


# -- the two kinds of run ---------------------------------------------------------------


def sender_context(sender: Mailbox, config: Config) -> dict[str, Any]:
    """`team` when the sender is the configured team (no référent): a template in another
    language then signs with the team's name in that language."""
    team = (sender.name, sender.email) == (config.sender_name, config.sender_email)
    return {"name": sender.name, "email": sender.email, "team": team}


def invitation_composer(
    registry: Registry, config: Config, meeting: Meeting, sequence: int, now: dt.datetime
) -> Composer:
    """Templates compiled, sender chosen, calendar built: once per run (and language)."""
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
            "sender": sender_context(sender, config),
            "change": None,  # per person, for an update (contexts.change_extra)
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

    return Composer(registry, templates, shared, factory, config.message_limits)


def mailing_composer(
    registry: Registry,
    config: Config,
    kind: str,
    group: str | None,
    season: Season,
    now: dt.datetime,
) -> Composer:
    """Templates compiled and sender chosen once; no attachment."""
    templates = TemplateSet.load(
        config.template_folders("emails"), kind, config.languages, config.default_language
    )
    sender = sender_for(registry, config, group)
    factory = DraftFactory(Envelope(sender, sender, now))

    def shared(language: str) -> dict[str, Any]:
        return {
            "group": group_context(registry, group),
            "sender": sender_context(sender, config),
            "season": season_span(season, language),
        }

    return Composer(registry, templates, shared, lambda _language: factory, config.message_limits)
