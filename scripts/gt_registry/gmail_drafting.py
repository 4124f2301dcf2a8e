"""`--gmail`: a drafting run's messages created as Gmail drafts instead of `.eml` files.

The messages are the drafting core's own (`composer.Draft.data`, the `.eml` bytes: one `To`,
the `.ics` attached), with the tool's `X-GT-Draft` header first. What was written is recorded
in the tool-owned tab `Brouillons` (one row per (meeting or mailing, person) and mailbox),
within the run's single registry write; `gmail_push` decides and writes, `gmail_plan` holds
the rules. Nothing here prints: the lines come back as (text, tone).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from . import auth, gmail_pending
from .composer import Draft
from .config import Config
from .errors import RegistryError
from .gmail import GmailClient
from .gmail_plan import (
    HEADERS,
    GmailTarget,
    Outgoing,
    Record,
    digest,
    records_to_rows,
)
from .gmail_push import PushAborted, Pushed, push
from .model import Rows

DRAFTS_TAB = "drafts"  # the logical key of `Brouillons`
HEADER_SEARCH = 5  # rows where the header is looked for (a staff banner may be above)
__all__ = ["DRAFTS_TAB", "GmailIncomplete", "GmailTarget", "push_drafts", "rows_to_append"]


class GmailIncomplete(RegistryError):
    """Some drafts could not be written; those that were are recorded (exit 3)."""


def outgoing(drafts: Sequence[Draft], key: str, sequence: int | None) -> list[Outgoing]:
    return [
        Outgoing(key, d.person.id, d.data, digest(d.data), sequence, d.language) for d in drafts
    ]


def client_for(config: Config, target: GmailTarget) -> GmailClient:
    """The mailbox's client, with the credentials of the run (see `auth`)."""
    resolved = auth.gmail_credentials(config.credentials, target.user)
    return GmailClient(resolved.credentials, target.user or "me", origin=resolved.origin)


def push_drafts(
    config: Config,
    records: Sequence[Record],
    drafts: Sequence[Draft],
    key: str,
    sequence: int | None,
    target: GmailTarget,
    when: str,
    pending: Path,
) -> Pushed:
    """Every draft put into Gmail (created, updated in place, or left alone and why), each
    noted in `pending` as soon as Gmail confirms it. `records`: those of `Brouillons`, then
    those an earlier run noted on this computer but could not write to the registry."""
    client = client_for(config, target)
    trouble: list[OSError] = []

    def note(written: list[Record]) -> None:
        try:
            gmail_pending.note(pending, written)
        except OSError as err:  # said if the registry write fails too (`Pushed.unnoted`)
            trouble.append(err)

    try:
        pushed = push(
            client,
            outgoing(drafts, key, sequence),
            records,
            when=when,
            force=target.force,
            note=note,
        )
    except PushAborted as err:
        err.pushed.unnoted = bool(trouble)
        raise
    pushed.unnoted = bool(trouble)
    return pushed


def unrecorded(tab: Sequence[Record], pending: Path) -> tuple[list[Record], list[Record]]:
    """(The records noted on this computer that `Brouillons` (`tab`, its records) lacks, all
    those noted). A noted record is already there when `Brouillons` has it, or a row for
    the same draft (meeting or mailing, person, mailbox) written since."""
    noted = gmail_pending.read(pending)
    latest: dict[tuple[str, str, str], str] = {}
    for r in tab:
        pair = (r.key, r.person, r.mailbox)
        latest[pair] = max(latest.get(pair, ""), r.when)
    missing = [
        r
        for r in noted
        if (r.key, r.person, r.mailbox) not in latest
        or latest[(r.key, r.person, r.mailbox)] < r.when
    ]
    return missing, noted


def rows_to_append(
    config: Config, rows: Rows | None, appended: Sequence[Record]
) -> dict[str, Rows]:
    """The `Brouillons` rows of what the run wrote, appended (never the tab rewritten: two
    runs at once on Google Sheets both keep their rows, as for the Journal), after the
    header row when the tab has none (`rows`: the tab as read). A (meeting or mailing,
    person) written again gets a new row; the last one is read (`gmail_plan.decide`)."""
    if not appended:
        return {}
    header = not any(
        [str(v or "").strip() for v in row][: len(HEADERS)] == list(HEADERS)
        for row in (rows or [])[:HEADER_SEARCH]
    )
    return {config.tab(DRAFTS_TAB): records_to_rows(appended, header=header)}


def incomplete(pushed: Pushed) -> GmailIncomplete | None:
    """The error that ends a run some of whose drafts could not be written, saying what was."""
    if not pushed.failed and not pushed.aborted:
        return None
    done = len(pushed.written)
    recorded = (
        f"{done} brouillon(s) écrit(s) et enregistré(s) dans l'onglet Brouillons"
        if done
        else "aucun brouillon écrit"
    )
    if not pushed.aborted:
        return GmailIncomplete(
            f"Gmail : {recorded}, {len(pushed.failed)} non écrit(s) (listés ci-dessus)",
            "relancez la même commande plus tard : elle termine sans créer de doublon",
        )
    unsettled = pushed.uncertain
    maybe = (
        f" ; {len(unsettled)} peut-être créé(s) sans réponse de Gmail : "
        + ", ".join(d.person for d in unsettled)
        if unsettled
        else ""
    )
    hint = (
        "avant de relancer, regardez dans Gmail → Brouillons si ces personnes y ont déjà un "
        "brouillon de ce passage et supprimez-le (il serait recréé en double) ; la relance "
        "termine ensuite le reste sans doublon"
        if unsettled
        else "relancez la même commande quand le problème est réglé : elle termine sans créer de doublon"
    )
    return GmailIncomplete(
        f"Gmail : passage interrompu ({pushed.aborted}) : {recorded}{maybe}", hint
    )
