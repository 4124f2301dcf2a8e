"""Every write to a workbook is lossless for what staff keep there, on workbooks staff really
produce (tests/fixtures/, made by make_fixtures.py: LibreOffice's own save; pictures, comments,
conditional formats, drop-downs, defined names, formulas with cached values), and the owned
tabs keep their look; the lock, symbolic links, read-only files, the umask, leftovers of a
killed run, `init --force`, far cells and encrypted workbooks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest
from click.testing import Result
from gt_registry.backends import Snapshot
from gt_registry.backends import xlsx as xlsx_backend
from gt_registry.backends.xlsx import WorkbookBackend, WorkbookLock
from gt_registry.config import Config, load_config
from gt_registry.errors import SourceError, WriteFailed
from hypothesis import given
from hypothesis import strategies as st
from test_xlsx_backend import staff_workbook
from test_xlsx_fast_write import assert_nothing_dangles, members, sheet_parts

FIXTURES = Path(__file__).parent / "fixtures"
AS_OF = ("--as-of", "2020-06-15")
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
# Parts a write may edit besides the owned tabs' own: the list of tabs, its relationships, the
# content types, the tabs' titles (new tabs), styles.xml (a header font appended, once) and the
# calculation chain (entries of a replaced tab).
PACKAGE_PARTS = {
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "[Content_Types].xml",
    "docProps/app.xml",
    "xl/styles.xml",
    "xl/calcChain.xml",
}
OWNED = ("Éligibilité", "Bilan organisations", "Journal")


def copy_fixture(name: str, tmp_path: Path) -> Path:
    target = tmp_path / "registre.xlsx"
    shutil.copy(FIXTURES / name, target)
    return target


def staff_members(path: Path) -> dict[str, bytes]:
    """Every member but the owned tabs' parts and the package parts a write may edit."""
    parts = sheet_parts(path)
    owned = {parts[name] for name in OWNED if name in parts}
    return {n: b for n, b in members(path).items() if n not in owned | PACKAGE_PARTS}


def styles_prefix_kept(before: bytes, after: bytes) -> None:
    """styles.xml may only gain entries at the end: every old font and format is unchanged."""
    old, new = ET.fromstring(before), ET.fromstring(after)
    for section in old:
        kept = new.find(section.tag)
        assert kept is not None, section.tag
        assert [ET.tostring(e) for e in kept[: len(section)]] == [ET.tostring(e) for e in section]


@pytest.mark.parametrize(
    "fixture", ["staff-rich.xlsx", "staff-libreoffice.xlsx"], ids=["rich", "libreoffice"]
)
def test_first_and_steady_syncs_keep_every_staff_part_byte_for_byte(
    run_gt: Callable[..., Result], tmp_path: Path, fixture: str
) -> None:
    path = copy_fixture(fixture, tmp_path)
    before, all_before = staff_members(path), members(path)
    first = run_gt("--sheet", path, *AS_OF, "sync-eligibility")
    assert first.exit_code in (0, 1), first.output
    assert staff_members(path) == before  # pictures, comments, drawings, every staff tab
    after_first = members(path)
    styles_prefix_kept(all_before["xl/styles.xml"], after_first["xl/styles.xml"])
    assert set(sheet_parts(path)) >= {"Personnes", *OWNED}
    assert_nothing_dangles(path)
    book = ET.fromstring(after_first["xl/workbook.xml"])
    names = {d.get("name"): d.text for d in book.iter(f"{MAIN}definedName")}
    assert names["Membres"] == "Personnes!$A$2:$A$100"
    assert next(book.iter(f"{MAIN}calcPr")).get("fullCalcOnLoad") == "1"
    # Steady state: other figures (another season); only the owned tabs' parts change now.
    parts = sheet_parts(path)
    again = run_gt("--sheet", path, *AS_OF, "sync-eligibility", "--season", "2018-2019")
    assert again.exit_code in (0, 1), again.output
    after = members(path)
    changed = {n for n in after_first if after.get(n) != after_first[n]}
    assert changed <= {parts[name] for name in OWNED}
    assert parts["Journal"] in changed


def test_ids_that_are_formulas_still_read_after_a_first_sync(
    run_gt: Callable[..., Result], tmp_path: Path, config: Config
) -> None:
    path = copy_fixture("staff-rich.xlsx", tmp_path)
    assert run_gt("--sheet", path, *AS_OF, "sync-eligibility").exit_code in (0, 1)
    snapshot = WorkbookBackend(path, config).read()
    assert [row[0] for row in snapshot.tabs["Personnes"][1:]][:3] == ["P-1", "P-2", "P-3"]
    eligibility = snapshot.tabs["Éligibilité"]
    assert len(eligibility) > 1 and {row[0] for row in eligibility[1:]} <= {
        f"P-{n}" for n in range(1, 10)
    }
    with zipfile.ZipFile(path) as synced, zipfile.ZipFile(FIXTURES / "staff-rich.xlsx") as fixture:
        assert synced.read("xl/media/image1.png") == fixture.read("xl/media/image1.png")


def owned_look(path: Path, tab: str) -> tuple[object, ...]:
    sheet = openpyxl.load_workbook(path)[tab]
    header = sheet["A1"].font
    return (
        bool(header.b),
        header.name,
        header.sz,
        sheet.freeze_panes,
        sheet.column_dimensions["A"].width >= 12,
        bool(sheet.protection.sheet),
    )


def test_owned_tabs_get_their_look_back_after_a_libreoffice_save(
    run_gt: Callable[..., Result], tmp_path: Path
) -> None:
    path = copy_fixture("synced-then-libreoffice.xlsx", tmp_path)
    result = run_gt("--sheet", path, *AS_OF, "sync-eligibility", "--season", "2018-2019")
    assert result.exit_code in (0, 1), result.output
    for tab in OWNED:
        assert owned_look(path, tab) == (True, "Calibri", 11, "A2", True, True), tab
    assert_nothing_dangles(path)


def test_a_new_tab_is_added_as_parts_and_opens_everywhere(tmp_path: Path, config: Config) -> None:
    path = copy_fixture("staff-libreoffice.xlsx", tmp_path)
    backend = WorkbookBackend(path, config)
    backend.write({"Journal": [["Date", "Commande"], ["2020-06-15 10:00", "test"]]}, backend.read())
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[-1] == "Journal"
    assert book["Journal"]["B2"].value == "test"
    assert backend.read().tabs["Journal"][1] == ["2020-06-15 10:00", "test"]


@given(
    rows=st.lists(
        st.lists(st.one_of(st.text(max_size=20), st.integers(-1000, 1000), st.none()), max_size=4),
        min_size=1,
        max_size=6,
    ),
    extra=st.dictionaries(
        st.from_regex(r"customXml/item[0-9]{1,3}\.bin", fullmatch=True),
        st.tuples(
            st.binary(max_size=300), st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
        ),
        max_size=4,
    ),
)
def test_adding_or_replacing_a_part_never_changes_another_member(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[list[object]],
    extra: dict[str, tuple[bytes, int]],
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    path = staff_workbook(folder)
    with zipfile.ZipFile(path, "a") as archive:
        for name, (data, method) in extra.items():
            archive.writestr(name, data, compress_type=method)
    before = members(path)
    with zipfile.ZipFile(path) as archive:
        methods = {i.filename: i.compress_type for i in archive.infolist()}
    backend = WorkbookBackend(path, load_config(None, environ={}))
    backend.write({"Bilan organisations": [["ID"], *rows]}, backend.read())
    after = members(path)
    for name, data in before.items():
        if name not in PACKAGE_PARTS:
            assert after[name] == data, name
    with zipfile.ZipFile(path) as archive:
        assert all(
            methods[i.filename] == i.compress_type
            for i in archive.infolist()
            if i.filename in methods
        )
    assert_nothing_dangles(path)


# -- the lock ---------------------------------------------------------------------------------------


def lock_path(path: Path) -> Path:
    return path.parent / f".~lock.{path.name}#"


def test_the_lock_is_libreoffice_shaped_held_during_the_write_and_removed(
    tmp_path: Path, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = staff_workbook(tmp_path)
    seen: list[str] = []
    monkeypatch.setattr(
        xlsx_backend, "FAULT_HOOK", lambda point: seen.append(lock_path(path).read_text())
    )
    backend = WorkbookBackend(path, config)
    backend.write({"Journal": [["Date"], ["x"]]}, backend.read())
    fields = seen[-1].rstrip(";").split(",")
    assert len(fields) == 5 and fields[0] == "gt-registry" and seen[-1].endswith(";")
    assert fields[4] == f"gt-registry:{os.getpid()}"
    assert not lock_path(path).exists()


def test_a_dead_runs_lock_and_temporary_file_are_cleaned_by_the_next_run(
    run_gt: Callable[..., Result], tmp_path: Path
) -> None:
    path = copy_fixture("staff-rich.xlsx", tmp_path)
    lock_path(path).write_text("gt-registry,someone,elsewhere,01.01.2020 10:00,gt-registry:999999;")
    leftover = tmp_path / f".gt-abcdef.{path.name}"
    leftover.write_bytes(b"half a zip")
    os.utime(leftover, (1_000_000_000, 1_000_000_000))
    result = run_gt("--sheet", path, *AS_OF, "sync-eligibility")
    assert result.exit_code in (0, 1), result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["registre.xlsx"]


def hold_lock(path: Path) -> subprocess.Popen[bytes]:
    """Another process holding the workbook's lock until its stdin closes."""
    code = (
        "import sys; from pathlib import Path; from gt_registry.backends.xlsx import WorkbookLock;"
        f"lock = WorkbookLock(Path({str(path)!r})); lock.acquire(); print('held', flush=True);"
        "sys.stdin.read(); lock.release()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
    return holder


def test_another_gt_run_is_waited_for_then_refused_cleanly(
    run_gt: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = copy_fixture("staff-rich.xlsx", tmp_path)
    before = path.read_bytes()
    monkeypatch.setattr(xlsx_backend, "LOCK_WAIT", 0.5)
    holder = hold_lock(path)
    try:
        result = run_gt("--sheet", path, *AS_OF, "sync-eligibility", debug=False)
    finally:
        holder.communicate(b"")
    assert result.exit_code == 3
    assert "une autre exécution de gt écrit dans ce classeur" in result.output
    assert "attente" in result.output and "rien n'a été écrit" in result.output
    assert path.read_bytes() == before
    assert not lock_path(path).exists()  # released by its holder


def test_a_libreoffice_lock_is_refused_at_once(
    run_gt: Callable[..., Result], tmp_path: Path
) -> None:
    path = copy_fixture("staff-rich.xlsx", tmp_path)
    lock_path(path).write_text(
        ",Camille,poste-12,01.06.2020 09:12,file:///home/camille/.config/libreoffice/4;"
    )
    result = run_gt("--sheet", path, *AS_OF, "sync-eligibility", debug=False)
    assert result.exit_code == 3 and "ouvert dans un tableur" in result.output
    assert lock_path(path).exists()  # LibreOffice's, left alone


# -- the file itself -----------------------------------------------------------------------------


def test_a_symlinked_workbook_updates_its_target_and_keeps_the_link(
    run_gt: Callable[..., Result], tmp_path: Path
) -> None:
    real = copy_fixture("staff-rich.xlsx", tmp_path)
    (tmp_path / "lien").mkdir()
    link = tmp_path / "lien" / "registre.xlsx"
    link.symlink_to(real)
    assert run_gt("--sheet", link, *AS_OF, "sync-eligibility").exit_code in (0, 1)
    assert link.is_symlink() and "Éligibilité" in sheet_parts(real)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lien", "registre.xlsx"]


def test_a_read_only_workbook_is_refused(run_gt: Callable[..., Result], tmp_path: Path) -> None:
    path = copy_fixture("staff-rich.xlsx", tmp_path)
    path.chmod(0o444)
    before = path.read_bytes()
    result = run_gt("--sheet", path, *AS_OF, "sync-eligibility", debug=False)
    assert result.exit_code == 3
    assert "lecture seule" in result.output and "rien n'a été écrit" in result.output
    assert path.read_bytes() == before


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600)], ids=["022", "077"])
def test_a_new_workbook_follows_the_umask(
    run_gt: Callable[..., Result], tmp_path: Path, mask: int, mode: int
) -> None:
    old = os.umask(mask)
    try:
        assert run_gt("--sheet", tmp_path / "neuf.xlsx", "init").exit_code == 0
    finally:
        os.umask(old)
    assert (tmp_path / "neuf.xlsx").stat().st_mode & 0o777 == mode


def test_init_on_an_existing_workbook_adds_tabs_as_parts(
    run_gt: Callable[..., Result], tmp_path: Path
) -> None:
    path = copy_fixture("staff-libreoffice.xlsx", tmp_path)
    before, parts = staff_members(path), sheet_parts(path)
    result = run_gt("--sheet", path, "init")
    assert result.exit_code == 0, result.output
    assert "onglet créé : Éligibilité" in result.output
    # Tabs that got headers changed (their row 1); every other member is as it was.
    edited = {
        parts[line.split(" : ")[0]]
        for line in result.output.splitlines()
        if "en-têtes ajoutés" in line
    }
    assert edited and staff_members(path) == {
        n: b for n, b in before.items() if n not in edited
    } | {n: b for n, b in staff_members(path).items() if n in edited}
    reread = openpyxl.load_workbook(path)
    assert reread["Personnes"]["A2"].value == '="P-"&1'  # the staff's formula, as it was
    book = openpyxl.load_workbook(path)
    assert book["Journal"]["A1"].value == "Date" and book["Journal"]["A1"].font.b


@pytest.mark.parametrize("kind", ["text", "fifo", "zip"])
def test_init_force_replaces_only_a_workbook(
    run_gt: Callable[..., Result], tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "notes.xlsx"
    if kind == "text":
        path.write_text("mes notes, à garder\n")
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("word/document.xml", "<w/>")
    before = None if kind == "fifo" else path.read_bytes()
    result = run_gt("--sheet", path, "init", "--force", debug=False)
    assert result.exit_code == 3, result.output
    assert "remplacement refusé" in result.output and "rien n'a été écrit" in result.output
    if before is not None:
        assert path.read_bytes() == before
    else:
        assert path.is_fifo()


def test_init_force_replaces_a_workbook(run_gt: Callable[..., Result], tmp_path: Path) -> None:
    path = copy_fixture("staff-rich.xlsx", tmp_path)
    assert run_gt("--sheet", path, "init", "--force").exit_code == 0
    assert "Notes du pôle" not in openpyxl.load_workbook(path).sheetnames


def test_a_file_changed_since_the_read_is_refused(tmp_path: Path, config: Config) -> None:
    path = staff_workbook(tmp_path)
    backend = WorkbookBackend(path, config)
    snapshot = backend.read()
    book = openpyxl.load_workbook(path)
    book["Personnes"]["B2"] = "changé"
    book.save(path)
    before = path.read_bytes()
    with pytest.raises(WriteFailed, match="modifié pendant l'exécution"):
        backend.write({"Journal": [["Date"]]}, snapshot)
    assert path.read_bytes() == before


# -- bounded reading --------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["XFD1048576", "AZ1048576"])
def test_a_stray_far_cell_is_ignored_and_reported(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path], cell: str
) -> None:
    from conftest import small_registry

    path = make_workbook(small_registry())
    book = openpyxl.load_workbook(path)
    book["Présences"][cell] = "oups"
    book.save(path)
    result = run_gt("--sheet", path, *AS_OF, "check")
    assert result.exit_code == 1, result.output
    assert (
        f"Présences!{cell} : valeur isolée très loin des autres données, ignorée" in result.output
    )


def test_an_encrypted_workbook_gets_the_right_hint(tmp_path: Path, config: Config) -> None:
    path = tmp_path / "protégé.xlsx"
    directory = (
        "EncryptionInfo".encode("utf-16-le") + b"\0" * 20 + "EncryptedPackage".encode("utf-16-le")
    )
    path.write_bytes(xlsx_backend.OLE_MAGIC + b"\0" * 504 + directory)
    with pytest.raises(SourceError) as caught:
        WorkbookBackend(path, config).read()
    assert "protégé par un mot de passe" in str(caught.value)
    assert "enregistrez le classeur sans mot de passe" in str(caught.value)


def test_lock_parse_rejects_other_programs() -> None:
    assert xlsx_backend._LockInfo.parse(",Camille,poste,01.06.2020 09:12,file:///x;") is None
    mine = xlsx_backend._LockInfo.parse(xlsx_backend._LockInfo.mine())
    assert mine is not None and mine.pid == os.getpid()
    assert isinstance(WorkbookLock(Path("x.xlsx")).path, Path)
    assert Snapshot().version is None
