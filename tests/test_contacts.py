"""`gt contacts`: selection, formula-safe cells, every built-in format read back with an
independent parser, errors, and the printable pages printed by a real browser."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import vobject
from click.testing import CliRunner, Result
from gt_registry.commands.contacts import contacts
from gt_registry.config import Config
from gt_registry.contacts import (
    Criteria,
    csv_cell,
    csv_row,
    fold_line,
    is_formula,
    is_phone_number,
    meeting_audience,
    resolve,
    select,
    vcard_line,
)
from gt_registry.demo import demo_rows
from gt_registry.errors import SelectionError
from gt_registry.model import Meeting, Organisation, Person, Registry
from gt_registry.parsing import fold
from hypothesis import given, settings
from hypothesis import strategies as st

AS_OF = ("--as-of", "2020-06-15")
SEASON = (dt.date(2019, 11, 1), dt.date(2020, 6, 30))
TODAY = dt.date(2020, 6, 15)

# ---------------------------------------------------------------------------------------------
# The demo data, read independently from the raw rows (not through the loader or our rules)


def _rows(config: Config, key: str) -> list[dict[str, Any]]:
    rows = demo_rows(config, 2019)[config.tab(key)]  # the 2019-2020 demo, as `demo_xlsx`
    header = [str(h) for h in rows[0]]
    keys = [f.key for f in config.staff_tabs[key].fields]
    by_header = dict(zip([f.header for f in config.staff_tabs[key].fields], keys, strict=True))
    return [{by_header[h]: v for h, v in zip(header, row, strict=False)} for row in rows[1:]]


class Demo:
    def __init__(self, config: Config) -> None:
        self.orgs = {o["id"]: o for o in _rows(config, "organisations")}
        self.people = _rows(config, "people")
        self.meetings = {m["id"]: m for m in _rows(config, "meetings")}
        self.attendance = _rows(config, "attendance")
        for person in self.people:
            person["group_set"] = {
                g.strip() for g in str(person["groups"] or "").split(",") if g.strip()
            }

    def reachable(self) -> list[dict[str, Any]]:
        return [p for p in self.people if p["opted_out"] != "oui"]

    def members(self, code: str) -> list[dict[str, Any]]:
        return [p for p in self.reachable() if code in p["group_set"]]

    def evening(self) -> list[dict[str, Any]]:
        def invited(p: dict[str, Any]) -> bool:
            org = self.orgs[p["organisation"]]
            return bool(p["group_set"]) or "oui" in (org["partner"], org["forum_coorganiser"])

        return [p for p in self.reachable() if invited(p)]

    def counted(self) -> dict[str, int]:
        """Distinct counted meetings attended (present) per person, by the contract."""
        seen: dict[str, set[str]] = {}
        for row in self.attendance:
            meeting = self.meetings[row["meeting"]]
            day = dt.datetime.strptime(meeting["date"], "%d/%m/%Y").date()
            present = fold(str(row["status"] or "")).startswith("present") or not row["status"]
            if (
                present
                and meeting["type"] != "Soirée"
                and SEASON[0] <= day <= min(SEASON[1], TODAY)
            ):
                seen.setdefault(row["person"], set()).add(meeting["id"])
        return {pid: len(ms) for pid, ms in seen.items()}

    def active(self, *, reachable: bool = True) -> list[dict[str, Any]]:
        counts = self.counted()
        return [
            p
            for p in (self.reachable() if reachable else self.people)
            if p["override"] == "actif"
            or (p["override"] != "inactif" and counts.get(p["id"], 0) >= 2)
        ]


@pytest.fixture
def demo(config: Config) -> Demo:
    return Demo(config)


def emails(people: list[dict[str, Any]]) -> set[str]:
    return {p["email"] for p in people}


def names(people: list[dict[str, Any]]) -> list[str]:
    return [f"{p['first_name']} {p['last_name']}" for p in people]


@pytest.fixture
def run(demo_xlsx: Path) -> Callable[..., Result]:
    """`gt --sheet DEMO --as-of 2020-06-15 contacts ARGS`, stderr kept apart."""

    def invoke(*args: Any, sheet: Path = demo_xlsx) -> Result:
        return CliRunner().invoke(
            contacts, ["--sheet", str(sheet), *AS_OF, *map(str, args)], catch_exceptions=False
        )

    return invoke


def read_csv(data: bytes, sep: str, *, bom: bool) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf") is bom
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b""), "CRLF only"
    return list(
        csv.DictReader(
            io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=sep, strict=True
        )
    )


def physical_lines_start_quoted(text: str) -> bool:
    """Every physical line that starts a record starts with a quote (nothing bare to evaluate)."""
    inside = False
    for line in text.split("\r\n")[:-1]:
        if not inside and not line.startswith('"'):
            return False
        inside ^= line.count('"') % 2 == 1
    return not inside


# ---------------------------------------------------------------------------------------------
# Formula-safe CSV cells


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("Anne", '"Anne"'),
        ('Dit "Nanou"', '"Dit ""Nanou"""'),
        ('=HYPERLINK("http://x")', '"\'=HYPERLINK(""http://x"")"'),
        ("+1+1", '"\'+1+1"'),
        ("-2", '"\'-2"'),
        ("@SUM(A1)", '"\'@SUM(A1)"'),
        ("\tx", '"\'\tx"'),
        ("\r\n=1", '"\'\r\n=1"'),
        ("  =1", '"\'  =1"'),
        ("＝1+1", '"\'＝1+1"'),
        ("＋1", '"\'＋1"'),
        ("－1", '"\'－1"'),
        ("＠A1", '"\'＠A1"'),
        ("+33 6 12 34 56 78", '"+33 6 12 34 56 78"'),
        ("+33 (0)6 12 34 56 78", '"+33 (0)6 12 34 56 78"'),
        ("+1-555-0100", '"\'+1-555-0100"'),
        ("+33 6 12 34 56 78+1", '"\'+33 6 12 34 56 78+1"'),
        ("06 12 34 56 78", '"06 12 34 56 78"'),
        ("", '""'),
        (None, '""'),
        (3, '"3"'),
    ],
    ids=[
        "plain",
        "quotes",
        "equals",
        "plus",
        "minus",
        "at",
        "tab",
        "crlf",
        "spaces",
        "fw-equals",
        "fw-plus",
        "fw-minus",
        "fw-at",
        "phone",
        "phone-parens",
        "phone-hyphens",
        "phone-then-formula",
        "national",
        "empty",
        "none",
        "number",
    ],
)
def test_csv_cell_quotes_and_neutralises(value: Any, cell: str) -> None:
    assert csv_cell(value) == cell


def test_phone_numbers_validated_as_such() -> None:
    assert is_phone_number("+33 6 12 34 56 78")
    assert not is_phone_number("+12")  # too short
    assert not is_phone_number("+1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6")  # more than 15 digits
    assert not is_phone_number("+33 6 12 34 56 78 =1")


def test_csv_row_rejects_a_separator_that_breaks_the_file() -> None:
    with pytest.raises(ValueError, match="séparateur"):
        csv_row(["a"], sep="; ")


cells = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(cells, min_size=1, max_size=5), min_size=1, max_size=5),
    st.sampled_from([";", ","]),
)
def test_any_cell_round_trips_through_csv_and_never_is_a_formula(
    rows: list[list[str]], sep: str
) -> None:
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    text = "".join(csv_row(r, sep) for r in rows)
    back = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True))
    expected = [["'" + c if is_formula(c) else c for c in r] for r in rows]
    assert back == expected
    assert [
        [c[1:] if is_formula(o) else c for c, o in zip(r, orig, strict=True)]
        for r, orig in zip(back, rows, strict=True)
    ] == rows
    for row in back:
        for value in row:
            assert not is_formula(value) or is_phone_number(value)
    assert physical_lines_start_quoted(text)


# ---------------------------------------------------------------------------------------------
# vCard escaping and folding


def test_fold_line_at_75_octets_never_inside_a_character() -> None:
    line = "NOTE:" + "é" * 100
    folded = fold_line(line)
    parts = folded.split("\r\n")[:-1]
    assert all(len(p.encode("utf-8")) <= 75 for p in parts)
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == line


vcard_text = st.text(
    st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=200
).filter(lambda s: s.strip() == s and s != "")


@settings(max_examples=200, deadline=None)
@given(
    vcard_text,
    vcard_text,
    st.lists(vcard_text.filter(lambda s: "," not in s), min_size=1, max_size=3),
)
def test_any_text_round_trips_through_vobject(name: str, title: str, groups: list[str]) -> None:
    card = (
        vcard_line("VCARD", "BEGIN")
        + vcard_line("3.0", "VERSION")
        + vcard_line(name, "FN")
        + vcard_line([name, "x", "", "", ""], "N")
        + vcard_line([title], "ORG")
        + vcard_line(title, "TITLE")
        + vcard_line(groups, "CATEGORIES", sep=",")
        + vcard_line("VCARD", "END")
    )
    assert all(len(line.encode("utf-8")) <= 75 for line in card.split("\r\n"))
    parsed = next(vobject.readComponents(card))
    assert parsed.fn.value == name
    assert parsed.n.value.family == name
    assert parsed.org.value == [title]
    assert parsed.title.value == title
    assert parsed.categories.value == groups


# ---------------------------------------------------------------------------------------------
# Selection (core, on plain data)


def _registry() -> Registry:
    orgs = {
        "O1": Organisation("O1", "Alpha", "ONG", "France", partner=True),
        "O2": Organisation("O2", "Beta", "Entreprise", "Maroc"),
    }
    people = {
        "P1": Person("P1", "Anne", "Aubert", "anne@a.org", "O1", groups=("AI",)),
        "P2": Person("P2", "Bruno", "Bellec", "bruno@b.ma", "O2", groups=("AI", "FI")),
        "P3": Person("P3", "Chloé", "Camus", "chloe@a.org", "O1"),
        "P4": Person("P4", "David", "Durand", "david@b.ma", "O2", groups=("AI",), opted_out=True),
        "P5": Person("P5", "Emma", "Eboué", "", "O2", groups=("FI",), email_valid=False),
    }
    meetings = {
        "R-AI": Meeting("R-AI", "Réunion", dt.date(2020, 1, 14), "AI"),
        "R-L": Meeting("R-L", "Lancement", dt.date(2019, 11, 19)),
        "R-S": Meeting("R-S", "Soirée", dt.date(2020, 6, 25)),
    }
    from gt_registry.model import Group

    groups = {
        "AI": Group("AI", "GT Action internationale"),
        "FI": Group("FI", "GT Finance à impact"),
    }
    return Registry(orgs, people, groups, meetings)


@pytest.mark.parametrize(
    ("meeting", "expected"),
    [("R-AI", ["P1", "P2"]), ("R-L", ["P1", "P2", "P5"]), ("R-S", ["P1", "P2", "P3", "P5"])],
    ids=["group-meeting", "launch", "evening"],
)
def test_meeting_audience_follows_the_contract(meeting: str, expected: list[str]) -> None:
    registry = _registry()
    assert [p.id for p in meeting_audience(registry, registry.meetings[meeting])] == expected


def test_selection_combines_as_and_and_counts_who_was_left_out() -> None:
    registry = _registry()
    criteria = resolve(registry, Criteria(groups=("ai",), types=("ong",)))
    selection = select(registry, criteria)
    assert [p.id for p in selection.people] == ["P1"]
    assert selection.left_out == (
        ("hors groupe(s) AI", 2),
        ("d'une organisation hors sélection (ONG)", 2),
    )


def test_opted_out_always_excluded_and_email_required_only_when_asked() -> None:
    registry = _registry()
    selection = select(registry, Criteria(groups=("AI", "FI")), needs_email=True)
    assert [p.id for p in selection.people] == ["P1", "P2"]
    assert selection.left_out == (
        ("hors groupe(s) AI, FI", 1),
        ("désinscrite", 1),
        ("sans e-mail valide", 1),
    )


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        (Criteria(groups=("AJ",)), "--group : groupe « AJ » inconnu\n  → vouliez-vous dire AI ?"),
        (
            Criteria(types=("Entreprises",)),
            "--type : type d'organisation « Entreprises » inconnu\n  → vouliez-vous dire Entreprise ?",
        ),
        (
            Criteria(meeting="R-A1"),
            "--meeting : réunion « R-A1 » inconnue\n  → vouliez-vous dire R-AI ?",
        ),
        (
            Criteria(country="Marco"),
            "--country : pays « Marco » inconnu\n  → vouliez-vous dire Maroc ?",
        ),
    ],
    ids=["group", "type", "meeting", "country"],
)
def test_unknown_names_suggest_the_closest(criteria: Criteria, message: str) -> None:
    with pytest.raises(SelectionError) as err:
        resolve(_registry(), criteria)
    assert str(err.value) == message


# ---------------------------------------------------------------------------------------------
# Every built-in format on the demo data, read back with an independent parser


def test_csv_for_french_excel(run: Callable[..., Result], demo: Demo, tmp_path: Path) -> None:
    out = tmp_path / "ai.csv"
    result = run("--group", "AI", "--out", out)
    assert result.exit_code == 0, result.output
    rows = read_csv(out.read_bytes(), ";", bom=True)
    assert list(rows[0]) == [
        "Nom",
        "Prénom",
        "Organisation",
        "Fonction",
        "E-mail",
        "Téléphone",
        "Groupes",
    ]
    assert {r["E-mail"] for r in rows} == emails(demo.members("AI"))
    assert [r["Nom"] for r in rows] == sorted((r["Nom"] for r in rows), key=fold)
    assert all(r["Téléphone"].startswith("+33 6 ") for r in rows), "phones stay usable"
    assert all(
        line.startswith(('"', '\ufeff"')) for line in out.read_text("utf-8").split("\r\n")[:-1]
    )
    opted_out = len([p for p in demo.people if "AI" in p["group_set"] and p["opted_out"] == "oui"])
    assert result.stderr.strip() == (
        f"{len(rows)} personnes écrites dans {out} ; laissées de côté : "
        f"{len(demo.people) - len(rows) - opted_out} hors groupe(s) AI, {opted_out} désinscrites."
    )
    assert result.stdout == ""


def test_google_contacts_csv(run: Callable[..., Result], demo: Demo) -> None:
    result = run("--group", "FI", "--format", "google")
    rows = read_csv(result.stdout_bytes, ",", bom=False)
    assert list(rows[0])[:3] == ["First Name", "Last Name", "Organization Name"]
    assert {"Labels", "E-mail 1 - Value", "Phone 1 - Value"} <= set(rows[0])
    assert {r["E-mail 1 - Value"] for r in rows} == emails(demo.members("FI"))
    by_email = {p["email"]: p for p in demo.people}
    for row in rows:
        assert set(row["Labels"].split(" ::: ")) == by_email[row["E-mail 1 - Value"]]["group_set"]


def test_outlook_csv(run: Callable[..., Result], demo: Demo) -> None:
    rows = read_csv(run("--group", "MEI", "--format", "outlook").stdout_bytes, ",", bom=True)
    assert list(rows[0]) == [
        "First Name",
        "Last Name",
        "Company",
        "Job Title",
        "E-mail Address",
        "Business Phone",
        "Categories",
    ]
    assert {r["E-mail Address"] for r in rows} == emails(demo.members("MEI"))
    assert all("MEI" in r["Categories"].split(";") for r in rows)


def test_vcard_parsed_back_by_vobject(run: Callable[..., Result], demo: Demo) -> None:
    data = run("--group", "PDMI", "--format", "vcard").stdout_bytes
    text = data.decode("utf-8")
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    cards = list(vobject.readComponents(text))
    expected = demo.members("PDMI")
    assert {c.email.value for c in cards} == emails(expected)
    assert sorted(c.fn.value for c in cards) == sorted(names(expected))
    for card in cards:
        assert card.version.value == "3.0"
        assert "PDMI" in card.categories.value
        assert card.org.value and card.title.value and card.tel.value.startswith("+33")


@pytest.mark.parametrize(
    ("args", "sep"), [((), "; "), (("--sep", ", "), ", ")], ids=["default", "sep"]
)
def test_emails_on_one_line(
    run: Callable[..., Result], demo: Demo, args: tuple[str, ...], sep: str
) -> None:
    out = run("--group", "AI", "--active", "--format", "emails", *args).stdout
    assert out.endswith("\n") and out.count("\n") == 1
    assert set(out.strip().split(sep)) == emails(
        [p for p in demo.active() if "AI" in p["group_set"]]
    )


def test_forum_list_is_the_active_members_in_rank_order(
    run: Callable[..., Result], demo: Demo
) -> None:
    rows = read_csv(run("--format", "forum").stdout_bytes, ";", bom=True)
    assert list(rows[0]) == ["Rang", "Nom", "Prénom", "Organisation", "E-mail"]
    ranks = [int(r["Rang"]) for r in rows]
    assert ranks == sorted(set(ranks)) and ranks[0] == 1
    # Ranks are the eligibility's (the Éligibilité tab's): an opted-out active member keeps
    # their rank but is not listed, so the list has a gap there.
    opted_out_active = [p for p in demo.active(reachable=False) if p["opted_out"] == "oui"]
    assert len(range(1, ranks[-1] + 1)) - len(ranks) == len(opted_out_active) - (
        ranks[-1] < len(demo.active(reachable=False))
    )
    assert {r["E-mail"] for r in rows} == emails(demo.active())
    counts, by_email = demo.counted(), {p["email"]: p for p in demo.people}
    ranked = [
        counts.get(by_email[r["E-mail"]]["id"], 0)
        for r in rows
        if by_email[r["E-mail"]]["override"] != "actif"
    ]
    assert ranked == sorted(ranked, reverse=True), "more meetings first"


class Tables(HTMLParser):
    """Text of every `td`/`th`, by class, and of headings: an independent HTML reading."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str, str]] = []
        self.text: list[str] = []
        self._cls: str | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("td", "th"):
            self._cls, self._buf = dict(attrs).get("class") or "", []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cls is not None:
            self.cells.append((self._cls, " ".join("".join(self._buf).split())))
            self._cls = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cls is not None:
            self._buf.append(data)

    def column(self, cls: str) -> list[str]:
        return [text for c, text in self.cells if c == cls and text]


def parse_html(data: str) -> Tables:
    parser = Tables()
    parser.feed(data)
    return parser


@pytest.mark.parametrize(
    ("meeting", "audience", "header"),
    [
        ("R-2020-AI-4", lambda d: d.members("AI"), "mardi 8 septembre 2020, de 9 h 30 à 11 h 30"),
        ("R-2020-SOIREE", Demo.evening, "jeudi 25 juin 2020, de 18 h 30 à 21 h 30"),
    ],
    ids=["group-meeting", "evening"],
)
def test_emargement_lists_the_invited_by_name(
    run: Callable[..., Result],
    demo: Demo,
    meeting: str,
    audience: Callable[[Demo], list[dict[str, Any]]],
    header: str,
) -> None:
    html = run("--meeting", meeting, "--format", "emargement").stdout
    page = parse_html(html)
    expected = sorted(
        audience(demo), key=lambda p: (fold(p["last_name"]), fold(p["first_name"]), p["id"])
    )
    assert page.column("name")[1:] == [
        f"{p['last_name'].upper()} {p['first_name']}" for p in expected
    ]
    orgs = [demo.orgs[p["organisation"]]["name"] for p in expected]
    assert page.column("org")[1:] == orgs
    assert page.column("sign") == ["Signature"], "the signature column is empty"
    assert header in "".join(page.text)
    assert "Feuille d'émargement" in html and meeting in html


def test_annuaire_lists_member_organisations_by_group_and_type(
    run: Callable[..., Result], demo: Demo
) -> None:
    html = run("--format", "annuaire").stdout
    page = parse_html(html)
    member_orgs = {p["organisation"] for p in demo.reachable()}
    expected = {demo.orgs[o]["name"] for o in member_orgs}
    names_ = page.column("name")
    assert set(names_) - {"Organisation"} == expected
    by_group = sum(
        len({p["organisation"] for p in demo.members(code)}) for code in ("AI", "MEI", "FI", "PDMI")
    )
    assert len(names_) - names_.count("Organisation") == by_group + len(expected)
    for kind in {o["type"] for o in demo.orgs.values()}:
        assert f"{kind} — " in "".join(page.text)
    hosts = {
        m["host"]
        for m in demo.meetings.values()
        if SEASON[0] <= dt.datetime.strptime(m["date"], "%d/%m/%Y").date() <= SEASON[1]
    }
    assert sum(1 for h in page.column("host") if h not in ("—", "Hôte cette saison")) >= len(
        hosts & member_orgs
    )
    assert "https://" not in "".join(page.column("web")), "shown without the scheme"


# ---------------------------------------------------------------------------------------------
# Privacy, errors, writing


def test_opted_out_people_never_appear_in_any_format(
    run: Callable[..., Result], small_xlsx: Path
) -> None:
    for name in ("csv", "google", "outlook", "vcard", "emails", "annuaire"):
        result = run("--format", name, sheet=small_xlsx)
        assert result.exit_code == 0, result.output
        assert "david" not in result.stdout.lower() and "Durand" not in result.stdout
    result = run("--meeting", "R-L", "--format", "emargement", sheet=small_xlsx)
    assert "DURAND" not in result.stdout


def test_only_the_columns_a_format_needs(run: Callable[..., Result], small_xlsx: Path) -> None:
    out = run("--format", "emails", sheet=small_xlsx).stdout
    assert "Aubert" not in out and "Fondation" not in out
    forum = run("--format", "forum", sheet=small_xlsx).stdout
    assert "Co-animatrice" not in forum and "+33" not in forum


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--group", "AJ"),
            "Erreur : --group : groupe « AJ » inconnu\n  → vouliez-vous dire AI ?\n",
        ),
        (
            ("--type", "ngo"),
            "Erreur : --type : type d'organisation « ngo » inconnu\n  → vouliez-vous dire ONG ?\n",
        ),
        (
            ("--meeting", "R-2020-AI4"),
            "Erreur : --meeting : réunion « R-2020-AI4 » inconnue\n  → vouliez-vous dire R-2020-AI-4 ?\n",
        ),
        (
            ("--format", "emargement"),
            "Erreur : le format emargement demande une réunion\n  → ajoutez --meeting ID (par exemple --meeting R-2020-SOIREE)\n",
        ),
    ],
    ids=["group", "type", "meeting", "emargement-without-meeting"],
)
def test_bad_selection_is_an_error_suggesting_the_closest(
    run: Callable[..., Result], args: tuple[str, ...], message: str
) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert result.stderr == message
    assert result.stdout == ""


def test_empty_selection_exits_1_and_writes_nothing(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    out = tmp_path / "vide.csv"
    result = run("--group", "AI", "--type", "Média", "--country", "Brésil", "--out", out)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Erreur : sélection vide : personne à écrire (75 hors groupe(s) AI, "
    )
    assert not out.exists() and list(tmp_path.iterdir()) == [tmp_path / "registre.xlsx"]


def _broken_template(
    run: Callable[..., Result], small_xlsx: Path, tmp_path: Path
) -> tuple[Path, Result]:
    custom = tmp_path / "mine.txt.j2"
    custom.write_text(
        "{% for p in people %}\n{{ p.last_name }}\n{% if p.id == 'P-3' %}{{ p.nickname }}{% endif %}\n{% endfor %}\n",
        "utf-8",
    )
    return custom, run("--template", custom, "--out", tmp_path / "x.txt", sheet=small_xlsx)


def test_template_error_names_file_and_person(
    run: Callable[..., Result], small_xlsx: Path, tmp_path: Path
) -> None:
    custom, result = _broken_template(run, small_xlsx, tmp_path)
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Erreur : {custom}, ligne ")
    assert " : erreur dans le modèle (pour Chloé Camus, P-3) : " in result.stderr
    assert "nickname" in result.stderr
    assert not (tmp_path / "x.txt").exists()


def test_template_error_names_the_right_line(
    run: Callable[..., Result], small_xlsx: Path, tmp_path: Path
) -> None:
    custom, result = _broken_template(run, small_xlsx, tmp_path)
    assert f"Erreur : {custom}, ligne 3 : " in result.stderr


def test_own_template_and_sandbox(
    run: Callable[..., Result], small_xlsx: Path, tmp_path: Path
) -> None:
    custom = tmp_path / "noms.html.j2"
    custom.write_text("{% for p in people %}<li>{{ p.organisation }}</li>{% endfor %}", "utf-8")
    assert "<li>Fondation Alpha</li>" in run("--template", custom, sheet=small_xlsx).stdout
    evil = tmp_path / "evil.txt.j2"
    evil.write_text("{{ people.__class__.__mro__ }}", "utf-8")
    result = run("--template", evil, sheet=small_xlsx)
    assert result.exit_code == 3
    assert "accès interdit" in result.stderr or "erreur dans le modèle" in result.stderr
    assert "<class" not in result.stdout + result.stderr


def test_existing_out_needs_force_and_writes_are_atomic(
    run: Callable[..., Result], small_xlsx: Path, tmp_path: Path
) -> None:
    out = tmp_path / "liste.csv"
    out.write_text("ancien", "utf-8")
    result = run("--out", out, sheet=small_xlsx)
    assert result.exit_code == 3
    assert (
        result.stderr
        == f"Erreur : {out} existe déjà : rien n'a été écrit\n  → ajoutez --force pour le remplacer, ou choisissez un autre --out\n"
    )
    assert out.read_text("utf-8") == "ancien"
    assert run("--out", out, "--force", sheet=small_xlsx).exit_code == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "liste.csv",
        "main.xlsx",
        "registre.xlsx",
    ], "no temporary file left"


def test_format_and_template_are_exclusive(run: Callable[..., Result], tmp_path: Path) -> None:
    custom = tmp_path / "t.txt.j2"
    custom.write_text("x", "utf-8")
    result = run("--format", "csv", "--template", custom)
    assert result.exit_code == 2


def test_registered_in_gt_and_as_contact_lists(
    run_gt: Callable[..., Result],
    small_xlsx: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfdbinary: pytest.CaptureFixture[bytes],
) -> None:
    result = run_gt("--sheet", small_xlsx, "contacts", "--format", "emails")
    assert (
        result.stdout
        == "anne@alpha.org; bruno@beta.com; chloe@gamma.ma; emma@beta.com; farid@gamma.ma\n"
    )
    from gt_registry.commands.contacts import main

    monkeypatch.setattr(
        "sys.argv",
        ["contact-lists", "--sheet", str(small_xlsx), "--group", "AI", "--format", "emails"],
    )
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 0
    assert capfdbinary.readouterr().out == b"anne@alpha.org; bruno@beta.com; farid@gamma.ma\n"


def test_help_lists_every_format(run_gt: Callable[..., Result]) -> None:
    text = run_gt("contacts", "--help").output
    for name in ("csv", "google", "outlook", "vcard", "emails", "forum", "emargement", "annuaire"):
        assert re.search(rf"^    {name} +\S", text, re.M), name


# ---------------------------------------------------------------------------------------------
# The printable pages, printed by a real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def print_to_pdf(html: Path, pdf: Path, profile: Path) -> None:
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-pdf-header-footer", f"--user-data-dir={profile}", f"--print-to-pdf={pdf}", html.as_uri(),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=180)


def pdf_pages(pdf: Path) -> tuple[int, str]:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    assert "(A4)" in re.search(r"^Page size:.*$", info, re.M).group(0)  # type: ignore[union-attr]
    return pages, info


def pdf_text(pdf: Path) -> str:
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return " ".join(text.split())


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium absent (apt-get install -y chromium; .ci/run installs it)"
)
@pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext absent (apt-get install -y poppler-utils)"
)
@pytest.mark.timeout(600)
def test_printable_pages_in_a_real_browser(
    run: Callable[..., Result], demo: Demo, tmp_path: Path
) -> None:
    emargement, annuaire = tmp_path / "emargement.html", tmp_path / "annuaire.html"
    assert (
        run("--meeting", "R-2020-SOIREE", "--format", "emargement", "--out", emargement).exit_code
        == 0
    )
    assert run("--format", "annuaire", "--out", annuaire).exit_code == 0

    print_to_pdf(emargement, tmp_path / "emargement.pdf", tmp_path / "profile")
    pages, _ = pdf_pages(tmp_path / "emargement.pdf")
    invited = demo.evening()
    assert 2 <= pages <= len(invited) // 15 + 2, "about 20 rows a page, the header repeated"
    text = pdf_text(tmp_path / "emargement.pdf")
    for person in invited:
        assert f"{person['last_name'].upper()} {person['first_name']}" in text
    assert "jeudi 25 juin 2020, de 18 h 30 à 21 h 30" in text
    assert f"page {pages} / {pages}" in text

    print_to_pdf(annuaire, tmp_path / "annuaire.pdf", tmp_path / "profile")
    pages, _ = pdf_pages(tmp_path / "annuaire.pdf")
    assert 2 <= pages <= 20
    text = pdf_text(tmp_path / "annuaire.pdf")
    for org in {demo.orgs[p["organisation"]]["name"] for p in demo.reachable()}:
        assert " ".join(org.split()) in text


# ---------------------------------------------------------------------------------------------
# The documentation's examples are true

DOCS = Path(__file__).resolve().parent.parent / "README.md"


def test_every_console_example_in_the_docs_is_what_the_command_prints(
    run_gt: Callable[..., Result], demo_xlsx: Path
) -> None:
    examples = re.findall(
        r"```console\n\$ gt (--as-of \S+ contacts [^\n]*)\n(.*?)```", DOCS.read_text("utf-8"), re.S
    )
    assert len(examples) >= 6
    for command, shown in examples:
        result = run_gt("--sheet", demo_xlsx, *command.split())
        assert result.exit_code == 0, command
        printed = result.stdout_bytes.decode("utf-8-sig").replace("\r\n", "\n")
        assert printed.rstrip("\n") == shown.rstrip("\n"), command


def test_registry_problems_are_listed_and_exit_1_but_the_list_is_written(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path]
) -> None:
    from conftest import small_registry

    tabs = small_registry()
    tabs["Présences"].append(["R-L", "P-404", "présent", ""])
    result = run_gt(
        "--sheet", make_workbook(tabs), "--as-of", "2020-06-15", "contacts", "--format", "emails"
    )
    assert result.exit_code == 1
    assert "Présences!B13 : personne inconnue « P-404 »" in result.stderr
    assert "anne@alpha.org" in result.stdout


def test_dry_run_writes_nothing_and_says_who_would_be_written(
    run_gt: Callable[..., Result], small_xlsx: Path, tmp_path: Path
) -> None:
    out = tmp_path / "liste.csv"
    result = run_gt(
        "--sheet",
        small_xlsx,
        "--as-of",
        "2020-06-15",
        "contacts",
        "--group",
        "AI",
        "--out",
        out,
        "--dry-run",
    )
    assert result.exit_code == 0, result.output
    assert not out.exists() and result.stdout == ""
    assert result.stderr.startswith("Simulation (--dry-run) : 3 personnes écrites dans")


def test_sign_in_sheet_of_a_meeting_with_an_unknown_group_names_the_cell(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path]
) -> None:
    from conftest import small_registry

    tabs = small_registry()
    tabs["Réunions"][2][2] = "ZZ"  # R-AI-1's group
    result = run_gt(
        "--sheet",
        make_workbook(tabs),
        "--as-of",
        "2020-06-15",
        "contacts",
        "--meeting",
        "R-AI-1",
        "--format",
        "emargement",
    )
    assert result.exit_code == 1
    assert "Erreur : Réunions!C3 : Réunion R-AI-1 sans groupe connu" in result.stderr


def test_an_address_with_an_accent_before_the_at_is_named_and_left_out_everywhere(
    run_gt: Callable[..., Result], make_workbook: Callable[..., Path], tmp_path: Path
) -> None:
    """« léa@… » passes a syntax check (SMTPUTF8) but a draft cannot carry it: the same
    problem, with its cell and the fix, in gt check, the lists and the drafts."""
    from conftest import small_registry

    tabs = small_registry()
    tabs["Personnes"][2][3] = "brünö@beta.com"  # P-2
    sheet = make_workbook(tabs)
    expected = "Personnes!D3 : adresse e-mail « brünö@beta.com » : lettre accentuée"
    check = run_gt("--sheet", sheet, "--as-of", "2020-06-15", "check")
    assert check.exit_code == 1 and expected in check.stdout
    assert "vérifiez l'adresse auprès de la personne" in check.stdout
    listed = run_gt("--sheet", sheet, "--as-of", "2020-06-15", "contacts", "--format", "emails")
    assert listed.exit_code == 1 and expected in listed.stderr
    assert "brünö" not in listed.stdout and "anne@alpha.org" in listed.stdout
    drafted = run_gt(
        "--sheet",
        sheet,
        "--as-of",
        "2020-01-02",
        "draft-invitations",
        "R-AI-1",
        "--out",
        tmp_path / "out",
    )
    assert drafted.exit_code == 1, drafted.output
    assert (
        "Personnes!D3 : Bruno Bellec (P-2) — lettre accentuée avant le @ dans l'adresse "
        "« brünö@beta.com » : vérifiez-la" in drafted.output
    )
    assert not any("brünö" in p.read_text("utf-8") for p in (tmp_path / "out").glob("*.eml"))
