"""`gt report`: the season at a glance, a printable page of charts and the figures behind them."""

from __future__ import annotations

from pathlib import Path

import click

from ..eligibility import parse_season
from ..errors import ConfigError
from ..report import build_report, publish
from .common import GtCommand, exit_for, read_registry, registry_options, session


@click.command(cls=GtCommand)
@registry_options
@click.option(
    "--season",
    metavar="AAAA-AAAA",
    help="La saison (ex. 2019-2020) ; défaut : la saison en cours à --as-of.",
)
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
    season: str | None,
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
    try:
        chosen = (
            parse_season(season, run.config.season_first_month, run.config.season_last_month)
            if season
            else None
        )
    except ConfigError as err:
        raise click.BadParameter(str(err), param_hint="--season") from err
    loaded = read_registry(run)
    problems = loaded.result.problems
    figures = build_report(loaded.result.registry, run.config, run.today, problems, chosen)
    done = publish(figures, run.config, out=out, as_json=as_json, csv_dir=csv_dir, force=force)
    if done.stdout is not None:
        click.echo(done.stdout, nl=False)
    if problems:
        click.secho(
            f"{len(problems)} problème(s) dans le registre (lignes ignorées, comptées dans le rapport) : lancez « gt check ».",
            fg="yellow",
            err=True,
        )
    files = [str(p) for p in done.written if csv_dir is None or p.parent != csv_dir]
    if done.written:
        shown = ", ".join(files + ([f"{csv_dir} (CSV)"] if csv_dir else []))
        click.secho(
            f"Bilan de la saison {figures.season.label} écrit : {shown}.", fg="green", err=True
        )
    ctx.exit(exit_for(problems))
