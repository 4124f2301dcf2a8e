"""What the tool writes, read as its recipients read it: no English in French, a
`Content-Language` on every draft, updates that say what changed, es/pt in es/pt."""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest
from click.testing import Result
from conftest import DEMO_TODAY
from gt_registry import i18n
from gt_registry.config import Config
from gt_registry.mail import parse
from test_draft_invitations import load

AS_OF = DEMO_TODAY.isoformat()
Run = Callable[..., Result]

MEETINGS = ["R-2019-LANC", "R-2020-AI-4", "R-2020-PDMI-3", "R-2020-SOIREE", "R-2020-FI-2"]
MAILINGS = ["membre-actif", "appel-hotes"]
# English words that French never uses; names in the demo (Web Transition TV, (IM)PROVE…)
# are none of these.
ENGLISH = re.compile(
    r"\b(the|and|of|with|from|please|dear|thanks?|you|your|our|we|will|meeting|meetings|"
    r"venue|attached|update|free|pass|networking|breakfast|evening|launch|working|season|"
    r"calendar|reply|looking|forward|remotely)\b",
    re.IGNORECASE,
)
WEB = re.compile(r"\S+@\S+|https?://\S+")


def texts(message: EmailMessage) -> list[str]:
    """The subject and every text part (plain and HTML, tags removed)."""
    out = [str(message["Subject"])]
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            out.append(part.get_content())
        elif part.get_content_type() == "text/html":
            out.append(re.sub(r"<[^>]+>", " ", part.get_content()))
    return out


def plain(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def english_in(text: str) -> list[str]:
    return ENGLISH.findall(WEB.sub(" ", text))


def drafts(folder: Path) -> list[EmailMessage]:
    return [parse(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


def draft_all(run_gt: Run, sheet: Path, out: Path) -> dict[str, list[EmailMessage]]:
    """Every meeting type and every mailing of the demo, drafted into `out`."""
    made = {}
    for meeting in MEETINGS:
        result = run_gt(
            "--sheet", sheet, "--as-of", AS_OF, "draft-invitations", meeting,
            "--out", out / meeting, "--force",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        made[meeting] = drafts(out / meeting)
    for mailing in MAILINGS:
        result = run_gt(
            "--sheet", sheet, "--as-of", AS_OF, "draft-emails", mailing, "--out", out / mailing
        )
        assert result.exit_code == 0, result.output
        made[mailing] = drafts(out / mailing)
    return made


def test_no_english_in_any_french_draft_or_page(
    run_gt: Run, demo_xlsx: Path, tmp_path: Path
) -> None:
    made = draft_all(run_gt, demo_xlsx, tmp_path)
    for kind, messages in made.items():
        french = [m for m in messages if m["Content-Language"] == "fr"]
        assert french, kind
        for message in french:
            for text in texts(message):
                assert not english_in(text), (kind, english_in(text), text)
    pages = {
        "annuaire": ("--format", "annuaire"),
        "emargement": ("--format", "emargement", "--meeting", "R-2020-AI-4"),
    }
    for name, args in pages.items():
        out = tmp_path / f"{name}.html"
        result = run_gt("--sheet", demo_xlsx, "--as-of", AS_OF, "contacts", *args, "--out", out)
        assert result.exit_code == 0, result.output
        page = re.sub(r"<style>.*?</style>|<[^>]+>", " ", out.read_text("utf-8"), flags=re.S)
        assert not english_in(page), (name, english_in(page))


def test_every_draft_parses_and_says_its_language(
    run_gt: Run, demo_xlsx: Path, config: Config, tmp_path: Path
) -> None:
    registry = load(demo_xlsx, config)
    made = draft_all(run_gt, demo_xlsx, tmp_path)
    seen: set[str] = set()
    for kind, messages in made.items():
        for message in messages:
            assert not message.defects, kind
            (address,) = message["To"].addresses
            person = next(p for p in registry.people.values() if p.email == address.addr_spec)
            assert message["Content-Language"] == person.language, (kind, person.id)
            seen.add(person.language)
            body = plain(message)
            assert "Convergences — Groupes de travail\nConvergences" not in body  # one signature
            assert "{{" not in body and "None" not in body
    assert seen == {"fr", "en", "es", "pt"}


@pytest.mark.parametrize(
    ("language", "subject", "day"),
    [
        ("es", "GT Action internationale — reunión del martes 8 de septiembre de 2020", "martes 8 de septiembre de 2020, de 9:30 a 11:30"),
        ("pt", "GT Action internationale — reunião de terça-feira, 8 de setembro de 2020", "terça-feira, 8 de setembro de 2020, das 9h30 às 11h30"),
    ],
    ids=["es", "pt"],
)  # fmt: skip
def test_spanish_and_portuguese_readers_get_their_language(
    run_gt: Run, demo_xlsx: Path, tmp_path: Path, language: str, subject: str, day: str
) -> None:
    out = tmp_path / "ai4"
    result = run_gt(
        "--sheet", demo_xlsx, "--as-of", AS_OF, "draft-invitations", "R-2020-AI-4", "--out", out
    )
    assert result.exit_code == 0, result.output
    mine = [m for m in drafts(out) if m["Content-Language"] == language]
    assert mine
    for message in mine:
        assert message["Subject"] == subject
        assert day in plain(message)
        assert f'<html lang="{language}">' in message.get_body(("html",)).get_content()
    assert "Sin " not in result.stderr  # nobody fell back: every language has its templates
    assert "français à la place" not in result.stderr


def move_meeting(sheet: Path, meeting_id: str, **cells: str) -> None:
    """Change a meeting's cells (by header) in the workbook, as staff would."""
    book = openpyxl.load_workbook(sheet)
    tab = book["Réunions"]
    headers = [c.value for c in tab[1]]
    for row in tab.iter_rows(min_row=2):
        if row[0].value == meeting_id:
            for header, value in cells.items():
                row[headers.index(header)].value = value
    book.save(sheet)


UPDATES = {
    "fr": (
        "Mise à jour : GT Action internationale — réunion du mardi 15 septembre 2020",
        "La réunion du mardi 8 septembre est déplacée au mardi 15 septembre 2020, à la même heure (de 9 h 30 à 11 h 30).",
    ),
    "en": (
        "Update: GT Action internationale — meeting on Tuesday 15 September 2020",
        "The meeting on Tuesday 8 September has been moved to Tuesday 15 September 2020, at the same time (from 09:30 to 11:30).",
    ),
    "es": (
        "Actualización: GT Action internationale — reunión del martes 15 de septiembre de 2020",
        "La reunión del martes 8 de septiembre se traslada al martes 15 de septiembre de 2020, a la misma hora (de 9:30 a 11:30).",
    ),
    "pt": (
        "Atualização: GT Action internationale — reunião de terça-feira, 15 de setembro de 2020",
        "A reunião de terça-feira, 8 de setembro, passa para terça-feira, 15 de setembro de 2020, no mesmo horário (das 9h30 às 11h30).",
    ),
}


def test_an_update_says_so_in_its_subject_and_first_paragraph(
    run_gt: Run, demo_xlsx: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ai4"
    args = ("--sheet", demo_xlsx, "--as-of", AS_OF, "draft-invitations", "R-2020-AI-4")
    first = run_gt(*args, "--out", out)
    assert first.exit_code == 0, first.output
    assert not any(str(m["Subject"]).startswith("Mise à jour") for m in drafts(out))
    move_meeting(demo_xlsx, "R-2020-AI-4", Date="15/09/2020")
    again = run_gt(*args, "--out", out, "--force")
    assert again.exit_code == 0, again.output
    by_language: dict[str, list[EmailMessage]] = {}
    for message in drafts(out):
        by_language.setdefault(str(message["Content-Language"]), []).append(message)
    assert set(by_language) == set(UPDATES)
    for language, (subject, sentence) in UPDATES.items():
        for message in by_language[language]:
            assert message["Subject"] == subject
            body = plain(message)
            first_paragraph = body.split("\n\n")[1]
            assert first_paragraph == sentence, (language, body)
            assert sentence in message.get_body(("html",)).get_content()
    # the Journal keeps, readably, what the next update needs to know
    journal = list(openpyxl.load_workbook(demo_xlsx)["Journal"].iter_rows(values_only=True))
    detail = str(journal[-1][5])
    assert "date=2020-09-15; horaire=09:30-11:30; lieu=Salle du Conseil" in detail
    # drafted again without a change since: still the update (the people got the old date)
    third = run_gt(*args, "--out", out, "--force")
    assert third.exit_code == 0, third.output
    assert all(
        str(m["Subject"]).startswith(UPDATES[str(m["Content-Language"])][0][:6])
        for m in drafts(out)
    )


def test_a_new_time_and_a_new_place_are_both_named(
    run_gt: Run, demo_xlsx: Path, tmp_path: Path
) -> None:
    args = ("--sheet", demo_xlsx, "--as-of", AS_OF, "draft-invitations", "R-2020-AI-4")
    assert run_gt(*args, "--out", tmp_path / "a").exit_code == 0
    move_meeting(demo_xlsx, "R-2020-AI-4", Début="10h", Fin="12h", Lieu="Espace Agora")
    result = run_gt(*args, "--out", tmp_path / "a", "--force")
    assert result.exit_code == 0, result.output
    french = next(m for m in drafts(tmp_path / "a") if m["Content-Language"] == "fr")
    paragraph = plain(french).split("\n\n")[1]
    assert paragraph == (
        "La réunion du mardi 8 septembre aura lieu de 10 h à 12 h (et non plus de 9 h 30 à "
        "11 h 30). Nouveau lieu : Espace Agora, 22 avenue Jean-Jaurès, Montreuil (précédemment : "
        "Salle du Conseil, 22 avenue Jean-Jaurès, Montreuil)."
    )


def test_lists_are_written_as_lists() -> None:
    assert i18n.list_text("Avise ; (IM)PROVE", "fr") == "Avise et (IM)PROVE"
    assert i18n.list_text("Avise;(IM)PROVE; Convergences", "en") == (
        "Avise, (IM)PROVE and Convergences"  # British: no serial comma
    )
    assert i18n.list_text("Avise ; (IM)PROVE", "es") == "Avise y (IM)PROVE"
    assert i18n.list_text("Avise ; (IM)PROVE", "pt") == "Avise e (IM)PROVE"
    assert i18n.list_text("", "fr") == ""


def test_the_launch_names_the_season_from_the_first_to_the_last_day(
    run_gt: Run, demo_xlsx: Path, tmp_path: Path
) -> None:
    made = draft_all(run_gt, demo_xlsx, tmp_path)
    french = next(m for m in made["R-2019-LANC"] if m["Content-Language"] == "fr")
    body = plain(french)
    assert "du 1er novembre 2019 au 30 juin 2020 :" in body
    assert "Au programme : « Bilan du Forum Mondial 2019" in body
    portuguese = next(m for m in made["R-2019-LANC"] if m["Content-Language"] == "pt")
    assert "de 1º de novembro de 2019 a 30 de junho de 2020:" in (plain(portuguese))
    assert plain(portuguese).rstrip().endswith("\n\nConvergences — Grupos de Trabalho")
    breakfast = next(m for m in made["R-2020-PDMI-3"] if m["Content-Language"] == "fr")
    assert "Co-animation du cycle : Avise et (IM)PROVE." in (plain(breakfast))
    hosts = next(m for m in made["appel-hotes"] if m["Content-Language"] == "fr")
    assert re.search(
        r"Vous nous avez indiqué pouvoir mettre une salle à disposition \([^)]+\)\.",
        plain(hosts),
    )


def test_only_new_invitations_name_the_new_files(
    run_gt: Run, small_xlsx: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ai"
    args = ("--sheet", small_xlsx, "--as-of", "2020-01-02", "draft-invitations", "R-AI-1")
    assert run_gt(*args, "--out", out).exit_code == 0
    book = openpyxl.load_workbook(small_xlsx)
    book["Personnes"].append(["P-7", "Gaëlle", "Gomez", "gaelle@alpha.org", "ORG-1", "AI", "fr"])
    book.save(small_xlsx)
    again = run_gt(*args, "--out", out, "--only-new")
    assert again.exit_code == 0, again.output
    assert "Nouveaux brouillons : P-7-gomez-gaelle.eml." in again.stderr
    assert len(list(out.glob("*.eml"))) == 4


def test_only_new_notice_goes_to_the_members_active_since_the_last_one(
    run_gt: Run, small_xlsx: Path, tmp_path: Path
) -> None:
    out = tmp_path / "actifs"
    args = ("--sheet", small_xlsx, "--as-of", "2020-06-15", "draft-emails", "membre-actif")
    first = run_gt(*args, "--out", out)
    assert first.exit_code == 0, first.output
    assert len(list(out.glob("*.eml"))) == 3  # Anne, Chloé, Emma
    book = openpyxl.load_workbook(small_xlsx)
    book["Présences"].append(["R-FI-1", "P-2", "présent", ""])  # Bruno: a second meeting
    book.save(small_xlsx)
    again = run_gt(*args, "--out", out, "--only-new")
    assert again.exit_code == 0, again.output
    assert "1 brouillon « membre-actif » rédigé" in again.stderr
    assert "Nouveaux brouillons : P-2-bellec-bruno.eml." in again.stderr
    assert "3 déjà rédigés pour cet envoi (--only-new)" in again.stderr
    assert len(list(out.glob("*.eml"))) == 4
    third = run_gt(*args, "--out", out, "--only-new")
    assert third.exit_code == 0, third.output
    assert (
        "0 brouillon « membre-actif » rédigé" in third.stderr and "rien à envoyer" in third.stderr
    )
    assert len(list(out.glob("*.eml"))) == 4


def test_a_language_without_template_falls_back_to_french_and_says_who(
    run_gt: Run, small_xlsx: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "tpl" / "emails"
    folder.mkdir(parents=True)
    (folder / "voeux.fr.eml.j2").write_text(
        "Subject: Meilleurs vœux\n\nBonjour {{ person.first_name }},\n", encoding="utf-8"
    )
    config = tmp_path / "gt.toml"
    config.write_text(f'[paths]\ntemplates = "{(tmp_path / "tpl").as_posix()}"\n', "utf-8")
    out = tmp_path / "voeux"
    result = run_gt(
        "--config", config, "--sheet", small_xlsx, "--as-of", "2020-06-15",
        "draft-emails", "voeux", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 brouillon(s) en « fr » faute de modèle dans la langue de la personne : " in (
        result.stderr
    )
    assert "Bruno Bellec (P-2, en)" in result.stderr
    bruno = next(m for m in drafts(out) if "bruno" in str(m["To"]))
    assert bruno["Content-Language"] == "fr"


def test_a_past_meeting_hints_at_as_of_and_force(run_gt: Run, demo_xlsx: Path) -> None:
    result = run_gt("--sheet", demo_xlsx, "--as-of", AS_OF, "draft-invitations", "R-2020-AI-1")
    assert result.exit_code == 1
    assert "a eu lieu le 14/01/2020" in result.stderr
    assert "gt --as-of 2020-01-07 draft-invitations R-2020-AI-1" in result.stderr
    assert "--force" in result.stderr


def test_an_unreadable_date_is_reported_as_unreadable_with_its_cell(
    run_gt: Run, demo_xlsx: Path, tmp_path: Path
) -> None:
    move_meeting(demo_xlsx, "R-2020-AI-4", Date="31/09/2020")
    result = run_gt(
        "--sheet", demo_xlsx, "--as-of", AS_OF, "draft-invitations", "R-2020-AI-4",
        "--out", tmp_path / "x",
    )  # fmt: skip
    assert result.exit_code == 3
    assert "Réunions!D16 : la date de la réunion R-2020-AI-4 est illisible « 31/09/2020 »" in (
        result.stderr
    )
    assert "n'a pas de date" not in result.stderr
    assert "\n  → écrivez une date qui existe" in result.stderr


@pytest.mark.parametrize(
    ("header", "typed", "cell"),
    [("Début", "9.30", "E16"), ("Fin", "onze heures", "F16")],
    ids=["start", "end"],
)
def test_an_unreadable_time_stops_the_drafting_with_its_cell(
    run_gt: Run, demo_xlsx: Path, tmp_path: Path, header: str, typed: str, cell: str
) -> None:
    """Staff typed a time the tool cannot read: the invitations must not go out without it
    (an all-day calendar entry), as they do not without a readable date."""
    move_meeting(demo_xlsx, "R-2020-AI-4", **{header: typed})
    before = demo_xlsx.read_bytes()
    out = tmp_path / "x"
    result = run_gt(
        "--sheet", demo_xlsx, "--as-of", AS_OF, "draft-invitations", "R-2020-AI-4", "--out", out
    )
    assert result.exit_code == 3, result.output
    assert (
        f"Réunions!{cell} : l'heure de {header.lower()} de la réunion R-2020-AI-4 est illisible « {typed} »"
        in (result.stderr)
    )
    assert "\n  → écrivez l'heure comme 9h30 ou 09:30" in result.stderr
    assert not out.exists() and demo_xlsx.read_bytes() == before


def test_every_error_line_is_followed_by_what_to_do(
    run_gt: Run, small_xlsx: Path, tmp_path: Path
) -> None:
    config = tmp_path / "gt.toml"
    config.write_text('[mail]\ndefault_language = "de"\n', encoding="utf-8")
    result = run_gt("--config", config, "--sheet", small_xlsx, "check", debug=False)
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    (at,) = [i for i, line in enumerate(lines) if line.startswith("Erreur : ")]
    assert lines[at + 1].startswith("  → corrigez le fichier de configuration")


def test_plurals_are_written_for_the_count() -> None:
    assert i18n.plural(0, "brouillon rédigé", "brouillons rédigés") == "0 brouillon rédigé"
    assert i18n.plural(1, "brouillon rédigé", "brouillons rédigés") == "1 brouillon rédigé"
    assert i18n.plural(42, "brouillon rédigé", "brouillons rédigés") == "42 brouillons rédigés"


def test_french_texts_keep_ordinary_spaces(run_gt: Run, demo_xlsx: Path, tmp_path: Path) -> None:
    """No no-break spaces: drafts, console messages and help are written with ordinary spaces,
    as the texts quoted elsewhere (« de 9 h 30 à 11 h 30 », « Erreur : ») are matched."""
    made = draft_all(run_gt, demo_xlsx, tmp_path)
    for kind, messages in made.items():
        for message in (m for m in messages if m["Content-Language"] == "fr"):
            for text in texts(message):
                assert "\u00a0" not in text and "\u202f" not in text, kind
    assert "mardi 8 septembre 2020, de 9 h 30 à 11 h 30" in plain(
        next(m for m in made["R-2020-AI-4"] if m["Content-Language"] == "fr")
    )
    unknown = run_gt("--sheet", demo_xlsx, "--as-of", AS_OF, "draft-invitations", "R-2020-NOPE")
    assert "Erreur : réunion inconnue « R-2020-NOPE »" in unknown.stderr
    for args in (("draft-invitations", "R-2020-AI-4", "--dry-run"), ("--help",), ("check",)):
        result = run_gt("--sheet", demo_xlsx, "--as-of", AS_OF, *args)
        assert "\u00a0" not in result.output and "\u202f" not in result.output, args
