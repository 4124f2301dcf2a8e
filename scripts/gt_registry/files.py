"""The one way the tool replaces a file: write beside it, make it durable, rename over it.

A reader never sees half a file and a failure (or a killed run) leaves the old file. A symbolic
link is followed: the file it points to is replaced and the link kept. The new file keeps the
old one's permissions, or follows the umask when it is new.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

TEMP_PREFIX = ".gt-"  # temporary files of the tool start with this (a killed run may leave one)


def umask() -> int:
    """The process umask (reading it means setting it: put it straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, save: Callable[[Path], None], *, suffix: str = ".tmp") -> None:
    """`save(temp)` writes the new content into `temp`, which then replaces `path` atomically.

    Raises `OSError` (the caller names the file and the fix); nothing is left behind."""
    target = Path(os.path.realpath(path))
    handle, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=suffix, dir=target.parent)
    os.close(handle)
    temp = Path(name)
    try:
        save(temp)
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~umask()
        os.chmod(temp, mode)
        with open(temp, "rb") as stream:
            os.fsync(stream.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace `path` by `data`, atomically (see `atomic_write`)."""

    def save(temp: Path) -> None:
        temp.write_bytes(data)

    atomic_write(path, save)
