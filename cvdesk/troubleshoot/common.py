"""Small helpers shared by the rules: dates and counts written the same way everywhere."""

from __future__ import annotations

from datetime import datetime, timedelta

from cvdesk.domain.case import Case, ParticipantState
from cvdesk.domain.model import Channel, Signal, SignalKind
from cvdesk.domain.policy import Policy


class _Spans(dict[float, timedelta]):
    """``timedelta`` of so many hours or days, each made once: the rules add policy
    windows to instants for every participant, and making a timedelta costs ten times
    more than looking it up."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def __missing__(self, n: float) -> timedelta:
        span = self[n] = timedelta(**{self.unit: n})
        return span


#: ``HOURS[n] == timedelta(hours=n)``, ``DAYS[n] == timedelta(days=n)``.
HOURS, DAYS = _Spans("hours"), _Spans("days")


def party_policy(policy: Policy, p: ParticipantState) -> Policy:
    """The policy with this participant's organization overrides, if any."""
    if not policy.organizations:  # the usual case, asked for every party by every rule
        return policy
    return policy.for_party(p.organization, p.name)


def day(value: datetime | None) -> str:
    if not value:
        return "none"
    if value.year >= 1000:  # the same text as strftime, several times faster
        return value.date().isoformat()
    return value.strftime("%Y-%m-%d")


def days_since(then: datetime, now: datetime) -> int:
    """Whole days elapsed, as a person would count them on a calendar of 24 h days."""
    return int((now - then) / timedelta(days=1))


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# Channel sets repeat across participants (and are shared frozensets when read by a sweep),
# so their words are kept per set.
_CHANNELS: dict[frozenset[Channel], str] = {}


def _channels_text(channels: frozenset[Channel]) -> str:
    text = _CHANNELS.get(channels)
    if text is None:
        n = len(channels)
        text = _CHANNELS[channels] = (
            f"{plural(n, 'channel')} ({', '.join(sorted(c.value for c in channels)) or 'none'})")
    return text


def channels_text(p: ParticipantState) -> str:
    return ", ".join(sorted(c.value for c in p.channels)) or "none"


def unused_channels(p: ParticipantState) -> list[str]:
    return [c.value for c in Channel if c not in p.channels]


def attempts_text(p: ParticipantState) -> str:
    n = p.attempts
    return (f"{n} attempt{'' if n == 1 else 's'} on {_channels_text(p.channels)}, first "
            f"{day(p.first_attempt_at)}, last {day(p.last_attempt_at)} "
            f"({p.last_attempt_outcome or 'no outcome'})")


def signals_of(case: Case, *kinds: SignalKind) -> list[Signal]:
    return [s for s in case.signals if s.kind in kinds]


def signal_text(case: Case, s: Signal) -> str:
    """'2026-11-10, from p3 Acme (message #41): cease and desist'."""
    who = ""
    if s.participant is not None and s.participant in case.participants:
        who = f", from {case.participants[s.participant].label}"
    where = f" {s.url}" if s.url else ""
    return f"{day(s.at)}{who} ({s.source} #{s.seq}): {s.text or s.kind.value}{where}"
