"""A small Gmail API v1 client: drafts and the profile, nothing else (scope `gmail.compose`).

HTTP goes through google-auth's `AuthorizedSession` (requests), the stack gspread uses. Drafts
are sent as raw RFC 822 (the `.eml` bytes), base64url, in `users.drafts.create` / `update`.

Polite by construction:
- every request first takes its cost in quota units from a shared `Pacer` (create 10,
  update 15, get/list 5; Gmail allows 250 units per user per second), so a pool of threads
  runs close to the quota without crossing it;
- 429 and 5xx answers and dropped connections are retried with capped exponential back-off
  and jitter (`retry.backoff`), `MAX_ATTEMPTS` attempts and `MAX_WAIT` seconds at most;
- a create whose answer was lost (dropped connection, 5xx) is never retried blindly: it
  raises `Uncertain`, and the caller checks what exists before creating again.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from google.auth import exceptions as auth_errors
from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession

from . import auth
from .errors import SourceError
from .retry import DROPPED, backoff

API = "https://gmail.googleapis.com/gmail/v1/users/{user}"
COSTS = {"create": 10, "update": 15, "get": 5, "list": 5, "profile": 1}
QUOTA_PER_SECOND = 250  # Gmail's per-user limit (and 15,000 per minute: the same pace)
PACE = 235.0  # units per second asked of the pacer: a margin under the quota
BURST = 10.0  # units that may go at once (one create): PACE + BURST stays under the quota
WORKERS = 8  # concurrent requests: enough to fill the quota at 0.1 s of latency
PAGE = 500  # drafts per list page (Gmail's maximum)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_ATTEMPTS = 6
FIRST_DELAY = 1.0  # Gmail's quota is per second: 1, 2, 4, 8, 16 s
MAX_DELAY = 16.0
MAX_WAIT = 60.0  # seconds of back-off per request, all attempts together
TIMEOUT = (10.0, 60.0)
SLEEP: Callable[[float], None] = time.sleep  # patched by tests
MARK = "X-GT-Draft"  # the header by which the tool knows its own drafts

T = TypeVar("T")
R = TypeVar("R")


class GmailError(SourceError):
    """Gmail refused a request, or did not answer after every retry."""

    def __init__(self, message: str, hint: str = "", status: int | None = None) -> None:
        super().__init__(message, hint)
        self.status = status


class Uncertain(Exception):
    """A create whose answer was lost: the draft may or may not exist."""


@dataclass(frozen=True)
class DraftRef:
    """A draft as `drafts.list` shows it: its ID, and the ID of its current message (a new
    one each time the draft is saved, by the tool or by hand)."""

    id: str
    message_id: str


class Pacer:
    """Quota units per second shared by threads (a GCRA token bucket): `take(units)` waits
    until that many units may be spent without going past `rate`, with `burst` at once."""

    def __init__(
        self,
        rate: float = PACE,
        burst: float = BURST,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = 0.0  # when the bucket is next empty, in clock time

    def take(self, units: float) -> None:
        with self._lock:
            now = self.clock()
            start = max(now, self._next - self.burst / self.rate)
            self._next = max(self._next, now) + units / self.rate
        if start > now:
            (self._sleep or SLEEP)(start - now)


class GmailClient:
    """Drafts of one mailbox (`user`: "me", or the address a service account impersonates)."""

    def __init__(
        self,
        credentials: Credentials,
        user: str = "me",
        *,
        origin: str = "identifiants Google",
        workers: int = WORKERS,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.credentials = credentials
        self.user = user
        self.origin = origin
        self.workers = workers
        self._sleep = sleep
        self.pacer = pacer or Pacer(sleep=sleep)
        self._local = threading.local()
        self._counts_lock = threading.Lock()
        self.requests = 0  # sent, retries included
        self.throttled = 0  # 429 answers received

    # -- the API ---------------------------------------------------------------------------

    def profile(self) -> str:
        """The mailbox's address (`users.getProfile`)."""
        answer = self._call("profile", "GET", f"{self._base}/profile")
        return str(answer.get("emailAddress", ""))

    def list_drafts(self) -> list[DraftRef]:
        """Every draft of the mailbox (IDs only: nothing of anyone's content), all pages."""
        drafts: list[DraftRef] = []
        token = ""
        while True:
            params = {"maxResults": str(PAGE)} | ({"pageToken": token} if token else {})
            answer = self._call("list", "GET", f"{self._base}/drafts", params=params)
            for item in answer.get("drafts", []):
                drafts.append(DraftRef(item["id"], item.get("message", {}).get("id", "")))
            token = answer.get("nextPageToken", "")
            if not token:
                return drafts

    def mark_of(self, draft_id: str) -> str | None:
        """The tool's `X-GT-Draft` header of a draft (format=metadata: headers, no body),
        None when the draft has none (a staff member's own) or is gone. Used only for
        drafts that appeared during a run whose create lost its answer."""
        try:
            answer = self._call(
                "get", "GET", f"{self._base}/drafts/{draft_id}", params={"format": "metadata"}
            )
        except GmailError as err:
            if err.status == 404:
                return None
            raise
        headers = answer.get("message", {}).get("payload", {}).get("headers", [])
        for header in headers:
            if str(header.get("name", "")).lower() == MARK.lower():
                return str(header.get("value", ""))
        return None

    def create(self, raw: bytes) -> DraftRef:
        """`users.drafts.create`; raises `Uncertain` when the answer was lost."""
        body = {"message": {"raw": encode(raw)}}
        answer = self._call("create", "POST", f"{self._base}/drafts", json=body, repeatable=False)
        return DraftRef(answer["id"], answer.get("message", {}).get("id", ""))

    def update(self, draft_id: str, raw: bytes) -> DraftRef:
        """`users.drafts.update`: the same draft ID, its message replaced (repeatable)."""
        body = {"id": draft_id, "message": {"raw": encode(raw)}}
        answer = self._call("update", "PUT", f"{self._base}/drafts/{draft_id}", json=body)
        return DraftRef(answer.get("id", draft_id), answer.get("message", {}).get("id", ""))

    def each(self, function: Callable[[T], R], items: Sequence[T]) -> list[R | Exception]:
        """`function` over `items` on the pool, in order; an item's failure, whatever it is
        (an expected `GmailError`, or an `AuthError`, a `KeyError`…), is its result, so that
        one item's surprise never hides what the others did. Interrupted (Ctrl-C), the items
        not started are cancelled and those under way are waited for, then the interruption
        goes on: what they did is known to whoever `function` told."""

        def guarded(item: T) -> R | Exception:
            try:
                return function(item)
            except Exception as err:
                return err

        if len(items) <= 1 or self.workers <= 1:
            return [guarded(item) for item in items]
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="gmail")
        try:
            futures = [pool.submit(guarded, item) for item in items]
            return [future.result() for future in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    # -- plumbing --------------------------------------------------------------------------

    @property
    def _base(self) -> str:
        return API.format(user=self.user)

    def _session(self) -> AuthorizedSession:
        """One session per thread (requests sessions are not shared across threads), all
        over the same credentials."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = AuthorizedSession(self.credentials)
            self._local.session = session
        return session

    def _count(self, throttled: bool = False) -> None:
        with self._counts_lock:
            self.requests += 1
            self.throttled += throttled

    def _call(
        self, kind: str, method: str, url: str, *, repeatable: bool = True, **kwargs: Any
    ) -> dict[str, Any]:
        waited = 0.0
        for attempt in range(1, MAX_ATTEMPTS + 1):
            self.pacer.take(COSTS[kind])
            retry_after = ""
            try:
                response = self._session().request(method, url, timeout=TIMEOUT, **kwargs)
            except auth_errors.RefreshError as err:
                raise auth.refresh_failure(err, self.origin) from err
            except DROPPED as err:
                self._count()
                if not repeatable:
                    raise Uncertain(str(err)) from err
                cause = "connexion interrompue"
            else:
                status = response.status_code
                self._count(throttled=status == 429)
                if status < 300:
                    return _answer(response, repeatable)
                if status not in RETRY_STATUSES:
                    raise _refused(response, self.user)
                if status >= 500 and not repeatable:
                    raise Uncertain(f"erreur {status}")
                cause = "quota dépassé (429)" if status == 429 else f"erreur {status}"
                retry_after = response.headers.get("Retry-After", "")
            delay = backoff(attempt, FIRST_DELAY, MAX_DELAY, retry_after)
            if attempt == MAX_ATTEMPTS or waited + delay > MAX_WAIT:
                raise GmailError(
                    f"Gmail ne répond pas ({cause}) après {attempt} tentatives",
                    "réessayez plus tard ; relancer la commande reprend sans doublon",
                )
            (self._sleep or SLEEP)(delay)
            waited += delay
        raise AssertionError("unreachable")


def _answer(response: requests.Response, repeatable: bool) -> dict[str, Any]:
    """A success's JSON; a 2xx that is not JSON (a proxy's page) is no answer from Gmail:
    for a create, whether the draft exists is unknown (`Uncertain`)."""
    if not response.content:
        return {}
    try:
        answer = response.json()
    except ValueError as err:
        if not repeatable:
            raise Uncertain(f"réponse illisible ({response.status_code})") from err
        raise GmailError(
            f"Gmail a donné une réponse illisible ({response.status_code}, pas du JSON)",
            "un proxy ou un portail réseau s'interpose peut-être ; réessayez plus tard",
        ) from err
    return answer if isinstance(answer, dict) else {}


def encode(raw: bytes) -> str:
    """base64url, as the API's `raw` field takes it."""
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _refused(response: requests.Response, user: str) -> GmailError:
    status = response.status_code
    try:
        error = response.json().get("error", {})
        message = str(error.get("message", "")) if isinstance(error, dict) else str(error)
    except ValueError:
        message = response.text[:200]
    if status == 401:
        return GmailError(
            "Gmail a refusé les identifiants (401)", "relancez « gt login »", status=status
        )
    if status == 403 and ("has not been used" in message or "disabled" in message):
        return GmailError(
            "l'API Gmail n'est pas activée pour le projet Google de ces identifiants",
            "activez « Gmail API » dans la console Google Cloud du projet (voir le README)",
            status=status,
        )
    if status == 403:
        return GmailError(
            f"Gmail refuse l'accès à la boîte {user} ({message})",
            "connectez-vous avec « gt login » (accès aux brouillons), ou vérifiez la délégation "
            "du compte de service pour --gmail-user",
            status=status,
        )
    return GmailError(f"Gmail a refusé la requête ({status} : {message})", status=status)


def split_results(
    items: Iterable[T], results: Iterable[R | Exception]
) -> tuple[list[tuple[T, R]], list[tuple[T, Exception]]]:
    """(item, result) pairs that worked, and those that failed."""
    done: list[tuple[T, R]] = []
    failed: list[tuple[T, Exception]] = []
    for item, result in zip(items, results, strict=True):
        if isinstance(result, Exception):
            failed.append((item, result))
        else:
            done.append((item, result))
    return done, failed
