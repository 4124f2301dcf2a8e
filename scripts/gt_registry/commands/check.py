"""`gt check`: read the registry and list every problem, each with its cell."""

from __future__ import annotations

import json

import click

from ..errors import EXIT_FAILED, EXIT_PROBLEMS
from .common import GtCommand, read_registry, registry_options, session


@click.command(cls=GtCommand)
@registry_options
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Sortie JSON : une liste d'objets {tab, row, column, cell, code, message, hint}.",
)
@click.pass_context
def check(ctx: click.Context, as_json: bool) -> None:
    """Vérifier le registre : un problème par ligne, chacun précédé de sa cellule.

    Lit le registre (une seule requête sur Google Sheets) et signale onglets ou en-têtes
    manquants, identifiants ou e-mails en double, adresses invalides, références inconnues
    (organisation, groupe, réunion, personne), dates et heures illisibles, présences à une
    réunion future, statuts non compris, caractères de contrôle. N'écrit jamais rien.

    \b
    Exemples :
      gt check
      gt check --json > problemes.json
    """
    run = session(ctx)
    loaded = read_registry(run, allow_fatal=True)
    result = loaded.result
    problems = result.fatal + result.problems
    if as_json:
        click.echo(json.dumps([p.as_dict() for p in problems], ensure_ascii=False, indent=2))
    else:
        for problem in problems:
            click.echo(str(problem))
        reg = result.registry
        summary = (
            f"{len(reg.organisations)} organisations, {len(reg.people)} personnes, {len(reg.groups)} groupes, "
            f"{len(reg.meetings)} réunions, {len(reg.attendance)} présences lues ({run.backend.description})."
        )
        if problems:
            click.secho(f"{len(problems)} problème(s) trouvé(s). {summary}", fg="yellow", err=True)
            click.echo(
                "Corrigez les cellules indiquées dans le tableur, puis relancez « gt check ».",
                err=True,
            )
        else:
            click.secho(f"Aucun problème. {summary}", fg="green", err=True)
    if result.fatal:
        ctx.exit(EXIT_FAILED)
    if problems:
        ctx.exit(EXIT_PROBLEMS)
