"""The drafts noted on this computer until the registry holds them (`gmail_pending`): what a
kill mid-line, another run's notes or a hand-edited file leave readable."""

from __future__ import annotations

from pathlib import Path

from gt_registry import gmail_pending
from gt_registry.gmail_plan import Record
from hypothesis import given, settings
from hypothesis import strategies as st

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
records = st.builds(
    Record,
    key=texts,
    person=texts,
    mailbox=texts,
    draft_id=texts,
    message_id=st.text(max_size=8),
    digest=st.text(max_size=8),
    sequence=st.none() | st.integers(0, 99),
    when=st.text(max_size=16),
)


@settings(max_examples=60, deadline=None)  # each note is fsynced
@given(st.lists(records, max_size=6), st.data())
def test_a_file_cut_anywhere_reads_as_a_prefix_of_what_was_noted(
    tmp_path_factory: object, noted: list[Record], data: st.DataObject
) -> None:
    folder: Path = tmp_path_factory.mktemp("pending")  # type: ignore[attr-defined]
    path = folder / "registre.jsonl"
    for record in noted:
        gmail_pending.note(path, [record])
    whole = path.read_bytes() if noted else b""
    cut = data.draw(st.integers(0, len(whole)))
    path.write_bytes(whole[:cut])
    read = gmail_pending.read(path)
    assert read == noted[: len(read)]  # never a record garbled by the cut
    if cut == len(whole):
        assert read == noted


def test_forget_keeps_what_another_run_noted_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "state" / "registre.jsonl"
    mine = [
        Record("R-1", f"P-{i}", "camille@example.org", f"d{i}", f"m{i}", "h", 0) for i in range(3)
    ]
    theirs = Record("R-2", "P-9", "camille@example.org", "d9", "m9", "h", None)
    gmail_pending.note(path, mine)
    gmail_pending.note(path, [theirs])
    assert path.stat().st_mode & 0o777 == 0o600
    gmail_pending.forget(path, mine)
    assert gmail_pending.read(path) == [theirs]
    assert path.stat().st_mode & 0o777 == 0o600
    gmail_pending.forget(path, [theirs])
    assert not path.exists()
    gmail_pending.forget(path, [theirs])  # already gone: nothing to do


def test_lines_of_the_wrong_shape_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "registre.jsonl"
    good = Record("R-1", "P-1", "camille@example.org", "d1", "m1", "h", 2, "2020-01-10 10:00")
    path.write_text(
        '{"key": "R-1"}\n'  # fields missing
        "[1, 2]\n"
        '{"key": "R-1", "person": "P-1", "mailbox": "a", "draft_id": 7, "message_id": "",'
        ' "digest": "", "sequence": null, "when": ""}\n'  # a draft ID that is not text
        '{"key": "R-1", "person": "P-1", "mailbox": "a", "draft_id": "d", "message_id": "",'
        ' "digest": "", "sequence": true, "when": ""}\n',  # a SEQUENCE that is not a number
        encoding="utf-8",
    )
    gmail_pending.note(path, [good])
    assert gmail_pending.read(path) == [good]
    assert gmail_pending.read(tmp_path / "absent.jsonl") == []


def test_a_note_is_unrecorded_only_while_brouillons_has_nothing_as_recent_for_that_draft(
    tmp_path: Path,
) -> None:
    from gt_registry.gmail_drafting import unrecorded
    from gt_registry.gmail_plan import records_from_rows, records_to_rows

    def record(person: str, draft: str, when: str, mailbox: str = "camille@example.org") -> Record:
        return Record("R-1", person, mailbox, draft, f"m-{draft}", "h", 0, when)

    path = tmp_path / "registre.jsonl"
    noted = [
        record("P-1", "d1", "2020-01-10 10:00"),  # Brouillons has it: recorded
        record("P-2", "d2", "2020-01-10 10:00"),  # a later row for P-2 there: superseded
        record("P-3", "d3", "2020-01-10 10:00"),  # an older row for P-3 only: missing
        record("P-1", "d9", "2020-01-10 10:00", mailbox="other@example.org"),  # missing
    ]
    gmail_pending.note(path, noted)
    rows = records_to_rows(
        [
            noted[0],
            record("P-2", "d2b", "2020-01-11 09:00"),
            record("P-3", "d0", "2020-01-09 08:00"),
        ]
    )
    missing, everything = unrecorded(records_from_rows(rows), path)
    assert missing == [noted[2], noted[3]]
    assert everything == noted


def test_notes_made_while_another_run_forgets_are_all_kept(tmp_path: Path) -> None:
    """One run notes drafts one by one while another, its registry write done, forgets its
    own: every note of the first survives the second's rewrites of the file."""
    import threading

    path = tmp_path / "registre.jsonl"
    theirs = [Record("R-2", "P-0", "camille@example.org", "d0", "m0", "h", None)]
    mine = [
        Record("R-1", f"P-{i}", "camille@example.org", f"d{i}", f"m{i}", "h", 0) for i in range(60)
    ]
    gmail_pending.note(path, theirs)

    def forgetting() -> None:
        for _ in range(60):
            gmail_pending.forget(path, theirs)
            gmail_pending.note(path, theirs)

    other = threading.Thread(target=forgetting)
    other.start()
    for record in mine:
        gmail_pending.note(path, [record])
    other.join()
    gmail_pending.forget(path, theirs)
    assert gmail_pending.read(path) == mine
