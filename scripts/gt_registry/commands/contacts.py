"""`gt contacts` (also `contact-lists`): contact lists, sign-in sheets and the directory."""

from __future__ import annotations

import inspect
from pathlib import Path

import click

from ..contacts import DEFAULT_FORMAT, FORMATS, Criteria, contact_list
from .common import (
    GtCommand,
    dry_run_option,
    echo_lines,
    echo_problems,
    exit_for,
    read_registry,
    registry_options,
    session,
    standalone,
)
from .outputs import check_output_options

FORMAT_HELP = "\n".join(f"  {f.name:<11} {f.description}" for f in FORMATS.values())


@click.command(cls=GtCommand, name="contacts")
@registry_options
@click.option(
    "--group",
    "-g",
    "groups",
    multiple=True,
    metavar="CODE",
    help="Membres de ce groupe (répétable : l'un ou l'autre).",
)
@click.option(
    "--active",
    is_flag=True,
    help="Seulement les membres actifs de la saison (règles de sync-eligibility).",
)
@click.option(
    "--type",
    "types",
    multiple=True,
    metavar="TYPE",
    help="Type d'organisation (répétable), ex. ONG, Entreprise.",
)
@click.option("--country", metavar="PAYS", help="Pays de l'organisation, ex. France.")
@click.option(
    "--meeting",
    "-m",
    metavar="ID",
    help="Les personnes invitées à cette réunion (requis pour emargement).",
)
@click.option(
    "--format",
    "-f",
    "format_name",
    type=click.Choice(list(FORMATS)),
    help=f"Format intégré (défaut : {DEFAULT_FORMAT}).",
)
@click.option(
    "--template",
    "-t",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Votre propre modèle Jinja (copie d'un modèle de templates/contacts/).",
)
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Fichier à écrire (défaut : la sortie standard).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Remplacer --out s'il existe déjà (un fichier ordinaire ; jamais le registre, la "
    "configuration ni un modèle).",
)
@click.option(
    "--sep",
    help="Séparateur : entre adresses pour emails (défaut « ; »), entre colonnes pour les CSV.",
)
@dry_run_option
@click.pass_context
def contacts(
    ctx: click.Context,
    groups: tuple[str, ...],
    active: bool,
    types: tuple[str, ...],
    country: str | None,
    meeting: str | None,
    format_name: str | None,
    template: Path | None,
    out: Path | None,
    force: bool,
    sep: str | None,
    dry_run: bool,
) -> None:
    """Listes de contacts, feuille d'émargement, annuaire — jamais les personnes désinscrites.

    Les critères se combinent (« et ») ; plusieurs --group ou --type sont des alternatives.
    Un résumé (combien de personnes écrites, combien laissées de côté et pourquoi) est
    affiché sur la sortie d'erreur. Sélection vide : message et code 1, aucun fichier.

    \b
    Formats (modèles Jinja de templates/contacts/, à copier et adapter avec --template) :
    {formats}

    \b
    Exemples :
      gt contacts --group AI --format vcard --out ai.vcf
      gt contacts --group AI --group FI --active --format emails
      gt contacts --format forum --out forum.csv
      gt contacts --meeting R-2020-AI-4 --format emargement --out emargement.html
      gt contacts --type ONG --country France --format annuaire --out annuaire.html
    """
    if format_name and template:
        raise click.UsageError("--format et --template s'excluent : choisissez l'un ou l'autre")
    run = session(ctx)
    templates = (template,) if template else ()
    if out is not None and not dry_run:
        check_output_options(ctx, run, file=out, force=force, extra=templates)
    loaded = read_registry(run)
    echo_problems(loaded.result.problems)
    result = contact_list(
        loaded.result.registry,
        run.config,
        run.today,
        Criteria(groups, active, types, country, meeting),
        format_name=format_name,
        custom=template,
        sep=sep,
        out=out,
        force=force,
        dry_run=dry_run,
    )
    if result.stdout is not None:
        click.echo(result.stdout, nl=False)  # bytes: written as they are, no re-encoding
    echo_lines(result.lines())
    ctx.exit(exit_for(loaded.result.problems))  # 1: written, but problems were listed above


contacts.help = inspect.cleandoc(contacts.help or "").replace("{formats}", FORMAT_HELP)
main = standalone(contacts)
