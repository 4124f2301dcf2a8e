"""One clock: every Journal row and every draft's Date: in Europe/Paris, whatever the machine's
own time zone (a UTC scheduler, a laptop in New York)."""

from __future__ import annotations

import datetime as dt
import email
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import Result
from python_calamine import CalamineWorkbook

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(params=["UTC", "America/New_York", "Asia/Tokyo"])
def machine_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def journal_times(path: Path) -> list[dt.datetime]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Journal").to_python()
    return [dt.datetime.strptime(str(r[0]), "%Y-%m-%d %H:%M") for r in rows[1:]]


def test_journal_rows_and_drafts_are_in_paris_time(
    machine_zone: str, run_gt: Callable[..., Result], demo_xlsx: Path, tmp_path: Path
) -> None:
    out = tmp_path / "brouillons"
    sheet = ("--sheet", demo_xlsx, "--as-of", "2020-06-15")
    assert run_gt(*sheet, "sync-eligibility").exit_code == 0
    assert run_gt(*sheet, "draft-invitations", "R-2020-AI-4", "--out", out).exit_code == 0
    paris_now = dt.datetime.now(PARIS).replace(tzinfo=None)
    for when in journal_times(demo_xlsx):
        assert abs(when - paris_now) < dt.timedelta(minutes=2), (machine_zone, when, paris_now)
    draft = email.message_from_bytes(next(out.glob("*.eml")).read_bytes())
    sent = email.utils.parsedate_to_datetime(str(draft["Date"]))
    assert sent.utcoffset() == dt.datetime.now(PARIS).utcoffset()
