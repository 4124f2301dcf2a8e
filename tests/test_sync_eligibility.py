"""`gt sync-eligibility`: the hand-checked registry, the write-back on both backends, safety.

The Google path runs real gspread against the HTTP-level fake of `fake_sheets.py`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result
from conftest import small_registry
from gt_registry.commands import sync_eligibility as command
from gt_registry.config import Config
from gt_registry.eligibility import Eligibility, Season
from gt_registry.model import Registry
from gt_registry.parsing import text
from gt_registry.sync import comparable, plan_sync

try:
    import fake_sheets as _fake  # noqa: F401

    HAVE_FAKE = True
except ImportError:  # pragma: no cover  (being written)
    HAVE_FAKE = False
google = pytest.mark.skipif(not HAVE_FAKE, reason="tests/fake_sheets.py absent")

Run = Callable[..., Result]
KEY = "1GtRegistreTestKey_abcdefghijklmnopqrstu"
AS_OF = ("--as-of", "2020-06-15")
TABS = ("Éligibilité", "Bilan organisations", "Journal")
HEADERS = [
    "ID", "Prénom", "Nom", "Organisation", "E-mail", "Réunions", "Membre actif",
    "Entrée FMC offerte", "Priorité", "Détail", "Mis à jour le",
]  # fmt: skip
# The hand-checked result, "Mis à jour le" left out.
EXPECTED = [
    HEADERS[:-1],
    ["P-1", "Anne", "Aubert", "Fondation Alpha", "anne@alpha.org", "3", "oui", "oui", "1", "3 réunions : AI 14/01, FI 03/03, Lancement 19/11"],
    ["P-3", "Chloé", "Camus", "Média Gamma", "chloe@gamma.ma", "2", "oui", "oui", "2", "2 réunions : Lancement 19/11, PDMI 05/02"],
    ["P-5", "Emma", "Eboué", "Banque Beta", "emma@beta.com", "0", "oui", "oui", "3", "0 réunion — dérogation : actif (Co-animatrice)"],
    ["P-2", "Bruno", "Bellec", "Banque Beta", "bruno@beta.com", "1", "non", "non", "", "1 réunion : Lancement 19/11"],
    ["P-6", "Farid", "Fath", "Média Gamma", "farid@gamma.ma", "2", "non", "non", "", "2 réunions : AI 14/01, Lancement 19/11 — dérogation : inactif (A quitté l'organisation)"],
]  # fmt: skip
EXPECTED_SUMMARY = [
    ["ID", "Nom", "Type", "Réunions", "Personnes actives"],
    ["ORG-1", "Fondation Alpha", "ONG", "3", "1"],
    ["ORG-3", "Média Gamma", "Média", "3", "1"],
    ["ORG-2", "Banque Beta", "Entreprise", "1", "1"],
]
FIRST_RUN_OUTPUT = """\
Saison 2019-2020 (du 01/11/2019 au 30/06/2020), calcul au 15/06/2020.
5 personnes comptées, 3 membres actifs (dont 1 par dérogation), 3 entrées FMC offertes.
Nouveaux actifs (première synchronisation) : 3 — Anne Aubert (P-1), Chloé Camus (P-3), Emma Eboué (P-5).
Ne sont plus actifs : 0.
Rangs de priorité modifiés : 0.
Par groupe :
  AI — GT Action internationale : 3 membres, 1 actif, 1 réunion comptée
  FI — GT Finance à impact : 2 membres, 2 actifs, 1 réunion comptée
  PDMI — Petits déjeuners de la mesure d'impact : 2 membres, 1 actif, 1 réunion comptée
Écrit : onglets « Éligibilité » et « Bilan organisations » réécrits, une ligne ajoutée au « Journal ».
Prochaine étape : la liste des entrées FMC offertes est dans l'onglet « Éligibilité » ; prochaine synchronisation la semaine prochaine.
"""


def without_date(rows: list[list[Any]]) -> list[list[str]]:
    """A tab as text, the "Mis à jour le" column (the last) left out."""
    return [list(row) for row in comparable(rows, skip=len(HEADERS) - 1)]


def as_text(rows: list[list[Any]]) -> list[list[str]]:
    return [list(row) for row in comparable(rows)]


def sheet(path: Path, name: str) -> list[list[Any]]:
    book = openpyxl.load_workbook(path)
    return (
        [list(row) for row in book[name].iter_rows(values_only=True)]
        if name in book.sheetnames
        else []
    )


def with_rows(**extra: list[list[Any]]) -> dict[str, list[list[Any]]]:
    """The small registry with rows appended to some tabs (`Présences=[...]`)."""
    tabs = small_registry()
    names = {"Presences": "Présences", "Personnes": "Personnes", "Reunions": "Réunions"}
    for key, rows in extra.items():
        tabs[names[key]] += rows
    return tabs


def edit(path: Path, tab: str, change: Callable[[Any], None]) -> None:
    book = openpyxl.load_workbook(path)
    change(book[tab])
    book.save(path)


# -- the hand-checked registry, xlsx ------------------------------------------------------------


def test_first_run_writes_the_hand_checked_flags(run_gt: Run, small_xlsx: Path) -> None:
    result = run_gt("--sheet", small_xlsx, *AS_OF, "sync-eligibility")
    assert result.exit_code == 0, result.output
    assert result.stdout == FIRST_RUN_OUTPUT
    assert result.stderr == ""
    rows = sheet(small_xlsx, "Éligibilité")
    assert without_date(rows) == EXPECTED
    assert {row[-1] for row in rows[1:]} == {"15/06/2020"}
    assert as_text(sheet(small_xlsx, "Bilan organisations")) == EXPECTED_SUMMARY
    journal = sheet(small_xlsx, "Journal")
    assert journal[0] == ["Date", "Commande", "Par", "Changements", "Problèmes", "Détail"]
    assert journal[1][1:] == [
        "sync-eligibility",
        journal[1][2],
        "nouveaux actifs : 3 ; plus actifs : 0 ; rangs modifiés : 0 ; lignes ajoutées : 5 ; "
        "lignes retirées : 0 ; cellules modifiées : 0",
        "aucun",
        journal[1][5],
    ]
    # The run's unique ID, by which a retried Google write recognises its own row.
    assert re.fullmatch(
        r"saison=2019-2020; au=2020-06-15; personnes=5; actifs=3; run=[0-9a-f]{32}", journal[1][5]
    )
    assert journal[1][2]  # the OS user


def test_second_run_writes_nothing(run_gt: Run, small_xlsx: Path) -> None:
    run_gt("--sheet", small_xlsx, *AS_OF, "sync-eligibility")
    before = small_xlsx.read_bytes(), small_xlsx.stat().st_mtime_ns
    result = run_gt("--sheet", small_xlsx, "--as-of", "2020-06-16", "sync-eligibility")
    assert result.exit_code == 0
    assert "Nouveaux actifs (depuis la dernière synchronisation) : 0." in result.stdout
    assert (
        "Rien n'a changé depuis la dernière synchronisation : rien n'a été écrit." in result.stdout
    )
    assert (small_xlsx.read_bytes(), small_xlsx.stat().st_mtime_ns) == before


def test_dry_run_shows_the_cells_and_writes_nothing(run_gt: Run, small_xlsx: Path) -> None:
    run_gt("--sheet", small_xlsx, *AS_OF, "sync-eligibility")
    edit(small_xlsx, "Présences", lambda s: s.append(["R-FI-1", "P-2", "présent"]))
    before = small_xlsx.read_bytes()
    result = run_gt("--sheet", small_xlsx, *AS_OF, "sync-eligibility", "--dry-run")
    assert result.exit_code == 0, result.output
    assert small_xlsx.read_bytes() == before
    assert (
        "Nouveaux actifs (depuis la dernière synchronisation) : 1 — Bruno Bellec (P-2)."
        in result.stdout
    )
    assert "Rangs de priorité modifiés : 1." in result.stdout
    changes = result.stdout.split("Changements qui seraient écrits (7 lignes) :\n")[1]
    assert changes.splitlines()[:7] == [
        "  Éligibilité!F4 (P-2, Réunions) : « 1 » → « 2 »",
        "  Éligibilité!G4 (P-2, Membre actif) : « non » → « oui »",
        "  Éligibilité!H4 (P-2, Entrée FMC offerte) : « non » → « oui »",
        "  Éligibilité!I4 (P-2, Priorité) : (vide) → « 3 »",
        "  Éligibilité!J4 (P-2, Détail) : « 1 réunion : Lancement 19/11 » → « 2 réunions : FI 03/03, Lancement 19/11 »",
        "  Éligibilité!I5 (P-5, Priorité) : « 3 » → « 4 »",
        "  Bilan organisations : réécrit (3 organisations)",
    ]
    assert result.stdout.endswith(
        "Simulation (--dry-run) : rien n'a été écrit.\n"
        "Prochaine étape : relancez sans --dry-run pour écrire ces changements.\n"
    )


def test_later_run_reports_changes_and_appends_to_the_journal(
    run_gt: Run, small_xlsx: Path
) -> None:
    run_gt("--sheet", small_xlsx, *AS_OF, "sync-eligibility")
    edit(small_xlsx, "Personnes", lambda s: s.cell(row=2, column=9, value="inactif"))  # P-1
    result = run_gt("--sheet", small_xlsx, *AS_OF, "sync-eligibility")
    assert result.exit_code == 0
    assert "Ne sont plus actifs : 1 — Anne Aubert (P-1)." in result.stdout
    assert "Rangs de priorité modifiés : 2." in result.stdout
    assert [row[0] for row in sheet(small_xlsx, "Éligibilité")[1:]] == [
        "P-3",
        "P-5",
        "P-1",
        "P-2",
        "P-6",
    ]
    journal = sheet(small_xlsx, "Journal")
    assert len(journal) == 3
    assert journal[2][3].startswith("nouveaux actifs : 0 ; plus actifs : 1 ; rangs modifiés : 2 ;")


@pytest.mark.parametrize(
    ("options", "code", "first_line"),
    [
        (("--as-of", "2019-10-31"), 1, "Saison 2018-2019 (du 01/11/2018 au 30/06/2019), calcul au 31/10/2019."),
        ((*AS_OF, "sync-eligibility", "--season", "2018-2019"), 0, "Saison 2018-2019 (du 01/11/2018 au 30/06/2019), calcul au 15/06/2020."),
    ],
    ids=["as-of-october", "season-option"],
)  # fmt: skip
def test_season_boundaries(
    run_gt: Run, small_xlsx: Path, options: tuple[str, ...], code: int, first_line: str
) -> None:
    args = options if "sync-eligibility" in options else (*options, "sync-eligibility")
    result = run_gt("--sheet", small_xlsx, *args)
    assert result.exit_code == code, result.output
    assert result.stdout.splitlines()[0] == first_line
    # Last season: only P-2 attended (R-OLD, 14/05/2019); P-5 is active by override.
    assert [row[:9] for row in without_date(sheet(small_xlsx, "Éligibilité"))[1:]] == [
        ["P-5", "Emma", "Eboué", "Banque Beta", "emma@beta.com", "0", "oui", "oui", "1"],
        ["P-2", "Bruno", "Bellec", "Banque Beta", "bruno@beta.com", "1", "non", "non", ""],
    ]
    if code:  # on 31/10/2019, the attendance of the 2019-2020 meetings is in the future
        assert (
            "Présences!A2 : présence à la réunion R-L datée du 19/11/2019, dans le futur"
            in result.stderr
        )


def test_bad_season_is_a_usage_error(run_gt: Run, small_xlsx: Path) -> None:
    result = run_gt("--sheet", small_xlsx, "sync-eligibility", "--season", "2019-2021")
    assert result.exit_code == 2
    assert "saison « 2019-2021 » incohérente" in result.stderr
    assert "essayez --season 2019-2020" in result.stderr


def test_soiree_is_not_counted(run_gt: Run, make_workbook: Callable[..., Path]) -> None:
    path = make_workbook(with_rows(Presences=[["R-S", "P-2", "présent"]]))
    result = run_gt("--sheet", path, "--as-of", "2020-06-30", "sync-eligibility")
    assert result.exit_code == 0, result.output
    assert without_date(sheet(path, "Éligibilité"))[4][:7] == EXPECTED[4][:7]


def test_future_meeting_is_reported_not_counted(
    run_gt: Run, make_workbook: Callable[..., Path]
) -> None:
    path = make_workbook(with_rows(Presences=[["R-S", "P-2", "présent"]]))
    result = run_gt("--sheet", path, *AS_OF, "sync-eligibility")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:2] == [
        "1 problème(s) dans le registre (lignes ou valeurs concernées ignorées) :",
        "  Présences!A13 : présence à la réunion R-S datée du 25/06/2020, dans le futur "
        "(vérifiez la date de la réunion ou la ligne de présence)",
    ]
    assert "Prochaine étape : corrigez les cellules signalées dans le tableur" in result.stdout
    assert without_date(sheet(path, "Éligibilité")) == EXPECTED  # the rest is still written
    assert sheet(path, "Journal")[1][4] == "1 (Présences!A13)"


@pytest.mark.parametrize(("typed", "problems"), [(0, 0), ("0", 0), ("?", 1)], ids=["0", "'0'", "?"])
def test_a_status_of_zero_or_without_a_word_is_never_a_presence(
    run_gt: Run, make_workbook: Callable[..., Path], typed: object, problems: int
) -> None:
    """P-2 was present once; a second row marked 0 (absent, as on the yes/no columns) or
    « ? » must not make her active."""
    path = make_workbook(with_rows(Presences=[["R-FI-1", "P-2", typed]]))
    result = run_gt("--sheet", path, *AS_OF, "sync-eligibility")
    assert result.exit_code == (1 if problems else 0), result.output
    if problems:
        assert "  Présences!C13 : statut « ? » non compris" in result.stderr
    assert without_date(sheet(path, "Éligibilité")) == EXPECTED


def test_attendance_by_e_mail_counts_for_the_row_whose_address_is_valid(
    run_gt: Run, make_workbook: Callable[..., Path]
) -> None:
    """P-9 repeats P-1's address (reported as a duplicate, which P-9's row is): attendance
    typed with that address is P-1's, the person the address belongs to."""
    path = make_workbook(
        with_rows(
            Personnes=[["P-9", "Anne", "Aubert", "ANNE@alpha.org", "ORG-1", "AI", "", "", "", ""]],
            Presences=[["R-PD-1", "anne@alpha.org", "présente"]],
        )
    )
    result = run_gt("--sheet", path, *AS_OF, "sync-eligibility")
    assert result.exit_code == 1, result.output  # the duplicate address
    got = {row[0]: row for row in without_date(sheet(path, "Éligibilité"))[1:]}
    assert "P-9" not in got
    assert got["P-1"][5] == "4" and "PDMI 05/02" in got["P-1"][9]


def test_unknown_person_and_meeting_are_reported_others_still_right(
    run_gt: Run, make_workbook: Callable[..., Path]
) -> None:
    rows = [["R-L", "P-99", "présent"], ["R-NOPE", "P-2", "présent"], ["R-AI-1", "p-2", "présent"]]
    path = make_workbook(with_rows(Presences=rows))
    result = run_gt("--sheet", path, *AS_OF, "sync-eligibility")
    assert result.exit_code == 1
    problems = result.stderr.splitlines()
    assert problems[0] == "2 problème(s) dans le registre (lignes ou valeurs concernées ignorées) :"
    assert problems[1].startswith("  Présences!B13 : personne inconnue « P-99 »")
    assert problems[2].startswith("  Présences!A14 : réunion inconnue « R-NOPE »")
    got = without_date(sheet(path, "Éligibilité"))
    # The valid row (`p-2`, any case) counted: active since 14/01, so before P-3 (05/02).
    assert got[2][0] == "P-2" and got[2][5:9] == ["2", "oui", "oui", "2"]
    assert [row[0] for row in got[1:]] == ["P-1", "P-2", "P-3", "P-5", "P-6"]


def test_duplicate_email_cites_both_cells(run_gt: Run, make_workbook: Callable[..., Path]) -> None:
    twin = ["P-7", "Anne", "Aubert-Bis", "ANNE@alpha.org", "ORG-1", "", "", "", "", ""]
    path = make_workbook(with_rows(Personnes=[twin]))
    result = run_gt("--sheet", path, *AS_OF, "sync-eligibility")
    assert result.exit_code == 1
    assert (
        "Personnes!D8 : adresse e-mail « ANNE@alpha.org » déjà utilisée en Personnes!D2"
        in result.stderr
    )


def test_opted_out_people_keep_their_rights(
    run_gt: Run, make_workbook: Callable[..., Path]
) -> None:
    path = make_workbook(with_rows(Presences=[["R-L", "P-4", ""], ["R-PD-1", "P-4", ""]]))
    assert run_gt("--sheet", path, *AS_OF, "sync-eligibility").exit_code == 0
    row = next(r for r in without_date(sheet(path, "Éligibilité")) if r[0] == "P-4")
    assert row[5:] == [
        "2",
        "oui",
        "oui",
        "3",
        "2 réunions : Lancement 19/11, PDMI 05/02 — désinscrit·e : ne pas contacter",
    ]


def test_workbook_open_elsewhere_exits_3_and_writes_nothing(run_gt: Run, small_xlsx: Path) -> None:
    (small_xlsx.parent / f"~${small_xlsx.name}").write_text("")
    before = small_xlsx.read_bytes()
    result = run_gt("--sheet", small_xlsx, *AS_OF, "sync-eligibility")
    assert result.exit_code == 3
    assert "rien n'a été écrit" in result.stderr
    assert small_xlsx.read_bytes() == before


def test_missing_tab_exits_3(run_gt: Run, make_workbook: Callable[..., Path]) -> None:
    tabs = small_registry()
    del tabs["Présences"]
    path = make_workbook(tabs)
    before = path.read_bytes()
    result = run_gt("--sheet", path, *AS_OF, "sync-eligibility")
    assert result.exit_code == 3
    assert "onglet « Présences » introuvable" in result.stderr
    assert path.read_bytes() == before


def test_standalone_script_and_help(small_xlsx: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        command.sync_eligibility, ["--sheet", str(small_xlsx), *AS_OF], prog_name="sync-eligibility"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == FIRST_RUN_OUTPUT
    help_text = runner.invoke(command.sync_eligibility, ["-h"]).stdout
    assert "--season AAAA-AAAA" in help_text and "--dry-run" in help_text
    assert "3  impossible de s'exécuter" in help_text
    assert callable(command.main)


def test_a_slow_step_is_announced(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import threading

    from gt_registry.commands import common

    monkeypatch.setattr(common, "SLOW_AFTER", 0.0)
    with common.announce("Lecture de classeur x.xlsx"):
        for timer in [t for t in threading.enumerate() if isinstance(t, threading.Timer)]:
            timer.join()  # the step outlasts its announcement, without a real wait
    err = capsys.readouterr().err
    assert err.startswith("Lecture de classeur x.xlsx…\nLecture de classeur x.xlsx : terminé en 0.")


# -- the plan, on plain data -------------------------------------------------------------------


def _plan(config: Config, owned: dict[str, list[list[Any]]]) -> Any:
    from gt_registry.backends import Snapshot
    from gt_registry.loader import load_registry

    registry: Registry = load_registry(
        Snapshot(tabs=small_registry()), config, dt.date(2020, 6, 15)
    ).registry
    registry.owned = owned
    return plan_sync(registry, config, dt.date(2020, 6, 15))


def test_only_the_date_column_differs_means_unchanged(config: Config) -> None:
    first = _plan(config, {})
    rows = [first.rows[0], *([*r[:-1], "01/01/2000"] for r in first.rows[1:])]
    # As read back from Google: whole numbers as ints, as read by calamine: floats.
    rows = [[float(v) if isinstance(v, int) else v for v in row] for row in rows]
    again = _plan(config, {"eligibility": rows, "summary": first.summary})
    assert not again.changed and not again.cells and not again.newly_active


def test_rows_reordered_by_hand_are_restored_without_cell_changes(config: Config) -> None:
    first = _plan(config, {})
    shuffled = [first.rows[0], *reversed(first.rows[1:])]
    again = _plan(config, {"eligibility": shuffled, "summary": first.summary})
    assert again.eligibility_changed and not again.summary_changed
    assert not again.cells and not again.added and not again.removed and not again.rank_changes
    from gt_registry.sync import change_lines

    assert change_lines(again, config) == [
        "Changements qui seraient écrits (1 ligne) :",
        "  Éligibilité : en-tête ou ordre des lignes rétabli",
    ]


def test_someone_gone_from_the_tab_is_no_longer_active(config: Config) -> None:
    first = _plan(config, {})
    ghost = ["P-0", "Gaston", "Ghost", "", "g@x.org", 2, "oui", "oui", 1, "", "01/01/2020"]
    again = _plan(config, {"eligibility": [*first.rows, ghost], "summary": first.summary})
    assert again.no_longer_active == ["Gaston Ghost (P-0)"] and again.removed == [
        "Gaston Ghost (P-0)"
    ]
    assert isinstance(again.eligibility, Eligibility) and isinstance(
        again.eligibility.season, Season
    )


# -- Google Sheets, through real gspread and the HTTP fake ------------------------------------------


def _owned_headers(config: Config) -> dict[str, list[list[Any]]]:
    return {spec.name: [list(spec.headers)] for spec in config.owned_tabs.values()}


def _tool_ids(config: Config) -> dict[str, int]:
    """The sheet IDs the tool gives its tabs when it creates them (`gt init`)."""
    from gt_registry.backends.gsheets import OWNED_SHEET_IDS

    return {spec.name: OWNED_SHEET_IDS[key] for key, spec in config.owned_tabs.items()}


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gt_registry.backends.gsheets.SLEEP", lambda _seconds: None)


@pytest.fixture
def google_registry(fake_sheets: Any, config: Config) -> Any:
    """The small registry in a Google spreadsheet whose owned tabs exist (as `gt init` leaves them)."""
    fake_sheets.add_spreadsheet(
        KEY, {**small_registry(), **_owned_headers(config)}, sheet_ids=_tool_ids(config)
    )
    return fake_sheets


def run_google(run_gt: Run, credentials: Path, *args: str) -> Result:
    return run_gt("--sheet", KEY, "--credentials", credentials, *AS_OF, "sync-eligibility", *args)


@google
def test_google_first_run_one_read_one_write_then_nothing(
    run_gt: Run, google_registry: Any, service_account_file: Path, config: Config
) -> None:
    result = run_google(run_gt, service_account_file)
    assert result.exit_code == 0, result.output
    assert result.stdout == FIRST_RUN_OUTPUT
    assert google_registry.kinds() == ["values.batchGet", "batchUpdate"]
    assert without_date(google_registry.tab(KEY, "Éligibilité")) == EXPECTED
    assert as_text(google_registry.tab(KEY, "Bilan organisations")) == EXPECTED_SUMMARY
    journal = google_registry.tab(KEY, "Journal")
    assert len(journal) == 2 and journal[1][2] == "gt-registre@gt-tests.iam.gserviceaccount.com"
    ids = _tool_ids(config)
    written = [
        (kind, body.get("range", body).get("sheetId"))
        for request in google_registry.last("batchUpdate").body["requests"]
        for kind, body in request.items()
        if kind != "updateSheetProperties"  # the check of each sheet ID
    ]
    assert written == [
        ("updateCells", ids["Éligibilité"]),
        ("updateCells", ids["Bilan organisations"]),
        ("appendCells", ids["Journal"]),  # appended: a concurrent run's row stays
    ]

    google_registry.requests.clear()
    again = run_google(run_gt, service_account_file)
    assert again.exit_code == 0
    assert "rien n'a été écrit" in again.stdout
    assert google_registry.kinds() == ["values.batchGet"]


@google
def test_google_missing_owned_tabs_are_added_in_the_same_write(
    run_gt: Run, fake_sheets: Any, service_account_file: Path
) -> None:
    fake_sheets.add_spreadsheet(KEY, small_registry())
    result = run_google(run_gt, service_account_file)
    assert result.exit_code == 0, result.output
    # One atomic spreadsheets:batchUpdate creates the tabs and fills them (all or nothing).
    assert fake_sheets.count("values.batchUpdate") == 0
    assert fake_sheets.count("batchUpdate") == 1
    assert set(TABS) <= set(fake_sheets.tab_names(KEY))
    assert without_date(fake_sheets.tab(KEY, "Éligibilité")) == EXPECTED
    for tab in ("Éligibilité", "Bilan organisations", "Journal"):
        assert [p.get("warningOnly") for p in fake_sheets.protected_ranges(KEY, tab)] == [True]


@google
def test_google_first_run_failing_leaves_no_new_tab(
    run_gt: Run, fake_sheets: Any, service_account_file: Path
) -> None:
    fake_sheets.add_spreadsheet(KEY, small_registry())
    before = {name: fake_sheets.tab(KEY, name) for name in fake_sheets.tab_names(KEY)}
    fake_sheets.fail_next("batchUpdate", 503, times=None)
    result = run_google(run_gt, service_account_file)
    assert result.exit_code == 3
    assert "rien n'a été écrit" in result.stderr
    assert {name: fake_sheets.tab(KEY, name) for name in fake_sheets.tab_names(KEY)} == before


@google
def test_google_leftover_rows_of_a_longer_previous_run_are_cleared(
    run_gt: Run, google_registry: Any, service_account_file: Path
) -> None:
    old = [HEADERS] + [
        [f"P-{i}", "Old", "Row", "", "", 9, "oui", "oui", i, "", "01/01/2020", "extra"]
        for i in range(100, 130)
    ]
    google_registry.set_tab(KEY, "Éligibilité", old)
    result = run_google(run_gt, service_account_file)
    assert result.exit_code == 0
    assert "Ne sont plus actifs : 30" in result.stdout
    assert google_registry.kinds() == ["values.batchGet", "batchUpdate"]
    assert without_date(google_registry.tab(KEY, "Éligibilité")) == EXPECTED


@google
def test_google_staff_sort_between_read_and_write_changes_nothing(
    run_gt: Run, google_registry: Any, fake_sheets: Any, service_account_file: Path, config: Config
) -> None:
    people = small_registry()["Personnes"]
    resorted = [people[0], *sorted(people[1:], key=lambda r: r[2], reverse=True)]
    fake_sheets.add_spreadsheet(KEY + "x", {**small_registry(), **_owned_headers(config)})

    def staff_sort(fake: Any) -> None:
        fake.set_tab(KEY, "Personnes", resorted)
        fake.set_tab(
            KEY,
            "Présences",
            [small_registry()["Présences"][0], *reversed(small_registry()["Présences"][1:])],
        )

    google_registry.on_request("values.batchGet", staff_sort, after=1)
    result = run_google(run_gt, service_account_file)
    assert result.exit_code == 0, result.output
    assert google_registry.count("batchUpdate") == 1
    assert without_date(google_registry.tab(KEY, "Éligibilité")) == EXPECTED
    assert as_text(google_registry.tab(KEY, "Personnes")) == as_text(resorted)  # theirs, untouched
    # And a run after the sort agrees: nothing to write.
    google_registry.requests.clear()
    assert "rien n'a été écrit" in run_google(run_gt, service_account_file).stdout
    assert google_registry.kinds() == ["values.batchGet"]


@google
@pytest.mark.parametrize("failure", ["503", "dropped"])
def test_google_write_failing_after_retries_changes_nothing(
    run_gt: Run, google_registry: Any, service_account_file: Path, no_sleep: None, failure: str
) -> None:
    names = google_registry.tab_names(KEY)
    before = {name: google_registry.tab(KEY, name) for name in names}
    if failure == "503":
        google_registry.fail_next("batchUpdate", 503, times=None)
    else:
        google_registry.drop_next("batchUpdate", times=None)
    result = run_google(run_gt, service_account_file)
    assert result.exit_code == 3
    assert "rien n'a été écrit" in result.stderr
    assert "Écrit :" not in result.stdout
    assert google_registry.tab_names(KEY) == names
    assert {name: google_registry.tab(KEY, name) for name in names} == before
    assert google_registry.count("batchUpdate") > 1  # retried, then gave up


@google
def test_google_unreadable_sheet_exits_3(
    run_gt: Run, google_registry: Any, service_account_file: Path, no_sleep: None
) -> None:
    google_registry.fail_next("values.batchGet", 503, times=None)
    result = run_google(run_gt, service_account_file)
    assert result.exit_code == 3
    assert google_registry.count("batchUpdate") == 0


@google
def test_xlsx_and_google_give_the_same_eligibility(
    run_gt: Run,
    google_registry: Any,
    service_account_file: Path,
    make_workbook: Callable[..., Path],
) -> None:
    extra = [["R-FI-1", "P-2", "présent"], ["R-L", "P-4", "présente"], ["R-PD-1", "P-4", "excusée"]]
    tabs = with_rows(Presences=extra)
    google_registry.set_tab(KEY, "Présences", tabs["Présences"])
    path = make_workbook(tabs)
    assert run_gt("--sheet", path, *AS_OF, "sync-eligibility").exit_code == 0
    assert run_google(run_gt, service_account_file).exit_code == 0
    from_xlsx = without_date(sheet(path, "Éligibilité"))
    assert from_xlsx == without_date(google_registry.tab(KEY, "Éligibilité"))
    assert as_text(sheet(path, "Bilan organisations")) == as_text(
        google_registry.tab(KEY, "Bilan organisations")
    )
    assert [text(r[0]) for r in from_xlsx[1:]] == ["P-1", "P-3", "P-2", "P-5", "P-4", "P-6"]
