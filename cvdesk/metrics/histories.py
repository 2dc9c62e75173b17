"""The histories the case-state model allows, the chance baseline, and whether one
desired ordering held in a history that may still be unfolding.

A history is the order in which the six CS events V F D P X A happened for one vendor
(that vendor's V F D with its case's P X A).  The model's rules (cvdesk.domain.cs)
leave only some of the 720 orders possible; they are found here by walking CS_MACHINE
from the empty state, so the list follows the model and nothing is typed in
(Householder & Spring, "Are We Skilled or Lucky?", 2021, count 70 of them).

The chance baseline asks how often each desideratum (for example V<P: the vendor knew
before the public) holds when luck alone decides: from every state, each transition the
model enables is equally likely.  A history's probability is the product of 1/(number
of transitions enabled) along its path; a desideratum's chance is the sum over the
histories where it holds.  The sums are exact fractions, turned into floats at the end.

Guide 6.9 ends with "learn from the experience": measured skill (cvdesk.metrics.skill)
is the observed frequency of each desideratum set against this baseline.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from functools import cache

from cvdesk.domain.cs import CS_MACHINE, DESIDERATA, CSEvent, CSState


def desideratum_name(a: CSEvent, b: CSEvent) -> str:
    """The written form the guide's readers know: "V<P" (V happened before P)."""
    return f"{a.value}<{b.value}"


#: The twelve desiderata by name, in the model's order.
DESIDERATUM_NAMES: tuple[str, ...] = tuple(desideratum_name(a, b) for a, b in DESIDERATA)


@dataclass(frozen=True, slots=True)
class History:
    """One order of the six events the model allows, with the probability that a walk
    choosing uniformly among the enabled transitions at every state takes exactly it."""

    events: tuple[CSEvent, ...]
    probability: Fraction

    @property
    def label(self) -> str:
        return "".join(e.value for e in self.events)

    def holds(self, a: CSEvent, b: CSEvent) -> bool:
        """Whether ``a`` came before ``b`` (every allowed history holds all six events)."""
        return self.events.index(a) < self.events.index(b)


@cache
def histories() -> tuple[History, ...]:
    """Every complete path through CS_MACHINE, depth first, in the table's event order.

    A path ends where no transition is enabled; the walk checks that this is the state
    with all six events, so a change to the model that traps a case half-way shows up
    here rather than as a silently shorter list."""
    found: list[History] = []

    def walk(state: CSState, path: tuple[CSEvent, ...], probability: Fraction) -> None:
        enabled = CS_MACHINE.allowed(state)
        if not enabled:
            if len(path) != len(CSEvent):
                raise AssertionError(f"the CS model stops at {CS_MACHINE.label(state)}")
            found.append(History(path, probability))
            return
        share = probability / len(enabled)
        for event in enabled:
            walk(CS_MACHINE.table[(state, event)], (*path, event), share)

    walk(CS_MACHINE.initial, (), Fraction(1))
    return tuple(found)


@cache
def exact_baseline() -> dict[str, Fraction]:
    """Each desideratum's chance, as an exact fraction (see the module's docstring)."""
    return {desideratum_name(a, b): sum((h.probability for h in histories() if h.holds(a, b)),
                                        Fraction(0))
            for a, b in DESIDERATA}


def baseline() -> dict[str, float]:
    """Each desideratum ("V<P", ...) -> the probability it holds by chance alone."""
    return {name: float(p) for name, p in exact_baseline().items()}


# ----------------------------------------------------------------- partial histories
class Decision(StrEnum):
    HELD = "held"
    FAILED = "failed"
    UNDECIDED = "undecided"


#: Why a desideratum could not be decided; the skill report counts checks per reason.
NEITHER_YET = "neither event yet"
NEITHER_EVER = "neither event happened"
UNREADABLE = "time of an event unreadable"


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    reason: str


def decide(a: CSEvent, b: CSEvent, times: Mapping[CSEvent, datetime | None], *,
           closed: bool, seqs: Mapping[CSEvent, int] | None = None,
           undated: Collection[CSEvent] = ()) -> Verdict:
    """Whether "``a`` before ``b``" held in a history known so far.

    ``times`` gives when each event happened (missing or None: not yet, or for a closed
    case never).  Events are irreversible, so an event that happened while the other has
    not decides the ordering for good: a alone -> held, b alone -> failed; this is what
    lets open cases count where their order is already settled (issue 12).

    Both happened: the earlier wins.  Two events often carry the same time because one
    implies the other (X records P, P records V for every vendor not yet aware), and then
    the model's order is "b first, a forced right after".  The case log keeps the order
    of such events (``seqs``, their positions in the log); when both positions are known
    they decide.  Without them a tie counts as "a not before b": failed.  That is the
    safe side for a desk measuring its own skill, since claiming "held" on a tie would
    credit the desk with the implied events the model forces on it.

    ``undated`` are events known to have happened whose time could not be read: they
    still decide against an event that has not happened, but not against one that has."""
    at_a, at_b = times.get(a), times.get(b)
    happened_a, happened_b = at_a is not None or a in undated, at_b is not None or b in undated
    if happened_a and not happened_b:
        return Verdict(Decision.HELD, f"{a.value} happened, {b.value} not")
    if happened_b and not happened_a:
        return Verdict(Decision.FAILED, f"{b.value} happened, {a.value} not")
    if not happened_a:
        return Verdict(Decision.UNDECIDED, NEITHER_EVER if closed else NEITHER_YET)
    if at_a is None or at_b is None:
        return Verdict(Decision.UNDECIDED, UNREADABLE)
    if at_a < at_b:
        return Verdict(Decision.HELD, f"{a.value} before {b.value}")
    if at_a > at_b:
        return Verdict(Decision.FAILED, f"{b.value} before {a.value}")
    seq_a = seqs.get(a) if seqs else None
    seq_b = seqs.get(b) if seqs else None
    if seq_a is not None and seq_b is not None and seq_a != seq_b:
        if seq_a < seq_b:
            return Verdict(Decision.HELD, f"{a.value} before {b.value} in the case log "
                           "(same time)")
        return Verdict(Decision.FAILED, f"{b.value} before {a.value} in the case log "
                       "(same time)")
    return Verdict(Decision.FAILED, f"{a.value} and {b.value} at the same time "
                   "(not before)")
