"""The local workbook backend: read with python-calamine (fast, also `.ods`), write the
tool-owned tabs without touching anything else.

A write replaces only the owned tabs' worksheet parts inside the .xlsx zip and copies every
other zip member byte for byte (compressed bytes included): no load of the staff's whole
workbook, and nothing it holds is lost (images, charts, pivot tables, comments, formats...),
even what openpyxl would not understand. The first write of a tab that does not exist yet, or a
workbook of an unusual shape, goes through openpyxl instead (see `_fast_plan`).

Writes are atomic (a temporary file in the same folder, then a rename), and refused while a
spreadsheet program holds the workbook open (its lock file is next to it).
"""

from __future__ import annotations

import datetime as dt
import getpass
import math
import posixpath
import re
import struct
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast
from urllib.parse import unquote
from xml.etree import ElementTree as ET

from ..errors import SourceError, WriteFailed
from ..files import atomic_write
from ..initplan import TabPlan, plan_init
from ..model import Rows, Value, column_letter
from . import (
    NOTHING_APPENDED,
    InitReport,
    Snapshot,
    TabLayout,
    header_spellings,
    match_tabs,
    tab_names,
)

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
            found = match_tabs(tab_names(self.config), book.sheet_names)
            tabs = {
                wanted: _trim(book.get_sheet_by_name(real).to_python(skip_empty_area=False))
                for wanted, real in found.items()
            }
        except (CalamineError, OSError, ValueError) as err:
            raise SourceError(
                f"{self.path} : classeur illisible ({err})",
                "est-ce bien un fichier .xlsx ou .ods ?",
            ) from err
        actual = {wanted: real for wanted, real in found.items() if wanted != real}
        return Snapshot(tabs=tabs, existing=tuple(book.sheet_names), actual=actual)

    # -- writing -----------------------------------------------------------------------
    def write(
        self,
        contents: dict[str, Rows],
        previous: Snapshot,
        appended: Mapping[str, Rows] = NOTHING_APPENDED,
    ) -> None:
        if appended:
            # Interim, until the locked read-to-write lands: the tab as it is now, then the rows.
            now = self.read().tabs
            contents = {
                **contents,
                **{name: [*(now.get(name) or []), *rows] for name, rows in appended.items()},
            }
        staff = [t.name for t in self.config.staff_tabs.values()]
        forbidden = sorted(set(match_tabs(contents, staff).values()) | (set(contents) & set(staff)))
        if forbidden:
            raise SourceError(
                f"écriture refusée dans un onglet du personnel : {', '.join(forbidden)}"
            )
        if not contents:
            return
        contents = {previous.real_name(name): rows for name, rows in contents.items()}
        self._check_writable()
        # `previous` is not needed: each owned tab's part is replaced whole, old rows included.
        if self._write_fast(contents):
            return
        book = self._load()
        for name, rows in contents.items():
            _replace_sheet(book, name, rows)
        self._save(book)

    def _write_fast(self, contents: dict[str, Rows]) -> bool:
        """Replace the owned tabs' parts in the zip; False (nothing written) when the workbook
        needs the openpyxl path: a tab to create, or a shape we do not handle."""
        try:
            source = zipfile.ZipFile(self.path)
        except (OSError, zipfile.BadZipFile):
            return False  # the openpyxl path reports why it cannot read the file
        with source:
            plan = _fast_plan(source, list(contents))
            if plan is None:
                return False
            self._atomic(lambda temp: _rewrite(source, self.path, temp, plan, contents))
        return True

    def _load_for_writing(self) -> Workbook:
        self._check_writable()
        return self._load()

    def _check_writable(self) -> None:
        if self.path.suffix.lower() not in {".xlsx", ".xlsm"}:
            raise WriteFailed(
                f"{self.path} : écriture impossible dans un fichier {self.path.suffix}",
                "enregistrez le classeur au format .xlsx (Fichier › Enregistrer sous) puis relancez",
            )
        self._refuse_if_open()

    def _load(self) -> Workbook:
        import openpyxl

        try:
            # Never data_only=True: saving such a workbook would drop every formula. Keep the
            # macros of an .xlsm (without keep_vba, openpyxl would save an unopenable file).
            return openpyxl.load_workbook(self.path, keep_vba=self.path.suffix.lower() == ".xlsm")
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
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
        self._atomic(book.save)

    def _atomic(self, save: Callable[[str], None]) -> None:
        """`save(temp)`, then the temporary file replaces the workbook (`files.atomic_write`)."""
        try:
            atomic_write(self.path, lambda temp: save(str(temp)), suffix=".xlsx")
        except OSError as err:
            raise WriteFailed(
                f"{self.path} : enregistrement impossible ({err.strerror})",
                "rien n'a été écrit ; vérifiez les droits du dossier",
            ) from err

    # -- gt init -----------------------------------------------------------------------
    def initialise(
        self,
        layout: list[TabLayout],
        data: dict[str, Rows] | None,
        force: bool,
        dry_run: bool = False,
    ) -> InitReport:
        """Apply `initplan.plan_init`'s plan to the workbook, or to a new one when there is
        none or with `force` (which replaces the whole workbook), in one atomic save."""
        import openpyxl

        if force or not self.path.exists():
            book = openpyxl.Workbook()
            book.remove(book.active)
        else:
            book = self._load_for_writing()
        spellings = {tab.name: header_spellings(self.config, tab.name) for tab in layout}
        plan = plan_init(layout, _book_snapshot(book, layout), data, force, spellings)
        if (plan.report.changed or force) and not dry_run:
            for tab in plan.tabs:
                _apply(book, tab)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists():
                self._refuse_if_open()
            self._save(book)
        return plan.report


def _book_snapshot(book: Workbook, layout: list[TabLayout]) -> Snapshot:
    """The layout's tabs as they are in `book` (the workbook `gt init` is about to change)."""
    found = match_tabs([tab.name for tab in layout], book.sheetnames)
    tabs = {
        name: _trim(list(book[real].iter_rows(values_only=True))) for name, real in found.items()
    }
    actual = {name: real for name, real in found.items() if name != real}
    return Snapshot(tabs=tabs, existing=tuple(book.sheetnames), actual=actual)


def _apply(book: Workbook, tab: TabPlan) -> None:
    """One tab's plan: its cells (never formulas, as with RAW on Google Sheets: a text
    starting with `=` stays text), then the decoration; a new tab's header row is styled."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    sheet = book.create_sheet(tab.title) if tab.create else book[tab.title]
    for (row, column), value in tab.cells():
        cell = sheet.cell(row=row + 1, column=column + 1)
        cell.value = value
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"
    if tab.create:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for offset, width in enumerate(tab.widths):
        sheet.column_dimensions[column_letter(tab.first_new + offset + 1)].width = width
    if tab.freeze and sheet.freeze_panes is None:
        sheet.freeze_panes = "A2"
    if tab.protect:
        sheet.sheet_properties.tabColor = "999999"
        _protect(sheet)
    for dropdown in tab.dropdowns:
        formula = dropdown.range_formula
        validation = DataValidation(
            type="list",
            formula1=formula[1:] if formula else '"' + ",".join(dropdown.choices) + '"',
            allow_blank=True,
        )
        validation.error = "Choisissez une valeur de la liste"
        validation.showErrorMessage = False  # a warning culture: staff may type variants we parse
        sheet.add_data_validation(validation)
        letter = column_letter(dropdown.column + 1)
        validation.add(f"{letter}2:{letter}5000")


def _trim(rows: Sequence[Sequence[object]]) -> Rows:
    """calamine pads with "" to a rectangle; drop trailing empty cells and rows (as Google does)."""
    out: Rows = []
    for row in rows:
        end = len(row)
        while end and (row[end - 1] == "" or row[end - 1] is None):
            end -= 1
        out.append(cast(list[Value], row[:end]))  # durations: see parsing.time
    while out and not out[-1]:
        out.pop()
    return out


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
    _protect(sheet)


def _protect(sheet: Worksheet) -> None:
    """Like SHEET_PROTECTION: a warning on edit, no password, sorting and filtering allowed."""
    protection = sheet.protection
    protection.sheet = True
    protection.sort = protection.autoFilter = protection.formatColumns = False


# -- the fast write: owned tabs' parts replaced inside the zip -----------------------------
# An .xlsx is a zip of XML parts tied by relationship files (`_rels/*.rels`). A tab's cells live
# in one worksheet part; swapping that part leaves every other part (and its compressed bytes)
# as it was, so nothing the staff keep elsewhere can be lost or rewritten.

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT_TYPES = "[Content_Types].xml"
LOCAL_HEADER = 30  # bytes of a zip local file header before its name and extra field
COPY_CHUNK = 1 << 20
ROWS_PER_CHUNK = 1000
TOO_BIG = 1 << 30  # near zip64 territory, which the raw copy does not write: openpyxl path


class _Unusual(Exception):
    """A workbook shape the fast write does not handle: the openpyxl path takes over."""


@dataclass
class _Rel:
    type: str  # last segment of the relationship type: "worksheet", "styles", "calcChain"...
    target: str  # the zip member it points to; "" when external or missing


@dataclass
class _Plan:
    sheets: dict[str, str]  # zip member → the owned tab whose rows replace it
    drop: set[str] = field(default_factory=set)  # members left out of the new zip
    edits: dict[str, bytes] = field(default_factory=dict)  # members written with new bytes
    header_style: int | None = None  # index of a bold cell format in styles.xml, if any
    starts: dict[str, int] = field(default_factory=dict)  # member → offset of its compressed bytes


class _Package:
    """Read-only view of the source zip: members by case-insensitive name (part names are
    case-insensitive), parsed relationships, and where each member's compressed bytes start."""

    def __init__(self, source: zipfile.ZipFile, path: Path) -> None:
        self.zip = source
        self.members: dict[str, str] = {}
        self.data_start: dict[str, int] = {}
        self._rels: dict[str, list[_Rel]] = {}
        if path.stat().st_size > TOO_BIG:
            raise _Unusual("too big")
        with path.open("rb") as raw:
            for info in source.infolist():
                self._add(info, raw)

    def _add(self, info: zipfile.ZipInfo, raw: IO[bytes]) -> None:
        encrypted = info.flag_bits & 0x1
        if encrypted or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Unusual(info.filename)
        if info.filename.lower() in self.members:
            raise _Unusual(f"duplicate {info.filename}")
        raw.seek(info.header_offset)
        header = raw.read(LOCAL_HEADER)
        if header[:4] != b"PK\x03\x04":
            raise _Unusual(f"no local header for {info.filename}")
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        self.members[info.filename.lower()] = info.filename
        self.data_start[info.filename] = (
            info.header_offset + LOCAL_HEADER + name_length + extra_length
        )

    def member(self, name: str) -> str:
        return self.members.get(name.lower(), "")

    def xml(self, member: str) -> ET.Element:
        return ET.fromstring(self.zip.read(member))

    def resolve(self, part: str, target: str) -> str:
        """The member a relationship of `part` ("" = the package) points to, or ""."""
        target = unquote(target.split("#")[0])
        path = (
            target[1:]
            if target.startswith("/")
            else posixpath.join(posixpath.dirname(part), target)
        )
        return self.member(posixpath.normpath(path))

    def rels(self, part: str) -> list[_Rel]:
        if part not in self._rels:
            member = self.member(_rels_name(part))
            self._rels[part] = [] if not member else [
                _Rel(
                    rel.get("Type", "").rsplit("/", 1)[-1],
                    "" if rel.get("TargetMode") == "External" else self.resolve(part, rel.get("Target", "")),
                )
                for rel in self.xml(member)
            ]  # fmt: skip
        return self._rels[part]


def _rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def _rels_source(rels_member: str) -> str:
    """The part whose relationships `rels_member` holds ("" for the package's own)."""
    folder, name = posixpath.split(rels_member)
    return posixpath.join(posixpath.dirname(folder), name.removesuffix(".rels"))


def _fast_plan(source: zipfile.ZipFile, names: list[str]) -> _Plan | None:
    """What to replace, drop and edit in the zip; None when the openpyxl path must write."""
    try:
        return _plan(_Package(source, Path(str(source.filename))), names)
    except (_Unusual, ET.ParseError, KeyError, ValueError, UnicodeDecodeError, OSError):
        return None


def _plan(package: _Package, names: list[str]) -> _Plan | None:
    workbook = next(
        (r.target for r in package.rels("") if r.type == "officeDocument" and r.target), ""
    )
    if not workbook:
        raise _Unusual("no workbook part")
    book = package.xml(workbook)
    if book.tag != f"{{{MAIN_NS}}}workbook":
        raise _Unusual("not a transitional workbook")  # e.g. Strict Open XML
    by_id = _rels_by_id(package, workbook)
    tabs = {s.get("name"): s for s in book.iter(f"{{{MAIN_NS}}}sheet")}
    if any(name not in tabs for name in names):
        return None  # a tab to create: openpyxl writes it once, later writes are fast
    plan = _Plan(sheets={}, starts=package.data_start)
    sheet_ids = set()
    for name in names:
        rel = by_id.get(tabs[name].get(f"{{{DOC_REL_NS}}}id", ""))
        if rel is None or rel.type != "worksheet" or not rel.target:
            raise _Unusual(f"{name} is not a plain worksheet")
        plan.sheets[rel.target] = name
        sheet_ids.add(tabs[name].get("sheetId", ""))
    _drop_orphans(package, plan)
    _prune_calc_chain(package, by_id, sheet_ids, plan)
    _remove_references(package, plan)
    plan.header_style = _bold_style(package, by_id)
    return plan


def _rels_by_id(package: _Package, part: str) -> dict[str, _Rel]:
    member = package.member(_rels_name(part))
    if not member:
        raise _Unusual(f"no relationships for {part}")
    return {
        rel.get("Id", ""): r for rel, r in zip(package.xml(member), package.rels(part), strict=True)
    }


def _reachable(package: _Package, cut: set[str]) -> set[str]:
    """Every member reachable through relationships from the package, not following those of
    the parts in `cut`."""
    seen: set[str] = set()
    todo = [""]
    while todo:
        part = todo.pop()
        if part in cut:
            continue
        for rel in package.rels(part):
            if rel.target and rel.target not in seen:
                seen.add(rel.target)
                todo.append(rel.target)
    return seen


def _drop_orphans(package: _Package, plan: _Plan) -> None:
    """The new worksheet parts have no relationships: drop the old ones' (comments, drawings,
    tables, printer settings...) and every part only they led to, so nothing is orphaned and
    no table or drawing points at cells that have changed. Parts also used elsewhere stay."""
    owned = set(plan.sheets)
    orphans = _reachable(package, set()) - _reachable(package, owned)
    for part in orphans | owned:
        rels = package.member(_rels_name(part))
        if rels:
            plan.drop.add(rels)
    plan.drop |= orphans


def _prune_calc_chain(
    package: _Package, by_id: dict[str, _Rel], sheet_ids: set[str], plan: _Plan
) -> None:
    """Excel's calculation chain lists formula cells; entries in a replaced tab (which has no
    formulas any more) would make Excel "repair" the file. Drop them, or the whole chain if
    nothing is left (Excel rebuilds it)."""
    chain = next((r.target for r in by_id.values() if r.type == "calcChain" and r.target), "")
    if not chain:
        return
    kept: list[dict[str, str]] = []
    entries, sheet = 0, "0"
    for cell in package.xml(chain):
        entries += 1
        sheet = cell.get("i", sheet)  # an entry without `i` is in the previous entry's sheet
        if sheet not in sheet_ids:
            kept.append({**cell.attrib, "i": sheet})
    if len(kept) == entries:
        return
    if kept:
        plan.edits[chain] = _calc_chain_xml(kept)
    else:
        plan.drop.add(chain)


def _calc_chain_xml(cells: list[dict[str, str]]) -> bytes:
    if any(key.startswith("{") for cell in cells for key in cell):
        raise _Unusual("namespaced calcChain attribute")
    body = "".join(
        "<c " + " ".join(f'{k}="{_escape(v)}"' for k, v in cell.items()) + "/>" for cell in cells
    )
    return f'{XML_DECLARATION}<calcChain xmlns="{MAIN_NS}">{body}</calcChain>'.encode()


def _remove_references(package: _Package, plan: _Plan) -> None:
    """Content types and relationships that name a dropped part go with it (nothing dangles).
    Only touched when something was dropped: usually both stay byte for byte."""
    dropped = {name.lower() for name in plan.drop}
    if not dropped:
        return

    def names_dropped_part(attrs: dict[str, str]) -> bool:
        return unquote(attrs.get("PartName", "")).lstrip("/").lower() in dropped

    _edit(package, plan, CONTENT_TYPES, "Override", names_dropped_part)
    for rels in [m for m in package.members.values() if m.endswith(".rels") and m not in plan.drop]:
        source = _rels_source(rels)

        def points_to_dropped_part(attrs: dict[str, str], source: str = source) -> bool:
            internal = attrs.get("TargetMode") != "External"
            return internal and package.resolve(source, attrs.get("Target", "")).lower() in dropped

        _edit(package, plan, rels, "Relationship", points_to_dropped_part)


ATTRIBUTE = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _edit(
    package: _Package, plan: _Plan, member: str, tag: str, remove: Callable[[dict[str, str]], bool]
) -> None:
    """Remove the empty `<tag .../>` elements for which `remove(attributes)` is true, as text
    (the rest of the file stays as written), then check the result by parsing it."""
    text = package.zip.read(member).decode("utf-8")
    element = re.compile(rf"""<{tag}\b((?:[^>"']|"[^"]*"|'[^']*')*)/>""")

    def attributes(match: re.Match[str]) -> dict[str, str]:
        return {k: _unescape(a or b) for k, a, b in ATTRIBUTE.findall(match.group(1))}

    edited = element.sub(lambda m: "" if remove(attributes(m)) else m.group(), text)
    if edited == text:
        return
    left = ET.fromstring(edited.encode())
    if any(e.tag.endswith(tag) and remove(dict(e.attrib)) for e in left):
        raise _Unusual(f"{member}: could not remove every {tag}")
    plan.edits[member] = edited.encode()


def _unescape(value: str) -> str:
    return ET.fromstring(f"<a b='{value}'/>").get("b", "") if "&" in value else value


def _bold_style(package: _Package, by_id: dict[str, _Rel]) -> int | None:
    """A cell format of the workbook with a bold font and no number format, for the header
    row (styles.xml is shared by every tab: we reuse, never add). None: a plain header."""
    styles = next((r.target for r in by_id.values() if r.type == "styles" and r.target), "")
    if not styles:
        return None
    root = package.xml(styles)
    fonts = root.find(f"{{{MAIN_NS}}}fonts")
    formats = root.find(f"{{{MAIN_NS}}}cellXfs")
    if fonts is None or formats is None:
        return None
    default = fonts[0] if len(fonts) else ET.Element("font")
    bold = {str(i) for i, font in enumerate(fonts) if _plain_bold(font, default)}
    candidates = [
        (xf.get("fillId", "0") != "0" or xf.get("borderId", "0") != "0" or len(xf) > 0, index)
        for index, xf in enumerate(formats)
        if xf.get("fontId", "0") in bold and xf.get("numFmtId", "0") == "0"
    ]  # plainest first: no fill, no border, no alignment
    return min(candidates)[1] if candidates else None


def _plain_bold(font: ET.Element, default: ET.Element) -> bool:
    """Bold, and otherwise the default font: a staff's red bold title font would not do."""
    weight = font.find(f"{{{MAIN_NS}}}b")
    if weight is None or weight.get("val", "true") in ("0", "false"):
        return False
    usual = {child.tag: child.attrib for child in default}
    ignored = {f"{{{MAIN_NS}}}{tag}" for tag in ("b", "family", "scheme", "charset")}
    return all(usual.get(c.tag) == c.attrib for c in font if c.tag not in ignored)


# -- writing the new zip -----------------------------------------------------------------------


def _rewrite(
    source: zipfile.ZipFile, path: Path, temp: str, plan: _Plan, contents: dict[str, Rows]
) -> None:
    """The new zip, members in their old order: owned tabs' parts generated, a few edited
    parts rewritten, dropped ones left out, every other one copied compressed as it was."""
    with path.open("rb") as raw, zipfile.ZipFile(temp, "w") as out:
        out.comment = source.comment
        for info in source.infolist():
            name = info.filename
            if name in plan.drop:
                continue
            if name in plan.sheets:
                _write_member(out, info, _sheet_xml(contents[plan.sheets[name]], plan.header_style))
            elif name in plan.edits:
                _write_member(out, info, iter([plan.edits[name]]))
            else:
                _copy_raw(out, raw, info, plan.starts[name])


def _write_member(out: zipfile.ZipFile, old: zipfile.ZipInfo, chunks: Iterator[bytes]) -> None:
    info = zipfile.ZipInfo(old.filename, time.localtime()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = old.external_attr
    with out.open(info, "w") as member:
        for chunk in chunks:
            member.write(chunk)


def _copy_raw(out: zipfile.ZipFile, raw: IO[bytes], old: zipfile.ZipInfo, start: int) -> None:
    """Copy a member's compressed bytes without inflating and deflating them again (most of
    a big workbook: 1 s saved per 20 MB sheet). This is what `ZipFile.open(info, "w")` and
    its writer's close() do, minus the compression; it leans on zipfile's internals
    (`start_dir`, `_writecheck`, `_didModify`), checked by the tests on every write."""
    info = zipfile.ZipInfo(old.filename, old.date_time)
    info.compress_type = old.compress_type
    info.external_attr, info.create_system, info.comment = (
        old.external_attr,
        old.create_system,
        old.comment,
    )
    info.CRC, info.compress_size, info.file_size = old.CRC, old.compress_size, old.file_size
    assert out.fp is not None
    out.fp.seek(out.start_dir)
    info.header_offset = out.fp.tell()
    out._writecheck(info)  # type: ignore[attr-defined]
    out._didModify = True  # type: ignore[attr-defined]
    out.fp.write(info.FileHeader(zip64=False))
    raw.seek(start)
    left = old.compress_size
    while left:
        chunk = raw.read(min(left, COPY_CHUNK))
        if not chunk:
            raise OSError(5, "fin de fichier inattendue dans le classeur")
        out.fp.write(chunk)
        left -= len(chunk)
    out.filelist.append(info)
    out.NameToInfo[info.filename] = info
    out.start_dir = out.fp.tell()


# -- the worksheet XML of an owned tab -----------------------------------------------------------

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# The owned tabs are protected without a password: a spreadsheet program warns whoever tries
# to edit them (one click to unprotect), while sorting and filtering stay allowed.
SHEET_PROTECTION = '<sheetProtection sheet="1" objects="1" scenarios="1" sort="0" autoFilter="0" formatColumns="0"/>'
SHEET_TAIL = f'</sheetData>{SHEET_PROTECTION}<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
# Text special to XML, characters XML 1.0 cannot hold (written as Excel does, `_x0001_`), and
# a literal `_x0041_` in the text (escaped as `_x005F_x0041_` so it is not read back as "A").
SPECIAL = re.compile(
    r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)"
)
ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "\r": "&#13;",
    "_": "_x005F_",
}  # \r: parsers turn a raw one into \n


def _sheet_head(dimension: str) -> str:
    """Grey tab, frozen header row: what the openpyxl path writes too."""
    return (
        f'{XML_DECLARATION}<worksheet xmlns="{MAIN_NS}" xmlns:r="{DOC_REL_NS}">'
        '<sheetPr><tabColor rgb="FF999999"/></sheetPr>'
        f'<dimension ref="{dimension}"/>'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
        "</sheetView></sheetViews>"
        '<sheetFormatPr defaultRowHeight="15"/><sheetData>'
    )


def _sheet_xml(rows: Rows, header_style: int | None) -> Iterator[bytes]:
    """The worksheet part, streamed a thousand rows at a time. Texts are inline strings (the
    workbook's shared strings stay untouched) and never formulas: "=..." stays text."""
    height = max(
        (n for n, row in enumerate(rows, start=1) if any(v is not None and v != "" for v in row)),
        default=0,
    )
    width = max((len(row) for row in rows[:height]), default=0)
    yield _sheet_head(f"A1:{column_letter(width)}{height}" if height else "A1").encode()
    letters = [column_letter(index) for index in range(1, width + 1)]
    header = f' s="{header_style}"' if header_style is not None else ""
    chunk: list[str] = []
    for number, row in enumerate(rows[:height], start=1):
        style = header if number == 1 else ""
        cells = "".join(
            _cell(f"{letters[i]}{number}", v, style)
            for i, v in enumerate(row)
            if v is not None and v != ""
        )
        if cells:
            chunk.append(f'<row r="{number}">{cells}</row>')
        if len(chunk) >= ROWS_PER_CHUNK:
            yield "".join(chunk).encode()
            chunk.clear()
    yield ("".join(chunk) + SHEET_TAIL).encode()


def _cell(ref: str, value: Value, style: str) -> str:
    if isinstance(value, bool):
        return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"{style}><v>{int(value)}</v></c>'
    if isinstance(value, float) and math.isfinite(value):
        return f'<c r="{ref}"{style}><v>{float(value)!r}</v></c>'
    text = _cell_value_text(value)
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>'


def _cell_value_text(value: Value) -> str:
    """Dates and times as ISO text: the owned tabs are for reading, and a date cell would
    need a date format in styles.xml, which we never change."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _escape(text: str) -> str:
    return SPECIAL.sub(lambda m: ESCAPES.get(m.group()) or f"_x{ord(m.group()):04X}_", text)
