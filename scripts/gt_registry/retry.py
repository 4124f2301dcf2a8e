"""The one back-off rule for Google's APIs (Sheets and Gmail): capped exponential delays with
equal jitter, so that many runs, or many threads, do not retry in step."""

from __future__ import annotations

import random


def backoff(attempt: int, first: float, cap: float, retry_after: str = "") -> float:
    """Seconds to wait before attempt `attempt + 1`: `first`, twice as long each time, at most
    `cap`, half of it random; at least the server's `Retry-After` (seconds) when it gives one."""
    base = min(cap, first * 2 ** (attempt - 1))
    delay = base / 2 + random.uniform(0, base / 2)
    if retry_after.strip().isdigit():
        delay = max(delay, min(float(retry_after), cap))
    return delay
