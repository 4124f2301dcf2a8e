"""`gt logout`: the stored login removed and revoked at Google."""

from __future__ import annotations

import click

from .. import auth
from .common import GtCommand, registry_options


@click.command(cls=GtCommand)
@registry_options
def logout() -> None:
    """Se déconnecter : supprimer les identifiants de « gt login » et les révoquer chez Google.

    Les fichiers passés par --credentials ou GOOGLE_APPLICATION_CREDENTIALS ne sont pas
    touchés. Sans accès au réseau, le fichier est supprimé quand même ; l'autorisation peut
    alors être retirée à la main sur https://myaccount.google.com/permissions.
    """
    path, existed, revoked = auth.logout()
    if not existed:
        click.echo(f"Aucune connexion enregistrée ({path}) : rien à faire.", err=True)
        return
    click.secho(f"Identifiants supprimés ({path}).", fg="green", err=True)
    if revoked:
        click.echo("Autorisation révoquée chez Google.", err=True)
    else:
        click.secho(
            "Google n'a pas pu être joint pour révoquer l'autorisation : retirez « gt » sur "
            "https://myaccount.google.com/permissions.",
            fg="yellow",
            err=True,
        )
