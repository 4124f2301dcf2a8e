"""Who gets a draft, and who of the audience does not and why. Pure functions over the registry.

- `invited` applies "Who is invited" of the registry contract (`audience`) to a meeting;
  `mailing_people` chooses the audience of another mailing (group members, active members,
  organisations to host).
- `screen` drops anyone opted out and lists anyone without a usable e-mail with their cell.
- `plan_invitations` adds what the Journal says of earlier draftings of the meeting: who was
  drafted (for `--only-new`) and the calendar SEQUENCE, raised when the meeting moved.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .audience import invited_people, require_audience
from .errors import SelectionError
from .ics import MeetingTimeError
from .journal import JournalEntry, expand_ids
from .model import EVENING, GROUP_MEETING_TYPES, LAUNCH, Meeting, Person, Registry
from .parsing import closest, did_you_mean

if TYPE_CHECKING:  # eligibility is computed by the mailings only, not by draft-invitations
    from .eligibility import Eligibility

INVITATION_COMMAND = "draft-invitations"
MAILING_COMMAND = "draft-emails"
ACTIVE_NOTICE, HOSTS_CALL = "membre-actif", "appel-hotes"
# A template that only makes sense for one audience implies it (no "you are active" to all).
IMPLIED_AUDIENCE = {ACTIVE_NOTICE: "active", HOSTS_CALL: "hosts"}


# -- meetings -----------------------------------------------------------------------------


# Meeting IDs share their `R-2020-` start: a suggestion must be nearer than that to help.
MEETING_CUTOFF = 0.85
NEXT_MEETINGS_SHOWN = 3


def find_meeting(registry: Registry, meeting_id: str, today: dt.date | None = None) -> Meeting:
    """The meeting with this ID (case-insensitive), or `SelectionError` with the closest one
    when it is close, the next meetings otherwise."""
    wanted = meeting_id.strip().casefold()
    for meeting in registry.meetings.values():
        if meeting.id.casefold() == wanted:
            return meeting
    near = closest(meeting_id, registry.meetings, cutoff=MEETING_CUTOFF)
    if near is not None:
        hint = f"vouliez-vous dire {near} ?"
    else:
        upcoming = sorted(
            (
                m
                for m in registry.meetings.values()
                if m.date and (today is None or m.date >= today)
            ),
            key=lambda m: (m.date or dt.date.min, m.id),
        )[:NEXT_MEETINGS_SHOWN]
        hint = (
            "prochaines réunions : "
            + ", ".join(f"{m.id} ({m.date:%d/%m/%Y})" for m in upcoming)
            + " ; la liste complète est dans l'onglet Réunions"
            if upcoming
            else "lancez « gt check » ou ouvrez l'onglet Réunions pour voir les ID"
        )
    raise SelectionError(f"réunion inconnue « {meeting_id} »", hint)


def invited(registry: Registry, meeting: Meeting) -> list[Person]:
    """The meeting's audience by its type, before anyone is screened out, by name."""
    require_audience(meeting)
    if meeting.type not in (*GROUP_MEETING_TYPES, LAUNCH, EVENING):
        raise SelectionError(
            f"type de réunion « {meeting.type} » inconnu pour {meeting.id}",
            "choisissez dans l'onglet Réunions : Lancement, Réunion, Petit-déjeuner ou Soirée",
        )
    return invited_people(registry, meeting)


# -- other mailings -----------------------------------------------------------------------


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
    return sorted(people, key=lambda p: p.sort_key)


def mailing_audience(
    registry: Registry,
    eligibility: Eligibility,
    template: str,
    group: str | None,
    *,
    active: bool,
    to_hosts: bool,
) -> list[Person]:
    """`mailing_people` for the options, or for the audience the template implies."""
    implied = IMPLIED_AUDIENCE.get(template)
    season = eligibility.season
    active_ids = (
        {s.person.id for s in eligibility.active()} if active or implied == "active" else None
    )
    hosts = (
        organisations_to_host(registry, season.start, season.end)
        if to_hosts or implied == "hosts"
        else None
    )
    return mailing_people(registry, active_ids, hosts, group)


def mailing_history(entries: Iterable[JournalEntry], template: str, season: str) -> set[str]:
    """Who earlier `draft-emails` runs drafted for `template` in `season` (any group): for
    `--only-new`, e.g. the members who became active since the last notice."""
    drafted: set[str] = set()
    for entry in entries:
        if (
            entry.command == MAILING_COMMAND
            and entry.detail.get("modele", "").casefold() == template.casefold()
            and entry.detail.get("saison", "") == season
        ):
            drafted |= expand_ids(entry.detail.get("personnes", ""))
    return drafted


def find_group(registry: Registry, code: str) -> str:
    for known in registry.groups:
        if known.casefold() == code.strip().casefold():
            return known
    raise SelectionError(
        f"groupe inconnu « {code} »",
        did_you_mean(code, registry.groups) or "codes connus : " + ", ".join(registry.groups),
    )


# -- screening ----------------------------------------------------------------------------


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


def cell_of(person: Person, field_name: str) -> str:
    """`Personnes!D8`: where to fix this person's value (empty when the row is unknown)."""
    return person.source.cell(field_name).ref if person.source else ""


def screen(people: Iterable[Person]) -> Audience:
    """Never anyone opted out; anyone without a valid e-mail is listed with the cell instead."""
    result = Audience()
    for person in people:
        if person.opted_out:
            result.opted_out.append(person)
        elif not person.email_valid:
            if not person.email:
                why = "pas d'adresse e-mail"
            elif not person.email.rpartition("@")[0].isascii():
                why = f"lettre accentuée avant le @ dans l'adresse « {person.email} » : vérifiez-la"
            else:
                why = f"adresse e-mail invalide ou en double « {person.email} »"
            result.skipped.append(Skipped(person, why, cell_of(person, "email")))
        else:
            result.recipients.append(person)
    return result


# -- draft-invitations: who was drafted before, who gets a draft now ---------------------


def fingerprint(meeting: Meeting) -> str:
    """Changes when the meeting's date, times or place change (then SEQUENCE goes up)."""
    parts = (meeting.date, meeting.start, meeting.end, meeting.place, meeting.address)
    raw = "|".join("" if v is None else str(v) for v in parts)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class MeetingState:
    """A meeting's date, times and place as drafted, kept in the Journal's `Détail`
    (`date=2020-09-08; horaire=09:30-11:30; lieu=…; adresse=…`) to say later what changed."""

    date: dt.date | None = None
    start: dt.time | None = None
    end: dt.time | None = None
    place: str = ""
    address: str = ""

    @classmethod
    def of(cls, meeting: Meeting) -> MeetingState:
        return cls(meeting.date, meeting.start, meeting.end, meeting.place, meeting.address)

    @property
    def where(self) -> str:
        """`Salle X, 12 rue Y, Lyon`, as the templates write the place."""
        return ", ".join(filter(None, (self.place, self.address)))

    def detail(self) -> dict[str, str]:
        """The Journal's readable keys; `;` and `%` escaped (`; ` separates the pairs)."""
        hours = "-".join(f"{t:%H:%M}" for t in (self.start, self.end) if t is not None)
        return {
            "date": self.date.isoformat() if self.date else "",
            "horaire": hours,
            "lieu": _escape(self.place),
            "adresse": _escape(self.address),
        }

    @classmethod
    def from_detail(cls, detail: dict[str, str]) -> MeetingState | None:
        """The state a Journal entry recorded; `None` for entries written before it was."""
        if "date" not in detail:
            return None
        try:
            day = dt.date.fromisoformat(detail["date"]) if detail["date"] else None
            hours = [dt.time.fromisoformat(t) for t in detail.get("horaire", "").split("-") if t]
        except ValueError:
            return None
        start, end = [*hours, None, None][:2]
        place, address = detail.get("lieu", ""), detail.get("adresse", "")
        return cls(day, start, end, _unescape(place), _unescape(address))


def _escape(value: str) -> str:
    return value.replace("%", "%25").replace(";", "%3B").replace("\n", "%0A")


def _unescape(value: str) -> str:
    return value.replace("%0A", "\n").replace("%3B", ";").replace("%25", "%")


@dataclass(frozen=True)
class History:
    drafted: frozenset[str] = frozenset()  # person IDs drafted for this meeting before
    sequence: int | None = None  # SEQUENCE of the last drafting
    fingerprint: str = ""  # fingerprint of the meeting at the last drafting
    # per fingerprint drafted: its state (when recorded) and who got that version
    versions: tuple[tuple[str, MeetingState | None, frozenset[str]], ...] = ()

    def next_sequence(self, current: str) -> int:
        if self.sequence is None:
            return 0
        return self.sequence if current == self.fingerprint else self.sequence + 1

    def previous(self, current: str) -> tuple[MeetingState | None, frozenset[str]] | None:
        """The last version drafted that differs from `current`: its state and who got it
        (they are told what changed); `None` when the meeting never changed."""
        for print_, state, people in reversed(self.versions):
            if print_ != current:
                return state, people
        return None


def history(entries: Iterable[JournalEntry], meeting_id: str) -> History:
    """What earlier `draft-invitations` runs recorded for this meeting."""
    drafted: set[str] = set()
    sequence, last = None, ""
    versions: list[tuple[str, MeetingState | None, frozenset[str]]] = []
    for entry in entries:
        if (
            entry.command != INVITATION_COMMAND
            or entry.detail.get("reunion", "").casefold() != meeting_id.casefold()
        ):
            continue
        people = expand_ids(entry.detail.get("personnes", ""))
        drafted |= people
        if entry.detail.get("sequence", "").isdigit():
            sequence = int(entry.detail["sequence"])
        last = entry.detail.get("empreinte", last)
        state = MeetingState.from_detail(entry.detail)
        if versions and versions[-1][0] == last:  # the same version, drafted again
            _print, known, before = versions[-1]
            versions[-1] = (last, state or known, before | people)
        else:
            versions.append((last, state, frozenset(people)))
    return History(frozenset(drafted), sequence, last, tuple(versions))


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

    @property
    def update(self) -> tuple[MeetingState | None, frozenset[str]] | None:
        """The version drafted before the meeting last changed (`None` if it never did) and
        who got it: their drafts say what changed (`contexts.change_context`)."""
        return self.history.previous(self.fingerprint)


def plan_invitations(
    registry: Registry,
    meeting: Meeting,
    entries: Iterable[JournalEntry],
    today: dt.date,
    *,
    only_new: bool,
    force: bool,
) -> InvitationPlan:
    """Who gets a draft for `meeting`; a meeting without a readable date or time, or past
    (unless `force`), is refused."""
    if meeting.date is None:
        where = meeting.source.cell("date").ref if meeting.source else meeting.id
        if meeting.unreadable_date:
            raise MeetingTimeError(
                f"{where} : la date de la réunion {meeting.id} est illisible « {meeting.unreadable_date} »",
                "écrivez une date qui existe, comme 14/01/2020 ou 2020-01-14 (ou une cellule au "
                "format date), puis relancez ; « gt check » liste les autres cellules à corriger",
            )
        raise MeetingTimeError(
            f"{where} : la réunion {meeting.id} n'a pas de date",
            "indiquez la date dans l'onglet Réunions, puis relancez",
        )
    for key, typed in meeting.unreadable_times:
        where = meeting.source.cell(key).ref if meeting.source else meeting.id
        what = "début" if key == "start" else "fin"
        raise MeetingTimeError(
            f"{where} : l'heure de {what} de la réunion {meeting.id} est illisible « {typed} »",
            "écrivez l'heure comme 9h30 ou 09:30, ou videz la cellule pour une invitation sans "
            "horaire, puis relancez ; « gt check » liste les autres cellules à corriger",
        )
    if meeting.date < today and not force:
        raise SelectionError(
            f"la réunion {meeting.id} a eu lieu le {meeting.date:%d/%m/%Y} (nous sommes le {today:%d/%m/%Y})",
            f"vérifiez l'ID ou la date ; pour rejouer la rédaction comme avant la réunion : "
            f"gt --as-of {meeting.date - dt.timedelta(days=7)} draft-invitations {meeting.id} ; "
            "ou ajoutez --force pour rédiger les invitations quand même",
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
