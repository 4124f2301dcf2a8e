"""Opt-out is a safety column; look-alike IDs and addresses are reported with their cell."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from conftest import small_registry
from gt_registry.parsing import INVISIBLE, email_key
from hypothesis import given
from hypothesis import strategies as st

Run = Callable[..., Result]
AS_OF = ("--as-of", "2020-06-15")


def registry_with(change: Callable[[dict[str, list[list[Any]]]], None]) -> dict[str, Any]:
    tabs = copy.deepcopy(small_registry())
    change(tabs)
    return tabs


def exported(run_gt: Run, sheet: Path, *extra: str) -> Result:
    return run_gt("--sheet", sheet, *AS_OF, *extra, "contacts", "--format", "emails")


def problems(run_gt: Run, sheet: Path, *extra: str) -> list[dict[str, Any]]:
    result = run_gt("--sheet", sheet, *AS_OF, *extra, "check", "--json")
    return list(json.loads(result.stdout))


@pytest.mark.parametrize(
    "header",
    [
        "Désinscrit·e",
        "Désinscrite",
        "Désinscrit(e)",
        "désinscrit",
        "Ne pas contacter",
        "NE PLUS CONTACTER",
        "Opt-out",
        "opt out",
        "Unsubscribed",
        "Désabonné·e",
    ],
)
def test_usual_opt_out_spellings_are_the_opt_out_column(
    run_gt: Run, make_workbook: Callable[..., Path], header: str
) -> None:
    def rename(tabs: dict[str, list[list[Any]]]) -> None:
        tabs["Personnes"][0][7] = header  # was "Désinscription"; P-4 says "oui"

    sheet = make_workbook(registry_with(rename))
    result = exported(run_gt, sheet)
    assert result.exit_code in (0, 1), result.output
    assert "anne@alpha.org" in result.stdout
    assert "david@alpha.org" not in result.stdout  # P-4 opted out
    assert "no_opt_out_column" not in {p["code"] for p in problems(run_gt, sheet)}


def drop_opt_out(tabs: dict[str, list[list[Any]]]) -> None:
    for row in tabs["Personnes"]:
        del row[7]


def test_without_an_opt_out_column_nothing_is_exported_and_check_says_why(
    run_gt: Run, make_workbook: Callable[..., Path]
) -> None:
    sheet = make_workbook(registry_with(drop_opt_out))
    found = [p for p in problems(run_gt, sheet) if p["code"] == "no_opt_out_column"]
    assert len(found) == 1 and found[0]["tab"] == "Personnes"
    assert "no_opt_out_column = true" in found[0]["hint"]
    result = exported(run_gt, sheet)
    assert result.exit_code == 3, result.output
    assert result.stdout == "" and "Désinscription" in result.stderr


def test_draft_invitations_refuses_too_without_an_opt_out_column(
    run_gt: Run, make_workbook: Callable[..., Path], tmp_path: Path
) -> None:
    sheet = make_workbook(registry_with(drop_opt_out))
    out = tmp_path / "brouillons"
    result = run_gt(
        "--sheet", sheet, "--as-of", "2020-01-02", "draft-invitations", "R-AI-1", "--out", out
    )
    assert result.exit_code == 3, result.output
    assert not out.exists()


def test_a_registry_declared_without_opt_out_column_exports(
    run_gt: Run, make_workbook: Callable[..., Path], tmp_path: Path
) -> None:
    sheet = make_workbook(registry_with(drop_opt_out))
    config = tmp_path / "gt.toml"
    config.write_text("[rules]\nno_opt_out_column = true\n", encoding="utf-8")
    result = exported(run_gt, sheet, "--config", str(config))
    assert result.exit_code in (0, 1), result.output
    assert "david@alpha.org" in result.stdout
    codes = {p["code"] for p in problems(run_gt, sheet, "--config", str(config))}
    assert "no_opt_out_column" not in codes


def test_an_address_opted_out_on_one_row_is_opted_out_on_every_row(
    run_gt: Run, make_workbook: Callable[..., Path]
) -> None:
    """P-1 is not opted out, but a second row with her address (other case, a zero-width
    space) is: her address must not go out through either row."""

    def duplicate(tabs: dict[str, list[list[Any]]]) -> None:
        tabs["Personnes"].append(
            ["P-9", "Anne", "Aubert", "ANNE@alpha.org\u200b", "ORG-1", "AI", "", "oui", "", ""]
        )

    sheet = make_workbook(registry_with(duplicate))
    result = exported(run_gt, sheet)
    assert result.exit_code == 1, result.output
    assert "anne@alpha.org" not in result.stdout.casefold()
    assert "bruno@beta.com" in result.stdout


def test_invisible_characters_in_ids_and_addresses_are_reported_with_their_cell(
    run_gt: Run, make_workbook: Callable[..., Path]
) -> None:
    def lookalikes(tabs: dict[str, list[list[Any]]]) -> None:
        tabs["Personnes"][2][0] = "P-2\u200b"  # zero-width space after the ID
        tabs["Personnes"][3][3] = "chloe@\u00a0gamma.ma"  # a no-break space inside

    sheet = make_workbook(registry_with(lookalikes))
    found = {p["cell"]: p for p in problems(run_gt, sheet) if p["code"] == "invisible_chars"}
    assert set(found) == {"Personnes!A3", "Personnes!D4"}
    assert "P-2" in found["Personnes!A3"]["message"]
    # P-2 is still P-2: the attendance rows that name it still count
    result = run_gt("--sheet", sheet, *AS_OF, "sync-eligibility", "--dry-run")
    assert "personne inconnue « P-2 »" not in result.output


@given(
    st.from_regex(r"[a-z]{1,8}\.[a-z]{1,8}@[a-z]{2,10}\.(fr|org|com)", fullmatch=True),
    st.lists(
        st.tuples(st.integers(0, 40), st.sampled_from(["\u200b", "\u00a0", "\ufeff", "\u2060"])),
        max_size=4,
    ),
    st.booleans(),
)
def test_invisible_characters_and_case_never_make_two_addresses(
    address: str, insertions: list[tuple[int, str]], upper: bool
) -> None:
    typed = address.upper() if upper else address
    for position, char in insertions:
        at = position % (len(typed) + 1)
        typed = typed[:at] + char + typed[at:]
    assert email_key(typed) == email_key(address)
    assert not INVISIBLE.search(email_key(typed))


def test_a_misspelt_opt_out_header_is_named_with_its_cell_and_the_fix(
    run_gt: Run, make_workbook: Callable[..., Path]
) -> None:
    def misspell(tabs: dict[str, list[list[Any]]]) -> None:
        tabs["Personnes"][0][7] = "Désinscriptoin"

    sheet = make_workbook(registry_with(misspell))
    (found,) = [p for p in problems(run_gt, sheet) if p["code"] == "no_opt_out_column"]
    assert found["cell"] == "Personnes!H1"
    assert (
        "« Désinscriptoin »" in found["hint"] and "renommez-la « Désinscription »" in found["hint"]
    )
    assert exported(run_gt, sheet).exit_code == 3


def test_two_tabs_that_pass_for_personnes_are_refused(
    run_gt: Run, make_workbook: Callable[..., Path]
) -> None:
    """« Personnes  » (opt-outs ticked) and « PERSONNES » (a copy without them): reading either
    could export opted-out people; without one named exactly, nothing is read."""

    def duplicate(tabs: dict[str, list[list[Any]]]) -> None:
        people = tabs.pop("Personnes")
        copy_ = [list(r) for r in people]
        for row in copy_[1:]:
            row[7] = ""
        tabs["PERSONNES"] = copy_
        tabs["Personnes "] = people

    sheet = make_workbook(registry_with(duplicate))
    result = exported(run_gt, sheet)
    assert result.exit_code == 3, result.output
    assert "plusieurs onglets peuvent être « Personnes »" in result.stderr
    assert "david@alpha.org" not in result.stdout


def test_the_exact_tab_wins_over_a_look_alike_and_the_look_alike_is_said(
    run_gt: Run, make_workbook: Callable[..., Path]
) -> None:
    def lookalike(tabs: dict[str, list[list[Any]]]) -> None:
        tabs["Personnes·"] = [list(r) for r in tabs["Personnes"]]

    sheet = make_workbook(registry_with(lookalike))
    result = exported(run_gt, sheet)
    assert result.exit_code == 1, result.output
    assert "david@alpha.org" not in result.stdout
    assert "onglet « Personnes· » ignoré" in result.stderr


@pytest.mark.parametrize(
    ("row_id", "typed"),
    [
        ("P-9", "<anne@alpha.org>"),
        ("P-9", "mailto:ANNE@alpha.org"),
        ("P-9", "Anne Aubert <Anne@Alpha.org>"),
        ("P-9", "anne@alpha.org; anne.perso@example.org"),
        ("P-9", "«anne@alpha.org»"),
        ("P-9", "anne.perso@example.org|anne@alpha.org"),
        ("P-9", "anne.perso@example.org/Anne@alpha.org"),
        ("P-9", "“anne@alpha.org”"),
        ("p-1 ", "anne@alpha.org"),  # a duplicate ID: the row is skipped, its opt-out is not
        ("", "anne@alpha.org"),  # no ID at all: the same
    ],
    ids=[
        "angle-brackets",
        "mailto",
        "display-name",
        "two-addresses",
        "french-quotes",
        "bar",
        "slash",
        "curly-quotes",
        "duplicate-id",
        "no-id",
    ],
)
def test_an_opt_out_on_a_row_that_is_not_read_whole_still_holds_for_its_address(
    run_gt: Run, make_workbook: Callable[..., Path], tmp_path: Path, row_id: str, typed: str
) -> None:
    """The opted-out row carries P-1's address in a form that is not one valid address, or
    is itself skipped (its ID): the address is opted out all the same, in every output."""

    def opted_out_row(tabs: dict[str, list[list[Any]]]) -> None:
        tabs["Personnes"].append(
            [row_id, "Anne", "Aubert", typed, "ORG-1", "AI", "", "oui", "", ""]
        )

    sheet = make_workbook(registry_with(opted_out_row))
    result = exported(run_gt, sheet)
    assert result.exit_code == 1, result.output
    assert "anne@alpha.org" not in result.stdout.casefold()
    assert "bruno@beta.com" in result.stdout
    out = tmp_path / "brouillons"
    drafted = run_gt(
        "--sheet", sheet, "--as-of", "2020-01-02", "draft-invitations", "R-AI-1", "--out", out
    )
    assert drafted.exit_code in (0, 1), drafted.output
    texts = [p.read_text(encoding="utf-8").casefold() for p in out.glob("*.eml")]
    assert texts and not any("anne@alpha.org" in t for t in texts)
