"""Click's own messages in French: every command's help and parse errors, and a catalogue that
covers every string the installed Click marks for translation."""

from __future__ import annotations

import argparse
import ast
import gettext
import optparse
import os
import re
import string
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from gt_registry import click_fr
from gt_registry.cli import COMMANDS

# Click's English, as it would show if the catalogue were not used. Our own texts may say
# "argument", "option", "Options", "Usage" or "version": they are French words too, so only
# Click's English phrasing of them is looked for.
ENGLISH = re.compile(
    r"\b(Usage:|Options:|Commands:|Arguments:|Error|Try|Show|help|Invalid|invalid|values?"
    r"|not one of|No such|Missing|missing|an argument|extra arguments?|default|required"
    r"|Aborted|Did you mean|does not|is not|exist|Choose|COMMAND|ARGS|INTEGER|TEXT|FILE"
    r"|PATH|DIRECTORY|the|this|and|of|was|were)(?![\w'-])"
)
# English that is ours and meant: a Google product.
OURS = ("Application Default Credentials",)
OPTION_NAME = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*")  # `--help`, `-h`: not words


def english_in(text: str) -> list[str]:
    for allowed in OURS:
        text = text.replace(allowed, "")
    return ENGLISH.findall(OPTION_NAME.sub("", text))


def gt_run(*args: str) -> Result:
    from gt_registry.cli import gt

    return CliRunner().invoke(gt, list(args), catch_exceptions=False)


def french(result: Result) -> str:
    assert not english_in(result.output), result.output
    return result.output


@pytest.mark.parametrize("name", [None, *COMMANDS], ids=lambda n: n or "gt")
def test_help_is_french(name: str | None) -> None:
    result = gt_run(*([name] if name else []), "--help")
    assert result.exit_code == 0
    output = french(result)
    assert "Usage : gt" in output
    assert "Options :" in output
    assert "-h, --help" in output and "Afficher ce message et quitter." in output


def test_group_help_names_commands_and_version_in_french() -> None:
    output = french(gt_run("--help"))
    assert "Usage : gt [OPTIONS] COMMANDE [ARGUMENTS]..." in output
    assert "Commandes :" in output
    assert "Afficher la version et quitter." in output


@pytest.mark.parametrize("name", [None, *COMMANDS], ids=lambda n: n or "gt")
def test_unknown_option_is_french(name: str | None) -> None:
    result = gt_run(*([name] if name else []), "--bogus")
    assert result.exit_code == 2
    output = french(result)
    prog = f"gt {name}" if name else "gt"
    assert f"Essayez « {prog} --help » pour l'aide." in output
    assert "Erreur : Aucune option « --bogus »." in output


@pytest.mark.parametrize("name", COMMANDS)
def test_bad_value_and_missing_value_are_french(name: str) -> None:
    bad = gt_run(name, "--as-of", "31/02/2020")
    assert bad.exit_code == 2
    assert "Erreur : Valeur invalide pour « --as-of » : " in french(bad)
    missing = gt_run(name, "--config")
    assert missing.exit_code == 2
    assert "Erreur : L'option « --config » attend une valeur." in french(missing)


def required_arguments(name: str) -> list[click.Argument]:
    from gt_registry.cli import gt

    command = gt.get_command(click.Context(gt), name)
    assert command is not None
    return [p for p in command.params if isinstance(p, click.Argument) and p.required]


@pytest.mark.parametrize(
    "name",
    [n for n in COMMANDS if required_arguments(n)] or [pytest.param("", marks=pytest.mark.skip)],
)
def test_missing_argument_is_french(name: str) -> None:
    result = gt_run(name)
    assert result.exit_code == 2
    metavar = required_arguments(name)[0].metavar
    assert f"Erreur : Argument manquant « {metavar} »." in french(result)


def test_unknown_command_suggests_the_nearest() -> None:
    result = gt_run("chek")
    assert result.exit_code == 2
    output = french(result)
    assert "Usage : gt [OPTIONS] COMMANDE [ARGUMENTS]..." in output
    assert "Essayez « gt --help » pour l'aide." in output
    assert "Erreur : Aucune commande « chek ». Vouliez-vous dire « check » ?" in output
    far = gt_run("zzzz")
    assert "Erreur : Aucune commande « zzzz ».\n" in french(far)


def test_bad_choice_and_near_option_are_french() -> None:
    result = gt_run("contacts", "--format", "pdf")
    assert result.exit_code == 2
    assert (
        "Erreur : Valeur invalide pour « --format » / « -f » : « pdf » n'est pas l'un des choix : 'csv',"
        in french(result)
    )
    near = gt_run("contacts", "--formt", "csv")
    assert "Erreur : Aucune option « --formt ». Vouliez-vous dire « --format » ?" in french(near)


def test_bad_path_is_french(tmp_path: Path) -> None:
    result = gt_run("check", "--config", str(tmp_path))
    assert result.exit_code == 2
    assert f"« --config » : Fichier « {tmp_path} » : c'est un dossier, pas un fichier." in french(
        result
    )


# Click's types and markers our commands do not use (yet): a small command shows them.
@click.command(cls=click_fr.FrenchCommand, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--count", type=int, default=3, show_default=True, help="Combien.")
@click.option("--name", required=True, help="Qui.")
@click.option("--where", type=click.Path(exists=True), help="Où.")
@click.option("--stop", is_flag=True, help="Interrompre.")
@click.argument("rest", nargs=-1)
def sample(count: int, name: str, where: str | None, stop: bool, rest: tuple[str, ...]) -> None:
    """Un exemple."""
    if stop:
        raise click.Abort


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--help"], "[défaut : 3]"),
        (["--help"], "[obligatoire]"),
        (["--help"], "--count ENTIER"),
        (
            ["--name", "x", "--count", "trois"],
            "Erreur : Valeur invalide pour « --count » : « trois » n'est pas un nombre valide.",
        ),
        (["--count", "1"], "Erreur : Option manquante « --name »."),
        (
            ["--name", "x", "--where", "/nulle/part"],
            "Erreur : Valeur invalide pour « --where » : Chemin « /nulle/part » : introuvable.",
        ),
        (["--name", "x", "--stop"], "Interrompu."),
    ],
    ids=["default", "required", "metavar", "integer", "missing-option", "path", "aborted"],
)
def test_click_types_and_markers_are_french(args: list[str], expected: str) -> None:
    result = CliRunner().invoke(sample, args)
    assert expected in french(result)


def test_standalone_script_in_french_without_a_system_locale() -> None:
    """A real process, no locale in the environment: the entry point installs the catalogue."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LANG", "LC_"))}
    code = "from gt_registry.commands.sync_eligibility import main; main()"
    out = subprocess.run(
        [sys.executable, "-c", code, "--bad"], capture_output=True, text=True, env=env, check=False
    )
    assert out.returncode == 2
    assert "Essayez « sync-eligibility --help » pour l'aide." in out.stderr
    assert "Erreur : Aucune option « --bad »." in out.stderr
    assert not english_in(out.stderr), out.stderr
    c_utf8 = subprocess.run(
        [sys.executable, "-m", "gt_registry", "chek"],
        capture_output=True,
        text=True,
        env={**env, "LC_ALL": "C.UTF-8"},
        check=False,
    )
    assert "Vouliez-vous dire « check » ?" in c_utf8.stderr


# -- the catalogue --------------------------------------------------------------------------

# Calls whose msgid is not a literal, and the msgids they can take.
DYNAMIC = {"_(extra['required'])": ["required"]}
CLICK_DIR = Path(click.__file__).parent


def marked(paths: Iterable[Path]) -> tuple[dict[click_fr.MsgId, list[str]], list[str]]:
    """The msgids of every `_()`, `gettext()` and `ngettext()` call, where each is; and the
    calls whose msgid is not a literal."""
    found: dict[click_fr.MsgId, list[str]] = {}
    unreadable: list[str] = []
    for path in sorted(paths):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "gettext", "ngettext")
            ):
                continue
            size = 2 if node.func.id == "ngettext" else 1
            literals = [
                a.value
                for a in node.args[:size]
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
            if len(literals) != size:
                unreadable.append(ast.unparse(node))
                continue
            msgid: click_fr.MsgId = literals[0] if size == 1 else (literals[0], literals[1])
            found.setdefault(msgid, []).append(f"{path.name}:{node.lineno}")
    return found, unreadable


def test_catalogue_translates_every_click_string() -> None:
    """After a Click upgrade this lists what to add to click.po (then rebuild the .mo)."""
    found, unreadable = marked(CLICK_DIR.glob("*.py"))
    unknown = [call for call in unreadable if call not in DYNAMIC]
    assert not unknown, f"Click translates non-literal msgids; add them to DYNAMIC: {unknown}"
    for call in unreadable:
        for msgid in DYNAMIC[call]:
            found.setdefault(msgid, []).append("(dynamic)")
    catalogue = click_fr.read_po()
    missing = {
        msgid: where for msgid, where in found.items() if not all(catalogue.get(msgid, ("",)))
    }
    assert not missing, (
        "Missing from click.po (Click "
        + click.__version__
        + "):\n"
        + "\n".join(f"  {where}: {msgid!r}" for msgid, where in missing.items())
    )


def fields(text: str) -> set[str]:
    braces = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    return braces | set(re.findall(r"%\((\w+)\)", text))


def test_translations_use_only_the_msgids_placeholders() -> None:
    for msgid, forms in click_fr.read_po().items():
        if msgid == "":
            continue
        allowed = fields(msgid) if isinstance(msgid, str) else fields(msgid[0]) | fields(msgid[1])
        assert len(forms) == (1 if isinstance(msgid, str) else 2), msgid
        for form in forms:
            assert fields(form) <= allowed, (msgid, form)


def test_compiled_catalogue_is_up_to_date() -> None:
    assert click_fr.MO_FILE.read_bytes() == click_fr.mo_bytes(click_fr.read_po()), (
        "click.mo is older than click.po: run `python -m gt_registry.click_fr`"
    )
    with click_fr.MO_FILE.open("rb") as mo:
        translations = gettext.GNUTranslations(mo)
    assert translations.gettext("Usage:") == "Usage :"
    assert translations.ngettext("Did you mean {possibility}?", "x", 1) == (
        "Vouliez-vous dire {possibility} ?"
    )


def test_catalogue_leaves_the_standard_librarys_strings_alone() -> None:
    """The domain is process-wide: argparse and optparse keep their own English, but for
    optparse's heading "Options", which then reads "Options :" like ours."""
    stdlib, _ = marked(Path(m.__file__) for m in (argparse, optparse) if m.__file__)
    assert set(stdlib) & set(click_fr.read_po()) == {"Options"}
    assert gettext.gettext("usage: ") == "usage: "


def test_installed_for_the_process() -> None:
    assert gettext.gettext("No such command {name!r}.") == "Aucune commande « {name} »."
    assert gettext.gettext("a string nobody translates") == "a string nobody translates"
