"""Template lookup (staff's folder first, then the packaged defaults) and `gt templates`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from conftest import DEMO_TODAY, PROJECT_ROOT
from gt_registry.config import PACKAGED_CONFIG, PACKAGED_TEMPLATES
from gt_registry.mail import parse

Run = Callable[..., Result]
AS_OF = DEMO_TODAY.isoformat()


def subjects(folder: Path) -> set[str]:
    return {str(parse(path.read_bytes())["Subject"]) for path in folder.glob("*.eml")}


def test_the_packaged_defaults_are_the_repository_files() -> None:
    """The wheel ships templates/ and config/gt.toml; in a checkout they are the same files."""
    shipped = sorted(p.relative_to(PACKAGED_TEMPLATES) for p in PACKAGED_TEMPLATES.rglob("*.j2"))
    source = sorted(
        p.relative_to(PROJECT_ROOT / "templates")
        for p in (PROJECT_ROOT / "templates").rglob("*.j2")
    )
    assert shipped == source and len(shipped) > 20
    assert PACKAGED_CONFIG.read_bytes() == (PROJECT_ROOT / "config" / "gt.toml").read_bytes()


def test_templates_copies_every_default_and_a_config_pointing_at_them(
    run_gt: Run, tmp_path: Path
) -> None:
    folder = tmp_path / "perso"
    result = run_gt("templates", folder)
    assert result.exit_code == 0, result.output
    copied = sorted(
        p.relative_to(folder / "templates") for p in (folder / "templates").rglob("*.j2")
    )
    assert copied == sorted(
        p.relative_to(PACKAGED_TEMPLATES) for p in PACKAGED_TEMPLATES.rglob("*.j2")
    )
    toml = (folder / "gt.toml").read_text(encoding="utf-8")
    assert 'templates = "templates"' in toml and "# " in toml  # commented, pointing at the copy
    assert f"--config {folder / 'gt.toml'}" in result.output


def test_templates_never_replaces_a_file_already_there(run_gt: Run, tmp_path: Path) -> None:
    folder = tmp_path / "config"
    assert run_gt("templates", folder).exit_code == 0
    edited = folder / "templates" / "emails" / "reunion.fr.eml.j2"
    edited.write_text("Subject: mon sujet\n\nmon texte\n", encoding="utf-8")
    removed = folder / "templates" / "emails" / "soiree.en.eml.j2"
    removed.unlink()
    result = run_gt("templates", folder)
    assert result.exit_code == 0, result.output
    assert edited.read_text(encoding="utf-8") == "Subject: mon sujet\n\nmon texte\n"
    assert removed.is_file()  # only the missing one came back
    assert "1 fichier(s) créé(s)" in result.output and "laissé(s) tel(s) quel(s)" in result.output


def test_templates_dry_run_writes_nothing(run_gt: Run, tmp_path: Path) -> None:
    result = run_gt("templates", tmp_path / "config", "--dry-run")
    assert result.exit_code == 0 and "à créer : " in result.output
    assert not (tmp_path / "config").exists()


def test_templates_refuses_a_file_in_place_of_the_folder(run_gt: Run, tmp_path: Path) -> None:
    (tmp_path / "config").write_text("x", encoding="utf-8")
    result = run_gt("templates", tmp_path / "config")
    assert result.exit_code == 2  # Click's own check: DOSSIER must not be a file
    assert (tmp_path / "config").read_text(encoding="utf-8") == "x"


def test_a_staff_template_overrides_only_its_own_file(
    run_gt: Run, demo_xlsx: Path, tmp_path: Path
) -> None:
    """Staff's folder holds only reunion.fr: French drafts use it, English ones the default.
    The folder is named relative to the config file, whatever the current folder."""
    config_dir = tmp_path / "ailleurs"
    (config_dir / "mes-modeles" / "emails").mkdir(parents=True)
    (config_dir / "mes-modeles" / "emails" / "reunion.fr.eml.j2").write_text(
        "Subject: [Perso] {{ meeting.id }}\n\nBonjour {{ person.first_name }},\n", encoding="utf-8"
    )
    (config_dir / "gt.toml").write_text('[paths]\ntemplates = "mes-modeles"\n', encoding="utf-8")
    out = tmp_path / "brouillons"
    result = run_gt(
        "--config", config_dir / "gt.toml", "--sheet", demo_xlsx, "--as-of", AS_OF,
        "draft-invitations", "R-2020-AI-4", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    found = subjects(out)
    assert "[Perso] R-2020-AI-4" in found  # the French drafts
    others = found - {"[Perso] R-2020-AI-4"}  # en, es, pt: the templates shipped
    assert "GT Action internationale — meeting on Tuesday 8 September 2020" in others
    assert all(s.startswith("GT Action internationale — ") for s in others)
