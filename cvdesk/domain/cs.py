"""Case state (Vultron CS): six irreversible events V F D P X A.

V (vendor aware), F (fix ready) and D (fix deployed) are tracked per vendor;
P (public aware), X (exploit public) and A (attacks observed) once per case.
The single-vendor machine below is built from the ordering rules and yields
the model's 32 states.  A state is the set of events that have happened.

Rules (CERT Vultron):
- V before F before D;
- P requires V before it, or V immediately after it (the public knowing makes
  the vendor know);
- X requires P before it, or P immediately after it (a public exploit makes
  the vulnerability public);
- A is unconstrained.
"""

from __future__ import annotations

from enum import StrEnum
from itertools import combinations

from cvdesk.domain.machine import Machine


class CSEvent(StrEnum):
    V = "V"
    F = "F"
    D = "D"
    P = "P"
    X = "X"
    A = "A"

    @property
    def title(self) -> str:
        return _TITLES[self]


_TITLES = {
    CSEvent.V: "vendor aware",
    CSEvent.F: "fix ready",
    CSEvent.D: "fix deployed",
    CSEvent.P: "public aware",
    CSEvent.X: "exploit public",
    CSEvent.A: "attacks observed",
}

VENDOR_EVENTS = frozenset({CSEvent.V, CSEvent.F, CSEvent.D})
CASE_EVENTS = frozenset({CSEvent.P, CSEvent.X, CSEvent.A})
ORDER = (CSEvent.V, CSEvent.F, CSEvent.D, CSEvent.P, CSEvent.X, CSEvent.A)

CSState = frozenset[CSEvent]

#: The vendor-side prefixes the V<F<D rule admits.
VFD_STATES: tuple[CSState, ...] = (
    frozenset(),
    frozenset({CSEvent.V}),
    frozenset({CSEvent.V, CSEvent.F}),
    frozenset({CSEvent.V, CSEvent.F, CSEvent.D}),
)
PXA_STATES: tuple[CSState, ...] = tuple(
    frozenset(c) for n in range(4) for c in combinations(sorted(CASE_EVENTS), n)
)


def label(state: CSState) -> str:
    """The usual notation: upper case for what happened, e.g. 'VFdPxa'."""
    return "".join(e.value if e in state else e.value.lower() for e in ORDER)


def forced_next(state: CSState) -> CSEvent | None:
    """The event that must come next, if the state is one the rules do not let rest."""
    if CSEvent.X in state and CSEvent.P not in state:
        return CSEvent.P
    if CSEvent.P in state and CSEvent.V not in state:
        return CSEvent.V
    return None


def _enabled(state: CSState, event: CSEvent) -> bool:
    if event in state:
        return False
    forced = forced_next(state)
    if forced is not None:
        return event is forced
    if event is CSEvent.F:
        return CSEvent.V in state
    if event is CSEvent.D:
        return CSEvent.F in state
    return True


def _build_table() -> dict[tuple[CSState, CSEvent], CSState]:
    table: dict[tuple[CSState, CSEvent], CSState] = {}
    for vfd in VFD_STATES:
        for pxa in PXA_STATES:
            state = vfd | pxa
            for event in ORDER:
                if _enabled(state, event):
                    table[(state, event)] = state | {event}
    return table


class _CSMachine(Machine[CSState, CSEvent]):
    def label(self, state: CSState) -> str:
        return label(state)


CS_TABLE = _build_table()
CS_MACHINE: Machine[CSState, CSEvent] = _CSMachine(
    "CS (case state)", CS_TABLE, frozenset()
)
ALL_STATES: frozenset[CSState] = frozenset(vfd | pxa for vfd in VFD_STATES for pxa in PXA_STATES)

#: The twelve desired orderings (a before b) of the CS events.
DESIDERATA: tuple[tuple[CSEvent, CSEvent], ...] = (
    (CSEvent.V, CSEvent.P), (CSEvent.V, CSEvent.X), (CSEvent.V, CSEvent.A),
    (CSEvent.F, CSEvent.P), (CSEvent.F, CSEvent.X), (CSEvent.F, CSEvent.A),
    (CSEvent.D, CSEvent.P), (CSEvent.D, CSEvent.X), (CSEvent.D, CSEvent.A),
    (CSEvent.P, CSEvent.X), (CSEvent.P, CSEvent.A), (CSEvent.X, CSEvent.A),
)


def history_is_valid(history: list[CSEvent]) -> bool:
    """True when a single-vendor history obeys every ordering rule of the model."""
    state: CSState = frozenset()
    for event in history:
        if not CS_MACHINE.can(state, event):
            return False
        state = CS_MACHINE.table[(state, event)]
    return True
