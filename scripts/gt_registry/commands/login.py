"""`gt login`: sign in to Google as oneself, once; the credentials stay in the user's folder."""

from __future__ import annotations

from pathlib import Path

import click

from .. import auth
from .common import GtCommand, registry_options, session


@click.command(cls=GtCommand)
@registry_options
@click.option(
    "--client-secrets",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Le fichier du client OAuth (Application de bureau) remis par l'administrateur "
    "(défaut : [google] client_secrets de gt.toml).",
)
@click.option(
    "--no-browser",
    is_flag=True,
    help="Ne pas ouvrir le navigateur : afficher l'adresse à ouvrir (sur cette machine).",
)
@click.pass_context
def login(ctx: click.Context, client_secrets: Path | None, no_browser: bool) -> None:
    """Se connecter à Google avec son propre compte (feuilles et brouillons Gmail).

    Ouvre la page de consentement de Google ; après « Autoriser », les identifiants sont
    enregistrés dans votre dossier de configuration (lisibles par vous seul), jamais dans
    le projet ni le registre. Accès demandés : Google Sheets et la rédaction de brouillons
    Gmail (gmail.compose), rien d'autre : ni Drive, ni la lecture de vos messages.

    \b
    Exemples :
      gt login --client-secrets client_secret.json
      gt login --no-browser
    """
    secrets = client_secrets or session(ctx).config.client_secrets
    path, identity = auth.login(secrets, open_browser=not no_browser)
    who = identity.account or "compte Google"
    click.secho(f"Connecté : {who}. Identifiants enregistrés dans {path}.", fg="green", err=True)
    click.echo("Étape suivante : gt --sheet URL draft-invitations ID --gmail", err=True)
