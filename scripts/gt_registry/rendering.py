"""The one Jinja environment of the project: sandboxed, strict, built in one place.

Staff edit the templates, so templates are treated as untrusted: `ImmutableSandboxedEnvironment`
(no attribute tricks, no mutation), `StrictUndefined` (a typo is an error, not a blank), and
a loader confined to the templates folder (no `../`). Work is bounded: a time limit and an
output-size limit per rendering (`Limits`: one message, or one contact file), checked at every
call, attribute access, arithmetic and output chunk; `'x' * 10**9` is refused before it is
computed, and runaway recursion is caught. Errors are re-raised as `TemplateFailure` naming the
template, the line and the person being rendered.
"""

from __future__ import annotations

import functools
import operator
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sized
from contextvars import ContextVar
from dataclasses import dataclass
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

from .config import Limits
from .errors import TemplateFailure

FILTERS: dict[str, Callable[..., Any]] = {}


MESSAGE_LIMITS = Limits(seconds=10.0, chars=5_000_000)  # one e-mail: generous
FILE_LIMITS = Limits(seconds=120.0, chars=500_000_000)  # one contact list or printable page


class LimitExceeded(Exception):
    """A rendering went past its `Limits` (raised inside Jinja, turned into TemplateFailure)."""


@dataclass
class _Budget:
    limits: Limits
    deadline: float

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded(
                f"le rendu dépasse {self.limits.seconds:g} s (boucle sans fin ou trop longue ?)"
            )

    def check_size(self, chars: int) -> None:
        if chars > self.limits.chars:
            raise LimitExceeded(
                f"le résultat dépasse {self.limits.chars:,} caractères".replace(",", " ")
            )


_BUDGET: ContextVar[_Budget | None] = ContextVar("gt_render_budget", default=None)
_DICT_ATTRIBUTES = frozenset(dir(dict))  # `d.items` is the method, never the key "items"


def _check_time() -> None:
    budget = _BUDGET.get()
    if budget is not None and time.monotonic() > budget.deadline:  # called very often: inline
        budget.check_time()


# Filters and str methods whose numbers say how big their result is: checked before they run
# (Jinja may even run a filter with constant arguments while compiling, outside any budget).
_WIDE_FILTERS = ("center", "indent", "format")
_WIDE_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "format"})
_NUMBERS = re.compile(r"\d+")


def _check_widths(values: Iterable[Any]) -> None:
    """Refuse any width or count beyond the rendering's size limit (or the message limit
    when no rendering is under way: compile-time folding), before anything is built."""
    budget = _BUDGET.get()
    limit = budget.limits.chars if budget is not None else MESSAGE_LIMITS.chars
    for value in values:
        numbers = [value] if isinstance(value, int) else []
        if isinstance(value, str) and ("%" in value or "{" in value):
            numbers = [int(n) for n in _NUMBERS.findall(value)]  # widths in a format string
        if any(n > limit for n in numbers):
            raise LimitExceeded(
                f"largeur ou taille demandée trop grande (limite : {limit:,})".replace(",", " ")
            )


def _bounded_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)  # keeps Jinja's pass_* marks
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _check_widths([*args, *kwargs.values()])
        return function(*args, **kwargs)

    return bounded


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, with the current rendering's budget checked at every step it offers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in _WIDE_FILTERS:
            self.filters[name] = _bounded_filter(self.filters[name])

    intercepted_binops = frozenset({"*", "**", "+"})

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        _check_time()
        budget = _BUDGET.get()
        if budget is not None:
            if op == "*" and isinstance(right, int) and isinstance(left, Sized):
                budget.check_size(len(left) * right)
            if op == "*" and isinstance(left, int) and isinstance(right, Sized):
                budget.check_size(len(right) * left)
            if op == "**" and isinstance(right, int) and right > 4096:
                raise LimitExceeded(f"puissance trop grande (** {right})")
        return {"*": operator.mul, "**": operator.pow, "+": operator.add}[op](left, right)

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_time()
        if isinstance(getattr(__obj, "__self__", None), str) and __obj.__name__ in _WIDE_METHODS:
            _check_widths([__obj.__self__, *args, *kwargs.values()])
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        budget = _BUDGET.get()  # `person.first_name`: the most frequent step, checks inline
        if budget is not None and time.monotonic() > budget.deadline:
            budget.check_time()
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES and attribute in obj:
            # What the sandbox returns too, once `getattr` has failed: a plain dict has no
            # attribute of that name (raising and catching that error is the costly part).
            return obj[attribute]
        if isinstance(obj, str) and attribute in ("format", "format_map"):
            _check_widths([obj])  # the sandbox wraps str.format: its widths are checked here
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _check_time()
        return super().getitem(obj, argument)


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
    env = BoundedEnvironment(
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
            f"{err.filename or folders[0] / name}, ligne {err.lineno} : erreur de syntaxe dans le modèle : {err.message}",
            "corrigez cette ligne du modèle (chaque {% if %} ou {% for %} a son {% endif %} ou "
            "{% endfor %}), puis relancez ; rien n'a été écrit",
        ) from err


def render(
    template: Template,
    context: Mapping[str, Any],
    who: str = "",
    limits: Limits = MESSAGE_LIMITS,
) -> str:
    """Render within `limits`, with the template's name, the line and `who` in any error."""
    budget = _Budget(limits, time.monotonic() + limits.seconds)
    token = _BUDGET.set(budget)
    try:
        return _bounded(template, context, budget)
    except (
        LimitExceeded,
        RecursionError,
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
            else "limite dépassée dans le modèle"
            if isinstance(err, LimitExceeded | RecursionError)
            else "erreur dans le modèle"
        )
        detail = "appels récursifs sans fin" if isinstance(err, RecursionError) else err
        raise TemplateFailure(
            f"{place} : {kind}{target} : {detail}", "corrigez le modèle ; rien n'a été écrit"
        ) from err
    finally:
        _BUDGET.reset(token)


def _bounded(template: Template, context: Mapping[str, Any], budget: _Budget) -> str:
    """`template.render(context)`, chunk by chunk, stopped as soon as a limit is passed."""
    chunks: list[str] = []
    size = 0
    chars, deadline, monotonic = budget.limits.chars, budget.deadline, time.monotonic
    for chunk in template.generate(context):  # the two checks inline: dozens per message
        size += len(chunk)
        if size > chars:
            budget.check_size(size)
        if monotonic() > deadline:
            budget.check_time()
        chunks.append(chunk)
    return "".join(chunks)


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
