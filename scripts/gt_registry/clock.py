"""The one clock of the tool: every Journal row, every draft's `Date:` header and "today"
come from here, in the configured timezone (Europe/Paris), whatever the machine's own zone —
on a UTC scheduler the Journal and the drafts still agree."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def now(timezone: str) -> dt.datetime:
    """The current time in `timezone`, aware, to the second."""
    return dt.datetime.now(ZoneInfo(timezone)).replace(microsecond=0)


def today(timezone: str) -> dt.date:
    """Today's date in `timezone` (just after midnight in Paris is already tomorrow there)."""
    return now(timezone).date()


def clock_change(day: dt.date, moment: dt.time, zone: ZoneInfo) -> str | None:
    """Why `day` at `moment` is not one instant in `zone`: "skipped" (the clocks jump over it),
    "repeated" (it happens twice), or None for an ordinary time."""
    naive = dt.datetime.combine(day, moment)
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    back = first.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
    return "skipped" if back != naive else "repeated"
