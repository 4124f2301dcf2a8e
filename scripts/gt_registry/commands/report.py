"""`gt report`: the season at a glance, a printable page of charts and the figures behind them."""

from __future__ import annotations

from pathlib import Path

import click

from ..eligibility import Season
from ..report import build_report, publish
from .common import (
    GtCommand,
    echo_lines,
    exit_for,
    read_registry,
    registry_options,
    season_option,
    session,
)
from .outputs import check_output_options


@click.command(cls=GtCommand)
@registry_options
@season_option("La saison (ex. 2019-2020) ; défaut : la saison en cours à --as-of.")
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Fichier à écrire (défaut : rapport-SAISON.html ; avec --json : la sortie standard).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Les chiffres de chaque graphique en JSON, au lieu de la page.",
)
@click.option(
    "--csv",
    "csv_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Écrire aussi un CSV par tableau dans ce dossier (Excel en français : « ; », UTF-8 avec BOM).",
)
@click.option("--force", is_flag=True, help="Remplacer les fichiers qui existent déjà.")
@click.pass_context
def report(
    ctx: click.Context,
    season: Season | None,
    out: Path | None,
    as_json: bool,
    csv_dir: Path | None,
    force: bool,
) -> None:
    """Bilan de la saison : une page HTML autonome, imprimable en A4, de graphiques et de leurs chiffres.

    Chiffres clés, présence par réunion, groupes, types d'organisations, accueil des
    réunions, implication, saisons comparées, qualité des données. Mêmes règles que
    sync-eligibility (membres actifs dérogations comprises) ; lignes à problème ignorées et
    comptées. Ne modifie jamais le registre.

    \b
    Exemples :
      gt --as-of 2020-06-15 report --out rapport-2019-2020.html
      gt report --json > chiffres.json
      gt report --season 2019-2020 --csv tableaux/
    """
    run = session(ctx)
    check_output_options(ctx, run, folder=csv_dir, folder_option="--csv", file=out, force=force)
    loaded = read_registry(run)
    problems = loaded.result.problems
    figures = build_report(loaded.result.registry, run.config, run.today, problems, season)
    done = publish(figures, run.config, out=out, as_json=as_json, csv_dir=csv_dir, force=force)
    if done.stdout is not None:
        click.echo(done.stdout, nl=False)
    if problems:
        click.secho(
            f"{len(problems)} problème(s) dans le registre (lignes ignorées, comptées dans le rapport) : lancez « gt check ».",
            fg="yellow",
            err=True,
        )
    echo_lines(done.summary())
    ctx.exit(exit_for(problems))
