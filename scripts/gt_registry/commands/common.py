"""Click plumbing shared by every command: option bundles, parameter types, the error edge."""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .. import click_fr, parsing
from ..errors import EXIT_FAILED, EXIT_PROBLEMS, ConfigError, RegistryError, what_to_do
from ..model import Problem
from ..session import Loaded, Session, Settings

if TYPE_CHECKING:  # the drafting core (Jinja, mail) is imported by the commands that draft
    from ..drafting import Drafted
    from ..eligibility import Season
    from ..gmail_plan import GmailTarget
    from ..lines import Line

# Click's own messages in French, before any option below is declared (see click_fr.py).
click_fr.install()

F = TypeVar("F", bound=Callable[..., Any])
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

EXIT_CODES_HELP = """\b
Codes de sortie :
  0  terminé, rien à signaler
  1  terminé, mais des problèmes de données ont été trouvés et listés
     (lignes concernées ignorées)
  2  ligne de commande incorrecte
  3  impossible de s'exécuter (configuration, onglet ou en-tête manquant,
     identifiants, réseau) : rien n'a été écrit"""


class DateType(click.ParamType):
    """A date typed like in the sheet: 2020-06-15 or 15/06/2020."""

    name = "DATE"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            parsed = parsing.date(str(value))
        except ValueError as err:
            self.fail(f"{err} (exemple : 2020-06-15 ou 15/06/2020)", param, ctx)
        if parsed is None:
            self.fail("date vide", param, ctx)
        return parsed


def _season(ctx: click.Context, param: click.Parameter, value: str | None) -> Season | None:
    """`--season 2019-2020` (or `2019/20`, `2019`) as the configured season it names."""
    if value is None:
        return None
    from ..eligibility import parse_season

    config = guarded(ctx, lambda: session(ctx).config)  # its months; a broken one: exit 3
    try:
        return parse_season(value, config.season_first_month, config.season_last_month)
    except ConfigError as err:
        raise click.BadParameter(str(err), ctx=ctx, param_hint="--season") from err


def season_option(help: str) -> Callable[[F], F]:
    """`--season AAAA-AAAA`, given to the command as a `Season` (or `None`): a label that
    cannot be read, or that disagrees with the configured months, is a usage error (exit 2)."""
    return click.option("--season", metavar="AAAA-AAAA", callback=_season, help=help)


def settings(ctx: click.Context) -> Settings:
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = Settings()
    return root.obj


def _store(field: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is not None and value is not False:
            setattr(settings(ctx), field, value)

    return callback


def registry_options(function: F) -> F:
    """`--config`, `--sheet`, `--credentials`, `--as-of`, `--debug`: accepted on `gt` and on
    every command (the later one wins), so the standalone scripts take them too."""
    options = [
        click.option(
            "--config",
            "config_path",
            type=click.Path(path_type=Path, dir_okay=False),
            envvar="GT_CONFIG",
            expose_value=False,
            is_eager=True,
            callback=_store("config_path"),
            help="Fichier de configuration TOML (défaut : ./config/gt.toml). Env : GT_CONFIG.",
        ),
        click.option(
            "--sheet",
            metavar="SOURCE",
            envvar="GT_SHEET",
            expose_value=False,
            callback=_store("sheet"),
            help="Le registre : un fichier .xlsx/.ods, une URL Google Sheets ou une clé. Env : GT_SHEET.",
        ),
        click.option(
            "--credentials",
            type=click.Path(path_type=Path, dir_okay=False),
            expose_value=False,
            callback=_store("credentials"),
            help="Identifiants Google : clé JSON d'un compte de service, ou JSON authorized_user "
            "(sinon : GOOGLE_APPLICATION_CREDENTIALS, puis « gt login », puis Application "
            "Default Credentials).",
        ),
        click.option(
            "--as-of",
            type=DateType(),
            expose_value=False,
            callback=_store("as_of"),
            help="La date du jour pour toutes les règles (défaut : aujourd'hui), pour rejouer un passage.",
        ),
        click.option(
            "--debug",
            is_flag=True,
            expose_value=False,
            callback=_store("debug"),
            help="Afficher la trace Python complète en cas d'erreur.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


class AddressType(click.ParamType):
    """One e-mail address (`--gmail-user`)."""

    name = "ADRESSE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if not parsing.valid_email(text):
            self.fail(
                f"adresse e-mail invalide « {text} » (exemple : camille@reseau.org)", param, ctx
            )
        return text


def _gmail(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
    if value:
        settings(ctx).gmail = True  # the run reads and writes the Brouillons tab
    return value


def gmail_options(function: F) -> F:
    """`--gmail` and `--gmail-user ADRESSE` (which implies it), on the drafting commands."""
    function = click.option(
        "--gmail-user",
        type=AddressType(),
        callback=_gmail,
        help="La boîte Gmail où écrire, pour un compte de service (délégation au niveau du "
        "domaine) ; implique --gmail.",
    )(function)
    return click.option(
        "--gmail",
        is_flag=True,
        callback=_gmail,
        help="Créer les brouillons dans Gmail (Gmail → Brouillons) au lieu de fichiers .eml ; "
        "notés dans l'onglet Brouillons, mis à jour sur place à la relance.",
    )(function)


def check_gmail(ctx: click.Context, gmail: bool, **others: Any) -> None:
    """`--gmail` writes no file: options that name files, or --only-new, make no sense with it."""
    if not gmail:
        return
    for option, value in others.items():
        if value:
            raise click.UsageError(
                f"--{option.replace('_', '-')} ne va pas avec --gmail : les brouillons vont dans "
                "Gmail, et seuls ceux qui manquent ou ont changé y sont écrits",
                ctx,
            )


def gmail_target(gmail: bool, user: str | None, force: bool) -> GmailTarget | None:
    """`--gmail` (or `--gmail-user`) and `--force`, or None: the Gmail modules are imported
    by --gmail runs only."""
    if not (gmail or user):
        return None
    from ..gmail_plan import GmailTarget

    return GmailTarget(user, force)


def dry_run_option(function: F) -> F:
    return click.option(
        "--dry-run", "-n", is_flag=True, help="Montrer ce qui changerait, sans rien écrire."
    )(function)


def session(ctx: click.Context) -> Session:
    return Session(settings(ctx))


class GtCommand(click_fr.FrenchCommand):
    """A command whose project errors end as a clean French message and a documented exit code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", CONTEXT_SETTINGS)
        kwargs.setdefault("epilog", EXIT_CODES_HELP)
        super().__init__(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        return guarded(ctx, lambda: super(GtCommand, self).invoke(ctx))


def guarded(ctx: click.Context, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except RegistryError as err:
        click.secho(f"Erreur : {err}", fg="red", err=True)
        if not err.hint:  # every error says what to do next
            click.echo(f"  → {what_to_do(err)}", err=True)
        if settings(ctx).debug:  # the trace for whoever debugs; the same exit code
            click.echo("".join(traceback.format_exception(err)).rstrip(), err=True)
        ctx.exit(err.exit_code)
    except (click.exceptions.Exit, click.ClickException, click.Abort):
        raise
    except BrokenPipeError:  # `gt contacts | head`: the reader left, nothing to report
        sys.stderr.close()
        ctx.exit(0)
    except KeyboardInterrupt:
        click.echo("Interrompu : rien n'a été écrit.", err=True)
        ctx.exit(EXIT_FAILED)
    except Exception as err:
        if settings(ctx).debug:
            raise
        click.secho(f"Erreur inattendue : {type(err).__name__}: {err}", fg="red", err=True)
        click.echo(
            "  → relancez avec --debug pour la trace complète et signalez-la à l'équipe.", err=True
        )
        ctx.exit(EXIT_FAILED)


def echo_problems(problems: Sequence[Problem], *, err: bool = True, limit: int = 200) -> None:
    """Print problems one per line, each beginning with its cell reference."""
    if not problems:
        return
    title = (
        f"{len(problems)} problème(s) dans le registre (lignes ou valeurs concernées ignorées) :"
    )
    click.secho(title, fg="yellow", err=err)
    for problem in sorted(
        problems, key=lambda p: (p.location.tab, p.location.row or 0, p.location.column or 0)
    )[:limit]:
        click.echo(f"  {problem}", err=err)
    if len(problems) > limit:
        click.echo(
            f"  … et {len(problems) - limit} autre(s) : lancez « gt check » pour la liste complète.",
            err=err,
        )


def exit_for(problems: Sequence[Problem]) -> int:
    return EXIT_PROBLEMS if problems else 0


def standalone(command: click.Command) -> Callable[[], None]:
    """An entry point running one command on its own (`sync-eligibility`, …)."""

    def main() -> None:
        click_fr.install()
        command.main(args=sys.argv[1:], prog_name=command.name)

    return main


SLOW_AFTER = 1.5  # seconds before a step is announced on stderr


@contextmanager
def announce(step: str) -> Iterator[None]:
    """A status line on stderr, only when the step takes more than SLOW_AFTER seconds."""
    started = time.monotonic()
    shown = threading.Event()

    def show() -> None:
        shown.set()
        click.echo(f"{step}…", err=True)

    timer = threading.Timer(SLOW_AFTER, show)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        if shown.is_set():
            click.echo(f"{step} : terminé en {time.monotonic() - started:.1f} s.", err=True)


def read_registry(run: Session, *, allow_fatal: bool = False) -> Loaded:
    """`run.load()`, announced on stderr when the sheet is slow to come."""
    with announce(f"Lecture de {run.backend.description}"):
        return run.load(allow_fatal=allow_fatal)


# -- the drafting commands ----------------------------------------------------------------

PROGRESS_FROM = 200  # drafts: below this a run is too quick for a progress bar
TONES = {"warning": "yellow", "done": "green"}


@contextmanager
def progress(total: int) -> Iterator[Callable[[], None] | None]:
    """A progress bar on stderr for long runs; `None` (no bar) for short ones."""
    if total < PROGRESS_FROM:
        yield None
        return
    with click.progressbar(length=total, label="Rédaction", file=sys.stderr) as bar:
        yield lambda: bar.update(1)


def echo_lines(lines: Iterable[Line]) -> None:
    """Lines from the core on stderr, coloured by their tone."""
    for line in lines:
        text = click.style(line.text, fg=TONES[line.tone]) if line.tone else line.text
        click.echo(text, err=True)


def echo_warnings(drafted: Drafted) -> None:
    """Who got no draft, shown before anything is written."""
    echo_lines(drafted.warnings())


def echo_drafted(ctx: click.Context, drafted: Drafted) -> None:
    """A dry run's drafts on stdout, the summary on stderr; exit 1 when anyone was skipped."""
    for line in drafted.listing():
        click.echo(line)
    echo_lines(drafted.summary())
    failed = drafted.gmail_failure()
    if failed is not None:  # some drafts not written: said, recorded, exit 3
        raise failed
    if drafted.skipped:
        ctx.exit(EXIT_PROBLEMS)
