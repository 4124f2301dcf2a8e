"""Configuration: built-in defaults < config file (TOML) < environment < command-line options.

Loaded once into a frozen `Config`; a bad file names the file, the key and what is expected.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .journal import HEADERS as JOURNAL_HEADERS
from .model import MEETING_TYPES
from .parsing import normalise_header, valid_email

DEFAULT_CONFIG_PATH = Path("config") / "gt.toml"
# The defaults shipped inside the package (in the repository: templates/ and config/gt.toml,
# linked into scripts/gt_registry/). A staff templates folder overrides only the files it holds.
PACKAGED_TEMPLATES = Path(str(files("gt_registry") / "templates"))
PACKAGED_CONFIG = Path(str(files("gt_registry") / "defaults" / "gt.toml"))

# Logical tab keys → default tab name and fields: key → (header, required, aliases).
STAFF_TABS: dict[str, tuple[str, dict[str, tuple[str, bool, list[str]]]]] = {
    "organisations": (
        "Organisations",
        {
            "id": ("ID", True, ["Identifiant", "Code"]),
            "name": ("Nom", True, ["Organisation", "Raison sociale", "Name"]),
            "type": ("Type", True, ["Catégorie", "Secteur"]),
            "country": ("Pays", False, ["Country"]),
            "city": ("Ville", False, ["City"]),
            "website": ("Site web", False, ["Site", "Site internet", "Website", "URL"]),
            "partner": ("Partenaire", False, ["Partner"]),
            "forum_coorganiser": (
                "Co-organisateur FMC",
                False,
                ["Co-organisateur", "Coorganisateur FMC"],
            ),
            "has_room": ("Salle disponible", False, ["Salle", "Room"]),
            "address": ("Adresse", False, ["Adresse salle", "Address"]),
        },
    ),
    "people": (
        "Personnes",
        {
            "id": ("ID", True, ["Identifiant"]),
            "first_name": ("Prénom", True, ["First name", "Prenom"]),
            "last_name": ("Nom", True, ["Nom de famille", "Last name"]),
            "email": ("E-mail", True, ["Courriel", "Mail", "Adresse e-mail", "Adresse mail"]),
            "phone": ("Téléphone", False, ["Tél", "Tel", "Phone", "Portable", "Mobile"]),
            "function": ("Fonction", False, ["Poste", "Titre", "Job title"]),
            "organisation": ("Organisation", True, ["Structure", "Organisme", "ID organisation"]),
            "groups": ("Groupes", False, ["GT", "Groupes de travail", "Groupe"]),
            "language": ("Langue", False, ["Language", "Lang"]),
            "opted_out": (
                "Désinscription",
                False,
                [
                    "Désinscrit·e",
                    "Désinscrit(e)",
                    "Désinscrit",
                    "Désinscrite",
                    "Désinscrits",
                    "Désinscrit·es",
                    "Désabonné·e",
                    "Désabonné(e)",
                    "Désabonné",
                    "Désabonnée",
                    "Désabonnement",
                    "Ne pas contacter",
                    "Ne plus contacter",
                    "Ne pas solliciter",
                    "Refus de contact",
                    "Opt-out",
                    "Opted out",
                    "Unsubscribed",
                    "Unsubscribe",
                    "Do not contact",
                    "Baja",
                    "No contactar",
                    "Descadastrado",
                    "Não contactar",
                ],
            ),
            "charter_signed": ("Charte signée", False, ["Charte", "Date charte"]),
            "override": ("Dérogation", False, ["Forçage", "Statut manuel"]),
            "notes": ("Notes", False, ["Note", "Remarques", "Commentaire"]),
        },
    ),
    "groups": (
        "Groupes",
        {
            "code": ("Code", True, ["ID", "Sigle"]),
            "name": ("Nom", True, ["Intitulé", "Name"]),
            "description": ("Description", False, []),
            "co_animation": ("Co-animation", False, ["Co-animé par", "Coanimation"]),
            "platform": ("Plateforme", False, ["Pays", "Région"]),
            "referent": ("Référent", False, ["Référente", "Responsable"]),
            "referent_email": ("E-mail référent", False, ["Courriel référent", "Mail référent"]),
        },
    ),
    "meetings": (
        "Réunions",
        {
            "id": ("ID", True, ["Identifiant", "Code"]),
            "type": ("Type", True, []),
            "group": ("Groupe", False, ["GT", "Code groupe", "Cycle"]),
            "date": ("Date", True, ["Jour"]),
            "start": ("Début", False, ["Heure de début", "Heure", "Start"]),
            "end": ("Fin", False, ["Heure de fin", "End"]),
            "place": ("Lieu", False, ["Salle", "Venue"]),
            "address": ("Adresse", False, ["Address"]),
            "host": ("Hôte", False, ["Organisation hôte", "Accueil", "Host"]),
            "theme": ("Thème", False, ["Ordre du jour", "Sujet", "Theme"]),
            "video_link": ("Lien visio", False, ["Visio", "Lien", "Visioconférence"]),
        },
    ),
    "attendance": (
        "Présences",
        {
            "meeting": ("Réunion", True, ["ID réunion", "Meeting"]),
            "person": ("Personne", True, ["ID personne", "Participant", "Participante", "E-mail"]),
            "status": ("Statut", False, ["Présence", "État"]),
            "comment": ("Commentaire", False, ["Commentaires", "Remarque", "Notes"]),
        },
    ),
}

# Tabs the tool owns and rewrites; their headers are ours (staff only read them).
OWNED_TABS: dict[str, tuple[str, list[str]]] = {
    "eligibility": (
        "Éligibilité",
        [
            "ID",
            "Prénom",
            "Nom",
            "Organisation",
            "E-mail",
            "Réunions",
            "Membre actif",
            "Entrée FMC offerte",
            "Priorité",
            "Détail",
            "Mis à jour le",
        ],
    ),
    "summary": ("Bilan organisations", ["ID", "Nom", "Type", "Réunions", "Personnes actives"]),
    "journal": ("Journal", list(JOURNAL_HEADERS)),
    # One row per (meeting or mailing, person) drafted into a Gmail mailbox. Read and written
    # only by runs with --gmail (`Config.with_drafts_tab`): the others never ask for it, so a
    # registry that has no such tab costs them nothing.
    "drafts": (
        "Brouillons",
        [
            "Envoi",
            "Personne",
            "Boîte",
            "ID brouillon",
            "ID message",
            "Empreinte",
            "SEQUENCE",
            "Rédigé le",
        ],
    ),
}
ON_DEMAND_TABS = frozenset({"drafts"})


@dataclass(frozen=True)
class FieldSpec:
    key: str
    header: str
    required: bool
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class TabSpec:
    key: str
    name: str
    fields: tuple[FieldSpec, ...]

    def field(self, key: str) -> FieldSpec:
        return next(f for f in self.fields if f.key == key)


@dataclass(frozen=True)
class OwnedTabSpec:
    key: str
    name: str
    headers: tuple[str, ...]


@dataclass(frozen=True)
class Limits:
    """What one template rendering may cost: seconds of work and characters of output."""

    seconds: float
    chars: int


@dataclass(frozen=True)
class Config:
    """Everything configurable, validated once. Build it with `load_config`: the defaults
    live in one place, `_defaults()` (and, commented, in the packaged gt.toml)."""

    sheet: str
    source_file: Path | None
    staff_tabs: dict[str, TabSpec]
    owned_tabs: dict[str, OwnedTabSpec]
    season_first_month: int
    season_last_month: int
    active_threshold: int
    counted_types: tuple[str, ...]
    sender_name: str
    sender_email: str
    timezone: str
    languages: tuple[str, ...]
    default_language: str
    templates_dir: Path | None
    drafts_dir: Path
    no_opt_out_column: bool
    message_limits: Limits
    file_limits: Limits
    credentials: Path | None = None
    client_secrets: Path | None = None  # the OAuth client of `gt login` ([google])
    # Tool tabs read and written only by the runs that need them (`Brouillons`: --gmail).
    on_demand_tabs: dict[str, OwnedTabSpec] = field(default_factory=dict)

    @property
    def template_roots(self) -> tuple[Path, ...]:
        """Where templates are looked up, first found wins: staff's folder, then the defaults."""
        own = () if self.templates_dir is None else (self.templates_dir,)
        return (*own, PACKAGED_TEMPLATES)

    def template_folders(self, kind: str) -> tuple[Path, ...]:
        """The folders of one kind of template (`emails`, `contacts`), in lookup order."""
        return tuple(root / kind for root in self.template_roots)

    def tab(self, key: str) -> str:
        """The sheet name of a staff-owned or tool-owned tab, by logical key."""
        if key in self.staff_tabs:
            return self.staff_tabs[key].name
        if key in self.on_demand_tabs:
            return self.on_demand_tabs[key].name
        return self.owned_tabs[key].name

    def with_tabs(self, *keys: str) -> Config:
        """This configuration with on-demand tool tabs (`drafts`) read and written like the
        others: by the runs that need them."""
        wanted = {key: self.on_demand_tabs[key] for key in keys}
        return replace(self, owned_tabs={**self.owned_tabs, **wanted})


def _defaults() -> dict[str, Any]:
    return {
        "sheet": "registre-gt.xlsx",
        "season": {"first_month": 11, "last_month": 6},
        "rules": {
            "active_threshold": 2,
            "counted_types": ["Lancement", "Réunion", "Petit-déjeuner"],
            "no_opt_out_column": False,
        },
        "mail": {
            "sender_name": "Convergences — Groupes de travail",
            "sender_email": "gt@convergences.example.org",
            "timezone": "Europe/Paris",
            "languages": ["fr", "en", "es", "pt"],
            "default_language": "fr",
        },
        "paths": {"templates": "", "drafts": "brouillons"},
        "google": {"client_secrets": ""},
        "limits": {
            "message_seconds": 10,
            "message_chars": 5_000_000,
            "file_seconds": 120,
            "file_chars": 500_000_000,
        },
        "tabs": {
            key: {
                "name": name,
                "headers": {
                    f: {"name": h, "aliases": list(a)} for f, (h, _req, a) in fields.items()
                },
            }
            for key, (name, fields) in STAFF_TABS.items()
        }
        | {key: {"name": name} for key, (name, _headers) in OWNED_TABS.items()},
    }


def _merge(base: dict[str, Any], override: Mapping[str, Any], where: str, path: str) -> None:
    for key, value in override.items():
        dotted = f"{path}.{key}" if path else key
        if key not in base:
            raise ConfigError(
                f"{where} : clé inconnue « {dotted} »",
                "vérifiez l'orthographe ; les clés possibles sont : " + ", ".join(sorted(base)),
            )
        if isinstance(base[key], dict):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where} : « {dotted} » doit être une table TOML ([{dotted}])")
            _merge(base[key], value, where, dotted)
        else:
            base[key] = value


def _expect(value: Any, kind: type | tuple[type, ...], where: str, key: str, what: str) -> Any:
    if (isinstance(value, bool) and kind is int) or not isinstance(value, kind):
        raise ConfigError(f"{where} : « {key} » doit être {what} (trouvé : {value!r})")
    return value


def _text_list(value: Any, where: str, key: str) -> tuple[str, ...]:
    _expect(value, list, where, key, "une liste de textes")
    for item in value:
        _expect(item, str, where, key, "une liste de textes")
    return tuple(value)


def _month(value: Any, where: str, key: str) -> int:
    _expect(value, int, where, key, "un numéro de mois (1 à 12)")
    if not 1 <= value <= 12:
        raise ConfigError(f"{where} : « {key} » doit être un numéro de mois (1 à 12), pas {value}")
    return int(value)


def _distinct_tab_names(tabs: list[TabSpec | OwnedTabSpec], where: str) -> None:
    """Tabs are found loosely (case, accents, spaces ignored): two names equal that way would
    be one tab, and a tool tab would overwrite a staff one."""
    seen: dict[str, str] = {}
    for tab in tabs:
        key = normalise_header(tab.name)
        if key in seen:
            raise ConfigError(
                f"{where} : deux onglets portent le même nom : « {seen[key]} » et « {tab.name} » "
                "(ils ne se distinguent que par la casse, les accents ou les espaces)",
                "donnez-leur des noms vraiment différents (section [tabs])",
            )
        seen[key] = tab.name


def _build(raw: dict[str, Any], where: str, source_file: Path | None) -> Config:
    staff: dict[str, TabSpec] = {}
    for key, (_name, fields) in STAFF_TABS.items():
        tab = raw["tabs"][key]
        specs = []
        for fkey, (_h, required, _a) in fields.items():
            header = tab["headers"][fkey]
            name = _expect(
                header["name"], str, where, f"tabs.{key}.headers.{fkey}.name", "un texte"
            )
            aliases = _text_list(header["aliases"], where, f"tabs.{key}.headers.{fkey}.aliases")
            specs.append(FieldSpec(fkey, name, required, aliases))
        name = _expect(tab["name"], str, where, f"tabs.{key}.name", "un nom d'onglet")
        staff[key] = TabSpec(key, name, tuple(specs))
    owned = {
        key: OwnedTabSpec(
            key,
            _expect(raw["tabs"][key]["name"], str, where, f"tabs.{key}.name", "un nom d'onglet"),
            tuple(headers),
        )
        for key, (_n, headers) in OWNED_TABS.items()
    }
    _distinct_tab_names([*staff.values(), *owned.values()], where)
    on_demand = {key: owned.pop(key) for key in ON_DEMAND_TABS}
    rules, mail, season = raw["rules"], raw["mail"], raw["season"]
    threshold = _expect(
        rules["active_threshold"], int, where, "rules.active_threshold", "un entier ≥ 1"
    )
    if threshold < 1:
        raise ConfigError(f"{where} : « rules.active_threshold » doit être un entier ≥ 1")
    counted = _text_list(rules["counted_types"], where, "rules.counted_types")
    for kind in counted:
        if kind not in MEETING_TYPES:
            raise ConfigError(
                f"{where} : « rules.counted_types » : type de réunion inconnu « {kind} »",
                "types possibles : " + ", ".join(MEETING_TYPES),
            )
    languages = _text_list(mail["languages"], where, "mail.languages")
    default_language = _expect(
        mail["default_language"], str, where, "mail.default_language", "un code de langue"
    )
    if default_language not in languages:
        raise ConfigError(
            f"{where} : « mail.default_language » doit figurer dans « mail.languages »"
        )
    timezone = _expect(mail["timezone"], str, where, "mail.timezone", "un fuseau horaire IANA")
    try:
        import zoneinfo

        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
        raise ConfigError(
            f"{where} : « mail.timezone » : fuseau inconnu « {timezone} »", "exemple : Europe/Paris"
        ) from err
    sender_email = _expect(
        mail["sender_email"], str, where, "mail.sender_email", "une adresse e-mail"
    )
    if not valid_email(sender_email):
        raise ConfigError(
            f"{where} : « mail.sender_email » : adresse invalide « {sender_email} »",
            "une seule adresse, de la forme gt@reseau.org (le nom va dans mail.sender_name)",
        )
    templates = _expect(raw["paths"]["templates"], str, where, "paths.templates", "un chemin")
    drafts = _expect(raw["paths"]["drafts"], str, where, "paths.drafts", "un chemin")
    return Config(
        sheet=_expect(
            raw["sheet"], str, where, "sheet", "un chemin .xlsx, une URL Google Sheets ou une clé"
        ),
        source_file=source_file,
        staff_tabs=staff,
        owned_tabs=owned,
        season_first_month=_month(season["first_month"], where, "season.first_month"),
        season_last_month=_month(season["last_month"], where, "season.last_month"),
        active_threshold=threshold,
        counted_types=counted,
        sender_name=_expect(mail["sender_name"], str, where, "mail.sender_name", "un texte"),
        sender_email=sender_email,
        timezone=timezone,
        languages=languages,
        default_language=default_language,
        templates_dir=_relative_to(source_file, templates) if templates else None,
        drafts_dir=Path(drafts),
        no_opt_out_column=_expect(
            rules["no_opt_out_column"], bool, where, "rules.no_opt_out_column", "true ou false"
        ),
        message_limits=_limits(raw["limits"], "message", where),
        file_limits=_limits(raw["limits"], "file", where),
        client_secrets=_client_secrets(raw["google"], where, source_file),
        on_demand_tabs=on_demand,
    )


def _client_secrets(raw: Mapping[str, Any], where: str, source_file: Path | None) -> Path | None:
    value = _expect(raw["client_secrets"], str, where, "google.client_secrets", "un chemin")
    return _relative_to(source_file, value) if value else None


def _limits(raw: Mapping[str, Any], kind: str, where: str) -> Limits:
    values = []
    for unit in ("seconds", "chars"):
        key = f"limits.{kind}_{unit}"
        value = _expect(raw[f"{kind}_{unit}"], int, where, key, "un entier positif")
        if value <= 0:
            raise ConfigError(f"{where} : « {key} » doit être un entier positif, pas {value}")
        values.append(value)
    return Limits(seconds=float(values[0]), chars=values[1])


def load_config(
    path: Path | None = None,
    *,
    sheet: str | None = None,
    credentials: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Defaults, then the TOML file (`path`, else `$GT_CONFIG`, else ./config/gt.toml if it
    exists), then `$GT_SHEET`, then the `sheet`/`credentials` options."""
    env = os.environ if environ is None else environ
    raw = _defaults()
    if path is None and env.get("GT_CONFIG"):
        path = Path(env["GT_CONFIG"])
    if path is None and DEFAULT_CONFIG_PATH.is_file():
        path = DEFAULT_CONFIG_PATH
    where = "configuration par défaut"
    if path is not None:
        where = str(path)
        _merge(raw, _read_toml(path), where, "")
    if env.get("GT_SHEET"):
        raw["sheet"] = env["GT_SHEET"]
    if sheet:
        raw["sheet"] = sheet
    config = _build(raw, where, path)
    if credentials is not None:
        config = _replace(config, credentials=credentials)
    return config


def _read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML: UTF-8, with or without a BOM (Windows' Notepad adds one)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as err:
        raise ConfigError(
            f"{path} : fichier de configuration introuvable", "vérifiez --config ou GT_CONFIG"
        ) from err
    except OSError as err:
        raise ConfigError(f"{path} : lecture impossible : {err.strerror}") from err
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{path} : le fichier n'est pas en UTF-8 (octet illisible à la position {err.start})",
            "enregistrez le fichier en UTF-8 (dans le Bloc-notes : Enregistrer sous → Encodage : UTF-8)",
        ) from err
    try:
        return tomllib.loads(content)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(
            f"{path} : TOML illisible : {err}",
            "vérifiez les guillemets et les crochets à la ligne indiquée (modèle : config/gt.toml)",
        ) from err


def _replace(config: Config, **changes: Any) -> Config:
    return replace(config, **changes)


def _relative_to(source_file: Path | None, path: str) -> Path:
    """A path written in the config file is relative to that file's folder."""
    if source_file is None:
        return Path(path)
    return source_file.parent / path
