"""Who is invited to a meeting: the contract's rule, in one place (drafts, sign-in sheets).

- Réunion, Petit-déjeuner: the members of the meeting's group;
- Lancement: every person who is a member of at least one group;
- Soirée: every group member, plus every person of a partner organisation or of a Forum
  co-organiser.
Opt-outs and invalid addresses are screened by the callers, each in its own way (a sign-in
sheet keeps someone without an e-mail; a draft cannot).
"""

from __future__ import annotations

from .errors import SelectionError, SourceError
from .model import EVENING, GROUP_MEETING_TYPES, LAUNCH, Meeting, Person, Registry


def require_opt_out_column(registry: Registry) -> None:
    """Opt-out is a safety column: without it nobody may be contacted or exported."""
    if not registry.opt_out_column:
        raise SourceError(
            "Personnes : pas de colonne de désinscription (Désinscription, Désinscrit·e, "
            "Ne pas contacter…) : impossible de savoir qui ne veut plus être contacté, "
            "rien n'a été rédigé ni exporté",
            "ajoutez la colonne « Désinscription » (oui = ne plus contacter) ; si ce registre "
            "n'en a vraiment pas, mettez no_opt_out_column = true dans la section [rules] "
            "de la configuration",
        )


def require_audience(meeting: Meeting) -> None:
    """A group meeting whose group is missing or unknown has no audience: say which cell."""
    if meeting.type in GROUP_MEETING_TYPES and not meeting.group:
        where = meeting.source.cell("group").ref if meeting.source else meeting.id
        raise SelectionError(
            f"{where} : {meeting.type} {meeting.id} sans groupe connu",
            "indiquez le code du groupe, tel qu'écrit dans l'onglet Groupes",
        )


def partner_contact(registry: Registry, person: Person) -> bool:
    org = registry.organisation_of(person)
    return org is not None and (org.partner or org.forum_coorganiser)


def is_invited(registry: Registry, meeting: Meeting, person: Person) -> bool:
    """The contract's "Who is invited", opt-out aside."""
    if meeting.type in GROUP_MEETING_TYPES:
        return meeting.group is not None and meeting.group in person.groups
    if meeting.type == LAUNCH:
        return bool(person.groups)
    if meeting.type == EVENING:
        return bool(person.groups) or partner_contact(registry, person)
    return False


def invited_people(registry: Registry, meeting: Meeting) -> list[Person]:
    """Everyone `is_invited`, opted out or not, by name."""
    people = (p for p in registry.people.values() if is_invited(registry, meeting, p))
    return sorted(people, key=lambda p: p.sort_key)
