"""Safe draft messages, built with the standard `email` package from structured fields only.

No header ever comes from template text or from the sheet as raw text: `From`, `Reply-To`
and `To` are `Address` objects (one address each), the subject is one line. Every header
value is checked here for CR, LF and other control characters, because Python 3.11.7 still
lets a trailing newline through (CVE-2024-6923). Non-ASCII names are RFC 2047 encoded by the
`email` package, internationalised domains are written in IDNA (`xn--…`). Drafts carry
`X-Unsent: 1` so that Outlook opens them as editable drafts.

Speed: in a run of thousands of drafts every header but `To` repeats, so header parsing and
folding are memoised for the run (`DraftPolicy`), and shared parts (the calendar) are built
once and attached to every message.
"""

from __future__ import annotations

import binascii
import datetime as dt
import email.utils
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.charset import Charset
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage, MIMEPart
from email.policy import EmailPolicy
from pathlib import Path
from typing import Any

from .errors import RegistryError
from .files import (
    DRAFTS_MARKER,
    TEMP_PREFIX,
    OutputRefused,
    Place,
    ProtectedOutput,
    another,
    atomic_write,
    atomic_write_bytes,
    check_folder_writable,
    check_output_file,
    check_outside_drafts,
    check_protected,
    choose,
    named,
    refused,
    resolved,
    umask,
)

# C0, DEL, C1, and the Unicode line/paragraph separators: never allowed in a header value.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u0085]")
# Text that cannot go out as 7bit: control characters, or a line longer than 78 characters.
RAW_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]|[^\n]{79}")
ENCODED_WORD = re.compile(r"=\?", re.ASCII)
EXPECTED_HEADERS = (
    "From",
    "Reply-To",
    "To",
    "Subject",
    "Date",
    "X-Unsent",
    "Content-Language",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",  # a message without attachment is a single text part
)


class UnsafeHeader(ValueError):
    """A value that would break or add a header; `field` says which one."""

    def __init__(self, field: str, value: str, why: str) -> None:
        super().__init__(f"{field} : {why} ({value!r})")
        self.field = field
        self.value = value
        self.why = why


OutputExists = OutputRefused  # the former name: an output that may not be replaced


class OutputFailed(OutputRefused):
    """Writing the drafts failed; nothing was left half-written."""


LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,}")

_FOLDED: dict[tuple[str, str], bytes] = {}


class _Headers(HeaderRegistry):
    """The standard header registry, without building a new header class on every lookup."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        found = self._classes.get(key)
        if found is None:
            found = self._classes[key] = super().__getitem__(name)
        return found


class DraftPolicy(EmailPolicy):
    """`policy.default` with CRLF line ends; refuses control characters in any header value
    set from text (the standard check lets a trailing newline through: CVE-2024-6923)."""

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if isinstance(value, str):
            check_header_value(name, value)
        return super().header_store_parse(name, value)


POLICY = DraftPolicy(linesep="\r\n", header_factory=_Headers())


def check_header_value(field: str, value: str) -> str:
    """`value` unchanged, or `UnsafeHeader` if it holds a line break or a control character."""
    match = CONTROL.search(value)
    if match:
        raise UnsafeHeader(field, value, f"caractère de contrôle U+{ord(match.group()):04X}")
    return value


@dataclass(frozen=True)
class Mailbox:
    """A name and one e-mail address, as typed in the sheet or the configuration."""

    name: str
    email: str


def address(field: str, mailbox_: Mailbox) -> Address:
    """One `Address` for a header, or `UnsafeHeader`: never a list, never a control character.

    A display name that looks like an RFC 2047 encoded word (`=?utf-8?q?…?=`) is dropped rather
    than decoded by the reader into something else; the bare address remains."""
    name = " ".join(check_header_value(field, mailbox_.name).split())
    raw = check_header_value(field, mailbox_.email).strip()
    local, at, domain = raw.rpartition("@")
    if not at or not local or not domain:
        raise UnsafeHeader(field, raw, "adresse e-mail invalide")
    if not domain.isascii():
        domain = _idna(field, raw, domain)
    if not local.isascii():
        raise UnsafeHeader(field, raw, "caractères non ASCII avant @ (non pris en charge)")
    if not (LOCAL_PART.fullmatch(local) and DOMAIN.fullmatch(domain)):
        raise UnsafeHeader(field, raw, "une seule adresse de la forme nom@domaine.fr attendue")
    if ENCODED_WORD.search(name):
        name = ""
    return Address(display_name=name, username=local, domain=domain)


def _idna(field: str, raw: str, domain: str) -> str:
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError as err:
        raise UnsafeHeader(field, raw, "nom de domaine international invalide") from err


def one_line(field: str, text: str) -> str:
    """A rendered subject as one header line: whitespace runs (line breaks included) collapse
    to one space; any other control character is refused."""
    collapsed = " ".join(text.split())
    return check_header_value(field, collapsed)


@dataclass(frozen=True)
class Envelope:
    """What does not change from one draft to the next in a run: sender, reply-to, date."""

    sender: Mailbox
    reply_to: Mailbox | None
    date: dt.datetime


def attachment(data: bytes, maintype: str, subtype: str, filename: str, **params: str) -> MIMEPart:
    """A part built once per run and attached, as is, to every draft that needs it."""
    part = MIMEPart(policy=POLICY)
    part.set_content(data, maintype, subtype, filename=filename, params=params)
    return part


class DraftFactory:
    """Serialises drafts that share an envelope and attachments.

    Everything constant is folded and encoded once, by the `email` package: the `From`,
    `Reply-To`, `Date` and MIME headers, each subject, the attachments (whole MIME parts).
    Per draft remain the `To` line (from an `Address`, RFC 2047 by `email.utils.formataddr`
    or the header registry), and the text (and HTML) part, quoted-printable when not plain
    ASCII. The result is a standard RFC 5322 message with CRLF line ends; `parse` reads it
    back with `policy.default`.
    """

    def __init__(self, envelope: Envelope, attachments: Sequence[MIMEPart] = ()) -> None:
        # `=_` never occurs in quoted-printable or base64 text; the token is unguessable.
        self.boundary = f"=_gt_{secrets.token_hex(12)}"
        head = [fold_header("From", address("From", envelope.sender))]
        if envelope.reply_to is not None:
            head.append(fold_header("Reply-To", address("Reply-To", envelope.reply_to)))
        self._head = b"".join(head)
        self._tail_head = (
            fold_header("Date", email.utils.format_datetime(envelope.date))
            + fold_header("X-Unsent", "1")
            + fold_header("MIME-Version", "1.0")
        )
        self._attachments = [part.as_bytes(policy=POLICY) for part in attachments]

    def draft(
        self, to: Mailbox, subject: str, text: str, html: str | None = None, language: str = ""
    ) -> bytes:
        """One draft to one person (exactly one address in `To`); raises `UnsafeHeader`.
        `language` (`fr`, `en`…) is the `Content-Language` of the text (RFC 3282)."""
        headers = [
            self._head,
            to_line(address("To", to)),
            fold_header("Subject", one_line("Subject", subject)),
            self._tail_head,
        ]
        if language:
            headers.append(fold_header("Content-Language", language))
        body = self._text_part(text, "plain")
        if html is not None:
            body = self._multipart(
                "alternative", f"{self.boundary}_alt", [body, self._text_part(html, "html")]
            )
        if self._attachments:
            body = self._multipart("mixed", self.boundary, [body, *self._attachments])
        return b"".join(headers) + body

    def _text_part(self, text: str, subtype: str) -> bytes:
        text = _lines(text)
        data = text.encode("utf-8").replace(b"\n", CRLF_B)
        if text.isascii() and not RAW_UNSAFE.search(text) and self.boundary not in text:
            encoding, payload = "7bit", data
        else:  # quoted-printable, by the C encoder the `email` package itself relies on
            encoding, payload = "quoted-printable", binascii.b2a_qp(data, istext=True)
            payload = payload if payload.endswith(CRLF_B) else payload + CRLF_B
        charset = "us-ascii" if text.isascii() else "utf-8"
        return (
            fold_header("Content-Type", f'text/{subtype}; charset="{charset}"')
            + fold_header("Content-Transfer-Encoding", encoding)
            + CRLF_B
            + payload
        )

    def _multipart(self, subtype: str, boundary: str, parts: Sequence[bytes]) -> bytes:
        delimiter = f"--{boundary}".encode("ascii")
        # The CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1), hence the
        # extra one after each part, as the `email` generator writes it.
        out = [fold_header("Content-Type", f'multipart/{subtype}; boundary="{boundary}"'), CRLF_B]
        for index, part in enumerate(parts):
            out += [CRLF_B if index else b"", delimiter, CRLF_B, part]
        out += [CRLF_B, delimiter, b"--", CRLF_B]
        return b"".join(out)


CRLF = "\r\n"
CRLF_B = b"\r\n"
UTF8 = Charset("utf-8")  # one for the run: `formataddr` would build one per non-ASCII name


def fold_header(name: str, value: str | Address) -> bytes:
    """`Name: value` folded by the `email` package (header registry, RFC 2047), memoised:
    the same headers repeat in every draft of a run."""
    key = (name.lower(), value if isinstance(value, str) else str(value))
    folded = _FOLDED.get(key)
    if folded is None:
        if isinstance(value, str):
            check_header_value(name, value)
        folded = POLICY.fold_binary(name, POLICY.header_factory(name, value))
        if len(_FOLDED) < 10_000:
            _FOLDED[key] = folded
    return folded


def to_line(recipient: Address) -> bytes:
    """The `To` line for one address: `email.utils.formataddr` when it fits on one line (the
    common case, fast), the header registry's folding otherwise."""
    value = email.utils.formataddr((recipient.display_name, recipient.addr_spec), charset=UTF8)
    if len(value) <= 70 and value.isascii():
        return f"To: {value}{CRLF}".encode("ascii")
    return POLICY.fold_binary("To", POLICY.header_factory("To", recipient))


def _lines(text: str) -> str:
    """Line ends normalised; a body always ends with a newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if text.endswith("\n") else text + "\n"


def parse(data: bytes) -> EmailMessage:
    """A draft read back as the mail client will (`policy.default`)."""
    from email import policy
    from email.parser import BytesParser

    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


# -- output -----------------------------------------------------------------------------
#
# A drafts folder carries the tool's marker (`.gt-brouillons`): the meeting or mailing it holds
# and every file the tool wrote there, with its SHA-256. `--force` replaces only such a folder,
# for the same meeting or mailing, and in it only those files, unchanged since: anything else
# (a note, a draft edited by hand) stays, and is listed before anything is written.

MARKER = DRAFTS_MARKER  # ".gt-brouillons"
MARKER_TOOL = "gt-registry"
STAGING_PREFIX = f"{TEMP_PREFIX}brouillons-"  # a run's hidden folder, before the rename


@dataclass(frozen=True)
class Output:
    """Where a run writes: one `.eml` per draft in `folder`, and optionally one mbox file."""

    folder: Path
    mbox: Path | None = None
    force: bool = False
    add: bool = False  # --only-new: add files to an existing folder, replace nothing
    owner: str = ""  # the meeting or mailing ("réunion R-2020-01"), kept in the marker
    protected: tuple[Place, ...] = ()  # never written over (`files.protected_places`)
    create_parents: bool = False  # the configured drafts folder is created when missing
    option: str = "--out"


@dataclass(frozen=True)
class Marker:
    owner: str
    files: dict[str, str]  # name → SHA-256 of what the tool wrote


@dataclass(frozen=True)
class Placement:
    """What a write will do in `folder` (resolved), decided before anything is written."""

    folder: Path
    exists: bool
    ours: dict[str, str] = field(default_factory=dict)  # the tool's files, unchanged since
    replace: frozenset[str] = frozenset()  # of those, the ones this run removes or replaces
    kept: tuple[str, ...] = ()  # everything else in the folder, left as it is


def read_marker(folder: Path) -> Marker | None:
    """The folder's marker, or None when it has none (or one the tool cannot trust)."""
    path = folder / MARKER
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError):
        return None
    files = data.get("fichiers") if isinstance(data, dict) else None
    if data.get("outil") != MARKER_TOOL or not isinstance(files, dict):
        return None
    return Marker(str(data.get("brouillons", "")), {str(k): str(v) for k, v in files.items()})


def marker_bytes(owner: str, files: dict[str, str]) -> bytes:
    data = {
        "outil": MARKER_TOOL,
        "lisez-moi": "Dossier de brouillons écrit par gt-registry. Avec --force, l'outil ne "
        "remplace que les fichiers listés ici, s'ils n'ont pas changé ; ne modifiez pas ce fichier.",
        "brouillons": owner,
        "fichiers": dict(sorted(files.items())),
    }
    return (json.dumps(data, indent=1) + "\n").encode("ascii")  # ASCII: any tool reads it


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _unchanged(path: Path, digest: str) -> bool:
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        return _digest(path.read_bytes()) == digest
    except OSError:
        return False


def _listing(folder: Path) -> list[str]:
    """The folder's entries, without the marker and a killed run's hidden folders."""
    return sorted(
        name
        for name in os.listdir(folder)
        if name != MARKER and not name.startswith(STAGING_PREFIX)
    )


def _refuse(output: Output, message: str, hint: str) -> OutputRefused:
    return OutputRefused(f"{message} : rien n'a été écrit", hint, option=output.option)


def check_output(output: Output, names: Iterable[str]) -> Placement:
    """What writing `names` into the output would do, or the reason it is refused, before
    anything is rendered or written (again just before writing)."""
    names = list(names)
    if output.mbox is not None:
        check_outside_drafts(output.mbox, "--mbox", output.folder)
        check_output_file(output.mbox, output.protected, output.force, option="--mbox")
    check_protected(output.folder, output.protected, option=output.option, folder=True)
    folder = output.folder
    if folder.is_symlink():
        if not folder.is_dir():
            raise ProtectedOutput(
                f"{named(output.option, folder)} : lien symbolique vers autre chose qu'un dossier : rien n'a été écrit",
                f"{another(output.option)} : le chemin d'un dossier",
                option=output.option,
            )
        folder = resolved(folder)
    try:
        exists = os.path.lexists(folder)
        if not exists:
            return _check_new(output, folder)
        if not folder.is_dir():
            raise ProtectedOutput(
                f"{folder} existe et n'est pas un dossier : rien n'a été écrit",
                f"{another(output.option)}",
                option=output.option,
            )
        entries = _listing(folder)
    except OSError as err:
        raise refused(err, folder, output.option) from err
    marker = read_marker(folder)
    if marker is None and entries:
        if all(name.endswith(".eml") for name in entries):
            raise _refuse(
                output,
                f"{folder} : brouillons sans marqueur de l'outil ({MARKER}) — écrits par une version précédente, ou par quelqu'un d'autre ; l'outil ne les remplace pas",
                f"supprimez ce dossier vous-même après vérification, ou {another(output.option)}",
            )
        raise _refuse(
            output,
            f"{folder} n'est pas un dossier de brouillons de l'outil ({len(entries)} élément(s), par exemple « {entries[0]} »)",
            choose(
                output.option,
                "un dossier nouveau ou vide ; l'outil ne touche pas à ce qu'il n'a pas écrit",
            ),
        )
    if marker is not None and marker.owner != output.owner:
        raise _refuse(
            output,
            f"{folder} contient les brouillons d'un autre envoi ({marker.owner})",
            f"{another(output.option)} (par défaut : un dossier par réunion ou par envoi)",
        )
    ours = (
        {}
        if marker is None
        else {n: h for n, h in marker.files.items() if n in entries and _unchanged(folder / n, h)}
    )
    kept = tuple(n for n in entries if n not in ours)
    wanted = set(names)
    if output.add:
        clash = sorted(wanted & set(entries))
        if clash and not output.force:
            raise _refuse(
                output,
                f"{folder} : {len(clash)} brouillon(s) existent déjà (par exemple {clash[0]})",
                "ajoutez --force pour les remplacer",
            )
        replace = frozenset(clash)
    else:
        if ours and not output.force:
            raise _refuse(
                output,
                f"le dossier {folder} existe déjà ({marker.owner if marker else ''})",
                "ajoutez --force pour le remplacer (seuls les fichiers écrits par l'outil le sont), "
                "--only-new pour n'ajouter que les nouveaux, ou --out DOSSIER",
            )
        replace = frozenset(ours)
    foreign = sorted(wanted & set(kept))
    if foreign:
        raise _refuse(
            output,
            f"{folder / foreign[0]} n'a pas été écrit par l'outil, ou a été modifié depuis"
            + (f" (et {len(foreign) - 1} autre(s))" if len(foreign) > 1 else ""),
            f"déplacez ce fichier si vous voulez le garder, ou {another(output.option)}",
        )
    check_folder_writable(folder, output.option)
    return Placement(folder, True, ours, replace, kept)


def _check_new(output: Output, folder: Path) -> Placement:
    parent = folder.parent
    if output.create_parents:
        while not os.path.lexists(parent) and parent != parent.parent:
            parent = parent.parent
    check_folder_writable(parent, output.option)
    return Placement(folder, False)


def kept_files(output: Output) -> list[str]:
    """What a forced run leaves in the folder because the tool did not write it (or it was
    changed since): shown before anything is written."""
    try:
        placement = check_output(output, ())
    except RegistryError:
        return []
    return list(placement.kept)


def write_output(output: Output, files: Sequence[tuple[str, bytes]]) -> Placement:
    """Write every draft, all or nothing: a new folder is filled hidden beside its place, then
    renamed; in an existing folder of the tool, the new files are prepared in a hidden folder
    inside it, the marker is widened to old and new files, the files are renamed into place,
    the tool's old files removed, and the marker narrowed. The mbox goes through a temporary
    file too. Checked again first: the folder may have changed while the drafts rendered."""
    placement = check_output(output, [name for name, _data in files])
    digests = {name: _digest(data) for name, data in files}
    folder = placement.folder
    staging: Path | None = None
    try:
        if placement.exists:
            staging = _staging(folder)
            _write_files(staging, files)
            if output.mbox is not None:
                _write_mbox(output.mbox, (data for _name, data in files))
            _fill(folder, staging, output, placement, digests)
        else:
            folder.parent.mkdir(parents=True, exist_ok=True)  # only with create_parents
            staging = _staging(folder.parent)
            _write_files(staging, files)
            atomic_write_bytes(staging / MARKER, marker_bytes(output.owner, digests))
            if output.mbox is not None:
                _write_mbox(output.mbox, (data for _name, data in files))
            os.replace(staging, folder)
            staging = None
    except OSError as err:
        raise OutputFailed(
            refused(err, folder, output.option).message,
            refused(err, folder, output.option).hint + " ; aucun brouillon partiel n'a été laissé",
        ) from err
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return placement


def _staging(parent: Path) -> Path:
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=parent))
    os.chmod(staging, 0o777 & ~umask())  # mkdtemp makes it 0700: the folder follows the umask
    return staging


def _fill(
    folder: Path, staging: Path, output: Output, placement: Placement, digests: dict[str, str]
) -> None:
    for name in os.listdir(folder):  # hidden folders of a killed run of the tool
        if name.startswith(STAGING_PREFIX) and folder / name != staging:
            shutil.rmtree(folder / name, ignore_errors=True)
    final = {**placement.ours, **digests} if output.add else dict(digests)
    atomic_write_bytes(folder / MARKER, marker_bytes(output.owner, {**placement.ours, **digests}))
    for name in digests:
        os.replace(staging / name, folder / name)
    for name in placement.replace - set(digests):
        (folder / name).unlink(missing_ok=True)
    atomic_write_bytes(folder / MARKER, marker_bytes(output.owner, final))


def _write_files(folder: Path, files: Sequence[tuple[str, bytes]]) -> None:
    """Plain `os` calls relative to the folder: thousands of small files, no buffering layer."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    folder_fd = os.open(folder, os.O_RDONLY) if os.open in os.supports_dir_fd else None
    try:
        for name, data in files:
            if folder_fd is None:
                fd = os.open(folder / name, flags, 0o666)
            else:
                fd = os.open(name, flags, 0o666, dir_fd=folder_fd)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
    finally:
        if folder_fd is not None:
            os.close(folder_fd)


def _write_mbox(path: Path, messages: Iterable[bytes]) -> None:
    import mailbox  # --mbox only

    def save(temp: Path) -> None:
        temp.unlink()  # mailbox.mbox creates it
        box = mailbox.mbox(temp, create=True)
        try:
            for data in messages:
                box.add(data)
            box.flush()
        finally:
            box.close()

    atomic_write(path, save)
