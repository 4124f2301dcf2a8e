"""Google credentials, for the Sheets and the Gmail paths alike.

Resolution, first found wins (the same for every command):

1. `--credentials PATH`: a service-account key, or an `authorized_user` JSON;
2. `GOOGLE_APPLICATION_CREDENTIALS`: the same two kinds of file;
3. the stored login of `gt login`, in the user's config folder (mode 0600, never in the
   project or the registry);
4. Application Default Credentials (`google.auth.default`: gcloud, a cloud machine).

Scopes: `spreadsheets` and `gmail.compose` only (no Drive, no reading of mail). A service
account writes drafts only by domain-wide delegation, in the mailbox named by `--gmail-user`.
Every error names the file and the fix, and never quotes a secret.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.auth import exceptions as auth_errors
from google.auth.credentials import Credentials

from .errors import SourceError
from .files import atomic_write

SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
GMAIL_SCOPE = "https://www.googleapis.com/auth/gmail.compose"
SCOPES = (SHEETS_SCOPE, GMAIL_SCOPE)
APP_NAME = "gt-registry"
LOGIN_FILE = "login.json"
ENV_VAR = "GOOGLE_APPLICATION_CREDENTIALS"

HINT = (
    "lancez « gt login », ou indiquez un fichier d'identifiants avec --credentials CHEMIN "
    "(ou la variable GOOGLE_APPLICATION_CREDENTIALS)"
)


class AuthError(SourceError):
    """Credentials missing, unreadable, refused or not allowed for what is asked."""


@dataclass(frozen=True)
class Resolved:
    """Credentials found, where they came from, and their kind."""

    credentials: Credentials
    origin: str  # for messages: "--credentials /x.json", "connexion enregistrée (…)", …
    kind: str  # "service_account", "authorized_user" or "default"
    path: Path | None = None

    @property
    def account(self) -> str:
        """The account's e-mail when the credentials carry it (never a secret)."""
        for attribute in ("service_account_email", "account", "signer_email"):
            value = getattr(self.credentials, attribute, None)
            if isinstance(value, str) and "@" in value:
                return value
        return ""

    @property
    def scopes(self) -> tuple[str, ...]:
        granted = getattr(self.credentials, "scopes", None) or getattr(
            self.credentials, "granted_scopes", None
        )
        return tuple(granted or ())


def login_path() -> Path:
    """Where `gt login` keeps its credentials: the user's config folder (platformdirs)."""
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / LOGIN_FILE


def resolve(
    path: Path | None = None,
    *,
    scopes: Sequence[str] = (SHEETS_SCOPE,),
    environ: Mapping[str, str] | None = None,
) -> Resolved:
    """The credentials in force, by the precedence in the module docstring."""
    env = os.environ if environ is None else environ
    if path is not None:
        return _from_file(Path(path), scopes, f"--credentials {path}")
    if env.get(ENV_VAR):
        value = Path(env[ENV_VAR])
        return _from_file(value, scopes, f"{ENV_VAR}={value}")
    stored = login_path()
    if stored.is_file():
        return _from_file(stored, scopes, f"connexion enregistrée ({stored})")
    return _default(scopes)


def sheets_credentials(path: Path | None, environ: Mapping[str, str] | None = None) -> Resolved:
    return resolve(path, scopes=(SHEETS_SCOPE,), environ=environ)


def gmail_credentials(
    path: Path | None,
    gmail_user: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Resolved:
    """Credentials allowed to write drafts: a user's own login (with `gmail.compose`), or a
    service account impersonating `gmail_user` (domain-wide delegation)."""
    resolved = resolve(path, scopes=(GMAIL_SCOPE,), environ=environ)
    credentials = resolved.credentials
    if resolved.kind == "service_account" or hasattr(credentials, "with_subject"):
        if not gmail_user:
            raise AuthError(
                f"{resolved.origin} : un compte de service n'a pas de boîte Gmail ; il ne peut "
                "écrire des brouillons que par délégation au niveau du domaine",
                "indiquez la boîte à utiliser avec --gmail-user ADRESSE (la délégation doit être "
                "autorisée pour le scope gmail.compose dans la console d'administration "
                "Google Workspace), ou connectez-vous avec « gt login »",
            )
        delegated = credentials.with_subject(gmail_user)  # type: ignore[attr-defined]
        return Resolved(
            delegated, f"{resolved.origin} pour {gmail_user}", resolved.kind, resolved.path
        )
    granted = resolved.scopes
    if granted and GMAIL_SCOPE not in granted:
        raise AuthError(
            f"{resolved.origin} : ces identifiants n'autorisent pas l'écriture de brouillons "
            "Gmail (scope gmail.compose absent)",
            "relancez « gt login » pour accorder l'accès aux brouillons",
        )
    return resolved


def _from_file(path: Path, scopes: Sequence[str], origin: str) -> Resolved:
    info = read_json(path, origin)
    kind = info.get("type")
    if kind == "service_account":
        from google.oauth2 import service_account

        try:
            creds: Credentials = service_account.Credentials.from_service_account_info(
                info, scopes=list(scopes)
            )
        except (ValueError, KeyError, auth_errors.GoogleAuthError) as err:
            raise AuthError(
                f"{path} : clé de compte de service incomplète ou invalide ({origin})",
                "téléchargez une nouvelle clé JSON depuis la console Google Cloud, sans la modifier",
            ) from err
        return Resolved(creds, origin, "service_account", path)
    if kind == "authorized_user":
        from google.oauth2 import credentials as user_credentials

        try:
            user = user_credentials.Credentials.from_authorized_user_info(info)
        except (ValueError, KeyError) as err:
            raise AuthError(
                f"{path} : identifiants utilisateur incomplets ({origin})",
                "relancez « gt login » (ou « gcloud auth application-default login »), ou "
                "donnez une clé de compte de service avec --credentials CHEMIN",
            ) from err
        return Resolved(user, origin, "authorized_user", path)
    if "installed" in info or "web" in info:
        raise AuthError(
            f"{path} : c'est le fichier du client OAuth (client secrets), pas des identifiants ({origin})",
            f"connectez-vous une fois avec « gt login --client-secrets {path} »",
        )
    raise AuthError(
        f"{path} : type d'identifiants inconnu ({origin}) : attendu « service_account » "
        "ou « authorized_user »",
        HINT,
    )


def read_json(path: Path, origin: str) -> dict[str, Any]:
    """A JSON object from a credentials file; errors name the file and never its contents."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as err:
        raise AuthError(f"{path} : fichier d'identifiants introuvable ({origin})", HINT) from err
    except IsADirectoryError as err:
        raise AuthError(f"{path} : c'est un dossier, pas un fichier JSON ({origin})", HINT) from err
    except (OSError, UnicodeDecodeError) as err:
        why = err.strerror if isinstance(err, OSError) else "pas du texte UTF-8"
        raise AuthError(f"{path} : lecture impossible ({why}) ({origin})", HINT) from err
    try:
        info = json.loads(text)
    except json.JSONDecodeError as err:
        raise AuthError(
            f"{path} : JSON illisible (ligne {err.lineno}, colonne {err.colno}) ({origin})",
            "reprenez le fichier tel que Google l'a donné, sans le modifier ; " + HINT,
        ) from err
    if not isinstance(info, dict):
        raise AuthError(f"{path} : le fichier JSON doit contenir un objet ({origin})", HINT)
    return info


def _default(scopes: Sequence[str]) -> Resolved:
    import google.auth

    try:
        credentials, _project = google.auth.default(scopes=list(scopes))
    except auth_errors.GoogleAuthError as err:
        raise AuthError(f"aucun identifiant Google utilisable ({_first_line(err)})", HINT) from err
    return Resolved(credentials, "Application Default Credentials", "default")


# -- the stored login ---------------------------------------------------------------------


def store_login(credentials: Any, path: Path | None = None, account: str = "") -> Path:
    """Save `authorized_user` credentials (refresh token included) for this user only: the
    folder 0700, the file 0600 from its creation (written beside, then renamed)."""
    target = path or login_path()
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = json.loads(credentials.to_json())
    data["type"] = "authorized_user"
    data.pop("token", None)  # the short-lived access token: refreshed when needed
    data.pop("expiry", None)
    if account:
        data["account"] = account
    text = json.dumps(data, indent=2)

    def save(temp: Path) -> None:
        temp.write_text(text, encoding="utf-8")

    atomic_write(target, save, mode=0o600)  # 0600 from the temporary file's creation on
    return target


def forget_login(path: Path | None = None) -> tuple[Path, dict[str, Any] | None]:
    """Remove the stored login; returns its path and what it held (None: there was none)."""
    target = path or login_path()
    try:
        info = read_json(target, "connexion enregistrée")
    except AuthError:
        info = None
    if info is not None or target.exists():
        target.unlink(missing_ok=True)
    return target, info


# -- refusals ----------------------------------------------------------------------------


def refresh_failure(err: Exception, origin: str, nothing: str = "") -> AuthError:
    """A failed token request, said plainly: revoked or expired (`invalid_grant`), a
    delegation not allowed, Google's token service down (5xx), or the network."""
    text = str(err)
    if isinstance(err, auth_errors.RefreshError):
        if "invalid_grant" in text:
            return AuthError(
                f"Google refuse les identifiants ({origin}) : autorisation révoquée ou expirée{nothing}",
                "relancez « gt login » (ou créez une nouvelle clé de compte de service)",
            )
        if "unauthorized_client" in text or "access_denied" in text:
            return AuthError(
                f"Google refuse la délégation ({origin}){nothing}",
                "l'administrateur Google Workspace doit autoriser l'ID client de ce compte de "
                "service pour les scopes gmail.compose et spreadsheets (Sécurité → Contrôle des "
                "API → Délégation au niveau du domaine)",
            )
        if "invalid_scope" in text:
            return AuthError(
                f"Google refuse les autorisations demandées ({origin}){nothing}",
                "relancez « gt login » pour accorder l'accès aux feuilles et aux brouillons",
            )
        if getattr(err, "retryable", False) or "internal" in text.lower():
            return AuthError(
                f"le service d'authentification de Google ne répond pas (erreur serveur) ({origin}){nothing}",
                "ce n'est pas un problème d'identifiants : réessayez dans quelques minutes",
            )
        return AuthError(
            f"Google refuse les identifiants ({origin}) : {_first_line(err)}{nothing}", HINT
        )
    return AuthError(
        f"impossible de joindre le service d'authentification de Google ({origin}){nothing}",
        "vérifiez la connexion réseau, puis réessayez",
    )


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else ""


# -- gt login / logout / whoami ------------------------------------------------------------

PROFILE_URL = "https://gmail.googleapis.com/gmail/v1/users/me/profile"
REVOKE_URL = "https://oauth2.googleapis.com/revoke"
LOGIN_TIMEOUT = 300  # seconds the loopback server waits for the browser
PROMPT = "Ouvrez cette adresse dans un navigateur pour autoriser gt (Google) :\n{url}"
SUCCESS_PAGE = "gt : connexion réussie. Vous pouvez fermer cet onglet et revenir au terminal."
CLIENT_KEYS = ("client_id", "client_secret", "auth_uri", "token_uri")  # what the flow needs
SECRETS_HINT = (
    "demandez à l'administrateur le fichier client_secret….json (client OAuth « Application de "
    "bureau », voir le README) et donnez-le avec --client-secrets, ou dans gt.toml "
    "([google] client_secrets)"
)


@dataclass(frozen=True)
class Identity:
    """What `gt whoami` and `gt login` tell: never a token or a secret."""

    origin: str
    kind: str
    account: str
    scopes: tuple[str, ...]


def login(
    client_secrets: Path | None, *, open_browser: bool = True, port: int = 0
) -> tuple[Path, Identity]:
    """Google's installed-app flow (browser, loopback redirect), then the credentials
    stored for this user only. Prints the address to open (`run_local_server` does)."""
    if client_secrets is None:
        raise AuthError("aucun fichier de client OAuth pour « gt login »", SECRETS_HINT)
    info = read_json(client_secrets, "--client-secrets")
    if "installed" not in info:
        what = (
            "un client « Application Web »" if "web" in info else "pas un fichier de client OAuth"
        )
        raise AuthError(
            f"{client_secrets} : {what} ; gt a besoin d'un client « Application de bureau »",
            SECRETS_HINT,
        )
    from google_auth_oauthlib.flow import InstalledAppFlow
    from google_auth_oauthlib.flow import WSGITimeoutError as Timeout
    from oauthlib.oauth2.rfc6749.errors import OAuth2Error

    installed = info["installed"]
    missing = [k for k in CLIENT_KEYS if not isinstance(installed, dict) or not installed.get(k)]
    try:
        if missing:
            raise ValueError(missing)
        flow = InstalledAppFlow.from_client_config(info, scopes=list(SCOPES))
    except ValueError as err:  # « Client secrets is not in the correct format » (oauthlib)
        raise AuthError(
            f"{client_secrets} : fichier de client OAuth incomplet"
            + (f" (il y manque {', '.join(missing)})" if missing else "")
            + " : rien n'a été enregistré",
            "téléchargez-le à nouveau, tel quel, depuis Google Cloud console (API et services › "
            "Identifiants › votre client OAuth de type « Desktop app » / « Application de bureau » › "
            "Télécharger le JSON), sans le modifier, et donnez-le avec --client-secrets",
        ) from err
    try:
        credentials = flow.run_local_server(
            host="localhost",
            port=port,
            open_browser=open_browser,
            authorization_prompt_message=PROMPT,
            success_message=SUCCESS_PAGE,
            timeout_seconds=LOGIN_TIMEOUT,
        )
    except Timeout as err:
        raise AuthError(
            f"pas de réponse du navigateur en {LOGIN_TIMEOUT // 60} minutes : rien n'a été enregistré",
            "relancez « gt login » et autorisez l'accès dans la page qui s'ouvre",
        ) from err
    except Warning as err:  # oauthlib: the user unticked one of the accesses asked for
        raise AuthError(
            "l'accès n'a pas été accordé en entier (feuilles et brouillons Gmail) : rien n'a été enregistré",
            "relancez « gt login » et cochez les deux autorisations demandées",
        ) from err
    except OAuth2Error as err:
        raise AuthError(
            f"Google a refusé la connexion ({err.error}) : rien n'a été enregistré",
            "relancez « gt login » ; si cela se répète, " + SECRETS_HINT,
        ) from err
    except OSError as err:
        raise AuthError(
            f"connexion impossible ({err.strerror or err}) : rien n'a été enregistré",
            "vérifiez la connexion réseau, puis relancez « gt login »",
        ) from err
    account = profile_address(credentials)
    path = store_login(credentials, account=account)  # whoami then needs no request
    return path, Identity(f"connexion enregistrée ({path})", "authorized_user", account, SCOPES)


def profile_address(credentials: Credentials) -> str:
    """The account's Gmail address (`users.getProfile`, allowed by gmail.compose)."""
    from google.auth.transport.requests import AuthorizedSession

    try:
        response = AuthorizedSession(credentials).get(PROFILE_URL, timeout=(10, 30))
    except auth_errors.GoogleAuthError as err:
        raise refresh_failure(err, "connexion Google") from err
    except OSError:
        return ""
    if response.status_code != 200:
        return ""
    address = response.json().get("emailAddress", "")
    return address if isinstance(address, str) else ""


def logout(path: Path | None = None) -> tuple[Path, bool, bool]:
    """The stored login removed, and its refresh token revoked at Google: (path, was there,
    revoked). Removed even when Google cannot be reached."""
    target, info = forget_login(path)
    if info is None:
        return target, False, False
    token = info.get("refresh_token")
    revoked = False
    if isinstance(token, str) and token:
        import requests

        try:
            answer = requests.post(REVOKE_URL, data={"token": token}, timeout=(10, 30))
            revoked = answer.status_code == 200
        except requests.RequestException:
            revoked = False
    return target, True, revoked


def whoami(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Identity:
    """Which credentials are in force, their account and scopes (nothing secret)."""
    resolved = resolve(path, scopes=SCOPES, environ=environ)
    account = resolved.account
    if not account and resolved.kind == "authorized_user":
        account = profile_address(resolved.credentials)
    return Identity(resolved.origin, resolved.kind, account, resolved.scopes)
