"""The local workbook backend: read with python-calamine (fast, also `.ods`), write the
tool-owned tabs without touching anything else.

Every write — a sync, a Journal row, `gt init` on an existing workbook, the first write of a
tab that does not exist yet — goes through one lossless writer: the workbook is read once into
memory, a new zip is written beside it with the owned tabs' worksheet parts generated and every
other member copied as it was (its bytes, its compression method), and it replaces the
workbook atomically (`files.atomic_write`). A new tab is a new worksheet part added to the
package (workbook.xml, its relationships, the content types, docProps/app.xml's titles), never
a load and save of the whole workbook: nothing staff keep is lost (cached values of formulas,
pictures, charts, comments, formats, names...), even what no Python library understands.

Only public, documented `zipfile` calls are used. The file is refused if it changed since it
was read (size, mtime, hash). Writers take a lock file beside the workbook, in LibreOffice's own
`.~lock.NAME#` format (`WorkbookLock`), so two gt runs never write at once and a staff member's
LibreOffice shows who holds the workbook.

Reading is bounded: a stray value far away (`Présences!XFD1048576`) would make calamine
allocate the whole rectangle, so such cells are cut out of an in-memory copy and reported.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import io
import math
import os
import posixpath
import re
import socket
import stat
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import unquote
from xml.etree import ElementTree as ET

from ..errors import SourceError, WriteFailed
from ..files import TEMP_PREFIX, atomic_write
from ..model import Location, Problem, Rows, Value, column_letter, column_number
from . import (
    NOTHING_APPENDED,
    InitReport,
    Snapshot,
    TabLayout,
    header_spellings,
    match_tabs,
    tab_names,
)

try:  # the lock's liveness test; absent on Windows, where the recorded pid decides
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from ..config import Config
    from ..initplan import Dropdown, TabPlan

Notice = Callable[[str], None]
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a Compound File: .xls, or an encrypted .xlsx
LOCK_WAIT = 30.0  # seconds another gt run's lock is waited for before refusing
LOCK_POLL = 0.2
# A test (tests/test_faults.py) may set this to raise at named points of a write.
FAULT_HOOK: Callable[[str], None] | None = None


def _fault(point: str) -> None:
    if FAULT_HOOK is not None:
        FAULT_HOOK(point)


def check_workbook_path(path: Path) -> None:
    """`SourceError` when `path` exists but is not a regular file (a folder, a device such as
    /dev/null, a FIFO): no workbook can be read there or written, and « introuvable » or a
    format would be the wrong reason."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing (or unreadable): the read or the write says so
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise SourceError(
            f"{path} : c'est un dossier, pas un classeur",
            "indiquez avec --sheet (ou sheet = … dans gt.toml) le fichier .xlsx lui-même, "
            f"par exemple {path / 'registre-gt.xlsx'}",
        )
    raise SourceError(
        f"{path} : pas un fichier ordinaire (périphérique, tube…), pas un classeur",
        "indiquez avec --sheet (ou sheet = … dans gt.toml) le chemin d'un fichier .xlsx",
    )


class WorkbookBackend:
    def __init__(self, path: Path, config: Config) -> None:
        self.path = path
        self.config = config
        self.description = f"classeur {path}"
        self.location = os.path.realpath(path)
        self._lock: WorkbookLock | None = None  # held by `exclusive()`

    def identity(self) -> str:
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "inconnu"

    # -- the lock ------------------------------------------------------------------------
    @contextmanager
    def exclusive(self, notice: Notice | None = None) -> Iterator[None]:
        """The workbook's lock, from the read to the write (re-entrant within a run)."""
        if self._lock is not None or not Path(os.path.realpath(self.path)).parent.is_dir():
            yield  # held already; or no folder, so no workbook to protect (yet: `gt init`)
            return
        lock = WorkbookLock(self.path)
        lock.acquire(notice)
        self._lock = lock
        try:
            _clean_temporaries(self.path)
            yield
        finally:
            self._lock = None
            lock.release()

    # -- reading -----------------------------------------------------------------------
    def read(self) -> Snapshot:
        check_workbook_path(self.path)
        if not self.path.is_file():
            raise SourceError(
                f"{self.path} : classeur introuvable",
                "créez-le avec « gt init » (ou « gt init --demo »), ou indiquez --sheet",
            )
        try:
            source = _Source.load(self.path)
        except OSError as err:
            raise SourceError(
                f"{self.path} : lecture impossible ({err.strerror or err})",
                "vérifiez que le fichier existe et que vous avez le droit de le lire",
            ) from err
        return self._snapshot(source)

    def _snapshot(self, source: _Source) -> Snapshot:
        _refuse_encrypted(self.path, source.data)
        tabs, existing, problems = _read_tabs(self.path, source.data, tab_names(self.config))
        found = match_tabs(tab_names(self.config), existing)
        actual = {wanted: real for wanted, real in found.items() if wanted != real}
        return Snapshot(
            tabs={wanted: tabs[real] for wanted, real in found.items()},
            existing=tuple(existing),
            actual=actual,
            version=source.version,
            problems=problems,
        )

    # -- writing -----------------------------------------------------------------------
    def write(
        self,
        contents: dict[str, Rows],
        previous: Snapshot,
        appended: Mapping[str, Rows] = NOTHING_APPENDED,
    ) -> None:
        """Replace the owned tabs in `contents`, append `appended`'s rows to what those tabs
        hold at write time (the lock is held: no other gt run can add a row in between)."""
        staff = [t.name for t in self.config.staff_tabs.values()]
        asked = [*contents, *appended]
        forbidden = sorted(set(match_tabs(asked, staff).values()) | (set(asked) & set(staff)))
        if forbidden:
            raise SourceError(
                f"écriture refusée dans un onglet du personnel : {', '.join(forbidden)}"
            )
        if not contents and not appended:
            return
        self._check_writable()
        with self.exclusive():
            source = self._load_for_writing()
            if previous.version is not None and source.version != previous.version:
                raise WriteFailed(
                    f"{self.path} : le classeur a été modifié pendant l'exécution (par un tableur ?) ; rien n'a été écrit",
                    "fermez-le dans Excel ou LibreOffice, puis relancez",
                )
            package = self._package(source)
            existing = list(_sheet_members(package))

            def real(name: str) -> str:
                spelled = previous.real_name(name)
                return (
                    spelled if spelled in existing else match_tabs([name], existing).get(name, name)
                )

            new = {real(name): rows for name, rows in contents.items()}
            if appended:
                now = _read_tabs(self.path, source.data, [real(n) for n in appended])[0]
                for name, rows in appended.items():
                    base = new.get(real(name)) or now.get(real(name)) or []
                    new[real(name)] = [*base, *rows]
            parts = {name: _OwnedSheet(rows) for name, rows in new.items()}
            self._commit(source, _plan(package, parts))

    def _check_writable(self) -> None:
        check_workbook_path(self.path)
        if self.path.suffix.lower() not in {".xlsx", ".xlsm"}:
            raise WriteFailed(
                f"{self.path} : écriture impossible dans un fichier {self.path.suffix}",
                "enregistrez le classeur au format .xlsx (Fichier › Enregistrer sous) puis relancez",
            )
        _refuse_if_open(self.path)
        try:
            mode = os.stat(self.path).st_mode
        except FileNotFoundError:
            return
        if not mode & stat.S_IWUSR or not os.access(self.path, os.W_OK):
            raise WriteFailed(
                f"{self.path} : le classeur est en lecture seule ; rien n'a été écrit",
                "rendez-le modifiable (propriétés du fichier : décochez « Lecture seule »), puis relancez",
            )

    def _load_for_writing(self) -> _Source:
        try:
            return _Source.load(self.path)
        except OSError as err:
            raise WriteFailed(
                f"{self.path} : classeur illisible pour l'écriture ({err.strerror or err})"
            ) from err

    def _package(self, source: _Source) -> _Package:
        try:
            return _Package(zipfile.ZipFile(io.BytesIO(source.data)))
        except (zipfile.BadZipFile, _Unusual, ET.ParseError, KeyError, ValueError) as err:
            _refuse_encrypted(self.path, source.data, WriteFailed)
            raise WriteFailed(
                f"{self.path} : classeur illisible pour l'écriture ({err})",
                "ouvrez-le et enregistrez-le à nouveau au format .xlsx dans Excel ou LibreOffice",
            ) from err

    def _commit(self, source: _Source, plan: _Plan) -> None:
        """The new zip beside the workbook, then (if the file is still the one read) the
        rename over it."""

        def save(temp: Path) -> None:
            _write_zip(temp, plan)
            _fault("before-check")
            if source.exists and _Source.load(self.path).version != source.version:
                raise WriteFailed(
                    f"{self.path} : le classeur a été modifié pendant l'écriture ; rien n'a été écrit",
                    "fermez-le dans Excel ou LibreOffice, puis relancez",
                )
            _fault("before-rename")

        try:
            atomic_write(self.path, save, suffix=_temp_suffix(self.path))
        except OSError as err:
            raise WriteFailed(
                f"{self.path} : enregistrement impossible ({err.strerror or err})",
                "rien n'a été écrit ; vérifiez les droits du dossier",
            ) from err
        _fault("after-rename")

    # -- gt init -----------------------------------------------------------------------
    def initialise(
        self,
        layout: list[TabLayout],
        data: dict[str, Rows] | None,
        force: bool,
        dry_run: bool = False,
    ) -> InitReport:
        """Apply `initplan.plan_init`'s plan to the workbook through the lossless writer, or
        to a new workbook when there is none or with `force` (which replaces a workbook, and
        only a workbook), in one atomic write."""
        from ..initplan import plan_init  # `gt init` only: a drafting run does not compile it

        exists = self.path.exists() or self.path.is_symlink()
        if exists and force:
            _refuse_unless_workbook(self.path)
        if (exists and not dry_run) or self.path.suffix.lower() not in {".xlsx", ".xlsm"}:
            self._check_writable()
        if not exists and not dry_run:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.exclusive() if not dry_run else _nothing():
            if force or not exists:
                source, snapshot = _Source.empty(), Snapshot()
                package = _Package(zipfile.ZipFile(io.BytesIO(_skeleton())))
            else:
                source = self._load_for_writing()
                package = self._package(source)
                snapshot = self._snapshot(source)
            spellings = {tab.name: header_spellings(self.config, tab.name) for tab in layout}
            current = Snapshot(
                tabs={
                    name: snapshot.tabs[name]
                    for name in (tab.name for tab in layout)
                    if name in snapshot.tabs
                },
                existing=snapshot.existing,
                actual=snapshot.actual,
            )
            plan = plan_init(layout, current, data, force, spellings)
            if (plan.report.changed or force) and not dry_run:
                parts = {tab.title: _InitSheet(tab) for tab in plan.tabs if _touches(tab)}
                self._commit(source, _plan(package, parts))
        return plan.report


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _touches(tab: TabPlan) -> bool:
    return tab.create or bool(tab.added) or tab.rows is not None


def _refuse_if_open(path: Path) -> None:
    """Excel's `~$NAME` or LibreOffice's `.~lock.NAME#` (not one of ours) beside the file."""
    target = Path(os.path.realpath(path))
    for folder, name in {(path.parent, path.name), (target.parent, target.name)}:
        excel = folder / f"~${name}"
        office = folder / f".~lock.{name}#"
        if excel.exists() or _foreign_lock(office):
            lock = excel if excel.exists() else office
            raise WriteFailed(
                f"{path} : le classeur est ouvert dans un tableur (fichier de verrou {lock.name})",
                "fermez-le dans Excel ou LibreOffice, puis relancez : rien n'a été écrit",
            )


def _foreign_lock(path: Path) -> bool:
    """A lock file a spreadsheet program wrote (an empty one is a gt run creating its own)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return bool(text.strip()) and _LockInfo.parse(text) is None


def _refuse_unless_workbook(path: Path) -> None:
    """`init --force` replaces a spreadsheet workbook, never any other file."""
    reason = ""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            reason = "ce n'est pas un fichier ordinaire"
        elif not zipfile.is_zipfile(path):
            reason = "ce n'est pas un classeur .xlsx"
        else:
            with zipfile.ZipFile(path) as archive:
                if "xl/workbook.xml" not in {n.lower() for n in archive.namelist()}:
                    reason = "ce n'est pas un classeur .xlsx (pas de xl/workbook.xml)"
    except (OSError, zipfile.BadZipFile) as err:
        reason = f"illisible ({err})"
    if reason:
        raise WriteFailed(
            f"{path} : remplacement refusé, {reason} ; rien n'a été écrit",
            "--force ne remplace qu'un classeur : indiquez un autre --sheet",
        )


# -- the file as read once ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    data: bytes
    version: tuple[int, int, str] | None
    exists: bool = True

    @classmethod
    def load(cls, path: Path) -> _Source:
        """The file's bytes, read in one open, with (size, mtime_ns, sha256) of what was read."""
        with open(path, "rb") as stream:
            before = os.fstat(stream.fileno())
            data = stream.read()
            after = os.fstat(stream.fileno())
        if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
            raise OSError(11, "le fichier change pendant la lecture, réessayez")
        digest = hashlib.sha256(data).hexdigest()
        return cls(data, (len(data), after.st_mtime_ns, digest))

    @classmethod
    def empty(cls) -> _Source:
        return cls(b"", None, exists=False)


def _temp_suffix(path: Path) -> str:
    """Temporary files of a workbook's writes end with its name (see `_clean_temporaries`)."""
    return f".{Path(os.path.realpath(path)).name}"


def _clean_temporaries(path: Path) -> None:
    """Temporary files a killed run left beside the workbook. Called with the lock held: no
    live gt run is writing this workbook, so any of them older than now is a leftover."""
    target = Path(os.path.realpath(path))
    started = time.time()
    try:
        leftovers = list(target.parent.glob(f"{TEMP_PREFIX}*{_temp_suffix(path)}"))
    except OSError:
        return
    for leftover in leftovers:
        try:
            if leftover.is_file() and leftover.stat().st_mtime <= started:
                leftover.unlink()
        except OSError:
            pass  # another program's file, or a read-only folder: not ours to force


def _refuse_encrypted(path: Path, data: bytes, kind: type[SourceError] = SourceError) -> None:
    if data[:8] != OLE_MAGIC:
        return
    if "EncryptedPackage".encode("utf-16-le") in data or b"EncryptionInfo" in data:
        raise kind(
            f"{path} : le classeur est protégé par un mot de passe (chiffré), l'outil ne peut pas le lire",
            "enregistrez le classeur sans mot de passe (Excel : Fichier › Informations › Protéger le classeur ; "
            "LibreOffice : Enregistrer sous, sans « Enregistrer avec mot de passe »), puis relancez",
        )


# -- bounded reading ------------------------------------------------------------------------------

DENSE_MIN = 2_000_000  # cells calamine may lay out densely whatever the sheet holds
DENSE_FACTOR = 8  # ... or this many times the cells the sheet really holds
CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\sr="([A-Z]{1,3})([0-9]{1,7})"[^>]*?(/?)>')
CELL_END = re.compile(rb"</(?:\w+:)?c>")
ROW_REF = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="([0-9]+)"')


def _read_tabs(
    path: Path, data: bytes, wanted: Sequence[str]
) -> tuple[dict[str, Rows], list[str], list[Problem]]:
    """Rows of each wanted tab (matched loosely) that exists, every tab's name, and the
    problems of stray far cells that were left out so the read stays bounded."""
    from python_calamine import CalamineError, CalamineWorkbook

    problems: list[Problem] = []
    try:
        readable = _bounded(data, wanted, problems)
        book = CalamineWorkbook.from_filelike(io.BytesIO(readable))
        names = list(book.sheet_names)
        found = match_tabs(wanted, names)
        tabs = {
            real: _trim(book.get_sheet_by_name(real).to_python(skip_empty_area=False))
            for real in found.values()
        }
    except (CalamineError, OSError, ValueError, zipfile.BadZipFile, ET.ParseError) as err:
        raise SourceError(
            f"{path} : classeur illisible ({err})",
            "est-ce bien un fichier .xlsx ou .ods ?",
        ) from err
    return tabs, names, problems


def _bounded(data: bytes, wanted: Sequence[str], problems: list[Problem]) -> bytes:
    """`data`, or an in-memory copy whose wanted sheets lost their stray far cells."""
    if not data.startswith(b"PK") or not zipfile.is_zipfile(io.BytesIO(data)):
        return data
    archive = zipfile.ZipFile(io.BytesIO(data))
    try:
        package = _Package(archive)
        sheets = _sheet_members(package)
    except (_Unusual, ET.ParseError, KeyError, ValueError):
        return data  # not an .xlsx of the usual shape (an .ods...): calamine decides
    replaced: dict[str, bytes] = {}
    for name, member in sheets.items():
        if name not in match_tabs(wanted, list(sheets)).values():
            continue
        xml = archive.read(member)
        cleaned = _without_stray_cells(name, xml, problems)
        if cleaned is not xml:
            replaced[member] = cleaned
    if not replaced:
        return data
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
        for info in archive.infolist():
            copy.writestr(info.filename, replaced.get(info.filename) or archive.read(info))
    return out.getvalue()


def _sheet_members(package: _Package) -> dict[str, str]:
    """Tab name → its worksheet member."""
    workbook = package.workbook
    book = package.xml(workbook)
    by_id = _rels_by_id(package, workbook)
    tabs: dict[str, str] = {}
    for sheet in book.iter(f"{{{MAIN_NS}}}sheet"):
        rel = by_id.get(sheet.get(f"{{{DOC_REL_NS}}}id", ""))
        if rel is not None and rel.type == "worksheet" and rel.target:
            tabs[sheet.get("name", "")] = rel.target
    return tabs


def _without_stray_cells(tab: str, xml: bytes, problems: list[Problem]) -> bytes:
    """The sheet XML itself when its used rectangle is sensible; else a copy without the
    cells lying far beyond the others (each reported with its cell)."""
    last_row = xml.rfind(b"<row ")
    match = ROW_REF.match(xml, last_row) if last_row >= 0 else None
    height = int(match.group(1)) if match else 0
    width = 16384 if re.search(rb'\sr="[A-Z]{3}[0-9]', xml) else 702
    if not re.search(rb'\sr="[A-Z]{2}[0-9]', xml) and width == 702:
        width = 26
    cells = xml.count(b"<c ") + xml.count(b"<c>")
    if height * width <= max(DENSE_MIN, DENSE_FACTOR * cells):
        return xml
    found = [
        (int(m.group(2)), column_number(m.group(1).decode()), m) for m in CELL_REF.finditer(xml)
    ]
    row_cut = _cut({row for row, _c, _m in found}, 1000)
    column_cut = _cut({column for _r, column, _m in found}, 50)
    pieces: list[bytes] = []
    at = 0
    for row, column, m in found:
        if row <= row_cut and column <= column_cut:
            continue
        end = m.end()
        if m.group(3) != b"/":
            close = CELL_END.search(xml, m.end())
            end = close.end() if close else len(xml)
            if _has_values(xml[m.end() : end]):
                problems.append(
                    Problem(
                        Location(tab, row, column),
                        "stray-cell",
                        "valeur isolée très loin des autres données, ignorée",
                        "effacez cette cellule ou rapprochez-la des autres lignes",
                    )
                )
        pieces.append(xml[at : m.start()])
        at = end
    pieces.append(xml[at:])
    cleaned = b"".join(pieces)
    if _extent(cleaned) > max(DENSE_MIN, DENSE_FACTOR * len(found)):
        raise ValueError(
            f"onglet « {tab} » : des valeurs sont éparpillées sur une zone trop grande pour être lue"
        )
    return cleaned


def _extent(xml: bytes) -> int:
    rows = columns = 0
    for m in CELL_REF.finditer(xml):
        rows = max(rows, int(m.group(2)))
        columns = max(columns, column_number(m.group(1).decode()))
    return rows * columns


def _cut(values: set[int], slack: int) -> int:
    """The last value before the first gap wider than `slack` and than everything before it."""
    last = 0
    for value in sorted(values):
        if value - last > max(slack, last):
            break
        last = value
    return last


def _trim(rows: Sequence[Sequence[object]]) -> Rows:
    """calamine pads with "" to a rectangle; drop trailing empty cells and rows (as Google does)."""
    out: Rows = []
    for row in rows:
        end = len(row)
        while end and (row[end - 1] == "" or row[end - 1] is None):
            end -= 1
        out.append(cast(list[Value], row[:end]))  # durations: see parsing.time
    while out and not out[-1]:
        out.pop()
    return out


# -- the lock ---------------------------------------------------------------------------------------
# LibreOffice's lock file `.~lock.NAME#` holds one line `Name,user,host,dd.mm.yyyy hh:mm,url;`:
# ours says "gt-registry" where LibreOffice puts the user's name (LibreOffice shows it: "locked
# by gt-registry"), and `gt-registry:PID` for the url. It is created with O_CREAT|O_EXCL and
# held with flock(), which the kernel releases when the process dies however it dies: a lock
# file whose flock is free is a dead run's, and taken over in place.

MARKER = "gt-registry"


@dataclass(frozen=True)
class _LockInfo:
    user: str
    host: str
    when: str
    pid: int

    @classmethod
    def read(cls, path: Path) -> _LockInfo | None:
        """Ours, as recorded; None for another program's lock (or none)."""
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        return cls.parse(text)

    @classmethod
    def parse(cls, text: str) -> _LockInfo | None:
        fields = text.strip().rstrip(";").split(",")
        if len(fields) != 5 or not fields[4].startswith(f"{MARKER}:"):
            return None
        pid = fields[4].removeprefix(f"{MARKER}:")
        return cls(fields[1], fields[2], fields[3], int(pid) if pid.isdigit() else 0)

    @classmethod
    def mine(cls) -> str:
        def clean(text: str) -> str:
            return re.sub(r"[,;\\\n]", " ", text)

        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "inconnu"
        host = socket.gethostname()
        when = dt.datetime.now().strftime("%d.%m.%Y %H:%M")
        return f"{MARKER},{clean(user)},{clean(host)},{when},{MARKER}:{os.getpid()};"


class WorkbookLock:
    """The exclusive lock of one workbook's writers (see above)."""

    def __init__(self, workbook: Path) -> None:
        target = Path(os.path.realpath(workbook))
        self.workbook = workbook
        self.path = target.parent / f".~lock.{target.name}#"
        self.fd: int | None = None

    def acquire(self, notice: Notice | None = None, wait: float | None = None) -> None:
        deadline = time.monotonic() + (LOCK_WAIT if wait is None else wait)
        announced = False
        while True:
            _refuse_if_open(self.workbook)
            fd = self._create() if not self.path.exists() else self._take_over()
            if fd is not None:
                self.fd = fd
                return
            _refuse_if_open(self.workbook)  # a spreadsheet program's lock: refused
            holder = _LockInfo.read(self.path)
            who = (
                f" (pid {holder.pid} sur {holder.host}, depuis le {holder.when})" if holder else ""
            )
            if time.monotonic() >= deadline:
                raise WriteFailed(
                    f"{self.workbook} : une autre exécution de gt écrit dans ce classeur{who} ; rien n'a été écrit",
                    f"relancez quand elle sera terminée (le verrou est {self.path.name})",
                )
            if not announced and notice is not None:
                notice(
                    f"{self.workbook} : une autre exécution de gt écrit dans ce classeur{who}, "
                    f"attente (au plus {LOCK_WAIT if wait is None else wait:.0f} s)…"
                )
                announced = True
            time.sleep(LOCK_POLL)

    def _create(self) -> int | None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            return None
        except OSError as err:
            raise WriteFailed(
                f"{self.workbook} : impossible de créer le verrou {self.path.name} ({err.strerror})",
                "rien n'a été écrit ; vérifiez que vous pouvez écrire dans le dossier du classeur",
            ) from err
        if not self._flock(fd):  # taken over between our create and our flock: theirs now
            os.close(fd)
            return None
        self._record(fd)
        return fd

    def _take_over(self) -> int | None:
        """The existing lock file, if its owner is dead (its flock is free); else None."""
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return None
        except OSError:
            return None
        text = os.read(fd, 4096).decode("utf-8", errors="replace")
        holder = _LockInfo.parse(text)
        if (text.strip() and holder is None) or not self._flock(fd) or not self._still_ours(fd):
            os.close(fd)
            return None
        if fcntl is None and holder is not None and _alive(holder):
            os.close(fd)
            return None
        self._record(fd)
        return fd

    def _flock(self, fd: int) -> bool:
        if fcntl is None:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def _still_ours(self, fd: int) -> bool:
        """Whether `fd` is still the file at the lock's path (not one unlinked meanwhile)."""
        try:
            return os.stat(self.path).st_ino == os.fstat(fd).st_ino
        except OSError:
            return False

    def _record(self, fd: int) -> None:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, _LockInfo.mine().encode("utf-8"))

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            if self._still_ours(self.fd):
                self.path.unlink()
        finally:
            os.close(self.fd)
            self.fd = None


def _alive(holder: _LockInfo) -> bool:
    if holder.host != socket.gethostname() or holder.pid <= 0:
        return True
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- the package: parts, relationships, what a write changes ------------------------------------
# An .xlsx is a zip of XML parts tied by relationship files (`_rels/*.rels`). A tab's cells live
# in one worksheet part; swapping that part leaves every other part as it was, so nothing the
# staff keep elsewhere can be lost or rewritten.

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "[Content_Types].xml"
WORKSHEET_TYPE = f"{DOC_REL_NS}/worksheet"
WORKSHEET_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
ROWS_PER_CHUNK = 1000


class _Unusual(Exception):
    """A workbook shape the writer does not handle (reported, nothing written)."""


@dataclass
class _Rel:
    type: str  # last segment of the relationship type: "worksheet", "styles", "calcChain"...
    target: str  # the zip member it points to; "" when external or missing


class _Package:
    """Read-only view of the source zip: members by case-insensitive name (part names are
    case-insensitive) and parsed relationships."""

    def __init__(self, source: zipfile.ZipFile) -> None:
        self.zip = source
        self.members: dict[str, str] = {}
        self._rels: dict[str, list[_Rel]] = {}
        for info in source.infolist():
            if info.flag_bits & 0x1:
                raise _Unusual(f"{info.filename} est chiffré")
            if info.filename.lower() in self.members:
                raise _Unusual(f"{info.filename} en double")
            self.members[info.filename.lower()] = info.filename

    @property
    def workbook(self) -> str:
        part = next(
            (r.target for r in self.rels("") if r.type == "officeDocument" and r.target), ""
        )
        if not part:
            raise _Unusual("pas de partie classeur (xl/workbook.xml)")
        return part

    def member(self, name: str) -> str:
        return self.members.get(name.lower(), "")

    def text(self, member: str) -> str:
        return self.zip.read(member).decode("utf-8")

    def xml(self, member: str) -> ET.Element:
        return ET.fromstring(self.zip.read(member))

    def resolve(self, part: str, target: str) -> str:
        """The member a relationship of `part` ("" = the package) points to, or ""."""
        target = unquote(target.split("#")[0])
        path = (
            target[1:]
            if target.startswith("/")
            else posixpath.join(posixpath.dirname(part), target)
        )
        return self.member(posixpath.normpath(path))

    def rels(self, part: str) -> list[_Rel]:
        if part not in self._rels:
            member = self.member(_rels_name(part))
            self._rels[part] = [] if not member else [
                _Rel(
                    rel.get("Type", "").rsplit("/", 1)[-1],
                    "" if rel.get("TargetMode") == "External" else self.resolve(part, rel.get("Target", "")),
                )
                for rel in self.xml(member)
            ]  # fmt: skip
        return self._rels[part]


def _rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def _rels_source(rels_member: str) -> str:
    """The part whose relationships `rels_member` holds ("" for the package's own)."""
    folder, name = posixpath.split(rels_member)
    return posixpath.join(posixpath.dirname(folder), name.removesuffix(".rels"))


def _rels_by_id(package: _Package, part: str) -> dict[str, _Rel]:
    member = package.member(_rels_name(part))
    if not member:
        raise _Unusual(f"pas de relations pour {part}")
    return {
        rel.get("Id", ""): r for rel, r in zip(package.xml(member), package.rels(part), strict=True)
    }


# What goes into a worksheet part: an owned tab's rows, or one tab of `gt init`'s plan.


@dataclass
class _OwnedSheet:
    rows: Rows

    def new_xml(self, style: int | None) -> Iterator[bytes]:
        return _sheet_xml(self.rows, style, owned=True)

    def edited_xml(self, old: bytes, style: int | None) -> Iterator[bytes]:
        return self.new_xml(style)  # an owned tab is rewritten whole


@dataclass
class _InitSheet:
    tab: TabPlan

    def new_xml(self, style: int | None) -> Iterator[bytes]:
        cells = dict(self.tab.cells())
        height = max([self.tab.height, *(r + 1 for r, _c in cells)])
        width = max([len(self.tab.headers), *(c + 1 for _r, c in cells)])
        rows: Rows = [[None] * width for _ in range(height)]
        for (row, column), value in cells.items():
            rows[row][column] = value
        return _sheet_xml(
            rows,
            style,
            owned=self.tab.layout.owned,
            widths=self.tab.widths,
            dropdowns=self.tab.dropdowns,
        )

    def edited_xml(self, old: bytes, style: int | None) -> Iterator[bytes]:
        """An existing tab: its added headers (and demo rows) merged into its own XML."""
        if self.tab.layout.owned and self.tab.rows is None and not _has_values(old):
            return self.new_xml(style)
        return iter([_merge_cells(old, self.tab, style)])


Part = _OwnedSheet | _InitSheet


@dataclass
class _Plan:
    package: _Package
    sheets: dict[str, Part] = field(default_factory=dict)  # zip member → what replaces it
    new_sheets: dict[str, Part] = field(default_factory=dict)  # new zip member → its content
    drop: set[str] = field(default_factory=set)  # members left out of the new zip
    edits: dict[str, bytes] = field(default_factory=dict)  # members written with new bytes
    header_style: int | None = None  # index in cellXfs of the header's bold named font

    def current(self, member: str) -> str:
        """A member's text, with this plan's edits so far."""
        if member in self.edits:
            return self.edits[member].decode("utf-8")
        return self.package.text(member)


def _plan(package: _Package, parts: Mapping[str, Part]) -> _Plan:
    """What to replace, add, drop and edit in the zip for `parts` (tab name → content)."""
    workbook = package.workbook
    book = package.xml(workbook)
    if book.tag != f"{{{MAIN_NS}}}workbook":
        raise _Unusual("pas un classeur Office Open XML transitionnel")  # Strict Open XML
    by_id = _rels_by_id(package, workbook)
    tabs = {s.get("name"): s for s in book.iter(f"{{{MAIN_NS}}}sheet")}
    plan = _Plan(package)
    sheet_ids = set()
    for name, part in parts.items():
        if name not in tabs:
            continue
        rel = by_id.get(tabs[name].get(f"{{{DOC_REL_NS}}}id", ""))
        if rel is None or rel.type != "worksheet" or not rel.target:
            raise _Unusual(f"l'onglet {name} n'est pas une feuille de calcul ordinaire")
        plan.sheets[rel.target] = part
        if isinstance(part, _OwnedSheet):
            sheet_ids.add(tabs[name].get("sheetId", ""))
    rewritten = {m for m, p in plan.sheets.items() if isinstance(p, _OwnedSheet)}
    _drop_orphans(package, plan, rewritten)
    _prune_calc_chain(package, by_id, sheet_ids, plan)
    _remove_references(package, plan)
    created = [name for name in parts if name not in tabs]
    if created:
        _add_sheets(package, plan, workbook, by_id, created, parts)
    plan.header_style = _header_style(package, plan, by_id)
    _recalculate_on_open(plan, workbook)
    return plan


def _reachable(package: _Package, cut: set[str]) -> set[str]:
    """Every member reachable through relationships from the package, not following those of
    the parts in `cut`."""
    seen: set[str] = set()
    todo = [""]
    while todo:
        part = todo.pop()
        if part in cut:
            continue
        for rel in package.rels(part):
            if rel.target and rel.target not in seen:
                seen.add(rel.target)
                todo.append(rel.target)
    return seen


def _drop_orphans(package: _Package, plan: _Plan, rewritten: set[str]) -> None:
    """The rewritten owned parts have no relationships: drop the old ones' (comments,
    drawings, tables...) and every part only they led to, so nothing is orphaned and no table
    or drawing points at cells that have changed. Parts also used elsewhere stay."""
    if not rewritten:
        return
    orphans = _reachable(package, set()) - _reachable(package, rewritten)
    for part in orphans | rewritten:
        rels = package.member(_rels_name(part))
        if rels:
            plan.drop.add(rels)
    plan.drop |= orphans


def _prune_calc_chain(
    package: _Package, by_id: dict[str, _Rel], sheet_ids: set[str], plan: _Plan
) -> None:
    """Excel's calculation chain lists formula cells; entries in a replaced tab (which has no
    formulas any more) would make Excel "repair" the file. Drop them, or the whole chain if
    nothing is left (Excel rebuilds it)."""
    chain = next((r.target for r in by_id.values() if r.type == "calcChain" and r.target), "")
    if not chain or not sheet_ids:
        return
    kept: list[dict[str, str]] = []
    entries, sheet = 0, "0"
    for cell in package.xml(chain):
        entries += 1
        sheet = cell.get("i", sheet)  # an entry without `i` is in the previous entry's sheet
        if sheet not in sheet_ids:
            kept.append({**cell.attrib, "i": sheet})
    if len(kept) == entries:
        return
    if kept:
        plan.edits[chain] = _calc_chain_xml(kept)
    else:
        plan.drop.add(chain)


def _calc_chain_xml(cells: list[dict[str, str]]) -> bytes:
    if any(key.startswith("{") for cell in cells for key in cell):
        raise _Unusual("attribut inattendu dans calcChain.xml")
    body = "".join(
        "<c " + " ".join(f'{k}="{_escape(v)}"' for k, v in cell.items()) + "/>" for cell in cells
    )
    return f'{XML_DECLARATION}<calcChain xmlns="{MAIN_NS}">{body}</calcChain>'.encode()


def _remove_references(package: _Package, plan: _Plan) -> None:
    """Content types and relationships that name a dropped part go with it (nothing dangles).
    Only touched when something was dropped: usually both stay byte for byte."""
    dropped = {name.lower() for name in plan.drop}
    if not dropped:
        return

    def names_dropped_part(attrs: dict[str, str]) -> bool:
        return unquote(attrs.get("PartName", "")).lstrip("/").lower() in dropped

    _edit(plan, CONTENT_TYPES, "Override", names_dropped_part)
    for rels in [m for m in package.members.values() if m.endswith(".rels") and m not in plan.drop]:
        source = _rels_source(rels)

        def points_to_dropped_part(attrs: dict[str, str], source: str = source) -> bool:
            internal = attrs.get("TargetMode") != "External"
            return internal and package.resolve(source, attrs.get("Target", "")).lower() in dropped

        _edit(plan, rels, "Relationship", points_to_dropped_part)


ATTRIBUTE = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _edit(plan: _Plan, member: str, tag: str, remove: Callable[[dict[str, str]], bool]) -> None:
    """Remove the empty `<tag .../>` elements for which `remove(attributes)` is true, as text
    (the rest of the file stays as written), then check the result by parsing it."""
    text = plan.current(member)
    element = re.compile(rf"""<{tag}\b((?:[^>"']|"[^"]*"|'[^']*')*)/>""")

    def attributes(match: re.Match[str]) -> dict[str, str]:
        return {k: _unescape(a or b) for k, a, b in ATTRIBUTE.findall(match.group(1))}

    edited = element.sub(lambda m: "" if remove(attributes(m)) else m.group(), text)
    if edited == text:
        return
    left = ET.fromstring(edited.encode())
    if any(e.tag.endswith(tag) and remove(dict(e.attrib)) for e in left):
        raise _Unusual(f"{member} : impossible de retirer chaque {tag}")
    plan.edits[member] = edited.encode()


def _unescape(value: str) -> str:
    return ET.fromstring(f"<a b='{value}'/>").get("b", "") if "&" in value else value


def _insert_before_close(text: str, tag: str, addition: str, member: str) -> str:
    """`addition` inserted just before the last `</tag>` (any namespace prefix)."""
    closing = list(re.finditer(rf"</(?:\w+:)?{tag}\s*>", text))
    if not closing:
        raise _Unusual(f"{member} : pas d'élément {tag}")
    at = closing[-1].start()
    return text[:at] + addition + text[at:]


def _prefix(text: str, tag: str) -> str:
    """The namespace prefix (`x:` or "") the first `<tag` of `text` is written with."""
    match = re.search(rf"<(\w+:)?{tag}\b", text)
    if match is None:
        raise _Unusual(f"pas d'élément {tag}")
    return match.group(1) or ""


# -- new tabs: parts added to the package --------------------------------------------------------


def _add_sheets(
    package: _Package,
    plan: _Plan,
    workbook: str,
    by_id: dict[str, _Rel],
    names: list[str],
    parts: Mapping[str, Part],
) -> None:
    """Each new tab: a worksheet part, its relationship from the workbook, its content
    type, its `<sheet>` in workbook.xml (last), its title in docProps/app.xml if listed."""
    book_text = plan.current(workbook)
    rels_member = package.member(_rels_name(workbook))
    rels_text = plan.current(rels_member)
    types_member = package.member(CONTENT_TYPES)
    if not types_member:
        raise _Unusual("pas de [Content_Types].xml")
    types_text = plan.current(types_member)
    taken = set(package.members) | {m.lower() for m in plan.new_sheets}
    used_ids = set(by_id)
    root = ET.fromstring(book_text.encode())
    sheet_ids = [int(s.get("sheetId", "0")) for s in root.iter(f"{{{MAIN_NS}}}sheet")]
    next_id = max(sheet_ids, default=0) + 1
    prefix = _prefix(book_text, "workbook")
    r_prefix = next(
        (m.group(1) for m in re.finditer(r'xmlns:(\w+)="([^"]+)"', book_text) if m.group(2) == DOC_REL_NS),
        "",
    )  # fmt: skip
    rel_prefix = _prefix(rels_text, "Relationships")
    folder = posixpath.dirname(workbook)
    number = 1
    sheets, rels, types = [], [], []
    for name in names:
        while f"{folder}/worksheets/sheet{number}.xml".lower() in taken:
            number += 1
        member = f"{folder}/worksheets/sheet{number}.xml".lstrip("/")
        taken.add(member.lower())
        rel_id = _free_id(used_ids)
        used_ids.add(rel_id)
        target = posixpath.relpath(member, folder or ".")
        plan.new_sheets[member] = parts[name]
        reference = (
            f'{r_prefix}:id="{rel_id}"' if r_prefix else f'r:id="{rel_id}" xmlns:r="{DOC_REL_NS}"'
        )
        sheets.append(f'<{prefix}sheet name="{_escape(name)}" sheetId="{next_id}" {reference}/>')
        next_id += 1
        rels.append(
            f'<{rel_prefix}Relationship Id="{rel_id}" Type="{WORKSHEET_TYPE}" Target="{target}"/>'
        )
        types.append(f'<Override PartName="/{member}" ContentType="{WORKSHEET_CONTENT}"/>')
    plan.edits[workbook] = _insert_before_close(
        book_text, "sheets", "".join(sheets), workbook
    ).encode()
    plan.edits[rels_member] = _insert_before_close(
        rels_text, "Relationships", "".join(rels), rels_member
    ).encode()
    plan.edits[types_member] = _insert_before_close(
        types_text, "Types", "".join(types), CONTENT_TYPES
    ).encode()
    _add_titles(package, plan, [s.get("name", "") for s in root.iter(f"{{{MAIN_NS}}}sheet")], names)


def _free_id(used: set[str]) -> str:
    number = len(used) + 1
    while f"rId{number}" in used:
        number += 1
    return f"rId{number}"


VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"


def _add_titles(package: _Package, plan: _Plan, existing: list[str], names: list[str]) -> None:
    """docProps/app.xml lists the tabs' titles (after a heading pair giving their count):
    when it lists exactly the existing tabs first, the new ones are added after them. It is
    informative only (Excel rewrites it): any other shape is left as it is."""
    app = next((r.target for r in package.rels("") if r.type == "extended-properties"), "")
    if not app:
        return
    text = plan.current(app)
    root = ET.fromstring(text.encode())
    ns = root.tag.partition("}")[0] + "}"
    pairs = root.find(f"{ns}HeadingPairs/{{{VT}}}vector")
    titles = root.find(f"{ns}TitlesOfParts/{{{VT}}}vector")
    if pairs is None or titles is None or len(pairs) < 2:
        return
    count = pairs[1].find(f"{{{VT}}}i4")
    listed = [t.text or "" for t in titles]
    if count is None or count.text != str(len(existing)) or listed[: len(existing)] != existing:
        return
    tags = list(re.finditer(r"<(\w+:)?lpstr>", text))
    vectors = list(re.finditer(r'<(\w+:)?vector\b[^>]*\bsize="(\d+)"', text))
    counts = list(re.finditer(r"<(\w+:)?i4>(\d+)</(?:\w+:)?i4>", text))
    titles_at = text.find("TitlesOfParts")
    title_tags = [m for m in tags if m.start() > titles_at]
    title_vector = next((v for v in vectors if v.start() > titles_at), None)
    if not counts or title_vector is None or len(title_tags) < len(existing) or not existing:
        return
    vt = title_tags[0].group(1) or ""
    end_of_last = text.find("</", title_tags[len(existing) - 1].end())
    end_of_last = text.find(">", end_of_last) + 1
    added = "".join(f"<{vt}lpstr>{_escape(n)}</{vt}lpstr>" for n in names)
    edits = [
        (end_of_last, end_of_last, added),
        (title_vector.start(2), title_vector.end(2), str(len(listed) + len(names))),
        (counts[0].start(2), counts[0].end(2), str(len(existing) + len(names))),
    ]
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    ET.fromstring(text.encode())  # still well-formed
    plan.edits[app] = text.encode()


# -- styles: the header's bold named font ----------------------------------------------------------


def _header_style(package: _Package, plan: _Plan, by_id: dict[str, _Rel]) -> int | None:
    """A cell format with a bold font that has a name and a size (else LibreOffice shows a
    serif), otherwise the workbook's default font: found in styles.xml, or appended to it
    (appending never renumbers a format staff cells use). None when there is no styles part."""
    styles = next((r.target for r in by_id.values() if r.type == "styles" and r.target), "")
    if not styles:
        return None
    text = plan.current(styles)
    root = ET.fromstring(text.encode())
    fonts = root.find(f"{{{MAIN_NS}}}fonts")
    formats = root.find(f"{{{MAIN_NS}}}cellXfs")
    if fonts is None or formats is None or not len(fonts) or not len(formats):
        return None
    default = fonts[0]
    bold = {str(i) for i, font in enumerate(fonts) if _plain_bold(font, default)}
    for index, xf in enumerate(formats):
        plain = xf.get("fillId", "0") == "0" and xf.get("borderId", "0") == "0" and not len(xf)
        if xf.get("fontId", "0") in bold and xf.get("numFmtId", "0") == "0" and plain:
            return index
    prefix = _prefix(text, "styleSheet")
    usual = {child.tag.rpartition("}")[2]: child.attrib for child in default}
    size = usual.get("sz", {}).get("val", "11")
    name = usual.get("name", {}).get("val", "Calibri")
    family = usual.get("family", {}).get("val", "2")
    font = (
        f'<{prefix}font><{prefix}b/><{prefix}sz val="{_escape(size)}"/>'
        f'<{prefix}name val="{_escape(name)}"/><{prefix}family val="{_escape(family)}"/></{prefix}font>'
    )
    header_xf = f'<{prefix}xf numFmtId="0" fontId="{len(fonts)}" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    text = _insert_before_close(text, "fonts", font, styles)
    text = _insert_before_close(text, "cellXfs", header_xf, styles)
    text = _set_count(text, "fonts", len(fonts) + 1)
    text = _set_count(text, "cellXfs", len(formats) + 1)
    ET.fromstring(text.encode())
    plan.edits[styles] = text.encode()
    return len(formats)


def _set_count(text: str, tag: str, count: int) -> str:
    opening = re.search(rf"<(?:\w+:)?{tag}\b[^>]*>", text)
    if opening is None:
        return text
    tag_text = opening.group()
    if re.search(r'\scount="\d*"', tag_text):
        new = re.sub(r'\scount="\d*"', f' count="{count}"', tag_text)
    else:
        new = tag_text[:-1] + f' count="{count}">'
    return text[: opening.start()] + new + text[opening.end() :]


def _plain_bold(font: ET.Element, default: ET.Element) -> bool:
    """Bold, named and sized, and otherwise the default font: a staff's red bold title font
    would not do."""
    weight = font.find(f"{{{MAIN_NS}}}b")
    if weight is None or weight.get("val", "true") in ("0", "false"):
        return False
    if font.find(f"{{{MAIN_NS}}}name") is None or font.find(f"{{{MAIN_NS}}}sz") is None:
        return False
    usual = {child.tag: child.attrib for child in default}
    ignored = {f"{{{MAIN_NS}}}{tag}" for tag in ("b", "family", "scheme", "charset")}
    return all(usual.get(c.tag) == c.attrib for c in font if c.tag not in ignored)


def _recalculate_on_open(plan: _Plan, workbook: str) -> None:
    """`<calcPr fullCalcOnLoad="1"/>`: staff formulas that count the owned tabs are
    recomputed when the workbook is opened (their cached values are the old ones)."""
    text = plan.current(workbook)
    prefix = _prefix(text, "workbook")
    existing = re.search(r"<(?:\w+:)?calcPr\b[^>]*?/?>", text)
    if existing:
        tag = existing.group()
        if re.search(r'\sfullCalcOnLoad="(1|true)"', tag):
            return
        tag = re.sub(r'\sfullCalcOnLoad="[^"]*"', "", tag)
        end = -2 if tag.endswith("/>") else -1
        new = tag[:end] + ' fullCalcOnLoad="1"' + tag[end:]
        text = text[: existing.start()] + new + text[existing.end() :]
    else:
        later = re.compile(
            r"<(?:\w+:)?(?:oleSize|customWorkbookViews|pivotCaches|smartTagPr|smartTagTypes|"
            r"webPublishing|fileRecoveryPr|webPublishObjects|extLst)\b|</(?:\w+:)?workbook\s*>"
        )
        earlier = r"</(?:\w+:)?(?:definedNames|externalReferences|functionGroups|sheets)\s*>"
        start = max((m.end() for m in re.finditer(earlier, text)), default=0)
        found = later.search(text, start)
        if found is None:
            raise _Unusual("workbook.xml sans fin")
        at = found.start()
        text = text[:at] + f'<{prefix}calcPr fullCalcOnLoad="1"/>' + text[at:]
    ET.fromstring(text.encode())
    plan.edits[workbook] = text.encode()


# -- writing the new zip --------------------------------------------------------------------------


def _write_zip(temp: Path, plan: _Plan) -> None:
    """The new zip, members in their old order, new tabs last: owned tabs' parts generated,
    a few edited parts rewritten, dropped ones left out, every other one copied (its bytes,
    its compression method, its date)."""
    source = plan.package.zip
    with zipfile.ZipFile(temp, "w") as out:
        out.comment = source.comment
        for count, info in enumerate(source.infolist()):
            if count % 16 == 0:
                _fault("member")
            name = info.filename
            if name in plan.drop:
                continue
            part = plan.sheets.get(name)
            if part is not None:
                chunks = part.edited_xml(source.read(info), plan.header_style)
                _write_member(out, _new_info(name, info), chunks)
            elif name in plan.edits:
                _write_member(out, _new_info(name, info), iter([plan.edits[name]]))
            else:
                _copy(out, source, info)
        for name, part in plan.new_sheets.items():
            _fault("member")
            _write_member(out, _new_info(name, None), part.new_xml(plan.header_style))


def _new_info(name: str, old: zipfile.ZipInfo | None) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, time.localtime()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    if old is not None:
        info.external_attr = old.external_attr
    return info


def _write_member(out: zipfile.ZipFile, info: zipfile.ZipInfo, chunks: Iterator[bytes]) -> None:
    with out.open(info, "w") as member:
        for chunk in chunks:
            member.write(chunk)


def _copy(out: zipfile.ZipFile, source: zipfile.ZipFile, old: zipfile.ZipInfo) -> None:
    """A member as it was: same bytes, compression method, date, attributes and comment
    (recompressed through the public API: see the bench for what that costs)."""
    info = zipfile.ZipInfo(old.filename, old.date_time)
    info.compress_type = old.compress_type
    info.external_attr = old.external_attr
    info.create_system = old.create_system
    info.comment = old.comment
    with source.open(old) as stream:
        data = stream.read()
    out.writestr(info, data)


# -- a new workbook (gt init on a path with none, or --force) --------------------------------------


def _skeleton() -> bytes:
    """A workbook with no tab yet: the parts every .xlsx has; `gt init` adds the tabs."""
    parts = {
        CONTENT_TYPES: (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{DOC_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{DOC_REL_NS}/extended-properties" Target="docProps/app.xml"/>'
            "</Relationships>"
        ),
        "docProps/app.xml": (
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            f"<Application>{MARKER}</Application></Properties>"
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN_NS}" xmlns:r="{DOC_REL_NS}">'
            '<bookViews><workbookView activeTab="0"/></bookViews><sheets></sheets>'
            '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{DOC_REL_NS}/styles" Target="styles.xml"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": (
            f'<styleSheet xmlns="{MAIN_NS}">'
            '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
            '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, XML_DECLARATION + text)
    return out.getvalue()


# -- the worksheet XML of a tab we write ----------------------------------------------------------

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# The owned tabs are protected without a password: a spreadsheet program warns whoever tries
# to edit them (one click to unprotect), while sorting and filtering stay allowed.
SHEET_PROTECTION = '<sheetProtection sheet="1" objects="1" scenarios="1" sort="0" autoFilter="0" formatColumns="0"/>'
PAGE_MARGINS = (
    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
)
SHEET_TAIL = f"</sheetData>{SHEET_PROTECTION}{PAGE_MARGINS}</worksheet>"
DROPDOWN_ROWS = 5000
# Text special to XML, characters XML 1.0 cannot hold (written as Excel does, `_x0001_`), and
# a literal `_x0041_` in the text (escaped as `_x005F_x0041_` so it is not read back as "A").
SPECIAL = re.compile(
    r"[&<>\"\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)"
)
ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "\r": "&#13;",
    "_": "_x005F_",
}  # \r: parsers turn a raw one into \n


def _column_widths(rows: Rows) -> tuple[int, ...]:
    """The widths `gt init` gives a tab's columns: its header's length, at least 12."""
    return tuple(max(12, len(str(h or "")) + 4) for h in (rows[0] if rows else ()))


def _cols(widths: Sequence[int], first: int = 1) -> str:
    if not widths:
        return ""
    return (
        "<cols>"
        + "".join(
            f'<col min="{first + i}" max="{first + i}" width="{w}" customWidth="1"/>'
            for i, w in enumerate(widths)
        )
        + "</cols>"
    )


def _sheet_head(dimension: str, owned: bool, widths: Sequence[int]) -> str:
    """Frozen header row, the columns' widths; owned tabs get a grey tab."""
    colour = '<sheetPr><tabColor rgb="FF999999"/></sheetPr>' if owned else ""
    return (
        f'{XML_DECLARATION}<worksheet xmlns="{MAIN_NS}" xmlns:r="{DOC_REL_NS}">{colour}'
        f'<dimension ref="{dimension}"/>'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
        "</sheetView></sheetViews>"
        f'<sheetFormatPr defaultRowHeight="15"/>{_cols(widths)}<sheetData>'
    )


def _dropdowns_xml(dropdowns: Sequence[Dropdown]) -> str:
    if not dropdowns:
        return ""
    items = []
    for dropdown in dropdowns:
        formula = dropdown.range_formula
        source = formula[1:] if formula else '"' + ",".join(dropdown.choices) + '"'
        letter = column_letter(dropdown.column + 1)
        items.append(
            '<dataValidation type="list" allowBlank="1" showErrorMessage="0" '
            f'error="Choisissez une valeur de la liste" sqref="{letter}2:{letter}{DROPDOWN_ROWS}">'
            f"<formula1>{_escape(source)}</formula1></dataValidation>"
        )
    return f'<dataValidations count="{len(items)}">{"".join(items)}</dataValidations>'


def _sheet_xml(
    rows: Rows,
    header_style: int | None,
    *,
    owned: bool,
    widths: Sequence[int] | None = None,
    dropdowns: Sequence[Dropdown] = (),
) -> Iterator[bytes]:
    """A worksheet part, streamed a thousand rows at a time. Texts are inline strings (the
    workbook's shared strings stay untouched) and never formulas: "=..." stays text."""
    height = max(
        (n for n, row in enumerate(rows, start=1) if any(v is not None and v != "" for v in row)),
        default=0,
    )
    width = max((len(row) for row in rows[:height]), default=0)
    dimension = f"A1:{column_letter(width)}{height}" if height and width else "A1"
    yield _sheet_head(dimension, owned, _column_widths(rows) if widths is None else widths).encode()
    letters = [column_letter(index) for index in range(1, width + 1)]
    header = f' s="{header_style}"' if header_style is not None else ""
    chunk: list[str] = []
    for number, row in enumerate(rows[:height], start=1):
        style = header if number == 1 else ""
        cells = "".join(
            _cell(f"{letters[i]}{number}", v, style)
            for i, v in enumerate(row)
            if v is not None and v != ""
        )
        if cells:
            chunk.append(f'<row r="{number}">{cells}</row>')
        if len(chunk) >= ROWS_PER_CHUNK:
            yield "".join(chunk).encode()
            chunk.clear()
    protection = SHEET_PROTECTION if owned else ""
    yield (
        "".join(chunk)
        + f"</sheetData>{protection}{_dropdowns_xml(dropdowns)}{PAGE_MARGINS}</worksheet>"
    ).encode()


def _cell(ref: str, value: Value, style: str) -> str:
    if isinstance(value, bool):
        return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"{style}><v>{int(value)}</v></c>'
    if isinstance(value, float) and math.isfinite(value):
        return f'<c r="{ref}"{style}><v>{float(value)!r}</v></c>'
    text = _cell_value_text(value)
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>'


def _cell_value_text(value: Value) -> str:
    """Dates and times as ISO text: the owned tabs are for reading, and a date cell would
    need a date format in styles.xml."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _escape(text: str) -> str:
    return SPECIAL.sub(lambda m: ESCAPES.get(m.group()) or f"_x{ord(m.group()):04X}_", text)


# -- gt init on an existing tab: cells merged into the staff's own XML ----------------------------

ROW = re.compile(
    rb"<(?:\w+:)?row\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(?:/>|>.*?</(?:\w+:)?row>)", re.S
)
CELL = re.compile(rb"<(?:\w+:)?c\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(?:/>|>.*?</(?:\w+:)?c>)", re.S)
REF = re.compile(rb'\sr="([A-Z]+)([0-9]+)"')
SHEET_DATA = re.compile(
    rb"<((?:\w+:)?)sheetData\s*/>|<((?:\w+:)?)sheetData>(.*?)</(?:\w+:)?sheetData>", re.S
)
AFTER_VALIDATIONS = re.compile(
    rb"<(?:\w+:)?(?:hyperlinks|printOptions|pageMargins|pageSetup|headerFooter|rowBreaks|colBreaks|"
    rb"customProperties|cellWatches|ignoredErrors|smartTags|drawing|legacyDrawing|legacyDrawingHF|"
    rb"picture|oleObjects|controls|webPublishItems|tableParts|extLst)\b|</(?:\w+:)?worksheet\s*>"
)


def _has_values(xml: bytes) -> bool:
    return b"<v>" in xml or b"<v " in xml or b"<is>" in xml


def _merge_cells(xml: bytes, tab: TabPlan, header_style: int | None) -> bytes:
    """The tab's XML with the plan's cells written in (a cell the plan writes replaces the
    empty one there; None removes it), rows and cells kept in order, and drop-downs added for
    the new columns. Everything else in the part is kept as staff saved it."""
    data = SHEET_DATA.search(xml)
    if data is None:
        raise _Unusual(f"onglet {tab.title} : pas de sheetData")
    prefix = (data.group(1) or data.group(2) or b"").decode()
    body = data.group(3) or b""
    rows: dict[int, bytes] = {}
    for match in ROW.finditer(body):
        found = re.search(rb'\sr="([0-9]+)"', match.group().split(b">", 1)[0])
        if found is None:
            raise _Unusual(f"onglet {tab.title} : ligne sans numéro")
        rows[int(found.group(1))] = match.group()
    changes: dict[int, dict[int, Value]] = {}
    for (row, column), value in tab.cells():
        changes.setdefault(row + 1, {})[column + 1] = value
    for number, cells in changes.items():
        rows[number] = _merge_row(rows.get(number), number, cells, prefix, header_style)
    new_body = b"".join(rows[n] for n in sorted(rows) if rows[n])
    opening = f"<{prefix}sheetData>".encode()
    closing = f"</{prefix}sheetData>".encode()
    out = xml[: data.start()] + opening + new_body + closing + xml[data.end() :]
    out = _grow_dimension(out, rows)
    if tab.dropdowns:
        out = _add_validations(out, tab.dropdowns, prefix)
    ET.fromstring(out)
    return out


def _merge_row(
    old: bytes | None, number: int, cells: dict[int, Value], prefix: str, header_style: int | None
) -> bytes:
    kept: dict[int, bytes] = {}
    opening = f'<{prefix}row r="{number}">'.encode()
    if old is not None:
        head = old.split(b">", 1)[0]
        opening = re.sub(rb'\sspans="[^"]*"', b"", head.rstrip(b"/")) + b">"
        inner = b"" if head.endswith(b"/") else old[len(head) + 1 :]
        for match in CELL.finditer(inner):
            ref = REF.search(match.group().split(b">", 1)[0])
            if ref is None:
                raise _Unusual(f"ligne {number} : cellule sans référence")
            kept[column_number(ref.group(1).decode())] = match.group()
    style = f' s="{header_style}"' if number == 1 and header_style is not None else ""
    for column, value in cells.items():
        kept.pop(column, None)
        if value is not None and value != "":
            cell = _cell(f"{column_letter(column)}{number}", value, style)
            if prefix:
                cell = cell.replace("<c ", f"<{prefix}c ").replace("</c>", f"</{prefix}c>")
                cell = re.sub(r"<(/?)(is|t|v)\b", rf"<\1{prefix}\2", cell)
            kept[column] = cell.encode()
    if not kept and old is None:
        return b""
    return opening + b"".join(kept[c] for c in sorted(kept)) + f"</{prefix}row>".encode()


def _grow_dimension(xml: bytes, rows: dict[int, bytes]) -> bytes:
    match = re.search(rb'<(?:\w+:)?dimension\s+ref="([^"]*)"', xml)
    if match is None or not rows:
        return xml
    width = 1
    for row in rows.values():
        for ref in REF.finditer(row):
            width = max(width, column_number(ref.group(1).decode()))
    extent = f"A1:{column_letter(width)}{max(rows)}".encode()
    return xml[: match.start(1)] + extent + xml[match.end(1) :]


def _add_validations(xml: bytes, dropdowns: Sequence[Dropdown], prefix: str) -> bytes:
    items = _dropdowns_xml(dropdowns)
    inner = items[items.index(">") + 1 : items.rindex("<")]
    existing = re.search(rb"<(?:\w+:)?dataValidations\b[^>]*>", xml)
    if prefix:
        inner = re.sub(r"<(/?)(dataValidation|formula1)\b", rf"<\1{prefix}\2", inner)
    if existing is not None:
        close = re.search(rb"</(?:\w+:)?dataValidations\s*>", xml)
        if close is None:
            raise _Unusual("dataValidations sans fin")
        count = len(re.findall(rb"<(?:\w+:)?dataValidation\b", xml)) + len(dropdowns)
        xml = xml[: close.start()] + inner.encode() + xml[close.start() :]
        tag = re.sub(rb'\scount="\d*"', b"", existing.group())
        tag = tag[:-1] + f' count="{count}">'.encode()
        return xml[: existing.start()] + tag + xml[existing.end() :]
    data_end = re.search(rb"</(?:\w+:)?sheetData\s*>", xml)
    at = AFTER_VALIDATIONS.search(xml, data_end.end() if data_end else 0)
    if at is None:
        raise _Unusual("worksheet sans fin")
    block = f'<{prefix}dataValidations count="{len(dropdowns)}">{inner}</{prefix}dataValidations>'
    return xml[: at.start()] + block.encode() + xml[at.start() :]
