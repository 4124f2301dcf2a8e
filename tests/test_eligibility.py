"""The eligibility rules on plain data: seasons, counts, override, ranks, the why."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from conftest import DEMO_TODAY, small_registry
from gt_registry.backends import Snapshot
from gt_registry.config import Config
from gt_registry.eligibility import compute_eligibility, parse_season, season_for
from gt_registry.errors import ConfigError
from gt_registry.loader import load_registry
from gt_registry.model import (
    ABSENT,
    EVENING,
    EXCUSED,
    LAUNCH,
    MEETING,
    PRESENT,
    Attendance,
    Meeting,
    Organisation,
    Person,
    Registry,
)
from hypothesis import given, settings
from hypothesis import strategies as st

D = dt.date


def small(config: Config, today: dt.date = DEMO_TODAY) -> Registry:
    result = load_registry(Snapshot(tabs=small_registry()), config, today)
    assert not result.fatal and not result.problems
    return result.registry


def registry(
    people: list[Person], meetings: list[Meeting], attendance: list[tuple[str, str, str]]
) -> Registry:
    return Registry(
        organisations={"ORG-1": Organisation("ORG-1", "Alpha", "ONG")},
        people={p.id: p for p in people},
        meetings={m.id: m for m in meetings},
        attendance=[Attendance(m, p, s) for m, p, s in attendance],
    )


def person(pid: str, last: str, first: str = "X", override: str | None = None) -> Person:
    return Person(pid, first, last, f"{pid.lower()}@x.org", "ORG-1", override=override)


# -- seasons -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "start", "end"),
    [
        (D(2020, 6, 15), D(2019, 11, 1), D(2020, 6, 30)),
        (D(2019, 11, 1), D(2019, 11, 1), D(2020, 6, 30)),
        (D(2020, 10, 31), D(2019, 11, 1), D(2020, 6, 30)),
        (D(2019, 10, 31), D(2018, 11, 1), D(2019, 6, 30)),
        (D(2020, 1, 1), D(2019, 11, 1), D(2020, 6, 30)),
        (D(2020, 2, 29), D(2019, 11, 1), D(2020, 6, 30)),
    ],
    ids=["june", "first-day", "last-day-of-october", "day-before", "new-year", "leap-day"],
)
def test_season_in_force(today: dt.date, start: dt.date, end: dt.date) -> None:
    season = season_for(today, 11, 6)
    assert (season.start, season.end) == (start, end)


def test_season_with_other_months() -> None:
    assert season_for(D(2020, 3, 1), 1, 12).label == "2020"
    assert season_for(D(2020, 3, 1), 1, 12).end == D(2020, 12, 31)
    assert season_for(D(2020, 8, 1), 9, 12).label == "2019"


@pytest.mark.parametrize("label", ["2019-2020", "2019/20", "2019", " 2019 - 2020 "])
def test_parse_season(label: str) -> None:
    season = parse_season(label, 11, 6)
    assert (season.start, season.end, season.label) == (D(2019, 11, 1), D(2020, 6, 30), "2019-2020")


def test_parse_season_errors_name_the_fix() -> None:
    with pytest.raises(ConfigError) as inconsistent:
        parse_season("2019-2021", 11, 6)
    assert str(inconsistent.value) == (
        "saison « 2019-2021 » incohérente : elle irait du 01/11/2019 au 30/06/2020\n"
        "  → essayez --season 2019-2020"
    )
    with pytest.raises(ConfigError, match="illisible"):
        parse_season("l'an dernier", 11, 6)


# -- the hand-checked registry -------------------------------------------------------------------


def test_small_registry_counts_flags_ranks_and_why(config: Config) -> None:
    elig = compute_eligibility(small(config), config, DEMO_TODAY)
    got = {pid: (s.count, s.active, s.free_forum_entry, s.rank) for pid, s in elig.statuses.items()}
    assert got == {
        "P-1": (3, True, True, 1),
        "P-2": (1, False, False, None),  # excused at R-AI-1, R-OLD is last season
        "P-3": (2, True, True, 2),  # R-PD-1 listed twice (once by e-mail): counted once
        "P-4": (0, False, False, None),
        "P-5": (0, True, True, 3),  # override: actif
        "P-6": (2, False, False, None),  # override: inactif
    }
    assert elig.statuses["P-1"].why == "3 réunions : AI 14/01, FI 03/03, Lancement 19/11"
    assert elig.statuses["P-1"].active_since == D(2020, 1, 14)
    assert elig.statuses["P-5"].why == "0 réunion — dérogation : actif (Co-animatrice)"
    assert elig.statuses["P-6"].computed_active and elig.statuses["P-6"].overridden
    assert [s.person.id for s in elig.active()] == ["P-1", "P-3", "P-5"]


def test_small_registry_organisations(config: Config) -> None:
    elig = compute_eligibility(small(config), config, DEMO_TODAY)
    assert [(o.organisation.id, o.meetings, o.active_people) for o in elig.organisations] == [
        ("ORG-1", 3, 1),
        ("ORG-3", 3, 1),  # P-3 and P-6 together: R-L, R-PD-1, R-AI-1
        ("ORG-2", 1, 1),
    ]


def test_explicit_season_counts_last_seasons_meetings(config: Config) -> None:
    elig = compute_eligibility(small(config), config, DEMO_TODAY, parse_season("2018-2019", 11, 6))
    assert {pid: s.count for pid, s in elig.statuses.items() if s.count} == {"P-2": 1}
    assert elig.statuses["P-2"].why == "1 réunion : AI 14/05"


# -- the rules one by one ----------------------------------------------------------------------


def test_tie_breaks_count_then_activation_then_name(config: Config) -> None:
    people = [
        person("P-1", "Zola"),
        person("P-2", "Abel"),
        person("P-3", "Morin"),
        person("P-4", "Bach"),
    ]
    meetings = [Meeting(f"M{i}", MEETING, D(2019, 12, i), "AI") for i in range(1, 6)]
    attendance = [
        ("M1", "P-1", PRESENT), ("M2", "P-1", PRESENT),  # active on 2 Dec
        ("M1", "P-2", PRESENT), ("M3", "P-2", PRESENT),  # active on 3 Dec
        ("M1", "P-3", PRESENT), ("M2", "P-3", PRESENT), ("M4", "P-3", PRESENT),  # 3 meetings
        ("M1", "P-4", PRESENT), ("M3", "P-4", PRESENT),  # 3 Dec too: Abel before Bach
    ]  # fmt: skip
    elig = compute_eligibility(registry(people, meetings, attendance), config, DEMO_TODAY)
    assert [(s.person.id, s.rank) for s in elig.active()] == [
        ("P-3", 1),
        ("P-1", 2),
        ("P-2", 3),
        ("P-4", 4),
    ]


def test_override_active_without_meetings_ranks_after_computed_ties(config: Config) -> None:
    people = [person("P-1", "Abel", override="actif"), person("P-2", "Zola")]
    meetings = [Meeting("M1", MEETING, D(2019, 12, 1), "AI"), Meeting("M2", LAUNCH, D(2019, 12, 2))]
    attendance = [
        ("M1", "P-2", PRESENT),
        ("M2", "P-2", PRESENT),
        ("M1", "P-1", PRESENT),
        ("M2", "P-1", PRESENT),
    ]
    elig = compute_eligibility(registry(people, meetings, attendance), config, DEMO_TODAY)
    assert [s.person.id for s in elig.active()] == ["P-1", "P-2"]  # same count and date: name
    alone = registry(
        [person("P-1", "Abel", override="actif"), person("P-2", "Zola")], meetings, attendance[:2]
    )
    assert [s.person.id for s in compute_eligibility(alone, config, DEMO_TODAY).active()] == [
        "P-2",
        "P-1",
    ]


@pytest.mark.parametrize(
    ("kind", "status", "day", "counted"),
    [
        (MEETING, PRESENT, D(2020, 1, 14), True),
        (MEETING, EXCUSED, D(2020, 1, 14), False),
        (MEETING, ABSENT, D(2020, 1, 14), False),
        (EVENING, PRESENT, D(2020, 6, 1), False),
        (MEETING, PRESENT, D(2020, 6, 16), False),  # after "today": never counted
        (MEETING, PRESENT, D(2019, 10, 31), False),  # before the season
        (MEETING, PRESENT, D(2020, 7, 1), False),  # after the season
    ],
    ids=["present", "excused", "absent", "soiree", "future", "before-season", "after-season"],
)
def test_what_counts(config: Config, kind: str, status: str, day: dt.date, counted: bool) -> None:
    reg = registry([person("P-1", "A")], [Meeting("M", kind, day, "AI")], [("M", "P-1", status)])
    assert compute_eligibility(reg, config, DEMO_TODAY).statuses["P-1"].count == int(counted)


def test_threshold_and_counted_types_are_configuration(config: Config) -> None:
    meetings = [Meeting("M1", MEETING, D(2019, 12, 1), "AI"), Meeting("S", EVENING, D(2020, 6, 1))]
    reg = registry([person("P-1", "A")], meetings, [("M1", "P-1", PRESENT), ("S", "P-1", PRESENT)])
    assert not compute_eligibility(reg, config, DEMO_TODAY).statuses["P-1"].active
    evenings = dataclasses.replace(config, counted_types=(*config.counted_types, EVENING))
    assert compute_eligibility(reg, evenings, DEMO_TODAY).statuses["P-1"].active
    three = dataclasses.replace(evenings, active_threshold=3)
    assert not compute_eligibility(reg, three, DEMO_TODAY).statuses["P-1"].active


# -- properties -----------------------------------------------------------------------------------

KINDS = st.sampled_from([LAUNCH, MEETING, "Petit-déjeuner", EVENING])
STATUSES = st.sampled_from([PRESENT, PRESENT, EXCUSED, ABSENT])
DAYS = st.dates(D(2019, 9, 1), D(2020, 8, 31))


@st.composite
def registries(draw: st.DrawFn) -> Registry:
    n_people = draw(st.integers(1, 7))
    overrides = st.sampled_from([None, None, None, "actif", "inactif"])
    people = [
        person(f"P-{i}", draw(st.sampled_from(["Abel", "Bach", "Zola"])), f"F{i}", draw(overrides))
        for i in range(n_people)
    ]
    meetings = [
        Meeting(f"M{i}", draw(KINDS), draw(DAYS), "AI") for i in range(draw(st.integers(0, 8)))
    ]
    rows = st.tuples(
        st.sampled_from([m.id for m in meetings] or ["none"]),
        st.sampled_from([p.id for p in people]),
        STATUSES,
    )
    return registry(people, meetings, draw(st.lists(rows, max_size=40)))


def _outcome(reg: Registry, config: Config) -> dict[str, tuple[int, bool, int | None, str]]:
    elig = compute_eligibility(reg, config, DEMO_TODAY)
    return {pid: (s.count, s.active, s.rank, s.why) for pid, s in elig.statuses.items()}


@settings(max_examples=150, deadline=None)
@given(reg=registries())
def test_counts_are_distinct_counted_meetings_present(reg: Registry) -> None:
    from gt_registry.config import load_config

    config = load_config(None, environ={})
    elig = compute_eligibility(reg, config, DEMO_TODAY)
    season = elig.season
    countable = {
        m.id
        for m in reg.meetings.values()
        if m.type != EVENING and m.date and m.date in season and m.date <= DEMO_TODAY
    }
    for pid, status in elig.statuses.items():
        expected = {
            a.meeting_id for a in reg.attendance if a.person_id == pid and a.status == PRESENT
        } & countable
        assert {m.id for m in status.meetings} == expected
        assert status.count <= len(countable)
        assert status.computed_active == (status.count >= config.active_threshold)
        assert status.active == (
            status.computed_active
            if status.person.override is None
            else status.person.override == "actif"
        )


@settings(max_examples=100, deadline=None)
@given(reg=registries(), data=st.data())
def test_duplicates_and_row_order_change_nothing(reg: Registry, data: st.DataObject) -> None:
    from gt_registry.config import load_config

    config = load_config(None, environ={})
    extra = (
        data.draw(st.lists(st.sampled_from(reg.attendance), max_size=10)) if reg.attendance else []
    )
    shuffled = data.draw(st.permutations([*reg.attendance, *extra]))
    noisy = dataclasses.replace(reg, attendance=list(shuffled))
    assert _outcome(noisy, config) == _outcome(reg, config)


@settings(max_examples=150, deadline=None)
@given(reg=registries())
def test_ranks_are_one_to_n_in_rule_order(reg: Registry) -> None:
    from gt_registry.config import load_config

    config = load_config(None, environ={})
    elig = compute_eligibility(reg, config, DEMO_TODAY)
    active = elig.active()
    # The order cached by compute_eligibility is the one ranked() would sort afresh.
    assert elig.ranked() == dataclasses.replace(elig, order=[]).ranked()
    assert [s.rank for s in active] == list(range(1, len(active) + 1))
    keys = [(-s.count, s.active_since or dt.date.max, s.person.sort_key) for s in active]
    assert keys == sorted(keys)
