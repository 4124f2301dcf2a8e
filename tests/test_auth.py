"""Credential resolution and its errors (auth.py), against the fake token endpoint."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from fake_gmail import FakeGmail, authorized_user_info
from google.auth import exceptions as auth_errors
from google.auth.transport.requests import AuthorizedSession
from gt_registry import auth


def test_the_stored_login_lives_in_the_user_config_folder(tmp_path: Path) -> None:
    assert auth.login_path() == tmp_path / "config" / "gt-registry" / "login.json"


def test_precedence_option_then_environment_then_login_then_adc(
    tmp_path: Path, service_account_file: Path, authorized_user_file: Path
) -> None:
    stored = auth.store_login(_user_credentials(authorized_user_file))
    env = {"GOOGLE_APPLICATION_CREDENTIALS": str(service_account_file)}
    assert auth.resolve(authorized_user_file, environ=env).origin.startswith("--credentials")
    assert auth.resolve(None, environ=env).kind == "service_account"
    found = auth.resolve(None, environ={})
    assert (found.kind, found.path) == ("authorized_user", stored)
    stored.unlink()
    with pytest.raises(auth.AuthError, match="aucun identifiant Google utilisable"):
        auth.resolve(None, environ={})


def test_the_stored_login_is_private_and_holds_no_access_token(authorized_user_file: Path) -> None:
    path = auth.store_login(_user_credentials(authorized_user_file))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["type"] == "authorized_user"
    assert "token" not in data and data["refresh_token"].startswith("1//")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "fichier d'identifiants introuvable"),
        ("{ pas du json", "JSON illisible (ligne 1, colonne 3)"),
        ("[1, 2]", "le fichier JSON doit contenir un objet"),
        ('{"type": "external_account"}', "type d'identifiants inconnu"),
        ('{"installed": {"client_id": "x"}}', "c'est le fichier du client OAuth"),
        (
            '{"type": "service_account", "client_email": "x@y"}',
            "clé de compte de service incomplète",
        ),
        ('{"type": "authorized_user"}', "identifiants utilisateur incomplets"),
    ],
    ids=[
        "missing",
        "bad-json",
        "not-object",
        "unknown-type",
        "client-secrets",
        "bad-key",
        "bad-user",
    ],
)
def test_bad_files_are_named_with_the_fix(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "cle.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(auth.AuthError) as caught:
        auth.resolve(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)
    assert "PRIVATE KEY" not in str(caught.value)


def test_a_service_account_needs_gmail_user_for_drafts(service_account_file: Path) -> None:
    with pytest.raises(auth.AuthError, match="--gmail-user ADRESSE"):
        auth.gmail_credentials(service_account_file)
    delegated = auth.gmail_credentials(service_account_file, "camille@convergences.example.org")
    assert delegated.credentials._subject == "camille@convergences.example.org"  # type: ignore[attr-defined]
    assert delegated.credentials.scopes == [auth.GMAIL_SCOPE]  # type: ignore[attr-defined]


def test_a_login_without_the_gmail_scope_is_refused_for_drafts(
    tmp_path: Path, fake_gmail: FakeGmail
) -> None:
    path = tmp_path / "sheets-only.json"
    token = fake_gmail.grant(scopes={auth.SHEETS_SCOPE})
    path.write_text(json.dumps(authorized_user_info(token, {auth.SHEETS_SCOPE})), encoding="utf-8")
    with pytest.raises(auth.AuthError, match="relancez « gt login »"):
        auth.gmail_credentials(path)


def _refresh_error(path: Path) -> Exception:
    creds = auth.resolve(path).credentials
    with pytest.raises(auth_errors.RefreshError) as caught:
        AuthorizedSession(creds).get("https://gmail.googleapis.com/gmail/v1/users/me/profile")
    return caught.value


def test_a_revoked_refresh_token_says_revoked(
    authorized_user_file: Path, fake_gmail: FakeGmail
) -> None:
    for grant in fake_gmail.grants.values():
        grant.revoked = True
    err = auth.refresh_failure(_refresh_error(authorized_user_file), "connexion enregistrée")
    assert "autorisation révoquée ou expirée" in str(err)
    assert "gt login" in err.hint


@pytest.mark.usefixtures("no_token_backoff")
def test_a_token_endpoint_500_is_not_called_revoked(
    authorized_user_file: Path, fake_gmail: FakeGmail
) -> None:
    fake_gmail.fail_next("token", 500, times=5)
    err = auth.refresh_failure(_refresh_error(authorized_user_file), "connexion enregistrée")
    assert "ne répond pas (erreur serveur)" in str(err)
    assert "révoqu" not in str(err)
    assert "réessayez" in err.hint


def test_a_dropped_token_request_is_a_network_problem() -> None:
    err = auth.refresh_failure(auth_errors.TransportError("reset"), "--credentials x.json")
    assert "impossible de joindre" in str(err)


def test_forget_login_removes_the_file(authorized_user_file: Path) -> None:
    path = auth.store_login(_user_credentials(authorized_user_file))
    removed, info = auth.forget_login()
    assert removed == path and not path.exists()
    assert info is not None and info["type"] == "authorized_user"
    assert auth.forget_login()[1] is None


def _user_credentials(path: Path):  # type: ignore[no-untyped-def]
    return auth.resolve(path).credentials


def test_no_file_is_written_in_the_project(authorized_user_file: Path) -> None:
    before = set(os.listdir(Path(__file__).resolve().parent.parent))
    auth.store_login(_user_credentials(authorized_user_file))
    assert set(os.listdir(Path(__file__).resolve().parent.parent)) == before
