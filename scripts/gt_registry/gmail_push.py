"""A drafting run's messages put into Gmail: list the drafts once, decide (`gmail_plan`),
write what must be written on the pool, and make sure a lost answer never doubles a draft.

Cost of a run: one profile request, one `drafts.list` per 500 drafts, then one create or
update per draft to write; a re-run with nothing changed costs those first two only. A
create whose answer was lost (`Uncertain`) is settled by listing the drafts again and reading
the `X-GT-Draft` header of only the drafts that appeared during the run; the ones not found
are created again, at most `ROUNDS` times.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .errors import RegistryError
from .gmail import DraftRef, GmailClient, GmailError, Uncertain
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
    written_records,
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
    records: list[Record] = field(default_factory=list)  # the tab's records after the run
    appended: list[Record] = field(default_factory=list)  # those of what this run wrote
    # Creates under way or whose answer was lost, not settled yet: stopped midway, the run
    # says these may exist (the check that settles them is `_find`).
    unsettled: dict[Pair, Decision] = field(default_factory=dict)
    aborted: str = ""  # why the run stopped before the end, if it did
    unnoted: bool = False  # some written drafts could not be noted on this computer
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

    @property
    def uncertain(self) -> list[Decision]:
        return list(self.unsettled.values())


class PushAborted(RegistryError):
    """A push stopped midway (Ctrl-C, the login refused by Google, the network gone…) after
    writing some drafts: `pushed` holds their records, to be written all the same."""

    def __init__(self, pushed: Pushed, cause: BaseException) -> None:
        super().__init__(f"passage Gmail interrompu : {pushed.aborted}")
        self.pushed = pushed
        self.cause = cause


def push(
    client: GmailClient,
    outgoing: Sequence[Outgoing],
    records: Sequence[Record],
    *,
    when: str,
    force: bool = False,
    update: Callable[[Outgoing], Outgoing] = as_update,
    note: Callable[[list[Record]], None] | None = None,
) -> Pushed:
    """Every draft put into Gmail. Stopped midway by anything (Ctrl-C included) once the
    drafts are listed, it raises `PushAborted` carrying the records of the drafts written so
    far, so that the run's one registry write still records them (a re-run then duplicates
    nothing); the error before that point (nothing written) goes through as it is. `note`
    is given each draft's record the moment Gmail confirms it (see `gmail_pending`)."""
    mailbox = client.profile()
    before = client.list_drafts()
    existing = {d.id: d.message_id for d in before}
    decisions = decide(outgoing, records, existing, mailbox=mailbox, force=force)
    result = Pushed(mailbox, decisions)

    def confirmed(decision: Decision, ref: DraftRef) -> None:
        result.written[(decision.key, decision.person)] = ref
        if note is not None:
            pair = {(decision.key, decision.person): (ref.id, ref.message_id)}
            note(written_records([decision], pair, mailbox=mailbox, when=when))

    try:
        writes = [d for d in decisions if d.writes]
        _rounds(client, writes, set(existing), result, update, confirmed)
    except BaseException as err:
        result.aborted = _why(err)
        _finish(result, client, records, when)
        raise PushAborted(result, err) from err
    _finish(result, client, records, when)
    return result


def _rounds(
    client: GmailClient,
    pending: list[Decision],
    known: set[str],
    result: Pushed,
    update: Callable[[Outgoing], Outgoing],
    confirmed: Callable[[Decision, DraftRef], None],
) -> None:
    for round_ in range(ROUNDS + 1):
        if not pending:
            return
        uncertain = _write(client, pending, result, update, confirmed)
        known |= {ref.id for ref in result.written.values()}
        if not uncertain:
            return
        if round_ == ROUNDS:
            result.failed += [
                (d, "réponse de Gmail perdue à plusieurs reprises") for d in uncertain
            ]
            result.unsettled.clear()
            return
        found = _find(client, uncertain, known)
        for decision in uncertain:
            ref = found.get((decision.key, decision.person))
            if ref is not None:
                confirmed(decision, ref)
                known.add(ref.id)
        pending = [d for d in uncertain if (d.key, d.person) not in result.written]
        result.unsettled.clear()  # found, or known not to exist: created again next round


def _finish(result: Pushed, client: GmailClient, records: Sequence[Record], when: str) -> None:
    """The records of what was written (all of it, also when the run stopped midway)."""
    written = {pair: (ref.id, ref.message_id) for pair, ref in result.written.items()}
    mailbox, decisions = result.mailbox, result.decisions
    result.records = new_records(records, decisions, written, mailbox=mailbox, when=when)
    result.appended = written_records(decisions, written, mailbox=mailbox, when=when)
    result.requests, result.throttled = client.requests, client.throttled


def _why(err: BaseException) -> str:
    if isinstance(err, KeyboardInterrupt):
        return "arrêté à la demande (Ctrl-C)"
    if isinstance(err, RegistryError):
        return err.message
    return f"erreur inattendue ({type(err).__name__}: {err})"


def _write(
    client: GmailClient,
    pending: Sequence[Decision],
    result: Pushed,
    update: Callable[[Outgoing], Outgoing],
    confirmed: Callable[[Decision, DraftRef], None],
) -> list[Decision]:
    """Creates and updates on the pool; returns the creates whose answer was lost. Each
    write that went through is noted in `result` as soon as it did, and every create is
    `uncertain` while under way: stopped midway, the run knows what was written and what
    may have been."""
    lock = threading.Lock()
    uncertain: list[Decision] = []

    def write(decision: Decision) -> None:
        assert decision.outgoing is not None
        message = update(decision.outgoing) if decision.action == REISSUE else decision.outgoing
        data = marked(message)
        target, pair = decision.target, (decision.key, decision.person)
        if not target:
            with lock:
                result.unsettled[pair] = decision  # until its answer comes
        try:
            ref = client.update(target, data) if target else client.create(data)
        except Uncertain:
            outcome: tuple[str, object] = ("lost", None)
        except GmailError as err:
            gone = err.status == 404
            outcome = (
                "failed",
                "brouillon envoyé ou supprimé pendant le passage" if gone else err.message,
            )
        except RegistryError as err:  # the login refused on the way: nothing was sent
            outcome = ("failed", err.message)
        except Exception as err:  # anything else: a create may have been applied
            outcome = ("failed", f"{type(err).__name__}: {err}") if target else ("lost", None)
        else:
            outcome = ("written", ref)
        with lock:
            kind, value = outcome
            if kind == "lost":
                uncertain.append(decision)
                return  # stays unsettled
            result.unsettled.pop(pair, None)
            if kind == "written":
                assert isinstance(value, DraftRef)
                confirmed(decision, value)
            else:
                result.failed.append((decision, str(value)))

    client.each(write, pending)
    order = {(d.key, d.person): i for i, d in enumerate(pending)}
    return sorted(uncertain, key=lambda d: order[(d.key, d.person)])


def _find(
    client: GmailClient, uncertain: Sequence[Decision], known: set[str]
) -> dict[Pair, DraftRef]:
    """The drafts of `uncertain` that were created after all: among the drafts that
    appeared during the run (not `known`), those whose `X-GT-Draft` names them. A draft
    whose header could not be read stops the run (re-creating could double it)."""
    wanted = {
        (d.key, d.person, d.outgoing.digest): (d.key, d.person)
        for d in uncertain
        if d.outgoing is not None
    }
    fresh = [ref for ref in client.list_drafts() if ref.id not in known]
    marks = client.each(lambda ref: client.mark_of(ref.id), fresh)
    found: dict[Pair, DraftRef] = {}
    for ref, value in zip(fresh, marks, strict=True):
        if isinstance(value, Exception):
            raise value
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
    if result.aborted:
        settled = {(d.key, d.person) for d, _reason in result.failed} | set(result.unsettled)
        left_over = [
            d
            for d in result.decisions
            if d.writes and (d.key, d.person) not in settled | set(result.written)
        ]
        for decision in result.uncertain:
            lines.append(
                (f"  peut-être créé (pas de réponse de Gmail) : {decision.person}", "warning")
            )
        if left_over:
            lines.append(
                (
                    f"{len(left_over)} brouillon(s) pas encore écrit(s) : passage interrompu "
                    f"({result.aborted}).",
                    "warning",
                )
            )
    return lines
