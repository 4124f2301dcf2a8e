"""What the output options may replace: only what the tool made (issue 9, rules 1, 5 and 6).

A drafts folder carries the tool's marker (`.gt-brouillons`); `--force` replaces only such a
folder, for the same meeting or mailing, and in it only the files the tool wrote. The registry,
the configuration, a template folder and anything above them are refused (exit 2); anything else
that cannot be written is refused with exit 3, and nothing is written. Ends with a property test:
whatever the options, no file outside what the tool made is removed or changed.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import Result
from conftest import small_registry
from gt_registry.composer import NAME_BYTES
from gt_registry.files import OutputRefused, ProtectedOutput, check_output_file
from gt_registry.mail import MARKER
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

Run = Callable[..., Result]
AS_OF = "2020-01-02"  # before R-AI-1 (14/01/2020) and R-FI-1 (03/03/2020)
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0

# -- a tree of files, with their bytes -----------------------------------------------------

Entry = tuple[str, Any, int]  # kind, content (bytes, link target or None), permission bits


def snapshot(root: Path) -> dict[str, Entry]:
    """Every file, link and folder under `root` (its bytes, its target), by relative path."""
    found: dict[str, Entry] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            info = path.lstat()
            key = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                found[key] = ("link", os.readlink(path), 0)
            elif stat.S_ISDIR(info.st_mode):
                found[key] = ("dir", None, stat.S_IMODE(info.st_mode))
            elif stat.S_ISREG(info.st_mode):
                found[key] = ("file", path.read_bytes(), stat.S_IMODE(info.st_mode))
            else:
                found[key] = ("special", None, stat.S_IMODE(info.st_mode))
    return found


def draft(run_gt: Run, sheet: Path, *args: Any, meeting: str = "R-AI-1", **kw: Any) -> Result:
    return run_gt("--sheet", sheet, "--as-of", AS_OF, "draft-invitations", meeting, *args, **kw)


def contacts(run_gt: Run, sheet: Path, *args: Any) -> Result:
    return run_gt("--sheet", sheet, "contacts", "--group", "AI", *args)


def emls(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix == ".eml"}


def write_config(path: Path, sheet: Path, templates: Path, drafts: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'sheet = "{sheet.as_posix()}"\n[paths]\ntemplates = "{templates.as_posix()}"\n'
        f'drafts = "{drafts.as_posix()}"\n',
        "utf-8",
    )
    return path


@pytest.fixture
def staffed(small_xlsx: Path, tmp_path: Path) -> dict[str, Path]:
    """A staff folder as it is: the registry, the config, a template folder, staff files."""
    templates = tmp_path / "modeles"
    (templates / "emails").mkdir(parents=True)
    (templates / "emails" / "note.txt").write_text("à garder", "utf-8")
    config = write_config(
        tmp_path / "config" / "gt.toml", small_xlsx, templates, tmp_path / "brouillons"
    )
    staff = tmp_path / "compta"
    staff.mkdir()
    (staff / "budget.txt").write_text("12 €", "utf-8")
    return {"sheet": small_xlsx, "config": config, "templates": templates, "staff": staff}


# -- rule 1: refused from the options alone (exit 2) ----------------------------------------


def test_out_at_the_registry_folder_is_refused_and_nothing_is_touched(
    run_gt: Run, small_xlsx: Path, tmp_path: Path
) -> None:
    """Today `--out "$PWD" --force` deleted every file of the folder, the registry included."""
    before = snapshot(tmp_path)
    result = draft(run_gt, small_xlsx, "--out", tmp_path, "--force")
    assert result.exit_code == 2
    assert f"ce dossier contient le registre ({small_xlsx})" in result.stderr
    assert "choisissez pour --out un dossier à part" in result.stderr
    assert snapshot(tmp_path) == before


def test_out_dot_in_the_registry_folder_is_refused(
    run_gt: Run, small_xlsx: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    result = draft(run_gt, Path(small_xlsx.name), "--out", ".", "--force")
    assert result.exit_code == 2 and "contient le registre" in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("where", "said"),
    [
        ("config_folder", "ce dossier contient le fichier de configuration"),
        ("templates", "c'est un dossier de modèles"),
        ("templates_inside", "dans un dossier de modèles"),
        ("root", "ce dossier contient le registre"),
    ],
    ids=lambda v: v if isinstance(v, str) and " " not in v else "",
)
def test_out_at_or_above_a_protected_place_is_refused(
    run_gt: Run, staffed: dict[str, Path], tmp_path: Path, where: str, said: str
) -> None:
    out = {
        "config_folder": staffed["config"].parent,
        "templates": staffed["templates"],
        "templates_inside": staffed["templates"] / "emails" / "nouveau",
        "root": tmp_path,
    }[where]
    before = snapshot(tmp_path)
    result = run_gt(
        "--config", staffed["config"], "--as-of", AS_OF, "draft-invitations", "R-AI-1",
        "--out", out, "--force",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert said in result.stderr and "rien n'a été écrit" in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "target", ["registry", "hard_link", "symlink", "config", "template"], ids=str
)
@pytest.mark.parametrize("command", ["mbox", "contacts"])
def test_an_output_file_is_never_the_registry_the_config_or_a_template(
    run_gt: Run, staffed: dict[str, Path], tmp_path: Path, target: str, command: str
) -> None:
    sheet = staffed["sheet"]
    if target == "hard_link":
        os.link(sheet, tmp_path / "copie.xlsx")
    if target == "symlink":
        (tmp_path / "lien.xlsx").symlink_to(sheet)
    path = {
        "registry": sheet,
        "hard_link": tmp_path / "copie.xlsx",
        "symlink": tmp_path / "lien.xlsx",
        "config": staffed["config"],
        "template": staffed["templates"] / "emails" / "note.txt",
    }[target]
    before = snapshot(tmp_path)
    common = ("--config", staffed["config"], "--as-of", AS_OF)
    if command == "mbox":
        args = ("draft-invitations", "R-AI-1", "--out", tmp_path / "d", "--mbox", path)
        option = "--mbox"
    else:
        args = ("contacts", "--group", "AI", "--out", path)
        option = "--out"
    result = run_gt(*common, *args, "--force")
    assert result.exit_code == 2, result.output
    assert f"Valeur invalide pour '{option}'" in result.stderr
    assert "rien n'a été écrit" in result.stderr
    assert (
        "le registre" in result.stderr
        or "configuration" in result.stderr
        or "modèle" in result.stderr
    )
    assert snapshot(tmp_path) == before


def test_a_custom_contact_template_is_not_overwritten(
    run_gt: Run, small_xlsx: Path, tmp_path: Path
) -> None:
    custom = tmp_path / "liste.txt.j2"
    custom.write_text("{% for p in people %}{{ p.email }}\n{% endfor %}", "utf-8")
    result = contacts(run_gt, small_xlsx, "--template", custom, "--out", custom, "--force")
    assert result.exit_code == 2 and "c'est un modèle" in result.stderr
    assert custom.read_text("utf-8").startswith("{% for")


@pytest.mark.parametrize("kind", ["folder", "fifo", "device", "broken_link"])
def test_an_output_file_must_be_a_regular_file(
    run_gt: Run, small_xlsx: Path, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "sortie"
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFO on this system")
        os.mkfifo(path)
    elif kind == "device":
        path = Path(os.devnull)
    else:
        path.symlink_to(tmp_path / "absent")
    before = snapshot(tmp_path)
    for result in (
        contacts(run_gt, small_xlsx, "--out", path, "--force"),
        draft(run_gt, small_xlsx, "--out", tmp_path / "d", "--mbox", path, "--force"),
    ):
        assert result.exit_code == 2, result.output
    assert snapshot(tmp_path) == before


def test_a_symlink_to_a_regular_file_is_followed(
    run_gt: Run, small_xlsx: Path, tmp_path: Path
) -> None:
    real = tmp_path / "vrai.csv"
    real.write_text("ancien", "utf-8")
    link = tmp_path / "lien.csv"
    link.symlink_to(real)
    assert contacts(run_gt, small_xlsx, "--out", link).exit_code == 3  # exists: --force
    assert contacts(run_gt, small_xlsx, "--out", link, "--force").exit_code == 0
    assert link.is_symlink() and real.read_text("utf-8") != "ancien"


def test_an_existing_mbox_needs_force(run_gt: Run, small_xlsx: Path, tmp_path: Path) -> None:
    box = tmp_path / "x.mbox"
    box.write_text("ancien", "utf-8")
    result = draft(run_gt, small_xlsx, "--out", tmp_path / "d", "--mbox", box)
    assert result.exit_code == 3
    assert f"{box} existe déjà : rien n'a été écrit" in result.stderr
    assert "ajoutez --force pour le remplacer, ou choisissez un autre --mbox" in result.stderr
    assert not (tmp_path / "d").exists() and box.read_text("utf-8") == "ancien"


# -- rule 1: drafts folders carry the tool's marker ------------------------------------------


def test_a_drafts_folder_carries_the_marker_and_force_replaces_only_its_files(
    run_gt: Run, small_xlsx: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ai"
    assert draft(run_gt, small_xlsx, "--out", out).exit_code == 0
    marker = json.loads((out / MARKER).read_text("ascii"))
    assert marker["outil"] == "gt-registry" and marker["brouillons"] == "réunion R-AI-1"
    assert set(marker["fichiers"]) == set(emls(out))
    (out / "notes.txt").write_text("ordre du jour", "utf-8")
    (out / "perso").mkdir()
    (out / "perso" / "x.eml").write_bytes(b"mine")
    again = draft(run_gt, small_xlsx, "--out", out)
    assert again.exit_code == 3
    assert "existe déjà" in again.stderr and "--force" in again.stderr
    forced = draft(run_gt, small_xlsx, "--out", out, "--force")
    assert forced.exit_code == 0, forced.output
    assert "2 fichier(s) que l'outil n'a pas écrits" in forced.stderr
    assert "notes.txt, perso" in forced.stderr and "restent en place" in forced.stderr
    assert (out / "notes.txt").read_text("utf-8") == "ordre du jour"
    assert (out / "perso" / "x.eml").read_bytes() == b"mine"
    assert set(json.loads((out / MARKER).read_text("ascii"))["fichiers"]) == set(emls(out))


def test_a_draft_edited_by_hand_is_not_replaced(
    run_gt: Run, small_xlsx: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ai"
    assert draft(run_gt, small_xlsx, "--out", out).exit_code == 0
    edited = sorted(emls(out))[0]
    (out / edited).write_bytes(b"Subject: revu a la main\r\n\r\nTexte.\r\n")
    before = snapshot(tmp_path)
    result = draft(run_gt, small_xlsx, "--out", out, "--force")
    assert result.exit_code == 3
    assert f"{out / edited} n'a pas été écrit par l'outil, ou a été modifié depuis" in result.stderr
    assert "déplacez ce fichier si vous voulez le garder" in result.stderr
    assert snapshot(tmp_path) == before


def test_another_meetings_drafts_are_not_replaced(
    run_gt: Run, small_xlsx: Path, tmp_path: Path
) -> None:
    """Today `--out brouillons --force` deleted the other meetings' drafts."""
    out = tmp_path / "brouillons"
    assert draft(run_gt, small_xlsx, "--out", out, meeting="R-FI-1").exit_code == 0
    before = snapshot(tmp_path)
    result = draft(run_gt, small_xlsx, "--out", out, "--force")
    assert result.exit_code == 3
    assert "contient les brouillons d'un autre envoi (réunion R-FI-1)" in result.stderr
    assert snapshot(tmp_path) == before


def test_default_folders_are_one_per_meeting(
    run_gt: Run, staffed: dict[str, Path], tmp_path: Path
) -> None:
    args = ("--config", staffed["config"], "--as-of", AS_OF, "draft-invitations")
    assert run_gt(*args, "R-AI-1").exit_code == 0
    assert run_gt(*args, "R-FI-1").exit_code == 0
    kept = snapshot(tmp_path / "brouillons" / "R-FI-1")
    assert run_gt(*args, "R-AI-1", "--force").exit_code == 0
    assert snapshot(tmp_path / "brouillons" / "R-FI-1") == kept


@pytest.mark.parametrize("content", ["old_drafts", "staff_files"])
def test_a_folder_without_the_marker_is_not_the_tools(
    run_gt: Run, small_xlsx: Path, tmp_path: Path, content: str
) -> None:
    out = tmp_path / "ancien"
    out.mkdir()
    if content == "old_drafts":  # written by a version without the marker
        (out / "P-1-aubert-anne.eml").write_bytes(b"Subject: x\r\n\r\n")
        said = "brouillons sans marqueur de l'outil (.gt-brouillons)"
        fix = "supprimez ce dossier vous-même après vérification, ou choisissez un autre --out"
    else:
        (out / "budget.ods").write_bytes(b"PK")
        said = "n'est pas un dossier de brouillons de l'outil (1 élément(s), par exemple « budget.ods »)"
        fix = "choisissez pour --out un dossier nouveau ou vide"
    before = snapshot(tmp_path)
    for extra in ((), ("--force",), ("--only-new",)):
        result = draft(run_gt, small_xlsx, "--out", out, *extra)
        assert result.exit_code == 3, result.output
        assert said in result.stderr and fix in result.stderr
        assert snapshot(tmp_path) == before


def test_an_empty_folder_is_filled(run_gt: Run, small_xlsx: Path, tmp_path: Path) -> None:
    out = tmp_path / "vide"
    out.mkdir()
    assert draft(run_gt, small_xlsx, "--out", out).exit_code == 0
    assert emls(out) and (out / MARKER).is_file()


def test_only_new_adds_files_only(run_gt: Run, small_xlsx: Path, tmp_path: Path) -> None:
    out = tmp_path / "ai"
    assert draft(run_gt, small_xlsx, "--out", out).exit_code == 0
    (out / "notes.txt").write_text("garder", "utf-8")
    first = emls(out)
    book = openpyxl.load_workbook(small_xlsx)
    book["Personnes"].append(["P-7", "Gaël", "Gomez", "gael@alpha.org", "ORG-1", "AI"])
    book.save(small_xlsx)
    result = draft(run_gt, small_xlsx, "--out", out, "--only-new")
    assert result.exit_code == 0, result.output
    now = emls(out)
    assert set(now) - set(first) == {"P-7-gomez-gael.eml"}
    assert {name: now[name] for name in first} == first
    assert (out / "notes.txt").read_text("utf-8") == "garder"
    assert set(json.loads((out / MARKER).read_text("ascii"))["fichiers"]) == set(now)


# -- rule 2: created files and folders follow the umask ------------------------------------


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_created_files_and_folders_follow_the_umask(
    run_gt: Run, small_xlsx: Path, tmp_path: Path
) -> None:
    out, box, listing = tmp_path / "d", tmp_path / "x.mbox", tmp_path / "liste.csv"
    with umask(0o027):
        assert draft(run_gt, small_xlsx, "--out", out, "--mbox", box).exit_code == 0
        assert contacts(run_gt, small_xlsx, "--out", listing).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o750
    for path in [*out.iterdir(), box, listing]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path


# -- rule 5: bounded file names ------------------------------------------------------------


def test_a_300_character_id_is_drafted_with_a_bounded_unique_name(
    run_gt: Run, make_workbook: Callable[..., Path], tmp_path: Path
) -> None:
    tabs = small_registry()
    long_a, long_b = "P-" + "a" * 298, "P-" + "a" * 297 + "b"
    tabs["Personnes"] += [
        [long_a, "Anne", "Longue", "longue@alpha.org", "ORG-1", "AI", "", "", "", ""],
        [long_b, "Anne", "Longue", "longue2@alpha.org", "ORG-1", "AI", "", "", "", ""],
        ["CON", "", "", "con@alpha.org", "ORG-1", "AI", "", "", "", ""],
    ]
    meeting = "R-" + "x" * 298
    tabs["Réunions"].append([meeting, "Réunion", "AI", "2020-02-04", "9h30", "11h30"])
    sheet = make_workbook(tabs)
    result = draft(run_gt, sheet, "--out", tmp_path / "d", meeting=meeting)
    assert result.exit_code == 0, result.output
    names = sorted(emls(tmp_path / "d"))
    assert all(len(name.encode("utf-8")) <= NAME_BYTES for name in names)
    long_names = [n for n in names if n.startswith("P-aaa")]
    assert len(long_names) == 2 and long_names[0] != long_names[1]
    assert "CON-gt.eml" in names  # not a name Windows reserves
    default = run_gt("--sheet", sheet, "--as-of", AS_OF, "draft-invitations", meeting, "--dry-run")
    assert default.exit_code == 0


# -- rule 6: clear messages, exit 3, nothing written ----------------------------------------


def test_a_missing_parent_folder_is_named(run_gt: Run, small_xlsx: Path, tmp_path: Path) -> None:
    out = tmp_path / "absent" / "d"
    result = draft(run_gt, small_xlsx, "--out", out, debug=False)
    assert result.exit_code == 3
    assert result.stderr.startswith(
        f"Erreur : {out.parent} : dossier introuvable : rien n'a été écrit\n"
    )
    assert "créez d'abord ce dossier, ou choisissez un autre --out" in result.stderr
    listing = contacts(run_gt, small_xlsx, "--out", out)
    assert listing.exit_code == 3 and "dossier introuvable" in listing.stderr
    assert not (tmp_path / "absent").exists()


@pytest.mark.skipif(ROOT_USER or os.name != "posix", reason="root writes in read-only folders")
def test_a_read_only_folder_is_named(run_gt: Run, small_xlsx: Path, tmp_path: Path) -> None:
    folder = tmp_path / "lecture-seule"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        for result in (
            draft(run_gt, small_xlsx, "--out", folder / "d", debug=False),
            contacts(run_gt, small_xlsx, "--out", folder / "x.csv"),
        ):
            assert result.exit_code == 3
            assert f"{folder} : dossier en lecture seule" in result.stderr
            assert "Erreur inattendue" not in result.stderr
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def failing_writes(monkeypatch: pytest.MonkeyPatch, under: Path, code: int) -> None:
    """Every write (or durable flush) of a file under `under` fails with `code`: a full disk,
    a folder whose rights changed while the drafts rendered."""
    real_write, real_fsync = os.write, os.fsync

    def inside(fd: int) -> bool:
        try:
            return Path(os.readlink(f"/proc/self/fd/{fd}")).is_relative_to(under)
        except OSError:
            return False

    def write(fd: int, data: Any) -> int:
        if inside(fd):
            raise OSError(code, os.strerror(code))
        return real_write(fd, data)

    def fsync(fd: int) -> None:
        if inside(fd):
            raise OSError(code, os.strerror(code))
        real_fsync(fd)

    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
@pytest.mark.parametrize(
    ("code", "said", "fix"),
    [
        (errno.ENOSPC, "disque plein (ou quota atteint)", "libérez de la place puis relancez"),
        (errno.EACCES, "écriture refusée (droits insuffisants)", "donnez-vous le droit d'écrire"),
    ],
    ids=["full-disk", "permission"],
)
def test_a_failing_write_is_named_and_leaves_nothing(
    run_gt: Run,
    small_xlsx: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
    said: str,
    fix: str,
) -> None:
    target = tmp_path / "sortie"
    target.mkdir()
    before = snapshot(tmp_path)
    failing_writes(monkeypatch, target, code)
    for result in (
        draft(run_gt, small_xlsx, "--out", target / "d", "--mbox", target / "x.mbox", debug=False),
        contacts(run_gt, small_xlsx, "--out", target / "x.csv"),
    ):
        assert result.exit_code == 3, result.output
        assert said in result.stderr and fix in result.stderr
        assert "rien n'a été écrit" in result.stderr
        assert "Erreur inattendue" not in result.stderr
    monkeypatch.undo()
    assert snapshot(tmp_path) == before


def test_the_helper_for_other_commands(small_xlsx: Path, tmp_path: Path, config: Any) -> None:
    """`files.check_output_file(path, config, force)`, for any command that writes a file."""
    from dataclasses import replace

    config = replace(config, sheet=str(small_xlsx))
    with pytest.raises(ProtectedOutput) as protected:
        check_output_file(small_xlsx, config, True)
    assert protected.value.exit_code == 2
    existing = tmp_path / "r.html"
    existing.write_text("x", "utf-8")
    with pytest.raises(OutputRefused) as refused:
        check_output_file(existing, config, False)
    assert refused.value.exit_code == 3
    check_output_file(existing, config, True)
    check_output_file(tmp_path / "nouveau.html", config, False)


# -- gt report: the page, the JSON and the CSV folder, checked together -----------------------

REPORT_TABLES = 9  # one CSV per table of the report


def report(run_gt: Run, staffed: dict[str, Path], *args: Any) -> Result:
    return run_gt("--config", staffed["config"], "--as-of", AS_OF, "report", *args)


@pytest.mark.parametrize(
    ("where", "said"),
    [
        ("templates", "c'est un dossier de modèles"),
        ("templates_emails", "dans un dossier de modèles"),
        ("templates_new", "dans un dossier de modèles"),
        ("config_folder", "ce dossier contient le fichier de configuration"),
        ("root", "ce dossier contient le registre"),
    ],
    ids=lambda v: v if isinstance(v, str) and " " not in v else "",
)
def test_report_csv_is_never_a_template_folder_nor_above_the_registry(
    run_gt: Run, staffed: dict[str, Path], tmp_path: Path, where: str, said: str
) -> None:
    """`report --csv <project>/templates/emails` wrote 9 CSVs there, with exit 0."""
    folder = {
        "templates": staffed["templates"],
        "templates_emails": staffed["templates"] / "emails",
        "templates_new": staffed["templates"] / "tableaux",
        "config_folder": staffed["config"].parent,
        "root": tmp_path,
    }[where]
    before = snapshot(tmp_path)
    result = report(run_gt, staffed, "--csv", folder, "--force")
    assert result.exit_code == 2, result.output
    assert "'--csv'" in result.stderr and said in result.stderr
    assert "rien n'a été écrit" in result.stderr
    assert snapshot(tmp_path) == before


def test_report_writes_nothing_when_one_of_its_files_is_refused(
    run_gt: Run, staffed: dict[str, Path], tmp_path: Path
) -> None:
    """`--csv tab --out page.html`, page.html existing: tab/*.csv were written, then exit 3."""
    page = tmp_path / "page.html"
    page.write_text("à garder", "utf-8")
    before = snapshot(tmp_path)
    result = report(run_gt, staffed, "--csv", tmp_path / "tab", "--out", page)
    assert result.exit_code == 3, result.output
    assert f"{page} existe déjà : rien n'a été écrit" in result.stderr
    assert snapshot(tmp_path) == before  # no tab/ either

    (tmp_path / "tab").mkdir()
    (tmp_path / "tab" / "groupes.csv").write_text("à moi", "utf-8")
    before = snapshot(tmp_path)
    result = report(run_gt, staffed, "--csv", tmp_path / "tab", "--out", tmp_path / "neuf.html")
    assert result.exit_code == 3, result.output
    assert "groupes.csv existe déjà : rien n'a été écrit" in result.stderr
    assert "--force" in result.stderr
    assert snapshot(tmp_path) == before  # neither the page nor the other CSVs


def test_report_csv_folder_is_created_and_force_replaces_only_its_csv(
    run_gt: Run, staffed: dict[str, Path], tmp_path: Path
) -> None:
    tab = tmp_path / "tab"
    first = report(run_gt, staffed, "--csv", tab, "--out", tmp_path / "page.html")
    assert first.exit_code in (0, 1), first.output
    names = sorted(p.name for p in tab.iterdir())
    assert len(names) == REPORT_TABLES and all(n.endswith(".csv") for n in names)
    assert (tmp_path / "page.html").is_file()
    assert f"écrit : {tmp_path / 'page.html'}, {tab} (CSV)." in first.stderr
    (tab / "notes.txt").write_text("à garder", "utf-8")
    (tab / "groupes.csv").write_text("ancien", "utf-8")
    again = report(run_gt, staffed, "--csv", tab, "--force")
    assert again.exit_code in (0, 1), again.output
    assert (tab / "notes.txt").read_text("utf-8") == "à garder"  # not the tool's: untouched
    assert (tab / "groupes.csv").read_text("utf-8-sig").startswith('"Code";"Groupe";')
    assert sorted(p.name for p in tab.iterdir()) == sorted([*names, "notes.txt"])


def test_report_out_inside_the_csv_folder_or_a_template_is_refused(
    run_gt: Run, staffed: dict[str, Path], tmp_path: Path
) -> None:
    tab = tmp_path / "tab"
    tab.mkdir()
    before = snapshot(tmp_path)
    same = report(run_gt, staffed, "--csv", tab, "--json", "--out", tab / "groupes.csv", "--force")
    assert same.exit_code == 2 and "c'est aussi un fichier de --out" in same.stderr
    template = staffed["templates"] / "emails" / "note.txt"
    into = report(run_gt, staffed, "--out", template, "--force")
    assert into.exit_code == 2 and "'--out'" in into.stderr and "modèle" in into.stderr
    assert snapshot(tmp_path) == before


# -- the property: whatever the options, only what the tool made changes ----------------------

LIKELY_OUTS = [None, "new", "brouillons/R-AI-1", "brouillons/R-FI-1", "empty"]
OTHER_OUTS = [
    "root", "registry_folder_file", "config", "modeles", "modeles/emails", "modeles/new",
    "brouillons", "staff", "link_dir", "readonly", "readonly/new", "missing/new", "old",
]  # fmt: skip
LIKELY_MBOXES = [None, "new.mbox", "staff/a.txt", "link_file"]
OTHER_MBOXES = [
    "registre.xlsx", "config/gt.toml", "modeles/emails/note.txt", "staff", "hard.xlsx",
    "brouillons/R-AI-1/x.mbox", "readonly/r.txt",
]  # fmt: skip


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A staff folder once: the registry, its config, templates, two meetings' drafts (made
    by the tool), staff files, links, a read-only folder, drafts of an older version."""
    from click.testing import CliRunner
    from gt_registry.cli import gt

    root = tmp_path_factory.mktemp("seed")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for tab, rows in small_registry().items():
        sheet = book.create_sheet(tab)
        for row in rows:
            sheet.append(row)
    book.save(root / "registre.xlsx")
    (root / "modeles" / "emails").mkdir(parents=True)
    (root / "modeles" / "emails" / "note.txt").write_text("modèle", "utf-8")
    config = write_config(
        root / "config" / "gt.toml", root / "registre.xlsx", root / "modeles", root / "brouillons"
    )
    for meeting in ("R-AI-1", "R-FI-1"):
        args = ["--config", str(config), "--as-of", AS_OF, "draft-invitations", meeting]
        assert CliRunner().invoke(gt, args).exit_code == 0
    (root / "brouillons" / "R-AI-1" / "notes.txt").write_text("à moi", "utf-8")
    (root / "staff").mkdir()
    (root / "staff" / "a.txt").write_text("staff", "utf-8")
    (root / "old").mkdir()
    (root / "old" / "P-1.eml").write_bytes(b"Subject: ancien\r\n\r\n")
    (root / "readonly").mkdir()
    (root / "readonly" / "r.txt").write_text("r", "utf-8")
    (root / "empty").mkdir()
    return root


def planted(seed: Path) -> Path:
    """A fresh copy of the seed (links and the read-only folder made here: copies lose them)."""
    root = Path(tempfile.mkdtemp(prefix="gt-prop-"))
    shutil.copytree(seed, root, dirs_exist_ok=True)
    write_config(
        root / "config" / "gt.toml", root / "registre.xlsx", root / "modeles", root / "brouillons"
    )
    (root / "link_dir").symlink_to(root / "staff")
    (root / "link_file").symlink_to(root / "staff" / "a.txt")
    os.link(root / "registre.xlsx", root / "hard.xlsx")
    (root / "readonly").chmod(0o555)
    return root


def the_tools(root: Path, folder: Path, owner: str) -> set[Path]:
    """The files a forced run may replace in `folder`: listed in its marker, unchanged."""
    import hashlib

    try:
        marker = json.loads((folder / MARKER).read_text("ascii"))
    except (OSError, ValueError):
        return set()
    if marker.get("brouillons") != owner:
        return set()
    return {
        folder / name
        for name, digest in marker["fichiers"].items()
        if (folder / name).is_file()
        and hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    } | {folder / MARKER}


def staff_rows(path: Path) -> list[Any]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [list(book[t].iter_rows(values_only=True)) for t in ("Personnes", "Réunions")]
    finally:
        book.close()


@settings(
    max_examples=40,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    # Half the runs can succeed, so that what a success writes is checked too.
    out=st.sampled_from(LIKELY_OUTS) | st.sampled_from(OTHER_OUTS),
    mbox=st.sampled_from(LIKELY_MBOXES) | st.sampled_from(OTHER_MBOXES),
    force=st.booleans(),
    only_new=st.booleans(),
    meeting=st.sampled_from(["R-AI-1", "R-FI-1"]),
)
def test_no_file_outside_what_the_tool_made_is_removed_or_changed(
    run_gt: Run,
    seed: Path,
    out: str | None,
    mbox: str | None,
    force: bool,
    only_new: bool,
    meeting: str,
) -> None:
    root = planted(seed)
    try:
        config = root / "config" / "gt.toml"
        where = {"root": root, "registry_folder_file": root / "registre.xlsx"}.get(out or "")
        out_path = where or (root / out if out else None)
        folder = out_path or root / "brouillons" / meeting
        args: list[Any] = ["--config", config, "--as-of", AS_OF, "draft-invitations", meeting]
        if out_path is not None:
            args += ["--out", out_path]
        if mbox is not None:
            args += ["--mbox", root / mbox]
        args += ["--force"] * force + ["--only-new"] * only_new
        real_folder = Path(os.path.realpath(folder))
        replaceable = the_tools(root, real_folder, f"réunion {meeting}")
        box = Path(os.path.realpath(root / mbox)) if mbox else None
        before = snapshot(root)
        rows = staff_rows(root / "registre.xlsx")

        result = run_gt(*args)

        after = snapshot(root)
        assert result.exit_code in (0, 1, 2, 3), result.output
        assert "Erreur inattendue" not in result.output
        if result.exit_code >= 2:  # refused: nothing at all was written
            assert after == before, result.output
            return

        def made_here(path: Path) -> bool:
            real = Path(os.path.realpath(path))
            return real in (box, real_folder) or real_folder in real.parents

        for key, entry in before.items():
            path = root / key
            if after.get(key) == entry:
                continue
            registry = key in ("registre.xlsx", "hard.xlsx")  # its Journal row
            assert registry or path in replaceable or path == box, (key, result.output)
            if path == box:
                assert force or entry is None
        for key in after.keys() - before.keys():
            assert made_here(root / key), (key, result.output)
        assert staff_rows(root / "registre.xlsx") == rows
    finally:
        (root / "readonly").chmod(0o755)
        shutil.rmtree(root, ignore_errors=True)
