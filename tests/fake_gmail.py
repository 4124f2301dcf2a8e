"""An HTTP-level fake of the Gmail API v1 (drafts and profile), with Google's OAuth endpoints.

Mounted as a `requests` transport adapter like the Sheets fake (`fake_sheets.py`), so real
google-auth (`AuthorizedSession`) and real google-auth-oauthlib run unmodified above it.
Shapes follow Google's discovery document for gmail v1 (a subset of it is kept in
`tests/data/gmail.v1.subset.json`, checked by `test_fake_gmail.py`).

Served:
- `users.drafts.create` / `update`: JSON `{"message": {"raw": …}}`, and the `/upload/` forms
  (`uploadType=media`, a `message/rfc822` body; `uploadType=multipart`, `multipart/related`
  with the JSON metadata then the message);
- `users.drafts.get` (`format=minimal|metadata|full|raw`), `list` (paged), `delete`;
  `users.getProfile`;
- the token endpoint: refresh-token, authorisation-code (PKCE checked) and JWT-bearer
  (service accounts, `sub` for domain-wide delegation) grants; the revoke endpoint;
- the authorisation page (`accounts.google.com/o/oauth2/auth`): answers with the redirect
  to the loopback address, as after the user clicked "Allow";
- the per-user quota (units per second: create 10, update 15, get/list 5, profile 1,
  delete 10), a 429 `rateLimitExceeded` beyond it, when `quota_per_second` is set;
- faults: `fail_next(kind, status)`, `drop_next(kind, applied=…)` (a dropped connection
  before or after the request is applied), staff sending (`staff_send`) or editing
  (`staff_edit`) a draft, staff's own drafts (`staff_draft`).

When a draft's `From` is not one of the account's addresses (`send_as`), Gmail writes the
account's own address instead, as the real one does.

Known simplifications: no threads other than one per draft, no labels besides DRAFT/SENT,
no resumable uploads, `q` not supported on list.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import getaddresses
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

__all__ = [
    "GMAIL_SCOPE",
    "FakeGmail",
    "authorized_user_file",
    "client_secrets_file",
    "fake_gmail",
]

GMAIL_HOST = "https://gmail.googleapis.com/"
TOKEN_URL = "https://oauth2.googleapis.com/token"
REVOKE_URL = "https://oauth2.googleapis.com/revoke"
AUTH_URL = "https://accounts.google.com/o/oauth2/auth"
GMAIL_SCOPE = "https://www.googleapis.com/auth/gmail.compose"
SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
GMAIL_SCOPES = {
    GMAIL_SCOPE,
    "https://mail.google.com/",
    "https://www.googleapis.com/auth/gmail.modify",
}
CLIENT_ID = "123456789012-gtregistry.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-fake-client-secret"
USER = "camille@convergences.example.org"
COSTS = {
    "drafts.create": 10,
    "drafts.update": 15,
    "drafts.get": 5,
    "drafts.list": 5,
    "drafts.delete": 10,
    "profile": 1,
}

Json = dict[str, Any]


class ApiError(Exception):
    def __init__(self, status: int, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason

    def body(self) -> Json:
        status = {
            400: "INVALID_ARGUMENT",
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            429: "RESOURCE_EXHAUSTED",
            500: "INTERNAL",
            503: "UNAVAILABLE",
        }.get(self.status, "UNKNOWN")
        error: Json = {"code": self.status, "message": self.message, "status": status}
        if self.reason:
            error["errors"] = [{"message": self.message, "domain": "global", "reason": self.reason}]
        return {"error": error}


@dataclass
class StoredDraft:
    id: str
    message_id: str
    thread_id: str
    raw: bytes  # as Gmail keeps it (its From, when the sender's was not one of the account's)
    by_tool: bool = True
    uploaded: bytes = b""  # the bytes as the client sent them


@dataclass
class Mailbox:
    address: str
    send_as: set[str] = field(default_factory=set)
    drafts: dict[str, StoredDraft] = field(default_factory=dict)  # in creation order
    sent: list[StoredDraft] = field(default_factory=list)


@dataclass
class FakeRequest:
    kind: str
    method: str
    url: str
    user: str
    status: int | None = None  # None: connection dropped


@dataclass
class _Failure:
    kind: str
    status: int | None  # None: dropped connection
    applied: bool  # for a drop: was the request applied before the connection was lost
    remaining: int


@dataclass
class _Grant:
    email: str
    scopes: set[str]
    client_id: str
    revoked: bool = False


class FakeGmail:
    """Mailboxes in memory, served over fake HTTP; see the module docstring."""

    def __init__(
        self,
        *,
        sheets: Any = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        latency: float = 0.0,
        quota_per_second: int | None = None,
    ) -> None:
        self.sheets = sheets  # a FakeSheets: tokens issued here are valid there too
        self.clock = clock
        self.sleep = sleep
        self.latency = latency
        self.quota_per_second = quota_per_second
        self.mailboxes: dict[str, Mailbox] = {}
        self.requests: list[FakeRequest] = []
        self.tokens: dict[str, Json] = {}  # access token → {"email", "scope"}
        self.grants: dict[str, _Grant] = {}  # refresh token → grant
        self.codes: dict[str, Json] = {}  # authorisation code → what was asked
        self.clients = {CLIENT_ID: CLIENT_SECRET}
        self.consenting = USER  # who "clicks Allow" on the authorisation page
        self.revoked: list[str] = []
        self._failures: list[_Failure] = []
        self._hooks: list[list[Any]] = []  # [kind, callback, requests of kind still to wait]
        self._spent: list[tuple[float, str, int]] = []  # (time, user, units)
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self.add_mailbox(USER)

    # -- setting up ------------------------------------------------------------------------

    def add_mailbox(self, address: str, send_as: set[str] | None = None) -> Mailbox:
        box = Mailbox(address, {address.lower(), *(a.lower() for a in send_as or ())})
        self.mailboxes[address.lower()] = box
        return box

    def grant(self, email_: str = USER, scopes: set[str] | None = None) -> str:
        """A refresh token for `email_` (as `gt login` would have stored), returned."""
        token = f"1//fake-refresh-{secrets.token_hex(8)}"
        self.grants[token] = _Grant(email_, scopes or {GMAIL_SCOPE, SHEETS_SCOPE}, CLIENT_ID)
        return token

    def fail_next(self, kind: str, status: int = 429, times: int = 1) -> None:
        """The next `times` requests of `kind` ("drafts.create", "token", …) get `status`."""
        self._failures.append(_Failure(kind, status, False, times))

    def garble_next(self, kind: str, times: int = 1) -> None:
        """The next `times` requests of `kind` are applied, then answered 200 with an HTML
        page instead of JSON (a proxy or captive portal in the way)."""
        self._failures.append(_Failure(kind, 200, True, times))

    def on_request(self, kind: str, callback: Callable[[FakeGmail], None], after: int = 1) -> None:
        """Call `callback(fake)` once, right after the `after`-th request of `kind` has been
        applied, before its answer goes back (what it raises, the client gets: a Ctrl-C
        while the answer was on its way)."""
        self._hooks.append([kind, callback, after])

    def drop_next(self, kind: str, *, applied: bool, times: int = 1) -> None:
        """The next `times` requests of `kind` lose their connection, after being applied
        (`applied=True`: the draft exists, the answer is lost) or before."""
        self._failures.append(_Failure(kind, None, applied, times))

    def staff_draft(self, user: str = USER, subject: str = "Note perso") -> StoredDraft:
        raw = (
            f"From: {user}\r\nTo: ami@example.org\r\nSubject: {subject}\r\n\r\nBonjour\r\n"
        ).encode()
        with self._lock:
            draft = self._new_draft(self._box(user), raw)
            draft.by_tool = False
            return draft

    def staff_send(self, draft_id: str, user: str = USER) -> None:
        """Staff sent the draft from Gmail: gone from Drafts, a message in Sent."""
        with self._lock:
            box = self._box(user)
            box.sent.append(box.drafts.pop(draft_id))

    def staff_edit(self, draft_id: str, user: str = USER, extra: str = "Édité à la main.") -> None:
        """Staff edited the draft in Gmail: same draft ID, a new message ID."""
        with self._lock:
            draft = self._box(user).drafts[draft_id]
            draft.raw = draft.raw.rstrip(b"\r\n") + f"\r\n{extra}\r\n".encode()
            draft.message_id = self._message_id()

    # -- inspecting -------------------------------------------------------------------------

    def drafts(self, user: str = USER) -> list[StoredDraft]:
        return list(self._box(user).drafts.values())

    def messages(self, user: str = USER) -> list[email.message.EmailMessage]:
        return [_parse(d.raw) for d in self.drafts(user)]

    def count(self, kind: str | None = None) -> int:
        """Requests of `kind` received (failed and dropped ones included); None: every API
        request but token ones."""
        return sum(
            1
            for r in self.requests
            if (r.kind == kind if kind else r.kind not in {"token", "revoke", "auth"})
        )

    def statuses(self, status: int) -> int:
        return sum(1 for r in self.requests if r.status == status)

    # -- serving ---------------------------------------------------------------------------

    def handle(
        self, method: str, url: str, headers: Mapping[str, Any], body: Any
    ) -> tuple[int, bytes, dict[str, str]]:
        if self.latency:
            self.sleep(self.latency / 2)
        try:
            with self._lock:
                answer = self._handle(method, url, CaseInsensitiveDict(headers), body)
                hooks = self._due_hooks(self.requests[-1].kind)
            for hook in hooks:
                hook(self)
            return answer
        finally:
            if self.latency:
                self.sleep(self.latency / 2)

    def _due_hooks(self, kind: str) -> list[Callable[[FakeGmail], None]]:
        due = []
        for hook in self._hooks:
            if hook[0] == kind and hook[2] > 0:
                hook[2] -= 1
                if hook[2] == 0:
                    due.append(hook[1])
        return due

    def _handle(
        self, method: str, url: str, headers: CaseInsensitiveDict[Any], body: Any
    ) -> tuple[int, bytes, dict[str, str]]:
        parts = urlsplit(url)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        data = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        kind, route = self._route(method, url, parts.path)
        record = FakeRequest(kind, method, url, route.get("user", ""))
        self.requests.append(record)
        failure = self._take_failure(kind)
        try:
            if failure is not None and failure.status is not None and failure.status >= 300:
                raise self._injected(failure.status)
            if failure is not None and not failure.applied:
                raise requests.exceptions.ConnectionError("Connection aborted: reset by peer")
            status, payload, content_type = self._serve(kind, route, params, headers, data)
        except ApiError as err:
            record.status = err.status
            return self._error(kind, err)
        if failure is not None and failure.status is not None:  # applied, answered by a proxy
            record.status = failure.status
            page = b"<html><body>Proxy: please sign in to continue</body></html>"
            return failure.status, page, {"Content-Type": "text/html; charset=UTF-8"}
        if failure is not None:  # applied, then the answer was lost
            raise requests.exceptions.ConnectionError(
                "('Connection aborted.', RemoteDisconnected('Remote end closed connection "
                "without response'))"
            )
        record.status = status
        return status, payload, {"Content-Type": content_type, **route.get("headers", {})}

    def _route(self, method: str, url: str, path: str) -> tuple[str, dict[str, Any]]:
        if url.startswith(TOKEN_URL):
            return "token", {}
        if url.startswith(REVOKE_URL):
            return "revoke", {}
        if url.startswith(AUTH_URL):
            return "auth", {}
        upload = path.startswith("/upload/")
        path = path.removeprefix("/upload")
        segments = path.strip("/").split("/")
        if segments[:3] != ["gmail", "v1", "users"] or len(segments) < 5:
            return "unknown", {}
        user, rest = segments[3], segments[4:]
        routes = {
            ("GET", ("profile",)): "profile",
            ("GET", ("drafts",)): "drafts.list",
            ("POST", ("drafts",)): "drafts.create",
        }
        kind = routes.get((method, tuple(rest)), "unknown")
        draft_id = ""
        if len(rest) == 2 and rest[0] == "drafts":
            draft_id = rest[1]
            kind = {"GET": "drafts.get", "PUT": "drafts.update", "DELETE": "drafts.delete"}.get(
                method, "unknown"
            )
        if upload and kind not in {"drafts.create", "drafts.update"}:
            kind = "unknown"
        return kind, {"user": user, "id": draft_id, "upload": upload}

    def _take_failure(self, kind: str) -> _Failure | None:
        for failure in self._failures:
            if failure.kind == kind and failure.remaining > 0:
                failure.remaining -= 1
                return failure
        return None

    def _injected(self, status: int) -> ApiError:
        if status == 429:
            return ApiError(429, "User-rate limit exceeded.", "rateLimitExceeded")
        return ApiError(status, HTTPStatus(status).phrase, "backendError")

    def _error(self, kind: str, err: ApiError) -> tuple[int, bytes, dict[str, str]]:
        if kind == "token":
            code = "internal_failure" if err.status >= 500 else (err.reason or "invalid_grant")
            body: Json = {"error": code, "error_description": err.message}
        else:
            body = err.body()
        return (
            err.status,
            json.dumps(body).encode("utf-8"),
            {"Content-Type": "application/json; charset=UTF-8"},
        )

    def _serve(
        self,
        kind: str,
        route: dict[str, Any],
        params: dict[str, str],
        headers: CaseInsensitiveDict[Any],
        data: bytes,
    ) -> tuple[int, bytes, str]:
        if kind == "token":
            return _json(self._token(parse_qs(data.decode("utf-8"))))
        if kind == "revoke":
            form = parse_qs(data.decode("utf-8"))
            token = (form.get("token") or [params.get("token", "")])[0]
            grant = self.grants.get(token)
            if grant is None and token not in self.tokens:
                raise ApiError(400, "Token expired or revoked", "invalid_token")
            if grant is not None:
                grant.revoked = True
            self.revoked.append(token)
            return 200, b"{}", "application/json; charset=UTF-8"
        if kind == "auth":
            return self._authorisation(params)
        if kind == "unknown":
            raise ApiError(404, "Not Found", "notFound")
        who = self._authorise(headers)
        user = route["user"]
        box = self.mailboxes.get(who.lower())
        if box is None or (user != "me" and user.lower() != who.lower()):
            raise ApiError(403, "Delegation denied for " + who, "forbidden")
        self._spend(who, COSTS[kind])
        if kind == "profile":
            return _json(
                {
                    "emailAddress": box.address,
                    "messagesTotal": len(box.sent),
                    "threadsTotal": len(box.sent),
                    "historyId": str(1000 + len(self.requests)),
                }
            )
        if kind == "drafts.list":
            return _json(self._list(box, params))
        draft_id = route["id"]
        if kind == "drafts.create":
            raw = self._upload(route, params, headers, data)
            return _json(self._draft_json(self._new_draft(box, raw), "minimal"))
        if draft_id not in box.drafts:
            raise ApiError(404, "Requested entity was not found.", "notFound")
        draft = box.drafts[draft_id]
        if kind == "drafts.get":
            fmt = params.get("format", "full")
            if fmt not in {"minimal", "metadata", "full", "raw"}:
                raise ApiError(400, f"Invalid value at 'format' ({fmt})", "invalidArgument")
            return _json(self._draft_json(draft, fmt))
        if kind == "drafts.update":
            raw = self._upload(route, params, headers, data)
            draft.raw, draft.uploaded = self._as_sent_by(box, raw), raw
            draft.message_id = self._message_id()
            return _json(self._draft_json(draft, "minimal"))
        del box.drafts[draft_id]  # drafts.delete
        return 204, b"", "application/json; charset=UTF-8"

    # -- OAuth -------------------------------------------------------------------------------

    def _token(self, form: dict[str, list[str]]) -> Json:
        grant_type = form.get("grant_type", [""])[0]
        if grant_type == "refresh_token":
            grant = self.grants.get(form.get("refresh_token", [""])[0])
            if grant is None or grant.revoked:
                raise ApiError(400, "Token has been expired or revoked.", "invalid_grant")
            if (
                self.clients.get(form.get("client_id", [""])[0])
                != form.get("client_secret", [""])[0]
            ):
                raise ApiError(401, "Unauthorized", "invalid_client")
            asked = set(" ".join(form.get("scope", [])).split()) or grant.scopes
            if not asked <= grant.scopes:
                raise ApiError(400, "Bad Request", "invalid_scope")
            return self._issue(grant.email, asked)
        if grant_type == "authorization_code":
            asked_code = self.codes.pop(form.get("code", [""])[0], None)
            if asked_code is None:
                raise ApiError(400, "Malformed auth code.", "invalid_grant")
            if form.get("redirect_uri", [""])[0] != asked_code["redirect_uri"]:
                raise ApiError(400, "redirect_uri_mismatch", "redirect_uri_mismatch")
            verifier = form.get("code_verifier", [""])[0]
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            if (
                asked_code.get("code_challenge")
                and challenge.rstrip(b"=").decode() != asked_code["code_challenge"]
            ):
                raise ApiError(400, "Invalid code verifier.", "invalid_grant")
            refresh = self.grant(asked_code["email"], set(asked_code["scope"].split()))
            answer = self._issue(asked_code["email"], set(asked_code["scope"].split()))
            return answer | {"refresh_token": refresh, "scope": asked_code["scope"]}
        if grant_type == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            assertion = form.get("assertion", [""])[0]
            payload = assertion.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            who = claims.get("sub") or claims["iss"]
            return self._issue(who, set(str(claims.get("scope", "")).split()))
        raise ApiError(400, "Invalid grant_type", "unsupported_grant_type")

    def _issue(self, who: str, scopes: set[str]) -> Json:
        token = f"ya29.fake-gmail-{next(self._ids)}"
        claims = {"email": who, "scope": " ".join(sorted(scopes))}
        self.tokens[token] = claims
        if self.sheets is not None:
            self.sheets.tokens[token] = claims
        return {
            "access_token": token,
            "expires_in": 3599,
            "token_type": "Bearer",
            "scope": claims["scope"],
        }

    def _authorisation(self, params: dict[str, str]) -> tuple[int, bytes, str]:
        """The consent page after "Allow": a redirect to the loopback address with a code."""
        if self.clients.get(params.get("client_id", "")) is None:
            raise ApiError(401, "invalid_client", "invalid_client")
        redirect = params.get("redirect_uri", "")
        if not redirect.startswith(("http://localhost:", "http://127.0.0.1:")):
            raise ApiError(400, "redirect_uri_mismatch", "redirect_uri_mismatch")
        code = f"4/fake-code-{secrets.token_hex(6)}"
        self.codes[code] = {
            "email": self.consenting,
            "scope": params.get("scope", ""),
            "redirect_uri": redirect,
            "code_challenge": params.get("code_challenge", ""),
        }
        location = (
            redirect
            + "?"
            + urlencode(
                {"state": params.get("state", ""), "code": code, "scope": params.get("scope", "")}
            )
        )
        self._location = location
        return 302, b"", "text/html; charset=UTF-8"

    def _authorise(self, headers: CaseInsensitiveDict[Any]) -> str:
        claims = self.tokens.get(str(headers.get("authorization", "")).removeprefix("Bearer "))
        if claims is None:
            raise ApiError(401, "Request had invalid authentication credentials.", "authError")
        if not set(claims["scope"].split()) & GMAIL_SCOPES:
            raise ApiError(
                403, "Request had insufficient authentication scopes.", "insufficientPermissions"
            )
        return str(claims["email"])

    def _spend(self, user: str, units: int) -> None:
        if self.quota_per_second is None:
            return
        now = self.clock()
        if len(self._spent) > 4096:  # forget what no window can reach again
            self._spent = [s for s in self._spent if s[0] > now - 60.0]
        used = sum(u for t, who, u in self._spent if who == user and now - 1.0 < t <= now)
        if used + units > self.quota_per_second:
            raise ApiError(429, "User-rate limit exceeded.", "rateLimitExceeded")
        self._spent.append((now, user, units))

    # -- drafts --------------------------------------------------------------------------------

    def _box(self, user: str) -> Mailbox:
        return self.mailboxes[user.lower()]

    def _message_id(self) -> str:
        return f"18c{next(self._ids):013x}"

    def _new_draft(self, box: Mailbox, raw: bytes) -> StoredDraft:
        number = next(self._ids)
        draft = StoredDraft(
            f"r{5_000_000_000_000_000_000 + number * 7919}",
            self._message_id(),
            f"18d{number:013x}",
            self._as_sent_by(box, raw),
            uploaded=raw,
        )
        box.drafts[draft.id] = draft
        return draft

    def _as_sent_by(self, box: Mailbox, raw: bytes) -> bytes:
        """Gmail keeps `From` only when it is one of the account's addresses."""
        message = _parse(raw)
        if not message.get("To"):
            raise ApiError(400, "Invalid To header", "invalidArgument")
        senders = [a for _n, a in getaddresses([str(message.get("From", ""))])]
        if senders and senders[0].lower() in box.send_as:
            return raw
        head, sep, rest = raw.partition(b"\r\n\r\n")
        lines, own = [], f"From: {box.address}".encode()
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"from:"):
                lines.append(own)  # in place of the sender's line
            elif not (line[:1] in (b" ", b"\t") and lines and lines[-1] is own):
                lines.append(line)  # (a folded From's continuation lines dropped)
        return b"\r\n".join(lines if own in lines else [own, *lines]) + sep + rest

    def _upload(
        self,
        route: dict[str, Any],
        params: dict[str, str],
        headers: CaseInsensitiveDict[Any],
        data: bytes,
    ) -> bytes:
        if not route["upload"]:
            body = json.loads(data or b"{}")
            raw = (body.get("message") or {}).get("raw")
            if not isinstance(raw, str):
                raise ApiError(400, "Missing draft message", "invalidArgument")
            if "+" in raw or "/" in raw:
                raise ApiError(400, "Invalid value for ByteString: raw", "invalidArgument")
            return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        upload_type = params.get("uploadType", "")
        content_type = str(headers.get("content-type", ""))
        if upload_type == "media":
            if not content_type.startswith("message/rfc822"):
                raise ApiError(400, "Media type not supported: " + content_type, "badContent")
            return data
        if upload_type == "multipart":
            if not content_type.startswith("multipart/related"):
                raise ApiError(400, "Bad multipart content type", "badContent")
            parts = _multipart_parts(content_type, data)
            if len(parts) != 2 or not parts[0][0].startswith("application/json"):
                raise ApiError(400, "Multipart upload needs metadata and media", "badContent")
            json.loads(parts[0][1] or b"{}")  # the metadata must be JSON
            if not parts[1][0].startswith("message/rfc822"):
                raise ApiError(400, "Media type not supported: " + parts[1][0], "badContent")
            return parts[1][1]
        raise ApiError(400, f"Invalid uploadType {upload_type!r}", "invalidArgument")

    def _list(self, box: Mailbox, params: dict[str, str]) -> Json:
        size = int(params.get("maxResults", "100"))
        if not 1 <= size <= 500:
            raise ApiError(400, "Invalid maxResults", "invalidArgument")
        drafts = list(reversed(box.drafts.values()))  # newest first, like Gmail
        start = int(params.get("pageToken") or 0)
        page = drafts[start : start + size]
        answer: Json = {"resultSizeEstimate": len(drafts)}
        if page:
            answer["drafts"] = [
                {"id": d.id, "message": {"id": d.message_id, "threadId": d.thread_id}} for d in page
            ]
        if start + size < len(drafts):
            answer["nextPageToken"] = str(start + size)
        return answer

    def _draft_json(self, draft: StoredDraft, fmt: str) -> Json:
        message: Json = {"id": draft.message_id, "threadId": draft.thread_id, "labelIds": ["DRAFT"]}
        if fmt == "raw":
            message["raw"] = base64.urlsafe_b64encode(draft.raw).decode("ascii")
        elif fmt in {"metadata", "full"}:
            parsed = _parse(draft.raw)
            message["payload"] = {
                "mimeType": parsed.get_content_type(),
                "headers": [{"name": k, "value": str(v)} for k, v in parsed.items()],
            }
            message["sizeEstimate"] = len(draft.raw)
            message["snippet"] = "" if fmt == "metadata" else "…"
        return {"id": draft.id, "message": message}


def _multipart_parts(content_type: str, data: bytes) -> list[tuple[str, bytes]]:
    """(content type, body) of each part of a multipart/related upload, bytes untouched."""
    found = re.search(r'boundary="?([^";]+)"?', content_type)
    if found is None:
        raise ApiError(400, "Missing multipart boundary", "badContent")
    delimiter = b"--" + found.group(1).encode("ascii")
    chunks = data.split(delimiter)[1:]
    parts = []
    for chunk in chunks:
        if chunk.startswith(b"--"):
            break
        head, _sep, body = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        kind = ""
        for line in head.split(b"\r\n"):
            name, _colon, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-type":
                kind = value.strip().lower()
        parts.append((kind, body.removesuffix(b"\r\n")))
    return parts


def _parse(raw: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def _json(answer: Json) -> tuple[int, bytes, str]:
    return 200, json.dumps(answer).encode("utf-8"), "application/json; charset=UTF-8"


# -- transport -------------------------------------------------------------------------------


class FakeGmailAdapter(BaseAdapter):
    def __init__(self, fake: FakeGmail) -> None:
        super().__init__()
        self.fake = fake

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        status, body, headers = self.fake.handle(
            request.method or "GET", request.url or "", request.headers, request.body
        )
        response = requests.Response()
        response.status_code = status
        response.reason = HTTPStatus(status).phrase
        response.headers = CaseInsensitiveDict(headers)
        if status == 302:
            response.headers["Location"] = self.fake._location
        response._content = body
        response.encoding = "utf-8"
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


def install(monkeypatch: pytest.MonkeyPatch, fake: FakeGmail) -> None:
    """Route Gmail, the token, revoke and authorisation URLs, from every requests Session,
    to `fake` (installed after the Sheets fake, it answers the token requests of both)."""
    adapter = FakeGmailAdapter(fake)
    original = requests.Session.get_adapter

    def get_adapter(self: requests.Session, url: str) -> BaseAdapter:
        if url.startswith((GMAIL_HOST, TOKEN_URL, REVOKE_URL, AUTH_URL)):
            return adapter
        return original(self, url)

    monkeypatch.setattr(requests.Session, "get_adapter", get_adapter)


def authorized_user_info(refresh_token: str, scopes: set[str] | None = None) -> Json:
    return {
        "type": "authorized_user",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": refresh_token,
        "token_uri": TOKEN_URL,
        "scopes": sorted(scopes or {GMAIL_SCOPE, SHEETS_SCOPE}),
    }


def client_secrets_info() -> Json:
    return {
        "installed": {
            "client_id": CLIENT_ID,
            "project_id": "gt-tests",
            "auth_uri": AUTH_URL,
            "token_uri": TOKEN_URL,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_secret": CLIENT_SECRET,
            "redirect_uris": ["http://localhost"],
        }
    }


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def fake_gmail(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[FakeGmail]:
    """A fresh FakeGmail (with Camille's mailbox), answering Gmail and OAuth requests; when
    the test also uses `fake_sheets`, the tokens issued here are accepted there."""
    sheets = (
        request.getfixturevalue("fake_sheets") if "fake_sheets" in request.fixturenames else None
    )
    fake = FakeGmail(sheets=sheets, sleep=lambda _s: None)
    install(monkeypatch, fake)
    yield fake


@pytest.fixture
def authorized_user_file(tmp_path: Path, fake_gmail: FakeGmail) -> Path:
    """An `authorized_user` JSON for Camille, both scopes granted."""
    path = tmp_path / "camille.json"
    path.write_text(json.dumps(authorized_user_info(fake_gmail.grant())), encoding="utf-8")
    return path


@pytest.fixture
def client_secrets_file(tmp_path: Path) -> Path:
    path = tmp_path / "client_secret.json"
    path.write_text(json.dumps(client_secrets_info()), encoding="utf-8")
    return path
