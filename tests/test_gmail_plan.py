"""The Gmail decision function on plain data, by example and by property (Hypothesis)."""

from __future__ import annotations

import pytest
from gt_registry import gmail_plan as plan
from gt_registry.gmail_plan import Decision, Outgoing, Record, decide
from gt_registry.i18n import change_wording
from gt_registry.mail import parse
from hypothesis import given
from hypothesis import strategies as st

BOX = "camille@convergences.example.org"


def out(person: str, digest: str = "d1", sequence: int | None = 0, key: str = "R-1") -> Outgoing:
    return Outgoing(key, person, b"To: x@example.org\r\n\r\nBonjour\r\n", digest, sequence)


def rec(person: str, draft: str, message: str, digest: str = "d1", sequence: int | None = 0):
    return Record("R-1", person, BOX, draft, message, digest, sequence, "2020-01-01 10:00")


def actions(decisions: list[Decision]) -> dict[str, str]:
    return {d.person: d.action for d in decisions}


@pytest.mark.parametrize(
    ("message", "record", "existing", "force", "expected"),
    [
        (out("P-1"), None, {}, False, plan.CREATE),
        (out("P-1"), rec("P-1", "r1", "m1"), {"r1": "m1"}, False, plan.KEEP),
        (out("P-1", "d2", 1), rec("P-1", "r1", "m1"), {"r1": "m1"}, False, plan.UPDATE),
        (out("P-1", "d2", 1), rec("P-1", "r1", "m1"), {"r1": "m9"}, False, plan.EDITED),
        (out("P-1", "d2", 1), rec("P-1", "r1", "m1"), {"r1": "m9"}, True, plan.REPLACE),
        (out("P-1", "d2", 1), rec("P-1", "r1", "m1"), {}, False, plan.REISSUE),
        (out("P-1", "d2", 0), rec("P-1", "r1", "m1"), {}, False, plan.SENT),
        (out("P-1", "d1", None), rec("P-1", "r1", "m1", sequence=None), {}, False, plan.SENT),
    ],
    ids=[
        "new",
        "unchanged",
        "moved-unsent",
        "edited",
        "edited-force",
        "moved-sent",
        "sent",
        "mailing-sent",
    ],
)
def test_one_decision(
    message: Outgoing, record: Record | None, existing: dict[str, str], force: bool, expected: str
) -> None:
    records = [record] if record else []
    (decision,) = decide([message], records, existing, mailbox=BOX, force=force)
    assert decision.action == expected


def test_left_the_audience_is_listed_and_records_of_others_are_ignored() -> None:
    records = [
        rec("P-1", "r1", "m1"),
        rec("P-2", "r2", "m2"),
        Record("R-1", "P-3", "autre@example.org", "r3", "m3", "d1", 0),
        Record("R-2", "P-4", BOX, "r4", "m4", "d1", 0),
    ]
    decisions = decide([out("P-1"), out("P-3")], records, {"r1": "m1"}, mailbox=BOX)
    assert actions(decisions) == {"P-1": plan.KEEP, "P-3": plan.CREATE, "P-2": plan.LEFT}


def test_new_records_keep_every_other_row() -> None:
    records = [rec("P-1", "r1", "m1"), rec("P-2", "r2", "m2")]
    messages = [out("P-1", "d2", 1), out("P-2")]
    decisions = decide(messages, records, {"r1": "m1", "r2": "m2"}, mailbox=BOX)
    after = plan.new_records(
        records, decisions, {("R-1", "P-1"): ("r1", "m7")}, mailbox=BOX, when="t"
    )
    assert after == [records[1], Record("R-1", "P-1", BOX, "r1", "m7", "d2", 1, "t")]
    assert plan.records_from_rows(plan.records_to_rows(after)) == after


def test_digest_ignores_date_boundary_and_dtstamp() -> None:
    a = b"Date: Mon, 1 Jan 2020\r\nTo: a@b.c\r\nSubject: S\r\nContent-Type: text/plain\r\n\r\nHi\r\n"
    b = a.replace(b"Mon, 1 Jan 2020", b"Tue, 2 Jan 2020")
    assert plan.digest(a) == plan.digest(b)
    assert plan.digest(a) != plan.digest(a.replace(b"Hi", b"Ho"))


def test_as_update_says_so_in_subject_and_first_line() -> None:
    data = (
        "From: gt@example.org\r\nTo: a@example.org\r\nSubject: Réunion du GT\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\nBonjour Anne,\r\n"
    ).encode()
    updated = plan.as_update(Outgoing("R-1", "P-1", data, "d1", 1, "fr"))
    message = parse(updated.data)
    assert message["Subject"] == "Mise à jour : Réunion du GT"
    assert message.get_content().startswith("Mise à jour : cette invitation remplace la précédente")
    assert updated.digest == "d1"


@pytest.mark.parametrize("language", ["fr", "en", "es", "pt"])
def test_an_update_says_it_in_the_words_of_a_reissued_invitation(language: str) -> None:
    """One wording for « this replaces the previous one », i18n's: the subject's prefix and
    the sentence a re-issued invitation uses, in the person's language."""
    words = change_wording(language)
    data = (
        b"From: gt@example.org\r\nTo: a@example.org\r\nSubject: GT\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\nBonjour,\r\n"
    )
    message = parse(plan.as_update(Outgoing("R-1", "P-1", data, "d1", 1, language)).data)
    assert message["Subject"] == words.prefix + "GT"
    first = message.get_content().splitlines()[0]
    assert first.startswith(words.prefix)
    assert first[len(words.prefix) :].casefold() == words.unknown.casefold()


def test_marks_round_trip() -> None:
    value = plan.mark("R 2020/01", "P-1", "abc")
    assert "/" not in value.split("/", 1)[0]
    assert plan.read_mark(value) == ("R 2020/01", "P-1", "abc")


# -- properties ---------------------------------------------------------------------------

people = st.sampled_from([f"P-{i}" for i in range(6)])
ids = st.sampled_from([f"r{i}" for i in range(8)])
messages_ids = st.sampled_from([f"m{i}" for i in range(8)])
digests = st.sampled_from(["d1", "d2"])
sequences = st.one_of(st.none(), st.integers(0, 3))

outgoing_st = st.lists(
    st.builds(out, people, digests, sequences, st.sampled_from(["R-1", "R-2"])), max_size=8
)
records_st = st.lists(
    st.builds(
        Record,
        st.sampled_from(["R-1", "R-2"]),
        people,
        st.sampled_from([BOX, "autre@example.org"]),
        ids,
        messages_ids,
        digests,
        sequences,
    ),
    max_size=8,
)
existing_st = st.dictionaries(ids, messages_ids, max_size=8)


@given(outgoing_st, records_st, existing_st, st.booleans())
def test_never_deletes_never_touches_unrecorded_never_two_drafts(
    outgoing: list[Outgoing], records: list[Record], existing: dict[str, str], force: bool
) -> None:
    decisions = decide(outgoing, records, existing, mailbox=BOX, force=force)
    assert {d.action for d in decisions} <= {
        *plan.WRITES,
        plan.KEEP,
        plan.EDITED,
        plan.SENT,
        plan.LEFT,
    }
    recorded = {r.draft_id for r in records if r.mailbox == BOX}
    pairs = [(d.key, d.person) for d in decisions]
    assert len(pairs) == len(set(pairs)), "one decision per (meeting or mailing, person)"
    for decision in decisions:
        if decision.target is not None:  # written over: only a draft the tool recorded
            assert decision.target in recorded and decision.target in existing
        if decision.action in {plan.CREATE, plan.REISSUE}:
            # a new draft only where no recorded draft of this pair is still in Drafts
            record = decision.record
            assert record is None or record.draft_id not in existing
        if decision.action == plan.EDITED:
            assert not force
    # every recorded pair of these keys and this mailbox is accounted for, none dropped
    keys = {m.key for m in outgoing}
    for r in records:
        if r.key in keys and r.mailbox == BOX:
            assert (r.key, r.person) in pairs


@given(outgoing_st, records_st, existing_st)
def test_new_records_never_lose_a_row_of_someone_else(
    outgoing: list[Outgoing], records: list[Record], existing: dict[str, str]
) -> None:
    decisions = decide(outgoing, records, existing, mailbox=BOX)
    written = {(d.key, d.person): (f"new-{d.person}", "m") for d in decisions if d.writes}
    after = plan.new_records(records, decisions, written, mailbox=BOX, when="t")
    for r in records:
        if (r.key, r.person) not in written or r.mailbox != BOX:
            assert r in after
    mine = [(r.key, r.person) for r in after if r.mailbox == BOX and (r.key, r.person) in written]
    assert len(mine) == len(set(mine)) == len(written)
