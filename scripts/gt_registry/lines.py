"""What a core function hands a command to show: lines with a tone (the command colours them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    """A line for the person running the command; `tone` says how it may be shown."""

    text: str
    tone: str = ""  # "warning", "done", or "" (plain)
