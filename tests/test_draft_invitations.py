"""`gt draft-invitations`: recipients per meeting type, drafts parsed back, calendar, Journal."""

from __future__ import annotations

import datetime as dt
import mailbox
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import icalendar
import openpyxl
import pytest
from click.testing import Result
from conftest import DEMO_TODAY, small_registry
from gt_registry.backends.xlsx import WorkbookBackend
from gt_registry.config import Config
from gt_registry.loader import load_registry
from gt_registry.mail import EXPECTED_HEADERS, parse
from gt_registry.model import Registry

AS_OF = DEMO_TODAY.isoformat()
Run = Callable[..., Result]


def draft(run_gt: Run, sheet: Path, as_of: str, *args: object) -> Result:
    """`gt --sheet SHEET --as-of AS_OF draft-invitations ARGS...`."""
    return run_gt("--sheet", sheet, "--as-of", as_of, "draft-invitations", *args)


def drafts_in(folder: Path) -> dict[str, EmailMessage]:
    return {p.name: parse(p.read_bytes()) for p in sorted(folder.glob("*.eml"))}


def recipient(message: EmailMessage) -> str:
    assert len(message.get_all("To")) == 1
    (address,) = message["To"].addresses
    return address.addr_spec


def calendar_of(message: EmailMessage) -> icalendar.Calendar:
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return icalendar.Calendar.from_ical(part.get_payload(decode=True))


def load(path: Path, config: Config, today: dt.date = DEMO_TODAY) -> Registry:
    return load_registry(WorkbookBackend(path, config).read(), config, today).registry


def expected_audience(registry: Registry, meeting_id: str) -> set[str]:
    """The contract, written independently of the code under test."""
    meeting = registry.meetings[meeting_id]
    expected = set()
    for person in registry.people.values():
        org = registry.organisations.get(person.organisation_id)
        if meeting.type in ("Réunion", "Petit-déjeuner"):
            wanted = meeting.group in person.groups
        elif meeting.type == "Lancement":
            wanted = bool(person.groups)
        else:
            wanted = bool(person.groups) or bool(org and (org.partner or org.forum_coorganiser))
        if wanted and not person.opted_out and person.email_valid:
            expected.add(person.email)
    return expected


@pytest.mark.parametrize(
    "meeting_id",
    ["R-2020-AI-4", "R-2020-SOIREE", "R-2019-LANC", "R-2020-PDMI-3", "R-2020-FI-2"],
    ids=["reunion", "soiree", "lancement", "petit-dejeuner", "reunion-fi"],
)
def test_demo_recipients_follow_the_contract(
    run_gt: Run, demo_xlsx: Path, config: Config, tmp_path: Path, meeting_id: str
) -> None:
    out = tmp_path / "out"
    result = draft(
        run_gt,
        demo_xlsx,
        AS_OF,
        meeting_id,
        "--out",
        out,
        "--force",
    )
    assert result.exit_code == 0, result.output
    registry = load(demo_xlsx, config)
    drafts = drafts_in(out)
    addresses = [recipient(m) for m in drafts.values()]
    assert len(addresses) == len(set(addresses))
    assert set(addresses) == expected_audience(registry, meeting_id)
    opted_out = {p.email.casefold() for p in registry.people.values() if p.opted_out}
    for path in out.iterdir():
        text = path.read_bytes().decode("ascii").casefold()
        assert not any(address in text for address in opted_out)
    for message in drafts.values():
        assert set(message.keys()) <= set(EXPECTED_HEADERS)
        assert message["X-Unsent"] == "1"
        assert message.get_all("Cc") is None
        assert not message.defects


def test_demo_drafts_carry_a_calendar_and_the_referent(
    run_gt: Run, demo_xlsx: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ai4"
    result = draft(run_gt, demo_xlsx, AS_OF, "R-2020-AI-4", "--out", out)
    assert result.exit_code == 0, result.output
    drafts = drafts_in(out)
    assert drafts
    for name, message in drafts.items():
        assert name.startswith("P-") and name.endswith(".eml")
        assert message["From"].addresses[0].addr_spec == "camille.laurent@convergences.example.org"
        assert message["Reply-To"].addresses[0].display_name == "Camille Laurent"
        calendar = calendar_of(message)
        assert calendar["METHOD"] == "PUBLISH"
        (event,) = calendar.walk("VEVENT")
        assert event["UID"] == "r-2020-ai-4.gt-registry@convergences.example.org"
        assert event["SEQUENCE"] == 0
        start = event.decoded("DTSTART")
        assert start == dt.datetime(2020, 9, 8, 9, 30, tzinfo=start.tzinfo)
        assert start.utcoffset() == dt.timedelta(hours=2)
        assert event["DTSTART"].params["TZID"] == "Europe/Paris"
        assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
        assert str(event["URL"]) == "https://meet.example.org/gt-ai"
        body = message.get_body(("plain",)).get_content()
        assert "https://meet.example.org/gt-ai" in body
    assert "Étape suivante" in result.stderr


def test_small_registry_soiree_french_and_english(
    run_gt: Run, small_xlsx: Path, tmp_path: Path
) -> None:
    out = tmp_path / "s"
    result = draft(run_gt, small_xlsx, "2020-06-15", "R-S", "--out", out)
    assert result.exit_code == 0, result.output
    drafts = {recipient(m): m for m in drafts_in(out).values()}
    # members of any group, plus Emma (Banque Beta co-organises the Forum); David opted out
    assert set(drafts) == {
        "anne@alpha.org",
        "bruno@beta.com",
        "chloe@gamma.ma",
        "emma@beta.com",
        "farid@gamma.ma",
    }
    french = drafts["anne@alpha.org"].get_body(("plain",)).get_content()
    assert "jeudi 25 juin 2020, de 18 h 30 à 21 h." in french
    assert drafts["anne@alpha.org"]["To"].addresses[0].display_name == "Anne Aubert"
    english = drafts["bruno@beta.com"]
    assert (
        "Thursday 25 June 2020, from 18:30 to 21:00" in english.get_body(("plain",)).get_content()
    )
    assert english["Subject"].startswith("Convergences — World Forum programme launch evening")
    # no référent e-mail for the evening: the configured sender
    assert english["From"].addresses[0].addr_spec == "gt@convergences.example.org"


def test_french_date_text_is_exact(run_gt: Run, small_xlsx: Path, tmp_path: Path) -> None:
    out = tmp_path / "ai"
    result = draft(run_gt, small_xlsx, "2020-01-02", "R-AI-1", "--out", out)
    assert result.exit_code == 0, result.output
    drafts = {recipient(m): m for m in drafts_in(out).values()}
    assert set(drafts) == {"anne@alpha.org", "bruno@beta.com", "farid@gamma.ma"}
    anne = drafts["anne@alpha.org"]
    assert (
        "le mardi 14 janvier 2020, de 9 h 30 à 11 h 30." in anne.get_body(("plain",)).get_content()
    )
    assert anne["Subject"] == "GT Action internationale — réunion du mardi 14 janvier 2020"
    html = anne.get_body(("html",)).get_content()
    assert "<strong>mardi 14 janvier 2020, de 9 h 30 à 11 h 30</strong>" in html


def test_dry_run_writes_nothing(run_gt: Run, demo_xlsx: Path, tmp_path: Path) -> None:
    before = demo_xlsx.read_bytes()
    out = tmp_path / "dry"
    result = draft(
        run_gt,
        demo_xlsx,
        AS_OF,
        "R-2020-AI-4",
        "--out",
        out,
        "--dry-run",
        "--mbox",
        tmp_path / "x.mbox",
    )
    assert result.exit_code == 0, result.output
    assert not out.exists() and not (tmp_path / "x.mbox").exists()
    assert demo_xlsx.read_bytes() == before
    assert "42 brouillons seraient rédigés" in result.stderr
    assert result.stdout.count(".eml\t") > 10


def test_mbox_holds_the_same_messages(run_gt: Run, demo_xlsx: Path, tmp_path: Path) -> None:
    out, box = tmp_path / "d", tmp_path / "invitations.mbox"
    result = draft(
        run_gt,
        demo_xlsx,
        AS_OF,
        "R-2020-AI-4",
        "--out",
        out,
        "--mbox",
        box,
    )
    assert result.exit_code == 0, result.output
    folder = mailbox.mbox(box, factory=None, create=False)
    try:
        messages = [parse(folder.get_bytes(key)) for key in folder.iterkeys()]
    finally:
        folder.close()
    assert len(messages) == len(list(out.glob("*.eml")))
    assert sorted(recipient(m) for m in messages) == sorted(
        recipient(m) for m in drafts_in(out).values()
    )
    assert all(calendar_of(m)["METHOD"] == "PUBLISH" for m in messages)


def test_existing_folder_needs_force(run_gt: Run, demo_xlsx: Path, tmp_path: Path) -> None:
    out = tmp_path / "d"
    assert draft(run_gt, demo_xlsx, AS_OF, "R-2020-AI-4", "--out", out).exit_code == 0
    (out / "note.txt").write_text("mine")
    again = draft(run_gt, demo_xlsx, AS_OF, "R-2020-AI-4", "--out", out)
    assert again.exit_code == 3
    assert "existe déjà" in again.stderr and "--force" in again.stderr
    assert (out / "note.txt").exists()
    forced = draft(
        run_gt,
        demo_xlsx,
        AS_OF,
        "R-2020-AI-4",
        "--out",
        out,
        "--force",
    )
    assert forced.exit_code == 0, forced.output
    assert (out / "note.txt").read_text() == "mine"  # not the tool's: kept, and said so
    assert "note.txt" in forced.stderr and "restent en place" in forced.stderr


def add_member(path: Path, row: list[object]) -> None:
    book = openpyxl.load_workbook(path)
    book["Personnes"].append(row)
    book.save(path)


def test_only_new_drafts_exactly_the_new_member(
    run_gt: Run, small_xlsx: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ai"
    first = draft(run_gt, small_xlsx, "2020-01-02", "R-AI-1", "--out", out)
    assert first.exit_code == 0, first.output
    assert len(list(out.glob("*.eml"))) == 3
    journal = openpyxl.load_workbook(small_xlsx)["Journal"]
    rows = list(journal.iter_rows(values_only=True))
    assert rows[0][:6] == ("Date", "Commande", "Par", "Changements", "Problèmes", "Détail")
    assert "reunion=R-AI-1" in rows[1][5] and "personnes=P-1..P-2" not in rows[1][5]
    add_member(
        small_xlsx, ["P-7", "Gaëlle", "Gomez", "gaelle@alpha.org", "ORG-1", "AI", "fr", "", "", ""]
    )
    again = draft(
        run_gt,
        small_xlsx,
        "2020-01-02",
        "R-AI-1",
        "--out",
        out,
        "--only-new",
    )
    assert again.exit_code == 0, again.output
    names = sorted(p.name for p in out.glob("*.eml"))
    assert len(names) == 4 and "P-7-gomez-gaelle.eml" in names
    assert "1 brouillon rédigé" in again.stderr and "3 déjà invités" in again.stderr
    third = draft(
        run_gt,
        small_xlsx,
        "2020-01-02",
        "R-AI-1",
        "--out",
        out,
        "--only-new",
    )
    assert third.exit_code == 0
    assert "0 brouillon rédigé" in third.stderr and len(list(out.glob("*.eml"))) == 4


def test_sequence_goes_up_when_the_meeting_moves(
    run_gt: Run, make_workbook: Callable[..., Path], tmp_path: Path
) -> None:
    tabs = small_registry()
    path = make_workbook(tabs)
    first = draft(
        run_gt,
        path,
        "2020-01-02",
        "R-AI-1",
        "--out",
        tmp_path / "a",
    )
    assert first.exit_code == 0, first.output
    book = openpyxl.load_workbook(path)
    book["Réunions"]["E3"] = "10h"  # R-AI-1 now starts at 10:00
    book.save(path)
    second = draft(
        run_gt,
        path,
        "2020-01-02",
        "R-AI-1",
        "--out",
        tmp_path / "b",
    )
    assert second.exit_code == 0, second.output
    assert "La réunion a changé (date, heure ou lieu) depuis la dernière rédaction" in second.stderr
    (before,) = calendar_of(next(iter(drafts_in(tmp_path / "a").values()))).walk("VEVENT")
    (after,) = calendar_of(next(iter(drafts_in(tmp_path / "b").values()))).walk("VEVENT")
    assert before["UID"] == after["UID"]
    assert (before["SEQUENCE"], after["SEQUENCE"]) == (0, 1)
    assert after.decoded("DTSTART").hour == 10


def test_unknown_meeting_suggests_the_closest(run_gt: Run, demo_xlsx: Path, tmp_path: Path) -> None:
    result = draft(
        run_gt,
        demo_xlsx,
        AS_OF,
        "R-2020-AI-5",
        "--out",
        tmp_path / "x",
    )
    assert result.exit_code == 1
    assert "réunion inconnue « R-2020-AI-5 »" in result.stderr
    assert "vouliez-vous dire R-2020-AI-" in result.stderr
    assert not (tmp_path / "x").exists()


def test_past_meeting_refused_unless_force(run_gt: Run, demo_xlsx: Path, tmp_path: Path) -> None:
    result = draft(
        run_gt,
        demo_xlsx,
        AS_OF,
        "R-2020-AI-1",
        "--out",
        tmp_path / "x",
    )
    assert result.exit_code == 1
    assert "a eu lieu le 14/01/2020" in result.stderr and "--force" in result.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("day", "start", "message"),
    [("29/03/2020", "2h30", "n'existe pas"), ("25/10/2020", "2h30", "existe deux fois")],
    ids=["spring-gap", "autumn-repeat"],
)
def test_daylight_saving_times_are_errors(
    run_gt: Run,
    make_workbook: Callable[..., Path],
    tmp_path: Path,
    day: str,
    start: str,
    message: str,
) -> None:
    tabs = small_registry()
    tabs["Réunions"].append(["R-DST", "Réunion", "AI", day, start, "4h", "", "", "", ""])
    path = make_workbook(tabs)
    result = draft(
        run_gt,
        path,
        "2020-01-02",
        "R-DST",
        "--out",
        tmp_path / "x",
    )
    assert result.exit_code == 3
    assert message in result.stderr and "Réunions!E8" in result.stderr
    assert not (tmp_path / "x").exists()


def test_invalid_or_hostile_values_are_listed_never_a_second_recipient(
    run_gt: Run, make_workbook: Callable[..., Path], tmp_path: Path
) -> None:
    tabs = small_registry()
    tabs["Personnes"] += [
        ["P-8", "Hugo", "Hack", "a@b.fr; c@d.fr", "ORG-1", "AI", "", "", "", ""],
        ["P-9", "@SUM(1+1)", "<b>Bold</b>", "ok@alpha.org", "ORG-1", "AI", "", "", "", ""],
        ["P-10", "Line\nBreak", "Bcc: evil@x.org", "lb@alpha.org", "ORG-1", "AI", "", "", "", ""],
    ]
    path = make_workbook(tabs)
    out = tmp_path / "x"
    result = draft(run_gt, path, "2020-01-02", "R-AI-1", "--out", out)
    assert result.exit_code == 1  # done, with a data problem listed
    assert "Personnes!D8" in result.stderr and "Hugo Hack (P-8)" in result.stderr
    drafts = drafts_in(out)
    assert {recipient(m) for m in drafts.values()} == {
        "anne@alpha.org",
        "bruno@beta.com",
        "farid@gamma.ma",
        "ok@alpha.org",
        "lb@alpha.org",
    }
    for message in drafts.values():
        assert set(message.keys()) <= set(EXPECTED_HEADERS)
        assert message.get_all("Bcc") is None
    hostile = next(m for m in drafts.values() if recipient(m) == "ok@alpha.org")
    assert hostile["To"].addresses[0].display_name == "@SUM(1+1) <b>Bold</b>"
    assert "<p>Bonjour @SUM(1+1),</p>" in hostile.get_body(("html",)).get_content()
    assert "&lt;b&gt;" not in hostile.get_body(("html",)).get_content()  # the last name is not used
    assert "Bonjour @SUM(1+1)," in hostile.get_body(("plain",)).get_content()


def write_template(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "tpl" / "emails"
    folder.mkdir(parents=True)
    (folder / "reunion.fr.eml.j2").write_text(body, encoding="utf-8")
    (tmp_path / "tpl" / "secret.txt").write_text("secret", encoding="utf-8")
    config = tmp_path / "gt.toml"
    config.write_text(f'[paths]\ntemplates = "{(tmp_path / "tpl").as_posix()}"\n', encoding="utf-8")
    return config


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Subject: x\n\n{{ ''.__class__.__mro__ }}\n", "accès interdit"),
        ("Subject: x\n\n{{ person.__class__ }}\n", "accès interdit"),
        ("Subject: x\n\n{% include '../secret.txt' %}\n", "reunion.fr.eml.j2"),
        ("Subject: x\n\nBonjour {{ person.prenom }}\n", "has no attribute 'prenom'"),
        ("Subject: x\n\n{% if %}\n", "erreur de syntaxe"),
        ("Bonjour\n", "Subject:"),
    ],
    ids=["mro", "dunder", "include-parent", "undefined", "syntax", "no-subject"],
)
def test_bad_templates_stop_the_run_before_any_write(
    run_gt: Run, small_xlsx: Path, tmp_path: Path, body: str, message: str
) -> None:
    config = write_template(tmp_path, body)
    out = tmp_path / "x"
    before = small_xlsx.read_bytes()
    result = run_gt(
        "--config",
        config,
        "--sheet",
        small_xlsx,
        "--as-of",
        "2020-01-02",
        "draft-invitations",
        "R-AI-1",
        "--out",
        out,
    )
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("Erreur : ")
    assert message in result.stderr
    assert "secret" not in result.stdout
    assert not out.exists()
    assert small_xlsx.read_bytes() == before


def test_undefined_variable_names_file_line_and_person(
    run_gt: Run, small_xlsx: Path, tmp_path: Path
) -> None:
    config = write_template(tmp_path, "Subject: x\n\nBonjour {{ person.prenom }}\n")
    result = run_gt(
        "--config",
        config,
        "--sheet",
        small_xlsx,
        "--as-of",
        "2020-01-02",
        "draft-invitations",
        "R-AI-1",
        "--out",
        tmp_path / "x",
    )
    assert "reunion.fr.eml.j2, ligne 3 :" in result.stderr
    assert "pour Anne Aubert (P-1)" in result.stderr


def test_standalone_entry_point_exists() -> None:
    from gt_registry.commands import draft_invitations

    assert callable(draft_invitations.main)
    assert draft_invitations.draft_invitations.help


def test_skipped_people_are_written_in_the_journal_problems_column(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path], tmp_path: Path
) -> None:
    from conftest import small_registry

    tabs = small_registry()
    tabs["Personnes"][2][3] = "bruno@beta.com; x@y.fr"
    sheet = make_workbook(tabs)
    result = draft(
        run_gt,
        sheet,
        "2020-01-01",
        "R-AI-1",
        "--out",
        tmp_path / "d",
    )
    assert result.exit_code == 1
    journal = list(openpyxl.load_workbook(sheet)["Journal"].iter_rows(values_only=True))
    assert "Personnes!D3" in journal[-1][4] and "P-2" in journal[-1][4]


def test_only_new_refuses_when_the_meeting_changed_since_the_last_drafting(
    run_gt: Run, small_xlsx: Path, tmp_path: Path
) -> None:
    """Those already invited must get the update: --only-new would leave them a stale event."""
    out = tmp_path / "ai"
    args = ("--sheet", small_xlsx, "--as-of", "2020-01-02", "draft-invitations", "R-AI-1")
    assert run_gt(*args, "--out", out).exit_code == 0
    book = openpyxl.load_workbook(small_xlsx)
    book["Réunions"]["G3"] = "Autre salle"  # Lieu of R-AI-1
    book.save(small_xlsx)
    result = run_gt(*args, "--out", out, "--only-new")
    assert result.exit_code == 1
    assert "la réunion R-AI-1 a changé (date, heure ou lieu)" in result.stderr
    assert "relancez sans --only-new" in result.stderr
    again = run_gt(*args, "--out", out, "--force")
    assert again.exit_code == 0
    assert "La réunion a changé (date, heure ou lieu) depuis la dernière rédaction" in again.stderr


def test_draft_emails_refuses_a_meeting_template(run_gt: Run, small_xlsx: Path) -> None:
    result = run_gt("--sheet", small_xlsx, "draft-emails", "reunion")
    assert result.exit_code == 2
    assert "utilisez « gt draft-invitations ID_DE_LA_REUNION »" in result.stderr


def test_the_first_of_the_month_is_written_as_an_ordinal_in_french() -> None:
    import datetime as dt

    from gt_registry import i18n

    assert (
        i18n.when_text(dt.date(2020, 1, 1), dt.time(9, 30), dt.time(11), "fr")
        == "mercredi 1er janvier 2020, de 9 h 30 à 11 h"
    )
    assert i18n.short_day_text(dt.date(2020, 6, 11), "fr") == "11 juin 2020"
    assert i18n.day_text(dt.date(2020, 1, 1), "en") == "Wednesday 1 January 2020"
