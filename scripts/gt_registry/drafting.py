"""The two drafting runs, `draft-invitations` and `draft-emails`, as plain functions.

Each decides who is drafted (`recipients`), renders every draft in memory (`composer`), checks
and writes the output folder (`mail`), and records the run in the Journal, whose `Détail`
keeps, per drafting, the people drafted and, for a meeting, its fingerprint (date, times,
place) and the calendar SEQUENCE, read back for `--only-new` and updates. They never print or
exit: they return what was drafted, with the lines a command shows (`Line`, with a tone).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from . import journal
from .audience import require_opt_out_column
from .composer import (
    Composer,
    Draft,
    compose_all,
    file_names,
    folder_name,
    invitation_composer,
    mailing_composer,
)
from .contexts import Extra, change_extra, mailing_extra
from .errors import SelectionError, SourceError, WriteFailed
from .files import protected_places
from .i18n import plural
from .lines import Line
from .mail import Output, check_output, kept_files, write_output
from .model import Person, Rows
from .recipients import (
    INVITATION_COMMAND,
    MAILING_COMMAND,
    InvitationPlan,
    MeetingState,
    Skipped,
    find_group,
    find_meeting,
    mailing_audience,
    mailing_history,
    plan_invitations,
    screen,
)
from .session import Loaded, Session

if TYPE_CHECKING:  # imported where used: Gmail's modules by --gmail, eligibility by draft-emails
    from .config import Config
    from .eligibility import Season
    from .errors import RegistryError
    from .gmail_plan import GmailTarget, Record
    from .gmail_push import Pushed

PROBLEMS_IN_JOURNAL = 20  # skipped people named in the Journal's Problèmes cell
NAMED_FILES = 20  # new files (--only-new) and language fallbacks named in a summary

Tick = Callable[[], None]
Progress = Callable[[int], AbstractContextManager[Tick | None]]  # given the number of drafts


@contextmanager
def quietly(_total: int) -> Iterator[Tick | None]:
    """No progress shown."""
    yield None


# -- the Journal ------------------------------------------------------------------------


def write_and_record(
    run: Session,
    loaded: Loaded,
    now: dt.datetime,
    command: str,
    changes: str,
    detail: dict[str, str],
    drafted: Drafted,
) -> None:
    """The drafts written (all or nothing; with --gmail, into Gmail), then the run's Journal
    rows appended, with the Brouillons tab for --gmail, in one write."""
    drafts_rows: dict[str, Rows] = {}
    people = [d.person.id for d in drafted.drafts]
    if drafted.gmail is None:
        write_output(drafted.output, [(d.filename, d.data) for d in drafted.drafts])
    else:
        drafts_rows, people, changes = _push_to_gmail(run, loaded, now, detail, drafted)
        if not drafts_rows:  # nothing changed in Gmail, nothing left to record: no write
            _forget_recorded(drafted)  # what was noted, Brouillons holds already
            return
    tab = run.config.tab("journal")
    rows: Rows = loaded.snapshot.tabs.get(tab) or []
    by = run.backend.identity()
    skipped = drafted.skipped
    problems = "; ".join(str(s) for s in skipped[:PROBLEMS_IN_JOURNAL]) + (
        f"; … et {len(skipped) - PROBLEMS_IN_JOURNAL} autre(s)"
        if len(skipped) > PROBLEMS_IN_JOURNAL
        else ""
    )
    problems = problems or "aucun"  # as sync-eligibility writes it
    detail = {**detail, journal.RUN: journal.new_run_id()}
    entries = journal.people_entries(now, command, by, changes, detail, people, problems)
    appended = {tab: journal.rows_to_append(rows, entries), **drafts_rows}
    try:
        run.backend.write({}, loaded.snapshot, appended)
    except (WriteFailed, SourceError) as err:
        raise _unrecorded(
            drafted, err.message.replace(NOTHING, NOTHING + " dans le registre")
        ) from err
    except KeyboardInterrupt as err:
        raise _unrecorded(
            drafted, "passage interrompu (Ctrl-C) pendant l'écriture du registre"
        ) from err
    if drafted.pending is not None:
        _forget_recorded(drafted)


NOTHING = "rien n'a été écrit"


def _unrecorded(drafted: Drafted, cause: str) -> SourceError:
    """The drafts are written (files or Gmail), the registry could not record them."""
    if drafted.pushed is None:
        return SourceError(
            f"brouillons écrits dans {drafted.output.folder}, mais le Journal n'a pas pu être mis à jour : {cause}",
            "notez-le avant de relancer avec --only-new (ces personnes recevraient un nouveau brouillon), puis relancez quand le registre est accessible",
        )
    what = f"brouillons écrits dans Gmail ({drafted.pushed.mailbox}), mais l'onglet Brouillons et le Journal n'ont pas pu être mis à jour : {cause}"
    if drafted.pushed.unnoted:
        people = sorted(person for _key, person in drafted.pushed.written)
        shown = ", ".join(people[:NAMED_FILES]) + (" …" if len(people) > NAMED_FILES else "")
        return SourceError(
            what,
            f"ils n'ont pas pu être notés sur cet ordinateur non plus : avant de relancer, supprimez dans Gmail → Brouillons ceux de ce passage ({shown}), sinon ils seraient recréés en double",
        )
    return SourceError(
        what,
        f"ils sont notés sur cet ordinateur ({drafted.pending}) : relancez la même commande depuis cet ordinateur une fois le registre accessible (le classeur enregistré et fermé) ; elle les inscrit dans l'onglet Brouillons sans créer de doublon",
    )


def _noted_before(run: Session, loaded: Loaded, drafted: Drafted) -> None:
    """A --gmail dry run: the drafts noted on this computer that Brouillons still lacks."""
    from . import gmail_drafting, gmail_pending
    from .gmail_plan import records_from_rows

    rows = loaded.snapshot.tabs.get(run.config.tab(gmail_drafting.DRAFTS_TAB))
    path = gmail_pending.path_for(run.backend.location)
    drafted.earlier = gmail_drafting.unrecorded(records_from_rows(rows), path)[0]


def _forget_recorded(drafted: Drafted) -> None:
    """The drafts noted on this computer that the registry now holds, forgotten there."""
    from . import gmail_pending

    assert drafted.pending is not None
    with suppress(OSError):  # kept: the next run finds them in Brouillons, adds nothing
        gmail_pending.forget(drafted.pending, drafted.forgettable)


def _push_to_gmail(
    run: Session, loaded: Loaded, now: dt.datetime, detail: dict[str, str], drafted: Drafted
) -> tuple[dict[str, Rows], list[str], str]:
    """--gmail: the drafts put into Gmail; (the Brouillons rows to append, or nothing when
    Gmail is unchanged; the people written; the Journal's `Changements`). A push stopped
    midway still gives the rows of the drafts it wrote (then `gmail_failure` says so)."""
    from . import gmail_drafting, gmail_pending
    from .gmail_plan import records_from_rows
    from .gmail_push import PushAborted

    assert drafted.gmail is not None
    key = detail.get("reunion") or " ".join(
        filter(None, (detail.get("modele"), detail.get("groupe"), detail.get("saison")))
    )
    sequence = int(detail["sequence"]) if detail.get("sequence", "").isdigit() else None
    rows = loaded.snapshot.tabs.get(run.config.tab(gmail_drafting.DRAFTS_TAB))
    tab = records_from_rows(rows)
    drafted.pending = gmail_pending.path_for(run.backend.location)
    drafted.earlier, drafted.noted = gmail_drafting.unrecorded(tab, drafted.pending)
    try:
        pushed = gmail_drafting.push_drafts(
            run.config,
            [*tab, *drafted.earlier],
            drafted.drafts,
            key,
            sequence,
            drafted.gmail,
            now.strftime("%Y-%m-%d %H:%M"),
            drafted.pending,
        )
    except PushAborted as err:
        pushed = err.pushed
    drafted.pushed = pushed
    earlier = drafted.earlier
    changes = []
    if pushed.written:
        changes.append(
            f"{len(pushed.written)} brouillon(s) Gmail écrit(s) pour {key} ({pushed.mailbox})"
            + (f", passage interrompu ({pushed.aborted})" if pushed.aborted else "")
        )
    if earlier:
        changes.append(
            f"{len(earlier)} brouillon(s) Gmail d'un passage précédent, enregistré(s) dans l'onglet Brouillons"
        )
    people = [person for _key, person in pushed.written]
    people += [r.person for r in earlier if r.key == key and r.person not in people]
    rows_out = gmail_drafting.rows_to_append(run.config, rows, drafted.recorded)
    return rows_out, people, "; ".join(changes)


# -- what one run drafted ------------------------------------------------------------------


@dataclass
class Drafted:
    """What a run wrote (or, with `dry_run`, would write), and who got no draft."""

    drafts: list[Draft]
    skipped: list[Skipped]  # data problems, then values unusable in a header
    opted_out: list[Person]
    output: Output
    dry_run: bool
    gmail: GmailTarget | None = field(default=None, init=False)  # --gmail: where to
    pushed: Pushed | None = field(default=None, init=False)  # --gmail: what was done there
    pending: Path | None = field(default=None, init=False)  # --gmail: noted on this computer
    noted: list[Record] = field(default_factory=list, init=False)  # --gmail: noted before
    earlier: list[Record] = field(default_factory=list, init=False)  # of them, not in Brouillons

    @property
    def recorded(self) -> list[Record]:
        """--gmail: the records the run writes to Brouillons."""
        return [*self.earlier, *(self.pushed.appended if self.pushed else [])]

    @property
    def forgettable(self) -> list[Record]:
        """--gmail: the notes to forget once the run's registry write went through."""
        return [*self.noted, *(self.pushed.appended if self.pushed else [])]

    def gmail_lines(self, what: str) -> list[Line]:
        """The summary of a --gmail run (or dry run): what Gmail holds now, and why."""
        if self.dry_run:
            return [
                Line(
                    f"{len(self.drafts)} brouillon(s) {what} seraient écrits dans Gmail (créés, ou mis à jour sur place s'ils existent déjà) ; rien n'a été envoyé à Google.",
                    "done",
                ),
                *(
                    [
                        Line(
                            f"{len(self.earlier)} brouillon(s) d'un passage précédent, noté(s) sur cet ordinateur : le passage sans --dry-run les inscrira dans l'onglet Brouillons (aucun recréé)."
                        )
                    ]
                    if self.earlier
                    else []
                ),
                Line(
                    "Étape suivante : relancez sans --dry-run pour écrire les brouillons dans Gmail."
                ),
            ]
        if self.pushed is None:
            return [Line(f"Aucun brouillon {what} à écrire dans Gmail.", "done")]
        from .gmail_push import describe

        lines = [Line(text, tone) for text, tone in describe(self.pushed)]
        if self.earlier:
            lines.append(
                Line(
                    f"{len(self.earlier)} brouillon(s) d'un passage précédent, noté(s) sur cet ordinateur, enregistré(s) dans l'onglet Brouillons (aucun recréé)."
                )
            )
        reasons = []
        if self.opted_out:
            reasons.append(plural(len(self.opted_out), "désinscrit", "désinscrits"))
        if self.skipped:
            reasons.append(f"{len(self.skipped)} sans adresse utilisable (listés ci-dessus)")
        if reasons:
            lines.append(Line("Sans brouillon : " + ", ".join(reasons) + "."))
        lines.append(
            Line(
                "Étape suivante : ouvrez Gmail → Brouillons, relisez chaque brouillon, puis envoyez."
            )
        )
        return lines

    def gmail_failure(self) -> RegistryError | None:
        """What ends a --gmail run some of whose drafts could not be written (exit 3)."""
        if self.pushed is None:
            return None
        from .gmail_drafting import incomplete

        return incomplete(self.pushed)

    def warnings(self) -> list[Line]:
        """Who got no draft because of a cell to fix, and what the tool leaves in the drafts
        folder because it did not write it (shown before anything is written)."""
        lines = kept_lines(self.output) if self.gmail is None else []
        if not self.skipped:
            return lines
        title = f"{len(self.skipped)} personne(s) sans brouillon (corrigez la cellule indiquée) :"
        return [*lines, Line(title, "warning"), *(Line(f"  {item}") for item in self.skipped)]

    def listing(self) -> list[str]:
        """A dry run's drafts (file, recipient, language, subject); nothing after a real run."""
        return [
            f"{d.filename}\t{d.person.full_name} <{d.person.email}>\t{d.language}\t{d.subject}"
            for d in self.drafts
            if self.dry_run
        ]

    def summary(self) -> list[Line]:
        """What was drafted, who was not and why, and the next step."""
        raise NotImplementedError

    def left_out_lines(self, already: str) -> list[Line]:
        """« Sans brouillon : … »: the opted out, the unusable addresses, `already` (--only-new)."""
        reasons = [
            plural(len(self.opted_out), "désinscrit", "désinscrits") if self.opted_out else "",
            f"{len(self.skipped)} sans adresse utilisable (listés ci-dessus)"
            if self.skipped
            else "",
            already,
        ]
        given = [reason for reason in reasons if reason]
        return [Line("Sans brouillon : " + ", ".join(given) + ".")] if given else []

    def added_lines(self, shown: int = NAMED_FILES) -> list[Line]:
        """With --only-new, the new files by name: the folder also holds the earlier ones."""
        if not self.output.add or not self.drafts:
            return []
        names = sorted(d.filename for d in self.drafts)
        more = f", … et {len(names) - shown} autre(s)" if len(names) > shown else ""
        title = "Nouveaux brouillons" + (" (seraient écrits)" if self.dry_run else "")
        return [Line(f"{title} : " + ", ".join(names[:shown]) + more + ".")]

    def fallback_lines(self, shown: int = NAMED_FILES) -> list[Line]:
        """Who got the default language because theirs has no template."""
        fell = [d for d in self.drafts if d.fallback]
        if not fell:
            return []
        who = [f"{d.person.full_name} ({d.person.id}, {d.person.language})" for d in fell]
        more = f", … et {len(who) - shown} autre(s)" if len(who) > shown else ""
        language = fell[0].language
        return [
            Line(
                f"{len(fell)} brouillon(s) en « {language} » faute de modèle dans la langue de la personne : "
                + ", ".join(who[:shown])
                + more
                + " — ajoutez le modèle dans cette langue (voir templates/emails/README.md) pour les rédiger dans leur langue.",
                "warning",
            )
        ]

    @property
    def verb(self) -> str:
        many = len(self.drafts) > 1
        if self.dry_run:
            return "seraient rédigés" if many else "serait rédigé"
        return "rédigés" if many else "rédigé"

    def drafted_text(self, number: bool = True) -> str:
        """`42 brouillons rédigés`, `1 brouillon serait rédigé` (`number=False`: the verb only)."""
        words = f"{plural(len(self.drafts), 'brouillon', 'brouillons')} {self.verb}"
        return words if number else self.verb


D = TypeVar("D", bound=Drafted)


def kept_lines(output: Output, shown: int = 5) -> list[Line]:
    """The files of an existing drafts folder that the tool did not write (or that changed
    since): they stay as they are."""
    kept = kept_files(output)
    if not kept:
        return []
    more = f", … et {len(kept) - shown} autre(s)" if len(kept) > shown else ""
    return [
        Line(
            f"{output.folder} : {len(kept)} fichier(s) que l'outil n'a pas écrits (ou modifiés depuis) restent en place : "
            + ", ".join(kept[:shown])
            + more,
            "warning",
        )
    ]


EPILOG_NEXT = (
    "Étape suivante : ouvrez {where} — Outlook : double-clic sur un .eml (brouillon modifiable) ; "
    "Thunderbird : double-clic sur un .eml puis Message › Modifier en tant que nouveau message{mbox} "
    "— relisez, puis envoyez."
)


@dataclass
class Invitations(Drafted):
    plan: InvitationPlan

    def warnings(self) -> list[Line]:
        lines = super().warnings()
        if self.plan.changed:
            lines.append(
                Line(
                    "La réunion a changé (date, heure ou lieu) depuis la dernière rédaction : les brouillons annoncent le changement ; l'invitation jointe remplacera l'ancienne dans les agendas.",
                    "warning",
                )
            )
        return lines

    def summary(self) -> list[Line]:
        meeting, output, plan = self.plan.meeting, self.output, self.plan
        if self.gmail is not None:
            return self.gmail_lines(f"pour {meeting.id}")
        where = (
            ""
            if self.dry_run or not self.drafts
            else f" dans {output.folder}/" + (f" et {output.mbox}" if output.mbox else "")
        )
        lines = [
            Line(
                f"{self.drafted_text()}{where} pour {meeting.id} ({meeting.type}, {meeting.date:%d/%m/%Y}).",
                "done",
            ),
            *self.added_lines(),
            *self.fallback_lines(),
        ]
        already = plural(len(plan.already), "déjà invité", "déjà invités") + " (--only-new)"
        lines += self.left_out_lines(already if plan.already else "")
        if self.dry_run:
            lines.append(
                Line("Étape suivante : relancez sans --dry-run pour écrire les brouillons.")
            )
        elif self.drafts:
            mbox = f", ou importer {output.mbox} (ImportExportTools NG)" if output.mbox else ""
            lines.append(Line(EPILOG_NEXT.format(where=f"{output.folder}/", mbox=mbox)))
        elif plan.already:
            lines.append(Line("Personne de nouveau depuis la dernière rédaction : rien à envoyer."))
        return lines


@dataclass
class Mailing(Drafted):
    template: str
    season: Season
    already: list[Person] = field(default_factory=list)  # drafted before, left out (--only-new)

    def summary(self) -> list[Line]:
        if self.gmail is not None:
            return self.gmail_lines(f"« {self.template} »")
        where = "" if self.dry_run or not self.drafts else f" dans {self.output.folder}/"
        lines = [
            Line(
                f"{plural(len(self.drafts), 'brouillon', 'brouillons')} « {self.template} » {self.drafted_text(number=False)}{where} (saison {self.season.label}).",
                "done",
            ),
            *self.added_lines(),
            *self.fallback_lines(),
        ]
        already = plural(len(self.already), "déjà rédigé", "déjà rédigés")
        lines += self.left_out_lines(
            f"{already} pour cet envoi (--only-new)" if self.already else ""
        )
        if self.dry_run:
            next_step = "relancez sans --dry-run pour écrire les brouillons."
        elif self.drafts:
            next_step = "ouvrez les brouillons dans votre messagerie, relisez, puis envoyez."
        else:
            return [*lines, Line("Personne de nouveau depuis le dernier envoi : rien à envoyer.")]
        return [*lines, Line("Étape suivante : " + next_step)]


def folder_option(config: Config, out: Path | None) -> str:
    """What a refusal of the drafts folder names: `--out`, or the configuration key the
    folder comes from (the user gave no --out)."""
    if out is not None:
        return "--out"
    return f"[paths] drafts dans {config.source_file or 'gt.toml'}"


def _render(
    output: Output,
    people: Sequence[Person],
    composer: Callable[[], Composer],
    *,
    dry_run: bool,
    progress: Progress,
    extra: Extra | None = None,
    to_files: bool = True,
) -> tuple[list[Draft], list[Skipped]]:
    """An existing output refused first (unless a dry run, or --gmail), then every draft in memory."""
    names = file_names(people)
    if to_files and not dry_run:
        check_output(output, names.values())
    built = composer()
    with progress(len(people)) as tick:
        return compose_all(built, people, extra, tick, names)


def _finish(
    run: Session,
    loaded: Loaded,
    now: dt.datetime,
    result: D,
    composed: Callable[[D], None] | None,
    command: str,
    changes: str,
    detail: dict[str, str],
) -> D:
    """Shown (`composed`) before anything is written, then written and recorded (not a dry run)."""
    if result.dry_run and result.gmail is not None:
        _noted_before(run, loaded, result)
    if composed is not None:
        composed(result)
    if result.drafts and not result.dry_run:
        write_and_record(run, loaded, now, command, changes, detail, result)
    return result


# -- draft-invitations -------------------------------------------------------------------


def draft_invitations(
    run: Session,
    loaded: Loaded,
    meeting_id: str,
    *,
    out: Path | None = None,
    mbox: Path | None = None,
    only_new: bool = False,
    dry_run: bool = False,
    force: bool = False,
    progress: Progress = quietly,
    composed: Callable[[Invitations], None] | None = None,
    gmail: GmailTarget | None = None,
) -> Invitations:
    """`gt draft-invitations`: one draft per invited person, then one Journal write.

    `composed` is given the drafts once all are rendered, before anything is written."""
    config, registry = run.config, loaded.result.registry
    require_opt_out_column(registry)
    meeting = find_meeting(registry, meeting_id, run.today)
    entries = journal.read_entries(registry.owned.get("journal"))
    plan = plan_invitations(registry, meeting, entries, run.today, only_new=only_new, force=force)
    output = Output(
        out or config.drafts_dir / folder_name(meeting.id),
        mbox,
        force,
        add=only_new,
        owner=f"réunion {meeting.id}",
        protected=protected_places(config),
        create_parents=out is None,  # the configured drafts folder; --out's parent must exist
        option=folder_option(config, out),
    )
    now = run.now  # the Date: header, in Paris time
    drafts, unsafe = _render(
        output,
        plan.recipients,
        lambda: invitation_composer(registry, config, meeting, plan.sequence, now),
        dry_run=dry_run,
        progress=progress,
        extra=change_extra(meeting, plan.update),
        to_files=gmail is None,
    )
    result = Invitations(
        drafts, plan.audience.skipped + unsafe, plan.audience.opted_out, output, dry_run, plan
    )
    result.gmail = gmail
    detail = {
        "reunion": meeting.id,
        "sequence": str(plan.sequence),
        "empreinte": plan.fingerprint,
        **MeetingState.of(meeting).detail(),  # what the next update says changed
    }
    changes = f"{len(drafts)} invitation(s) rédigée(s) pour {meeting.id}"
    return _finish(run, loaded, now, result, composed, INVITATION_COMMAND, changes, detail)


# -- draft-emails ------------------------------------------------------------------------


def draft_emails(
    run: Session,
    loaded: Loaded,
    template: str,
    *,
    group_code: str | None = None,
    active: bool = False,
    to_hosts: bool = False,
    out: Path | None = None,
    mbox: Path | None = None,
    only_new: bool = False,
    dry_run: bool = False,
    force: bool = False,
    progress: Progress = quietly,
    composed: Callable[[Mailing], None] | None = None,
    gmail: GmailTarget | None = None,
) -> Mailing:
    """`gt draft-emails`: one draft per person of the mailing's audience, then one Journal write.

    `composed` is given the drafts once all are rendered, before anything is written."""
    config, registry = run.config, loaded.result.registry
    require_opt_out_column(registry)
    from .eligibility import compute_eligibility

    group = find_group(registry, group_code) if group_code else None
    eligibility = compute_eligibility(registry, config, run.today)
    season = eligibility.season
    people = mailing_audience(
        registry, eligibility, template, group, active=active, to_hosts=to_hosts
    )
    audience = screen(people)
    if not audience.recipients and not audience.skipped:
        where = f" dans le groupe {group}" if group else ""
        raise SelectionError(
            f"aucun destinataire pour « {template} »{where} : saison {season.label}, "
            f"au {run.today:%d/%m/%Y}",
            "vérifiez --group, --active ou --to-hosts, et --as-of (la saison) ; en début de "
            "saison, « gt sync-eligibility » dit combien de membres sont déjà actifs",
        )
    recipients, already = audience.recipients, []
    if only_new:  # the people this mailing already reached this season (the Journal)
        drafted = mailing_history(
            journal.read_entries(registry.owned.get("journal")), template, season.label
        )
        recipients = [p for p in audience.recipients if p.id not in drafted]
        already = [p for p in audience.recipients if p.id in drafted]
    name = folder_name(f"{template}-{group}" if group else template)
    output = Output(
        out or config.drafts_dir / name,
        mbox,
        force,
        add=only_new,
        owner=f"envoi {template}" + (f" (groupe {group})" if group else ""),
        protected=protected_places(config),
        create_parents=out is None,
        option=folder_option(config, out),
    )
    now = run.now  # the Date: header, in Paris time
    drafts, unsafe = _render(
        output,
        recipients,
        lambda: mailing_composer(registry, config, template, group, season, now),
        dry_run=dry_run,
        progress=progress,
        extra=mailing_extra(registry, eligibility.statuses),
        to_files=gmail is None,
    )
    result = Mailing(
        drafts,
        audience.skipped + unsafe,
        audience.opted_out,
        output,
        dry_run,
        template,
        season,
        already,
    )
    result.gmail = gmail
    detail = {"modele": template, "groupe": group or "", "saison": season.label}
    changes = f"{len(drafts)} brouillon(s) « {template} »"
    return _finish(run, loaded, now, result, composed, MAILING_COMMAND, changes, detail)
