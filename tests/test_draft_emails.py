"""`gt draft-emails`: the notice to active members and the call for meeting hosts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openpyxl
from click.testing import Result
from conftest import DEMO_TODAY
from gt_registry.config import Config
from gt_registry.eligibility import compute_eligibility, season_for
from test_draft_invitations import drafts_in, load, recipient

AS_OF = DEMO_TODAY.isoformat()
Run = Callable[..., Result]


def test_active_member_notice_goes_to_active_members_only(
    run_gt: Run, demo_xlsx: Path, config: Config, tmp_path: Path
) -> None:
    out = tmp_path / "actifs"
    result = run_gt(
        "--sheet", demo_xlsx, "--as-of", AS_OF, "draft-emails", "membre-actif", "--out", out
    )
    assert result.exit_code == 0, result.output
    registry = load(demo_xlsx, config)
    eligibility = compute_eligibility(registry, config, DEMO_TODAY)
    expected = {
        s.person.email
        for s in eligibility.active()
        if not s.person.opted_out and s.person.email_valid
    }
    drafts = drafts_in(out)
    assert {recipient(m) for m in drafts.values()} == expected
    some = next(
        m
        for m in drafts.values()
        if m["Subject"].startswith("Convergences — vous faites partie des membres actifs")
    )
    text = some.get_body(("plain",)).get_content()
    assert "entrée offerte pour le Forum Mondial Convergences" in text
    assert "saison 2019-2020" in text
    journal = list(openpyxl.load_workbook(demo_xlsx)["Journal"].iter_rows(values_only=True))
    assert journal[-1][1] == "draft-emails" and "modele=membre-actif" in journal[-1][5]


def test_group_option_restricts_and_signs_as_the_referent(
    run_gt: Run, demo_xlsx: Path, config: Config, tmp_path: Path
) -> None:
    out = tmp_path / "ai"
    result = run_gt(
        "--sheet",
        demo_xlsx,
        "--as-of",
        AS_OF,
        "draft-emails",
        "membre-actif",
        "--group",
        "ai",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    registry = load(demo_xlsx, config)
    members = {p.email for p in registry.members_of("AI")}
    drafts = drafts_in(out).values()
    assert drafts and {recipient(m) for m in drafts} <= members
    assert {m["From"].addresses[0].addr_spec for m in drafts} == {
        "camille.laurent@convergences.example.org"
    }


def test_call_for_hosts_goes_to_rooms_not_used_this_season(
    run_gt: Run, demo_xlsx: Path, config: Config, tmp_path: Path
) -> None:
    out = tmp_path / "hotes"
    result = run_gt(
        "--sheet", demo_xlsx, "--as-of", AS_OF, "draft-emails", "appel-hotes", "--out", out
    )
    assert result.exit_code == 0, result.output
    registry = load(demo_xlsx, config)
    season = season_for(DEMO_TODAY, 11, 6)
    hosted = {m.host_id for m in registry.meetings.values() if m.date and m.date in season}
    orgs = {o.id for o in registry.organisations.values() if o.has_room and o.id not in hosted}
    expected = {
        p.email
        for p in registry.people.values()
        if p.organisation_id in orgs and not p.opted_out and p.email_valid
    }
    assert {recipient(m) for m in drafts_in(out).values()} == expected
    for message in drafts_in(out).values():
        assert message["Subject"] in {
            "Convergences — accueillir une réunion des Groupes de travail ?",
            "Convergences — would you host a Working Group meeting?",
        }


def test_small_registry_active_notice(run_gt: Run, small_xlsx: Path, tmp_path: Path) -> None:
    out = tmp_path / "a"
    result = run_gt(
        "--sheet", small_xlsx, "--as-of", "2020-06-15", "draft-emails", "membre-actif", "--out", out
    )
    assert result.exit_code == 0, result.output
    # Anne (3 meetings) and Chloé (2) are active members of a group; Emma is active by
    # override, in no group: she is an active member all the same; Farid is inactive by
    # override; David opted out.
    drafts = {recipient(m): m for m in drafts_in(out).values()}
    assert set(drafts) == {"anne@alpha.org", "chloe@gamma.ma", "emma@beta.com"}
    text = drafts["anne@alpha.org"].get_body(("plain",)).get_content()
    assert "Vous avez participé à trois réunions" in text
    assert "GT Action internationale, 14 janvier 2020" in text


def test_dry_run_and_bad_input(run_gt: Run, small_xlsx: Path, tmp_path: Path) -> None:
    before = small_xlsx.read_bytes()
    dry = run_gt(
        "--sheet",
        small_xlsx,
        "--as-of",
        "2020-06-15",
        "draft-emails",
        "membre-actif",
        "--out",
        tmp_path / "x",
        "--dry-run",
    )
    assert dry.exit_code == 0, dry.output
    assert (
        "3 brouillons « membre-actif » seraient rédigés" in dry.stderr
        and not (tmp_path / "x").exists()
    )
    assert small_xlsx.read_bytes() == before
    nobody = run_gt(
        "--sheet",
        small_xlsx,
        "--as-of",
        "2020-06-15",
        "draft-emails",
        "appel-hotes",
        "--out",
        tmp_path / "x",
    )
    assert (
        nobody.exit_code == 1 and "aucun destinataire pour « appel-hotes »" in nobody.stderr
    )  # ORG-1 hosted
    group = run_gt(
        "--sheet",
        small_xlsx,
        "draft-emails",
        "membre-actif",
        "--group",
        "AII",
        "--out",
        tmp_path / "x",
    )
    assert (
        group.exit_code == 1 and "groupe inconnu « AII »" in group.stderr and "AI" in group.stderr
    )
    template = run_gt("--sheet", small_xlsx, "draft-emails", "membre-atif", "--out", tmp_path / "x")
    assert template.exit_code == 3 and "vouliez-vous dire membre-actif" in template.stderr
    assert not (tmp_path / "x").exists()
