"""What every command shares: settings from the command line, the configuration loaded once,
the backend, and "today". Plain Python; the Click layer fills `Settings`."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from . import clock
from .backends import Backend, Snapshot, open_backend
from .config import Config, load_config
from .errors import SourceError
from .loader import LoadResult, load_registry


@dataclass
class Settings:
    config_path: Path | None = None
    sheet: str | None = None
    credentials: Path | None = None
    as_of: dt.date | None = None
    debug: bool = False
    gmail: bool = False  # --gmail: the run also reads and writes the Brouillons tab


@dataclass
class Loaded:
    snapshot: Snapshot
    result: LoadResult


@contextmanager
def paused_gc() -> Iterator[None]:
    """Reading builds hundreds of thousands of lists and records and no reference cycles: the
    cyclic garbage collector would rescan them again and again (half the parse time at 100k
    rows). Reference counting still frees memory as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Session:
    """One run of one command. Everything is computed lazily, at most once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def config(self) -> Config:
        config = load_config(
            self.settings.config_path,
            sheet=self.settings.sheet,
            credentials=self.settings.credentials,
        )
        return config.with_tabs("drafts") if self.settings.gmail else config

    @property
    def today(self) -> dt.date:
        return self.settings.as_of or clock.today(self.config.timezone)

    @property
    def now(self) -> dt.datetime:
        """The time of this run (Journal rows, drafts' `Date:`), in the configured timezone."""
        return clock.now(self.config.timezone)

    @cached_property
    def backend(self) -> Backend:
        return open_backend(self.config)

    def load(self, *, allow_fatal: bool = False) -> Loaded:
        """Read the registry once (one request on Google Sheets) and parse it.

        A missing tab or required header raises `SourceError` (exit 3) unless `allow_fatal`."""
        with paused_gc():
            snapshot = self.backend.read()
            result = load_registry(snapshot, self.config, self.today)
        result.problems[:0] = snapshot.problems  # found while reading (a stray far cell)
        if result.fatal and not allow_fatal:
            lines = "\n".join(f"  {p}" for p in result.fatal)
            raise SourceError(
                f"{self.backend.description} : le registre est incomplet, rien n'a été fait :\n{lines}",
                "corrigez l'onglet ou l'en-tête indiqué (ou lancez « gt init » pour les créer), puis relancez",
            )
        return Loaded(snapshot, result)

    @contextmanager
    def writing(
        self, notice: Callable[[str], None] | None = None, *, dry_run: bool = False
    ) -> Iterator[None]:
        """Entered before the read by every command that writes, left after its write: the
        backend's exclusive lock (a lock file beside a workbook), so no other run writes in
        between and both runs' Journal rows are kept. `notice` is told when it must wait. A
        dry run takes no lock."""
        if dry_run:
            yield
            return
        with self.backend.exclusive(notice):
            yield
