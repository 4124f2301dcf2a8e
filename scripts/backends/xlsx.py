"""The local workbook backend: read with python-calamine (fast, also `.ods`), write the
tool-owned tabs with openpyxl, keeping every other sheet, formula, format and validation.

Writes are atomic (a temporary file in the same folder, then a rename), and refused while a
spreadsheet program holds the workbook open (its lock file is next to it).
"""

from __future__ import annotations

import getpass
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SourceError, WriteFailed
from ..model import Rows, Value
from . import InitReport, Snapshot, TabLayout, tab_names

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

    from ..config import Config


class WorkbookBackend:
    def __init__(self, path: Path, config: Config) -> None:
        self.path = path
        self.config = config
        self.description = f"classeur {path}"

    def identity(self) -> str:
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "inconnu"

    # -- reading -----------------------------------------------------------------------
    def read(self) -> Snapshot:
        from python_calamine import CalamineError, CalamineWorkbook

        if not self.path.is_file():
            raise SourceError(
                f"{self.path} : classeur introuvable",
                "créez-le avec « gt init » (ou « gt init --demo »), ou indiquez --sheet",
            )
        try:
            book = CalamineWorkbook.from_path(str(self.path))
            wanted = set(tab_names(self.config))
            tabs = {
                name: _trim(book.get_sheet_by_name(name).to_python(skip_empty_area=False))
                for name in book.sheet_names
                if name in wanted
            }
        except (CalamineError, OSError, ValueError) as err:
            raise SourceError(f"{self.path} : classeur illisible ({err})", "est-ce bien un fichier .xlsx ou .ods ?") from err
        return Snapshot(tabs=tabs, existing=tuple(book.sheet_names))

    # -- writing -----------------------------------------------------------------------
    def write(self, contents: dict[str, Rows], previous: Snapshot) -> None:
        staff = {t.name for t in self.config.staff_tabs.values()}
        forbidden = sorted(set(contents) & staff)
        if forbidden:
            raise SourceError(f"écriture refusée dans un onglet du personnel : {', '.join(forbidden)}")
        if not contents:
            return
        book = self._load_for_writing()
        for name, rows in contents.items():
            _replace_sheet(book, name, rows)
        self._save(book)

    def _load_for_writing(self) -> Workbook:
        import openpyxl

        if self.path.suffix.lower() not in {".xlsx", ".xlsm"}:
            raise WriteFailed(
                f"{self.path} : écriture impossible dans un fichier {self.path.suffix}",
                "enregistrez le classeur au format .xlsx (Fichier › Enregistrer sous) puis relancez",
            )
        self._refuse_if_open()
        try:
            # Never data_only=True: saving such a workbook would drop every formula.
            return openpyxl.load_workbook(self.path)
        except (OSError, ValueError, KeyError) as err:
            raise WriteFailed(f"{self.path} : classeur illisible pour l'écriture ({err})") from err

    def _refuse_if_open(self) -> None:
        folder, name = self.path.parent, self.path.name
        for lock in (folder / f".~lock.{name}#", folder / f"~${name}"):
            if lock.exists():
                raise WriteFailed(
                    f"{self.path} : le classeur est ouvert dans un tableur (fichier de verrou {lock.name})",
                    "fermez-le dans Excel ou LibreOffice, puis relancez : rien n'a été écrit",
                )

    def _save(self, book: Workbook) -> None:
        handle, temp = tempfile.mkstemp(prefix=".gt-", suffix=".xlsx", dir=self.path.parent)
        os.close(handle)
        try:
            book.save(temp)
            if self.path.exists():
                os.chmod(temp, self.path.stat().st_mode & 0o777)
            os.replace(temp, self.path)
        except OSError as err:
            Path(temp).unlink(missing_ok=True)
            raise WriteFailed(f"{self.path} : enregistrement impossible ({err.strerror})", "rien n'a été écrit ; vérifiez les droits du dossier") from err

    # -- gt init -----------------------------------------------------------------------
    def initialise(self, layout: list[TabLayout], data: dict[str, Rows] | None, force: bool) -> InitReport:
        import openpyxl

        report = InitReport()
        if force or not self.path.exists():
            book = openpyxl.Workbook()
            book.remove(book.active)
        else:
            book = self._load_for_writing()
        for tab in layout:
            self._initialise_tab(book, tab, data, force, report)
        if report.changed or force:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists():
                self._refuse_if_open()
            self._save(book)
        return report

    def _initialise_tab(self, book: Workbook, tab: TabLayout, data: dict[str, Rows] | None, force: bool, report: InitReport) -> None:
        if tab.name in book.sheetnames:
            sheet = book[tab.name]
            present = [_cell_text(c.value) for c in sheet[1]] if sheet.max_row >= 1 else []
            missing = [h for h in tab.headers if h not in present]
            if missing:
                start = len([p for p in present if p]) + 1
                for offset, header in enumerate(missing):
                    sheet.cell(row=1, column=start + offset, value=header)
                report.added_headers[tab.name] = missing
        else:
            sheet = book.create_sheet(tab.name)
            sheet.append(list(tab.headers))
            report.created_tabs.append(tab.name)
            _decorate(sheet, tab)
        rows = (data or {}).get(tab.name)
        if rows and (force or sheet.max_row <= 1):
            for number, row in enumerate(rows[1:], start=sheet.max_row + 1):
                _append(sheet, row, number)
            report.filled_tabs.append(tab.name)


def _trim(rows: list[list[Value]]) -> Rows:
    """calamine pads with "" to a rectangle; drop trailing empty cells and rows (as Google does)."""
    out: Rows = []
    for row in rows:
        end = len(row)
        while end and (row[end - 1] == "" or row[end - 1] is None):
            end -= 1
        out.append(list(row[:end]))
    while out and not out[-1]:
        out.pop()
    return out


def _cell_text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _append(sheet: Worksheet, row: list[Value], number: int) -> None:
    """Append values as row `number`, never formulas (the same as RAW on Google Sheets): a
    text starting with `=` stays text."""
    sheet.append(row)
    for column, value in enumerate(row, start=1):
        if isinstance(value, str) and value.startswith("="):
            sheet.cell(row=number, column=column).data_type = "s"


def _replace_sheet(book: Workbook, name: str, rows: Rows) -> None:
    from openpyxl.styles import Font

    index = book.sheetnames.index(name) if name in book.sheetnames else len(book.sheetnames)
    if name in book.sheetnames:
        book.remove(book[name])
    sheet = book.create_sheet(name, index)
    for number, row in enumerate(rows, start=1):
        _append(sheet, row, number)
    for cell in sheet[1] if rows else ():
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sheet.sheet_properties.tabColor = "999999"



def _decorate(sheet: Worksheet, tab: TabLayout) -> None:
    """Bold frozen header row, readable widths, drop-down lists, and a grey tab if owned."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        sheet.column_dimensions[cell.column_letter].width = max(12, len(str(cell.value)) + 4)
    sheet.freeze_panes = "A2"
    if tab.owned:
        sheet.sheet_properties.tabColor = "999999"
    for header, choices in tab.choices.items():
        if header not in tab.headers or not choices:
            continue
        column = sheet.cell(row=1, column=tab.headers.index(header) + 1).column_letter
        formula = choices[0] if len(choices) == 1 and choices[0].startswith("=") else '"' + ",".join(choices) + '"'
        validation = DataValidation(type="list", formula1=formula.lstrip("="), allow_blank=True)
        validation.error = "Choisissez une valeur de la liste"
        validation.showErrorMessage = False  # a warning culture: staff may type variants we parse
        sheet.add_data_validation(validation)
        validation.add(f"{column}2:{column}5000")
