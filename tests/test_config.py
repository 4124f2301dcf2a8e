"""Configuration: defaults < file < environment < options; bad files name the key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import Result
from conftest import PROJECT_ROOT
from gt_registry.config import _build, _defaults, load_config
from gt_registry.errors import ConfigError


def test_committed_config_is_the_built_in_defaults() -> None:
    """config/gt.toml documents the defaults: it must not drift from the code."""
    from_file = load_config(PROJECT_ROOT / "config" / "gt.toml", environ={})
    assert replace(from_file, source_file=None) == _build(_defaults(), "défauts", None)


def test_precedence_option_over_environment_over_file(tmp_path: Path) -> None:
    path = tmp_path / "gt.toml"
    path.write_text('sheet = "from-file.xlsx"\n[rules]\nactive_threshold = 3\n', encoding="utf-8")
    assert load_config(path, environ={}).sheet == "from-file.xlsx"
    assert load_config(path, environ={"GT_SHEET": "from-env.xlsx"}).sheet == "from-env.xlsx"
    assert (
        load_config(path, sheet="from-option.xlsx", environ={"GT_SHEET": "from-env.xlsx"}).sheet
        == "from-option.xlsx"
    )
    assert load_config(None, environ={"GT_CONFIG": str(path)}).active_threshold == 3


def test_tabs_and_headers_can_be_renamed_with_aliases(tmp_path: Path) -> None:
    path = tmp_path / "gt.toml"
    path.write_text(
        '[tabs.people]\nname = "Contacts"\n[tabs.people.headers]\nemail = { name = "Mail pro", aliases = ["Courriel"] }\n',
        encoding="utf-8",
    )
    config = load_config(path, environ={})
    assert config.tab("people") == "Contacts"
    assert config.staff_tabs["people"].field("email").header == "Mail pro"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('shet = "x"', "clé inconnue « shet »"),
        (
            '[rules]\nactive_threshold = "deux"',
            "« rules.active_threshold » doit être un entier ≥ 1",
        ),
        ("[rules]\nactive_threshold = 0", "« rules.active_threshold » doit être un entier ≥ 1"),
        ("[season]\nfirst_month = 13", "« season.first_month » doit être un numéro de mois"),
        ('[rules]\ncounted_types = ["Réunion", "Apéro"]', "type de réunion inconnu « Apéro »"),
        ('[mail]\ntimezone = "Europe/Pariss"', "fuseau inconnu « Europe/Pariss »"),
        ('[mail]\ndefault_language = "de"', "« mail.default_language » doit figurer"),
        ("sheet = ", "TOML illisible"),
        ('[tabs.people]\nname = "Organisations"', "deux onglets portent le même nom"),
    ],
    ids=[
        "unknown-key",
        "threshold-text",
        "threshold-zero",
        "month",
        "type",
        "timezone",
        "language",
        "syntax",
        "same-tab",
    ],
)
def test_bad_configuration_names_file_and_key(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "gt.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_bad_configuration_exits_3_without_traceback(
    run_gt: Callable[..., Result], tmp_path: Path
) -> None:
    path = tmp_path / "gt.toml"
    path.write_text("[rules]\nactive_threshold = -1\n", encoding="utf-8")
    result = run_gt("--config", path, "check", debug=False)
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Erreur : {path} : « rules.active_threshold »")
    assert "Traceback" not in result.output


def test_missing_config_file(run_gt: Callable[..., Result], tmp_path: Path) -> None:
    result = run_gt("--config", tmp_path / "absent.toml", "check")
    assert result.exit_code == 3
    assert "fichier de configuration introuvable" in result.stderr


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    """Windows' Notepad saves UTF-8 with a BOM."""
    path = tmp_path / "gt.toml"
    path.write_bytes(b"\xef\xbb\xbf" + '[mail]\nsender_name = "Équipe GT"\n'.encode())
    assert load_config(path, environ={}).sender_name == "Équipe GT"


def test_a_latin1_file_asks_for_utf8(run_gt: Callable[..., Result], tmp_path: Path) -> None:
    path = tmp_path / "gt.toml"
    path.write_bytes('[mail]\nsender_name = "Équipe GT"\n'.encode("latin-1"))
    result = run_gt("--config", path, "check", debug=False)
    assert result.exit_code == 3
    assert f"{path} : le fichier n'est pas en UTF-8" in result.stderr
    assert "enregistrez le fichier en UTF-8" in result.stderr


@pytest.mark.parametrize(
    "toml",
    [
        '[mail]\nsender_email = "gt@"\n',
        '[mail]\nsender_email = "GT <gt@reseau.org>"\n',
        '[mail]\nsender_email = "a@b.fr, c@d.fr"\n',
    ],
    ids=["no-domain", "display-name", "two"],
)
def test_an_invalid_sender_is_a_configuration_error(tmp_path: Path, toml: str) -> None:
    path = tmp_path / "gt.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"« mail\.sender_email » : adresse invalide"):
        load_config(path, environ={})


def test_tab_names_equal_but_for_accents_or_case_are_refused(tmp_path: Path) -> None:
    """Tabs are found loosely: « Presences » for the tool's Journal would be Présences."""
    path = tmp_path / "gt.toml"
    path.write_text('[tabs.journal]\nname = "presences "\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="ne se distinguent que par la casse"):
        load_config(path, environ={})
