"""The `gt` command group: global options, one subcommand per module in `commands/`."""

from __future__ import annotations

from typing import Any

import click

from . import __version__
from .commands.check import check
from .commands.common import CONTEXT_SETTINGS, EXIT_CODES_HELP, guarded, registry_options
from .commands.init import init


class GtGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        return guarded(ctx, lambda: super(GtGroup, self).invoke(ctx))


@click.group(cls=GtGroup, context_settings=CONTEXT_SETTINGS, epilog=EXIT_CODES_HELP)
@registry_options
@click.version_option(__version__, "-V", "--version", prog_name="gt")
def gt() -> None:
    """Les groupes de travail (GT) pilotés depuis un seul tableur partagé.

    Le registre (organisations, personnes, groupes, réunions, présences) est un classeur
    .xlsx local ou une feuille Google Sheets ; les commandes le lisent et produisent
    l'éligibilité, les invitations et les listes de contacts.

    \b
    Exemples :
      gt init --demo                      créer un registre de démonstration
      gt check                            lister les problèmes de saisie
      gt --as-of 2020-06-15 sync-eligibility --dry-run
      gt --sheet https://docs.google.com/spreadsheets/d/CLE/edit check
    """


def _register() -> None:
    gt.add_command(init)
    gt.add_command(check)
    # Commands of later modules register themselves here when present.
    import importlib

    for module, name in (
        ("sync_eligibility", "sync_eligibility"),
        ("draft_invitations", "draft_invitations"),
        ("draft_emails", "draft_emails"),
        ("contacts", "contacts"),
    ):
        try:
            mod = importlib.import_module(f".commands.{module}", __package__)
        except ModuleNotFoundError as err:
            if err.name != f"{__package__}.commands.{module}":
                raise
            continue
        gt.add_command(getattr(mod, name))


_register()


def main() -> None:
    gt.main(prog_name="gt")
