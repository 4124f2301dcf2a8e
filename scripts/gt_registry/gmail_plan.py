"""What to do with each Gmail draft of a drafting run, decided on plain data (no I/O).

Inputs: the messages to draft (meeting or mailing, person, bytes, their digest, the `.ics`
SEQUENCE), the records of the tool-owned tab `Brouillons` (draft ID, message ID, digest,
SEQUENCE, when), and the drafts that exist now (`drafts.list`: draft ID → message ID). A
draft saved again gets a new message ID, in Gmail, whoever saved it: so a recorded draft whose
message ID is still the one the tool wrote is unchanged since, without reading its content.

Per (meeting or mailing, person):
- no record → `create`;
- recorded draft still there, unchanged by hand: same digest → `keep`; else `update` in place;
- recorded draft still there, edited by hand → `edited` (left alone, listed); with `--force`,
  `replace` (updated in place);
- recorded draft gone (sent, or deleted by hand): the meeting changed since (SEQUENCE up) →
  `reissue`, a new draft that says it is an update; else `sent` (nothing to do);
- recorded, but no longer in the audience → `left` (listed; the draft is not deleted).

Never a deletion, never a draft the tool did not record, never two drafts for one
(meeting or mailing, person): `test_gmail_plan.py` checks it with Hypothesis.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from email.message import EmailMessage
from urllib.parse import quote, unquote

from .config import OWNED_TABS
from .i18n import change_wording
from .model import Rows, Value

CREATE, UPDATE, REPLACE, REISSUE = "create", "update", "replace", "reissue"
KEEP, EDITED, SENT, LEFT = "keep", "edited", "sent", "left"
WRITES = frozenset({CREATE, UPDATE, REPLACE, REISSUE})
MARK = "X-GT-Draft"
HEADERS = tuple(OWNED_TABS["drafts"][1])  # the Brouillons tab


@dataclass(frozen=True)
class GmailTarget:
    """`--gmail` and its companions."""

    user: str | None = None  # --gmail-user: the mailbox a service account writes into
    force: bool = False  # --force: replace drafts edited by hand


@dataclass(frozen=True)
class Outgoing:
    """One message to put in Gmail: `key` is the meeting's ID or the mailing's name."""

    key: str
    person: str
    data: bytes
    digest: str
    sequence: int | None = None
    language: str = "fr"


@dataclass(frozen=True)
class Record:
    """One row of `Brouillons`: the draft the tool wrote for (key, person) in `mailbox`."""

    key: str
    person: str
    mailbox: str
    draft_id: str
    message_id: str
    digest: str
    sequence: int | None = None
    when: str = ""


@dataclass(frozen=True)
class Decision:
    action: str
    key: str
    person: str
    outgoing: Outgoing | None = None  # what to write (None for `left`)
    record: Record | None = None  # the draft recorded before (None for `create`)

    @property
    def writes(self) -> bool:
        return self.action in WRITES

    @property
    def target(self) -> str | None:
        """The draft ID written over (`update`, `replace`); None when a draft is created."""
        if self.action in {UPDATE, REPLACE} and self.record is not None:
            return self.record.draft_id
        return None


def decide(
    outgoing: Sequence[Outgoing],
    records: Iterable[Record],
    existing: Mapping[str, str],
    *,
    mailbox: str,
    force: bool = False,
) -> list[Decision]:
    """One decision per message (the first of two for one (key, person) wins), then one
    `left` per recorded person of those keys who is no longer among the messages."""
    keys = {m.key for m in outgoing}
    mine: dict[tuple[str, str], Record] = {}
    for record in records:
        if record.key in keys and record.mailbox.casefold() == mailbox.casefold():
            mine[(record.key, record.person)] = record  # the last row wins
    decisions: list[Decision] = []
    seen: set[tuple[str, str]] = set()
    for message in outgoing:
        pair = (message.key, message.person)
        if pair in seen:
            continue
        seen.add(pair)
        decisions.append(_decide_one(message, mine.get(pair), existing, force))
    for pair, record in mine.items():
        if pair not in seen:
            decisions.append(Decision(LEFT, record.key, record.person, None, record))
    return decisions


def _decide_one(
    message: Outgoing, record: Record | None, existing: Mapping[str, str], force: bool
) -> Decision:
    def make(action: str) -> Decision:
        return Decision(action, message.key, message.person, message, record)

    if record is None:
        return make(CREATE)
    if record.draft_id in existing:
        if existing[record.draft_id] != record.message_id:
            return make(REPLACE if force else EDITED)
        return make(KEEP if record.digest == message.digest else UPDATE)
    moved = (
        message.sequence is not None
        and record.sequence is not None
        and message.sequence > record.sequence
    )
    return make(REISSUE if moved else SENT)


def new_records(
    records: Sequence[Record],
    decisions: Sequence[Decision],
    written: Mapping[tuple[str, str], tuple[str, str]],
    *,
    mailbox: str,
    when: str,
) -> list[Record]:
    """The tab's records after the run: every record kept, except that each (key, person)
    written (`written`: pair → (draft ID, message ID)) now points at what was written."""
    replaced = {
        (r.key, r.person): r
        for r in written_records(decisions, written, mailbox=mailbox, when=when)
    }
    out: list[Record] = []
    for record in records:
        pair = (record.key, record.person)
        if pair in replaced and record.mailbox.casefold() == mailbox.casefold():
            continue  # replaced below, once
        out.append(record)
    out.extend(replaced.values())
    return out


def written_records(
    decisions: Sequence[Decision],
    written: Mapping[tuple[str, str], tuple[str, str]],
    *,
    mailbox: str,
    when: str,
) -> list[Record]:
    """The records of what a run wrote, in the order of its decisions: the rows it appends
    to `Brouillons` (read back last row first per (key, person) and mailbox, see `decide`)."""
    out = []
    for decision in decisions:
        ids = written.get((decision.key, decision.person))
        if ids is None:
            continue
        assert decision.outgoing is not None
        message = decision.outgoing
        out.append(
            Record(
                message.key,
                message.person,
                mailbox,
                ids[0],
                ids[1],
                message.digest,
                message.sequence,
                when,
            )
        )
    return out


# -- the Brouillons tab ----------------------------------------------------------------


def records_from_rows(rows: Rows | None) -> list[Record]:
    """Records from the tab (header row first); rows without a draft ID are skipped."""
    if not rows:
        return []
    header = [str(cell or "").strip().casefold() for cell in rows[0]]

    def at(row: Sequence[Value], name: str) -> str:
        try:
            index = header.index(name.casefold())
        except ValueError:
            return ""
        value = row[index] if index < len(row) else ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return "" if value is None else str(value).strip()

    records = []
    for row in rows[1:]:
        draft_id = at(row, "ID brouillon")
        if not draft_id:
            continue
        sequence = at(row, "SEQUENCE")
        records.append(  # in the tab's order: for one (key, person) and mailbox, the last wins
            Record(
                at(row, "Envoi"),
                at(row, "Personne"),
                at(row, "Boîte"),
                draft_id,
                at(row, "ID message"),
                at(row, "Empreinte"),
                int(sequence) if sequence.isdigit() else None,
                at(row, "Rédigé le"),
            )
        )
    return records


def records_to_rows(records: Iterable[Record], *, header: bool = True) -> Rows:
    """The tab's rows for `records`, after the header row (`header`)."""
    rows: Rows = [list(HEADERS)] if header else []
    for r in records:
        sequence: Value = "" if r.sequence is None else r.sequence
        rows.append(
            [r.key, r.person, r.mailbox, r.draft_id, r.message_id, r.digest, sequence, r.when]
        )
    return rows


# -- the bytes -------------------------------------------------------------------------

_DTSTAMP = re.compile(rb"^DTSTAMP[:;].*\r?\n", re.MULTILINE)
_SIGNIFICANT = ("From", "Reply-To", "To", "Subject", "Content-Language")


def digest(data: bytes) -> str:
    """What a draft says, hashed: its addresses, subject and decoded parts, not the run's
    `Date:`, MIME boundaries or the calendar's DTSTAMP (which change at every run)."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    hashed = hashlib.sha256()
    for name in _SIGNIFICANT:
        hashed.update(f"{name}:{message.get(name, '')}\n".encode())
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        body = payload if isinstance(payload, bytes) else b""
        if part.get_content_type() == "text/calendar":
            body = _DTSTAMP.sub(b"", body)
        hashed.update(f"{part.get_content_type()}|{part.get_filename() or ''}\n".encode())
        hashed.update(body)
    return hashed.hexdigest()[:16]


def mark(key: str, person: str, digest_: str) -> str:
    return f"{quote(key, safe='')}/{quote(person, safe='')}/{digest_}"


def read_mark(value: str) -> tuple[str, str, str] | None:
    parts = value.strip().split("/")
    if len(parts) != 3:
        return None
    return unquote(parts[0]), unquote(parts[1]), parts[2]


def marked(message: Outgoing) -> bytes:
    """The message's bytes with the tool's header first (`X-GT-Draft: key/person/digest`),
    by which it recognises its own drafts without reading anyone else's."""
    line = f"{MARK}: {mark(message.key, message.person, message.digest)}\r\n"
    return line.encode("ascii") + message.data


def update_line(language: str) -> str:
    """The first line of a draft re-issued because the one sent is out of date: the
    subject's prefix, then what `i18n` says of an invitation that replaces another
    (« Mise à jour : cette invitation remplace la précédente : … »)."""
    words = change_wording(language)
    return words.prefix + words.unknown[:1].lower() + words.unknown[1:]


def as_update(message: Outgoing) -> Outgoing:
    """The same message saying it is an update: the subject and the first line (unless the
    templates already wrote it so: a subject starting with the update prefix)."""
    words = change_wording(message.language)  # the re-issued invitation's own wording
    parsed = email.message_from_bytes(message.data, policy=email.policy.SMTP)
    assert isinstance(parsed, EmailMessage)
    subject = str(parsed.get("Subject", ""))
    if subject.startswith(words.prefix):
        return message  # the templates already said so (a re-issued invitation)
    parsed.replace_header("Subject", words.prefix + subject)
    line = update_line(message.language)
    for part in parsed.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        if part.get_content_type() == "text/plain":
            _set_text(part, f"{line}\n\n{part.get_content()}", "plain")
        elif part.get_content_type() == "text/html":
            html = part.get_content()
            tag = re.search(r"<body[^>]*>", html, re.IGNORECASE)
            at = tag.end() if tag else 0
            _set_text(part, f"{html[:at]}<p><strong>{line}</strong></p>{html[at:]}", "html")
    # The digest stays the plain message's: the next run compares it with what the registry
    # then gives, not with this update's wording.
    return replace(message, data=parsed.as_bytes(policy=email.policy.SMTP))


def _set_text(part: EmailMessage, text: str, subtype: str) -> None:
    disposition = part.get("Content-Disposition")
    part.set_content(text, subtype=subtype, charset="utf-8", cte="quoted-printable")
    if disposition is not None and part.get("Content-Disposition") is None:
        part["Content-Disposition"] = disposition
