"""The one back-off rule for Google's APIs (Sheets and Gmail): capped exponential delays with
equal jitter, so that many runs, or many threads, do not retry in step."""

from __future__ import annotations

import random

import requests
from google.auth import exceptions as auth_errors

# A request that got no answer, for Sheets and Gmail alike: the connection dropped or timed
# out, or the token request made on the way was cut (google-auth's TransportError). Retried
# when the request may be repeated; for a create, the caller must check what exists first.
DROPPED: tuple[type[Exception], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.Timeout,
    auth_errors.TransportError,
)


def backoff(attempt: int, first: float, cap: float, retry_after: str = "") -> float:
    """Seconds to wait before attempt `attempt + 1`: `first`, twice as long each time, at most
    `cap`, half of it random; at least the server's `Retry-After` (seconds) when it gives one."""
    base = min(cap, first * 2 ** (attempt - 1))
    delay = base / 2 + random.uniform(0, base / 2)
    if retry_after.strip().isdigit():
        delay = max(delay, min(float(retry_after), cap))
    return delay
