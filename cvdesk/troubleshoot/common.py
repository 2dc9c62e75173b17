"""Small helpers shared by the rules: dates and counts written the same way everywhere."""

from __future__ import annotations

from datetime import datetime, timedelta

from cvdesk.domain.case import ParticipantState
from cvdesk.domain.model import Channel


def day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "none"


def days_since(then: datetime, now: datetime) -> int:
    """Whole days elapsed, as a person would count them on a calendar of 24 h days."""
    return int((now - then) / timedelta(days=1))


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def channels_text(p: ParticipantState) -> str:
    return ", ".join(sorted(c.value for c in p.channels)) or "none"


def unused_channels(p: ParticipantState) -> list[str]:
    return [c.value for c in Channel if c not in p.channels]


def attempts_text(p: ParticipantState) -> str:
    return (f"{plural(p.attempts, 'attempt')} on {plural(len(p.channels), 'channel')} "
            f"({channels_text(p)}), first {day(p.first_attempt_at)}, last "
            f"{day(p.last_attempt_at)} ({p.last_attempt_outcome or 'no outcome'})")
