"""Small helpers shared by the rules: dates and counts written the same way everywhere."""

from __future__ import annotations

from datetime import date, datetime, timedelta

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


class _Days(dict[int, str]):
    """A day's ISO text by its ordinal: a sweep writes the days of a few hundred thousand
    attempts and replies, which fall on a few hundred days, and the ordinal costs a
    quarter of ``date().isoformat()``.  Bounded: cleared when full."""

    def __missing__(self, n: int) -> str:
        if len(self) >= 100_000:
            self.clear()
        text = self[n] = date.fromordinal(n).isoformat()
        return text


_DAYS = _Days()


def day(value: datetime | None) -> str:
    if not value:
        return "none"
    if value.year >= 1000:  # the same text as strftime, several times faster
        return _DAYS[value.toordinal()]
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


#: The start of ``attempts_text`` by (count, channel set), and its end by outcome: the
#: few values these take repeat over a sweep's hundred thousand vendors.
_ATTEMPTS: dict[tuple[int, frozenset[Channel]], str] = {}
_OUTCOMES: dict[str | None, str] = {None: "(no outcome)"}


def attempts_text(p: ParticipantState) -> str:
    """'3 attempts on 2 channels (email, phone), first 2026-10-01, last 2026-10-09
    (no-reply)'."""
    n, channels = p.attempts, p.channels
    head = _ATTEMPTS.get((n, channels))
    if head is None:
        if len(_ATTEMPTS) > 4096:
            _ATTEMPTS.clear()
        head = _ATTEMPTS[n, channels] = (
            f"{n} attempt{'' if n == 1 else 's'} on {_channels_text(channels)}, first ")
    outcome = p.last_attempt_outcome
    # By the outcome's value: an enum member hashes through Python code, its text does not.
    key = None if outcome is None else outcome._value_
    tail = _OUTCOMES.get(key)
    if tail is None:
        tail = _OUTCOMES[key] = f"({outcome or 'no outcome'})"
    first, last = p.first_attempt_at, p.last_attempt_at
    days = _DAYS
    return "".join((head, days[first.toordinal()] if first and first.year >= 1000
                    else day(first), ", last ",
                    days[last.toordinal()] if last and last.year >= 1000 else day(last),
                    " ", tail))


def signals_of(case: Case, *kinds: SignalKind) -> list[Signal]:
    return [s for s in case.signals if s.kind in kinds]


def signal_text(case: Case, s: Signal) -> str:
    """'2026-11-10, from p3 Acme (message #41): cease and desist'."""
    who = ""
    if s.participant is not None and s.participant in case.participants:
        who = f", from {case.participants[s.participant].label}"
    where = f" {s.url}" if s.url else ""
    return f"{day(s.at)}{who} ({s.source} #{s.seq}): {s.text or s.kind.value}{where}"
