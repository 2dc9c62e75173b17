"""The histories the CS model allows and the chance baseline, each found two independent
ways (the enumeration in cvdesk.metrics.histories and brute force / simulation here),
and the decision of one desideratum on partial data."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from fractions import Fraction
from itertools import permutations

from hypothesis import given, settings
from hypothesis import strategies as st

from cvdesk.domain.cs import DESIDERATA, CSEvent, history_is_valid
from cvdesk.metrics.histories import (
    DESIDERATUM_NAMES,
    NEITHER_EVER,
    NEITHER_YET,
    UNREADABLE,
    Decision,
    baseline,
    decide,
    desideratum_name,
    exact_baseline,
    histories,
)
from tests.metrics.walks import T0, walk

V, F, D, P, X, A = (CSEvent.V, CSEvent.F, CSEvent.D, CSEvent.P, CSEvent.X, CSEvent.A)

#: Simulated walks, and the tolerance on each estimated chance: the largest standard
#: error (p = 1/2) is sqrt(0.25 / 200000) = 0.0011, so 0.005 is more than four of them.
WALKS = 200_000
TOLERANCE = 0.005


def test_the_walk_finds_every_valid_order_and_only_those() -> None:
    found = [h.events for h in histories()]
    assert len(found) == len(set(found))  # no history twice
    valid = {p for p in permutations(CSEvent) if history_is_valid(list(p))}
    assert set(found) == valid  # brute force over all 720 orders agrees
    assert len(found) == 70  # Householder & Spring (2021) count 70


def test_path_probabilities_sum_to_one_and_match_the_walk() -> None:
    assert sum(h.probability for h in histories()) == 1
    # a product of six factors 1/(enabled), each enabled count at most 6
    assert all(Fraction(1, 6**6) <= h.probability <= 1 for h in histories())


def test_baseline_by_enumeration_agrees_with_a_seeded_random_walk() -> None:
    rng = random.Random(12)
    counts = Counter(walk(rng) for _ in range(WALKS))
    exact = {h.events: h.probability for h in histories()}
    assert set(counts) == set(exact)  # the rarest history has probability 1/384
    for path, n in counts.items():
        assert abs(n / WALKS - float(exact[path])) < TOLERANCE
    chance = baseline()
    for a, b in DESIDERATA:
        held = sum(n for path, n in counts.items() if path.index(a) < path.index(b))
        assert abs(held / WALKS - chance[desideratum_name(a, b)]) < TOLERANCE


def test_baseline_keys_and_the_published_values() -> None:
    chance = baseline()
    assert list(chance) == list(DESIDERATUM_NAMES) == [
        "V<P", "V<X", "V<A", "F<P", "F<X", "F<A", "D<P", "D<X", "D<A", "P<X", "P<A", "X<A"]
    # the values of Householder & Spring (2021), table of f_d under a uniform walk
    assert exact_baseline() == {
        "V<P": Fraction(1, 3), "V<X": Fraction(2, 3), "V<A": Fraction(3, 4),
        "F<P": Fraction(1, 9), "F<X": Fraction(1, 3), "F<A": Fraction(3, 8),
        "D<P": Fraction(1, 27), "D<X": Fraction(1, 6), "D<A": Fraction(3, 16),
        "P<X": Fraction(1, 2), "P<A": Fraction(2, 3), "X<A": Fraction(1, 2)}


# ----------------------------------------------------------------- partial data
def _at(hours: float):  # type: ignore[no-untyped-def]
    return T0 + timedelta(hours=hours)


def test_each_rule_of_the_decision() -> None:
    assert decide(V, P, {V: _at(1)}, closed=False).decision is Decision.HELD
    assert decide(V, P, {P: _at(1), V: None}, closed=False).decision is Decision.FAILED
    assert decide(V, P, {V: _at(1), P: _at(2)}, closed=True).decision is Decision.HELD
    assert decide(V, P, {V: _at(2), P: _at(1)}, closed=True).decision is Decision.FAILED
    open_, closed = decide(V, P, {}, closed=False), decide(V, P, {}, closed=True)
    assert (open_.decision, open_.reason) == (Decision.UNDECIDED, NEITHER_YET)
    assert (closed.decision, closed.reason) == (Decision.UNDECIDED, NEITHER_EVER)


def test_a_tie_is_not_before_unless_the_log_orders_it() -> None:
    # P made the vendor aware: both at one time, V written after P in the log
    tie = {V: _at(1), P: _at(1)}
    assert decide(V, P, tie, closed=True).decision is Decision.FAILED
    assert decide(V, P, tie, closed=True, seqs={P: 7, V: 8}).decision is Decision.FAILED
    assert decide(V, P, tie, closed=True, seqs={V: 7, P: 8}).decision is Decision.HELD
    assert decide(V, P, tie, closed=True, seqs={V: 7}).decision is Decision.FAILED


def test_an_undated_event_decides_only_against_one_that_did_not_happen() -> None:
    assert decide(V, P, {}, closed=False, undated={V}).decision is Decision.HELD
    assert decide(V, P, {}, closed=False, undated={P}).decision is Decision.FAILED
    both = decide(V, P, {P: _at(1)}, closed=False, undated={V})
    assert (both.decision, both.reason) == (Decision.UNDECIDED, UNREADABLE)


# Any order of any subset of the events (the data need not obey the model), with
# non-decreasing whole hours so that ties happen often.
_orders = st.permutations(list(CSEvent)).flatmap(
    lambda order: st.tuples(st.just(order),
                            st.lists(st.integers(0, 3), min_size=6, max_size=6),
                            st.integers(0, 6)))


@settings(max_examples=200)
@given(_orders, st.integers(0, 20), st.booleans())
def test_a_prefix_never_contradicts_the_whole(drawn, cutoff: int, by_time: bool) -> None:  # type: ignore[no-untyped-def]
    order, gaps, happened = drawn
    events = order[:happened]  # the rest never happened
    times, seqs, hour = {}, {}, 0
    for i, event in enumerate(events):
        hour += gaps[i]
        times[event], seqs[event] = _at(hour), i
    if by_time:  # what was known at an instant: everything up to it, without log order
        known = {e: t for e, t in times.items() if t <= _at(cutoff)}
        known_seqs, full_seqs = None, None
    else:  # the first events of the log, with their log positions
        known = {e: t for e, t in times.items() if seqs[e] < cutoff}
        known_seqs = full_seqs = seqs
    for a, b in DESIDERATA:
        whole = decide(a, b, times, closed=True, seqs=full_seqs)
        part = decide(a, b, known, closed=False, seqs=known_seqs)
        assert part.decision in (Decision.UNDECIDED, whole.decision), (a, b, part, whole)
        if whole.decision is Decision.UNDECIDED:
            assert part.decision is Decision.UNDECIDED
