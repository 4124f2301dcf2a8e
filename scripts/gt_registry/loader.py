"""From raw rows (any backend) to a validated `Registry` and the list of problems found.

Structural problems (a missing tab or required header) are *fatal*: nothing can be trusted.
Row problems are reported with their cell and the row is skipped (or the value ignored), so
everyone else is still computed right.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from . import parsing
from .backends import Snapshot
from .clock import clock_change
from .config import Config, TabSpec
from .model import (
    GROUP_MEETING_TYPES,
    ORGANISATION_TYPES,
    PRESENT,
    Attendance,
    Group,
    Location,
    Meeting,
    Organisation,
    Person,
    Problem,
    Registry,
    Rows,
    RowSource,
    Value,
)

T = TypeVar("T")


HINTS = {
    "bad_date": "attendu : JJ/MM/AAAA comme 14/01/2020, AAAA-MM-JJ, ou une cellule au format date",
    "bad_time": "attendu : 9h30 ou 09:30",
    "bad_yes_no": "attendu : oui ou non, x ou vide, TRUE ou FALSE, 1 ou 0",
}


def split_hint(text: str) -> tuple[str, str]:
    """`« x » inconnu (attendu : a, b)` → the message and its hint, as problems carry them."""
    if text.endswith(")") and " (" in text:
        message, _, hint = text[:-1].rpartition(" (")
        return message, hint
    return text, ""


@dataclass
class LoadResult:
    registry: Registry
    problems: list[Problem] = field(default_factory=list)
    fatal: list[Problem] = field(default_factory=list)


class _Row:
    """One data row of a tab, with the column of each known field."""

    __slots__ = ("cells", "columns", "number", "tab")

    def __init__(self, tab: str, number: int, cells: list[Value], columns: dict[str, int]) -> None:
        self.tab, self.number, self.cells, self.columns = tab, number, cells, columns

    def raw(self, key: str) -> Value:
        col = self.columns.get(key)
        try:
            return None if col is None else self.cells[col - 1]
        except IndexError:  # Google omits trailing empty cells
            return None

    def text(self, key: str) -> str:
        return parsing.text(self.raw(key))

    def at(self, key: str) -> Location:
        return Location(self.tab, self.number, self.columns.get(key))

    def source(self) -> RowSource:
        return RowSource(self.tab, self.number, self.columns)  # one shared dict per tab


class _Loader:
    def __init__(self, snapshot: Snapshot, config: Config, today: dt.date) -> None:
        self.snapshot = snapshot
        self.config = config
        self.today = today
        self.problems: list[Problem] = []
        self.fatal: list[Problem] = []
        self.registry = Registry()
        self.found: dict[str, dict[str, int]] = {}  # tab key → field key → column
        self.header_rows: dict[str, tuple[int, list[Value]]] = {}  # tab key → (row, header)
        self.opted_out_addresses: set[str] = set()  # from rows skipped for their ID

    def report(self, where: Location, code: str, message: str, hint: str = "") -> None:
        self.problems.append(Problem(where, code, message, hint))

    def parse(self, row: _Row, key: str, parser: Callable[[Value], T], default: T, code: str) -> T:
        try:
            return parser(row.raw(key))
        except ValueError as err:
            message, hint = split_hint(str(err))
            self.report(row.at(key), code, message, hint or HINTS.get(code, ""))
            return default

    # -- structure ---------------------------------------------------------------------
    def rows(self, spec: TabSpec) -> list[_Row] | None:
        rows = self.snapshot.tabs.get(spec.name)
        if rows is None:
            existing = list(self.snapshot.existing) or list(self.snapshot.tabs)
            near = parsing.closest(spec.name, existing, cutoff=0.5)
            hint = f"vouliez-vous dire « {near} » ?" if near else ""
            hint += (" Onglets présents : " + ", ".join(existing)) if existing else ""
            self.fatal.append(
                Problem(
                    Location(spec.name),
                    "missing_tab",
                    f"onglet « {spec.name} » introuvable",
                    hint.strip(),
                )
            )
            return None
        header_index = _header_row(spec, rows)
        if header_index is None:
            self.fatal.append(
                Problem(
                    Location(self.snapshot.real_name(spec.name), 1, 1),
                    "missing_header",
                    "onglet vide : ligne d'en-têtes absente",
                    "lancez « gt init » pour créer les en-têtes",
                )
            )
            return None
        tab = self.snapshot.real_name(spec.name)
        if not self.single_tab(spec.name, tab):
            return None
        if parsing.fold(tab) != parsing.fold(spec.name):
            self.report(
                Location(tab),
                "tab_name",
                f"onglet « {tab} » lu comme « {spec.name} »",
                f"renommez-le « {spec.name} » : sur Google Sheets, chaque lecture coûte sinon deux requêtes de plus",
            )
        columns = self.columns(spec, tab, rows[header_index], header_index + 1)
        if columns is None:
            return None
        self.found[spec.key] = columns
        self.header_rows[spec.key] = (header_index + 1, list(rows[header_index]))
        return [
            _Row(tab, i + 1, row, columns)
            for i, row in enumerate(rows[header_index + 1 :], start=header_index + 1)
            if not _blank(row)
        ]

    def single_tab(self, name: str, tab: str) -> bool:
        """Two tabs that both pass for `name` (« Personnes  », « PERSONNES »): reading either
        could read the wrong people (an opt-out column lost). Without one named exactly, stop."""
        key = parsing.normalise_header(name)
        rivals = [
            other
            for other in self.snapshot.existing
            if other != tab and parsing.normalise_header(other) == key
        ]
        if not rivals:
            return True
        listed = ", ".join(f"« {n} »" for n in [tab, *rivals])
        if tab == name:  # the exact name wins; the look-alike is said, not read
            self.report(
                Location(rivals[0]),
                "tab_name",
                f"onglet « {rivals[0]} » ignoré : c'est l'onglet « {name} » qui est lu",
                f"renommez « {rivals[0]} » autrement (par exemple « {name} (archive) ») pour éviter toute confusion",
            )
            return True
        self.fatal.append(
            Problem(
                Location(tab),
                "ambiguous_tab",
                f"plusieurs onglets peuvent être « {name} » : {listed}",
                f"nommez exactement « {name} » celui qui fait foi et renommez les autres "
                f"(par exemple « {name} (archive) »), puis relancez",
            )
        )
        return False

    def columns(
        self, spec: TabSpec, tab: str, header: list[Value], header_row: int
    ) -> dict[str, int] | None:
        by_name: dict[str, int] = {}
        for col, value in enumerate(header, start=1):
            by_name.setdefault(parsing.normalise_header(parsing.text(value)), col)
        found: dict[str, int] = {}
        for f in spec.fields:
            for name in (f.header, *f.aliases):
                at = by_name.get(parsing.normalise_header(name))
                if at is not None and at not in found.values():
                    found[f.key] = at
                    break
        unused = {
            parsing.text(v): i
            for i, v in enumerate(header, 1)
            if i not in found.values() and parsing.text(v)
        }
        next_free = max((i for i, v in enumerate(header, 1) if parsing.text(v)), default=0) + 1
        ok = True
        for f in spec.fields:
            if f.required and f.key not in found:
                ok = False
                near = parsing.closest(f.header, unused, cutoff=0.5)
                # Point at the near-miss header to rename, or at the first free cell of the row.
                where = Location(tab, header_row, unused[near] if near else next_free)
                hint = (
                    f"vouliez-vous dire « {near} » ? Renommez cet en-tête"
                    if near
                    else f"ajoutez une colonne « {f.header} » en ligne {header_row}"
                )
                self.fatal.append(
                    Problem(
                        where,
                        "missing_header",
                        f"colonne obligatoire « {f.header} » introuvable",
                        hint,
                    )
                )
        self.near_misses(spec, tab, header_row, found, unused)
        return found if ok else None

    def near_misses(
        self,
        spec: TabSpec,
        tab: str,
        header_row: int,
        found: dict[str, int],
        unused: dict[str, int],
    ) -> None:
        """An optional column not found while a header looks like it (« Groupes (GT) » for
        « Groupes »): said, since the column is otherwise ignored without a word."""
        for f in spec.fields:
            if f.required or f.key in found:
                continue
            known = [parsing.normalise_header(n) for n in (f.header, *f.aliases)]
            for header, col in unused.items():
                if _looks_like(header, known):
                    self.report(
                        Location(tab, header_row, col),
                        "header_near_miss",
                        f"en-tête « {header} » non reconnu : cette colonne n'est pas lue, et la "
                        f"colonne « {f.header} » manque",
                        f"si c'est la colonne « {f.header} », renommez l'en-tête en « {f.header} » ; "
                        f"sinon, donnez-lui un nom qui ne ressemble pas à « {f.header} »",
                    )
                    break

    def check_text(self, row: _Row, key: str, what: str) -> str:
        """A name-like value: required, control characters reported and replaced by spaces."""
        value = row.text(key)
        if parsing.has_control_chars(value):
            self.report(
                row.at(key),
                "control_chars",
                f"{what} contient un caractère de contrôle : retour à la ligne, tabulation…",
                "retapez la cellule sur une seule ligne",
            )
            value = " ".join(parsing.CONTROL_CHARS.sub(" ", value).split())
        return value

    def unique_id(self, row: _Row, key: str, seen: dict[str, Location], what: str) -> str | None:
        value = row.text(key)
        if not value:
            self.report(
                row.at(key),
                "missing_value",
                f"{what} manquant : ligne ignorée",
                "donnez un identifiant unique à cette ligne",
            )
            return None
        if parsing.has_control_chars(value):
            self.report(
                row.at(key),
                "control_chars",
                f"{what} « {value!r} » contient un caractère de contrôle : ligne ignorée",
                "retapez l'identifiant sur une seule ligne, sans tabulation",
            )
            return None
        value = self.without_invisible(row, key, value, what)
        folded = value.casefold()
        if folded in seen:
            self.report(
                row.at(key),
                "duplicate_id",
                f"{what} « {value} » en double (déjà en {seen[folded].ref}) : ligne ignorée",
                "chaque ligne doit avoir un identifiant unique",
            )
            return None
        seen[folded] = row.at(key)
        return value

    def without_invisible(self, row: _Row, key: str, value: str, what: str) -> str:
        """An ID or address typed with an invisible character is reported, and read without it."""
        cleaned = parsing.visible(value)
        if cleaned != value:
            self.report(
                row.at(key),
                "invisible_chars",
                f"{what} « {cleaned} » contient un caractère invisible (espace insécable, "
                "caractère de largeur nulle…) : lu sans lui",
                "retapez la cellule au clavier, ou collez-la sans mise en forme",
            )
        return cleaned

    # -- tabs --------------------------------------------------------------------------
    def organisations(self, rows: list[_Row]) -> None:
        seen: dict[str, Location] = {}
        types = {parsing.normalise_header(t): t for t in ORGANISATION_TYPES}
        types |= {
            "ess": "Économie sociale et solidaire",
            "recherche": "Recherche et enseignement supérieur",
            "media": "Média",
            "acteurspublics": "Acteur public",
        }
        for row in rows:
            org_id = self.unique_id(row, "id", seen, "ID d'organisation")
            if org_id is None:
                continue
            name = self.check_text(row, "name", "le nom")
            if not name:
                self.report(
                    row.at("name"),
                    "missing_value",
                    f"organisation {org_id} sans nom",
                    "indiquez le nom de l'organisation",
                )
            kind_raw = row.text("type")
            kind = types.get(parsing.normalise_header(kind_raw), kind_raw)
            if kind not in ORGANISATION_TYPES:
                self.report(
                    row.at("type"),
                    "bad_type",
                    f"type d'organisation « {kind_raw} » inconnu",
                    parsing.did_you_mean(kind_raw, ORGANISATION_TYPES)
                    or "types : " + ", ".join(ORGANISATION_TYPES),
                )
            self.registry.organisations[org_id] = Organisation(
                id=org_id,
                name=name,
                type=kind,
                country=row.text("country"),
                city=row.text("city"),
                website=row.text("website"),
                partner=self.parse(row, "partner", parsing.yes_no, False, "bad_yes_no"),
                forum_coorganiser=self.parse(
                    row, "forum_coorganiser", parsing.yes_no, False, "bad_yes_no"
                ),
                has_room=self.parse(row, "has_room", parsing.yes_no, False, "bad_yes_no"),
                address=row.text("address"),
                source=row.source(),
            )

    def resolve_organisation(self, row: _Row, key: str, required: bool) -> str:
        value = row.text(key)
        if not value:
            if required:
                self.report(
                    row.at(key),
                    "missing_value",
                    "organisation manquante",
                    "indiquez l'ID de l'organisation, tel qu'écrit dans l'onglet Organisations",
                )
            return ""
        orgs = self.registry.organisations
        if value in orgs:
            return value
        by_key = self._org_index()
        found = by_key.get(value.casefold()) or by_key.get(parsing.fold(value))
        if found:
            return found
        hint = parsing.did_you_mean(value, list(orgs))
        self.report(
            row.at(key),
            "unknown_organisation",
            f"organisation inconnue « {value} »",
            hint or "ajoutez-la dans l'onglet Organisations",
        )
        return ""

    def _org_index(self) -> dict[str, str]:
        if not hasattr(self, "_orgs"):
            index: dict[str, str] = {}
            for org in self.registry.organisations.values():
                index.setdefault(org.id.casefold(), org.id)
                index.setdefault(parsing.fold(org.name), org.id)
            self._orgs = index
        return self._orgs

    def groups(self, rows: list[_Row]) -> None:
        seen: dict[str, Location] = {}
        for row in rows:
            code = self.unique_id(row, "code", seen, "code de groupe")
            if code is None:
                continue
            referent_email = row.text("referent_email")
            if referent_email and not parsing.valid_email(referent_email):
                self.report(
                    row.at("referent_email"),
                    "invalid_email",
                    f"adresse e-mail invalide « {referent_email} »",
                    "une seule adresse, de la forme nom@domaine.fr ; en attendant, l'expéditeur par défaut est utilisé",
                )
                referent_email = ""
            self.registry.groups[code] = Group(
                code=code,
                name=self.check_text(row, "name", "le nom"),
                description=row.text("description"),
                co_animation=row.text("co_animation"),
                platform=row.text("platform"),
                referent=self.check_text(row, "referent", "le référent"),
                referent_email=referent_email,
                source=row.source(),
            )

    def resolve_group(self, row: _Row, code: str) -> str | None:
        if code in self.registry.groups:
            return code
        for known in self.registry.groups:
            if known.casefold() == code.casefold():
                return known
        hint = parsing.did_you_mean(code, self.registry.groups)
        self.report(
            row.at("group" if "group" in row.columns else "groups"),
            "unknown_group",
            f"groupe inconnu « {code} »",
            hint or "codes connus : " + ", ".join(self.registry.groups),
        )
        return None

    def people(self, rows: list[_Row]) -> None:
        seen: dict[str, Location] = {}
        emails: dict[str, Location] = {}
        cfg = self.config
        for row in rows:
            person_id = self.unique_id(row, "id", seen, "ID de personne")
            if person_id is None:
                self.skipped_opt_out(row)
                continue
            first = self.check_text(row, "first_name", "le prénom")
            last = self.check_text(row, "last_name", "le nom")
            for key, value, what in (("first_name", first, "prénom"), ("last_name", last, "nom")):
                if not value:
                    self.report(
                        row.at(key),
                        "missing_value",
                        f"{what} manquant pour {person_id}",
                        "les invitations et les listes en ont besoin",
                    )
            email, email_ok = self.email(row, emails)
            groups = tuple(
                g
                for g in (
                    self.resolve_group(row, c) for c in parsing.group_codes(row.raw("groups"))
                )
                if g
            )
            opted_out = self.parse(row, "opted_out", parsing.yes_no, True, "bad_yes_no")
            self.registry.people[person_id] = Person(
                id=person_id,
                first_name=first,
                last_name=last,
                email=email,
                organisation_id=self.resolve_organisation(row, "organisation", required=True),
                phone=phone_text(row.raw("phone")),
                function=self.check_text(row, "function", "la fonction"),
                groups=groups,
                language=self.parse(
                    row,
                    "language",
                    lambda v: parsing.language(v, cfg.languages, cfg.default_language),
                    cfg.default_language,
                    "bad_language",
                ),
                opted_out=opted_out,
                charter_signed=self.parse(row, "charter_signed", parsing.date, None, "bad_date"),
                override=self.parse(row, "override", parsing.override, None, "bad_override"),
                notes=row.text("notes"),
                email_valid=email_ok,
                source=row.source(),
            )

    def skipped_opt_out(self, row: _Row) -> None:
        """A row skipped for its ID still says who opted out: its addresses stay opted out."""
        try:
            opted_out = parsing.yes_no(row.raw("opted_out"))
        except ValueError:
            opted_out = True  # as on a row that is read: a value not understood opts out
        if opted_out:
            self.opted_out_addresses |= parsing.email_keys(row.text("email"))

    def email(self, row: _Row, seen: dict[str, Location]) -> tuple[str, bool]:
        value = self.without_invisible(row, "email", row.text("email"), "adresse e-mail")
        if not value:
            self.report(
                row.at("email"),
                "missing_value",
                "adresse e-mail manquante",
                "ajoutez l'adresse, ou laissez la personne hors des envois",
            )
            return "", False
        if not parsing.valid_email(value):
            self.report(
                row.at("email"),
                "invalid_email",
                f"adresse e-mail invalide « {value} »",
                "une seule adresse par cellule, de la forme nom@domaine.fr",
            )
            return value, False
        if not value.rpartition("@")[0].isascii():
            self.report(
                row.at("email"),
                "non_ascii_email",
                f"adresse e-mail « {value} » : lettre accentuée ou non latine avant le @, que les "
                "messageries acceptent rarement ; adresse laissée de côté pour les brouillons et les listes",
                "vérifiez l'adresse auprès de la personne (souvent la même sans accent) et "
                "corrigez la cellule",
            )
            return value, False
        key = parsing.email_key(value)
        if key in seen:
            self.report(
                row.at("email"),
                "duplicate_email",
                f"adresse e-mail « {value} » déjà utilisée en {seen[key].ref}",
                f"une adresse par personne : corrigez {seen[key].ref} ou {row.at('email').ref}",
            )
            return value, False
        seen[key] = row.at("email")
        return value, True

    def meetings(self, rows: list[_Row]) -> None:
        seen: dict[str, Location] = {}
        for row in rows:
            meeting_id = self.unique_id(row, "id", seen, "ID de réunion")
            if meeting_id is None:
                continue
            try:
                kind = parsing.meeting_type(row.raw("type"))
            except ValueError as err:
                message, hint = split_hint(str(err))
                self.report(row.at("type"), "bad_type", message + " : ligne ignorée", hint)
                continue
            group_code = row.text("group")
            group = self.resolve_group(row, group_code) if group_code else None
            if kind in GROUP_MEETING_TYPES and not group_code:
                self.report(
                    row.at("group"),
                    "missing_group",
                    f"{kind} sans groupe",
                    "indiquez le code du groupe, tel qu'écrit dans l'onglet Groupes",
                )
            when = self.parse(row, "date", parsing.date, None, "bad_date")
            if when is None and not row.text("date"):
                self.report(
                    row.at("date"),
                    "missing_value",
                    f"réunion {meeting_id} sans date",
                    "indiquez la date, par exemple 14/01/2020 : sans date, la réunion ne compte pas et ne peut pas être annoncée",
                )
            start = self.parse(row, "start", parsing.time, None, "bad_time")
            end = self.parse(row, "end", parsing.time, None, "bad_time")
            self.check_times(row, when, start, end)
            self.registry.meetings[meeting_id] = Meeting(
                id=meeting_id,
                type=kind,
                date=when,
                group=group,
                start=start,
                end=end,
                place=self.check_text(row, "place", "le lieu"),
                address=self.check_text(row, "address", "l'adresse"),
                host_id=self.resolve_organisation(row, "host", required=False),
                theme=self.check_text(row, "theme", "le thème"),
                video_link=self.check_text(row, "video_link", "le lien visio"),
                source=row.source(),
                unreadable_date="" if when is not None else row.text("date"),
                unreadable_times=tuple(
                    (key, row.text(key))
                    for key, moment in (("start", start), ("end", end))
                    if moment is None and row.text(key)
                ),
            )

    def check_times(
        self, row: _Row, day: dt.date | None, start: dt.time | None, end: dt.time | None
    ) -> None:
        """What would stop the calendar invitation later: an end before the start, or a
        time that the clock change skips or repeats in the meetings' time zone."""
        if start and end and end <= start:
            self.report(
                row.at("end"),
                "bad_time",
                f"fin à {end:%H:%M}, avant ou au début ({start:%H:%M})",
                "vérifiez les heures de début et de fin",
            )
        if day is None:
            return
        zone = ZoneInfo(self.config.timezone)
        for key, moment in (("start", start), ("end", end)):
            if moment is None:
                continue
            change = clock_change(day, moment, zone)
            if change is not None:
                what = "n'existe pas" if change == "skipped" else "existe deux fois"
                self.report(
                    row.at(key),
                    "bad_time",
                    f"{moment:%H:%M} le {day:%d/%m/%Y} {what} à l'heure de {self.config.timezone} (changement d'heure)",
                    "choisissez une autre heure",
                )

    def attendance(self, rows: list[_Row]) -> None:
        # The largest tab (100k rows at 10k people): cells are read by index, not by name.
        people = self.registry.people
        # An address names the person it belongs to: the row where it is valid and first, not
        # a later row repeating it (reported as a duplicate).
        by_ref: dict[str, str] = {}
        for person in sorted(people.values(), key=lambda p: not p.email_valid):
            if person.email:
                by_ref.setdefault(parsing.email_key(person.email), person.id)
        by_ref.update({pid.casefold(): pid for pid in people})
        meetings = self.registry.meetings
        meetings_ci = {mid.casefold(): mid for mid in meetings}
        columns = rows[0].columns if rows else {}
        at = {
            key: columns[key] - 1 if key in columns else 10**6
            for key in ("meeting", "person", "status", "comment")
        }
        i_meeting, i_person, i_status, i_comment = (
            at["meeting"],
            at["person"],
            at["status"],
            at["comment"],
        )
        text, append = parsing.text, self.registry.attendance.append
        for row in rows:
            cells, size = row.cells, len(row.cells)
            meeting_ref = text(cells[i_meeting]) if i_meeting < size else ""
            person_ref = text(cells[i_person]) if i_person < size else ""
            if not (meeting_ref and person_ref):
                key = "person" if meeting_ref else "meeting"
                what = "personne" if meeting_ref else "réunion"
                self.report(
                    row.at(key),
                    "missing_value",
                    f"{what} manquante : ligne ignorée",
                    "indiquez l'ID de la réunion et l'ID (ou l'e-mail) de la personne",
                )
                continue
            meeting_id = meetings_ci.get(meeting_ref.casefold())
            if meeting_id is None:
                self.report(
                    row.at("meeting"),
                    "unknown_meeting",
                    f"réunion inconnue « {meeting_ref} »",
                    parsing.did_you_mean(meeting_ref, meetings)
                    or "ajoutez-la dans l'onglet Réunions",
                )
                continue
            person_id = by_ref.get(person_ref.casefold())
            if person_id is None:
                self.report(
                    row.at("person"),
                    "unknown_person",
                    f"personne inconnue « {person_ref} »",
                    parsing.did_you_mean(person_ref, people)
                    or "ajoutez-la dans l'onglet Personnes",
                )
                continue
            try:
                state = parsing.status(cells[i_status] if i_status < size else None)
            except ValueError as err:
                self.report(row.at("status"), "bad_status", *split_hint(str(err)))
                continue
            when = meetings[meeting_id].date
            if state == PRESENT and when is not None and when > self.today:
                self.report(
                    row.at("meeting"),
                    "future_attendance",
                    f"présence à la réunion {meeting_id} datée du {when:%d/%m/%Y}, dans le futur",
                    "vérifiez la date de la réunion ou la ligne de présence",
                )
                continue
            comment = text(cells[i_comment]) if i_comment < size else ""
            append(Attendance(meeting_id, person_id, state, comment, row.source()))

    def opt_out_everywhere(self) -> None:
        """Opt-out is a safety column: an address opted out on any row is opted out on every
        row that carries it: a duplicate row must not let it through, nor a row skipped for
        its ID, nor an address typed `Nom <adresse>`, `mailto:adresse` or in a list. Without
        the column,
        nobody can be contacted or exported unless the configuration says there is none."""
        people = self.registry.people
        opted = set(self.opted_out_addresses)
        for person in people.values():
            if person.opted_out:
                opted |= parsing.email_keys(person.email)
        for pid, person in people.items():
            if not person.opted_out and not opted.isdisjoint(parsing.email_keys(person.email)):
                people[pid] = replace(person, opted_out=True)
        spec = self.config.staff_tabs["people"]
        if "people" not in self.found or "opted_out" in self.found["people"]:
            return
        self.registry.opt_out_column = self.config.no_opt_out_column
        if not self.config.no_opt_out_column:
            field = spec.field("opted_out")
            row, header = self.header_rows["people"]
            used = set(self.found["people"].values())
            unused = {
                parsing.text(v): col
                for col, v in enumerate(header, 1)
                if col not in used and parsing.text(v)
            }
            near = parsing.closest(field.header, unused, cutoff=0.6)
            free = max((c for c, v in enumerate(header, 1) if parsing.text(v)), default=0) + 1
            tab = self.snapshot.real_name(spec.name)
            fix = (
                f"si « {near} » est cette colonne, renommez-la « {field.header} »"
                if near
                else f"ajoutez une colonne « {field.header} » (oui = ne plus contacter)"
            )
            self.report(
                Location(tab, row, unused[near] if near else free),
                "no_opt_out_column",
                f"colonne « {field.header} » introuvable : impossible de savoir qui s'est "
                "désinscrit, aucun envoi ni export n'est possible",
                f"{fix} ; si ce registre n'en a vraiment pas, mettez no_opt_out_column = true "
                "dans la section [rules] de la configuration",
            )

    def run(self) -> LoadResult:
        tabs = {key: self.rows(spec) for key, spec in self.config.staff_tabs.items()}
        for key, spec in self.config.owned_tabs.items():
            if spec.name in self.snapshot.tabs:
                self.registry.owned[key] = self.snapshot.tabs[spec.name]
        if self.fatal:
            return LoadResult(self.registry, self.problems, self.fatal)
        steps: list[tuple[str, Callable[[list[_Row]], None]]] = [
            ("organisations", self.organisations),
            ("groups", self.groups),
            ("people", self.people),
            ("meetings", self.meetings),
            ("attendance", self.attendance),
        ]
        for key, step in steps:
            step(tabs[key] or [])
        self.opt_out_everywhere()
        order = {spec.name: i for i, spec in enumerate(self.config.staff_tabs.values())}
        self.problems.sort(
            key=lambda p: (
                order.get(p.location.tab, 99),
                p.location.row or 0,
                p.location.column or 0,
            )
        )
        return LoadResult(self.registry, self.problems, self.fatal)


def phone_text(value: Value) -> str:
    """A phone number as text. A number cell has lost its leading 0 (Excel's "Numéro de
    téléphone" format shows `06 12 34 56 78` but stores 612345678): nine digits are a French
    number without its 0, given back with it."""
    digits = parsing.text(value)
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and len(digits) == 9
        and digits.isdigit()
    ):
        return "0" + digits
    return digits


def _header_row(spec: TabSpec, rows: Rows) -> int | None:
    """The header row: among the first non-blank rows, the one naming the most known headers
    (staff sometimes put a title or a note above the headers); else the first non-blank."""
    known = {parsing.normalise_header(n) for f in spec.fields for n in (f.header, *f.aliases)}
    candidates = [i for i, row in enumerate(rows[:12]) if not _blank(row)][:5]
    if not candidates:
        return None

    def score(index: int) -> int:
        return sum(parsing.normalise_header(parsing.text(v)) in known for v in rows[index])

    best = max(candidates, key=lambda i: (score(i), -i))
    return best if score(best) else candidates[0]


def _looks_like(header: str, known: list[str]) -> bool:
    """A header that is a known name but for a note in brackets (« Groupes (GT) »), a plural
    (« Langues », « Langue(s) ») or one typing slip (« Groupe », « Telephnoe »); not a
    longer name of its own (« Adresse de facturation », « Groupe WhatsApp »)."""
    whole = parsing.normalise_header(header)
    base = parsing.normalise_header(_BRACKETED.sub("", header))
    return any(
        base in (name, name + "s", name + "x")
        or base + "s" == name
        or difflib.SequenceMatcher(None, whole, name).ratio() >= 0.85
        for name in known
    )


_BRACKETED = re.compile(r"\s*[(\[{].*$")  # « Groupes (GT) », « Langue(s) », « Pays [ISO] »


def _blank(row: list[Value]) -> bool:
    """A row with nothing but empty cells, spaces or unticked checkboxes (Google's FALSE).
    Returns at the first real value: on a normal row, its first cell."""
    for value in row:  # noqa: SIM110  (a plain loop: the hot path of every read)
        if value and not (type(value) is str and value.isspace()):
            return False
    return True


def load_registry(snapshot: Snapshot, config: Config, today: dt.date) -> LoadResult:
    """Parse every staff tab of `snapshot`; problems carry their cell reference."""
    return _Loader(snapshot, config, today).run()


def as_rows(tabs: dict[str, Any]) -> dict[str, Rows]:
    """Normalise a mapping of tab → iterable of rows into lists (for tests and demo data)."""
    return {name: [list(r) for r in rows] for name, rows in tabs.items()}
