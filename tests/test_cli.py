"""The command line as a whole: help that teaches, documented commands, entry points."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import Result
from conftest import PROJECT_ROOT
from gt_registry.cli import COMMANDS as LAZY
from gt_registry.cli import gt

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(LAZY)


def command(name: str) -> click.Command:
    found = gt.get_command(click.Context(gt), name)
    assert found is not None
    return found


def test_group_help_lists_commands_and_exit_codes(run_gt: Callable[..., Result]) -> None:
    result = run_gt("--help")
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output
    for line in (
        "0  terminé, rien à signaler",
        "1  terminé, mais des problèmes",
        "2  ligne de commande incorrecte",
        "3  impossible de s'exécuter",
    ):
        assert line in result.output


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_and_is_in_the_readme(
    run_gt: Callable[..., Result], name: str
) -> None:
    result = run_gt(name, "-h")
    assert result.exit_code == 0
    assert command(name).help and len(command(name).help or "") > 80, "a docstring that teaches"
    assert "--sheet" in result.output and "Codes de sortie" in result.output
    assert f"gt {name}" in README, f"`gt {name}` is not documented in README.md"


def test_readme_documents_every_option_of_every_command() -> None:
    for name in COMMANDS:
        for param in command(name).params:
            for opt in param.opts:
                if opt.startswith("--") and opt not in {"--help"}:
                    assert opt in README, f"{opt} of `gt {name}` is not in README.md"


def test_unknown_command_is_a_usage_error(run_gt: Callable[..., Result]) -> None:
    result = run_gt("sync")
    assert result.exit_code == 2


def test_python_dash_m_and_version(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "gt_registry", "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert out.stdout.startswith("gt, version ")


def test_readme_commands_are_the_ci_commands() -> None:
    lines = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    (ci,) = [line.strip() for line in lines if "python -m pytest" in line]
    assert f"\n{ci}\n" in README, "the README's test command and .ci/run must be the same"
    assert "-c requirements/lock.txt" in ci  # CI installs from the lock file
    assert "\npython -m pip install . && gt init --demo && gt sync-eligibility\n" in README


def test_readme_main_job_runs_on_the_demo(run_gt: Callable[..., Result], tmp_path: Path) -> None:
    """The README's first command, in a scratch folder (minus the install)."""
    sheet = tmp_path / "registre-gt.xlsx"
    assert run_gt("--sheet", sheet, "init", "--demo").exit_code == 0
    result = run_gt("--sheet", sheet, "sync-eligibility")  # today's season: no --as-of
    assert result.exit_code == 0, result.output
