"""Shared fixtures: an isolated environment, demo and hand-made workbooks, a CLI runner.

The Google Sheets fake (HTTP level, real gspread) lives in `fake_sheets.py`; its fixtures
(`fake_sheets`, `service_account_file`, the autouse `no_network`) are imported here.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result
from fake_gmail import *  # noqa: F403  (fixtures: fake_gmail, authorized_user_file, …)
from fake_sheets import *  # noqa: F403  (fixtures: fake_sheets, service_account_file, no_network)
from gt_registry.backends.xlsx import WorkbookBackend
from gt_registry.cli import gt
from gt_registry.commands.init import layout
from gt_registry.config import Config, load_config
from gt_registry.demo import demo_rows
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

DEMO_TODAY = dt.date(2020, 6, 15)
PROJECT_ROOT = Path(__file__).resolve().parent.parent

# No example database in the repository: tests never write into the project's tree.
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="gt-hypothesis-"))
settings.register_profile("gt", database=None, deadline=None)
settings.load_profile("gt")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's own configuration or Google credentials."""
    for name in ("GT_CONFIG", "GT_SHEET", "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # gt login's folder
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # Gmail drafts not recorded yet
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Nobody sleeps through a retry back-off: the delays asked for are recorded instead."""
    delays: list[float] = []
    monkeypatch.setattr("gt_registry.backends.gsheets.SLEEP", delays.append)
    monkeypatch.setattr("gt_registry.gmail.SLEEP", delays.append)  # its pacing too
    return delays


@pytest.fixture
def config() -> Config:
    return load_config(None, environ={})


@pytest.fixture
def demo_xlsx(tmp_path: Path, config: Config) -> Path:
    """A fresh demo workbook of the 2019-2020 season, on `DEMO_TODAY` (the same as
    `gt init --demo-season 2019-2020`): the tests' dates do not move with the clock."""
    path = tmp_path / "registre.xlsx"
    rows = demo_rows(config, DEMO_TODAY.year - 1, DEMO_TODAY)
    WorkbookBackend(path, config).initialise(layout(config), rows, force=True)
    return path


Tabs = dict[str, list[list[Any]]]


@pytest.fixture
def make_workbook(tmp_path: Path) -> Callable[..., Path]:
    """Write a hand-made registry: `make_workbook({"Personnes": [[headers...], [row...]]})`."""

    def make(tabs: Tabs, name: str = "main.xlsx") -> Path:
        book = openpyxl.Workbook()
        book.remove(book.active)
        for tab, rows in tabs.items():
            sheet = book.create_sheet(tab)
            for row in rows:
                sheet.append(row)
        path = tmp_path / name
        book.save(path)
        return path

    return make


@pytest.fixture
def run_gt() -> Callable[..., Result]:
    """Invoke `gt` in-process: `run_gt("--sheet", path, "check")`.

    `--debug` is always given: an unexpected exception then fails the test with its
    traceback instead of looking like a clean exit 3 (project errors print as usual, after
    their trace). `debug=False` runs exactly what a user runs, for the no-traceback tests."""

    def run(*args: Any, input: str | None = None, debug: bool = True) -> Result:
        argv = ["--debug"] * debug + [str(a) for a in args]
        return CliRunner().invoke(gt, argv, input=input, catch_exceptions=False)

    return run


def small_registry() -> Tabs:
    """A hand-checked registry used across command tests (see test_sync_eligibility)."""
    return {
        "Organisations": [
            [
                "ID",
                "Nom",
                "Type",
                "Pays",
                "Partenaire",
                "Co-organisateur FMC",
                "Salle disponible",
                "Adresse",
            ],
            ["ORG-1", "Fondation Alpha", "ONG", "France", "oui", "non", "oui", "1 rue A, Paris"],
            ["ORG-2", "Banque Beta", "Entreprise", "France", "non", "TRUE", "", ""],
            ["ORG-3", "Média Gamma", "Média", "Maroc", "", "", "", ""],
        ],
        "Personnes": [
            [
                "ID",
                "Prénom",
                "Nom",
                "E-mail",
                "Organisation",
                "Groupes",
                "Langue",
                "Désinscription",
                "Dérogation",
                "Notes",
            ],
            ["P-1", "Anne", "Aubert", "anne@alpha.org", "ORG-1", "AI, FI", "fr", "", "", ""],
            ["P-2", "Bruno", "Bellec", "bruno@beta.com", "ORG-2", "AI", "en", "", "", ""],
            ["P-3", "Chloé", "Camus", "chloe@gamma.ma", "Média Gamma", "FI; PDMI", "", "", "", ""],
            ["P-4", "David", "Durand", "david@alpha.org", "ORG-1", "PDMI", "", "oui", "", ""],
            [
                "P-5",
                "Emma",
                "Eboué",
                "emma@beta.com",
                "ORG-2",
                "",
                "",
                "",
                "actif",
                "Co-animatrice",
            ],
            [
                "P-6",
                "Farid",
                "Fath",
                "farid@gamma.ma",
                "ORG-3",
                "AI",
                "",
                "",
                "inactif",
                "A quitté l'organisation",
            ],
        ],
        "Groupes": [
            ["Code", "Nom", "Référent", "E-mail référent"],
            [
                "AI",
                "GT Action internationale",
                "Camille Laurent",
                "camille@convergences.example.org",
            ],
            ["FI", "GT Finance à impact", "", ""],
            ["PDMI", "Petits déjeuners de la mesure d'impact", "", ""],
        ],
        "Réunions": [
            ["ID", "Type", "Groupe", "Date", "Début", "Fin", "Lieu", "Adresse", "Hôte", "Thème"],
            [
                "R-L",
                "Lancement",
                "",
                "19/11/2019",
                "9h30",
                "12h30",
                "Salle Alpha",
                "1 rue A, Paris",
                "ORG-1",
                "Lancement",
            ],
            [
                "R-AI-1",
                "Réunion",
                "AI",
                dt.date(2020, 1, 14),
                "9h30",
                "11h30",
                "Salle Alpha",
                "1 rue A",
                "ORG-1",
                "ODD",
            ],
            [
                "R-FI-1",
                "Réunion",
                "FI",
                "2020-03-03",
                "09:30",
                "11:30",
                "Banque Beta",
                "",
                "ORG-2",
                "",
            ],
            ["R-PD-1", "Petit-déjeuner", "PDMI", "05/02/2020", "8h30", "10h", "", "", "", ""],
            ["R-S", "Soirée", "", "25/06/2020", "18h30", "21h", "", "", "", ""],
            [
                "R-OLD",
                "Réunion",
                "AI",
                "14/05/2019",
                "9h30",
                "11h30",
                "",
                "",
                "",
                "saison précédente",
            ],
        ],
        "Présences": [
            ["Réunion", "Personne", "Statut", "Commentaire"],
            ["R-L", "P-1", "présente", ""],
            ["R-AI-1", "P-1", "", ""],
            ["R-FI-1", "P-1", "Présent·e", ""],
            ["R-L", "P-2", "présent", ""],
            ["R-AI-1", "P-2", "excusé", ""],
            ["R-L", "P-3", "x", ""],
            ["R-PD-1", "chloe@gamma.ma", "présente", ""],
            ["R-PD-1", "P-3", "présente", "doublon"],
            ["R-L", "P-6", "présent", ""],
            ["R-AI-1", "P-6", "présent", ""],
            ["R-OLD", "P-2", "présent", ""],
        ],
    }


@pytest.fixture
def small_xlsx(make_workbook: Callable[..., Path]) -> Path:
    return make_workbook(small_registry())
