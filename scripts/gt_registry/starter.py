"""`gt templates`: a folder of editable copies of the default templates and a commented
`gt.toml` that points at them. Files already there are staff's own: never replaced."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import PACKAGED_CONFIG, PACKAGED_TEMPLATES
from .errors import RegistryError

EMPTY_TEMPLATES = 'templates = ""'


@dataclass(frozen=True)
class StarterPlan:
    folder: Path
    new: tuple[tuple[Path, bytes], ...]  # files to create, with their content
    kept: tuple[Path, ...]  # files already there: left as they are

    def summary(self, written: bool) -> str:
        verb = "créé(s)" if written else "à créer"
        kept = f", {len(self.kept)} déjà présent(s) laissé(s) tel(s) quel(s)" if self.kept else ""
        return f"{len(self.new)} fichier(s) {verb} dans {self.folder}{kept}."


def default_files() -> list[tuple[Path, bytes]]:
    """Every default template (relative to `templates/`) and the configuration, relative paths."""
    files = [
        (Path("templates") / path.relative_to(PACKAGED_TEMPLATES), path.read_bytes())
        for path in sorted(PACKAGED_TEMPLATES.rglob("*"))
        if path.is_file()
    ]
    config = PACKAGED_CONFIG.read_text(encoding="utf-8")
    config = config.replace(EMPTY_TEMPLATES, 'templates = "templates"', 1)
    return [(Path("gt.toml"), config.encode("utf-8")), *files]


def plan_starter(folder: Path) -> StarterPlan:
    if folder.exists() and not folder.is_dir():
        raise RegistryError(
            f"{folder} existe et n'est pas un dossier", "choisissez un autre dossier"
        )
    new, kept = [], []
    for relative, data in default_files():
        target = folder / relative
        if target.exists() or target.is_symlink():
            kept.append(target)
        else:
            new.append((target, data))
    return StarterPlan(folder, tuple(new), tuple(kept))


def write_starter(plan: StarterPlan) -> None:
    """Create the new files only (`x` mode: a file that appeared meanwhile is not replaced).
    All or nothing: on a failure the files this run created are removed again."""
    created: list[Path] = []
    try:
        for target, data in plan.new:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "xb") as stream:
                created.append(target)
                stream.write(data)
    except OSError as err:
        for path in created:
            path.unlink(missing_ok=True)
        raise RegistryError(
            f"{err.filename or plan.folder} : écriture impossible ({err.strerror or err})",
            "vérifiez les droits du dossier, puis relancez : rien n'a été écrit",
        ) from err
