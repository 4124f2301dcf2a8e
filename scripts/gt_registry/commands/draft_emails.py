"""`gt draft-emails TEMPLATE`: drafts of the other mailings (active members, call for hosts)."""

from __future__ import annotations

from pathlib import Path

import click

from ..eligibility import compute_eligibility
from ..errors import EXIT_PROBLEMS, SelectionError
from ..invitations import (
    IMPLIED_AUDIENCE,
    MEETING_KINDS,
    compose_all,
    file_names,
    find_group,
    folder_name,
    mailing_composer,
    mailing_extra,
    mailing_people,
    organisations_to_host,
    screen,
)
from ..mail import Output, check_output, write_output
from .common import GtCommand, dry_run_option, read_registry, registry_options, session
from .draft_invitations import echo_drafts, echo_skipped, progress, record_in_journal


@click.command(cls=GtCommand)
@registry_options
@click.argument("template", metavar="TEMPLATE")
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
    help="Dossier des brouillons (défaut : brouillons/<TEMPLATE>/).",
)
@click.option(
    "--mbox",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Écrire aussi les messages dans un fichier mbox.",
)
@dry_run_option
@click.option("--force", is_flag=True, help="Remplacer un dossier ou un mbox existant.")
@click.pass_context
def draft_emails(
    ctx: click.Context,
    template: str,
    group_code: str | None,
    active: bool,
    to_hosts: bool,
    out: Path | None,
    mbox: Path | None,
    dry_run: bool,
    force: bool,
) -> None:
    """Rédiger un envoi hors réunion : un brouillon .eml par personne, depuis un modèle.

    TEMPLATE est le nom d'un modèle de templates/emails/ : « membre-actif » (avis aux
    membres actifs : entrée offerte au Forum Mondial Convergences ; implique --active) ou
    « appel-hotes » (appel aux organisations qui offrent une salle et n'ont pas encore
    accueilli de réunion cette saison ; implique --to-hosts). Sans option : tous les membres
    d'un groupe. Jamais une personne désinscrite ; une adresse invalide est listée avec sa
    cellule. L'envoi est noté dans l'onglet Journal.

    \b
    Exemples :
      gt --as-of 2020-06-15 draft-emails membre-actif --dry-run
      gt draft-emails appel-hotes --mbox appel.mbox
      gt draft-emails membre-actif --group AI
    """
    if template in MEETING_KINDS:
        raise click.BadParameter(
            f"« {template} » est un modèle d'invitation à une réunion : "
            f"utilisez « gt draft-invitations ID_DE_LA_REUNION »",
            param_hint="TEMPLATE",
        )
    run = session(ctx)
    config = run.config
    loaded = read_registry(run)
    registry = loaded.result.registry
    group = find_group(registry, group_code) if group_code else None
    implied = IMPLIED_AUDIENCE.get(template)
    eligibility = compute_eligibility(registry, config, run.today)
    season = eligibility.season
    active_ids = (
        {s.person.id for s in eligibility.active()} if active or implied == "active" else None
    )
    hosts = (
        organisations_to_host(registry, season.start, season.end)
        if to_hosts or implied == "hosts"
        else None
    )
    audience = screen(mailing_people(registry, active_ids, hosts, group))
    if not audience.recipients and not audience.skipped:
        raise SelectionError(
            f"aucun destinataire pour « {template} » avec ces options",
            "vérifiez --group, --active ou --to-hosts, et --as-of (la saison)",
        )
    name = folder_name(f"{template}-{group}" if group else template)
    output = Output(out or config.drafts_dir / name, mbox, force)
    if not dry_run:
        check_output(output, file_names(audience.recipients).values())
    now = run.now  # the Date: header, in Paris time
    composer = mailing_composer(registry, config, template, group, season, now)
    with progress(len(audience.recipients)) as tick:
        drafts, unsafe = compose_all(
            composer, audience.recipients, mailing_extra(registry, eligibility.statuses), tick
        )
    skipped = audience.skipped + unsafe
    echo_skipped(skipped)
    if dry_run:
        echo_drafts(drafts)
    elif drafts:
        write_output(output, [(d.filename, d.data) for d in drafts])
        detail = {"modele": template, "groupe": group or "", "saison": season.label}
        record_in_journal(
            run,
            loaded,
            now,
            "draft-emails",
            f"{len(drafts)} brouillon(s) « {template} »",
            detail,
            [d.person.id for d in drafts],
            output,
            skipped,
        )
    verb = "seraient rédigé(s)" if dry_run else "rédigé(s)"
    where = "" if dry_run or not drafts else f" dans {output.folder}/"
    click.secho(
        f"{len(drafts)} brouillon(s) « {template} » {verb}{where} (saison {season.label}).",
        fg="green",
        err=True,
    )
    if audience.opted_out or skipped:
        click.echo(
            f"Sans brouillon : {len(audience.opted_out)} désinscrit(s), {len(skipped)} sans adresse utilisable.",
            err=True,
        )
    click.echo(
        "Étape suivante : "
        + (
            "relancez sans --dry-run pour écrire les brouillons."
            if dry_run
            else "ouvrez les brouillons dans votre messagerie, relisez, puis envoyez."
        ),
        err=True,
    )
    if skipped:
        ctx.exit(EXIT_PROBLEMS)
