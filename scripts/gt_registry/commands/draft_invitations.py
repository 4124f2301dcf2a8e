"""`gt draft-invitations MEETING_ID`: one draft per invited person, with a calendar invitation."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click

from .. import journal
from ..errors import EXIT_PROBLEMS, SourceError, WriteFailed
from ..invitations import (
    Draft,
    InvitationPlan,
    Skipped,
    compose_all,
    file_names,
    find_meeting,
    folder_name,
    invitation_composer,
    journal_entries,
    plan_invitations,
)
from ..mail import Output, check_output, write_output
from ..model import Rows
from ..session import Loaded, Session
from .common import GtCommand, dry_run_option, read_registry, registry_options, session, standalone

PROGRESS_FROM = 200  # drafts: below this a run is too quick for a progress bar

EPILOG_NEXT = (
    "Étape suivante : ouvrez {where} — Outlook : double-clic sur un .eml (brouillon modifiable) ; "
    "Thunderbird : double-clic sur un .eml puis Message › Modifier en tant que nouveau message{mbox} "
    "— relisez, puis envoyez."
)


@click.command(cls=GtCommand)
@registry_options
@click.argument("meeting_id", metavar="MEETING_ID")
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
@dry_run_option
@click.option(
    "--force",
    is_flag=True,
    help="Remplacer un dossier ou un mbox existant ; accepter une réunion passée.",
)
@click.pass_context
def draft_invitations(
    ctx: click.Context,
    meeting_id: str,
    out: Path | None,
    mbox: Path | None,
    only_new: bool,
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

    \b
    Exemples :
      gt draft-invitations R-2020-AI-4 --dry-run
      gt draft-invitations R-2020-AI-4 --mbox invitations.mbox
      gt draft-invitations R-2020-AI-4 --only-new
    """
    run = session(ctx)
    config = run.config
    loaded = read_registry(run)
    registry = loaded.result.registry
    meeting = find_meeting(registry, meeting_id)
    plan = plan_invitations(
        registry,
        meeting,
        journal.read_entries(registry.owned.get("journal")),
        run.today,
        only_new=only_new,
        force=force,
    )
    output = Output(out or config.drafts_dir / folder_name(meeting.id), mbox, force, add=only_new)
    if not dry_run:
        check_output(output, file_names(plan.recipients).values())
    now = run.now  # the Date: header, in Paris time
    composer = invitation_composer(registry, config, meeting, plan.sequence, now)
    with progress(len(plan.recipients)) as tick:
        drafts, unsafe = compose_all(composer, plan.recipients, tick=tick)
    skipped = plan.audience.skipped + unsafe
    echo_skipped(skipped)
    if plan.changed:
        click.secho(
            f"La réunion a changé (date, heure ou lieu) depuis la dernière rédaction : SEQUENCE {plan.sequence}, le calendrier sera mis à jour.",
            fg="yellow",
            err=True,
        )
    if dry_run:
        echo_drafts(drafts)
        _summary(drafts, plan, skipped, None)
    else:
        if drafts:
            write_output(output, [(d.filename, d.data) for d in drafts])
            detail = {
                "reunion": meeting.id,
                "sequence": str(plan.sequence),
                "empreinte": plan.fingerprint,
            }
            record_in_journal(
                run,
                loaded,
                now,
                "draft-invitations",
                f"{len(drafts)} invitation(s) rédigée(s) pour {meeting.id}",
                detail,
                [d.person.id for d in drafts],
                output,
                skipped,
            )
        _summary(drafts, plan, skipped, output)
    if skipped:
        ctx.exit(EXIT_PROBLEMS)


def _summary(
    drafts: Sequence[Draft], plan: InvitationPlan, skipped: Sequence[Skipped], output: Output | None
) -> None:
    meeting = plan.meeting
    verb = "seraient rédigé(s)" if output is None else "rédigé(s)"
    where = (
        ""
        if output is None or not drafts
        else f" dans {output.folder}/" + (f" et {output.mbox}" if output.mbox else "")
    )
    click.secho(
        f"{len(drafts)} brouillon(s) {verb}{where} pour {meeting.id} ({meeting.type}, {meeting.date:%d/%m/%Y}), SEQUENCE {plan.sequence}.",
        fg="green",
        err=True,
    )
    reasons = []
    if plan.audience.opted_out:
        reasons.append(f"{len(plan.audience.opted_out)} désinscrit(s)")
    if skipped:
        reasons.append(f"{len(skipped)} sans adresse utilisable (listés ci-dessus)")
    if plan.already:
        reasons.append(f"{len(plan.already)} déjà invité(s) (--only-new)")
    if reasons:
        click.echo("Sans brouillon : " + ", ".join(reasons) + ".", err=True)
    if output is None:
        click.echo("Étape suivante : relancez sans --dry-run pour écrire les brouillons.", err=True)
    elif drafts:
        mbox = f", ou importer {output.mbox} (ImportExportTools NG)" if output.mbox else ""
        click.echo(EPILOG_NEXT.format(where=f"{output.folder}/", mbox=mbox), err=True)
    elif plan.already:
        click.echo("Personne de nouveau depuis la dernière rédaction : rien à envoyer.", err=True)


# -- shared with draft-emails ------------------------------------------------------------


@contextmanager
def progress(total: int) -> Iterator[Callable[[], None] | None]:
    """A progress bar on stderr for long runs; `None` (no bar) for short ones."""
    if total < PROGRESS_FROM:
        yield None
        return
    with click.progressbar(length=total, label="Rédaction", file=sys.stderr) as bar:
        yield lambda: bar.update(1)


def echo_skipped(skipped: Sequence[Skipped]) -> None:
    if skipped:
        click.secho(
            f"{len(skipped)} personne(s) sans brouillon (corrigez la cellule indiquée) :",
            fg="yellow",
            err=True,
        )
        for item in skipped:
            click.echo(f"  {item}", err=True)


def echo_drafts(drafts: Sequence[Draft]) -> None:
    """The dry-run listing on stdout: file, recipient, language, subject."""
    for draft in drafts:
        click.echo(
            f"{draft.filename}\t{draft.person.full_name} <{draft.person.email}>\t{draft.language}\t{draft.subject}"
        )


def record_in_journal(
    run: Session,
    loaded: Loaded,
    now: dt.datetime,
    command: str,
    changes: str,
    detail: dict[str, str],
    people: Sequence[str],
    output: Output,
    skipped: Sequence[Skipped] = (),
) -> None:
    """One write of the Journal tab (the drafts are already on disk)."""
    tab = run.config.tab("journal")
    rows: Rows = loaded.snapshot.tabs.get(tab) or []
    by = run.backend.identity()
    problems = "; ".join(str(s) for s in skipped[:20]) + (
        f"; … et {len(skipped) - 20} autre(s)" if len(skipped) > 20 else ""
    )
    problems = problems or "aucun"  # as sync-eligibility writes it
    for entry in journal_entries(now.astimezone(), command, by, changes, detail, people, problems):
        rows = journal.append(rows, entry)
    try:
        run.backend.write({tab: rows}, loaded.snapshot)
    except (WriteFailed, SourceError) as err:
        raise SourceError(
            f"brouillons écrits dans {output.folder}, mais le Journal n'a pas pu être mis à jour : {err.message}",
            "notez-le avant tout --only-new (ces personnes seraient rédigées à nouveau), puis relancez quand le registre est accessible",
        ) from err


main = standalone(draft_invitations)
