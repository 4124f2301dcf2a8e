"""The one way the tool replaces a file: write beside it, make it durable, rename over it.

A reader never sees half a file and a failure (or a killed run) leaves the old file. A symbolic
link is followed: the file it points to is replaced and the link kept. The new file keeps the
old one's permissions, or follows the umask when it is new.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import EXIT_USAGE, RegistryError

if TYPE_CHECKING:
    from .config import Config

TEMP_PREFIX = ".gt-"  # temporary files of the tool start with this (a killed run may leave one)


def umask() -> int:
    """The process umask (reading it means setting it: put it straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(
    path: Path, save: Callable[[Path], None], *, suffix: str = ".tmp", mode: int | None = None
) -> None:
    """`save(temp)` writes the new content into `temp`, which then replaces `path` atomically.
    `mode`: the new file's permissions (a secret: 0o600, from the temporary file's creation);
    by default the old file's, or the umask's for a new one.

    Raises `OSError` (the caller names the file and the fix); nothing is left behind."""
    target = Path(os.path.realpath(path))
    handle, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=suffix, dir=target.parent)
    os.close(handle)  # mkstemp makes it 0600: a secret is never readable by others
    temp = Path(name)
    try:
        save(temp)
        if mode is None:
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


# -- what an output option may replace ------------------------------------------------------
#
# The tool replaces only what it made (see docs: "What the tool may change or delete"): never
# the registry, the configuration, a template folder or anything above them, and an existing
# output file only with --force, only a regular file.


class OutputRefused(RegistryError):
    """An output cannot be written where it was asked; nothing was written (exit 3)."""

    def __init__(self, message: str, hint: str = "", *, option: str = "") -> None:
        super().__init__(message, hint)
        self.option = option


class ProtectedOutput(OutputRefused):
    """An output option names the registry, the configuration, a template folder, something
    above them, or a path that is not a regular file: a wrong command line (exit 2)."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class Place:
    """Something no output may replace: its resolved path, and what it is (for the message)."""

    path: Path
    what: str
    folder: bool = False  # a template folder: nothing may be written inside it either


def resolved(path: Path) -> Path:
    return Path(os.path.realpath(path))


def protected_places(config: Config, extra: Iterable[Path] = ()) -> tuple[Place, ...]:
    """The registry (a local workbook), the configuration file, every template folder, and
    `extra` files (a custom `--template`)."""
    from .backends import google_key

    places = []
    if google_key(config.sheet) is None:
        places.append(Place(resolved(Path(config.sheet)), "le registre"))
    if config.source_file is not None:
        places.append(Place(resolved(config.source_file), "le fichier de configuration"))
    for root in config.template_roots:
        places.append(Place(resolved(root), "un dossier de modèles", folder=True))
    return (*places, *protected_places_of(extra))


def protected_places_of(paths: Iterable[Path], what: str = "un modèle") -> tuple[Place, ...]:
    """Protected places without a configuration: these files only."""
    return tuple(Place(resolved(p), what) for p in paths)


def _same(path: Path, place: Path) -> bool:
    try:
        return os.path.samefile(path, place)  # also a hard link or a symbolic link to it
    except OSError:
        return False


def named(option: str, path: Path) -> str:
    """`path` as the message names it: after its option (`--out X`), or followed by the
    configuration key it comes from (`X ([paths] drafts dans config/gt.toml)`)."""
    return f"{option} {path}" if option.startswith("-") else f"{path} ({option})"


def choose(option: str, what: str) -> str:
    """« choisissez pour --out `what` », or for a configuration key « changez … : `what` »."""
    if option.startswith("-"):
        return f"choisissez pour {option} {what}"
    return f"{another(option)} : {what}"


def another(option: str) -> str:
    """The fix that changes the path: another value of the option, or of the configuration key
    (`option` is then « [paths] drafts dans FICHIER »: the user gave no option)."""
    if option.startswith("-"):
        return f"choisissez un autre {option}"
    return f"changez {option} (ou donnez --out DOSSIER)"


def check_protected(path: Path, places: Sequence[Place], *, option: str, folder: bool) -> None:
    """`ProtectedOutput` when `path` is one of `places`, lies in a template folder, or (for
    a folder to fill) is above one of them; nothing is read or written."""
    real = resolved(path)
    for place in places:
        if real == place.path or _same(path, place.path):
            raise ProtectedOutput(
                f"{named(option, path)} : c'est {place.what} ({place.path}) : rien n'a été écrit",
                f"{another(option)} : l'outil ne remplace jamais {place.what}",
                option=option,
            )
        if place.folder and place.path in real.parents:
            raise ProtectedOutput(
                f"{named(option, path)} : dans {place.what} ({place.path}) : rien n'a été écrit",
                f"{another(option)}, hors des dossiers de modèles",
                option=option,
            )
        if folder and real in place.path.parents:
            raise ProtectedOutput(
                f"{named(option, path)} : ce dossier contient {place.what} ({place.path}) : rien n'a été écrit",
                choose(
                    option,
                    f"un dossier à part, nouveau ou vide (par exemple {path / 'brouillons'})",
                ),
                option=option,
            )


DRAFTS_MARKER = ".gt-brouillons"  # the marker of a drafts folder (`mail.MARKER`)


def check_outside_drafts(path: Path, option: str, folder: Path | None = None) -> None:
    """`ProtectedOutput` when the output file `path` would collide with the tool's own files:
    it lies in `folder` (the drafts folder being written) or in any drafts folder of the tool
    (one with the marker), or it bears the marker's name. A run would overwrite it, or it would
    overwrite a draft or the marker."""
    real = resolved(path)
    inside = folder is not None and (real == resolved(folder) or resolved(folder) in real.parents)
    where = resolved(folder) if inside and folder is not None else real.parent
    if inside or os.path.lexists(real.parent / DRAFTS_MARKER):
        what = f"dans le dossier de brouillons {where}"
    elif real.name == DRAFTS_MARKER:
        what = f"c'est le nom du marqueur des dossiers de brouillons ({DRAFTS_MARKER})"
    else:
        return
    example = (
        f" (par exemple {where.name or 'brouillons'}.mbox à côté)" if option == "--mbox" else ""
    )
    raise ProtectedOutput(
        f"{option} {path} : {what} : rien n'a été écrit",
        f"{another(option)}, hors des dossiers de brouillons de l'outil{example}",
        option=option,
    )


# What a file the tool may replace can begin with: `--mbox` writes an mbox, the other output
# files (contacts, report) are text (CSV, vCard, HTML, JSON). Never a workbook, an office
# document, an archive, a PDF, or any binary file it never writes.
FOREIGN_MAGIC = (
    (b"PK\x03\x04", "un classeur, un document Office ou une archive zip"),
    (b"\xd0\xcf\x11\xe0", "un document Office (ancien format)"),
    (b"%PDF", "un document PDF"),
)
SNIFF = 8192  # bytes read to tell


def foreign_content(head: bytes, *, mbox: bool) -> str:
    """What the start `head` of an existing file says it is, when the tool never writes such a
    file ("" when it may replace it)."""
    for magic, what in FOREIGN_MAGIC:
        if head.startswith(magic):
            return what
    if b"\x00" in head:
        return "un fichier binaire"
    if mbox and head and not head.startswith(b"From "):
        return "pas un fichier mbox (il ne commence pas par « From »)"
    return ""


def check_output_file(
    path: Path,
    config: Config | Sequence[Place],
    force: bool,
    *,
    option: str = "--out",
    mbox: bool | None = None,
) -> None:
    """May `path` be written as an output file? Refused (nothing written) when it is the
    registry, the configuration or a template (`ProtectedOutput`, exit 2), in a drafts folder
    of the tool, not a regular file (a folder, a device, a FIFO, a broken link: exit 2), an
    existing file without `force` (`OutputRefused`, exit 3), with `force` an existing file the
    tool never writes (not an mbox for `--mbox`, `mbox` by default; a workbook, a zip, a PDF or
    other binary for any: exit 2), a read-only file, or in a missing or read-only folder
    (`OutputRefused`, exit 3).

    `config` gives the protected places (or pass `protected_places(...)` directly). A symbolic
    link to a regular file is followed: the file it points to is replaced, the link kept."""
    from .config import Config

    places = protected_places(config) if isinstance(config, Config) else tuple(config)
    check_protected(path, places, option=option, folder=False)
    check_outside_drafts(path, option)
    try:
        link = os.lstat(path)
    except FileNotFoundError:
        link = None
    except OSError as err:
        raise refused(err, path, option) from err
    if link is not None:
        try:
            target = os.stat(path)
        except FileNotFoundError as err:
            raise ProtectedOutput(
                f"{option} {path} : lien symbolique vers un fichier absent ({os.readlink(path)}) : rien n'a été écrit",
                f"donnez à {option} le chemin du fichier lui-même, ou un nouveau nom",
                option=option,
            ) from err
        if not stat.S_ISREG(target.st_mode):
            kind = "un dossier" if stat.S_ISDIR(target.st_mode) else "un fichier spécial"
            raise ProtectedOutput(
                f"{option} {path} : c'est {kind}, pas un fichier ordinaire : rien n'a été écrit",
                f"donnez à {option} un nom de fichier (nouveau, ou un fichier ordinaire avec --force)",
                option=option,
            )
        if not force:
            raise OutputRefused(
                f"{path} existe déjà : rien n'a été écrit",
                f"ajoutez --force pour le remplacer, ou choisissez un autre {option}",
                option=option,
            )
        check_replaceable(path, option, mbox=option == "--mbox" if mbox is None else mbox)
        if not os.access(path, os.W_OK):
            raise OutputRefused(
                f"{path} est en lecture seule : rien n'a été écrit",
                f"rendez-le modifiable (Propriétés › décocher Lecture seule, ou chmod u+w), ou choisissez un autre {option}",
                option=option,
            )
    check_folder_writable(resolved(path).parent if link else path.parent, option)


def check_replaceable(path: Path, option: str, *, mbox: bool) -> None:
    """`ProtectedOutput` when the existing regular file `path`, which `--force` asks to
    replace, is not one the tool writes (`foreign_content`): it never replaces it. A file that
    cannot be read is refused too: nothing tells what it is."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(SNIFF)
    except OSError as err:
        raise OutputRefused(
            f"{path} : illisible ({err.strerror or err}), rien ne dit que l'outil l'a écrit : rien n'a été écrit",
            f"{another(option)}, ou rendez-le lisible",
            option=option,
        ) from err
    what = foreign_content(head, mbox=mbox)
    if what:
        only = "qu'un fichier mbox" if mbox else "qu'un fichier texte (CSV, vCard, HTML, JSON)"
        raise ProtectedOutput(
            f"{option} {path} : c'est {what} : rien n'a été écrit"
            if not what.startswith("pas ")
            else f"{option} {path} : {what} : rien n'a été écrit",
            f"{another(option)} : même avec --force, l'outil ne remplace {only}, jamais un autre fichier",
            option=option,
        )


def check_folder_writable(folder: Path, option: str) -> None:
    """`OutputRefused` when `folder` (where a file will be created) is missing or read-only."""
    folder = folder if str(folder) else Path(".")
    if not folder.is_dir():
        raise OutputRefused(
            f"{folder} : dossier introuvable : rien n'a été écrit",
            f"créez d'abord ce dossier, ou {another(option)}",
            option=option,
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputRefused(
            f"{folder} : dossier en lecture seule (droits insuffisants) : rien n'a été écrit",
            f"donnez-vous le droit d'y écrire, ou {another(option)}",
            option=option,
        )


def refused(err: OSError, path: Path, option: str = "") -> OutputRefused:
    """An `OSError` while writing `path`, as a French message with the fix (exit 3)."""
    where = f"ou {another(option)}" if option else "ou choisissez un autre emplacement"
    code = err.errno
    if code in (errno.EACCES, errno.EPERM):
        message, hint = (
            "écriture refusée (droits insuffisants)",
            f"donnez-vous le droit d'écrire dans ce dossier, {where}",
        )
    elif code == errno.EROFS:
        fix = where.removeprefix("ou ")
        message, hint = "support en lecture seule", fix[:1].upper() + fix[1:]
    elif code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        message, hint = (
            "disque plein (ou quota atteint)",
            f"libérez de la place puis relancez, {where}",
        )
    elif code == errno.ENOENT:
        message, hint = "dossier introuvable", f"créez d'abord le dossier, {where}"
    elif code == errno.ENAMETOOLONG:
        message, hint = (
            "nom de fichier trop long",
            f"choisissez un chemin plus court, {where.removeprefix('ou ')}",
        )
    else:
        message, hint = err.strerror or str(err), f"vérifiez le dossier, {where}"
    return OutputRefused(f"{path} : {message} : rien n'a été écrit", hint, option=option)
