"""`gt sync-eligibility` (also `sync-eligibility`): the weekly eligibility flags, written back."""

from __future__ import annotations

import click

from ..eligibility import Season
from ..sync import next_step, outcome_lines, plan_sync, summary_lines, write_back
from .common import (
    GtCommand,
    announce,
    dry_run_option,
    echo_problems,
    exit_for,
    read_registry,
    registry_options,
    season_option,
    session,
    standalone,
)

WRITING = "Écriture des onglets « Éligibilité », « Bilan organisations » et « Journal »"


@click.command("sync-eligibility", cls=GtCommand)
@registry_options
@dry_run_option
@season_option("La saison à calculer (ex. 2019-2020) ; défaut : la saison en cours à --as-of.")
@click.pass_context
def sync_eligibility(ctx: click.Context, dry_run: bool, season: Season | None) -> None:
    """Recalculer les membres actifs, les entrées FMC offertes et les rangs de priorité,
    puis réécrire les onglets « Éligibilité » et « Bilan organisations » (et ajouter une
    ligne au « Journal »).

    Une seule lecture et au plus une écriture (une requête chacune sur Google Sheets) ; si
    rien n'a changé depuis la dernière synchronisation, rien n'est écrit. Les onglets du
    personnel ne sont jamais modifiés. Les lignes à problème sont ignorées et signalées avec
    leur cellule ; tout le reste est calculé et écrit.

    \b
    Exemples :
      gt sync-eligibility --dry-run
      gt --as-of 2020-06-15 sync-eligibility
      sync-eligibility --season 2019-2020 --sheet registre.xlsx
    """
    run = session(ctx)
    # The lock, from the read to the write (released when the command ends).
    ctx.with_resource(run.writing(lambda text: click.echo(text, err=True), dry_run=dry_run))
    loaded = read_registry(run)
    registry, problems = loaded.result.registry, loaded.result.problems
    plan = plan_sync(registry, run.config, run.today, season)
    for line in summary_lines(plan):
        click.echo(line)
    if plan.changed and not dry_run:
        with announce(WRITING):
            write_back(run.backend, plan, loaded.snapshot, registry, run.config, problems, run.now)
    for line in outcome_lines(plan, run.config, dry_run=dry_run):
        click.echo(line)
    echo_problems(problems)
    click.echo(next_step(problems, dry_run))
    ctx.exit(exit_for(problems))


main = standalone(sync_eligibility)
