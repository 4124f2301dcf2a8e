"""The Google Sheets backend, through real gspread and real google-auth, against the
HTTP-level fake of the Sheets API (tests/fake_sheets.py)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fake_sheets import SHEETS_SCOPE, FakeSheets, Tab  # fixtures come through conftest.py
from gt_registry.backends import Snapshot, TabLayout, tab_names
from gt_registry.backends import gsheets as gsheets_module
from gt_registry.backends.gsheets import GoogleSheetsBackend
from gt_registry.config import Config, load_config
from gt_registry.errors import SourceError, WriteFailed
from gt_registry.model import Rows

KEY = "1GtRegistreTestKey_abcdefghijklmnopqrstuvwxyz"
EMAIL = "gt-registre@gt-tests.iam.gserviceaccount.com"
RECORDINGS = Path(__file__).resolve().parents[2] / "shared" / "google-recordings"

STAFF: dict[str, Rows] = {
    "Organisations": [["ID", "Nom", "Type"], ["ORG-001", "Alpha", "ONG"]],
    "Personnes": [
        ["ID", "Prénom", "Nom", "E-mail", "Organisation", "Désinscription", "Charte signée"],
        ["P-0001", "Ada", "Lovelace", "ada@example.org", "ORG-001", False, dt.date(2019, 11, 5)],
        ["P-0002", "Alan", "Turing", "", "ORG-001"],
        [],
        ["P-0003", "Grace", "Hopper", "grace@example.org", "ORG-001", True, None, "", "note"],
    ],
    "Groupes": [["Code", "Nom"], ["AI", "GT Action internationale"]],
    "Réunions": [
        ["ID", "Type", "Groupe", "Date", "Début"],
        ["R-2020-01", "Réunion", "AI", dt.date(2020, 1, 14), dt.datetime(2020, 1, 14, 9, 30)],
        ["R-2020-02", "Lancement", None, 43870, 0.5],
    ],
    "Présences": [
        ["Réunion", "Personne", "Statut"],
        ["R-2020-01", "P-0003", "présent"],
        ["R-2020-01", "P-0001", "excusée"],
        ["R-2020-02", "P-0002", ""],
    ],
}
OWNED: dict[str, Rows] = {
    "Éligibilité": [["ID", "Prénom", "Nom"], ["P-0001", "Ada", "Lovelace"]],
    "Bilan organisations": [["ID", "Nom"]],
    "Journal": [["Date", "Commande"], ["2020-06-01", "sync-eligibility"]],
}
# The sheet IDs the tool gives its tabs when it creates them (`gt init`, a first sync).
TOOL_IDS = {
    "Éligibilité": gsheets_module.OWNED_SHEET_IDS["eligibility"],
    "Bilan organisations": gsheets_module.OWNED_SHEET_IDS["summary"],
    "Journal": gsheets_module.OWNED_SHEET_IDS["journal"],
}


@pytest.fixture
def config(service_account_file: Path) -> Config:
    return load_config(None, sheet=KEY, credentials=service_account_file, environ={})


@pytest.fixture
def backend(config: Config) -> GoogleSheetsBackend:
    return GoogleSheetsBackend(KEY, config)


@pytest.fixture
def registry(fake_sheets: FakeSheets) -> FakeSheets:
    """A complete registry: every staff tab and every tool-owned tab (as the tool made them)."""
    fake_sheets.add_spreadsheet(KEY, {**STAFF, **OWNED}, sheet_ids=TOOL_IDS)
    return fake_sheets


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Back-off delays asked for; nobody actually sleeps."""
    delays: list[float] = []
    monkeypatch.setattr(gsheets_module, "SLEEP", delays.append)
    return delays


# -- read -------------------------------------------------------------------------------------


def test_read_is_one_batch_get(registry: FakeSheets, backend: GoogleSheetsBackend) -> None:
    snapshot = backend.read()

    assert registry.kinds() == ["values.batchGet"]
    assert registry.count("token") == 1
    assert set(snapshot.tabs) == set(STAFF) | set(OWNED)
    assert snapshot.existing == tuple(tab_names(backend.config))


def test_read_asks_unformatted_values_and_serial_dates(
    registry: FakeSheets, backend: GoogleSheetsBackend
) -> None:
    backend.read()

    params = registry.last("values.batchGet").params
    assert params["valueRenderOption"] == ["UNFORMATTED_VALUE"]
    assert params["dateTimeRenderOption"] == ["SERIAL_NUMBER"]
    assert params["majorDimension"] == ["ROWS"]
    assert params["ranges"] == [
        "Organisations",
        "Personnes",
        "Groupes",
        "'Réunions'",
        "'Présences'",
        "'Éligibilité'",
        "'Bilan organisations'",
        "Journal",
    ]


def test_read_keeps_sheets_types_and_ragged_rows(
    registry: FakeSheets, backend: GoogleSheetsBackend
) -> None:
    tabs = backend.read().tabs

    assert tabs["Personnes"] == [
        ["ID", "Prénom", "Nom", "E-mail", "Organisation", "Désinscription", "Charte signée"],
        ["P-0001", "Ada", "Lovelace", "ada@example.org", "ORG-001", False, 43774],
        ["P-0002", "Alan", "Turing", "", "ORG-001"],
        [],
        ["P-0003", "Grace", "Hopper", "grace@example.org", "ORG-001", True, "", "", "note"],
    ]
    # Dates stay serial numbers (the loader converts them); a date-time has a fraction.
    assert tabs["Réunions"][1] == ["R-2020-01", "Réunion", "AI", 43844, 43844.395833333336]
    assert tabs["Réunions"][2] == ["R-2020-02", "Lancement", "", 43870, 0.5]
    assert tabs["Bilan organisations"] == [["ID", "Nom"]]


def test_read_with_missing_tabs_asks_metadata_once(
    fake_sheets: FakeSheets, backend: GoogleSheetsBackend
) -> None:
    fake_sheets.add_spreadsheet(KEY, {**STAFF, "Brouillon perso": [["x"]]})

    snapshot = backend.read()

    assert fake_sheets.kinds() == ["values.batchGet", "metadata", "values.batchGet"]
    assert fake_sheets.requests[1].status == 400
    (fields,) = fake_sheets.last("metadata").params["fields"]
    assert "sheetId" in fields and "title" in fields and "gridProperties" in fields
    assert set(snapshot.tabs) == set(STAFF)
    assert snapshot.existing == (*STAFF, "Brouillon perso")
    assert snapshot.actual == {}


def test_read_of_a_tab_renamed_only_in_case_needs_no_metadata(
    fake_sheets: FakeSheets, backend: GoogleSheetsBackend
) -> None:
    tabs = {**STAFF, **OWNED}
    tabs["journal"] = tabs.pop("Journal")
    fake_sheets.add_spreadsheet(KEY, tabs)

    snapshot = backend.read()

    assert fake_sheets.kinds() == ["values.batchGet"]
    assert snapshot.tabs["Journal"] == OWNED["Journal"]
    assert snapshot.actual == {"Journal": "journal"}  # as Sheets echoes the range
    assert snapshot.real_name("Journal") == "journal"


def test_read_of_tabs_spelled_differently_uses_their_real_names(
    fake_sheets: FakeSheets, backend: GoogleSheetsBackend
) -> None:
    tabs = {**STAFF, **OWNED}
    tabs["Presences"] = tabs.pop("Présences")
    tabs["personnes "] = tabs.pop("Personnes")
    tabs["Eligibilite"] = tabs.pop("Éligibilité")
    fake_sheets.add_spreadsheet(KEY, tabs)

    snapshot = backend.read()

    # A tab not found under its configured name costs 2 extra requests.
    assert fake_sheets.kinds() == ["values.batchGet", "metadata", "values.batchGet"]
    assert set(snapshot.tabs) == set(STAFF) | set(OWNED)  # keyed by configured names
    assert snapshot.tabs["Présences"] == fake_sheets.tab(KEY, "Presences")
    assert snapshot.tabs["Personnes"][0][0] == "ID"
    assert snapshot.actual == {
        "Personnes": "personnes ",
        "Présences": "Presences",
        "Éligibilité": "Eligibilite",
    }
    assert snapshot.existing == tuple(fake_sheets.tab_names(KEY))
    assert "Presences" in fake_sheets.last("values.batchGet").params["ranges"]

    again = backend.read()  # the same backend remembers the real names: one request

    assert fake_sheets.kinds()[3:] == ["values.batchGet"]
    assert again.tabs == snapshot.tabs and again.actual == snapshot.actual


def test_write_to_an_owned_tab_spelled_differently_uses_its_real_name(
    fake_sheets: FakeSheets, backend: GoogleSheetsBackend
) -> None:
    tabs = {**STAFF, **OWNED}
    tabs["Eligibilite"] = tabs.pop("Éligibilité")
    fake_sheets.add_spreadsheet(KEY, tabs)
    previous = backend.read()
    start = len(fake_sheets.kinds())

    backend.write({"Éligibilité": [["ID"], ["P-0001"]]}, previous)

    assert fake_sheets.kinds()[start:] == ["batchUpdate"]  # IDs from the read's metadata
    assert fake_sheets.tab(KEY, "Eligibilite") == [["ID"], ["P-0001"]]
    assert "Éligibilité" not in fake_sheets.tab_names(KEY)


# -- write ------------------------------------------------------------------------------------


def test_write_is_one_atomic_batch_update_with_raw_values(
    registry: FakeSheets, backend: GoogleSheetsBackend
) -> None:
    previous = backend.read()
    rows: list[list[Any]] = [
        ["ID", "Membre actif", "Réunions", "Mis à jour le", "Détail"],
        ["P-0001", True, 2, dt.date(2020, 6, 15), None],
        ["P-0003", False, 1.5, dt.datetime(2020, 6, 15, 8, 0), "=1+1"],
    ]

    backend.write({"Éligibilité": rows}, previous)

    assert registry.kinds() == ["values.batchGet", "batchUpdate"]
    guard, update = registry.last("batchUpdate").body["requests"]
    # The tool's sheet ID, checked in the same batch: renamed to the title just read.
    assert guard["updateSheetProperties"] == {
        "properties": {"sheetId": TOOL_IDS["Éligibilité"], "title": "Éligibilité"},
        "fields": "title",
    }
    assert update["updateCells"]["range"] == {"sheetId": TOOL_IDS["Éligibilité"]}
    assert update["updateCells"]["rows"][2]["values"][4] == {
        "userEnteredValue": {"stringValue": "=1+1"}  # RAW: text, never a formula
    }
    assert registry.tab(KEY, "Éligibilité") == [
        ["ID", "Membre actif", "Réunions", "Mis à jour le", "Détail"],
        ["P-0001", True, 2, "2020-06-15"],
        ["P-0003", False, 1.5, "2020-06-15T08:00:00", "=1+1"],
    ]


def test_write_clears_leftover_rows_and_columns(
    registry: FakeSheets, backend: GoogleSheetsBackend
) -> None:
    registry.set_tab(
        KEY, "Bilan organisations", [["ID", "Nom", "Réunions", "Vieux"]] + [["x"] * 4] * 5
    )
    previous = backend.read()

    backend.write({"Bilan organisations": [["ID", "Nom"], ["ORG-001", "Alpha"]]}, previous)

    assert registry.tab(KEY, "Bilan organisations") == [["ID", "Nom"], ["ORG-001", "Alpha"]]
    assert registry.count("batchUpdate") == 1
    (update,) = [r for r in registry.last("batchUpdate").body["requests"] if "updateCells" in r]
    assert update["updateCells"]["range"] == {"sheetId": TOOL_IDS["Bilan organisations"]}


def test_write_of_every_owned_tab_is_still_one_request(
    registry: FakeSheets, backend: GoogleSheetsBackend
) -> None:
    previous = backend.read()

    backend.write({name: [*rows, ["nouveau"]] for name, rows in OWNED.items()}, previous)

    assert registry.kinds() == ["values.batchGet", "batchUpdate"]
    assert registry.tab(KEY, "Journal")[-1] == ["nouveau"]


def test_first_run_is_one_read_batch_and_one_atomic_batch_update(
    fake_sheets: FakeSheets, backend: GoogleSheetsBackend
) -> None:
    fake_sheets.add_spreadsheet(KEY, STAFF)
    previous = backend.read()
    contents: dict[str, Rows] = {
        "Éligibilité": [["ID", "Membre actif", "Réunions", "Détail"], ["P-0001", True, 2, "=cmd"]],
        "Bilan organisations": [["ID", "Nom"], ["ORG-001", "Alpha"]],
        "Journal": [["Date", "Commande"], [dt.date(2020, 6, 1), "sync-eligibility"], ["1.50"]],
    }

    backend.write(contents, previous)

    # The read: batchGet (400: owned tabs missing), metadata, batchGet of what exists.
    # The write: ONE spreadsheets:batchUpdate, nothing else.
    assert fake_sheets.kinds() == ["values.batchGet", "metadata", "values.batchGet", "batchUpdate"]
    requests_ = fake_sheets.last("batchUpdate").body["requests"]
    assert [next(iter(r)) for r in requests_] == ["addSheet"] * 3 + ["updateCells"] * 3 + [
        "addProtectedRange"
    ] * 3
    ids = [r["addSheet"]["properties"]["sheetId"] for r in requests_[:3]]
    assert len(set(ids)) == 3
    assert not set(ids) & {fake_sheets.sheet_properties(KEY, n)["sheetId"] for n in STAFF}
    update = requests_[3]["updateCells"]
    assert update["fields"] == "userEnteredValue" and update["range"] == {"sheetId": ids[0]}
    assert update["rows"][1]["values"] == [
        {"userEnteredValue": {"stringValue": "P-0001"}},
        {"userEnteredValue": {"boolValue": True}},
        {"userEnteredValue": {"numberValue": 2}},
        {"userEnteredValue": {"stringValue": "=cmd"}},
    ]
    assert fake_sheets.tab_names(KEY) == [*STAFF, *OWNED]
    assert fake_sheets.tab(KEY, "Éligibilité") == contents["Éligibilité"]  # "=cmd" stays text
    assert fake_sheets.tab(KEY, "Journal") == [
        ["Date", "Commande"],
        ["2020-06-01", "sync-eligibility"],
        ["1.50"],  # text, not the number 1.5
    ]
    for name in OWNED:
        grid = fake_sheets.sheet_properties(KEY, name)["gridProperties"]
        assert grid == {"rowCount": 1000, "columnCount": 26, "frozenRowCount": 1}
        (protection,) = fake_sheets.protected_ranges(KEY, name)
        assert protection["warningOnly"] is True
        assert protection["description"] == gsheets_module.PROTECTION_NOTE

    # Second run: the tabs exist, the steady state is back (1 read, 1 write).
    start = len(fake_sheets.kinds())
    backend.write(OWNED, backend.read())
    assert fake_sheets.kinds()[start:] == ["values.batchGet", "batchUpdate"]
    for name, rows in OWNED.items():
        assert fake_sheets.tab(KEY, name) == rows
        assert len(fake_sheets.protected_ranges(KEY, name)) == 1


def test_first_write_fills_existing_owned_tabs_in_the_same_batch_update(
    fake_sheets: FakeSheets, backend: GoogleSheetsBackend
) -> None:
    old_journal: Rows = [["Date", "Commande", "Vieux"], *[["x", "y", "z"]] * 4]
    fake_sheets.add_spreadsheet(KEY, {**STAFF, "journal": old_journal}, grid=(5, 3))
    previous = backend.read()

    backend.write(OWNED, previous)

    assert fake_sheets.kinds()[3:] == ["batchUpdate"]
    requests_ = fake_sheets.last("batchUpdate").body["requests"]
    added = [r["addSheet"]["properties"]["title"] for r in requests_ if "addSheet" in r]
    assert added == ["Éligibilité", "Bilan organisations"]  # "journal" exists already
    for name, rows in OWNED.items():
        assert fake_sheets.tab(KEY, name) == rows  # old leftovers of "journal" blanked
    assert fake_sheets.tab_names(KEY) == [*STAFF, "journal", "Éligibilité", "Bilan organisations"]
    assert fake_sheets.protected_ranges(KEY, "journal") == []  # only new tabs: `gt init` does it


def test_a_write_knows_only_its_snapshot(fake_sheets: FakeSheets, config: Config) -> None:
    """No state on the backend between read and write: a fresh backend writing with another
    one's snapshot sends exactly the same single request (sheet IDs and grids travel in it)."""
    fake_sheets.add_spreadsheet(KEY, {**STAFF, "journal": [["Date"]]}, grid=(5, 3))
    previous = GoogleSheetsBackend(KEY, config).read()
    assert previous.sheet_ids is not None and previous.grid["journal"] == (5, 3)
    start = len(fake_sheets.kinds())

    GoogleSheetsBackend(KEY, config).write({**OWNED, "Journal": [["Date"]] * 10}, previous)

    assert fake_sheets.kinds()[start:] == ["batchUpdate"]
    requests_ = fake_sheets.last("batchUpdate").body["requests"]
    assert [r["appendDimension"]["length"] for r in requests_ if "appendDimension" in r] == [205]
    assert fake_sheets.tab(KEY, "journal") == [["Date"]] * 10


def test_first_write_grows_new_tabs_for_long_contents(
    fake_sheets: FakeSheets, backend: GoogleSheetsBackend
) -> None:
    fake_sheets.add_spreadsheet(KEY, STAFF)
    rows: Rows = [[f"c{i}" for i in range(30)], *[[n] for n in range(1500)]]

    backend.write({"Éligibilité": rows}, backend.read())

    grid = fake_sheets.sheet_properties(KEY, "Éligibilité")["gridProperties"]
    assert grid["rowCount"] >= 1501 + 200 and grid["columnCount"] >= 30
    assert fake_sheets.tab(KEY, "Éligibilité") == rows


@pytest.mark.parametrize("status", [503, 429, None], ids=["503", "429", "dropped"])
def test_first_run_write_failure_leaves_every_tab_as_it_was(
    fake_sheets: FakeSheets,
    backend: GoogleSheetsBackend,
    sleeps: list[float],
    status: int | None,
) -> None:
    fake_sheets.add_spreadsheet(KEY, {**STAFF, "Journal": OWNED["Journal"]})
    before = {name: fake_sheets.tab(KEY, name) for name in fake_sheets.tab_names(KEY)}
    previous = backend.read()
    if status is None:
        fake_sheets.drop_next("batchUpdate", times=None)
    else:
        fake_sheets.fail_next("batchUpdate", status=status, times=None)

    with pytest.raises(WriteFailed) as caught:
        backend.write({name: [*rows, ["nouveau"]] for name, rows in OWNED.items()}, previous)

    assert caught.value.message.endswith("rien n'a été écrit dans la feuille")
    assert fake_sheets.count("batchUpdate") == 5 and fake_sheets.count("values.batchUpdate") == 0
    assert fake_sheets.tab_names(KEY) == list(before)
    assert {name: fake_sheets.tab(KEY, name) for name in before} == before
    assert fake_sheets.protected_ranges(KEY, "Journal") == []


def test_a_refused_first_write_adds_no_tab(
    fake_sheets: FakeSheets, backend: GoogleSheetsBackend
) -> None:
    """Google checks the whole batch: staff creating "Journal" between our read and our
    write makes its addSheet fail (400, not retried), and no other tab is added either."""
    fake_sheets.add_spreadsheet(KEY, STAFF)
    previous = backend.read()

    def staff_adds_journal(fake: FakeSheets) -> None:
        fake.spreadsheets[KEY].tabs.append(Tab(sheet_id=99, title="Journal"))

    fake_sheets.on_request("batchUpdate", staff_adds_journal, after=0)

    with pytest.raises(WriteFailed) as caught:
        backend.write(OWNED, previous)

    assert "rien n'a été écrit" in caught.value.message
    assert fake_sheets.count("batchUpdate") == 1
    assert fake_sheets.tab_names(KEY) == [*STAFF, "Journal"]
    assert fake_sheets.tab(KEY, "Journal") == []


@pytest.mark.parametrize(
    "name",
    ["Personnes", "présences", "Presences", " personnes", "Ré-unions."],
    ids=["exact", "other-case", "no-accent", "spaces", "punctuation"],
)
def test_write_refuses_staff_tabs(
    registry: FakeSheets, backend: GoogleSheetsBackend, name: str
) -> None:
    with pytest.raises(SourceError) as caught:
        backend.write({name: [["ID"]]}, Snapshot())

    assert f"refus d'écrire dans l'onglet « {name} »" in str(caught.value)
    assert registry.requests == []


def test_staff_edit_between_read_and_write_is_kept(
    registry: FakeSheets, backend: GoogleSheetsBackend
) -> None:
    def staff_sorts_attendance(fake: FakeSheets) -> None:
        header, *rows = fake.tab(KEY, "Présences")
        fake.set_tab(KEY, "Présences", [header, *sorted(rows, key=lambda r: str(r[1]))])

    registry.on_request("values.batchGet", staff_sorts_attendance, after=1)
    previous = backend.read()

    backend.write({}, previous, {"Journal": [["2020-06-15", "sync-eligibility"]]})

    assert registry.tab(KEY, "Présences") == [
        ["Réunion", "Personne", "Statut"],
        ["R-2020-01", "P-0001", "excusée"],
        ["R-2020-02", "P-0002"],
        ["R-2020-01", "P-0003", "présent"],
    ]
    requests_ = registry.last("batchUpdate").body["requests"]
    assert [next(iter(r)) for r in requests_] == ["updateSheetProperties", "appendCells"]
    assert requests_[1]["appendCells"]["sheetId"] == TOOL_IDS["Journal"]
    assert registry.tab(KEY, "Journal") == [*OWNED["Journal"], ["2020-06-15", "sync-eligibility"]]


# -- retries and errors --------------------------------------------------------------------------


def test_429_is_retried_then_succeeds(
    registry: FakeSheets, backend: GoogleSheetsBackend, sleeps: list[float]
) -> None:
    registry.fail_next("values.batchGet", status=429, times=2)

    snapshot = backend.read()

    assert registry.count("values.batchGet") == 3
    assert snapshot.tabs["Groupes"] == [["Code", "Nom"], ["AI", "GT Action internationale"]]
    assert len(sleeps) == 2
    assert 2 <= sleeps[0] <= 4 and 4 <= sleeps[1] <= 8


@pytest.mark.parametrize(
    ("status", "cause"),
    [
        (429, "quota de requêtes dépassé (429)"),
        (503, "erreur 503"),
        (502, "erreur 502"),
        (None, "connexion interrompue"),
    ],
    ids=["429", "503", "502-html", "dropped"],
)
def test_persistent_failure_gives_up_and_writes_nothing(
    registry: FakeSheets,
    backend: GoogleSheetsBackend,
    sleeps: list[float],
    status: int | None,
    cause: str,
) -> None:
    previous = backend.read()
    if status is None:
        registry.drop_next("batchUpdate", times=None)
    else:
        registry.fail_next("batchUpdate", status=status, times=None)

    with pytest.raises(WriteFailed) as caught:
        backend.write({"Journal": [["tout", "autre", "chose"]]}, previous)

    assert registry.count("batchUpdate") == 5
    assert len(sleeps) == 4 and sum(sleeps) <= 120
    assert caught.value.message == (
        f"https://docs.google.com/spreadsheets/d/{KEY} : Google Sheets ne répond pas "
        f"({cause}) après 5 tentatives ; rien n'a été écrit dans la feuille"
    )
    assert caught.value.hint.startswith("réessayez plus tard")
    assert registry.tab(KEY, "Journal") == OWNED["Journal"]


def test_persistent_read_failure_is_a_source_error(
    registry: FakeSheets, backend: GoogleSheetsBackend, sleeps: list[float]
) -> None:
    registry.fail_next("values.batchGet", status=500, times=None)

    with pytest.raises(SourceError) as caught:
        backend.read()

    assert not isinstance(caught.value, WriteFailed)
    assert "après 5 tentatives" in caught.value.message
    assert registry.count("values.batchGet") == 5


def test_not_shared_says_whom_to_share_with(
    fake_sheets: FakeSheets, backend: GoogleSheetsBackend, sleeps: list[float]
) -> None:
    fake_sheets.add_spreadsheet(KEY, STAFF, access=None)

    with pytest.raises(SourceError) as caught:
        backend.read()

    assert str(caught.value) == (
        f"https://docs.google.com/spreadsheets/d/{KEY} : accès refusé à la feuille\n"
        f"  → partagez la feuille avec {EMAIL} (en tant qu'éditeur)"
    )
    assert fake_sheets.count("values.batchGet") == 1  # 403 is never retried
    assert sleeps == []


def test_read_only_share_fails_the_write(
    fake_sheets: FakeSheets, backend: GoogleSheetsBackend
) -> None:
    fake_sheets.add_spreadsheet(KEY, {**STAFF, **OWNED}, access="reader")
    previous = backend.read()

    with pytest.raises(WriteFailed) as caught:
        backend.write({"Journal": [["x"]]}, previous)

    assert caught.value.message.endswith(
        "accès refusé à la feuille ; rien n'a été écrit dans la feuille"
    )
    assert caught.value.hint == f"partagez la feuille avec {EMAIL} (en tant qu'éditeur)"


def test_unknown_key(fake_sheets: FakeSheets, backend: GoogleSheetsBackend) -> None:
    with pytest.raises(SourceError) as caught:
        backend.read()

    assert caught.value.message == f"aucune feuille Google Sheets avec la clé {KEY}"
    assert "--sheet" in caught.value.hint
    assert fake_sheets.count("values.batchGet") == 1


# -- credentials -------------------------------------------------------------------------------


def test_credentials_are_read_lazily_and_scoped_to_sheets(
    registry: FakeSheets, service_account_file: Path
) -> None:
    config = load_config(None, sheet=KEY, credentials=service_account_file, environ={})
    backend = GoogleSheetsBackend(KEY, config)
    service_account_file.unlink()  # nothing read yet...
    with pytest.raises(SourceError, match="fichier d'identifiants introuvable"):
        backend.read()  # ...until the first use
    assert registry.requests == []


def test_token_asks_for_the_spreadsheets_scope_only(
    registry: FakeSheets, backend: GoogleSheetsBackend
) -> None:
    backend.read()

    (claims,) = registry.tokens.values()
    assert claims["scope"] == SHEETS_SCOPE
    assert claims["iss"] == EMAIL
    assert backend.identity() == EMAIL


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "JSON illisible (ligne 1, colonne 2)"),
        (
            json.dumps({"type": "authorized_user", "client_id": "x"}),
            "identifiants utilisateur incomplets",
        ),
    ],
    ids=["invalid-json", "incomplete-user"],
)
def test_bad_key_file(fake_sheets: FakeSheets, tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "cle.json"
    path.write_text(content, encoding="utf-8")
    config = load_config(None, sheet=KEY, credentials=path, environ={})

    with pytest.raises(SourceError) as caught:
        GoogleSheetsBackend(KEY, config).read()

    assert caught.value.message == f"{path} : {expected} (--credentials {path})"
    assert "--credentials" in caught.value.hint
    assert "not json" not in str(caught.value)


def test_application_default_credentials(
    registry: FakeSheets, service_account_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(service_account_file))
    backend = GoogleSheetsBackend(KEY, load_config(None, sheet=KEY, environ={}))

    assert backend.read().tabs["Groupes"][1] == ["AI", "GT Action internationale"]
    assert backend.identity() == EMAIL


def test_no_credentials_at_all(
    fake_sheets: FakeSheets, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "absent.json"))
    backend = GoogleSheetsBackend(KEY, load_config(None, sheet=KEY, environ={}))

    with pytest.raises(SourceError) as caught:
        backend.read()

    assert caught.value.message.startswith(
        f"{tmp_path / 'absent.json'} : fichier d'identifiants introuvable"
    )
    assert "GOOGLE_APPLICATION_CREDENTIALS" in caught.value.hint


def test_refused_token(registry: FakeSheets, backend: GoogleSheetsBackend) -> None:
    registry.fail_next("token", status=400)

    with pytest.raises(SourceError) as caught:
        backend.read()

    assert caught.value.message.startswith("Google refuse les identifiants (--credentials ")
    assert "autorisation révoquée ou expirée" in caught.value.message
    assert registry.count("values.batchGet") == 0


# -- init -------------------------------------------------------------------------------------


def layout() -> list[TabLayout]:
    return [
        TabLayout(
            "Personnes", ("ID", "Prénom", "Nom", "E-mail", "Langue"), {"Langue": ("fr", "en")}
        ),
        TabLayout(
            "Présences",
            ("Réunion", "Personne", "Statut"),
            {"Statut": ("présent", "excusé", "absent"), "Réunion": ("=Réunions!$A$2:$A$200",)},
        ),
        TabLayout("Journal", ("Date", "Commande", "Par"), owned=True),
    ]


DEMO: dict[str, Rows] = {
    "Personnes": [
        ["ID", "Prénom", "Nom", "E-mail", "Langue"],
        ["P-0001", "Ada", "Lovelace", "ada@example.org", "en"],
    ],
    "Présences": [["Réunion", "Personne", "Statut"], ["R-1", "P-0001", "présent"]],
}


def test_init_on_a_blank_spreadsheet(fake_sheets: FakeSheets, backend: GoogleSheetsBackend) -> None:
    fake_sheets.add_spreadsheet(KEY, {"Feuille 1": []})

    report = backend.initialise(layout(), DEMO, force=False)

    assert fake_sheets.kinds() == ["metadata", "batchUpdate"]  # tabs and cells, atomically
    assert report.created_tabs == ["Personnes", "Présences", "Journal"]
    assert report.filled_tabs == ["Personnes", "Présences"]
    assert fake_sheets.tab(KEY, "Personnes") == DEMO["Personnes"]
    assert fake_sheets.tab(KEY, "Journal") == [["Date", "Commande", "Par"]]
    for name in ("Personnes", "Présences", "Journal"):
        grid = fake_sheets.sheet_properties(KEY, name)["gridProperties"]
        assert grid["frozenRowCount"] == 1
    (language,) = fake_sheets.validations(KEY, "Personnes")
    assert language["range"]["startColumnIndex"] == 4 and language["range"]["startRowIndex"] == 1
    assert language["rule"] == {
        "condition": {
            "type": "ONE_OF_LIST",
            "values": [{"userEnteredValue": "fr"}, {"userEnteredValue": "en"}],
        },
        "strict": False,
        "showCustomUi": True,
    }
    meeting, status = sorted(
        fake_sheets.validations(KEY, "Présences"), key=lambda v: v["range"]["startColumnIndex"]
    )
    assert meeting["rule"]["condition"] == {
        "type": "ONE_OF_RANGE",
        "values": [{"userEnteredValue": "=Réunions!$A$2:$A$200"}],
    }
    assert status["range"]["startColumnIndex"] == 2
    assert fake_sheets.protected_ranges(KEY, "Personnes") == []
    (protection,) = fake_sheets.protected_ranges(KEY, "Journal")
    assert protection["warningOnly"] is True


@pytest.mark.parametrize("fault", ["500", "dropped"])
def test_init_applied_then_answer_lost_is_recognised_not_resent(
    fake_sheets: FakeSheets, backend: GoogleSheetsBackend, sleeps: list[float], fault: str
) -> None:
    """The one batchUpdate applied, its answer a 5xx or lost: the retry first checks
    (metadata, header rows), finds its own tabs, reports success and sends nothing twice
    (re-sent, addSheet would fail « already exists »)."""
    fake_sheets.add_spreadsheet(KEY, {"Feuille 1": []})
    if fault == "500":
        fake_sheets.fail_next("batchUpdate", 500, applied=True)
    else:
        fake_sheets.drop_next("batchUpdate", applied=True)

    report = backend.initialise(layout(), DEMO, force=False)

    assert report.created_tabs == ["Personnes", "Présences", "Journal"]
    assert fake_sheets.count("batchUpdate") == 1
    assert fake_sheets.tab(KEY, "Personnes") == DEMO["Personnes"]
    assert fake_sheets.tab_names(KEY) == ["Feuille 1", "Personnes", "Présences", "Journal"]


def test_init_failed_before_being_applied_is_sent_again_whole(
    fake_sheets: FakeSheets, backend: GoogleSheetsBackend, sleeps: list[float]
) -> None:
    """A 5xx that was not applied: nothing exists, so the same batch goes again, and the
    registry is complete (never tabs without their headers)."""
    fake_sheets.add_spreadsheet(KEY, {"Feuille 1": []})
    fake_sheets.fail_next("batchUpdate", 503)

    backend.initialise(layout(), DEMO, force=False)

    assert fake_sheets.count("batchUpdate") == 2 and fake_sheets.count("values.batchUpdate") == 0
    assert fake_sheets.tab(KEY, "Personnes") == DEMO["Personnes"]
    assert fake_sheets.tab(KEY, "Journal") == [["Date", "Commande", "Par"]]


def test_init_that_cannot_be_written_leaves_no_tab(
    fake_sheets: FakeSheets, backend: GoogleSheetsBackend, sleeps: list[float]
) -> None:
    """Google refusing the cells refuses the tabs too (one atomic batch): « rien n'a été
    écrit » is true."""
    fake_sheets.add_spreadsheet(KEY, {"Feuille 1": []})
    fake_sheets.fail_next("batchUpdate", 503, times=None)

    with pytest.raises(SourceError) as caught:
        backend.initialise(layout(), DEMO, force=False)

    assert "rien n'a été écrit" in caught.value.message
    assert fake_sheets.tab_names(KEY) == ["Feuille 1"]


def test_init_never_leaves_tabs_without_their_headers(
    fake_sheets: FakeSheets, backend: GoogleSheetsBackend, sleeps: list[float]
) -> None:
    """The values no longer go in a second request that can fail after the tabs exist
    (values:batchUpdate refused here, were it sent): one batch, tabs and headers together."""
    fake_sheets.add_spreadsheet(KEY, {"Feuille 1": []})
    fake_sheets.fail_next("values.batchUpdate", 503, times=None)

    backend.initialise(layout(), DEMO, force=False)

    assert fake_sheets.tab(KEY, "Personnes") == DEMO["Personnes"]
    assert fake_sheets.tab(KEY, "Journal") == [["Date", "Commande", "Par"]]


def test_init_twice_sends_no_write_the_second_time(
    fake_sheets: FakeSheets, backend: GoogleSheetsBackend
) -> None:
    fake_sheets.add_spreadsheet(KEY, {"Feuille 1": []})
    backend.initialise(layout(), DEMO, force=False)
    before = len(fake_sheets.kinds())

    report = backend.initialise(layout(), DEMO, force=False)

    assert fake_sheets.kinds()[before:] == ["metadata", "values.batchGet"]
    assert not report.changed


def test_init_completes_existing_tabs(
    fake_sheets: FakeSheets, backend: GoogleSheetsBackend
) -> None:
    fake_sheets.add_spreadsheet(
        KEY,
        {
            # Staff's own order and spelling: "courriel" is an alias of "E-mail".
            "Personnes": [
                ["nom", "ID", "courriel", "Téléphone"],
                ["Turing", "P-0002", "alan@example.org"],
            ],
            "Présences": [["Réunion", "Personne"]],
        },
    )

    report = backend.initialise(layout(), DEMO, force=False)

    assert report.created_tabs == ["Journal"]
    assert report.added_headers == {"Personnes": ["Prénom", "Langue"], "Présences": ["Statut"]}
    assert report.filled_tabs == ["Présences"]  # Personnes already has data
    assert fake_sheets.tab(KEY, "Personnes") == [
        ["nom", "ID", "courriel", "Téléphone", "Prénom", "Langue"],
        ["Turing", "P-0002", "alan@example.org"],
    ]
    assert fake_sheets.tab(KEY, "Présences") == DEMO["Présences"]
    (language,) = fake_sheets.validations(KEY, "Personnes")
    assert language["range"]["startColumnIndex"] == 5

    backend.initialise(layout(), DEMO, force=True)

    assert fake_sheets.tab(KEY, "Personnes") == [
        ["nom", "ID", "courriel", "Téléphone", "Prénom", "Langue"],
        ["Lovelace", "P-0001", "ada@example.org", "", "Ada", "en"],
    ]


def test_init_of_a_complete_registry_sends_no_write(
    fake_sheets: FakeSheets, backend: GoogleSheetsBackend
) -> None:
    fake_sheets.add_spreadsheet(
        KEY, {"Personnes": DEMO["Personnes"], "Présences": DEMO["Présences"]}
    )
    backend.initialise(layout(), None, force=False)  # adds Journal and its protection
    start = len(fake_sheets.kinds())

    report = backend.initialise(layout(), None, force=False)

    assert not report.changed
    assert fake_sheets.kinds()[start:] == ["metadata", "values.batchGet"]
    assert fake_sheets.last("values.batchGet").params["ranges"] == [
        "Personnes!1:1",
        "'Présences'!1:1",
        "Journal!1:1",
    ]


# -- the fake against real recordings ------------------------------------------------------------


def _comparable(url: str, method: str, body: Any) -> Any:
    """What must match between a recorded answer and the fake's: everything, except IDs
    Google draws at random and the decorative parts of the metadata."""
    if isinstance(body, dict) and "error" in body:
        return {k: body["error"][k] for k in ("code", "message", "status")}
    if method == "GET" and "/values" not in url:
        return {
            "keys": sorted(body),
            "sheets": [_without_ids(s["properties"]) for s in body["sheets"]],
        }
    return _without_ids(body)


def _without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: "<id>" if k in ("sheetId", "protectedRangeId") else _without_ids(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_without_ids(item) for item in value]
    return value


def _added_sheet_ids(recorded: Any, answered: Any) -> dict[int, int]:
    """Recorded sheetId → the fake's, for the tabs an addSheet reply created."""
    pairs = zip(recorded.get("replies", []), answered.get("replies", []), strict=False)
    return {
        r["addSheet"]["properties"]["sheetId"]: a["addSheet"]["properties"]["sheetId"]
        for r, a in pairs
        if "addSheet" in r
    }


@pytest.mark.parametrize(
    "cassette",
    [
        "WorksheetTest.test_batch_get.json",
        "SpreadsheetTest.test_values_batch_get.json",
        "WorksheetTest.test_batch_update.json",
        "WorksheetTest.test_get_all_values_date_time_render_options.json",
        "WorksheetTest.test_add_protected_range_normal.json",
        "WorksheetTest.test_add_validation.json",
    ],
)
def test_fake_answers_like_the_recordings(
    fake_sheets: FakeSheets, service_account_file: Path, cassette: str
) -> None:
    """Replay every recorded Sheets request against the fake: same status, same body
    (keys, `range` strings, omitted trailing cells, serial dates)."""
    path = RECORDINGS / cassette
    if not path.is_file():
        pytest.skip(f"recordings not found at {RECORDINGS}")
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_file(
        str(service_account_file), scopes=[SHEETS_SCOPE]
    )
    session = AuthorizedSession(credentials)
    compared = 0
    sheet_ids: dict[int, int] = {}
    for interaction in json.loads(path.read_text(encoding="utf-8"))["interactions"]:
        request, response = interaction["request"], interaction["response"]
        recorded = response["body"]["string"]
        if request["uri"].startswith("https://www.googleapis.com/drive/v3/files?"):
            created = json.loads(recorded)  # Drive creates the spreadsheet: so do we
            fake_sheets.add_spreadsheet(created["id"], {"Sheet1": []}, title=created["name"])
            continue
        if not request["uri"].startswith("https://sheets.googleapis.com/"):
            continue
        text = request["body"] or ""
        for recorded_id, fake_id in sheet_ids.items():  # IDs the fake drew instead
            text = text.replace(f'"sheetId": {recorded_id}', f'"sheetId": {fake_id}')
        headers = {"Content-Type": "application/json"} if text else {}
        answer = session.request(
            request["method"], request["uri"], data=text.encode("utf-8") or None, headers=headers
        )
        assert answer.status_code == response["status"]["code"], (request["uri"], answer.text)
        assert _comparable(request["uri"], request["method"], answer.json()) == _comparable(
            request["uri"], request["method"], json.loads(recorded)
        ), request["uri"]
        sheet_ids |= _added_sheet_ids(json.loads(recorded), answer.json())
        compared += 1
    assert compared >= 4


# -- the fake's updateCells ----------------------------------------------------------------------


def test_fake_update_cells_start_range_and_atomicity(
    fake_sheets: FakeSheets, backend: GoogleSheetsBackend
) -> None:
    fake_sheets.add_spreadsheet(KEY, {"A": [["a1", "b1", "c1"], ["a2", "b2", "c2"]]})
    sheet_id = fake_sheets.sheet_properties(KEY, "A")["sheetId"]
    http = backend._http()

    def cells(*values: dict[str, Any]) -> dict[str, Any]:
        return {"values": [{"userEnteredValue": v} if v else {} for v in values]}

    # `start`: only the cells given change; a stringValue stays text, a formulaValue is
    # computed, an empty CellData clears its cell.
    http.batch_update(
        KEY,
        {
            "requests": [
                {
                    "updateCells": {
                        "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 1},
                        "rows": [cells({"stringValue": "=1+1"}, {"formulaValue": "=1+1"})],
                        "fields": "userEnteredValue",
                    }
                },
                {
                    "updateCells": {
                        "start": {"sheetId": sheet_id, "rowIndex": 1},
                        "rows": [cells({"numberValue": 2.5}, {})],
                        "fields": "userEnteredValue",
                    }
                },
            ]
        },
    )
    assert fake_sheets.tab(KEY, "A") == [["a1", "=1+1", 2], [2.5, "", "c2"]]

    # `range`: what the rows do not cover is cleared.
    http.batch_update(
        KEY,
        {
            "requests": [
                {
                    "updateCells": {
                        "range": {"sheetId": sheet_id},
                        "rows": [cells({"boolValue": False})],
                        "fields": "userEnteredValue",
                    }
                }
            ]
        },
    )
    assert fake_sheets.tab(KEY, "A") == [[False]]

    # A bad request anywhere in the batch: 400, and nothing of the batch is applied.
    bad = [
        _add_sheet_request("B"),
        {
            "updateCells": {
                "range": {"sheetId": sheet_id},
                "rows": [cells({"stringValue": "x", "numberValue": 1})],
                "fields": "userEnteredValue",
            }
        },
    ]
    with pytest.raises(gsheets_module.APIError) as caught:
        http.batch_update(KEY, {"requests": bad})
    assert caught.value.response.status_code == 400
    assert fake_sheets.tab_names(KEY) == ["A"] and fake_sheets.tab(KEY, "A") == [[False]]

    # Rows beyond the grid: 400 too.
    too_big = {
        "updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": 999},
            "rows": [cells({"stringValue": "x"})] * 2,
            "fields": "userEnteredValue",
        }
    }
    with pytest.raises(gsheets_module.APIError):
        http.batch_update(KEY, {"requests": [too_big]})
    assert fake_sheets.tab(KEY, "A") == [[False]]


def _add_sheet_request(title: str) -> dict[str, Any]:
    return {"addSheet": {"properties": {"title": title, "sheetId": 4242}}}
