"""`gt check` and the loader: every problem names its cell, in French, with a hint."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from conftest import small_registry
from gt_registry.backends import Snapshot
from gt_registry.config import Config
from gt_registry.loader import load_registry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

AS_OF = ("--as-of", "2020-06-15")


def messy() -> dict[str, list[list[object]]]:
    tabs = copy.deepcopy(small_registry())
    tabs["Personnes"] += [
        [
            "P-7",
            "Gaël",
            "Guérin",
            "ANNE@alpha.org ",
            "ORG-1",
            "AI",
            "",
            "",
            "",
            "",
        ],  # duplicate e-mail
        [
            "P-8",
            "Hélène\nH",
            "Hugo",
            "a@b.fr; c@d.fr",
            "ORG-9",
            "XX",
            "klingon",
            "peut-être",
            "",
            "",
        ],
        ["P-1", "Iris", "Ivanov", "iris@x.org", "ORG-1", "", "", "", "", ""],  # duplicate ID
    ]
    tabs["Réunions"] += [
        ["R-BAD", "Réunion", "", "31/02/2020", "25h", "", "", "", "", ""],
        ["R-FUT", "Réunion", "AI", "2020-09-08", "9h30", "11h30", "", "", "", ""],
    ]
    tabs["Présences"] += [
        ["R-L", "p-0999", "présent", ""],
        ["R-ZZ", "P-1", "présent", ""],
        ["R-FUT", "P-1", "présent", ""],
        ["R-L", "P-5", "en retard", ""],
    ]
    return tabs


def test_clean_registry_exits_0(run_gt: Callable[..., Result], small_xlsx: Path) -> None:
    result = run_gt("--sheet", small_xlsx, *AS_OF, "check")
    assert result.exit_code == 0, result.output
    assert "Aucun problème" in result.output


def test_messy_registry_lists_every_problem_with_its_cell(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path]
) -> None:
    result = run_gt("--sheet", make_workbook(messy()), *AS_OF, "check")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    expected = [
        "Personnes!D8 : adresse e-mail « ANNE@alpha.org » déjà utilisée en Personnes!D2",
        "Personnes!B9 : le prénom contient un caractère de contrôle",
        "Personnes!D9 : adresse e-mail invalide « a@b.fr; c@d.fr »",
        "Personnes!E9 : organisation inconnue « ORG-9 »",
        "Personnes!F9 : groupe inconnu « XX »",
        "Personnes!G9 : langue « klingon » inconnue",
        "Personnes!H9 : « peut-être » n'est pas oui/non",
        "Personnes!A10 : ID de personne « P-1 » en double (déjà en Personnes!A2)",
        "Réunions!C8 : Réunion sans groupe",
        "Réunions!D8 : « 31/02/2020 » n'est pas une date valide",
        "Réunions!E8 : « 25h » n'est pas une heure valide",
        "Présences!B13 : personne inconnue « p-0999 »",
        "Présences!A14 : réunion inconnue « R-ZZ »",
        "Présences!A15 : présence à la réunion R-FUT datée du 08/09/2020, dans le futur",
        "Présences!C16 : statut « en retard » non compris",
    ]
    assert len(lines) == len(expected), result.stdout
    for line, start in zip(lines, expected, strict=True):  # in sheet order: tab, row, column
        assert line.startswith(start), f"{line!r} should start with {start!r}"


def test_a_value_with_a_line_break_still_gives_one_problem_per_line(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path]
) -> None:
    """A quoted cell holding line breaks (`ORG-1` and `ORG-9` on two lines) must not split
    its problem over several lines: each line of `gt check` begins with its cell."""
    tabs = copy.deepcopy(small_registry())
    tabs["Personnes"][1][4] = "ORG-7\nORG-9"
    tabs["Personnes"][2][7] = "non\r\noui"
    result = run_gt("--sheet", make_workbook(tabs), *AS_OF, "check")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith("Personnes!") for line in lines), lines
    assert lines[0].startswith("Personnes!E2 : organisation inconnue « ORG-7⏎ORG-9 »")
    assert lines[1].startswith("Personnes!H3 : « non⏎oui » n'est pas oui/non")


def test_unknown_person_suggests_the_closest_id(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path]
) -> None:
    tabs = small_registry()
    tabs["Présences"].append(["R-L", "P-O1", "présent", ""])
    result = run_gt("--sheet", make_workbook(tabs), *AS_OF, "check")
    assert "Présences!B13 : personne inconnue « P-O1 » (vouliez-vous dire P-1 ?)" in result.stdout


def test_json_output(run_gt: Callable[..., Result], make_workbook: Callable[..., Path]) -> None:
    result = run_gt("--sheet", make_workbook(messy()), *AS_OF, "check", "--json")
    problems = json.loads(result.stdout)
    assert result.exit_code == 1
    first = next(p for p in problems if p["code"] == "unknown_person")
    assert first == {
        "tab": "Présences",
        "row": 13,
        "column": "B",
        "cell": "Présences!B13",
        "code": "unknown_person",
        "message": "personne inconnue « p-0999 »",
        "hint": "ajoutez-la dans l'onglet Personnes",
    }
    assert {p["code"] for p in problems} >= {
        "duplicate_email",
        "invalid_email",
        "duplicate_id",
        "future_attendance",
        "bad_status",
    }


def test_missing_tab_and_header_exit_3_with_suggestions(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path]
) -> None:
    tabs = small_registry()
    tabs["Presence"] = tabs.pop("Présences")
    tabs["Personnes"][0][3] = "Emial"
    result = run_gt("--sheet", make_workbook(tabs), "check")
    assert result.exit_code == 3
    assert (
        "Présences : onglet « Présences » introuvable (vouliez-vous dire « Presence » ?"
        in result.stdout
    )
    assert (
        "Personnes!D1 : colonne obligatoire « E-mail » introuvable (vouliez-vous dire « Emial » ? Renommez cet en-tête)"
        in result.stdout
    )


def test_missing_header_without_a_near_miss_points_at_the_first_free_cell(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path]
) -> None:
    tabs = small_registry()
    tabs["Réunions"] = [[c for c in row if c != "Date"] for row in tabs["Réunions"]]
    tabs["Réunions"][0] = ["ID", "Type", "Groupe"]
    result = run_gt("--sheet", make_workbook(tabs), "check", "--json")
    assert result.exit_code == 3
    problem = json.loads(result.stdout)[0]
    assert (problem["cell"], problem["code"]) == ("Réunions!D1", "missing_header")
    assert problem["hint"] == "ajoutez une colonne « Date » en ligne 1"


@pytest.mark.parametrize(
    ("typed", "field"),
    [
        ("Groupes (GT)", "Groupes"),
        ("Langue(s)", "Langue"),
        ("Langues", "Langue"),
        ("Gropues", "Groupes"),
    ],
)
def test_an_optional_column_whose_header_looks_like_one_is_said_not_silently_ignored(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path], typed: str, field: str
) -> None:
    tabs = small_registry()
    column = tabs["Personnes"][0].index(field)
    tabs["Personnes"][0][column] = typed
    result = run_gt("--sheet", make_workbook(tabs), *AS_OF, "check", "--json")
    assert result.exit_code == 1
    (problem,) = [p for p in json.loads(result.stdout) if p["code"] == "header_near_miss"]
    assert problem["cell"] == f"Personnes!{'ABCDEFGHIJ'[column]}1"
    assert f"« {typed} » non reconnu" in problem["message"]
    assert problem["hint"].startswith(
        f"si c'est la colonne « {field} », renommez l'en-tête en « {field} » ; sinon"
    )


def test_extra_columns_and_headers_found_are_not_taken_for_near_misses(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path]
) -> None:
    tabs = small_registry()
    for row in tabs["Personnes"]:
        row.append("Groupes (GT)" if row is tabs["Personnes"][0] else "")
    tabs["Personnes"][0][tabs["Personnes"][0].index("Notes")] = "Notes internes"
    tabs["Personnes"][0][tabs["Personnes"][0].index("Langue")] = "Langue parlée"
    tabs["Organisations"][0][tabs["Organisations"][0].index("Adresse")] = "Adresse de facturation"
    tabs["Organisations"][0][tabs["Organisations"][0].index("Pays")] = "Pays d'intervention"
    for row in tabs["Groupes"]:
        row.append("Groupe WhatsApp" if row is tabs["Groupes"][0] else "")
    result = run_gt("--sheet", make_workbook(tabs), *AS_OF, "check", "--json")
    assert result.exit_code == 0, result.stdout  # longer names of their own, or extras


def test_a_tab_spelled_without_accents_is_found_and_cited_by_its_real_name(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path]
) -> None:
    tabs = small_registry()
    tabs["presences "] = tabs.pop("Présences")
    tabs["presences "].append(["R-L", "P-99", "présent", ""])
    result = run_gt("--sheet", make_workbook(tabs), *AS_OF, "check")
    assert result.exit_code == 1
    assert "presences !B13 : personne inconnue « P-99 »" in result.stdout
    assert (
        "presences  : onglet « presences  » lu comme « Présences » (renommez-le « Présences »"
        in result.stdout
    )


def test_meeting_times_that_would_break_the_calendar_are_reported(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path]
) -> None:
    tabs = small_registry()
    tabs["Réunions"][2][4:6] = ["10h", "9h30"]  # R-AI-1 ends before it starts
    tabs["Réunions"].append(["R-DST", "Réunion", "AI", "29/03/2020", "2h30", "4h", "", "", "", ""])
    tabs["Présences"].append(["", "P-1", "présent", ""])
    result = run_gt("--sheet", make_workbook(tabs), *AS_OF, "check")
    lines = result.stdout.splitlines()
    assert (
        "Réunions!F3 : fin à 09:30, avant ou au début (10:00) (vérifiez les heures de début et de fin)"
        in lines
    )
    assert any(
        line.startswith("Réunions!E8 : 02:30 le 29/03/2020 n'existe pas à l'heure de Europe/Paris")
        for line in lines
    )
    assert (
        "Présences!A13 : réunion manquante : ligne ignorée (indiquez l'ID de la réunion et l'ID (ou l'e-mail) de la personne)"
        in lines
    )


def test_formula_errors_read_as_empty_cells(config: Config) -> None:
    tabs = copy.deepcopy(small_registry())
    tabs["Personnes"][1][4] = "#REF!"
    tabs["Présences"].append(["#N/A", "P-1", "présent", ""])
    result = load_registry(Snapshot(tabs=tabs), config, dt.date(2020, 6, 15))  # type: ignore[arg-type]
    assert [(p.location.ref, p.message) for p in result.problems] == [
        ("Personnes!E2", "organisation manquante"),
        ("Présences!A13", "réunion manquante : ligne ignorée"),
    ]


def test_headers_match_loosely_with_aliases_extra_columns_and_blank_rows(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path]
) -> None:
    tabs = small_registry()
    tabs["Personnes"][0] = [
        "id",
        " PRÉNOM ",
        "nom",
        "Courriel",
        "organisation",
        "GT",
        "langue",
        "Désinscrit",
        "Derogation",
        "Remarques",
    ]
    tabs["Personnes"][0].append("Colonne perso")
    tabs["Personnes"].insert(3, [])
    tabs["Personnes"].insert(3, [None, None, None])
    result = run_gt("--sheet", make_workbook(tabs), *AS_OF, "check")
    assert result.exit_code == 0, result.output


def test_commands_read_other_commands_other_command_lines(
    run_gt: Callable[..., Result], small_xlsx: Path
) -> None:
    """Options are accepted on the command too (the standalone scripts need them)."""
    result = run_gt("check", "--sheet", small_xlsx, "--as-of", "15/06/2020")
    assert result.exit_code == 0, result.output


def test_missing_workbook_is_a_clean_error(run_gt: Callable[..., Result], tmp_path: Path) -> None:
    result = run_gt("--sheet", tmp_path / "absent.xlsx", "check", debug=False)
    assert result.exit_code == 3
    assert "Erreur : " in result.stderr and "classeur introuvable" in result.stderr
    assert "Traceback" not in result.output


def test_bad_as_of_is_a_usage_error(run_gt: Callable[..., Result], small_xlsx: Path) -> None:
    result = run_gt("--sheet", small_xlsx, "--as-of", "hier", "check")
    assert result.exit_code == 2
    assert "date lisible" in result.stderr


cell_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**9), 10**9),
    st.floats(),
    st.text(max_size=300),
    st.sampled_from(
        ["=1+1", "@x", "\n", "\x00", "P-1", "R-L", "ORG-1", "AI", "14/01/2020", "9h30"]
    ),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.lists(cell_values, max_size=12), max_size=6),
    st.sampled_from(["Organisations", "Personnes", "Réunions", "Présences", "Groupes"]),
)
def test_random_rows_only_give_rows_or_problems(
    config: Config, rows: list[list[object]], tab: str
) -> None:
    tabs = copy.deepcopy(small_registry())
    tabs[tab] = [tabs[tab][0], *rows]
    result = load_registry(Snapshot(tabs=tabs), config, dt.date(2020, 6, 15))  # type: ignore[arg-type]
    assert not result.fatal
    for problem in result.problems:
        assert problem.location.tab == tab or problem.location.tab in {
            "Présences",
            "Personnes",
            "Réunions",
        }
        assert problem.message


@pytest.mark.parametrize("as_of", ["2020-06-15", "2019-12-01"])
def test_demo_registry_is_clean(run_gt: Callable[..., Result], demo_xlsx: Path, as_of: str) -> None:
    result = run_gt("--sheet", demo_xlsx, "--as-of", as_of, "check")
    if as_of == "2020-06-15":
        assert result.exit_code == 0, result.output
    else:  # on 1 December 2019, the attendance of January's meetings is in the future
        assert result.exit_code == 1 and "dans le futur" in result.stdout


def test_empty_first_or_last_name_is_reported(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path]
) -> None:
    tabs = small_registry()
    tabs["Personnes"][2][1] = "  "
    tabs["Personnes"][3][2] = None
    result = run_gt("--sheet", make_workbook(tabs), *AS_OF, "check")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "Personnes!B3 : prénom manquant pour P-2 (les invitations et les listes en ont besoin)",
        "Personnes!C4 : nom manquant pour P-3 (les invitations et les listes en ont besoin)",
    ]


def test_every_problem_has_a_hint(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path]
) -> None:
    tabs = messy()
    tabs["Organisations"].append(["ORG-4", "", "ONG"])
    tabs["Groupes"][1][3] = "camille@"
    tabs["Réunions"].append(["R-ND", "Réunion", "AI", "", "", "", "", "", "", ""])
    tabs["Personnes"].append(["P-\t9", "A", "B", "ab@c.fr", "ORG-1", "", "", "", "", ""])
    result = run_gt("--sheet", make_workbook(tabs), *AS_OF, "check", "--json")
    problems = json.loads(result.stdout)
    assert len(problems) >= 18
    assert [p["cell"] for p in problems if not p["hint"]] == []


def test_a_title_row_above_the_headers_is_not_taken_for_them(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path]
) -> None:
    tabs = small_registry()
    tabs["Personnes"] = [["Registre des personnes — ne pas trier"], [], *tabs["Personnes"]]
    tabs["Présences"].append(["R-L", "P-404", "présent", ""])
    result = run_gt("--sheet", make_workbook(tabs), *AS_OF, "check")
    assert result.exit_code == 1
    assert result.stdout.startswith("Présences!B13 : personne inconnue « P-404 »")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (612345678, "0612345678"),
        (612345678.0, "0612345678"),
        ("06 12 34 56 78", "06 12 34 56 78"),
        ("+33 6 12 34 56 78", "+33 6 12 34 56 78"),
        (33612345678, "33612345678"),
        (None, ""),
    ],
)
def test_phone_numbers_stay_text_and_get_their_lost_zero_back(cell: object, expected: str) -> None:
    from gt_registry.loader import phone_text

    assert phone_text(cell) == expected  # type: ignore[arg-type]
