"""`gt whoami`: which Google account and scopes the commands would use."""

from __future__ import annotations

import click

from .. import auth
from .common import GtCommand, registry_options, settings


@click.command(cls=GtCommand)
@registry_options
@click.pass_context
def whoami(ctx: click.Context) -> None:
    """Dire quels identifiants Google sont utilisés : d'où ils viennent, le compte, les accès.

    Ordre de recherche : --credentials > GOOGLE_APPLICATION_CREDENTIALS > « gt login » >
    Application Default Credentials. N'affiche jamais de jeton ni de secret.
    """
    identity = auth.whoami(settings(ctx).credentials)
    click.echo(f"Identifiants : {identity.origin}")
    click.echo(f"Type : {identity.kind}")
    click.echo(f"Compte : {identity.account or 'inconnu'}")
    scopes = ", ".join(s.rsplit("/", 1)[-1] for s in identity.scopes) or "inconnus"
    click.echo(f"Accès : {scopes}")
