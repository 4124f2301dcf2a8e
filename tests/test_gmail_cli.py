"""`draft-invitations --gmail` and `draft-emails --gmail` through the CLI, against the Gmail
fake (real google-auth above it) and real workbooks: the same recipients as the `.eml` path,
no duplicates ever, meetings moved, drafts sent or edited by staff, faults."""

from __future__ import annotations

import os
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import icalendar
import openpyxl
import pytest
from click.testing import Result
from conftest import DEMO_TODAY, small_registry
from fake_gmail import USER, FakeGmail
from gt_registry import gmail_plan
from gt_registry.backends.xlsx import WorkbookBackend
from gt_registry.config import Config
from gt_registry.loader import load_registry
from gt_registry.mail import parse
from test_draft_invitations import expected_audience, recipient

Run = Callable[..., Result]
AS_OF = DEMO_TODAY.isoformat()


def gmail_draft(
    run_gt: Run, sheet: Path, as_of: str, creds: Path, *args: object, debug: bool = True
) -> Result:
    return run_gt(
        "--sheet",
        sheet,
        "--as-of",
        as_of,
        "--credentials",
        creds,
        "draft-invitations",
        *args,
        debug=debug,
    )


def messages(fake: FakeGmail) -> dict[str, EmailMessage]:
    """The drafts of Camille's mailbox, by recipient address."""
    out = {}
    for draft in fake.drafts():
        message = parse(draft.raw)
        out[recipient(message)] = message
    return out


def sequence_of(message: EmailMessage) -> int:
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return int(
        icalendar.Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")[0]["SEQUENCE"]
    )


def brouillons(path: Path, config: Config) -> list[gmail_plan.Record]:
    snapshot = WorkbookBackend(path, config.with_tabs("drafts")).read()
    return gmail_plan.records_from_rows(snapshot.tabs.get("Brouillons"))


@pytest.mark.parametrize(
    "meeting_id",
    ["R-2020-AI-4", "R-2020-SOIREE", "R-2019-LANC", "R-2020-PDMI-3", "R-2020-FI-2"],
    ids=["reunion", "soiree", "lancement", "petit-dejeuner", "reunion-fi"],
)
def test_recipients_are_the_eml_path_s_for_every_meeting_type(
    run_gt: Run,
    demo_xlsx: Path,
    config: Config,
    tmp_path: Path,
    fake_gmail: FakeGmail,
    authorized_user_file: Path,
    meeting_id: str,
) -> None:
    out = tmp_path / "eml"
    eml = run_gt(
        "--sheet",
        demo_xlsx,
        "--as-of",
        AS_OF,
        "draft-invitations",
        meeting_id,
        "--out",
        out,
        "--force",
    )
    assert eml.exit_code == 0, eml.output
    by_file = {recipient(parse(p.read_bytes())): p.read_bytes() for p in out.glob("*.eml")}
    result = gmail_draft(
        run_gt, demo_xlsx, AS_OF, authorized_user_file, meeting_id, "--gmail", "--force"
    )
    assert result.exit_code == 0, result.output
    assert "Gmail → Brouillons" in result.stderr
    drafts = messages(fake_gmail)
    assert len(drafts) == len(fake_gmail.drafts())  # one per address
    registry = load_registry(WorkbookBackend(demo_xlsx, config).read(), config, DEMO_TODAY).registry
    assert set(drafts) == set(by_file) == expected_audience(registry, meeting_id)
    opted_out = {p.email.casefold() for p in registry.people.values() if p.opted_out}
    for draft in fake_gmail.drafts():
        assert not any(address in draft.raw.decode("ascii").casefold() for address in opted_out)
        mark, _sep, data = draft.uploaded.partition(b"\r\n")
        assert mark.startswith(b"X-GT-Draft: ")
        address = recipient(parse(data))
        assert gmail_plan.digest(data) == gmail_plan.digest(by_file[address])  # same message
    records = brouillons(demo_xlsx, config)
    assert sorted(r.draft_id for r in records) == sorted(d.id for d in fake_gmail.drafts())
    assert {r.mailbox for r in records} == {USER}


def test_rerun_creates_nothing_move_updates_in_place_sent_gets_an_update_edited_is_left(
    run_gt: Run,
    make_workbook: Callable[..., Path],
    config: Config,
    fake_gmail: FakeGmail,
    authorized_user_file: Path,
) -> None:
    path = make_workbook(small_registry())
    first = gmail_draft(run_gt, path, "2020-01-02", authorized_user_file, "R-AI-1", "--gmail")
    assert first.exit_code == 0, first.output
    drafts = messages(fake_gmail)
    assert set(drafts) == {"anne@alpha.org", "bruno@beta.com", "farid@gamma.ma"}
    ids = {recipient(parse(d.raw.partition(b"\r\n")[2])): d.id for d in fake_gmail.drafts()}
    assert {sequence_of(m) for m in drafts.values()} == {0}

    created = fake_gmail.count("drafts.create")
    again = gmail_draft(run_gt, path, "2020-01-02", authorized_user_file, "R-AI-1", "--gmail")
    assert again.exit_code == 0, again.output
    assert fake_gmail.count("drafts.create") == created and len(fake_gmail.drafts()) == 3
    assert "3 brouillon(s) déjà à jour" in again.stderr

    fake_gmail.staff_send(ids["anne@alpha.org"])
    fake_gmail.staff_edit(ids["bruno@beta.com"])
    book = openpyxl.load_workbook(path)
    book["Réunions"]["E3"] = "10h"  # R-AI-1 now starts at 10:00
    book.save(path)
    moved = gmail_draft(run_gt, path, "2020-01-02", authorized_user_file, "R-AI-1", "--gmail")
    assert moved.exit_code == 0, moved.output
    now = {d.id: parse(d.raw) for d in fake_gmail.drafts()}
    assert sequence_of(now[ids["farid@gamma.ma"]]) == 1  # same draft ID, updated in place
    assert sequence_of(now[ids["bruno@beta.com"]]) == 0  # edited by staff: left alone
    assert "modifié(s) à la main" in moved.stderr and "P-2" in moved.stderr
    (new_id,) = set(now) - set(ids.values())
    reissued = now[new_id]
    assert recipient(reissued) == "anne@alpha.org" and sequence_of(reissued) == 1
    assert str(reissued["Subject"]).startswith("Mise à jour")
    assert len(fake_gmail.drafts()) == 3
    records = {r.person: r for r in brouillons(path, config)}
    assert records["P-1"].draft_id == new_id and records["P-6"].sequence == 1


def test_faults_end_with_exactly_one_draft_per_person(
    run_gt: Run,
    make_workbook: Callable[..., Path],
    fake_gmail: FakeGmail,
    authorized_user_file: Path,
) -> None:
    path = make_workbook(small_registry())
    fake_gmail.drop_next("drafts.create", applied=True)
    fake_gmail.drop_next("drafts.create", applied=False)
    fake_gmail.fail_next("drafts.create", 500)
    fake_gmail.fail_next("drafts.list", 429, times=2)
    result = gmail_draft(run_gt, path, "2020-01-02", authorized_user_file, "R-AI-1", "--gmail")
    assert result.exit_code == 0, result.output
    addresses = sorted(messages(fake_gmail))
    assert addresses == ["anne@alpha.org", "bruno@beta.com", "farid@gamma.ma"]
    assert len(fake_gmail.drafts()) == 3


def test_a_partial_failure_records_what_was_done_and_a_rerun_finishes(
    run_gt: Run,
    make_workbook: Callable[..., Path],
    config: Config,
    fake_gmail: FakeGmail,
    authorized_user_file: Path,
) -> None:
    path = make_workbook(small_registry())
    fake_gmail.fail_next("drafts.create", 400)  # one person's create refused
    result = gmail_draft(
        run_gt, path, "2020-01-02", authorized_user_file, "R-AI-1", "--gmail", debug=False
    )
    assert result.exit_code == 3
    assert "2 brouillon(s) écrit(s) et enregistré(s)" in result.stderr
    assert "1 non écrit(s)" in result.stderr and "relancez" in result.stderr
    assert len(brouillons(path, config)) == 2
    again = gmail_draft(run_gt, path, "2020-01-02", authorized_user_file, "R-AI-1", "--gmail")
    assert again.exit_code == 0, again.output
    assert len(fake_gmail.drafts()) == 3 and len(brouillons(path, config)) == 3


def test_dry_run_contacts_nothing(
    run_gt: Run,
    make_workbook: Callable[..., Path],
    fake_gmail: FakeGmail,
    authorized_user_file: Path,
) -> None:
    path = make_workbook(small_registry())
    result = gmail_draft(
        run_gt, path, "2020-01-02", authorized_user_file, "R-AI-1", "--gmail", "--dry-run"
    )
    assert result.exit_code == 0, result.output
    assert fake_gmail.requests == [] and fake_gmail.drafts() == []
    assert "anne@alpha.org" in result.stdout


def test_a_service_account_needs_gmail_user(
    run_gt: Run,
    make_workbook: Callable[..., Path],
    fake_gmail: FakeGmail,
    service_account_file: Path,
) -> None:
    path = make_workbook(small_registry())
    result = gmail_draft(
        run_gt, path, "2020-01-02", service_account_file, "R-AI-1", "--gmail", debug=False
    )
    assert result.exit_code == 3 and "--gmail-user ADRESSE" in result.stderr
    assert fake_gmail.drafts() == []
    delegated = gmail_draft(
        run_gt, path, "2020-01-02", service_account_file, "R-AI-1", "--gmail-user", USER
    )
    assert delegated.exit_code == 0, delegated.output
    assert len(fake_gmail.drafts()) == 3


def test_draft_emails_into_gmail(
    run_gt: Run, demo_xlsx: Path, tmp_path: Path, fake_gmail: FakeGmail, authorized_user_file: Path
) -> None:
    out = tmp_path / "eml"
    eml = run_gt(
        "--sheet", demo_xlsx, "--as-of", AS_OF, "draft-emails", "membre-actif", "--out", out
    )
    assert eml.exit_code == 0, eml.output
    args = ("--sheet", demo_xlsx, "--as-of", AS_OF, "--credentials", authorized_user_file)
    result = run_gt(*args, "draft-emails", "membre-actif", "--gmail")
    assert result.exit_code == 0, result.output
    expected = {recipient(parse(p.read_bytes())) for p in out.glob("*.eml")}
    assert set(messages(fake_gmail)) == expected and len(fake_gmail.drafts()) == len(expected)
    again = run_gt(*args, "draft-emails", "membre-actif", "--gmail")
    assert again.exit_code == 0 and len(fake_gmail.drafts()) == len(expected)


def test_only_new_is_refused_with_gmail(
    run_gt: Run, make_workbook: Callable[..., Path], authorized_user_file: Path
) -> None:
    path = make_workbook(small_registry())
    result = gmail_draft(
        run_gt,
        path,
        "2020-01-02",
        authorized_user_file,
        "R-AI-1",
        "--gmail",
        "--only-new",
        debug=False,
    )
    assert result.exit_code == 2 and "--only-new" in result.stderr


def test_the_whole_path_on_google_sheets_with_one_login(
    run_gt: Run, fake_sheets: object, fake_gmail: FakeGmail, authorized_user_file: Path
) -> None:
    """One authorized_user login for the Sheets registry and the Gmail drafts: the Brouillons
    tab is created by the run's single write; a re-run reads once and writes nothing."""
    from fake_sheets import FakeSheets

    assert isinstance(fake_sheets, FakeSheets)
    key = "1GtRegistryGmailSheet0123456789abcdefABCDEF"
    url = f"https://docs.google.com/spreadsheets/d/{key}/edit"
    owned = {"Éligibilité": [["ID"]], "Bilan organisations": [["ID"]], "Journal": [["Date"]]}
    fake_sheets.add_spreadsheet(key, {**small_registry(), **owned})  # as after gt init
    args = ("--sheet", url, "--as-of", "2020-01-02", "--credentials", authorized_user_file)
    first = run_gt(*args, "draft-invitations", "R-AI-1", "--gmail")
    assert first.exit_code == 0, first.output
    assert len(fake_gmail.drafts()) == 3
    rows = fake_sheets.tab(key, "Brouillons")
    assert rows[0] == list(gmail_plan.HEADERS) and len(rows) == 4
    assert {row[3] for row in rows[1:]} == {d.id for d in fake_gmail.drafts()}
    assert any("R-AI-1" in str(row) for row in fake_sheets.tab(key, "Journal"))
    before = fake_sheets.kinds()
    again = run_gt(*args, "draft-invitations", "R-AI-1", "--gmail")
    assert again.exit_code == 0, again.output
    assert fake_sheets.kinds()[len(before) :] == ["values.batchGet"]  # read once, no write
    assert len(fake_gmail.drafts()) == 3


def test_gmail_user_must_be_an_address(
    run_gt: Run, make_workbook: Callable[..., Path], service_account_file: Path
) -> None:
    path = make_workbook(small_registry())
    result = gmail_draft(
        run_gt, path, "2020-01-02", service_account_file, "R-AI-1", "--gmail-user", "camille"
    )
    assert result.exit_code == 2 and "adresse e-mail invalide « camille »" in result.stderr


# -- a run stopped midway, two runs at once ----------------------------------------------------


def test_a_login_refused_midway_records_the_drafts_written(
    run_gt: Run,
    make_workbook: Callable[..., Path],
    config: Config,
    fake_gmail: FakeGmail,
    authorized_user_file: Path,
) -> None:
    """An access token refused during the pool, and the token refresh that follows refused
    too (authorisation revoked meanwhile): the drafts already created are recorded, the
    message says what was done, and a re-run after `gt login` creates only the missing one."""
    path = make_workbook(small_registry())
    fake_gmail.fail_next("drafts.create", 401)

    def revoke(fake: FakeGmail) -> None:
        for grant in fake.grants.values():
            grant.revoked = True

    fake_gmail.on_request("profile", revoke)
    result = gmail_draft(
        run_gt, path, "2020-01-02", authorized_user_file, "R-AI-1", "--gmail", debug=False
    )
    assert result.exit_code == 3, result.output
    assert len(fake_gmail.drafts()) == 2
    assert "2 brouillon(s) écrit(s) et enregistré(s)" in result.stderr
    assert "autorisation révoquée ou expirée" in result.stderr  # why the third was not
    assert {r.draft_id for r in brouillons(path, config)} == {d.id for d in fake_gmail.drafts()}
    for grant in fake_gmail.grants.values():
        grant.revoked = False
    again = gmail_draft(run_gt, path, "2020-01-02", authorized_user_file, "R-AI-1", "--gmail")
    assert again.exit_code == 0, again.output
    assert len(fake_gmail.drafts()) == 3 and len(messages(fake_gmail)) == 3


def test_ctrl_c_midway_records_the_drafts_written_and_says_so(
    run_gt: Run,
    make_workbook: Callable[..., Path],
    config: Config,
    fake_gmail: FakeGmail,
    authorized_user_file: Path,
) -> None:
    """Ctrl-C while a create's answer is on its way: the drafts created are recorded in the
    registry's one write, the one whose answer never came is named, and nothing claims that
    nothing was written."""

    def interrupt(_fake: FakeGmail) -> None:
        raise KeyboardInterrupt

    path = make_workbook(small_registry())
    fake_gmail.on_request("drafts.create", interrupt, after=2)
    result = gmail_draft(
        run_gt, path, "2020-01-02", authorized_user_file, "R-AI-1", "--gmail", debug=False
    )
    assert result.exit_code == 3, result.output
    assert "rien n'a été écrit" not in result.stderr
    assert "passage interrompu (arrêté à la demande (Ctrl-C))" in result.stderr
    assert "1 peut-être créé(s) sans réponse de Gmail" in result.stderr
    recorded = {r.draft_id for r in brouillons(path, config)}
    # the first create recorded; the second (its answer cut by Ctrl-C) named; the third
    # recorded if it was under way, else not started
    assert recorded < {d.id for d in fake_gmail.drafts()}
    assert len(fake_gmail.drafts()) == len(recorded) + 1
    assert f"{len(recorded)} brouillon(s) écrit(s) et enregistré(s)" in result.stderr


def test_a_proxy_page_answering_a_create_is_checked_not_doubled(
    run_gt: Run,
    make_workbook: Callable[..., Path],
    config: Config,
    fake_gmail: FakeGmail,
    authorized_user_file: Path,
) -> None:
    """A create applied, then answered 200 with an HTML page (a proxy): not JSON, so whether
    the draft exists is unknown; the run checks, finds it, and records it once."""
    path = make_workbook(small_registry())
    fake_gmail.garble_next("drafts.create")
    result = gmail_draft(run_gt, path, "2020-01-02", authorized_user_file, "R-AI-1", "--gmail")
    assert result.exit_code == 0, result.output
    assert len(fake_gmail.drafts()) == 3 and len(messages(fake_gmail)) == 3
    assert {r.draft_id for r in brouillons(path, config)} == {d.id for d in fake_gmail.drafts()}


def test_a_dropped_token_request_is_retried_like_any_dropped_connection(
    run_gt: Run,
    make_workbook: Callable[..., Path],
    fake_gmail: FakeGmail,
    authorized_user_file: Path,
) -> None:
    """google-auth's TransportError (the token request cut) is a dropped connection for
    Gmail as for Sheets (`retry.DROPPED`): retried, not fatal."""
    path = make_workbook(small_registry())
    fake_gmail.drop_next("token", applied=False)
    result = gmail_draft(run_gt, path, "2020-01-02", authorized_user_file, "R-AI-1", "--gmail")
    assert result.exit_code == 0, result.output
    assert len(fake_gmail.drafts()) == 3


def test_two_gmail_runs_at_once_on_sheets_keep_both_runs_records(
    run_gt: Run, fake_sheets: object, fake_gmail: FakeGmail, authorized_user_file: Path
) -> None:
    """read A, then B from start to end (drafts and records for its meeting), then A's
    write: Brouillons rows are appended, so B's stay, and a re-run of B creates nothing."""
    from fake_sheets import FakeSheets

    assert isinstance(fake_sheets, FakeSheets)
    key = "1GtRegistryGmailConcurrent0123456789abcdefAB"
    owned = {
        "Éligibilité": [["ID"]],
        "Bilan organisations": [["ID"]],
        "Journal": [["Date"]],
        "Brouillons": [list(gmail_plan.HEADERS)],
    }
    fake_sheets.add_spreadsheet(key, {**small_registry(), **owned})
    args = ("--sheet", key, "--as-of", "2020-01-02", "--credentials", authorized_user_file)
    other: list[Result] = []
    fake_sheets.on_request(
        "values.batchGet",
        lambda _fake: other.append(run_gt(*args, "draft-invitations", "R-FI-1", "--gmail")),
        after=1,
    )
    first = run_gt(*args, "draft-invitations", "R-AI-1", "--gmail")
    assert first.exit_code == 0, first.output
    assert other[0].exit_code == 0, other[0].output
    rows = fake_sheets.tab(key, "Brouillons")
    assert {row[0] for row in rows[1:]} == {"R-AI-1", "R-FI-1"}
    assert {row[3] for row in rows[1:]} == {d.id for d in fake_gmail.drafts()}
    drafts = len(fake_gmail.drafts())
    again = run_gt(*args, "draft-invitations", "R-FI-1", "--gmail")
    assert again.exit_code == 0, again.output
    assert len(fake_gmail.drafts()) == drafts  # nothing created twice
    journal = fake_sheets.tab(key, "Journal")
    assert sum("R-AI-1" in str(row) for row in journal) == 1
    assert sum("R-FI-1" in str(row) for row in journal) == 1


def saved_by_staff(path: Path) -> Callable[[FakeGmail], None]:
    """A hook: the workbook saved by someone else meanwhile (its write is then refused)."""

    def save(_fake: FakeGmail) -> None:
        stamp = path.stat().st_mtime_ns + 10**9
        os.utime(path, ns=(stamp, stamp))

    return save


def test_drafts_whose_registry_write_failed_are_recorded_by_the_next_run_not_doubled(
    run_gt: Run,
    make_workbook: Callable[..., Path],
    config: Config,
    fake_gmail: FakeGmail,
    authorized_user_file: Path,
    tmp_path: Path,
) -> None:
    """The workbook saved by someone else while the drafts were being created: the run's
    registry write is refused (exit 3), the drafts are in Gmail with no row in Brouillons.
    They were noted on this computer; the next run records them and creates nothing."""
    path = make_workbook(small_registry())

    fake_gmail.on_request("drafts.create", saved_by_staff(path))
    before = path.read_bytes()
    result = gmail_draft(
        run_gt, path, "2020-01-02", authorized_user_file, "R-AI-1", "--gmail", debug=False
    )
    assert result.exit_code == 3, result.output
    assert "brouillons écrits dans Gmail" in result.stderr
    assert "notés sur cet ordinateur" in result.stderr
    assert "sans créer de doublon" in result.stderr
    assert path.read_bytes() == before and brouillons(path, config) == []
    created = {d.id for d in fake_gmail.drafts()}
    assert len(created) == 3
    (noted,) = (tmp_path / "state" / "gt-registry" / "brouillons-gmail").glob("*.jsonl")
    assert noted.stat().st_mode & 0o077 == 0
    dry = gmail_draft(
        run_gt, path, "2020-01-02", authorized_user_file, "R-AI-1", "--gmail", "--dry-run"
    )
    assert dry.exit_code == 0, dry.output
    assert (
        "3 brouillon(s) d'un passage précédent, noté(s) sur cet ordinateur : le passage sans --dry-run les inscrira"
        in dry.output
    )
    assert fake_gmail.count("drafts.create") == 3 and path.read_bytes() == before

    again = gmail_draft(run_gt, path, "2020-01-02", authorized_user_file, "R-AI-1", "--gmail")
    assert again.exit_code == 0, again.output
    assert fake_gmail.count("drafts.create") == 3  # none created again
    assert {d.id for d in fake_gmail.drafts()} == created
    assert {r.draft_id for r in brouillons(path, config)} == created
    assert not noted.exists()
    assert "3 brouillon(s) d'un passage précédent, noté(s) sur cet ordinateur" in again.output
    journal = WorkbookBackend(path, config).read().tabs["Journal"]
    assert (
        "3 brouillon(s) Gmail d'un passage précédent, enregistré(s) dans l'onglet Brouillons"
        in str(journal[-1])
    )
    assert "personnes=P-1,P-2,P-6" in str(journal[-1])  # a later update says what changed for them

    third = gmail_draft(run_gt, path, "2020-01-02", authorized_user_file, "R-AI-1", "--gmail")
    assert third.exit_code == 0 and len(brouillons(path, config)) == 3  # nothing written


def test_notes_the_registry_already_holds_are_forgotten_by_a_run_that_writes_nothing(
    run_gt: Run,
    make_workbook: Callable[..., Path],
    config: Config,
    fake_gmail: FakeGmail,
    authorized_user_file: Path,
) -> None:
    """Notes left behind by a run whose registry write went through (its clean-up failed):
    the next run with nothing to do adds nothing to Brouillons and empties the notes."""
    from gt_registry import gmail_pending

    path = make_workbook(small_registry())
    first = gmail_draft(run_gt, path, "2020-01-02", authorized_user_file, "R-AI-1", "--gmail")
    assert first.exit_code == 0, first.output
    noted = gmail_pending.path_for(os.path.realpath(path))
    assert not noted.exists()
    gmail_pending.note(noted, brouillons(path, config))  # as if never forgotten
    before = path.read_bytes()
    again = gmail_draft(run_gt, path, "2020-01-02", authorized_user_file, "R-AI-1", "--gmail")
    assert again.exit_code == 0, again.output
    assert path.read_bytes() == before  # nothing written
    assert not noted.exists()


def test_drafts_that_could_not_be_noted_either_are_named_for_staff_to_check(
    run_gt: Run,
    make_workbook: Callable[..., Path],
    fake_gmail: FakeGmail,
    authorized_user_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The state folder cannot be written (here: inside /proc) and the registry write is
    refused: nothing promises a recovery; the message names the people to check in Gmail."""
    if not Path("/proc/self").is_dir():
        pytest.skip("needs Linux's /proc for a folder nobody can write in")
    monkeypatch.setenv("XDG_STATE_HOME", "/proc/self")
    path = make_workbook(small_registry())

    fake_gmail.on_request("drafts.create", saved_by_staff(path))
    result = gmail_draft(
        run_gt, path, "2020-01-02", authorized_user_file, "R-AI-1", "--gmail", debug=False
    )
    assert result.exit_code == 3, result.output
    assert "notés sur cet ordinateur (" not in result.stderr
    assert "n'ont pas pu être notés sur cet ordinateur non plus" in result.stderr
    assert "supprimez dans Gmail → Brouillons ceux de ce passage (P-1, P-2, P-6)" in result.stderr
    assert "rien n'a été écrit dans le registre" in result.stderr


def test_an_unreadable_note_file_stops_before_gmail_is_contacted(
    run_gt: Run,
    make_workbook: Callable[..., Path],
    fake_gmail: FakeGmail,
    authorized_user_file: Path,
    tmp_path: Path,
) -> None:
    from gt_registry import gmail_pending

    path = make_workbook(small_registry())
    noted = gmail_pending.path_for(os.path.realpath(path))
    assert noted.is_relative_to(tmp_path / "state")
    noted.mkdir(parents=True)  # a folder where the file should be
    result = gmail_draft(
        run_gt, path, "2020-01-02", authorized_user_file, "R-AI-1", "--gmail", debug=False
    )
    assert result.exit_code == 3, result.output
    assert (
        f"{noted} : impossible de lire les brouillons Gmail notés sur cet ordinateur"
        in result.stderr
    )
    assert "déplacez ce fichier ailleurs et relancez" in result.stderr
    assert "Erreur inattendue" not in result.stderr
    assert fake_gmail.count() == 0


def test_ctrl_c_during_the_registry_write_says_the_drafts_are_in_gmail_and_noted(
    run_gt: Run, fake_sheets: object, fake_gmail: FakeGmail, authorized_user_file: Path
) -> None:
    """On Google Sheets, Ctrl-C while the run's one write is on its way, after the drafts
    were created: not « rien n'a été écrit »; the next run records them, creates none."""
    from fake_sheets import FakeSheets

    assert isinstance(fake_sheets, FakeSheets)
    key = "1GtRegistryGmailSheet0123456789abcdefABCDEF"
    url = f"https://docs.google.com/spreadsheets/d/{key}/edit"
    owned = {"Éligibilité": [["ID"]], "Bilan organisations": [["ID"]], "Journal": [["Date"]]}
    fake_sheets.add_spreadsheet(key, {**small_registry(), **owned})

    def interrupt(_fake: FakeSheets) -> None:
        raise KeyboardInterrupt

    fake_sheets.on_request("batchUpdate", interrupt, after=0)
    args = ("--sheet", url, "--as-of", "2020-01-02", "--credentials", authorized_user_file)
    first = run_gt(*args, "draft-invitations", "R-AI-1", "--gmail", debug=False)
    assert first.exit_code == 3, first.output
    assert "Interrompu : rien n'a été écrit" not in first.stderr
    assert "interrompu (Ctrl-C) pendant l'écriture du registre" in first.stderr
    assert "notés sur cet ordinateur" in first.stderr
    assert "Brouillons" not in fake_sheets.tab_names(key)
    created = {d.id for d in fake_gmail.drafts()}
    again = run_gt(*args, "draft-invitations", "R-AI-1", "--gmail")
    assert again.exit_code == 0, again.output
    assert {d.id for d in fake_gmail.drafts()} == created and len(created) == 3
    assert {row[3] for row in fake_sheets.tab(key, "Brouillons")[1:]} == created
