"""`gt init` and `gt check` through real gspread + google-auth against the Sheets fake."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from conftest import small_registry
from fake_sheets import FakeSheets
from gt_registry.backends.xlsx import WorkbookBackend
from gt_registry.config import Config
from gt_registry.loader import load_registry

KEY = "1GtRegistryTestSheet0123456789abcdefABCDEF"
URL = f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0"


def google(run_gt: Callable[..., Result], credentials: Path) -> Callable[..., Result]:
    return lambda *args: run_gt("--sheet", URL, "--credentials", credentials, *args)


def serial(day: dt.date) -> int:
    return (day - dt.date(1899, 12, 30)).days


def test_init_demo_then_check_on_google(
    run_gt: Callable[..., Result], fake_sheets: FakeSheets, service_account_file: Path
) -> None:
    fake_sheets.add_spreadsheet(KEY, {"Feuille 1": []})
    gt = google(run_gt, service_account_file)
    result = gt("init", "--demo-season", "2019-2020")  # the season of the --as-of below
    assert result.exit_code == 0, result.output
    assert "onglet créé : Personnes" in result.output
    # Structure, headers and demo in one batchUpdate, then the Journal row (appended: one
    # more batchUpdate, the tabs named by the IDs init gave them).
    assert fake_sheets.count("batchUpdate") == 2 and fake_sheets.count("values.batchUpdate") == 0
    assert fake_sheets.count("metadata") == 1
    journal = fake_sheets.tab(KEY, "Journal")
    assert journal[1][1:3] == ["init", "gt-registre@gt-tests.iam.gserviceaccount.com"]
    assert journal[1][3].startswith("onglets créés : Organisations, Personnes")
    assert {
        "Organisations",
        "Personnes",
        "Groupes",
        "Réunions",
        "Présences",
        "Éligibilité",
        "Bilan organisations",
        "Journal",
    } <= set(fake_sheets.tab_names(KEY))
    for owned in ("Éligibilité", "Bilan organisations", "Journal"):  # warning-only protection
        assert [p.get("warningOnly") for p in fake_sheets.protected_ranges(KEY, owned)] == [True]
    assert fake_sheets.protected_ranges(KEY, "Personnes") == []

    before = len(fake_sheets.requests)
    result = gt("--as-of", "2020-06-15", "check")
    assert result.exit_code == 0, result.output
    assert "Aucun problème. 40 organisations, 120 personnes" in result.stderr
    reads = [r.kind for r in fake_sheets.requests[before:] if r.kind != "token"]
    assert reads == ["values.batchGet"], "a check is exactly one read request"


def test_init_on_a_complete_google_registry_sends_no_write(
    run_gt: Callable[..., Result], fake_sheets: FakeSheets, service_account_file: Path
) -> None:
    fake_sheets.add_spreadsheet(KEY, {})
    gt = google(run_gt, service_account_file)
    assert gt("init").exit_code == 0
    writes = fake_sheets.count("values.batchUpdate") + fake_sheets.count("batchUpdate")
    result = gt("init")
    assert result.exit_code == 0
    assert "déjà complet, rien n'a été écrit" in result.output
    assert fake_sheets.count("values.batchUpdate") + fake_sheets.count("batchUpdate") == writes


def test_google_and_xlsx_read_the_same_registry(
    fake_sheets: FakeSheets,
    make_workbook: Callable[..., Path],
    config: Config,
    service_account_file: Path,
) -> None:
    """Dates come back as serial numbers from Google and as date cells from xlsx: same model."""
    from dataclasses import replace

    from gt_registry.backends import open_backend

    tabs = small_registry()
    google_tabs = {
        name: [[serial(v) if isinstance(v, dt.date) else v for v in row] for row in rows]
        for name, rows in tabs.items()
    }
    google_tabs["Réunions"] = [
        [serial(dt.date(2019, 11, 19)) if v == "19/11/2019" else v for v in row]
        for row in google_tabs["Réunions"]
    ]
    google_tabs["Organisations"][2][5] = True  # a checkbox
    fake_sheets.add_spreadsheet(KEY, google_tabs)
    today = dt.date(2020, 6, 15)
    from_google = load_registry(
        open_backend(replace(config, sheet=KEY, credentials=service_account_file)).read(),
        config,
        today,
    )
    from_xlsx = load_registry(WorkbookBackend(make_workbook(tabs), config).read(), config, today)
    assert from_google.problems == from_xlsx.problems == []
    assert from_google.registry.meetings == from_xlsx.registry.meetings
    assert from_google.registry.people == from_xlsx.registry.people
    assert from_google.registry.organisations == from_xlsx.registry.organisations
    assert from_google.registry.attendance == from_xlsx.registry.attendance


def test_unshared_sheet_names_the_service_account(
    run_gt: Callable[..., Result], fake_sheets: FakeSheets, service_account_file: Path
) -> None:
    fake_sheets.add_spreadsheet(KEY, small_registry(), access=None)
    result = google(run_gt, service_account_file)("check")
    assert result.exit_code == 3
    assert "partagez la feuille avec" in result.stderr and "@" in result.stderr
    assert "PRIVATE KEY" not in result.output


def test_unknown_key_and_missing_tab(
    run_gt: Callable[..., Result], fake_sheets: FakeSheets, service_account_file: Path
) -> None:
    result = google(run_gt, service_account_file)("check")
    assert result.exit_code == 3
    assert "aucune feuille Google Sheets" in result.stderr
    tabs = small_registry()
    tabs["Présence"] = tabs.pop("Présences")
    fake_sheets.add_spreadsheet(KEY, tabs)
    result = google(run_gt, service_account_file)("check")
    assert result.exit_code == 3
    assert "onglet « Présences » introuvable (vouliez-vous dire « Présence » ?" in result.stdout


def test_missing_credentials_file_is_a_clean_error(
    run_gt: Callable[..., Result], fake_sheets: FakeSheets, tmp_path: Path
) -> None:
    fake_sheets.add_spreadsheet(KEY, small_registry())
    result = run_gt("--sheet", KEY, "--credentials", tmp_path / "absent.json", "check", debug=False)
    assert result.exit_code == 3
    assert "Traceback" not in result.output and "--credentials" in result.stderr


def test_init_dry_run_on_google_sends_no_write(
    run_gt: Callable[..., Result], fake_sheets: FakeSheets, service_account_file: Path
) -> None:
    fake_sheets.add_spreadsheet(KEY, {"Feuille 1": []})
    result = google(run_gt, service_account_file)("init", "--demo", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "onglet serait créé : Personnes" in result.output
    assert fake_sheets.count("values.batchUpdate") == fake_sheets.count("batchUpdate") == 0
    assert fake_sheets.tab_names(KEY) == ["Feuille 1"]


# -- Google addresses and the token service --------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        f"https://docs.google.com/spreadsheets/u/1/d/{KEY}/edit#gid=0",  # several accounts
        f"https://docs.google.com/spreadsheets/u/0/d/{KEY}/edit?usp=sharing",
        f"docs.google.com/spreadsheets/d/{KEY}",
    ],
    ids=["u-1", "u-0-sharing", "no-scheme"],
)
def test_every_google_address_of_a_sheet_is_google(
    run_gt: Callable[..., Result],
    fake_sheets: FakeSheets,
    service_account_file: Path,
    tmp_path: Path,
    address: str,
) -> None:
    fake_sheets.add_spreadsheet(KEY, small_registry())
    result = run_gt("--sheet", address, "--credentials", service_account_file, "check")
    assert fake_sheets.count("values.batchGet") >= 1, result.output  # read from Google
    assert "classeur introuvable" not in result.output


@pytest.mark.parametrize(
    ("address", "message"),
    [
        (
            "https://docs.google.com/spreadsheets/d/e/2PACX-1vQx9_abcdefghijklmnopqrstuvwxyz/pubhtml",
            "c'est un lien de publication (« Publier sur le Web ») : il ne donne qu'une copie "
            "en lecture seule, sans la clé de la feuille",
        ),
        (
            "https://docs.google.com/document/d/1AbcdefghijklmnopqrstuvwxyzABCDEF/edit",
            "ce n'est pas l'adresse d'une feuille Google Sheets",
        ),
    ],
    ids=["published", "a-document"],
)
@pytest.mark.parametrize("command", ["init", "check"])
def test_a_web_address_that_is_no_sheet_is_refused_not_created(
    run_gt: Callable[..., Result],
    fake_sheets: FakeSheets,
    address: str,
    message: str,
    command: str,
) -> None:
    result = run_gt("--sheet", address, command, debug=False)
    assert result.exit_code == 3
    assert f"{address} : {message}" in result.stderr
    assert "https://docs.google.com/spreadsheets/d/CLÉ/edit" in result.stderr  # the fix
    assert "Traceback" not in result.output
    assert not (Path.cwd() / "https:").exists()  # no folders made of the address
    assert fake_sheets.requests == []


@pytest.mark.usefixtures("no_token_backoff")
def test_token_service_failing_is_google_unavailable_not_a_revoked_key(
    run_gt: Callable[..., Result], fake_sheets: FakeSheets, service_account_file: Path
) -> None:
    fake_sheets.add_spreadsheet(KEY, small_registry())
    fake_sheets.fail_next("token", 500, times=None)
    result = google(run_gt, service_account_file)("check")
    assert result.exit_code == 3
    assert "le service d'authentification de Google ne répond pas (erreur serveur)" in result.stderr
    assert f"--credentials {service_account_file}" in result.stderr
    assert "ce n'est pas un problème d'identifiants : réessayez dans quelques minutes" in (
        result.stderr
    )
    assert "révoqu" not in result.stderr
    assert fake_sheets.count("values.batchGet") == 0


def test_a_revoked_login_on_sheets_is_not_called_a_service_account(
    run_gt: Callable[..., Result],
    fake_sheets: FakeSheets,
    fake_gmail: Any,
    authorized_user_file: Path,
) -> None:
    """A `gt login` user whose authorisation was revoked: Sheets says it as Gmail does
    (`auth.refresh_failure`), never « compte de service », and the fix is « gt login »."""
    fake_sheets.add_spreadsheet(KEY, small_registry())
    for grant in fake_gmail.grants.values():
        grant.revoked = True
    result = google(run_gt, authorized_user_file)("check")
    assert result.exit_code == 3
    assert "autorisation révoquée ou expirée" in result.stderr
    assert f"--credentials {authorized_user_file}" in result.stderr
    assert "gt login" in result.stderr
    assert "identifiants du compte de service" not in result.stderr
    assert fake_sheets.count("values.batchGet") == 0
