"""One exception root for the whole project, turned into a clean message at the CLI edge.

Exit codes (documented in `gt --help` and the README):
0 done, nothing to report; 1 done, but data problems were found and listed;
2 bad command line (Click's own); 3 could not run, nothing written.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_FAILED = 3


class RegistryError(Exception):
    """Base of every error this project raises on purpose; `exit_code` tells the CLI what to do."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  → {self.hint}" if self.hint else self.message


class ConfigError(RegistryError):
    """The configuration file or an option is wrong (file, key, what is expected)."""


class SourceError(RegistryError):
    """The registry could not be read or written: missing tab or header, credentials, network."""


class WriteFailed(SourceError):
    """A write did not go through; the sheet is as it was before the run."""


class TemplateFailure(RegistryError):
    """A Jinja template could not be loaded or rendered (names the file, line and person)."""


class SelectionError(RegistryError):
    """What the user asked for does not exist or selects nobody (unknown meeting, empty list)."""

    exit_code = EXIT_PROBLEMS


def what_to_do(err: RegistryError) -> str:
    """The next step for an error raised without a hint: every `Erreur :` line is followed
    by what to do."""
    if err.hint:
        return err.hint
    if isinstance(err, ConfigError):
        return (
            "corrigez le fichier de configuration ou l'option indiqués (les commentaires de "
            "gt.toml disent ce qui est attendu), puis relancez ; rien n'a été écrit"
        )
    if isinstance(err, TemplateFailure):
        return "corrigez le modèle indiqué (voir templates/emails/README.md), puis relancez ; rien n'a été écrit"
    if isinstance(err, SourceError):
        return (
            "vérifiez le registre (fichier fermé dans Excel ou LibreOffice, droits, connexion), "
            "puis relancez ; lancez « gt check » pour le détail"
        )
    return (
        "corrigez ce qui est indiqué, puis relancez ; docs/guide.md liste les messages et que faire"
    )
