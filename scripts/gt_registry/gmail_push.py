"""A drafting run's messages put into Gmail: list the drafts once, decide (`gmail_plan`),
write what must be written on the pool, and make sure a lost answer never doubles a draft.

Cost of a run: one profile request, one `drafts.list` per 500 drafts, then one create or
update per draft to write; a re-run with nothing changed costs those first two only. A
create whose answer was lost (`Uncertain`) is settled by listing the drafts again and reading
the `X-GT-Draft` header of only the drafts that appeared during the run; the ones not found
are created again, at most `ROUNDS` times.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .gmail import DraftRef, GmailClient, GmailError, Uncertain, split_results
from .gmail_plan import (
    EDITED,
    LEFT,
    REISSUE,
    SENT,
    Decision,
    Outgoing,
    Record,
    as_update,
    decide,
    marked,
    new_records,
    read_mark,
)

ROUNDS = 3  # checks and re-creates after lost answers

Pair = tuple[str, str]


@dataclass
class Pushed:
    """What a run did in Gmail, and the Brouillons records to write."""

    mailbox: str
    decisions: list[Decision]
    written: dict[Pair, DraftRef] = field(default_factory=dict)
    failed: list[tuple[Decision, str]] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    requests: int = 0
    throttled: int = 0

    def count(self, *actions: str) -> int:
        """Decisions of these actions that went through (writes) or stand (the others)."""
        return sum(
            1
            for d in self.decisions
            if d.action in actions and (not d.writes or (d.key, d.person) in self.written)
        )

    def listed(self, action: str) -> list[Decision]:
        return [d for d in self.decisions if d.action == action]


def push(
    client: GmailClient,
    outgoing: Sequence[Outgoing],
    records: Sequence[Record],
    *,
    when: str,
    force: bool = False,
    update: Callable[[Outgoing], Outgoing] = as_update,
) -> Pushed:
    mailbox = client.profile()
    before = client.list_drafts()
    existing = {d.id: d.message_id for d in before}
    decisions = decide(outgoing, records, existing, mailbox=mailbox, force=force)
    result = Pushed(mailbox, decisions)
    pending = [d for d in decisions if d.writes]
    known = set(existing)
    for round_ in range(ROUNDS + 1):
        if not pending:
            break
        uncertain = _write(client, pending, result, update)
        known |= {ref.id for ref in result.written.values()}
        if not uncertain:
            break
        if round_ == ROUNDS:
            result.failed += [
                (d, "réponse de Gmail perdue à plusieurs reprises") for d in uncertain
            ]
            break
        found = _find(client, uncertain, known)
        for decision in uncertain:
            ref = found.get((decision.key, decision.person))
            if ref is not None:
                result.written[(decision.key, decision.person)] = ref
                known.add(ref.id)
        pending = [d for d in uncertain if (d.key, d.person) not in result.written]
    written = {pair: (ref.id, ref.message_id) for pair, ref in result.written.items()}
    result.records = new_records(records, decisions, written, mailbox=mailbox, when=when)
    result.requests, result.throttled = client.requests, client.throttled
    return result


def _write(
    client: GmailClient,
    pending: Sequence[Decision],
    result: Pushed,
    update: Callable[[Outgoing], Outgoing],
) -> list[Decision]:
    """Creates and updates on the pool; returns the creates whose answer was lost."""

    def write(decision: Decision) -> DraftRef:
        assert decision.outgoing is not None
        message = update(decision.outgoing) if decision.action == REISSUE else decision.outgoing
        data = marked(message)
        target = decision.target
        return client.update(target, data) if target else client.create(data)

    done, failed = split_results(pending, client.each(write, pending))
    for decision, ref in done:
        result.written[(decision.key, decision.person)] = ref
    uncertain = []
    for decision, err in failed:
        if isinstance(err, Uncertain):
            uncertain.append(decision)
        elif isinstance(err, GmailError) and err.status == 404:
            result.failed.append((decision, "brouillon envoyé ou supprimé pendant le passage"))
        else:
            result.failed.append((decision, str(err.args[0]) if err.args else str(err)))
    return uncertain


def _find(
    client: GmailClient, uncertain: Sequence[Decision], known: set[str]
) -> dict[Pair, DraftRef]:
    """The drafts of `uncertain` that were created after all: among the drafts that
    appeared during the run (not `known`), those whose `X-GT-Draft` names them."""
    wanted = {
        (d.key, d.person, d.outgoing.digest): (d.key, d.person)
        for d in uncertain
        if d.outgoing is not None
    }
    fresh = [ref for ref in client.list_drafts() if ref.id not in known]
    marks = client.each(lambda ref: client.mark_of(ref.id), fresh)
    found: dict[Pair, DraftRef] = {}
    for ref, value in zip(fresh, marks, strict=True):
        if isinstance(value, str):
            parsed = read_mark(value)
            if parsed is not None and parsed in wanted:
                found.setdefault(wanted[parsed], ref)
    return found


SUMMARY_ACTIONS = {
    "create": "créé(s)",
    "update": "mis à jour",
    "replace": "remplacé(s) (--force)",
    "reissue": "nouveau(x) brouillon(s) « mise à jour » (l'ancien avait été envoyé)",
}


def describe(result: Pushed) -> list[tuple[str, str]]:
    """Lines for the person running the command, with a tone ("done", "warning", "")."""
    from .gmail_plan import CREATE, KEEP, REPLACE, UPDATE

    counts = {a: result.count(a) for a in (CREATE, UPDATE, REPLACE, REISSUE)}
    made = ", ".join(f"{n} {SUMMARY_ACTIONS[a]}" for a, n in counts.items() if n) or "aucun écrit"
    lines = [(f"Gmail ({result.mailbox}) : brouillons {made} — dans Gmail → Brouillons.", "done")]
    kept = result.count(KEEP)
    if kept:
        lines.append((f"{kept} brouillon(s) déjà à jour, laissé(s) tel(s) quel(s).", ""))
    sent = result.listed(SENT)
    if sent:
        lines.append((f"{len(sent)} déjà envoyé(s) et inchangé(s) depuis : rien à refaire.", ""))
    edited = result.listed(EDITED)
    if edited:
        lines.append(
            (
                f"{len(edited)} brouillon(s) modifié(s) à la main dans Gmail, laissé(s) tel(s) quel(s) "
                "(--force pour les remplacer) : " + ", ".join(d.person for d in edited),
                "warning",
            )
        )
    left = result.listed(LEFT)
    if left:
        lines.append(
            (
                f"{len(left)} personne(s) ne font plus partie des destinataires ; leur brouillon "
                "n'est pas supprimé (à supprimer à la main s'il le faut) : "
                + ", ".join(d.person for d in left),
                "warning",
            )
        )
    for decision, reason in result.failed:
        lines.append((f"  non écrit : {decision.person} — {reason}", "warning"))
    return lines
