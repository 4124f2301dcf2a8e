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


@pytest.mark.parametrize(
    "today",
    ["2026-11-05", "2026-12-02", "2027-01-20", "2027-04-01", "2027-06-28", "2027-09-20"],
    ids=["before-launch", "after-launch", "january", "spring", "summer", "between-seasons"],
)
def test_readme_commands_run_on_the_demo_at_any_time_of_year(
    run_gt: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, today: str
) -> None:
    """What a newcomer types from the README and --help, on `gt init --demo` made that day
    (`--as-of` stands for the calendar here): every command does its job, exit 0."""
    import re

    monkeypatch.chdir(tmp_path)  # the drafts go to ./brouillons/, as for staff
    sheet = tmp_path / "registre-gt.xlsx"
    at = ("--sheet", sheet, "--as-of", today)
    init = run_gt(*at, "init", "--demo")
    assert init.exit_code == 0, init.output
    (meeting,) = re.findall(r"draft-invitations (R-[\w-]+) »", init.output)
    for args in (
        ["check"],
        ["sync-eligibility"],
        ["draft-invitations", meeting, "--dry-run"],
        ["draft-invitations", meeting],
        ["draft-emails", "membre-actif"],
        ["draft-emails", "membre-actif", "--group", "FI"],
        ["draft-emails", "appel-hotes"],
        ["contacts", "--format", "csv", "--out", tmp_path / "liste.csv"],
        ["contacts", "--meeting", meeting, "--format", "emargement", "--out", tmp_path / "e.html"],
        ["report", "--out", tmp_path / "rapport.html"],
        ["report", "--json"],
    ):
        result = run_gt(*at, *args)
        assert result.exit_code == 0, (args, result.output)


# -- options shared by several commands ------------------------------------------------------


@pytest.mark.parametrize("name", ["sync-eligibility", "report"])
@pytest.mark.parametrize(
    ("season", "said"),
    [
        ("2019-2021", "saison « 2019-2021 » incohérente"),
        ("deux mille", "saison « deux mille » illisible"),
    ],
)
def test_season_is_read_the_same_way_by_every_command(
    run_gt: Callable[..., Result], small_xlsx: Path, name: str, season: str, said: str
) -> None:
    before = small_xlsx.read_bytes()
    result = run_gt("--sheet", small_xlsx, name, "--season", season)
    assert result.exit_code == 2, result.output
    assert "--season" in result.stderr and said in result.stderr
    assert small_xlsx.read_bytes() == before


def test_season_follows_the_configured_months(
    run_gt: Callable[..., Result], small_xlsx: Path, tmp_path: Path
) -> None:
    """A season within one calendar year: `2019-2020` disagrees with it, `2019` names it."""
    config = tmp_path / "gt.toml"
    config.write_text(
        f'sheet = "{small_xlsx.as_posix()}"\n[season]\nfirst_month = 1\nlast_month = 12\n',
        "utf-8",
    )
    for name in ("sync-eligibility", "report"):
        bad = run_gt("--config", config, name, "--season", "2019-2020")
        assert bad.exit_code == 2 and "essayez --season 2019" in bad.stderr, bad.output
    good = run_gt(
        "--config", config, "--as-of", "2020-06-15", "report", "--json", "--season", "2019"
    )
    assert good.exit_code in (0, 1), good.output
    assert '"season": "2019"' in good.stdout


def test_contacts_output_is_chosen_by_the_core(
    run_gt: Callable[..., Result], small_xlsx: Path, tmp_path: Path
) -> None:
    """Standard output without --out, the file with it, nothing with --dry-run; the summary
    on standard error every time."""
    listed = run_gt("--sheet", small_xlsx, "contacts", "--group", "AI")
    assert listed.exit_code in (0, 1) and "anne@alpha.org" in listed.stdout
    assert "3 personnes écrites" in listed.stderr and "anne@" not in listed.stderr
    out = tmp_path / "ai.csv"
    dry = run_gt("--sheet", small_xlsx, "contacts", "--group", "AI", "--out", out, "--dry-run")
    assert dry.exit_code in (0, 1) and dry.stdout == "" and not out.exists()
    assert "Simulation (--dry-run)" in dry.stderr and "Rien n'a été écrit" in dry.stderr
    written = run_gt("--sheet", small_xlsx, "contacts", "--group", "AI", "--out", out)
    assert written.exit_code in (0, 1) and written.stdout == ""
    assert out.read_bytes() == listed.stdout_bytes
    assert "3 personnes écrites" in written.stderr and str(out) in written.stderr
    again = run_gt("--sheet", small_xlsx, "contacts", "--group", "AI", "--out", out)
    assert again.exit_code == 3 and "existe déjà" in again.stderr
