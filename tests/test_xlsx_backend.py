"""The workbook backend on real files: reads what staff keep, writes only the owned tabs."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from click.testing import Result
from conftest import small_registry
from gt_registry.backends import Snapshot, open_backend
from gt_registry.backends.xlsx import WorkbookBackend
from gt_registry.config import Config
from gt_registry.errors import SourceError, WriteFailed
from gt_registry.loader import load_registry
from openpyxl.worksheet.datavalidation import DataValidation


def staff_workbook(tmp_path: Path) -> Path:
    """A workbook with a formula, a format, a validation and an extra sheet staff own."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for tab, rows in small_registry().items():
        sheet = book.create_sheet(tab)
        for row in rows:
            sheet.append(row)
    people = book["Personnes"]
    people["K1"] = "Total"
    people["K2"] = "=COUNTA(A2:A100)"
    people["A1"].font = openpyxl.styles.Font(bold=True, color="FF0000")
    validation = DataValidation(type="list", formula1='"fr,en"')
    people.add_data_validation(validation)
    validation.add("G2:G100")
    extra = book.create_sheet("Notes du pôle")
    extra["A1"] = "=SUM(1,2)"
    path = tmp_path / "staff.xlsx"
    book.save(path)
    return path


def test_read_returns_rows_as_typed(tmp_path: Path, config: Config) -> None:
    snapshot = WorkbookBackend(staff_workbook(tmp_path), config).read()
    assert "Notes du pôle" in snapshot.existing
    assert "Notes du pôle" not in snapshot.tabs  # only the registry's tabs are read
    meetings = snapshot.tabs["Réunions"]
    assert meetings[2][3] == dt.date(2020, 1, 14)  # a date cell stays a date
    assert snapshot.tabs["Organisations"][2][5] == "TRUE"  # typed text stays text
    assert (
        snapshot.tabs["Organisations"][3][6:] == []
    )  # trailing empty cells dropped, as Google does


def test_write_replaces_owned_tabs_and_keeps_everything_else(
    tmp_path: Path, config: Config
) -> None:
    path = staff_workbook(tmp_path)
    backend = WorkbookBackend(path, config)
    before = backend.read()
    backend.write(
        {
            "Éligibilité": [["ID", "Nom"], ["P-1", "=cmd|' /C calc'!A0"]],
            "Journal": [["Date"], ["x"]],
        },
        before,
    )
    book = openpyxl.load_workbook(path)
    assert book["Personnes"]["K2"].value == "=COUNTA(A2:A100)"  # formula kept
    assert book["Notes du pôle"]["A1"].value == "=SUM(1,2)"
    assert (
        book["Personnes"]["A1"].font.bold and book["Personnes"]["A1"].font.color.rgb == "00FF0000"
    )
    assert [str(dv.sqref) for dv in book["Personnes"].data_validations.dataValidation] == [
        "G2:G100"
    ]
    eligibility = book["Éligibilité"]
    assert (
        eligibility["B2"].value == "=cmd|' /C calc'!A0" and eligibility["B2"].data_type == "s"
    )  # text, not a formula
    assert WorkbookBackend(path, config).read().tabs["Personnes"] == before.tabs["Personnes"]


def test_rewrite_drops_leftover_rows(tmp_path: Path, config: Config) -> None:
    path = staff_workbook(tmp_path)
    backend = WorkbookBackend(path, config)
    backend.write({"Éligibilité": [["ID"], ["a"], ["b"], ["c"]]}, backend.read())
    backend.write({"Éligibilité": [["ID"], ["a"]]}, backend.read())
    assert backend.read().tabs["Éligibilité"] == [["ID"], ["a"]]


def test_write_never_touches_a_staff_tab(tmp_path: Path, config: Config) -> None:
    path = staff_workbook(tmp_path)
    backend = WorkbookBackend(path, config)
    before = path.read_bytes()
    with pytest.raises(SourceError, match="onglet du personnel : Personnes"):
        backend.write({"Personnes": [["ID"]]}, backend.read())
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    "lock", [".~lock.staff.xlsx#", "~$staff.xlsx"], ids=["libreoffice", "excel"]
)
def test_open_workbook_is_refused(tmp_path: Path, config: Config, lock: str) -> None:
    path = staff_workbook(tmp_path)
    (tmp_path / lock).write_text("someone,host")
    before = path.read_bytes()
    with pytest.raises(WriteFailed, match="ouvert dans un tableur") as caught:
        WorkbookBackend(path, config).write(
            {"Journal": [["Date"]]}, WorkbookBackend(path, config).read()
        )
    assert "fermez-le" in str(caught.value)
    assert path.read_bytes() == before


def test_failed_save_leaves_the_file_and_no_temp(
    tmp_path: Path, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = staff_workbook(tmp_path)
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("gt_registry.files.os.replace", broken_replace)
    backend = WorkbookBackend(path, config)
    with pytest.raises(WriteFailed, match="enregistrement impossible"):
        backend.write({"Journal": [["Date"]]}, backend.read())
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".gt-")] == []


def test_libreoffice_checkbox_formulas_are_read_as_values(tmp_path: Path, config: Config) -> None:
    """LibreOffice stores a checkbox as `=TRUE()` with its cached value: we read the value."""
    path = staff_workbook(tmp_path)
    book = openpyxl.load_workbook(path)
    book["Organisations"]["E2"] = "=TRUE()"
    book.save(path)
    # Add the cached value LibreOffice would have saved next to the formula.
    with zipfile.ZipFile(path) as src:
        files = {name: src.read(name) for name in src.namelist()}
    for name, data in files.items():
        if name.startswith("xl/worksheets/") and b"<f>TRUE()</f>" in data:
            files[name] = re.sub(
                rb'<c r="E2"([^>]*)><f>TRUE\(\)</f><v\s*/?>(</v>)?',
                rb'<c r="E2" t="b"><f>TRUE()</f><v>1</v>',
                data,
            )
    with zipfile.ZipFile(path, "w") as out:
        for name, data in files.items():
            out.writestr(name, data)
    result = load_registry(WorkbookBackend(path, config).read(), config, dt.date(2020, 6, 15))
    assert result.registry.organisations["ORG-1"].partner is True


def test_ods_is_read_but_not_written(tmp_path: Path, config: Config) -> None:
    path = tmp_path / "registre.ods"
    path.write_bytes(b"not really an ods")
    backend = WorkbookBackend(path, config)
    with pytest.raises(SourceError, match="classeur illisible"):
        backend.read()
    with pytest.raises(WriteFailed, match=r"\.ods"):
        backend.write({"Journal": [["Date"]]}, Snapshot())


def test_nothing_from_google_is_imported_for_a_workbook(config: Config) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from gt_registry.config import load_config; from gt_registry.backends import Snapshot, open_backend; "
        "from gt_registry.cli import gt; open_backend(load_config(None, sheet='x.xlsx', environ={})); "
        "print(sorted(m for m in sys.modules if m.startswith(('gspread', 'google'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_google_urls_and_keys_pick_the_google_backend(config: Config) -> None:
    from dataclasses import replace

    key = "1aNvNhBanaHVP93PL4xmzA69TyNmTcfv7CUaCkGm"
    for sheet in (key, f"https://docs.google.com/spreadsheets/d/{key}/edit#gid=0"):
        backend = open_backend(replace(config, sheet=sheet))
        assert type(backend).__name__ == "GoogleSheetsBackend"
    assert isinstance(open_backend(replace(config, sheet="registre.xlsx")), WorkbookBackend)


def test_init_creates_a_complete_workbook(run_gt: Callable[..., Result], tmp_path: Path) -> None:
    path = tmp_path / "neuf.xlsx"
    result = run_gt("--sheet", path, "init")
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [
        "Organisations",
        "Personnes",
        "Groupes",
        "Réunions",
        "Présences",
        "Éligibilité",
        "Bilan organisations",
        "Journal",
    ]
    people = book["Personnes"]
    assert [c.value for c in people[1]][:4] == ["ID", "Prénom", "Nom", "E-mail"]
    assert people.freeze_panes == "A2"
    lists = {str(dv.sqref): dv.formula1 for dv in book["Présences"].data_validations.dataValidation}
    assert lists == {"C2:C5000": '"présent,excusé,absent"'}
    groups = {str(dv.sqref): dv.formula1 for dv in book["Réunions"].data_validations.dataValidation}
    assert groups["C2:C5000"] == "Groupes!$A$2:$A$200"
    assert run_gt("--sheet", path, "check").exit_code == 0


def test_init_on_a_complete_workbook_writes_nothing(
    run_gt: Callable[..., Result], demo_xlsx: Path
) -> None:
    before = demo_xlsx.read_bytes()
    result = run_gt("--sheet", demo_xlsx, "init", "--demo")
    assert result.exit_code == 0
    assert "déjà complet, rien n'a été écrit" in result.output
    assert "--force" in result.output
    assert demo_xlsx.read_bytes() == before


def test_init_adds_missing_tabs_and_headers_without_touching_data(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path]
) -> None:
    tabs = small_registry()
    del tabs["Groupes"]
    tabs["Personnes"] = [row[:4] + row[4:5] for row in tabs["Personnes"]]
    path = make_workbook(tabs)
    result = run_gt("--sheet", path, "init")
    assert result.exit_code == 0, result.output
    assert "onglet créé : Groupes" in result.output
    assert "Personnes : en-têtes ajoutés : Téléphone, Fonction, Groupes" in result.output
    book = openpyxl.load_workbook(path)
    assert book["Personnes"]["A2"].value == "P-1" and book["Personnes"]["F1"].value == "Téléphone"


def test_init_adds_headers_after_the_last_one_even_past_a_blank_header(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path]
) -> None:
    tabs = small_registry()
    people = tabs["Personnes"][0]
    people[1] = None  # staff blanked "Prénom": it is added again, after the last header
    path = make_workbook(tabs)
    result = run_gt("--sheet", path, "init")
    assert result.exit_code == 0, result.output
    header = [c.value for c in openpyxl.load_workbook(path)["Personnes"][1]]
    assert header[: len(people)] == people
    assert header[len(people)] == "Prénom"


def test_demo_fills_the_whole_season(demo_xlsx: Path, config: Config) -> None:
    result = load_registry(WorkbookBackend(demo_xlsx, config).read(), config, dt.date(2020, 6, 15))
    reg = result.registry
    assert not result.problems and not result.fatal
    assert len(reg.organisations) == 40 and len(reg.people) == 120
    assert set(reg.groups) == {"AI", "MEI", "FI", "PDMI"}
    assert {o.type for o in reg.organisations.values()} == {
        "Acteur public",
        "Économie sociale et solidaire",
        "Entreprise",
        "ONG",
        "Média",
        "Recherche et enseignement supérieur",
    }
    assert {m.type for m in reg.meetings.values()} == {
        "Lancement",
        "Réunion",
        "Petit-déjeuner",
        "Soirée",
    }
    assert len(reg.attendance) > 200


def test_init_respects_alias_headers_and_loose_tab_names(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path]
) -> None:
    """An existing workbook with `Courriel` and a `presences` tab gets no duplicate column or tab."""
    tabs = small_registry()
    tabs["Personnes"][0][3] = "Courriel"
    tabs["presences"] = tabs.pop("Présences")
    path = make_workbook(tabs)
    dry = run_gt("--sheet", path, "init", "--dry-run")
    assert dry.exit_code == 0 and "rien n'a été écrit" in dry.output
    assert "onglet serait créé : Éligibilité" in dry.output
    assert "Présences" not in dry.output and "E-mail" not in dry.output
    before = path.read_bytes()
    assert path.read_bytes() == before
    result = run_gt("--sheet", path, "init")
    book = openpyxl.load_workbook(path)
    assert "Présences" not in book.sheetnames
    assert "E-mail" not in [c.value for c in book["Personnes"][1]]
    assert result.exit_code == 0


def test_init_that_wrote_adds_a_journal_row(run_gt: Callable[..., Result], tmp_path: Path) -> None:
    path = tmp_path / "neuf.xlsx"
    assert run_gt("--sheet", path, "init", "--demo").exit_code == 0
    rows = list(openpyxl.load_workbook(path)["Journal"].iter_rows(values_only=True))
    assert [r[1] for r in rows[1:]] == ["init"]
    assert "données de démonstration : Organisations" in rows[1][3]
    assert run_gt("--sheet", path, "init").exit_code == 0  # complete: nothing written, no row
    assert len(list(openpyxl.load_workbook(path)["Journal"].iter_rows())) == 2
