"""Output options checked before the registry is read: one naming the registry, the
configuration, a template folder (or a folder above them), or a path that is not a regular
file, is a wrong command line (exit 2); nothing is read or written."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import click

from ..files import (
    ProtectedOutput,
    check_output_file,
    check_outside_drafts,
    check_protected,
    protected_places,
)
from ..session import Session


def check_output_options(
    ctx: click.Context,
    run: Session,
    *,
    folder: Path | None = None,
    folder_option: str = "--out",
    file: Path | None = None,
    file_option: str = "--out",
    force: bool = False,
    extra: Iterable[Path] = (),
) -> None:
    """`folder` (`--out` of the drafts, `report --csv`) and `file` (`--mbox`, `--out`) checked by
    `files.check_protected` / `files.check_output_file`: a protected path is a
    `click.BadParameter` (exit 2); an existing file without `--force` is refused (exit 3)."""
    places = protected_places(run.config, extra)
    try:
        if folder is not None:
            check_protected(folder, places, option=folder_option, folder=True)
        if file is not None:
            if folder is not None and folder_option == "--out":  # `--mbox` inside `--out`
                check_outside_drafts(file, file_option, folder)
            check_output_file(file, places, force, option=file_option)
    except ProtectedOutput as err:
        param = next((p for p in ctx.command.params if err.option in getattr(p, "opts", ())), None)
        text = str(err).removeprefix(f"{err.option} ")  # Click names the option itself
        raise click.BadParameter(text, ctx=ctx, param=param) from err
