"""No lost Journal row on Google Sheets: concurrent runs, staff edits and dropped connections,
through the CLI, real gspread and real google-auth against the HTTP fake (fake_sheets.py).

A run's write is ONE atomic `spreadsheets:batchUpdate`: `updateCells` for the tabs rewritten
whole, `appendCells` for the Journal row (so a row another run appended meanwhile stays), and
each row carries its run's ID (`run=…` in `Détail`), by which a retry after a dropped
connection recognises a write that was applied.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from click.testing import Result
from conftest import small_registry
from fake_sheets import FakeSheets
from gt_registry.backends.gsheets import OWNED_SHEET_IDS
from gt_registry.config import Config

KEY = "1GtRegistreConcurrencyKey_abcdefghijklmnop"
AS_OF = ("--as-of", "2020-06-15")
Run = Callable[..., Result]
RUN_ID = re.compile(r"run=([0-9a-f]{32})")


def owned_headers(config: Config) -> dict[str, list[list[Any]]]:
    return {spec.name: [list(spec.headers)] for spec in config.owned_tabs.values()}


def tool_ids(config: Config) -> dict[str, int]:
    """The sheet IDs the tool gives its tabs when it creates them (`gt init`)."""
    return {spec.name: OWNED_SHEET_IDS[key] for key, spec in config.owned_tabs.items()}


@pytest.fixture
def registry(fake_sheets: FakeSheets, config: Config) -> FakeSheets:
    """The small registry, its tool tabs as `gt init` leaves them (headers only)."""
    fake_sheets.add_spreadsheet(
        KEY, {**small_registry(), **owned_headers(config)}, sheet_ids=tool_ids(config)
    )
    return fake_sheets


@pytest.fixture
def gt(run_gt: Run, service_account_file: Path) -> Run:
    return lambda *args: run_gt("--sheet", KEY, "--credentials", service_account_file, *args)


def sync(gt: Run, *args: str) -> Result:
    return gt(*AS_OF, "sync-eligibility", *args)


def journal_rows(fake: FakeSheets) -> list[list[Any]]:
    return fake.tab(KEY, "Journal")[1:]


def run_ids(fake: FakeSheets) -> list[str]:
    return [m.group(1) for row in journal_rows(fake) if (m := RUN_ID.search(str(row[5])))]


def writes(fake: FakeSheets) -> int:
    return fake.count("batchUpdate") + fake.count("values.batchUpdate")


# -- two runs at once ------------------------------------------------------------------------


def test_two_syncs_interleaved_keep_both_journal_rows(registry: FakeSheets, gt: Run) -> None:
    """read A, read B, write B, write A: each appends its own row, neither is lost."""
    second: list[Result] = []
    registry.on_request("values.batchGet", lambda _fake: second.append(sync(gt)), after=1)

    first = sync(gt)

    assert first.exit_code == 0, first.output
    assert second[0].exit_code == 0, second[0].output
    assert "Écrit :" in first.stdout and "Écrit :" in second[0].stdout
    assert registry.kinds() == [
        "values.batchGet",  # A reads
        "values.batchGet",  # B reads
        "batchUpdate",  # B writes
        "batchUpdate",  # A writes
    ]
    rows = journal_rows(registry)
    assert [row[1] for row in rows] == ["sync-eligibility", "sync-eligibility"]
    assert len(set(run_ids(registry))) == 2
    assert registry.tab(KEY, "Journal")[0][:6] == [
        "Date",
        "Commande",
        "Par",
        "Changements",
        "Problèmes",
        "Détail",
    ]


def test_a_drafting_between_a_syncs_read_and_write_keeps_its_row(
    registry: FakeSheets, gt: Run, tmp_path: Path
) -> None:
    """The case that made a later --only-new re-draft everybody: a drafting's Journal row
    (who was drafted) overwritten by a sync that had read the Journal before it."""
    drafting: list[Result] = []

    def draft(_fake: FakeSheets) -> None:
        out = tmp_path / "brouillons"
        drafting.append(gt(*AS_OF, "draft-invitations", "R-S", "--out", out))

    registry.on_request("values.batchGet", draft, after=1)

    result = sync(gt)

    assert drafting[0].exit_code == 0, drafting[0].output
    assert result.exit_code == 0, result.output
    commands = [row[1] for row in journal_rows(registry)]
    assert commands == ["draft-invitations", "sync-eligibility"]
    assert "reunion=R-S" in journal_rows(registry)[0][5]
    assert len(set(run_ids(registry))) == 2


def test_a_staff_note_added_to_the_journal_meanwhile_stays(registry: FakeSheets, gt: Run) -> None:
    def staff_note(fake: FakeSheets) -> None:
        rows = fake.tab(KEY, "Journal")
        fake.set_tab(KEY, "Journal", [*rows, ["", "", "Camille", "note à la main"]])

    registry.on_request("values.batchGet", staff_note, after=1)

    assert sync(gt).exit_code == 0

    rows = journal_rows(registry)
    assert rows[0] == ["", "", "Camille", "note à la main"]
    assert rows[1][1] == "sync-eligibility" and len(rows) == 2


# -- a dropped connection: the retry recognises its own write ----------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        lambda fake: fake.drop_next("batchUpdate", applied=True),
        lambda fake: fake.fail_next("batchUpdate", 503, applied=True),
    ],
    ids=["dropped", "503"],
)
def test_write_applied_then_answer_lost_is_recognised(
    registry: FakeSheets, gt: Run, fault: Callable[[FakeSheets], None]
) -> None:
    fault(registry)

    result = sync(gt)

    assert result.exit_code == 0, result.output
    assert "Écrit :" in result.stdout
    assert len(journal_rows(registry)) == 1  # not twice
    # One read, the write (applied, answer lost), one read of the Journal's last rows.
    assert registry.kinds() == ["values.batchGet", "batchUpdate", "values.get"]
    assert unquote(urlsplit(registry.last("values.get").url).path).endswith("/values/Journal!A1:F")


def test_write_dropped_before_being_applied_is_sent_again(registry: FakeSheets, gt: Run) -> None:
    registry.drop_next("batchUpdate")

    result = sync(gt)

    assert result.exit_code == 0, result.output
    assert len(journal_rows(registry)) == 1
    assert registry.kinds() == ["values.batchGet", "batchUpdate", "values.get", "batchUpdate"]


def test_first_run_write_applied_then_dropped_is_recognised(
    fake_sheets: FakeSheets, gt: Run
) -> None:
    """Tabs missing: the write creates them (addSheet). Applied, then the connection drops:
    resending it would fail ("already exists") and be reported as "nothing written"."""
    fake_sheets.add_spreadsheet(KEY, small_registry())
    fake_sheets.drop_next("batchUpdate", applied=True)

    result = sync(gt)

    assert result.exit_code == 0, result.output
    assert "rien n'a été écrit" not in result.output
    assert fake_sheets.count("batchUpdate") == 1
    assert fake_sheets.tab_names(KEY).count("Journal") == 1
    assert len(journal_rows(fake_sheets)) == 1
    for tab in ("Éligibilité", "Bilan organisations", "Journal"):
        assert len(fake_sheets.protected_ranges(KEY, tab)) == 1


def test_dropped_every_time_is_reported_as_nothing_written(registry: FakeSheets, gt: Run) -> None:
    before = {name: registry.tab(KEY, name) for name in registry.tab_names(KEY)}
    registry.drop_next("batchUpdate", times=None)

    result = sync(gt)

    assert result.exit_code == 3
    assert "rien n'a été écrit" in result.stderr
    assert {name: registry.tab(KEY, name) for name in registry.tab_names(KEY)} == before
    assert registry.count("batchUpdate") == 5
    assert registry.count("values.get") == 5  # each failure checked: never applied


# -- request counts ------------------------------------------------------------------------------


def test_steady_state_is_one_read_and_one_write(registry: FakeSheets, gt: Run) -> None:
    assert sync(gt).exit_code == 0
    assert registry.kinds() == ["values.batchGet", "batchUpdate"]

    registry.requests.clear()
    again = sync(gt)  # nothing changed: nothing written

    assert again.exit_code == 0 and "rien n'a été écrit" in again.stdout
    assert registry.kinds() == ["values.batchGet"]


def test_tabs_not_made_by_the_tool_cost_a_metadata_request(
    fake_sheets: FakeSheets, gt: Run, config: Config
) -> None:
    """Tool tabs created by hand (or by an older gt) have other sheet IDs: Google refuses
    the guessed ones (nothing applied), then one metadata request gives the real ones."""
    fake_sheets.add_spreadsheet(KEY, {**small_registry(), **owned_headers(config)})

    assert sync(gt).exit_code == 0

    assert fake_sheets.kinds() == ["values.batchGet", "batchUpdate", "metadata", "batchUpdate"]
    assert [r.status for r in fake_sheets.requests if r.kind == "batchUpdate"] == [400, 200]
    assert len(journal_rows(fake_sheets)) == 1


def test_a_tool_id_now_on_another_tab_is_never_written(
    fake_sheets: FakeSheets, gt: Run, config: Config
) -> None:
    """Staff renamed the tool's Journal to "Journal 2019" (it keeps its sheet ID) and made a
    new "Journal": the check in the batch refuses the old ID, the archive is untouched."""
    archive = [["Date", "Commande"], ["2019-06-01", "sync-eligibility"]]
    tabs = {**small_registry(), **owned_headers(config), "Journal 2019": archive}
    ids = tool_ids(config)
    ids["Journal 2019"] = ids.pop("Journal")
    fake_sheets.add_spreadsheet(KEY, tabs, sheet_ids=ids)

    assert sync(gt).exit_code == 0

    assert fake_sheets.tab(KEY, "Journal 2019") == archive
    assert len(journal_rows(fake_sheets)) == 1
    assert "Journal 2019" in fake_sheets.tab_names(KEY)
    assert writes(fake_sheets) == 2  # the refused batch, then the one with the real IDs


def test_tabs_not_made_by_the_tool_cost_the_metadata_request_once(
    fake_sheets: FakeSheets, gt: Run, config: Config
) -> None:
    """The real sheet IDs found that once are written down in the Journal row (`onglets=`):
    the next run that writes knows them from its read, one read and one write again."""
    fake_sheets.add_spreadsheet(KEY, {**small_registry(), **owned_headers(config)})
    assert sync(gt).exit_code == 0
    assert "onglets=" in str(journal_rows(fake_sheets)[-1][5])
    presences = fake_sheets.tab(KEY, "Présences")
    fake_sheets.set_tab(KEY, "Présences", [*presences, ["R-FI-1", "P-2", "présent", ""]])
    before = len(fake_sheets.kinds())

    assert sync(gt).exit_code == 0

    assert fake_sheets.kinds()[before:] == ["values.batchGet", "batchUpdate"]
    assert fake_sheets.last("batchUpdate").status == 200
    assert len(journal_rows(fake_sheets)) == 2
