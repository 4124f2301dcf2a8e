"""`gt templates`: copies of the default templates and a commented gt.toml, to edit."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import DEFAULT_CONFIG_PATH
from ..starter import plan_starter, write_starter
from .common import GtCommand, dry_run_option, registry_options


@click.command(cls=GtCommand)
@registry_options
@click.argument(
    "folder", default="config", type=click.Path(file_okay=False, path_type=Path), metavar="DOSSIER"
)
@dry_run_option
def templates(folder: Path, dry_run: bool) -> None:
    """Copier les modèles par défaut et un gt.toml commenté dans DOSSIER, pour les modifier.

    Écrit DOSSIER/gt.toml (qui désigne DOSSIER/templates) et DOSSIER/templates/ (e-mails et
    listes de contacts). Un fichier déjà présent n'est jamais remplacé : relancer la commande
    ajoute seulement les modèles manquants. Un modèle supprimé de DOSSIER/templates reprend
    la version fournie avec l'outil. Avec DOSSIER = config (par défaut), la configuration
    ./config/gt.toml est lue d'office depuis le dossier courant.

    \b
    Exemples :
      gt templates                 crée ./config/gt.toml et ./config/templates/
      gt templates --dry-run       liste ce qui serait créé
      gt --config config/gt.toml draft-invitations R-2020-AI-4 --dry-run
    """
    plan = plan_starter(folder)
    if dry_run:
        for target, _data in plan.new:
            click.echo(f"à créer : {target}")
        click.echo(f"Simulation (--dry-run) : {plan.summary(written=False)} Rien n'a été écrit.")
        return
    write_starter(plan)
    click.echo(plan.summary(written=True))
    config = folder / "gt.toml"
    used = (
        "les commandes lancées depuis le dossier courant les utilisent d'office"
        if config == DEFAULT_CONFIG_PATH
        else f"donnez --config {config} (ou GT_CONFIG={config}) aux commandes"
    )
    click.echo(f"Étape suivante : modifiez les modèles de {folder / 'templates'} ; {used}.")
