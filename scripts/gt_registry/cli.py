"""The `gt` command group: global options, one subcommand per module in `commands/`."""

from __future__ import annotations

import importlib
from gettext import gettext as _
from typing import Any

import click

from . import click_fr
from .commands.common import CONTEXT_SETTINGS, EXIT_CODES_HELP, guarded, registry_options

# Each command's module is imported only when that command runs (or for `--help`): a
# `gt check` does not pay for Babel, icalendar or the e-mail machinery.
COMMANDS = {
    "init": "init:init",
    "check": "check:check",
    "sync-eligibility": "sync_eligibility:sync_eligibility",
    "draft-invitations": "draft_invitations:draft_invitations",
    "draft-emails": "draft_emails:draft_emails",
    "contacts": "contacts:contacts",
    "templates": "templates:templates",
    "login": "login:login",
    "logout": "logout:logout",
    "whoami": "whoami:whoami",
    "report": "report:report",
}


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """`click.version_option`'s callback, the version looked up only when asked for."""
    if not value or ctx.resilient_parsing:
        return
    from . import __version__

    click.echo(_("%(prog)s, version %(version)s") % {"prog": "gt", "version": __version__})
    ctx.exit()


class GtGroup(click_fr.FrenchGroup):
    """The `gt` group: lazily loaded subcommands, project errors turned into exit codes."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(f"{__package__}.commands.{module}"), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        return guarded(ctx, lambda: super(GtGroup, self).invoke(ctx))


@click.group(cls=GtGroup, context_settings=CONTEXT_SETTINGS, epilog=EXIT_CODES_HELP)
@registry_options
@click.option(
    "-V",
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help=_("Show the version and exit."),
)
def gt() -> None:
    """Les groupes de travail (GT) pilotés depuis un seul tableur partagé.

    Le registre (organisations, personnes, groupes, réunions, présences) est un classeur
    .xlsx local ou une feuille Google Sheets ; les commandes le lisent et produisent
    l'éligibilité, les invitations et les listes de contacts.

    \b
    Exemples :
      gt init --demo                      créer un registre de démonstration
      gt check                            lister les problèmes de saisie
      gt sync-eligibility --dry-run       calculer l'éligibilité sans rien écrire
      gt --sheet https://docs.google.com/spreadsheets/d/CLE/edit check
    """


def main() -> None:
    click_fr.install()
    gt.main(prog_name="gt")
