"""Click's own messages in French: a gettext catalogue for Click's strings, French quotes and
"vouliez-vous dire" hints for the errors Click builds itself.

Why the global gettext domain: Click marks its strings with `from gettext import gettext as _`
(and `ngettext`), bound at import, so only the module-level gettext functions reach them; there
is no per-library translations object to hand to Click. `install()` therefore binds the domain
`click` to our `locale/` folder, makes it the process's current domain and puts `fr` first in
`LANGUAGE` (Python's gettext reads the language from the environment, never from the system
locale, so nothing needs `fr_FR` to be installed). The catalogue holds only Click's msgids, so
other code calling `gettext.gettext` gets its English back unchanged; libraries with a domain of
their own would see `fr` first in `LANGUAGE`, which is what a French tool wants anyway.

The catalogue is `locale/fr/LC_MESSAGES/click.po`, compiled into the `.mo` next to it by
`python -m gt_registry.click_fr` (gettext reads only `.mo` files); a test fails, naming them,
when Click gains a string the `.po` lacks or when the `.mo` is older than the `.po`.
"""

from __future__ import annotations

import ast
import gettext
import os
import re
import struct
from pathlib import Path
from typing import Any

import click

from . import parsing

DOMAIN = "click"
LOCALE_DIR = Path(__file__).with_name("locale")
PO_FILE = LOCALE_DIR / "fr" / "LC_MESSAGES" / f"{DOMAIN}.po"
MO_FILE = PO_FILE.with_suffix(".mo")

# A msgid: the string, or (singular, plural) for ngettext. A translation: one string per form.
MsgId = str | tuple[str, str]


def install() -> None:
    """Route Click's gettext calls to the French catalogue (idempotent, no system locale)."""
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    languages = os.environ.get("LANGUAGE", "")
    if languages.split(":")[0] != "fr":
        os.environ["LANGUAGE"] = f"fr:{languages}" if languages else "fr"


# -- how a command-line error shows ---------------------------------------------------------


def show_usage_error(self: click.UsageError, file: Any = None) -> None:
    """A command-line error as every error of the tool: « Erreur : … » first, then what to do
    (`  → …`): the message's own fix when it has one, else « Essayez « gt X --help » » and the
    usage line. Click's own `show` prints the usage, the help hint and a blank line before the
    error."""
    from gettext import gettext as _

    def say(text: str) -> None:
        click.echo(text, file=file, err=file is None, color=color)  # stderr by default

    color = self.ctx.color if self.ctx is not None else None
    message = self.format_message()
    say(_("Error: {message}").format(message=message))
    if self.ctx is None or "\n  → " in message:  # a fix of its own (an output refused)
        return
    help_names = self.ctx.command.get_help_option_names(self.ctx)
    if self.ctx.command.get_help_option(self.ctx) is not None and help_names:
        hint = _("Try '{command} {option}' for help.").format(
            command=self.ctx.command_path, option=max(help_names, key=len)
        )
        say(f"  → {hint}")
    say(self.ctx.get_usage())


click.UsageError.show = show_usage_error  # type: ignore[method-assign]  # every command's errors


# -- the errors whose wording Click builds outside its catalogue ---------------------------


def french_quotes(hint: str) -> str:
    """Click's `'--format' / '-f'` as `« --format » / « -f »`."""
    return re.sub(r"'([^']*)'", r"« \1 »", hint)


def suggestion(name: str) -> str:
    return f"Vouliez-vous dire « {name} » ?"


# An option's metavar is its type's English name (`--group TEXT`) unless it has one of its own.
METAVARS = {
    "text": "TEXTE",
    "integer": "ENTIER",
    "integer range": "ENTIER",
    "float": "NOMBRE",
    "float range": "NOMBRE",
    "boolean": "BOOLÉEN",
}


class FrenchCommand(click.Command):
    """A command whose metavars are French and whose parse errors quote parameters and suggest
    in French."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            french = METAVARS.get(param.type.name)
            if isinstance(param, click.Option) and param.metavar is None and french:
                param.metavar = french + ("..." if param.nargs != 1 else "")

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as err:
            if not err.possibilities:
                raise
            # The nearest only (difflib puts it first); Click would list up to three.
            message = f"{err.message} {suggestion(err.possibilities[0])}"
            raise click.NoSuchOption(err.option_name, message=message, ctx=err.ctx) from None
        except click.BadParameter as err:
            if err.param_hint is None and err.param is not None:
                err.param_hint = french_quotes(err.param.get_error_hint(ctx))
            raise


class FrenchGroup(FrenchCommand, click.Group):
    """A group that also suggests the nearest command (Click looks only in `self.commands`,
    empty for a lazily loaded group)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("subcommand_metavar", "COMMANDE [ARGUMENTS]...")  # not in gettext
        super().__init__(*args, **kwargs)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.NoSuchOption:
            raise
        except click.UsageError as err:
            name = str(args[0]) if args else ""
            near = parsing.closest(name, self.list_commands(ctx))
            if near is None or self.get_command(ctx, name) is not None:
                raise
            raise click.UsageError(f"{err.message} {suggestion(near)}", ctx) from None


# -- the catalogue: a small .po reader and .mo writer ---------------------------------------


def read_po(path: Path = PO_FILE) -> dict[MsgId, tuple[str, ...]]:
    """The entries of a simple `.po` (msgid, msgid_plural, msgstr, msgstr[n], continued lines,
    comments), the header (msgid "") included."""
    entries: dict[MsgId, tuple[str, ...]] = {}
    fields: dict[str, str] = {}
    current = ""

    def flush() -> None:
        if "msgid" in fields:
            msgid: MsgId = fields["msgid"]
            if "msgid_plural" in fields:
                msgid = (fields["msgid"], fields["msgid_plural"])
            forms = sorted(k for k in fields if k.startswith("msgstr"))
            entries[msgid] = tuple(fields[k] for k in forms)
        fields.clear()

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            keyword, rest = current, line
        elif keyword == "msgid":
            flush()
        if not (rest.startswith('"') and rest.endswith('"')):
            raise ValueError(f"{path.name}:{number} : ligne illisible : {raw}")
        text: Any = ast.literal_eval(rest)
        current = keyword
        fields[keyword] = fields.get(keyword, "") + text if line.startswith('"') else text
    flush()
    return entries


def mo_bytes(entries: dict[MsgId, tuple[str, ...]]) -> bytes:
    """The GNU `.mo` file for these entries (no hash table: Python's gettext does not use it)."""
    pairs = sorted(
        (
            ("\0".join(msgid) if isinstance(msgid, tuple) else msgid).encode(),
            "\0".join(forms).encode(),
        )
        for msgid, forms in entries.items()
    )
    count = len(pairs)
    originals_at = 7 * 4
    translations_at = originals_at + count * 8
    data_at = translations_at + count * 8
    table, data = [], b""
    for strings in (
        [original for original, _ in pairs],
        [translation for _, translation in pairs],
    ):
        for string in strings:
            table.append((len(string), data_at + len(data)))
            data += string + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, count, originals_at, translations_at, 0, data_at)
    return header + b"".join(struct.pack("<2I", *row) for row in table) + data


def build() -> None:
    """Compile the `.po` into the `.mo` beside it."""
    MO_FILE.write_bytes(mo_bytes(read_po()))


if __name__ == "__main__":
    build()
