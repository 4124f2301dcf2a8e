"""`gt init --demo`: the season in force today (held meetings with attendance, meetings to
come), `--demo-season 2019-2020` exactly the former demo, and what the summary suggests."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from conftest import DEMO_TODAY
from gt_registry.backends.xlsx import WorkbookBackend
from gt_registry.config import Config
from gt_registry.demo import demo_plan, demo_rows, shifted
from gt_registry.loader import LoadResult, load_registry
from gt_registry.model import Rows

Run = Callable[..., Result]

# The rows of the demo before it followed the clock (the 2019-2020 season on 15 June 2020),
# keyed by field (not header) with empty cells left out: a new optional column does not
# change it, one changed value does.
FORMER_DEMO = "1a30e9c339d643bcda5c53222f4ee7cd404eea7cdd83b0aad4d47ad6f4974982"

# 1 December, 15 March, 20 June, 15 August (between seasons), plus the two edges: November
# before the launch, and the weeks after AI's September meeting.
DAYS = ["2026-12-01", "2027-03-15", "2027-06-20", "2027-08-15", "2026-11-05", "2027-09-20"]


def fingerprint(config: Config, rows: dict[str, Rows]) -> str:
    keyed = {}
    for key, spec in config.staff_tabs.items():
        header, *data = rows[spec.name]
        field = {f.header: f.key for f in spec.fields}
        keyed[key] = [
            {field[str(h)]: v for h, v in zip(header, row, strict=True) if v not in ("", None)}
            for row in data
        ]
    text = json.dumps(keyed, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def read(path: Path, config: Config, today: dt.date) -> LoadResult:
    return load_registry(WorkbookBackend(path, config).read(), config, today)


def init_demo(run_gt: Run, sheet: Path, *args: str) -> tuple[Result, str]:
    """`gt [ARGS] init --demo` (ARGS: global options such as --as-of), and the next meeting
    that the summary names."""
    result = run_gt("--sheet", sheet, *args, "init", "--demo")
    assert result.exit_code == 0, result.output
    match = re.search(r"draft-invitations (R-[\w-]+) »", result.output)
    assert match, result.output
    return result, match.group(1)


def test_named_2019_season_is_the_former_demo(config: Config) -> None:
    assert fingerprint(config, demo_rows(config, 2019)) == FORMER_DEMO
    # the default demo on the former demo's "today" is that season too
    assert fingerprint(config, demo_rows(config, today=DEMO_TODAY)) == FORMER_DEMO


def test_demo_season_option_writes_the_former_demo(
    run_gt: Run, tmp_path: Path, config: Config, demo_xlsx: Path
) -> None:
    sheet = tmp_path / "registre-gt.xlsx"
    result = run_gt("--sheet", sheet, "init", "--demo-season", "2019-2020")  # --demo implied
    assert result.exit_code == 0, result.output
    assert "données de démonstration écrites" in result.output
    assert (
        "« gt --as-of 2020-06-15 sync-eligibility », puis "
        "« gt --as-of 2020-06-15 draft-invitations R-2020-SOIREE » "
        "(prochaine réunion : Soirée, le jeudi 25 juin 2020)" in result.output
    )
    staff = [spec.name for spec in config.staff_tabs.values()]
    written = WorkbookBackend(sheet, config).read().tabs
    fixture = WorkbookBackend(demo_xlsx, config).read().tabs
    assert {t: written[t] for t in staff} == {t: fixture[t] for t in staff}
    loaded = read(sheet, config, DEMO_TODAY)
    assert not loaded.problems and not loaded.fatal
    assert len(loaded.registry.attendance) == 321


@pytest.mark.parametrize("day", DAYS)
def test_default_demo_lives_in_the_season_of_today(
    run_gt: Run, tmp_path: Path, config: Config, day: str
) -> None:
    today = dt.date.fromisoformat(day)
    sheet = tmp_path / "registre-gt.xlsx"
    result, next_id = init_demo(run_gt, sheet, "--as-of", day)
    loaded = read(sheet, config, today)
    assert not loaded.problems and not loaded.fatal, loaded.problems
    meetings = loaded.registry.meetings
    held = {mid for mid, m in meetings.items() if m.date and m.date <= today}
    upcoming = {mid for mid, m in meetings.items() if m.date and m.date > today}
    assert held and upcoming
    attended = {row.meeting_id for row in loaded.registry.attendance}
    assert attended == held, "attendance for every held meeting, and only for those"
    for m in meetings.values():
        assert m.date and m.date.weekday() < 5, m
        assert m.id.startswith(f"R-{m.date.year}-"), m
    # the summary names the first meeting to come, and the --as-of the later commands need
    assert next_id == min(upcoming, key=lambda mid: meetings[mid].date or dt.date.max)
    assert f"« gt --as-of {day} sync-eligibility », puis « gt --as-of {day} draft-invitations" in (
        result.output
    )

    sync = run_gt("--sheet", sheet, "--as-of", day, "sync-eligibility")
    assert sync.exit_code == 0, sync.output
    counted = re.search(
        r"(\d+) personnes? comptées?, (\d+) membres? actifs? \(dont 1 par", sync.output
    )
    assert counted, sync.output
    people, active = int(counted.group(1)), int(counted.group(2))
    assert active >= 1  # at least the demo's override
    if today.month != 11:  # in November before the launch, the new season has nothing held
        assert people > 0
    if today.month in (3, 6, 8, 9):  # several meetings held: members active by the rules
        assert active > 10

    out = tmp_path / "brouillons"
    drafts = run_gt("--sheet", sheet, "--as-of", day, "draft-invitations", next_id, "--out", out)
    assert drafts.exit_code == 0, drafts.output
    assert list(out.glob("*.eml"))


def test_default_demo_without_as_of_runs_the_readme_steps(run_gt: Run, tmp_path: Path) -> None:
    """What a newcomer types, on whatever day the tests run: no --as-of anywhere."""
    sheet = tmp_path / "registre-gt.xlsx"
    result, next_id = init_demo(run_gt, sheet)
    assert "--as-of" not in result.output
    assert run_gt("--sheet", sheet, "check").exit_code == 0
    assert run_gt("--sheet", sheet, "sync-eligibility").exit_code == 0
    out = tmp_path / "brouillons"
    drafts = run_gt("--sheet", sheet, "draft-invitations", next_id, "--out", out)
    assert drafts.exit_code == 0, drafts.output


@pytest.mark.parametrize("value", ["2019", "2019-2021", "2020-2019", "19-20", "2019/2020", "abc"])
def test_bad_demo_season_is_a_usage_error(run_gt: Run, tmp_path: Path, value: str) -> None:
    sheet = tmp_path / "registre-gt.xlsx"
    result = run_gt("--sheet", sheet, "init", "--demo-season", value, debug=False)
    assert result.exit_code == 2
    assert "--demo-season" in result.output and "saison" in result.output
    assert "Traceback" not in result.output
    assert not sheet.exists()


def test_every_day_has_a_held_meeting_and_one_to_come(config: Config) -> None:
    day = dt.date(2026, 1, 1)
    while day < dt.date(2029, 1, 1):
        plan = demo_plan(config, today=day)
        days = [m["day"] for m in plan.meetings()]
        assert min(days) <= day < max(days), day
        assert plan.next_meeting()["day"] > day
        ids = [m["id"] for m in plan.meetings()]
        assert len(ids) == len(set(ids)), day
        day += dt.timedelta(days=1)


def test_between_seasons_the_season_that_ended_is_in_force(config: Config) -> None:
    """July to October: the 2026-2027 season (in force) with its attendance; its September
    meeting ahead until it is held, then the 2027-2028 season's meetings are scheduled."""
    assert demo_plan(config, today=dt.date(2027, 8, 15)).years == (2026,)
    assert demo_plan(config, today=dt.date(2027, 9, 20)).years == (2026, 2027)
    assert demo_plan(config, today=dt.date(2026, 11, 5)).years == (2025, 2026)
    assert demo_plan(config, today=dt.date(2026, 11, 17)).years == (2026,)  # launch day


def test_shift_keeps_the_weekday_and_the_week_of_the_month() -> None:
    tuesday = dt.date(2019, 11, 19)  # third Tuesday of November
    assert shifted(tuesday, 0) == tuesday
    for years in range(-5, 30):
        day = shifted(tuesday, years)
        assert (day.month, day.weekday(), (day.day - 1) // 7) == (11, 1, 2)


def test_a_held_meeting_keeps_its_attendance_as_the_days_pass(config: Config) -> None:
    """Re-creating the demo a week later only adds the meetings held since."""

    def attendance(day: dt.date) -> list[list[object]]:
        return demo_rows(config, today=day)[config.tab("attendance")][1:]

    before, after = attendance(dt.date(2027, 3, 12)), attendance(dt.date(2027, 3, 19))
    assert before and len(after) > len(before)
    assert [row for row in after if row in before] == before
