"""A random walk on the CS transition table, written independently of
cvdesk.metrics.histories (it reads CS_TABLE's keys itself), for the tests that check the
enumeration and the skill measure against simulation."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from cvdesk.domain.cs import CS_TABLE, CSEvent, CSState
from cvdesk.metrics.skill import Observed

T0 = datetime(2026, 1, 1, tzinfo=UTC)

ENABLED: dict[CSState, list[CSEvent]] = {}
for _state, _event in CS_TABLE:
    ENABLED.setdefault(_state, []).append(_event)
for _events in ENABLED.values():
    _events.sort(key=lambda e: e.value)  # an order of our own, not the table's


def walk(rng: random.Random) -> tuple[CSEvent, ...]:
    """One history: from the empty state, a uniformly chosen enabled event each step."""
    state: CSState = frozenset()
    path: list[CSEvent] = []
    while state in ENABLED:
        event = rng.choice(ENABLED[state])
        path.append(event)
        state = CS_TABLE[(state, event)]
    return tuple(path)


def observed(path: tuple[CSEvent, ...], *, closed: bool = True) -> Observed:
    """The history with one hour between events (no ties)."""
    return Observed({e: T0 + timedelta(hours=i) for i, e in enumerate(path)}, closed)
