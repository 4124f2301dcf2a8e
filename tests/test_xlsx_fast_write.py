"""The workbook backend's fast write, on real files: only the owned tabs' worksheet parts are
replaced inside the zip; every other member stays byte for byte, and the result opens in
openpyxl and reads back through calamine with the exact values written."""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote
from xml.etree import ElementTree as ET

import openpyxl
import pytest
from gt_registry.backends import Snapshot
from gt_registry.backends.xlsx import WorkbookBackend
from gt_registry.config import Config
from gt_registry.errors import WriteFailed
from openpyxl.comments import Comment
from openpyxl.styles import Color, Font
from python_calamine import CalamineWorkbook
from test_xlsx_backend import staff_workbook

OWNED = ("Éligibilité", "Bilan organisations", "Journal")
TRICKY: list[object] = [
    "Chloé Éboué",
    "=cmd|' /C calc'!A0",
    "  leading and trailing  ",
    "bell\x07 and nul\x00 and vertical tab\x0b",
    "line\r\nbreak\ttab",
    "already escaped _x0041_ and _x005F_",
    "<b>&amp;</b> \"quotes\" 'apostrophes'",
    "emoji 🎉 and ü",
    42,
    -3.25,
    1e16,
    True,
    False,
]


# What the writer gives the owned tabs' header: the default font, bold (a bold font with no name
# or size shows in a serif in LibreOffice, so the writer would add this one to styles.xml).
HEADER_FONT = Font(bold=True, name="Calibri", sz=11, family=2, scheme="minor", color=Color(theme=1))


def owned_workbook(tmp_path: Path, comment_on_staff: bool = False, bold: bool = True) -> Path:
    """The staff workbook after a first write: the owned tabs exist, with a bold header row."""
    path = staff_workbook(tmp_path)
    book = openpyxl.load_workbook(path)
    for name in OWNED:
        sheet = book.create_sheet(name)
        sheet.append(["ID", "Valeur"])
        for cell in sheet[1] if bold else ():
            cell.font = HEADER_FONT
    if comment_on_staff:
        book["Personnes"]["B2"].comment = Comment("Vérifier l'orthographe", "Camille")
    book.save(path)
    return path


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def raw_entries(path: Path) -> dict[str, tuple[int, int, int]]:
    """Per member: CRC, compressed size, size (the compressed bytes are copied as they were)."""
    with zipfile.ZipFile(path) as archive:
        return {i.filename: (i.CRC, i.compress_size, i.file_size) for i in archive.infolist()}


def sheet_parts(path: Path) -> dict[str, str]:
    """Tab name → its worksheet member."""
    with zipfile.ZipFile(path) as archive:
        book = ET.fromstring(archive.read("xl/workbook.xml"))
        rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    r_id = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    sheets = book.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet")

    def member(target: str) -> str:
        return target[1:] if target.startswith("/") else posixpath.normpath("xl/" + target)

    return {s.get("name", ""): member(targets[s.get(r_id)]) for s in sheets}


def calamine_rows(path: Path, tab: str) -> list[list[object]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(tab).to_python()


def assert_nothing_dangles(path: Path) -> None:
    """Every internal relationship target and every content-type override names a member."""
    names = set(members(path))
    with zipfile.ZipFile(path) as archive:
        types = ET.fromstring(archive.read("[Content_Types].xml"))
        for override in types:
            part = override.get("PartName")
            assert part is None or unquote(part).lstrip("/") in names, part
        for rels in (n for n in names if n.endswith(".rels")):
            folder, name = posixpath.split(rels)
            source = posixpath.join(posixpath.dirname(folder), name.removesuffix(".rels"))
            for rel in ET.fromstring(archive.read(rels)):
                if rel.get("TargetMode") != "External":
                    target = rel.get("Target", "")
                    full = (
                        target[1:]
                        if target.startswith("/")
                        else posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
                    )
                    assert full in names, (rels, target)


def test_fast_write_changes_only_the_owned_parts(tmp_path: Path, config: Config) -> None:
    path = owned_workbook(tmp_path, comment_on_staff=True)
    parts = sheet_parts(path)
    before, raw_before = members(path), raw_entries(path)
    backend = WorkbookBackend(path, config)
    rows = [["ID", "Valeur"], *(["P-1", value] for value in TRICKY), [None, None, "after a gap"]]
    backend.write(
        {"Éligibilité": rows, "Journal": [["Date"], ["2020-06-15 10:00"]]}, backend.read()
    )
    after, raw_after = members(path), raw_entries(path)
    replaced = {parts["Éligibilité"], parts["Journal"]}
    assert list(after) == list(before)  # same members, same order
    for name in set(before) - replaced:
        assert after[name] == before[name], name
        assert raw_after[name] == raw_before[name], name
    assert all(after[name] != before[name] for name in replaced)
    assert_nothing_dangles(path)
    read_back = calamine_rows(path, "Éligibilité")
    assert [row[1] for row in read_back[1 : len(TRICKY) + 1]] == [
        float(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in TRICKY
    ]
    assert read_back[-1] == ["", "", "after a gap"]
    book = openpyxl.load_workbook(path)  # it opens; the staff's things are intact
    assert book["Personnes"]["K2"].value == "=COUNTA(A2:A100)"
    assert book["Personnes"]["B2"].comment.text == "Vérifier l'orthographe"
    assert book["Notes du pôle"]["A1"].value == "=SUM(1,2)"
    assert [str(dv.sqref) for dv in book["Personnes"].data_validations.dataValidation] == [
        "G2:G100"
    ]
    eligibility = book["Éligibilité"]
    assert eligibility["B3"].value == "=cmd|' /C calc'!A0" and eligibility["B3"].data_type == "s"
    assert eligibility.freeze_panes == "A2"
    assert eligibility["A1"].font.bold and not eligibility["A2"].font.bold
    assert book.sheetnames == [
        "Organisations",
        "Personnes",
        "Groupes",
        "Réunions",
        "Présences",
        "Notes du pôle",
        *OWNED,
    ]


def test_dates_are_written_as_iso_text_and_none_as_no_cell(tmp_path: Path, config: Config) -> None:
    path = owned_workbook(tmp_path)
    backend = WorkbookBackend(path, config)
    rows = [
        ["A", "B", "C"],
        [dt.date(2020, 6, 15), dt.datetime(2020, 6, 15, 9, 30), dt.time(18, 30)],
        [None, "", None],
    ]
    backend.write({"Éligibilité": rows}, backend.read())
    assert backend.read().tabs["Éligibilité"] == [
        ["A", "B", "C"],
        ["2020-06-15", "2020-06-15 09:30:00", "18:30:00"],
    ]
    xml = members(path)[sheet_parts(path)["Éligibilité"]].decode()
    assert '<dimension ref="A1:C2"/>' in xml and "<f>" not in xml


def test_second_write_with_fewer_rows_leaves_nothing_behind(tmp_path: Path, config: Config) -> None:
    path = owned_workbook(tmp_path)
    backend = WorkbookBackend(path, config)
    backend.write({"Éligibilité": [["ID"], *([f"P-{i}"] for i in range(50))]}, backend.read())
    backend.write({"Éligibilité": [["ID"], ["P-0"]]}, backend.read())
    assert backend.read().tabs["Éligibilité"] == [["ID"], ["P-0"]]
    assert openpyxl.load_workbook(path)["Éligibilité"].max_row == 2


def test_a_new_tab_goes_through_openpyxl_once_then_writes_are_fast(
    tmp_path: Path, config: Config
) -> None:
    path = staff_workbook(tmp_path)  # no owned tab yet
    backend = WorkbookBackend(path, config)
    backend.write({"Journal": [["Date"], ["premier"]]}, backend.read())
    assert backend.read().tabs["Journal"] == [["Date"], ["premier"]]
    before = members(path)
    backend.write({"Journal": [["Date"], ["premier"], ["second"]]}, backend.read())
    after = members(path)
    changed = {name for name in before if after.get(name) != before[name]}
    assert changed == {sheet_parts(path)["Journal"]}  # the openpyxl path would rewrite every part
    assert backend.read().tabs["Journal"] == [["Date"], ["premier"], ["second"]]


def test_the_old_owned_tabs_comments_are_dropped_with_their_references(
    tmp_path: Path, config: Config
) -> None:
    path = owned_workbook(tmp_path, comment_on_staff=True)
    book = openpyxl.load_workbook(path)
    book["Journal"]["A1"].comment = Comment("typed by someone in the owned tab", "x")
    book.save(path)
    journal = sheet_parts(path)["Journal"]
    folder, name = posixpath.split(journal)
    journal_rels = f"{folder}/_rels/{name}.rels"
    before = members(path)
    assert journal_rels in before
    backend = WorkbookBackend(path, config)
    backend.write({"Journal": [["Date"], ["x"]]}, backend.read())
    after = members(path)
    gone = set(before) - set(after)
    assert (
        journal_rels in gone
        and any("comments" in n for n in gone)
        and any(n.endswith(".vml") for n in gone)
    )
    assert_nothing_dangles(path)
    reopened = openpyxl.load_workbook(path)
    assert reopened["Journal"]["A1"].comment is None
    assert reopened["Personnes"]["B2"].comment.text == "Vérifier l'orthographe"  # the staff's stays


def add_calc_chain(path: Path, entries: str) -> None:
    """What Excel saves next to formulas: xl/calcChain.xml, its content type and relationship."""
    files = members(path)
    files["xl/calcChain.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{entries}</calcChain>'
    ).encode()
    files["[Content_Types].xml"] = files["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>',
    )
    files["xl/_rels/workbook.xml.rels"] = files["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdCalc" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/></Relationships>',
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in files.items():
            out.writestr(name, data)


def sheet_id(path: Path, tab: str) -> str:
    book = ET.fromstring(members(path)["xl/workbook.xml"])
    ids = {
        s.get("name"): s.get("sheetId")
        for s in book.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet")
    }
    return ids[tab] or ""


def test_calc_chain_entries_of_a_replaced_tab_are_removed(tmp_path: Path, config: Config) -> None:
    path = owned_workbook(tmp_path)
    staff, owned = sheet_id(path, "Personnes"), sheet_id(path, "Journal")
    add_calc_chain(
        path,
        f'<c r="K2" i="{staff}"/><c r="A2" i="{owned}"/><c r="A3"/><c r="A1" i="{staff}" l="1"/>',
    )
    before = members(path)
    backend = WorkbookBackend(path, config)
    backend.write({"Journal": [["Date"]]}, backend.read())
    after = members(path)
    chain = [c.attrib for c in ET.fromstring(after["xl/calcChain.xml"])]
    assert chain == [{"r": "K2", "i": staff}, {"r": "A1", "i": staff, "l": "1"}]
    assert after["[Content_Types].xml"] == before["[Content_Types].xml"]
    assert after["xl/_rels/workbook.xml.rels"] == before["xl/_rels/workbook.xml.rels"]


def test_a_calc_chain_left_empty_is_dropped_with_its_references(
    tmp_path: Path, config: Config
) -> None:
    path = owned_workbook(tmp_path)
    add_calc_chain(path, f'<c r="A2" i="{sheet_id(path, "Journal")}"/>')
    backend = WorkbookBackend(path, config)
    backend.write({"Journal": [["Date"]]}, backend.read())
    after = members(path)
    assert "xl/calcChain.xml" not in after
    assert b"calcChain" not in after["[Content_Types].xml"] + after["xl/_rels/workbook.xml.rels"]
    assert_nothing_dangles(path)
    assert openpyxl.load_workbook(path)["Personnes"]["K2"].value == "=COUNTA(A2:A100)"


def test_an_xlsm_keeps_its_macros_byte_for_byte(tmp_path: Path, config: Config) -> None:
    source = owned_workbook(tmp_path)
    files = members(source)
    files["xl/vbaProject.bin"] = bytes(range(256)) * 4  # stands for the macros' binary part
    files["xl/_rels/workbook.xml.rels"] = files["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>',
    )
    path = tmp_path / "macros.xlsm"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in files.items():
            out.writestr(name, data)
    backend = WorkbookBackend(path, config)
    backend.write({"Journal": [["Date"], ["x"]]}, backend.read())
    assert members(path)["xl/vbaProject.bin"] == files["xl/vbaProject.bin"]
    assert backend.read().tabs["Journal"] == [["Date"], ["x"]]


def test_a_broken_zip_still_gets_the_openpyxl_error(tmp_path: Path, config: Config) -> None:
    path = tmp_path / "abîmé.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(WriteFailed, match="illisible pour l'écriture"):
        WorkbookBackend(path, config).write({"Journal": [["Date"]]}, Snapshot())


def test_file_mode_is_kept(tmp_path: Path, config: Config) -> None:
    path = owned_workbook(tmp_path)
    path.chmod(0o640)
    backend = WorkbookBackend(path, config)
    backend.write({"Journal": [["Date"]]}, backend.read())
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".gt-")] == []


def test_escaping_never_produces_markup(tmp_path: Path, config: Config) -> None:
    path = owned_workbook(tmp_path)
    backend = WorkbookBackend(path, config)
    backend.write({"Journal": [["Date"], ["</t></is></c><c><f>1+1</f></c>"]]}, backend.read())
    xml = members(path)[sheet_parts(path)["Journal"]].decode()
    assert not re.search(r"<f>", xml)
    assert calamine_rows(path, "Journal")[1] == ["</t></is></c><c><f>1+1</f></c>"]


def test_the_header_never_borrows_a_staff_font(tmp_path: Path, config: Config) -> None:
    path = owned_workbook(tmp_path, bold=False)  # the only bold font is the staff's red one
    backend = WorkbookBackend(path, config)
    backend.write({"Journal": [["Date"], ["x"]]}, backend.read())
    header = openpyxl.load_workbook(path)["Journal"]["A1"]
    # The header is bold in a named font of its own (added to styles.xml), never the staff's red.
    assert header.value == "Date" and header.font.bold and header.font.name == "Calibri"
    assert header.font.color is None or header.font.color.rgb != "FFFF0000"


def test_owned_tabs_are_protected_with_a_warning_and_staff_tabs_are_not(
    tmp_path: Path, config: Config
) -> None:
    """The contract's "do not edit" marker: a protection without password on the tool's tabs."""
    path = staff_workbook(tmp_path)
    backend = WorkbookBackend(path, config)
    backend.write({"Éligibilité": [["ID"], ["P-1"]]}, backend.read())  # openpyxl path: creates it
    backend.write({"Éligibilité": [["ID"], ["P-2"]]}, backend.read())  # fast path: replaces it
    book = openpyxl.load_workbook(path)
    protection = book["Éligibilité"].protection
    assert protection.sheet and not protection.password
    assert protection.sort is False and protection.autoFilter is False  # staff may still sort
    assert not book["Personnes"].protection.sheet
    assert book["Éligibilité"]["A2"].value == "P-2"


def test_an_owned_tab_spelled_differently_is_written_in_place(
    tmp_path: Path, config: Config
) -> None:
    path = staff_workbook(tmp_path)
    book = openpyxl.load_workbook(path)
    book.create_sheet("eligibilite").append(["ID"])
    book.save(path)
    backend = WorkbookBackend(path, config)
    snapshot = backend.read()
    assert snapshot.real_name("Éligibilité") == "eligibilite"
    backend.write({"Éligibilité": [["ID"], ["P-1"]]}, snapshot)
    book = openpyxl.load_workbook(path)
    assert "Éligibilité" not in book.sheetnames
    assert [c.value for c in book["eligibilite"]["A"]] == ["ID", "P-1"]
