"""`gt draft-invitations MEETING_ID`: one draft per invited person, with a calendar invitation."""

from __future__ import annotations

from pathlib import Path

import click

from .. import drafting
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
    standalone,
)
from .outputs import check_output_options


@click.command(cls=GtCommand)
@registry_options
@click.argument("meeting_id", metavar="ID_REUNION")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Dossier des brouillons (défaut : brouillons/<ID de la réunion>/).",
)
@click.option(
    "--mbox",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Écrire aussi les mêmes messages dans un fichier mbox (import Thunderbird, Apple Mail).",
)
@click.option(
    "--only-new",
    is_flag=True,
    help="Seulement les personnes entrées dans l'audience depuis la dernière rédaction (d'après le Journal).",
)
@gmail_options
@dry_run_option
@click.option(
    "--force",
    is_flag=True,
    help="Remplacer les brouillons que l'outil a écrits pour cette réunion (les autres fichiers "
    "du dossier restent) ou un mbox existant ; accepter une réunion passée.",
)
@click.pass_context
def draft_invitations(
    ctx: click.Context,
    meeting_id: str,
    out: Path | None,
    mbox: Path | None,
    only_new: bool,
    gmail: bool,
    gmail_user: str | None,
    dry_run: bool,
    force: bool,
) -> None:
    """Rédiger les invitations à une réunion : un brouillon .eml par personne, avec son .ics.

    Destinataires selon le type de réunion : membres du groupe (Réunion, Petit-déjeuner),
    membres de tous les groupes (Lancement), membres et contacts des partenaires et
    co-organisateurs du Forum (Soirée). Jamais une personne désinscrite ; une adresse absente
    ou invalide est listée avec sa cellule. Chaque brouillon a un seul destinataire, dans sa
    langue (français à défaut), porte X-Unsent: 1 (Outlook l'ouvre comme brouillon) et joint
    l'invitation calendrier (Europe/Paris, METHOD:PUBLISH, SEQUENCE relevé si la date, l'heure
    ou le lieu ont changé). La rédaction est notée dans l'onglet Journal.

    Avec --gmail, chaque message (les mêmes octets que le .eml) devient un brouillon de votre
    Gmail (Gmail → Brouillons), noté dans l'onglet Brouillons : une relance ne crée aucun
    doublon ; si la réunion a changé, les brouillons non envoyés sont mis à jour sur place,
    ceux déjà envoyés reçoivent un nouveau brouillon « Mise à jour », ceux modifiés à la main
    sont laissés tels quels (--force pour les remplacer).

    \b
    Exemples :
      gt draft-invitations R-2020-AI-4 --dry-run
      gt draft-invitations R-2020-AI-4 --mbox invitations.mbox
      gt draft-invitations R-2020-AI-4 --only-new
      gt draft-invitations R-2020-AI-4 --gmail
    """
    check_gmail(ctx, gmail or bool(gmail_user), out=out, mbox=mbox, only_new=only_new)
    run = session(ctx)
    # The lock, from the read to the write (released when the command ends).
    ctx.with_resource(run.writing(lambda text: click.echo(text, err=True), dry_run=dry_run))
    if not dry_run and not (gmail or gmail_user):
        check_output_options(ctx, run, folder=out, file=mbox, file_option="--mbox", force=force)
    result = drafting.draft_invitations(
        run,
        read_registry(run),
        meeting_id,
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


main = standalone(draft_invitations)
