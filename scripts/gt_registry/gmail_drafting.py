"""`--gmail`: a drafting run's messages created as Gmail drafts instead of `.eml` files.

The messages are the drafting core's own (`composer.Draft.data`, the `.eml` bytes: one `To`,
the `.ics` attached), with the tool's `X-GT-Draft` header first. What was written is recorded
in the tool-owned tab `Brouillons` (one row per (meeting or mailing, person) and mailbox),
within the run's single registry write; `gmail_push` decides and writes, `gmail_plan` holds
the rules. Nothing here prints: the lines come back as (text, tone).
"""

from __future__ import annotations

from collections.abc import Sequence

from . import auth
from .composer import Draft
from .config import Config
from .errors import RegistryError
from .gmail import GmailClient
from .gmail_plan import GmailTarget, Outgoing, digest, records_from_rows, records_to_rows
from .gmail_push import Pushed, describe, push
from .model import Rows

DRAFTS_TAB = "drafts"  # the logical key of `Brouillons`
__all__ = ["DRAFTS_TAB", "GmailIncomplete", "GmailTarget", "push_drafts", "tab_contents"]


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
    owned_rows: Rows | None,
    drafts: Sequence[Draft],
    key: str,
    sequence: int | None,
    target: GmailTarget,
    when: str,
) -> Pushed:
    """Every draft put into Gmail (created, updated in place, or left alone and why)."""
    client = client_for(config, target)
    records = records_from_rows(owned_rows)
    return push(client, outgoing(drafts, key, sequence), records, when=when, force=target.force)


def tab_contents(config: Config, pushed: Pushed) -> dict[str, Rows]:
    """The `Brouillons` tab as it must be after the run (written whole, like every tool tab)."""
    return {config.tab(DRAFTS_TAB): records_to_rows(pushed.records)}


def lines(pushed: Pushed) -> list[tuple[str, str]]:
    return describe(pushed)


def incomplete(pushed: Pushed) -> GmailIncomplete | None:
    """The error that ends a run some of whose drafts could not be written, saying what was."""
    if not pushed.failed:
        return None
    done = len(pushed.written)
    return GmailIncomplete(
        f"Gmail : {done} brouillon(s) écrit(s) et enregistré(s) dans l'onglet Brouillons, "
        f"{len(pushed.failed)} non écrit(s) (listés ci-dessus)",
        "relancez la même commande plus tard : elle termine sans créer de doublon",
    )
