"""Faults and concurrency, on real files and real processes.

- A writer killed with SIGKILL at a random point of its write (30 trials on a 10,000-person
  workbook made by bench/generate.py, its first sync: new tabs added; it kills itself at the
  K-th fault point, K drawn among every point a whole write passes, so no test waits for a
  moment to strike): the workbook is always either as before or as after, never broken; the
  next run leaves nothing behind. Marked `stress` (a minute and a half): `.ci/run` runs it once,
  `python -m pytest -m stress` by hand.
- A write that fails at a random point (an injected hook raising): the workbook as before.
- Two writing runs at once (two processes): both Journal rows are kept.
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from gt_registry.backends import xlsx as xlsx_backend
from gt_registry.backends.xlsx import WorkbookBackend
from gt_registry.config import Config, load_config
from python_calamine import CalamineWorkbook
from test_xlsx_backend import staff_workbook
from test_xlsx_fast_write import members, sheet_parts

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from generate import AS_OF, generate_registry, write_workbook  # noqa: E402

KILL_TRIALS = 30
RAISE_TRIALS = 40
# A gt run that kills itself (SIGKILL: no clean-up, like a power cut) at its K-th fault point
# (K = sys.argv[1]; 0: never), and says on stderr each point it passes.
RUNNER = """
import os, signal, sys
from gt_registry.backends import xlsx
from gt_registry.cli import gt
kill_at, passed = int(sys.argv.pop(1)), []
def hook(point):
    passed.append(point)
    print("@@gt-point@@", point, file=sys.stderr, flush=True)
    if len(passed) == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
xlsx.FAULT_HOOK = hook
gt.main(sys.argv[1:], prog_name="gt")
"""


def run_killed(path: Path, kill_at: int) -> list[str]:
    """A sync of `path` killed at its `kill_at`-th fault point; the points it passed."""
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, str(kill_at), *sync_args(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=300,
    )
    assert done.returncode in (0, 1, -signal.SIGKILL), done.stderr
    lines = done.stderr.decode("utf-8", "replace").splitlines()
    return [line.split()[1] for line in lines if line.startswith("@@gt-point@@")]


def sync_args(path: Path) -> list[str]:
    return ["--sheet", str(path), "--as-of", AS_OF.isoformat(), "sync-eligibility"]


def tab_rows(path: Path, tab: str) -> list[list[object]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(tab).to_python()


@pytest.fixture(scope="module")
def big_workbook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, int]]:
    """The 10k-person workbook (no owned tab), the same after one sync, and how many fault
    points a whole write passes."""
    folder = tmp_path_factory.mktemp("big")
    source = write_workbook(generate_registry(10_000, 100_000), folder / "source.xlsx")
    after = folder / "after" / "registre.xlsx"
    after.parent.mkdir()
    shutil.copy(source, after)
    points = run_killed(after, 0)
    assert points[-1] == "after-rename"
    yield source, after, len(points)


@pytest.mark.stress
def test_a_writer_killed_at_any_instant_leaves_before_or_after(
    big_workbook: tuple[Path, Path, int], tmp_path: Path
) -> None:
    source, after, points = big_workbook
    before_members = members(source)
    journal = sheet_parts(after)["Journal"]
    after_members = {n: b for n, b in members(after).items() if n != journal}
    rng = random.Random(9)
    outcomes = {"avant": 0, "après": 0}
    config = load_config(None, environ={})
    for trial in range(KILL_TRIALS):
        folder = tmp_path / f"essai-{trial}"
        folder.mkdir()
        path = folder / "registre.xlsx"
        shutil.copy(source, path)
        # the first and last points always, then anywhere (K > points: never killed)
        kill_at = [1, points][trial] if trial < 2 else rng.randint(1, points + 1)
        run_killed(path, kill_at)
        now = members(path)  # a valid zip, always
        if now == before_members:
            outcomes["avant"] += 1
        else:
            outcomes["après"] += 1
            # Every member as the uninterrupted run left it, but the Journal's (its time).
            assert {n: b for n, b in now.items() if n != journal} == after_members
            assert len(tab_rows(path, "Journal")) == 2
        with WorkbookBackend(path, config).exclusive():  # what the next run does first
            pass
        assert [p.name for p in folder.iterdir()] == ["registre.xlsx"], trial
    print(f"\n{KILL_TRIALS} écrivains tués : {outcomes}")
    # The last trial's folder: a whole next run goes through and leaves nothing behind.
    last = tmp_path / f"essai-{KILL_TRIALS - 1}" / "registre.xlsx"
    done = subprocess.run(
        [sys.executable, "-m", "gt_registry", *sync_args(last)], capture_output=True
    )
    assert done.returncode in (0, 1), done.stderr
    assert [p.name for p in last.parent.iterdir()] == ["registre.xlsx"]


class Boom(Exception):
    pass


def test_a_write_failing_at_any_point_changes_nothing(
    tmp_path: Path, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = staff_workbook(tmp_path)
    before = path.read_bytes()
    points: list[str] = []
    monkeypatch.setattr(xlsx_backend, "FAULT_HOOK", points.append)
    backend = WorkbookBackend(path, config)
    contents = {"Éligibilité": [["ID"], ["P-1"]], "Journal": [["Date"], ["x"]]}
    backend.write(contents, backend.read())  # counts the points of a whole write
    assert points[-1] == "after-rename"  # past the rename the new workbook is in place
    total = len(points) - 1
    assert total >= 3
    rng = random.Random(4)
    for _trial in range(RAISE_TRIALS):
        path.write_bytes(before)
        stop = rng.randrange(total)
        calls = iter(range(total + 1))

        def hook(point: str, stop: int = stop, calls: Iterator[int] = calls) -> None:
            if next(calls) == stop:
                raise Boom(point)

        monkeypatch.setattr(xlsx_backend, "FAULT_HOOK", hook)
        with pytest.raises(Boom):
            backend.write(contents, backend.read())
        assert path.read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["staff.xlsx"]


def test_two_writing_runs_at_once_keep_both_journal_rows(
    run_gt: object, tmp_path: Path, config: Config
) -> None:
    path = tmp_path / "registre.xlsx"
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "gt_registry",
            "--sheet",
            str(path),
            "init",
            "--demo-season",
            "2019-2020",
        ],
        capture_output=True,
    )
    assert made.returncode == 0, made.stderr
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "gt_registry", *sync_args(path), "--season", season],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for season in ("2019-2020", "2018-2019")
    ]
    results = [(run.wait(timeout=120), run.communicate()) for run in runs]
    assert [code for code, _out in results] == [0, 0] or all(code in (0, 1) for code, _ in results)
    journal = WorkbookBackend(path, config).read().tabs["Journal"]
    commands = [row[1] for row in journal[1:]]
    assert commands == ["init", "sync-eligibility", "sync-eligibility"], results
    seasons = {row[5].split("; ")[0] for row in journal[2:]}
    assert seasons == {"saison=2019-2020", "saison=2018-2019"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["registre.xlsx"]
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
