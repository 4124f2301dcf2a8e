"""Safe drafts (headers from structured fields only), calendar times, dates in four languages."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest
from gt_registry import i18n, ics
from gt_registry.composer import file_names
from gt_registry.journal import compress_ids, expand_ids
from gt_registry.mail import (
    EXPECTED_HEADERS,
    DraftFactory,
    Envelope,
    Mailbox,
    UnsafeHeader,
    address,
    attachment,
    parse,
)
from gt_registry.model import Meeting, Person
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

STAMP = dt.datetime(2020, 6, 15, 8, 0, tzinfo=dt.UTC)
SENDER = Mailbox("Camille Laurent", "camille@convergences.example.org")
CALENDAR = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"


def factory(with_calendar: bool = True) -> DraftFactory:
    parts = (
        [attachment(CALENDAR, "text", "calendar", "r.ics", method="PUBLISH", charset="utf-8")]
        if with_calendar
        else []
    )
    return DraftFactory(Envelope(SENDER, SENDER, STAMP), parts)


TRICKS = st.sampled_from(
    [
        "=?utf-8?q?a=40b.fr=2C_c=40d.fr?=",
        "=?utf-8?b?Ym9iQGV2aWwub3Jn?=",
        "a@b.fr; c@d.fr",
        "a@b.fr, c@d.fr",
        "<c@d.fr>",
        '"quoted" \\ back',
        "x\nBcc: evil@x.org",
        "x\r\nCc: evil@x.org",
        "trailing\n",
        "tab\there",
        "nul\x00",
        "ligne\u2028séparée",
        "=SUM(A1)",
        "<script>alert(1)</script>",
        "Zoë Ñúñez-Ōtsuka 山田",
    ]
)
TEXT = st.one_of(TRICKS, st.text(max_size=40), st.tuples(TRICKS, st.text(max_size=10)).map("".join))
EMAILS = st.one_of(
    st.sampled_from(
        [
            "anne@alpha.org",
            "a@b.fr; c@d.fr",
            "a@b.fr, c@d.fr",
            "x@exämple.fr",
            "é@x.fr",
            "a@b.fr\n",
            "a@b.fr\nBcc: c@d.fr",
            "<a@b.fr>",
            "a b@c.fr",
            "@x.fr",
            "a@",
            "=?utf-8?q?a@b.fr?=",
        ]
    ),
    st.emails(),
    st.text(max_size=30),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=TEXT, email=EMAILS, subject=TEXT, body=TEXT, html=st.booleans(), calendar=st.booleans())
def test_any_value_gives_one_recipient_and_the_expected_headers_only(
    name: str, email: str, subject: str, body: str, html: bool, calendar: bool
) -> None:
    try:
        data = factory(calendar).draft(
            Mailbox(name, email), subject or "x", body, f"<p>{body}</p>" if html else None
        )
    except UnsafeHeader:
        return  # refused: the person is listed as a problem, nothing is written
    message = parse(data)
    assert set(message.keys()) <= set(EXPECTED_HEADERS)
    assert all(len(message.get_all(h) or []) <= 1 for h in EXPECTED_HEADERS)
    (to,) = message.get_all("To")
    (recipient,) = to.addresses
    assert recipient.addr_spec.rpartition("@")[0] == email.strip().rpartition("@")[0]
    assert "@" in recipient.addr_spec and "," not in recipient.addr_spec
    assert message["X-Unsent"] == "1"
    assert not message.defects
    assert not [p for p in message.walk() if p.defects]
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n").rstrip(
        "\n"
    ) == body.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    if calendar:
        assert [p.get_content_type() for p in message.iter_attachments()] == ["text/calendar"]


@pytest.mark.parametrize(
    "email",
    [
        "a@b.fr; c@d.fr",
        "a@b.fr, c@d.fr",
        "a@b.fr\n",
        "a@b.fr\nBcc: c@d.fr",
        "<a@b.fr>",
        "é@x.fr",
        "ab.fr",
    ],
    ids=[
        "semicolon",
        "comma",
        "trailing-newline",
        "header-injection",
        "brackets",
        "utf8-local",
        "no-at",
    ],
)
def test_bad_addresses_are_refused(email: str) -> None:
    with pytest.raises(UnsafeHeader):
        address("To", Mailbox("Anne", email))


@pytest.mark.parametrize(
    "name",
    ["Anne\n", "Anne\r\nBcc: x@y.fr", "A\x1bnne", "A\u2028B", "A\x85B"],
    ids=["lf", "crlf", "esc", "ls", "nel"],
)
def test_control_characters_in_names_are_refused(name: str) -> None:
    with pytest.raises(UnsafeHeader, match="caractère de contrôle"):
        address("To", Mailbox(name, "anne@alpha.org"))


def test_subject_line_breaks_collapse_and_other_controls_refuse() -> None:
    message = parse(
        factory().draft(
            Mailbox("Anne", "anne@alpha.org"), "Réunion\n  du GT\r\nBcc: x@y.fr", "Bonjour"
        )
    )
    assert message["Subject"] == "Réunion du GT Bcc: x@y.fr"
    assert message.get_all("Bcc") is None
    with pytest.raises(UnsafeHeader):
        factory().draft(Mailbox("Anne", "anne@alpha.org"), "Réunion\x07", "Bonjour")


def test_non_ascii_names_use_rfc2047_and_domains_idna() -> None:
    data = factory().draft(Mailbox("Aïcha N'Diaye", "aicha@exämple.fr"), "Réunion", "Bonjour Aïcha")
    head = data.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert b"To: =?utf-8?" in head and b"xn--exmple-cua.fr" in head
    message = parse(data)
    assert message["To"].addresses[0].display_name == "Aïcha N'Diaye"
    assert message["To"].addresses[0].domain == "xn--exmple-cua.fr"


def test_encoded_word_lookalike_names_are_dropped_not_decoded() -> None:
    message = parse(
        factory().draft(Mailbox("=?utf-8?q?bob=40evil.org?=", "anne@alpha.org"), "x", "y")
    )
    assert message["To"].addresses[0].display_name == ""
    assert message["To"].addresses[0].addr_spec == "anne@alpha.org"


def test_long_names_fold_and_parse_back() -> None:
    name = "Marie-Éléonore de La Rochefoucauld-Montmorency-Laval " * 2
    message = parse(factory().draft(Mailbox(name, "marie@alpha.org"), "x", "y"))
    assert message["To"].addresses[0].display_name == " ".join(name.split())


def test_crlf_and_x_unsent_draft_layout() -> None:
    data = factory().draft(Mailbox("Anne Aubert", "anne@alpha.org"), "Réunion", "Bonjour\n")
    assert b"\r\nX-Unsent: 1\r\n" in data
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data.startswith(
        b"From: Camille Laurent <camille@convergences.example.org>\r\nReply-To: "
    )


# -- calendar times ---------------------------------------------------------------------

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("day", "moment", "message"),
    [
        (dt.date(2020, 3, 29), dt.time(2, 30), "n'existe pas"),
        (dt.date(2020, 10, 25), dt.time(2, 30), "existe deux fois"),
    ],
    ids=["gap", "fold"],
)
def test_clock_change_times_are_errors(day: dt.date, moment: dt.time, message: str) -> None:
    with pytest.raises(ics.MeetingTimeError, match=message):
        ics.localise(day, moment, PARIS, "Réunions!E2")


def test_calendar_publish_with_vtimezone_and_stable_uid() -> None:
    meeting = Meeting(
        "R-2020-AI-1",
        "Réunion",
        dt.date(2020, 1, 14),
        "AI",
        dt.time(9, 30),
        None,
        "Salle",
        "1 rue A",
    )
    start, end = ics.meeting_span(meeting, "Europe/Paris")
    assert end - start == dt.timedelta(hours=2)
    event = ics.CalendarEvent(
        ics.uid_for(meeting.id, "convergences.example.org"),
        3,
        "GT AI — réunion",
        start,
        end,
        "Salle, 1 rue A",
        "Thème\nlien",
        "https://meet.example.org/x",
    )
    calendar = icalendar.Calendar.from_ical(ics.calendar_bytes(event, "Europe/Paris", STAMP))
    assert calendar["METHOD"] == "PUBLISH"
    (vevent,) = calendar.walk("VEVENT")
    assert vevent["UID"] == "r-2020-ai-1.gt-registry@convergences.example.org"
    assert vevent["SEQUENCE"] == 3
    assert vevent.decoded("DTSTART") == dt.datetime(2020, 1, 14, 9, 30, tzinfo=PARIS)
    assert str(vevent["DESCRIPTION"]) == "Thème\nlien"
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/Paris"


def test_meeting_without_start_is_all_day() -> None:
    meeting = Meeting("R", "Soirée", dt.date(2020, 6, 25))
    assert ics.meeting_span(meeting, "Europe/Paris") == (dt.date(2020, 6, 25), dt.date(2020, 6, 26))


# -- dates in words ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", "mardi 14 janvier 2020, de 9 h 30 à 11 h 30"),
        ("en", "Tuesday 14 January 2020, from 09:30 to 11:30"),
        ("es", "martes 14 de enero de 2020, de 9:30 a 11:30"),
        ("pt", "terça-feira, 14 de janeiro de 2020, das 9h30 às 11h30"),
    ],
    ids=["fr", "en", "es", "pt"],
)
def test_when_text(language: str, expected: str) -> None:
    assert (
        i18n.when_text(dt.date(2020, 1, 14), dt.time(9, 30), dt.time(11, 30), language) == expected
    )


def test_french_hours_on_the_hour() -> None:
    assert (
        i18n.when_text(dt.date(2020, 6, 25), dt.time(18, 0), dt.time(21, 0), "fr")
        == "jeudi 25 juin 2020, de 18 h à 21 h"
    )
    assert (
        i18n.when_text(dt.date(2020, 6, 25), dt.time(18, 30), None, "fr")
        == "jeudi 25 juin 2020, à 18 h 30"
    )


# -- Journal detail and file names ------------------------------------------------------


@given(
    st.sets(
        st.one_of(
            st.integers(1, 60).map(lambda n: f"P-{n:04d}"),
            st.text(min_size=1, max_size=8).filter(lambda s: s.strip() == s and "," not in s),
        )
    )
)
def test_person_ids_compress_and_expand_back(ids: set[str]) -> None:
    text = compress_ids(ids)
    assert "; " not in text
    assert expand_ids(text) == ids


def test_compressed_ids_are_readable() -> None:
    assert (
        compress_ids(["P-0001", "P-0002", "P-0003", "P-0005", "ORG-X"])
        == "ORG-X,P-0001..P-0003,P-0005"
    )


def test_file_names_are_stable_readable_and_unique() -> None:
    people = [
        Person("P-0042", "Aïcha", "N'Diaye", "a@x.fr", "O"),
        Person("P/0042", "Aïcha", "N'Diaye", "b@x.fr", "O"),
    ]
    assert file_names(people) == {
        "P-0042": "P-0042-ndiaye-aicha.eml",
        "P/0042": "P-0042-ndiaye-aicha-2.eml",
    }
