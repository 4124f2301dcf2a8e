"""What staff type, parsed: every listed form, and random cells that must never crash."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from gt_registry import parsing
from gt_registry.model import ABSENT, EXCUSED, PRESENT
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("E-mail", "email"),
        ("  Courriel ", "courriel"),
        ("e_mail", "email"),
        ("Co·organisateur FMC", "coorganisateurfmc"),
        ("Prénom", "prenom"),
        ("SALLE DISPONIBLE", "salledisponible"),
        ("Hôte", "hote"),
    ],
)
def test_headers_ignore_case_accents_spaces_and_punctuation(raw: str, expected: str) -> None:
    assert parsing.normalise_header(raw) == expected


@pytest.mark.parametrize(
    "raw", ["oui", "OUI", "yes", "x", "X", "TRUE", True, 1, "1", "Vrai", "=TRUE()", " oui "]
)
def test_yes(raw: object) -> None:
    assert parsing.yes_no(raw) is True  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["non", "no", "", None, "FALSE", False, 0, "0", "=FALSE()"])
def test_no(raw: object) -> None:
    assert parsing.yes_no(raw) is False  # type: ignore[arg-type]


def test_yes_no_rejects_what_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="n'est pas oui/non"):
        parsing.yes_no("peut-être")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("14/01/2020", dt.date(2020, 1, 14)),
        ("2020-01-14", dt.date(2020, 1, 14)),
        ("14.01.20", dt.date(2020, 1, 14)),
        ("4/1/2020", dt.date(2020, 1, 4)),  # day first: the sheet is French
        ("14 janvier 2020", dt.date(2020, 1, 14)),
        ("mardi 14 janvier 2020", dt.date(2020, 1, 14)),
        ("1er févr. 2020", dt.date(2020, 2, 1)),
        ("3 Mars 2020", dt.date(2020, 3, 3)),
        (43844, dt.date(2020, 1, 14)),  # Google serial number
        (43844.0, dt.date(2020, 1, 14)),
        (dt.datetime(2020, 1, 14, 9, 30), dt.date(2020, 1, 14)),
        (dt.date(2020, 1, 14), dt.date(2020, 1, 14)),
        ("", None),
        (None, None),
    ],
)
def test_dates(raw: object, expected: dt.date | None) -> None:
    assert parsing.date(raw) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["31/02/2020", "demain", "2020-13-01", True, dt.time(9, 30)])
def test_bad_dates(raw: object) -> None:
    with pytest.raises(ValueError):
        parsing.date(raw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("9h30", dt.time(9, 30)),
        ("09:30", dt.time(9, 30)),
        ("9h", dt.time(9, 0)),
        ("14 h 05", dt.time(14, 5)),
        ("9H30", dt.time(9, 30)),
        (0.5, dt.time(12, 0)),
        (dt.timedelta(hours=9, minutes=30), dt.time(9, 30)),
        (0.395833333, dt.time(9, 30)),
        (dt.time(18, 30), dt.time(18, 30)),
        ("", None),
    ],
)
def test_times(raw: object, expected: dt.time | None) -> None:
    assert parsing.time(raw) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["25h", "9", "matin", "9:75"])
def test_bad_times(raw: str) -> None:
    with pytest.raises(ValueError):
        parsing.time(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", PRESENT),
        (None, PRESENT),
        ("présent", PRESENT),
        ("Présente", PRESENT),
        ("présent·e", PRESENT),
        ("PRESENT.E", PRESENT),
        ("excusé", EXCUSED),
        ("Excusée", EXCUSED),
        ("excusé·e", EXCUSED),
        ("absent", ABSENT),
        ("absente", ABSENT),
        ("absent·e", ABSENT),
        ("ABSENT(E)", ABSENT),
    ],
)
def test_statuses_in_every_form(raw: str | None, expected: str) -> None:
    assert parsing.status(raw) == expected


def test_unknown_status() -> None:
    with pytest.raises(ValueError, match="non compris"):
        parsing.status("en retard")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(1, PRESENT), ("1", PRESENT), (1.0, PRESENT), ("✓", PRESENT), (0, ABSENT), ("0", ABSENT)],
)
def test_a_status_ticked_as_one_or_zero_is_present_or_absent(raw: object, expected: str) -> None:
    """1/0, as on the yes/no columns: a 0 is not an empty cell (present by default)."""
    assert parsing.status(raw) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", [2, "2", 2.5, "?", "-", "--", "✗"])
def test_a_status_without_a_word_is_not_read_as_present(raw: object) -> None:
    with pytest.raises(ValueError, match="non compris"):
        parsing.status(raw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AI, FI", ("AI", "FI")),
        ("AI;FI ; PDMI", ("AI", "FI", "PDMI")),
        ("AI,,AI", ("AI",)),
        ("", ()),
    ],
)
def test_group_lists(raw: str, expected: tuple[str, ...]) -> None:
    assert parsing.group_codes(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (612345678.0, "612345678"),
        ("06 12 34 56 78", "06 12 34 56 78"),
        ("1E5", "1E5"),
        ("inf", "inf"),
        ("  P-0042 ", "P-0042"),
        (75011, "75011"),
        (1.5, "1.5"),
        (True, "TRUE"),
    ],
)
def test_ids_and_numbers_stay_text(raw: object, expected: str) -> None:
    assert parsing.text(raw) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Réunion", "Réunion"),
        ("reunion", "Réunion"),
        ("Petit déjeuner", "Petit-déjeuner"),
        ("petit-dej", "Petit-déjeuner"),
        ("SOIRÉE", "Soirée"),
        ("lancement", "Lancement"),
    ],
)
def test_meeting_types(raw: str, expected: str) -> None:
    assert parsing.meeting_type(raw) == expected


def test_unknown_meeting_type_suggests() -> None:
    with pytest.raises(ValueError, match="vouliez-vous dire Réunion"):
        parsing.meeting_type("Réunon")


def test_did_you_mean() -> None:
    assert parsing.did_you_mean("p-0999", ["P-0099", "ORG-1"]) == "vouliez-vous dire P-0099 ?"
    assert parsing.did_you_mean("zzz", ["P-0099"]) == ""
    assert parsing.did_you_mean("R-AI-l", ["R-AI-2", "R-AI-1"]) == "vouliez-vous dire R-AI-1 ?"
    assert parsing.did_you_mean("P-OO42", ["P-0041", "P-0042"]) == "vouliez-vous dire P-0042 ?"


cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x9F)),
    st.sampled_from(['=HYPERLINK("x")', "+33 6", "@SUM(A1)", "1e999", "0x1F", "\r\n", "oui\t"]),
    st.dates().map(lambda d: d),
    st.times(),
)


@given(cells)
def test_every_parser_returns_a_value_or_a_value_error(value: object) -> None:
    """Random cell contents never crash a parser: a value, or a ValueError to report."""
    for parser in (
        parsing.yes_no,
        parsing.date,
        parsing.time,
        parsing.status,
        parsing.meeting_type,
        parsing.override,
        lambda v: parsing.language(v, ("fr", "en"), "fr"),
    ):
        with contextlib.suppress(ValueError):
            parser(value)  # type: ignore[operator]
    assert isinstance(parsing.text(value), str)  # type: ignore[arg-type]
    assert isinstance(parsing.group_codes(value), tuple)  # type: ignore[arg-type]


@given(
    st.sampled_from(
        ["E-mail", "Prénom", "Co-organisateur FMC", "Salle disponible", "Hôte", "Lien visio"]
    ),
    st.lists(st.sampled_from(["upper", "lower", "space", "dash", "underscore", "nfd"]), max_size=4),
)
def test_header_spellings_staff_use_all_normalise_alike(header: str, changes: list[str]) -> None:
    import unicodedata

    typed = header
    for change in changes:
        typed = {
            "upper": typed.upper(),
            "lower": typed.lower(),
            "space": f"  {typed} ",
            "dash": typed.replace(" ", "-"),
            "underscore": typed.replace("-", "_"),
            "nfd": unicodedata.normalize("NFD", typed),
        }[change]
    assert parsing.normalise_header(typed) == parsing.normalise_header(header)


@given(
    st.lists(st.from_regex(r"[A-Za-z]{1,6}", fullmatch=True), max_size=6),
    st.sampled_from([",", ";", " ; ", ", "]),
)
def test_group_lists_split_on_commas_and_semicolons(codes: list[str], sep: str) -> None:
    parsed = parsing.group_codes(sep.join(codes))
    assert parsed == tuple(dict.fromkeys(codes))


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_dates_round_trip_in_every_form_staff_type(day: dt.date) -> None:
    serial = (day - parsing.GOOGLE_EPOCH).days
    forms = [
        day.strftime("%d/%m/%Y"),
        day.isoformat(),
        f"{day.day}/{day.month}/{day.year}",
        serial,
        float(serial),
        day,
        dt.datetime.combine(day, dt.time(9, 30)),
    ]
    assert {parsing.date(form) for form in forms} == {day}


@given(st.times().map(lambda t: t.replace(second=0, microsecond=0)))
def test_times_round_trip(moment: dt.time) -> None:
    fraction = (moment.hour * 60 + moment.minute) / (24 * 60)
    forms = [
        f"{moment.hour}h{moment.minute:02d}",
        f"{moment.hour:02d}:{moment.minute:02d}",
        fraction,
        moment,
    ]
    assert {parsing.time(form) for form in forms} == {moment}


@given(st.emails())
def test_email_keys_ignore_case_and_spaces(address: str) -> None:
    assert parsing.email_key(f"  {address.upper()} ") == parsing.email_key(address.lower())


def test_special_use_domains_are_email_validators() -> None:
    # parsing keeps its own copy so that a drafting run need not import email-validator.
    import email_validator

    assert set(parsing.SPECIAL_USE_DOMAINS) == set(email_validator.SPECIAL_USE_DOMAIN_NAMES)


@pytest.mark.parametrize(
    ("address", "valid"),
    [
        ("a.b@example.org", True),
        ("a@b.test", False),
        ("a@x.localhost", False),
        ("a@b.onion", False),
        ("é@example.org", True),
        ("a@@example.org", False),
    ],
)
def test_valid_email_fast_path_agrees_with_email_validator(address: str, valid: bool) -> None:
    import email_validator

    parsing.valid_email.cache_clear()
    assert parsing.valid_email(address) is valid
    try:
        email_validator.validate_email(address, check_deliverability=False)
        expected = True
    except email_validator.EmailNotValidError:
        expected = False
    assert expected is valid


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("fr", "fr"),
        ("EN", "en"),
        (" Français ", "fr"),
        ("espagnol", "es"),
        ("pt-BR", "pt"),
        ("en_GB", "en"),
        ("", "fr"),
    ],
)
def test_languages_as_staff_type_them(typed: str, code: str) -> None:
    assert parsing.language(typed, ("fr", "en", "es", "pt"), "fr") == code


@pytest.mark.parametrize("typed", ["en\nfr", "en/fr", "fr en", "enfra", "klingon"])
def test_two_languages_or_an_unknown_one_are_reported_not_cut_to_two_letters(typed: str) -> None:
    with pytest.raises(ValueError, match=r"(?s)langue « .* » inconnue"):
        parsing.language(typed, ("fr", "en", "es", "pt"), "fr")
