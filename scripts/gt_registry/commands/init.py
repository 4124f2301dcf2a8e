"""`gt init`: create the registry's tabs and headers (and, with --demo, fictional data)."""

from __future__ import annotations

import click

from .. import journal
from ..backends import InitReport, TabLayout
from ..config import Config
from ..demo import DemoSeasonType, demo_plan, demo_rows, next_step
from ..model import MEETING_TYPES, ORGANISATION_TYPES
from ..session import Session
from .common import GtCommand, dry_run_option, registry_options, session

YES_NO = ("oui", "non")


def layout(config: Config, group_codes: tuple[str, ...] = ()) -> list[TabLayout]:
    """Every tab with its headers and drop-down lists, staff tabs first."""
    choices: dict[str, dict[str, tuple[str, ...]]] = {
        "organisations": {
            "type": ORGANISATION_TYPES,
            "partner": YES_NO,
            "forum_coorganiser": YES_NO,
            "has_room": YES_NO,
        },
        "people": {
            "language": config.languages,
            "opted_out": YES_NO,
            "override": ("actif", "inactif"),
        },
        "meetings": {
            "type": MEETING_TYPES,
            "group": group_codes or (f"={config.tab('groups')}!$A$2:$A$200",),
        },
        "attendance": {"status": ("présent", "excusé", "absent")},
    }
    tabs = []
    for key, spec in config.staff_tabs.items():
        by_field = choices.get(key, {})
        headers = tuple(f.header for f in spec.fields)
        tab_choices = {spec.field(k).header: v for k, v in by_field.items()}
        tabs.append(TabLayout(spec.name, headers, tab_choices))
    for owned in config.owned_tabs.values():
        tabs.append(TabLayout(owned.name, owned.headers, {}, owned=True))
    return tabs


@click.command(cls=GtCommand)
@registry_options
@click.option(
    "--demo",
    is_flag=True,
    help="Remplir avec des données fictives : la saison en cours (réunions passées avec présences, réunions à venir).",
)
@click.option(
    "--demo-season",
    type=DemoSeasonType(),
    help="Avec --demo implicite : une saison nommée (2019-2020), arrêtée au 15 juin (ou à --as-of), identique à chaque fois.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Écraser un classeur existant (ou les données existantes avec --demo).",
)
@dry_run_option
@click.pass_context
def init(
    ctx: click.Context, demo: bool, demo_season: int | None, force: bool, dry_run: bool
) -> None:
    """Créer le registre : onglets, en-têtes, listes déroulantes.

    Pour un fichier .xlsx : un classeur neuf (ligne d'en-têtes figée, listes déroulantes
    pour Type, Groupe, Statut et les colonnes oui/non). Pour une feuille Google Sheets
    existante (partagée avec le compte de service) : ajoute les onglets et en-têtes qui
    manquent, et protège (avertissement seulement) les onglets écrits par l'outil.
    N'écrase jamais de données sans --force ; un registre déjà complet n'est pas touché.

    \b
    Exemples :
      gt init --demo            (crée registre-gt.xlsx, données fictives)
      gt --sheet registre.xlsx init
    """
    run = session(ctx)
    config = run.config
    demo = demo or demo_season is not None
    today = run.today if demo_season is None else run.settings.as_of  # named: its 15 June
    plan = demo_plan(config, demo_season, today)
    data = demo_rows(config, demo_season, today) if demo else None
    codes = tuple(str(r[0]) for r in data[config.tab("groups")][1:]) if data else ()
    report = run.backend.initialise(layout(config, codes), data, force, dry_run=dry_run)
    where = run.backend.description
    if dry_run:
        _echo_report(report, prefix="serait ")
        click.echo(f"Simulation (--dry-run) : rien n'a été écrit dans {where}.")
        return
    if not report.changed:
        click.echo(f"{where} : le registre est déjà complet, rien n'a été écrit.")
        if demo:
            click.echo(
                "Les données existantes ont été gardées : ajoutez --force pour les remplacer par la démo."
            )
        return
    _echo_report(report)
    _record(run, report)
    click.secho(f"Registre prêt : {where}.", fg="green")
    click.echo(f"Étape suivante : {next_step(config, plan) if demo else '« gt check »'}.")


def _record(run: Session, report: InitReport) -> None:
    """The contract's Journal row for a run that wrote something (one more read and write)."""
    snapshot = run.backend.read()
    tab = run.config.tab("journal")
    changes = "; ".join(
        part
        for part in (
            report.created_tabs and "onglets créés : " + ", ".join(report.created_tabs),
            report.added_headers and "en-têtes ajoutés : " + ", ".join(report.added_headers),
            report.filled_tabs and "données de démonstration : " + ", ".join(report.filled_tabs),
        )
        if part
    )
    entry = journal.JournalEntry(run.now, "init", run.backend.identity(), changes, "aucun")
    run.backend.write({tab: journal.append(snapshot.tabs.get(tab), entry)}, snapshot)


def _echo_report(report: InitReport, prefix: str = "") -> None:
    for tab in report.created_tabs:
        click.echo(f"onglet {prefix}créé : {tab}")
    for tab, headers in report.added_headers.items():
        click.echo(f"{tab} : en-têtes {prefix}ajoutés : {', '.join(headers)}")
    for tab in report.filled_tabs:
        click.echo(f"{tab} : données de démonstration {prefix}écrites")
