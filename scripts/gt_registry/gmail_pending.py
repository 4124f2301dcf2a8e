"""Gmail drafts written but not yet recorded in the registry, kept on this computer.

A `--gmail` run writes its drafts first, then records them in `Brouillons` within its one
registry write. Should that write fail (the registry unreachable, the workbook changed
meanwhile) or the run be killed in between, the drafts exist in Gmail with no record, and a
re-run would create them a second time. So each draft is also noted here the moment Gmail
confirms it: one JSON line, flushed to disk, in the user's state folder (platformdirs), one
file per registry. The next `--gmail` run on the same registry reads these records as if they
were in `Brouillons` (after its rows: the latest wins), writes them there with its own, and
removes the file once that write went through.

What it does not cover: a create still under way when the run was killed (its answer never
came), and a re-run from another computer.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from .errors import SourceError
from .gmail_plan import Record

APP_NAME = "gt-registry"
FOLDER = "brouillons-gmail"


def path_for(location: str) -> Path:
    """The file of the registry at `location` (a workbook's real path, a sheet's address)."""
    import platformdirs

    name = hashlib.sha256(location.encode()).hexdigest()[:24] + ".jsonl"
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False)) / FOLDER / name


def note(path: Path, records: list[Record]) -> None:
    """`records` added to the file, on disk before this returns."""
    if not records:
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _exclusive(path):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, _lines(records))
            os.fsync(fd)
        finally:
            os.close(fd)


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """The notes and forgets of runs at the same time, one after the other: a lock file
    beside `path` (advisory; where the system has none, Windows, they stay unlocked)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(path.with_name(path.name + ".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # the lock goes with it


def read(path: Path) -> list[Record]:
    """The records noted, in order; a line cut short by a kill is skipped."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    except OSError as err:
        raise SourceError(
            f"{path} : impossible de lire les brouillons Gmail notés sur cet ordinateur ({err.strerror or err})",
            "regardez dans Gmail → Brouillons si des brouillons d'un passage précédent y sont "
            "déjà sans figurer dans l'onglet Brouillons du registre : supprimez-les (sinon ils "
            "seraient recréés en double), puis déplacez ce fichier ailleurs et relancez",
        ) from err
    records = []
    # JSON escapes "\n" but not "\x85" or "\u2028", where splitlines() would cut too
    for line in text.split("\n"):
        try:
            record = Record(**json.loads(line))
        except (ValueError, TypeError):
            continue
        if _well_formed(record):
            records.append(record)
    return records


def _well_formed(record: Record) -> bool:
    texts = (record.key, record.person, record.mailbox, record.draft_id, record.message_id)
    return (
        all(isinstance(t, str) and t for t in texts[:4])
        and isinstance(record.message_id, str)
        and isinstance(record.digest, str)
        and isinstance(record.when, str)
        and (record.sequence is None or type(record.sequence) is int)
    )


def forget(path: Path, recorded: list[Record]) -> None:
    """The records now held by the registry removed; any other (noted meanwhile by another
    run) kept."""
    if not path.exists():
        return
    from .files import atomic_write

    with _exclusive(path):
        kept = [r for r in read(path) if r not in recorded]
        if not kept:
            path.unlink(missing_ok=True)
            return

        def save(temp: Path) -> None:
            temp.write_bytes(_lines(kept))

        atomic_write(path, save, mode=0o600)


def _lines(records: list[Record]) -> bytes:
    return "".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in records).encode()
