"""`gt report`: the figures of a hand-made registry worked out by hand, the page, the exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import html5lib
import pytest
from click.testing import Result
from conftest import DEMO_TODAY, small_registry
from gt_registry.config import Config
from gt_registry.loader import load_registry
from gt_registry.sync import plan_sync
from test_contacts import CHROMIUM, pdf_pages, pdf_text, print_to_pdf

AS_OF = "2020-06-15"
SVG = "{http://www.w3.org/2000/svg}"  # the namespace html5lib gives inline SVG


def page_text(page: str) -> str:
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    return " ".join("".join(tree.itertext()).split())


def registry_tabs() -> dict[str, list[list[Any]]]:
    """`small_registry` plus: an earlier season where P-2 became active, a room never offered
    yet, a group whose name looks like a formula, and rows with problems (skipped, counted)."""
    tabs = small_registry()
    tabs["Organisations"].append(
        [
            "ORG-4",
            "Université Delta",
            "Recherche et enseignement supérieur",
            "France",
            "",
            "",
            "oui",
            "2 rue D",
        ]
    )
    tabs["Groupes"].append(["ZZ", "@SOMME(A1)", "", ""])
    tabs["Réunions"].append(["R-OLD2", "Réunion", "FI", "12/03/2019", "", "", "", "", "", ""])
    tabs["Présences"] += [
        ["R-OLD2", "P-1", "présent", ""],
        ["R-OLD2", "P-2", "présent", ""],
        ["R-AI-1", "P-3", "absent", ""],  # absent: counted apart
        ["R-FI-1", "P-1", "excusé", "présente aussi"],  # present wins: not excused as well
        ["R-AI-1", "P-404", "présent", ""],  # unknown_person
        ["R-AI-1", "P-4", "peut-être", ""],  # bad_status
        ["R-S", "P-1", "présent", ""],  # future_attendance (25/06 > 15/06)
    ]
    return tabs


# Worked out by hand from `registry_tabs()` on 15 June 2020 (season 2019-2020):
# held = R-L (19/11), R-AI-1 (14/01), R-PD-1 (05/02), R-FI-1 (03/03); R-S is a Soirée, ahead.
# Counted meetings: P-1 3 (L, AI, FI), P-2 1 (L), P-3 2 (L, PD: the duplicate once), P-6 2
# (L, AI) but `inactif` by override; P-5 `actif` by override with none.
EXPECTED_TOTALS = {
    "meetings_held": 4,
    "people_present": 4,
    "active_members": 3,  # P-1, P-3, P-5 (override)
    "active_by_override": 1,
    "organisations_present": 3,
    "organisations_new": 1,  # ORG-3: ORG-1 and ORG-2 came in 2018-2019
    "average_attendance": 2.0,  # (4 + 2 + 1 + 1) / 4
    "meetings_without_attendance": 0,
}
EXPECTED_MEETINGS = [
    ("R-L", "Lancement", None, "2019-11-19", "ORG-1", 4, 0, 0),
    ("R-AI-1", "Réunion", "AI", "2020-01-14", "ORG-1", 2, 1, 1),
    ("R-PD-1", "Petit-déjeuner", "PDMI", "2020-02-05", "", 1, 0, 0),
    ("R-FI-1", "Réunion", "FI", "2020-03-03", "ORG-2", 1, 0, 0),
]
EXPECTED_GROUPS = [
    # code, members, present at its meetings, active members, held, average
    ("AI", 3, 2, 1, 1, 2.0),
    ("FI", 2, 1, 2, 1, 1.0),
    ("PDMI", 2, 1, 1, 1, 1.0),
    ("ZZ", 0, 0, 0, 0, None),
]


@pytest.fixture
def registry_xlsx(make_workbook: Callable[..., Path]) -> Path:
    return make_workbook(registry_tabs())


def figures(run_gt: Callable[..., Result], sheet: Path, *args: Any) -> dict[str, Any]:
    result = run_gt("--sheet", sheet, "--as-of", AS_OF, "report", "--json", *args)
    assert result.exit_code == 1, result.output  # problems were found (and counted)
    return json.loads(result.stdout)


def test_json_figures_are_the_hand_computed_ones(
    run_gt: Callable[..., Result], registry_xlsx: Path
) -> None:
    data = figures(run_gt, registry_xlsx)
    assert (data["season"], data["as_of"], data["season_start"]) == (
        "2019-2020",
        AS_OF,
        "2019-11-01",
    )
    assert data["totals"] == EXPECTED_TOTALS
    assert data["meetings_by_type"] == {"Lancement": 1, "Réunion": 2, "Petit-déjeuner": 1}
    assert [
        (
            m["id"],
            m["type"],
            m["group"],
            m["date"],
            m["host"],
            m["present"],
            m["excused"],
            m["absent"],
        )
        for m in data["meetings"]
    ] == EXPECTED_MEETINGS
    assert [
        (
            g["code"],
            g["members"],
            g["people_present"],
            g["active_members"],
            g["meetings_held"],
            g["average_present"],
        )
        for g in data["groups"]
    ] == EXPECTED_GROUPS
    types = {
        t["type"]: (t["organisations"], t["organisations_present"])
        for t in data["organisation_types"]
    }
    assert types == {
        "Acteur public": (0, 0),
        "Économie sociale et solidaire": (0, 0),
        "Entreprise": (1, 1),
        "ONG": (1, 1),
        "Média": (1, 1),
        "Recherche et enseignement supérieur": (1, 0),
    }
    assert [(h["organisation"], h["meetings"], h["by_group"]) for h in data["hosts"]] == [
        ("ORG-1", 2, {"AI": 1, "Lancement": 1}),
        ("ORG-2", 1, {"FI": 1}),
    ]
    assert data["hosting"] == {
        "distinct_hosts": 2,
        "network_premises": 1,  # R-PD-1 has no host
        "rooms_not_hosted": [{"organisation": "ORG-4", "name": "Université Delta"}],
    }
    assert data["involvement"] == [
        {"meetings": 1, "people": 1},
        {"meetings": 2, "people": 2},
        {"meetings": 3, "people": 1},
    ]
    assert [
        (o["organisation"], o["meetings"], o["active_people"]) for o in data["top_organisations"]
    ] == [
        ("ORG-1", 3, 1),  # Fondation Alpha: L, AI, FI
        ("ORG-3", 3, 1),  # Média Gamma: L, PD (P-3), AI (P-6)
        ("ORG-2", 1, 1),  # Banque Beta: L; P-5 active by override
    ]
    assert data["seasons"] == [
        {"season": "2018-2019", "meetings_held": 2, "people_present": 2, "active_members": 1,
         "organisations_present": 2, "returning_active": None},
        {"season": "2019-2020", "meetings_held": 4, "people_present": 4, "active_members": 3,
         "organisations_present": 3, "returning_active": 1},  # P-2 came back
    ]  # fmt: skip
    assert data["data_quality"] == {
        "problems": 3,
        "by_kind": [
            {"code": "bad_status", "kind": "statut de présence non compris", "count": 1},
            {"code": "future_attendance", "kind": "présence à une réunion future", "count": 1},
            {"code": "unknown_person", "kind": "personne inconnue", "count": 1},
        ],
        "command": "gt check",
    }


def test_problems_are_those_of_gt_check(run_gt: Callable[..., Result], registry_xlsx: Path) -> None:
    check = json.loads(run_gt("--sheet", registry_xlsx, "--as-of", AS_OF, "check", "--json").stdout)
    data = figures(run_gt, registry_xlsx)
    assert data["data_quality"]["problems"] == len(check)


def test_active_members_are_the_count_of_the_eligibility_tab(
    run_gt: Callable[..., Result], demo_xlsx: Path, config: Config
) -> None:
    from gt_registry.backends.xlsx import WorkbookBackend

    loaded = load_registry(WorkbookBackend(demo_xlsx, config).read(), config, DEMO_TODAY)
    plan = plan_sync(loaded.registry, config, DEMO_TODAY)
    result = run_gt("--sheet", demo_xlsx, "--as-of", DEMO_TODAY.isoformat(), "report", "--json")
    data = json.loads(result.stdout)
    assert data["totals"]["active_members"] == len(plan.active)
    assert data["totals"]["active_by_override"] == plan.by_override >= 1
    assert [(g["code"], g["members"], g["active_members"]) for g in data["groups"]] == [
        (g.code, g.members, g.active) for g in plan.groups
    ]


def test_season_option_and_an_empty_season(
    run_gt: Callable[..., Result], registry_xlsx: Path, tmp_path: Path
) -> None:
    data = figures(run_gt, registry_xlsx, "--season", "2018-2019")
    assert data["totals"]["meetings_held"] == 2 and data["seasons"] == []
    out = tmp_path / "vide.html"
    result = run_gt(
        "--sheet", registry_xlsx, "--as-of", AS_OF, "report", "--season", "2021-2022", "--out", out
    )
    assert result.exit_code == 1
    page = out.read_text(encoding="utf-8")
    text = page_text(page)
    assert "Aucune réunion comptée n'a encore eu lieu cette saison" in text
    assert "Personne n'a encore été présent" in text
    # per group (members), organisation types, and the three seasons compared
    assert page.count("<svg") == 3
    bad = run_gt("--sheet", registry_xlsx, "report", "--season", "2019-2021")
    assert bad.exit_code == 2 and "--season" in bad.output


def test_page_is_self_contained_html_with_one_svg_per_chart(
    run_gt: Callable[..., Result], registry_xlsx: Path, tmp_path: Path
) -> None:
    out = tmp_path / "rapport.html"
    result = run_gt("--sheet", registry_xlsx, "--as-of", AS_OF, "report", "--out", out)
    assert result.exit_code == 1
    assert "3 problème(s) dans le registre" in result.stderr
    page = out.read_text(encoding="utf-8")
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    tree = parser.parse(page)
    assert tree.find(".//title").text == "Groupes de travail — bilan de la saison 2019-2020"
    # sections 2 to 7, two charts in section 6 (people and organisations): all non-empty
    charts = tree.findall(f".//{SVG}svg")
    assert page.count("<svg") == len(charts) == 7
    for external in ("http", "src=", "<link", "<script", "url(http", "@import"):
        assert external not in page
    for svg in charts:
        assert svg.find(f"{SVG}title").text  # every chart has its title for screen readers
    assert len(tree.findall(".//figure/table")) == 7  # and its figures in a table
    text = " ".join("".join(tree.itertext()).split())
    assert "Groupe le plus suivi : GT Action internationale, 2 personnes par réunion" in text
    assert "mardi 19 novembre 2019" in text  # dates written out with Babel
    assert "Université Delta" in text  # a room never offered yet
    assert "3 problèmes dans le registre" in text and "gt check" in text
    assert "1 des 1 membres actifs de 2018-2019 sont revenus" in text


def test_numbers_are_written_the_french_way() -> None:
    from gt_registry.report_page import number, percent

    assert number(1234) == "1\u202f234"
    assert number(14.25) == "14,2" and number(20) == "20" and number(None) == "—"
    assert percent(45, 100) == "45\xa0%"


def test_csv_exports_are_french_excel_and_formula_safe(
    run_gt: Callable[..., Result], registry_xlsx: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "tableaux"
    result = run_gt("--sheet", registry_xlsx, "--as-of", AS_OF, "report", "--csv", folder)
    assert result.exit_code == 1
    assert not list(tmp_path.glob("rapport-*.html"))  # --csv alone: the tables only
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(
        f"{n}.csv"
        for n in ("chiffres-cles", "reunions", "groupes", "types-organisations", "hotes",
                  "implication", "organisations-impliquees", "saisons", "qualite-des-donnees")
    )  # fmt: skip
    raw = (folder / "groupes.csv").read_bytes()
    assert raw.startswith("\ufeff".encode()) and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Code", "Groupe", "Membres"]
    assert rows[1] == ["AI", "GT Action internationale", "3", "2", "1", "1", "2"]
    assert rows[4][1] == "'@SOMME(A1)"  # neutralised: never run as a formula
    meetings = list(
        csv.reader(io.StringIO((folder / "reunions.csv").read_text("utf-8-sig")), delimiter=";")
    )
    assert meetings[2][:4] == ["R-AI-1", "Réunion", "AI", "14/01/2020"]
    again = run_gt("--sheet", registry_xlsx, "--as-of", AS_OF, "report", "--csv", folder)
    assert again.exit_code == 3 and "existe déjà" in again.stderr
    assert (
        run_gt(
            "--sheet", registry_xlsx, "--as-of", AS_OF, "report", "--csv", folder, "--force"
        ).exit_code
        == 1
    )


def test_outputs_are_never_overwritten_without_force_nor_the_registry(
    run_gt: Callable[..., Result], registry_xlsx: Path, tmp_path: Path
) -> None:
    before = registry_xlsx.read_bytes()
    for out in (registry_xlsx, tmp_path / "." / registry_xlsx.name):
        refused = run_gt("--sheet", registry_xlsx, "report", "--out", out, "--force")
        # the registry, like every output of the tool: a wrong command line (exit 2)
        assert refused.exit_code == 2 and "c'est le registre" in refused.stderr
        assert "rien n'a été écrit" in refused.stderr
    assert registry_xlsx.read_bytes() == before
    out = tmp_path / "chiffres.json"
    assert (
        run_gt(
            "--sheet", registry_xlsx, "--as-of", AS_OF, "report", "--json", "--out", out
        ).exit_code
        == 1
    )
    assert json.loads(out.read_text("utf-8"))["season"] == "2019-2020"
    again = run_gt("--sheet", registry_xlsx, "--as-of", AS_OF, "report", "--json", "--out", out)
    assert again.exit_code == 3 and "existe déjà" in again.stderr


def test_default_out_is_the_season_page_in_the_current_folder(
    run_gt: Callable[..., Result],
    registry_xlsx: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_gt("--sheet", registry_xlsx, "--as-of", AS_OF, "report")
    assert "rapport-2019-2020.html" in result.stderr
    assert (tmp_path / "rapport-2019-2020.html").is_file()


def test_group_colours_are_the_same_in_every_chart() -> None:
    from gt_registry.charts import group_fills

    fills = group_fills(["AI", "MEI", "FI", "PDMI"])
    assert len({(f.colour, f.pattern) for f in fills.values()}) == 4
    assert group_fills(["AI", "MEI"])["MEI"] == fills["MEI"]


# -- the demo, printed by a real browser ------------------------------------------------------


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium absent (apt-get install -y chromium; .ci/run installs it)"
)
@pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext absent (apt-get install -y poppler-utils)"
)
@pytest.mark.timeout(600)
def test_demo_report_prints_to_pdf(
    run_gt: Callable[..., Result], demo_xlsx: Path, tmp_path: Path
) -> None:
    out = tmp_path / "rapport.html"
    result = run_gt("--sheet", demo_xlsx, "--as-of", DEMO_TODAY.isoformat(), "report", "--out", out)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.count("<svg") == 6  # section 7 is empty: the demo holds one season
    print_to_pdf(out, tmp_path / "rapport.pdf", tmp_path / "profile")
    pages, _ = pdf_pages(tmp_path / "rapport.pdf")
    assert 4 <= pages <= 8
    text = pdf_text(tmp_path / "rapport.pdf")
    assert f"page {pages} / {pages}" in text
    for heading in ("1. Chiffres clés", "2. Présence par réunion", "3. Par groupe",
                    "4. Types d'organisations", "5. Accueil des réunions", "6. Implication",
                    "7. Saisons comparées", "8. Qualité des données"):  # fmt: skip
        assert heading in text
    assert "Le registre ne contient pas de saison antérieure" in text
    assert "mardi 19 novembre 2019" in text
    assert re.search(r"\b13 98 réunions tenues personnes présentes 1 lancement, 9\b", text)


def test_report_does_not_need_the_clock(run_gt: Callable[..., Result], registry_xlsx: Path) -> None:
    """--as-of is "today" for every figure: a later day holds R-S's row, no longer future."""
    result = run_gt("--sheet", registry_xlsx, "--as-of", "2020-06-30", "report", "--json")
    data = json.loads(result.stdout)
    assert data["as_of"] == dt.date(2020, 6, 30).isoformat()
    assert data["data_quality"]["problems"] == 2  # the Soirée's row is no longer in the future
