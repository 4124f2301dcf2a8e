"""`gt init`: create the registry's tabs and headers (and, with --demo, fictional data)."""

from __future__ import annotations

import click

from ..backends import InitReport
from ..demo import DemoSeasonType, demo_plan, demo_rows, next_step
from ..initplan import init_registry
from ..initplan import layout as layout  # re-exported: the tabs `gt init` makes
from .common import GtCommand, dry_run_option, registry_options, session


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
    # The lock, from the read to the write (released when the command ends).
    ctx.with_resource(run.writing(lambda text: click.echo(text, err=True), dry_run=dry_run))
    config = run.config
    demo = demo or demo_season is not None
    today = run.today if demo_season is None else run.settings.as_of  # named: its 15 June
    plan = demo_plan(config, demo_season, today)
    data = demo_rows(config, demo_season, today) if demo else None
    report = init_registry(run, data, force, dry_run)
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
    click.secho(f"Registre prêt : {where}.", fg="green")
    click.echo(f"Étape suivante : {next_step(config, plan) if demo else '« gt check »'}.")


def _echo_report(report: InitReport, prefix: str = "") -> None:
    for tab in report.created_tabs:
        click.echo(f"onglet {prefix}créé : {tab}")
    for tab, headers in report.added_headers.items():
        click.echo(f"{tab} : en-têtes {prefix}ajoutés : {', '.join(headers)}")
    for tab in report.filled_tabs:
        click.echo(f"{tab} : données de démonstration {prefix}écrites")
