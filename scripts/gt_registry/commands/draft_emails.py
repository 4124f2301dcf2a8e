"""`gt draft-emails TEMPLATE`: drafts of the other mailings (active members, call for hosts)."""

from __future__ import annotations

from pathlib import Path

import click

from .. import drafting
from ..composer import MEETING_KINDS
from .common import (
    GtCommand,
    check_gmail,
    dry_run_option,
    echo_drafted,
    echo_warnings,
    gmail_options,
    gmail_target,
    progress,
    read_registry,
    registry_options,
    session,
)
from .outputs import check_output_options


@click.command(cls=GtCommand)
@registry_options
@click.argument("template", metavar="MODELE")
@click.option(
    "--group",
    "group_code",
    metavar="CODE",
    help="Seulement les membres de ce groupe (expéditeur : son référent).",
)
@click.option(
    "--active",
    is_flag=True,
    help="Seulement les membres actifs de la saison (implicite pour membre-actif).",
)
@click.option(
    "--to-hosts",
    is_flag=True,
    help="Les contacts des organisations qui offrent une salle et n'ont pas accueilli de réunion cette saison (implicite pour appel-hotes).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Dossier des brouillons (défaut : brouillons/<MODELE>/).",
)
@click.option(
    "--mbox",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Écrire aussi les messages dans un fichier mbox.",
)
@click.option(
    "--only-new",
    is_flag=True,
    help="Seulement les personnes pas encore rédigées pour cet envoi cette saison (d'après le "
    "Journal) : pour membre-actif, les membres devenus actifs depuis le dernier avis.",
)
@gmail_options
@dry_run_option
@click.option(
    "--force",
    is_flag=True,
    help="Remplacer les brouillons que l'outil a écrits pour cet envoi (les autres fichiers "
    "du dossier restent) ou un mbox existant.",
)
@click.pass_context
def draft_emails(
    ctx: click.Context,
    template: str,
    group_code: str | None,
    active: bool,
    to_hosts: bool,
    out: Path | None,
    mbox: Path | None,
    only_new: bool,
    gmail: bool,
    gmail_user: str | None,
    dry_run: bool,
    force: bool,
) -> None:
    """Rédiger un envoi hors réunion : un brouillon .eml par personne, depuis un modèle.

    MODELE est le nom d'un modèle de templates/emails/ : « membre-actif » (avis aux
    membres actifs : entrée offerte au Forum Mondial Convergences ; implique --active) ou
    « appel-hotes » (appel aux organisations qui offrent une salle et n'ont pas encore
    accueilli de réunion cette saison ; implique --to-hosts). Sans option : tous les membres
    d'un groupe. Jamais une personne désinscrite ; une adresse invalide est listée avec sa
    cellule. L'envoi est noté dans l'onglet Journal. Avec --gmail, les brouillons sont créés
    dans Gmail (Gmail → Brouillons) et notés dans l'onglet Brouillons, sans doublon à la relance.

    \b
    Exemples :
      gt --as-of 2020-06-15 draft-emails membre-actif --dry-run
      gt draft-emails appel-hotes --mbox appel.mbox
      gt draft-emails membre-actif --group FI
      gt draft-emails membre-actif --only-new
      gt draft-emails membre-actif --gmail
    """
    if template in MEETING_KINDS:
        raise click.BadParameter(
            f"« {template} » est un modèle d'invitation à une réunion : "
            f"utilisez « gt draft-invitations ID_DE_LA_REUNION »",
            param_hint="MODELE",
        )
    check_gmail(ctx, gmail or bool(gmail_user), out=out, mbox=mbox, only_new=only_new)
    run = session(ctx)
    # The lock, from the read to the write (released when the command ends).
    ctx.with_resource(run.writing(lambda text: click.echo(text, err=True), dry_run=dry_run))
    if not dry_run and not (gmail or gmail_user):
        check_output_options(ctx, run, folder=out, file=mbox, file_option="--mbox", force=force)
    result = drafting.draft_emails(
        run,
        read_registry(run),
        template,
        group_code=group_code,
        active=active,
        to_hosts=to_hosts,
        out=out,
        mbox=mbox,
        only_new=only_new,
        dry_run=dry_run,
        force=force,
        progress=progress,
        composed=echo_warnings,
        gmail=gmail_target(gmail, gmail_user, force),
    )
    echo_drafted(ctx, result)
