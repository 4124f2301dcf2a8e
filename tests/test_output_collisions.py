"""What a red-team pass found: an output colliding with the tool's own files, `--force` over a
file the tool never writes, a refusal blaming an option not given, an incomplete OAuth client
file, a registry path that is a folder, and the shape of an error on the command line."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from conftest import small_registry
from test_outputs import AS_OF, MARKER, draft, snapshot, write_config

Run = Callable[..., Result]


# -- 1. --mbox never collides with the tool's own files --------------------------------------


@pytest.mark.parametrize("name", [MARKER, "P-1-aubert-anne.eml", "x.mbox"])
@pytest.mark.parametrize("given", [True, False], ids=["out", "default-folder"])
def test_an_mbox_inside_the_drafts_folder_is_refused(
    run_gt: Run, small_xlsx: Path, tmp_path: Path, name: str, given: bool
) -> None:
    """Before: exit 0, the mbox overwritten by the marker or a draft, the summary naming it."""
    out = tmp_path / "brouillons" / "R-AI-1"  # the default folder of the configuration
    config = write_config(tmp_path / "gt.toml", small_xlsx, tmp_path / "modeles", out.parent)
    common = ["--config", config, "--as-of", AS_OF, "draft-invitations", "R-AI-1"]
    assert run_gt(*common).exit_code == 0
    assert (out / MARKER).is_file() and (out / "P-1-aubert-anne.eml").is_file()
    before = snapshot(tmp_path)
    args = ["--out", out] if given else []
    result = run_gt(*common, *args, "--force", "--mbox", out / name, debug=False)
    assert result.exit_code == 2, result.output
    assert f"dans le dossier de brouillons {out.resolve()}" in result.stderr
    assert "hors des dossiers de brouillons de l'outil" in result.stderr
    assert "rien n'a été écrit" in result.stderr
    assert snapshot(tmp_path) == before


def test_an_mbox_inside_a_new_out_folder_is_refused_as_a_usage_error(
    run_gt: Run, small_xlsx: Path, tmp_path: Path
) -> None:
    result = draft(run_gt, small_xlsx, "--out", tmp_path / "d", "--mbox", tmp_path / "d" / "x.mbox")
    assert result.exit_code == 2, result.output
    assert "dans le dossier de brouillons" in result.stderr
    assert not (tmp_path / "d").exists()


def test_a_contact_list_is_never_written_into_a_drafts_folder(
    run_gt: Run, small_xlsx: Path, tmp_path: Path
) -> None:
    out = tmp_path / "d"
    assert draft(run_gt, small_xlsx, "--out", out).exit_code == 0
    before = snapshot(tmp_path)
    result = run_gt("--sheet", small_xlsx, "contacts", "--group", "AI", "--out", out / "l.csv")
    assert result.exit_code == 2, result.output
    assert "dans le dossier de brouillons" in result.stderr
    assert snapshot(tmp_path) == before


# -- 2. --force replaces only what the tool writes -------------------------------------------

FOREIGN = {
    "workbook": (b"PK\x03\x04\x14\x00\x06\x00rest of a zip", "un classeur"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "un document PDF"),
    "old-office": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "un document Office"),
    "binary": (b"\x7fELF\x02\x01\x01\x00\x00\x00", "un fichier binaire"),
}


@pytest.mark.parametrize("kind", [*FOREIGN, "text"])
def test_force_on_mbox_replaces_only_an_mbox(
    run_gt: Run, small_xlsx: Path, tmp_path: Path, kind: str
) -> None:
    box = tmp_path / "x.mbox"
    data, said = FOREIGN.get(kind, (b"notes de la compta\n", "pas un fichier mbox"))
    box.write_bytes(data)
    result = draft(run_gt, small_xlsx, "--out", tmp_path / "d", "--mbox", box, "--force")
    assert result.exit_code == 2, result.output
    assert said in result.stderr and "rien n'a été écrit" in result.stderr
    assert "l'outil ne remplace qu'un fichier mbox" in result.stderr
    assert box.read_bytes() == data and not (tmp_path / "d").exists()


@pytest.mark.parametrize("old", [b"", b"From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n\n"])
def test_force_on_mbox_replaces_an_mbox(
    run_gt: Run, small_xlsx: Path, tmp_path: Path, old: bytes
) -> None:
    box = tmp_path / "x.mbox"
    box.write_bytes(old)
    result = draft(run_gt, small_xlsx, "--out", tmp_path / "d", "--mbox", box, "--force")
    assert result.exit_code == 0, result.output
    assert box.read_bytes().startswith(b"From ") and box.read_bytes() != old


@pytest.mark.parametrize("kind", FOREIGN)
@pytest.mark.parametrize("command", ["contacts", "report"])
def test_force_on_out_never_replaces_a_document_or_a_binary(
    run_gt: Run, small_xlsx: Path, tmp_path: Path, kind: str, command: str
) -> None:
    out = tmp_path / "copie.xlsx"
    data, said = FOREIGN[kind]
    out.write_bytes(data)
    args: list[Any] = ["contacts", "--group", "AI"] if command == "contacts" else ["report"]
    result = run_gt("--sheet", small_xlsx, "--as-of", AS_OF, *args, "--out", out, "--force")
    assert result.exit_code == 2, result.output
    assert said in result.stderr and "rien n'a été écrit" in result.stderr
    assert "l'outil ne remplace qu'un fichier texte" in result.stderr
    assert out.read_bytes() == data


def test_force_on_out_replaces_a_text_file(run_gt: Run, small_xlsx: Path, tmp_path: Path) -> None:
    out = tmp_path / "liste.csv"
    out.write_text("ancienne liste\n", "utf-8")
    result = run_gt("--sheet", small_xlsx, "contacts", "--group", "AI", "--out", out, "--force")
    assert result.exit_code == 0, result.output
    assert out.read_text("utf-8-sig") != "ancienne liste\n"


# -- 3. a refused drafts folder from the configuration names the configuration ---------------


def test_a_configured_drafts_folder_refused_names_the_config_key(
    run_gt: Run, small_xlsx: Path, tmp_path: Path
) -> None:
    templates = tmp_path / "config" / "templates"
    (templates / "emails").mkdir(parents=True)
    config = write_config(tmp_path / "config" / "gt.toml", small_xlsx, templates, templates)
    before = snapshot(tmp_path)
    result = run_gt(
        "--config", config, "--as-of", AS_OF, "draft-invitations", "R-AI-1", debug=False
    )
    assert result.exit_code == 2, result.output
    assert f"[paths] drafts dans {config}" in result.stderr
    assert "dans un dossier de modèles" in result.stderr
    assert "--out" not in result.stderr.replace("ou donnez --out DOSSIER", "")
    assert snapshot(tmp_path) == before


# -- 4. an incomplete OAuth client file -------------------------------------------------------


def test_login_with_an_incomplete_client_file_names_it_and_the_fix(
    run_gt: Run, tmp_path: Path
) -> None:
    secrets = tmp_path / "cs.json"
    secrets.write_text(
        json.dumps({"installed": {"client_id": "x", "client_secret": "s3cr3t-value"}})
    )
    result = run_gt("login", "--client-secrets", secrets, debug=False)
    assert result.exit_code == 3, result.output
    assert "Erreur inattendue" not in result.stderr and "ValueError" not in result.stderr
    assert f"{secrets} : fichier de client OAuth incomplet" in result.stderr
    assert "auth_uri, token_uri" in result.stderr
    assert "Desktop app" in result.stderr and "Google Cloud console" in result.stderr
    assert "s3cr3t-value" not in result.output  # never the secret itself


# -- 5. a registry path that is not a regular file --------------------------------------------


@pytest.mark.parametrize("where", ["folder", "device"])
def test_check_on_a_folder_or_a_device_says_so(run_gt: Run, tmp_path: Path, where: str) -> None:
    sheet = tmp_path if where == "folder" else Path(os.devnull)
    result = run_gt("--sheet", sheet, "check", debug=False)
    assert result.exit_code == 3, result.output
    said = "c'est un dossier, pas un classeur" if where == "folder" else "pas un fichier ordinaire"
    assert f"{sheet} : {said}" in result.stderr
    assert "introuvable" not in result.stderr and "gt init" not in result.stderr


def test_init_on_a_folder_says_it_is_a_folder(run_gt: Run, tmp_path: Path) -> None:
    folder = tmp_path / "sub"
    folder.mkdir()
    result = run_gt("--sheet", folder, "init", debug=False)
    assert result.exit_code == 3, result.output
    assert f"{folder} : c'est un dossier, pas un classeur" in result.stderr
    assert "écriture impossible dans un fichier" not in result.stderr
    assert list(folder.iterdir()) == []


# -- 6. the shape of an error -----------------------------------------------------------------


def test_a_usage_error_starts_with_the_error_then_what_to_do(run_gt: Run, tmp_path: Path) -> None:
    result = run_gt("contacts", "--out", tmp_path, debug=False)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Erreur : ") and "c'est un dossier" in lines[0], lines
    assert lines[1] == "  → Essayez « gt contacts --help » pour l'aide.", lines
    assert "" not in lines, lines  # no blank line before or after the error
    assert "Usage : gt contacts" in result.stderr


def test_an_output_refused_shows_its_own_fix_only(
    run_gt: Run, small_xlsx: Path, tmp_path: Path
) -> None:
    result = draft(run_gt, small_xlsx, "--out", tmp_path / "d", "--mbox", small_xlsx, debug=False)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Erreur : Valeur invalide pour '--mbox'"), lines
    assert lines[1].startswith("  → choisissez un autre --mbox"), lines
    assert len(lines) == 2, lines


def test_the_invisible_character_hint_has_no_nested_parentheses(
    run_gt: Run, make_workbook: Callable[..., Path]
) -> None:
    tabs = small_registry()
    tabs["Personnes"][1][3] = "anne@alpha.org\u200b"
    result = run_gt("--sheet", make_workbook(tabs), "check", debug=False)
    line = next(x for x in result.output.splitlines() if "caractère invisible" in x)
    assert line.endswith("(retapez la cellule au clavier, ou collez-la sans mise en forme)"), line
    assert line.count("(") == line.count(")") and "((" not in line and "))" not in line
    inner = line[line.rindex("(") :]
    assert inner.count("(") == 1
