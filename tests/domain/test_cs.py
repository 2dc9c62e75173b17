"""CS (case state, Vultron): six irreversible events, 32 states, the ordering rules.

Expectations are derived here from the digest's rules, not from ``cs._enabled``:
V before F before D; P needs V before it or V immediately after it; X needs P
before it or P immediately after it; A is unconstrained; nothing happens twice.
"""

from __future__ import annotations

from itertools import permutations, product

import pytest

from cvdesk.domain import cs
from cvdesk.domain.cs import (
    ALL_STATES,
    CS_MACHINE,
    DESIDERATA,
    CSEvent,
    forced_next,
    history_is_valid,
    label,
)
from cvdesk.domain.errors import IllegalTransition

V, F, D, P, X, A = CSEvent.V, CSEvent.F, CSEvent.D, CSEvent.P, CSEvent.X, CSEvent.A
EVENTS = (V, F, D, P, X, A)

#: All 32 labels, written out: vendor part (V<F<D) x case part (any of P, X, A).
ALL_LABELS = {
    vfd + pxa
    for vfd in ("vfd", "Vfd", "VFd", "VFD")
    for pxa in ("pxa", "pxA", "pXa", "pXA", "Pxa", "PxA", "PXa", "PXA")
}


def state_of(text: str) -> frozenset[CSEvent]:
    """'VFdPxa' -> {V, F, P}."""
    assert len(text) == 6
    return frozenset(CSEvent(ch) for ch in text if ch.isupper())


def rule_allows(state: frozenset[CSEvent], event: CSEvent) -> bool:
    """The digest's rules, stated independently of cs.py."""
    if event in state:
        return False  # irreversible: each event at most once
    if X in state and P not in state:
        return event is P  # a public exploit makes the vulnerability public at once
    if P in state and V not in state:
        return event is V  # the public knowing makes the vendor know at once
    if event is F:
        return V in state
    if event is D:
        return F in state
    return True


def test_event_titles_and_partition() -> None:
    assert [e.value for e in CSEvent] == ["V", "F", "D", "P", "X", "A"]
    assert {e.title for e in CSEvent} == {
        "vendor aware", "fix ready", "fix deployed", "public aware", "exploit public",
        "attacks observed",
    }
    assert frozenset({V, F, D}) == cs.VENDOR_EVENTS
    assert frozenset({P, X, A}) == cs.CASE_EVENTS
    assert cs.ORDER == EVENTS


def test_exactly_32_states_all_reachable() -> None:
    reachable = CS_MACHINE.reachable()
    assert len(reachable) == 32
    assert len(ALL_STATES) == 32
    assert reachable == ALL_STATES
    assert CS_MACHINE.initial == frozenset()


def test_every_state_label() -> None:
    assert len(ALL_LABELS) == 32
    assert {label(s) for s in ALL_STATES} == ALL_LABELS
    for text in ALL_LABELS:
        assert state_of(text) in ALL_STATES
        assert label(state_of(text)) == text
        assert CS_MACHINE.label(state_of(text)) == text


@pytest.mark.parametrize(
    ("events", "text"),
    [
        ((), "vfdpxa"),
        ((V,), "Vfdpxa"),
        ((V, F, P), "VFdPxa"),
        ((V, F, D, P, X, A), "VFDPXA"),
        ((A,), "vfdpxA"),
        ((X,), "vfdpXa"),
        ((V, P, X), "VfdPXa"),
        ((P, A), "vfdPxA"),
    ],
)
def test_label_examples(events: tuple[CSEvent, ...], text: str) -> None:
    assert label(frozenset(events)) == text


@pytest.mark.parametrize(
    ("state", "event"),
    list(product(sorted(ALL_LABELS), EVENTS)),
    ids=[f"{s}-{e.value}" for s, e in product(sorted(ALL_LABELS), EVENTS)],
)
def test_every_state_event_pair(state: str, event: CSEvent) -> None:
    s = state_of(state)
    if rule_allows(s, event):
        assert CS_MACHINE.next(s, event) == s | {event}
    else:
        with pytest.raises(IllegalTransition) as info:
            CS_MACHINE.next(s, event, subject="p3 ACME")
        message = str(info.value)
        assert message.startswith("CS")
        assert f"'{state}'" in message  # the state is named by its label
        assert info.value.allowed == sorted(e.value for e in EVENTS if rule_allows(s, e))


def test_transition_count_matches_rules() -> None:
    expected = sum(rule_allows(s, e) for s in ALL_STATES for e in EVENTS)
    assert len(CS_MACHINE.table) == expected


def test_fix_ready_before_vendor_aware_is_refused() -> None:
    for s in ALL_STATES:
        if V not in s:
            assert not CS_MACHINE.can(s, F)
    with pytest.raises(IllegalTransition, match="'F' is not allowed in state 'vfdpxa'"):
        CS_MACHINE.next(frozenset(), F)


def test_fix_deployed_before_fix_ready_is_refused() -> None:
    for s in ALL_STATES:
        if F not in s:
            assert not CS_MACHINE.can(s, D)
    with pytest.raises(IllegalTransition, match="'D' is not allowed in state 'Vfdpxa'"):
        CS_MACHINE.next(frozenset({V}), D)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.value)
def test_each_event_at_most_once(event: CSEvent) -> None:
    holding = [s for s in ALL_STATES if event in s]
    assert holding
    for s in holding:
        assert not CS_MACHINE.can(s, event)
    # And nothing is ever undone: every transition adds exactly one event.
    for (s, e), nxt in CS_MACHINE.table.items():
        assert nxt == s | {e}
        assert s < nxt


def test_public_without_vendor_forces_vendor_aware() -> None:
    states = [s for s in ALL_STATES if P in s and V not in s]
    assert {label(s) for s in states} == {"vfdPxa", "vfdPxA", "vfdPXa", "vfdPXA"}
    for s in states:
        assert CS_MACHINE.allowed(s) == (V,)
        assert forced_next(s) is V


def test_exploit_without_public_forces_public() -> None:
    states = [s for s in ALL_STATES if X in s and P not in s]
    assert len(states) == 8  # any vendor part, with or without A
    for s in states:
        assert CS_MACHINE.allowed(s) == (P,)
        assert forced_next(s) is P


def test_forced_next_is_none_elsewhere() -> None:
    free = [s for s in ALL_STATES
            if not (X in s and P not in s) and not (P in s and V not in s)]
    assert len(free) == 32 - 8 - 4  # 8 with X but not P, 4 with P but not V
    for s in free:
        assert forced_next(s) is None


def test_attacks_allowed_anywhere_not_forced() -> None:
    for s in ALL_STATES:
        if A in s:
            continue
        assert CS_MACHINE.can(s, A) == (forced_next(s) is None)


@pytest.mark.parametrize(
    "history",
    [
        [],
        [V],
        [V, F, D, P, X, A],
        [A, V, F, P, D, X],
        [P, V],
        [P, V, X, F, A, D],
        [X, P, V, F, D, A],
        [A, X, P, V],
        [V, X, P, A, F, D],
        [A, P, V, F, D, X],
    ],
    ids=lambda h: "".join(e.value for e in h) or "empty",
)
def test_valid_histories(history: list[CSEvent]) -> None:
    assert history_is_valid(history)


@pytest.mark.parametrize(
    "history",
    [
        [F],
        [D],
        [V, D],
        [V, V],
        [A, A],
        [V, F, D, P, X, A, A],
        [P, A],
        [P, X, V],
        [X, A],
        [X, V],
        [X, P, A],
        [V, F, F],
        [V, P, P],
    ],
    ids=lambda h: "".join(e.value for e in h),
)
def test_invalid_histories(history: list[CSEvent]) -> None:
    assert not history_is_valid(history)


def test_complete_histories_agree_with_the_rules() -> None:
    complete = [list(h) for h in permutations(EVENTS) if history_is_valid(list(h))]
    independent = [
        h for h in (list(p) for p in permutations(EVENTS))
        if all(rule_allows(frozenset(h[:i]), h[i]) for i in range(6))
    ]
    assert complete == independent
    assert complete  # the model admits complete histories
    assert [V, F, D, P, X, A] in complete
    assert [F, V, D, P, X, A] not in complete


def test_twelve_desiderata() -> None:
    expected = {
        (V, P), (V, X), (V, A), (F, P), (F, X), (F, A),
        (D, P), (D, X), (D, A), (P, X), (P, A), (X, A),
    }
    assert len(DESIDERATA) == 12
    assert len(set(DESIDERATA)) == 12
    assert set(DESIDERATA) == expected
