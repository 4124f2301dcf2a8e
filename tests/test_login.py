"""`gt login`, `gt logout`, `gt whoami`, end to end: the test plays the browser, against the
fake authorisation server, and follows the redirect to the real loopback server of the flow."""

from __future__ import annotations

import io
import json
import re
import socket
import stat
import sys
import threading
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import Result
from fake_gmail import USER, FakeGmail
from gt_registry import auth

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """As the shared fixture, but the loopback address is allowed: the flow's redirect
    server listens there, and the test's "browser" connects to it."""

    original_connect = socket.socket.connect
    original_create = socket.create_connection

    def allowed(address: Any) -> bool:
        return isinstance(address, tuple) and str(address[0]) in LOOPBACK

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not allowed(address):
            raise OSError("accès réseau interdit pendant les tests")
        return original_connect(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
        if not allowed(address):
            raise OSError("accès réseau interdit pendant les tests")
        return original_create(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setenv("NO_GCE_CHECK", "true")


def play_browser(url: str, errors: list[BaseException]) -> threading.Thread:
    """Open the consent page (answered by the fake: a redirect), then follow the redirect
    to the flow's loopback server, as a browser would after "Allow"."""

    def browse() -> None:
        try:
            answer = requests.get(url, allow_redirects=False, timeout=5)
            assert answer.status_code == 302, answer.text
            location = answer.headers["Location"]
            assert location.startswith("http://localhost:")
            with urllib.request.urlopen(location, timeout=5) as page:  # the real loopback
                assert "connexion réussie" in page.read().decode("utf-8")
        except BaseException as err:
            errors.append(err)

    thread = threading.Thread(target=browse, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`webbrowser.get().open(url)` plays the browser; the URLs opened are recorded."""
    opened: list[str] = []
    errors: list[BaseException] = []

    class Browser:
        def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
            opened.append(url)
            play_browser(url, errors)
            return True

    monkeypatch.setattr("webbrowser.get", lambda using=None: Browser())
    yield opened
    assert not errors, errors


def test_login_stores_private_credentials_then_whoami_and_logout(
    run_gt: Callable[..., Result],
    fake_gmail: FakeGmail,
    client_secrets_file: Path,
    browser: list[str],
) -> None:
    result = run_gt("login", "--client-secrets", client_secrets_file)
    assert result.exit_code == 0, result.output
    assert f"Connecté : {USER}." in result.stderr
    (url,) = browser
    assert "redirect_uri=http%3A%2F%2Flocalhost%3A" in url and "code_challenge=" in url
    scopes = re.search(r"scope=([^&]+)", url)
    assert scopes is not None
    assert sorted(scopes.group(1).split("+")) == sorted(
        requests.utils.quote(s, safe="") for s in auth.SCOPES
    )
    stored = auth.login_path()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    data = json.loads(stored.read_text(encoding="utf-8"))
    assert data["account"] == USER and data["type"] == "authorized_user"
    assert set(data["scopes"]) == set(auth.SCOPES)

    who = run_gt("whoami")
    assert who.exit_code == 0, who.output
    assert f"Compte : {USER}" in who.stdout
    assert "Accès : gmail.compose, spreadsheets" in who.stdout or (
        "Accès : spreadsheets, gmail.compose" in who.stdout
    )
    for secret in (data["refresh_token"], data["client_secret"]):
        assert secret not in who.output

    out = run_gt("logout")
    assert out.exit_code == 0, out.output
    assert "Autorisation révoquée chez Google." in out.stderr
    assert not stored.exists() and fake_gmail.revoked == [data["refresh_token"]]
    assert "Aucune connexion enregistrée" in run_gt("logout").stderr


def test_login_without_browser_prints_the_address(
    fake_gmail: FakeGmail, client_secrets_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    errors: list[BaseException] = []
    monkeypatch.setattr("webbrowser.get", lambda using=None: pytest.fail("navigateur ouvert"))

    class Terminal(io.StringIO):
        """The user reads the address printed and opens it in a browser."""

        def write(self, text: str) -> int:
            found = re.search(r"https://accounts\.google\.com/\S+", text)
            if found:
                play_browser(found.group(0), errors)
            return super().write(text)

    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    path, identity = auth.login(client_secrets_file, open_browser=False)
    assert "Ouvrez cette adresse dans un navigateur" in terminal.getvalue()
    assert not errors and path.is_file() and identity.account == USER


def test_login_needs_a_desktop_client_file(run_gt: Callable[..., Result], tmp_path: Path) -> None:
    web = tmp_path / "web.json"
    web.write_text(json.dumps({"web": {"client_id": "x"}}), encoding="utf-8")
    result = run_gt("login", "--client-secrets", web, debug=False)
    assert result.exit_code == 3
    assert "un client « Application Web »" in result.stderr
    assert "Application de bureau" in result.stderr
    none = run_gt("login", debug=False)
    assert none.exit_code == 3 and "aucun fichier de client OAuth" in none.stderr


def test_whoami_with_a_service_account_key(
    run_gt: Callable[..., Result], service_account_file: Path
) -> None:
    result = run_gt("--credentials", service_account_file, "whoami")
    assert result.exit_code == 0, result.output
    assert "Compte : gt-registre@gt-tests.iam.gserviceaccount.com" in result.stdout
    assert "Type : service_account" in result.stdout
    assert "PRIVATE" not in result.output


def test_logout_without_network_still_removes_the_login(
    run_gt: Callable[..., Result],
    authorized_user_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolved = auth.resolve(authorized_user_file)
    stored = auth.store_login(resolved.credentials, account=USER)

    def unreachable(*_args: Any, **_kwargs: Any) -> Any:
        raise requests.exceptions.ConnectionError("réseau coupé")

    monkeypatch.setattr(requests, "post", unreachable)
    result = run_gt("logout")
    assert result.exit_code == 0, result.output
    assert not stored.exists()
    assert "myaccount.google.com/permissions" in result.stderr


def test_whoami_with_a_revoked_login_says_so(
    run_gt: Callable[..., Result], fake_gmail: FakeGmail, authorized_user_file: Path
) -> None:
    auth.store_login(auth.resolve(authorized_user_file).credentials)  # no account kept
    for grant in fake_gmail.grants.values():
        grant.revoked = True
    result = run_gt("whoami", debug=False)
    assert result.exit_code == 3
    assert "autorisation révoquée ou expirée" in result.stderr and "gt login" in result.stderr
