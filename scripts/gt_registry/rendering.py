"""The one Jinja environment of the project: sandboxed, strict, built in one place.

Staff edit the templates, so templates are treated as untrusted: `ImmutableSandboxedEnvironment`
(no attribute tricks, no mutation), `StrictUndefined` (a typo is an error, not a blank), and
a loader confined to the templates folder (no `../`). Errors are re-raised as
`TemplateFailure` naming the template, the line and the person being rendered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
    select_autoescape,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from .errors import TemplateFailure

FILTERS: dict[str, Callable[..., Any]] = {}


def template_filter(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a filter available to every template (`@template_filter("csv_cell")`)."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        FILTERS[name] = function
        return function

    return register


Folders = tuple[Path, ...]


def find_template(folders: Folders, name: str) -> Path | None:
    """The file `name` in the first of `folders` that has it (staff's own, then the default)."""
    return next((folder / name for folder in folders if (folder / name).is_file()), None)


def template_names(folders: Folders, pattern: str) -> set[str]:
    """The names of the templates matching `pattern` in any of `folders`."""
    return {p.name for folder in folders if folder.is_dir() for p in folder.glob(pattern)}


@lru_cache(maxsize=8)
def environment(folders: Folders) -> ImmutableSandboxedEnvironment:
    """The environment for templates under `folders`, first found wins (HTML autoescaped)."""
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader([str(folder) for folder in folders]),
        undefined=StrictUndefined,
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "html.j2"), default_for_string=False
        ),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    return env


def load_template(folders: Folders, name: str) -> Template:
    """Compile `name` once per run; syntax errors name the file and the line."""
    env = environment(folders)
    env.filters.update(FILTERS)
    try:
        return env.get_template(name)
    except TemplateNotFound as err:
        raise TemplateFailure(
            f"{folders[0] / name} : modèle introuvable",
            "vérifiez le nom du modèle et le dossier des modèles (paths.templates)",
        ) from err
    except TemplateSyntaxError as err:
        raise TemplateFailure(
            f"{err.filename or folders[0] / name}, ligne {err.lineno} : erreur de syntaxe dans le modèle : {err.message}"
        ) from err


def render(template: Template, context: Mapping[str, Any], who: str = "") -> str:
    """Render with the template's name, the line and `who` in any error message."""
    try:
        return template.render(context)
    except (
        UndefinedError,
        SecurityError,
        TemplateError,
        TypeError,
        ValueError,
        ArithmeticError,
        AttributeError,
    ) as err:
        line = _template_line(err, template)
        place = f"{template.filename or template.name}" + (f", ligne {line}" if line else "")
        target = f" (pour {who})" if who else ""
        kind = (
            "accès interdit dans le modèle"
            if isinstance(err, SecurityError)
            else "erreur dans le modèle"
        )
        raise TemplateFailure(
            f"{place} : {kind}{target} : {err}", "corrigez le modèle ; rien n'a été écrit"
        ) from err


def _template_line(err: BaseException, template: Template) -> int | None:
    """The template line of the innermost traceback frame that belongs to the template.

    Jinja has already rewritten those frames so that their line numbers are the template's."""
    tb = err.__traceback__
    line = None
    filename = template.filename
    while tb is not None:
        if filename and tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
