"""A finite state machine given as one transition table.

The table ``{(state, trigger): next_state}`` is the single source of truth for
each formal model; the allowed triggers, the reachable states and the error
messages are all derived from it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from cvdesk.domain.errors import IllegalTransition

S = TypeVar("S", bound=Hashable)
T = TypeVar("T", bound=Hashable)


def _label(value: object) -> str:
    return str(getattr(value, "value", value))


@dataclass(frozen=True)
class Machine(Generic[S, T]):
    name: str
    table: Mapping[tuple[S, T], S]
    initial: S
    _allowed: dict[S, tuple[T, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        allowed: dict[S, list[T]] = {}
        for state, trigger in self.table:
            allowed.setdefault(state, []).append(trigger)
        object.__setattr__(self, "_allowed", {s: tuple(t) for s, t in allowed.items()})

    def allowed(self, state: S) -> tuple[T, ...]:
        """Triggers that may fire from ``state`` (empty for a final state)."""
        return self._allowed.get(state, ())

    def can(self, state: S, trigger: T) -> bool:
        return (state, trigger) in self.table

    def next(self, state: S, trigger: T, subject: str = "") -> S:
        """The state after ``trigger``; raises IllegalTransition naming what is allowed."""
        try:
            return self.table[(state, trigger)]
        except KeyError:
            raise IllegalTransition(
                self.name, self.label(state), _label(trigger),
                [_label(t) for t in self.allowed(state)], subject,
            ) from None

    def label(self, state: S) -> str:
        return _label(state)

    def reachable(self) -> set[S]:
        """All states reachable from the initial state (breadth-first over the table)."""
        seen = {self.initial}
        todo = deque([self.initial])
        while todo:
            state = todo.popleft()
            for trigger in self.allowed(state):
                nxt = self.table[(state, trigger)]
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen
