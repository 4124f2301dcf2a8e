"""The `gt init` planner, on plain data: no workbook, no spreadsheet."""

from __future__ import annotations

import pytest
from gt_registry.backends import InitReport, Snapshot, TabLayout
from gt_registry.initplan import Dropdown, TabPlan, plan_init
from gt_registry.model import Rows, Value
from gt_registry.parsing import normalise_header
from hypothesis import given
from hypothesis import strategies as st

PEOPLE = TabLayout("Personnes", ("ID", "Nom", "E-mail", "Langue"), {"Langue": ("fr", "en")})
ATTENDANCE = TabLayout(
    "Présences", ("Réunion", "Personne"), {"Réunion": ("=Réunions!$A$2:$A$200",)}
)
JOURNAL = TabLayout("Journal", ("Date", "Commande"), owned=True)
LAYOUT = [PEOPLE, ATTENDANCE, JOURNAL]
SPELLINGS = {"Personnes": {"E-mail": {"email", "courriel"}}}
DEMO: dict[str, Rows] = {
    "Personnes": [["ID", "Nom", "E-mail", "Langue"], ["P-1", "Lovelace", "ada@example.org", "en"]],
    "Présences": [["Réunion", "Personne"], ["R-1", "P-1"]],
}


def tab(plan_tabs: tuple[TabPlan, ...], name: str) -> TabPlan:
    return next(t for t in plan_tabs if t.layout.name == name)


def apply(plan: TabPlan, rows: Rows) -> Rows:
    """The tab's rows once `plan` is applied (the reference both backends follow)."""
    out = [list(row) for row in rows]
    for (r, c), value in plan.cells():
        while len(out) <= r:
            out.append([])
        out[r] += [None] * (c + 1 - len(out[r]))
        out[r][c] = value
    return out


def test_a_blank_registry_gets_every_tab_decorated() -> None:
    plan = plan_init(LAYOUT, Snapshot(), DEMO, force=False)

    assert plan.report == InitReport(
        created_tabs=["Personnes", "Présences", "Journal"],
        added_headers={},
        filled_tabs=["Personnes", "Présences"],
    )
    people = tab(plan.tabs, "Personnes")
    assert people.create and people.freeze and not people.protect
    assert people.headers == PEOPLE.headers and people.first_new == 0
    assert people.dropdowns == (Dropdown(3, ("fr", "en")),)
    assert people.widths == (12, 12, 30, 12)  # the E-mail column fits an address
    assert apply(people, []) == DEMO["Personnes"]
    (meeting,) = tab(plan.tabs, "Présences").dropdowns
    assert meeting.range_formula == "=Réunions!$A$2:$A$200"
    journal = tab(plan.tabs, "Journal")
    assert journal.protect and journal.rows is None and journal.height == 1
    assert apply(journal, []) == [["Date", "Commande"]]


def test_existing_tabs_get_only_what_they_lack_after_their_last_header() -> None:
    current = Snapshot(
        tabs={
            "Personnes": [
                ["nom", "", "courriel", "Téléphone"],
                ["Turing", None, "alan@example.org"],
            ],
            "Présences": [["Réunion", "Personne"]],
            "Journal": [["Date", "Commande"], ["2020-06-01", "init"]],
        },
        actual={"Présences": "presences"},
    )

    plan = plan_init(LAYOUT, current, DEMO, force=False, spellings=SPELLINGS)

    assert plan.report == InitReport(
        created_tabs=[],
        added_headers={"Personnes": ["ID", "Langue"]},
        filled_tabs=["Présences"],  # Personnes already has data
    )
    people = tab(plan.tabs, "Personnes")
    assert people.headers == ("nom", "", "courriel", "Téléphone", "ID", "Langue")
    assert people.first_new == 4 and people.freeze
    assert people.dropdowns == (Dropdown(5, ("fr", "en")),)  # only on the new column
    assert apply(people, current.tabs["Personnes"]) == [
        ["nom", "", "courriel", "Téléphone", "ID", "Langue"],
        ["Turing", None, "alan@example.org"],
    ]
    attendance = tab(plan.tabs, "Présences")
    assert attendance.title == "presences" and not attendance.added and not attendance.freeze
    assert attendance.dropdowns == ()  # the column was there: its drop-down is the staff's
    journal = tab(plan.tabs, "Journal")
    assert journal.protect and list(journal.cells()) == []


def test_force_replaces_the_data_rows_and_blanks_the_rest() -> None:
    current = Snapshot(
        tabs={"Personnes": [["E-mail", "ID"], ["a@x.org", "P-8", "extra"], ["b@x.org", "P-9"]]}
    )

    plan = plan_init([PEOPLE], current, DEMO, force=True)

    people = plan.tabs[0]
    assert people.headers == ("E-mail", "ID", "Nom", "Langue")
    assert people.clear == (2, 3)
    assert apply(people, current.tabs["Personnes"]) == [
        ["E-mail", "ID", "Nom", "Langue"],
        ["ada@example.org", "P-1", "Lovelace", "en"],
        [None, None, None, None],
    ]


def test_extra_demo_headers_are_added_and_a_complete_registry_gets_no_change() -> None:
    demo = {"Journal": [["Date", "Commande", "Note"], ["2020-06-01", "init", "démo"]]}
    first = plan_init([JOURNAL], Snapshot(), demo, force=False)
    assert first.tabs[0].headers == ("Date", "Commande", "Note")

    complete = Snapshot(tabs={"Journal": apply(first.tabs[0], [])})
    again = plan_init([JOURNAL], complete, demo, force=False)

    assert not again.report.changed
    assert list(again.tabs[0].cells()) == []


cells = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "ID", "Nom", "E-mail", "courriel", "Langue", "=1+1", "x"]),
    st.integers(-3, 3),
    st.booleans(),
)
tabs = st.lists(st.lists(cells, max_size=6), max_size=5)


def _filled(value: Value) -> bool:
    return value is not None and str(value).strip() != ""


@given(
    current=st.dictionaries(st.sampled_from(["Personnes", "Présences", "Journal"]), tabs),
    with_demo=st.booleans(),
    force=st.booleans(),
)
def test_a_plan_never_changes_a_filled_staff_cell_unless_forced(
    current: dict[str, Rows], with_demo: bool, force: bool
) -> None:
    plan = plan_init(LAYOUT, Snapshot(tabs=current), DEMO if with_demo else None, force, SPELLINGS)

    for planned in plan.tabs:
        rows = current.get(planned.layout.name)
        if rows is None:
            assert planned.create
            continue
        written = dict(planned.cells())
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if not _filled(value) or (r, c) not in written:
                    continue
                assert force and r > 0, f"{planned.layout.name} ({r}, {c}) = {value!r}"
        # Every wanted header is there afterwards (under one of its spellings).
        after = [normalise_header(str(h)) for h in apply(planned, rows)[0] if _filled(h)]
        for header in planned.layout.headers:
            spellings = SPELLINGS.get(planned.layout.name, {}).get(header, set())
            found = [h for h in after if h in {normalise_header(header), *spellings}]
            assert found, header


@pytest.mark.parametrize(
    ("choices", "formula"),
    [(("a", "b"), None), (("=Groupes!$A$2:$A$200",), "=Groupes!$A$2:$A$200"), (("=x", "y"), None)],
    ids=["list", "range", "two-choices-are-values"],
)
def test_dropdown_range_formula(choices: tuple[str, ...], formula: str | None) -> None:
    assert Dropdown(0, choices).range_formula == formula
