"""RM (report management, Vultron): every (state, trigger) pair against the digest's table.

The expected table is written out here from docs (CVD-DIGEST.md, "Formal models"),
independently of ``RM_TABLE``: S->R receive; R->V, I->V validate; R->I invalidate;
V->A, D->A accept; V->D, A->D defer; A->C, I->C, D->C close.
"""

from __future__ import annotations

from itertools import product

import pytest

from cvdesk.domain.errors import DomainError, IllegalTransition
from cvdesk.domain.rm import RM, RM_MACHINE, RM_OPEN, RMTrigger

LETTER = {
    "S": RM.START, "R": RM.RECEIVED, "I": RM.INVALID, "V": RM.VALID,
    "D": RM.DEFERRED, "A": RM.ACCEPTED, "C": RM.CLOSED,
}

_DIGEST = """
S R receive
R V validate
I V validate
R I invalidate
V A accept
D A accept
V D defer
A D defer
A C close
I C close
D C close
"""

EXPECTED: dict[tuple[RM, RMTrigger], RM] = {
    (LETTER[src], RMTrigger(trigger)): LETTER[dst]
    for src, dst, trigger in (line.split() for line in _DIGEST.strip().splitlines())
}

ALL_PAIRS = list(product(RM, RMTrigger))


def expected_allowed(state: RM) -> list[str]:
    return sorted(t.value for (s, t) in EXPECTED if s is state)


def test_the_model_has_seven_states_six_triggers_and_eleven_transitions() -> None:
    assert len(list(RM)) == 7
    assert len(list(RMTrigger)) == 6
    assert len(ALL_PAIRS) == 42
    assert len(EXPECTED) == 11


@pytest.mark.parametrize(
    ("state", "trigger"), ALL_PAIRS, ids=[f"{s.letter}-{t.value}" for s, t in ALL_PAIRS]
)
def test_every_pair(state: RM, trigger: RMTrigger) -> None:
    if (state, trigger) in EXPECTED:
        assert RM_MACHINE.can(state, trigger)
        assert RM_MACHINE.next(state, trigger) is EXPECTED[(state, trigger)]
        return
    assert not RM_MACHINE.can(state, trigger)
    with pytest.raises(IllegalTransition) as info:
        RM_MACHINE.next(state, trigger, subject="p7 ACME")
    err = info.value
    message = str(err)
    assert isinstance(err, DomainError)
    assert err.model.startswith("RM")
    assert message.startswith("RM")
    assert err.state == state.value
    assert err.trigger == trigger.value
    assert err.allowed == expected_allowed(state)
    assert f"'{state.value}'" in message
    assert f"'{trigger.value}'" in message
    assert "p7 ACME" in message
    allowed_part = message.split(f"allowed from '{state.value}':", 1)[1]
    if expected_allowed(state):
        for name in expected_allowed(state):
            assert name in allowed_part
    else:
        assert "none (final state)" in allowed_part


@pytest.mark.parametrize("state", list(RM), ids=lambda s: s.letter)
def test_allowed_triggers_per_state(state: RM) -> None:
    assert sorted(t.value for t in RM_MACHINE.allowed(state)) == expected_allowed(state)


def test_initial_state_final_state_and_reachability() -> None:
    assert RM_MACHINE.initial is RM.START
    assert RM_MACHINE.reachable() == set(RM)
    assert RM_MACHINE.allowed(RM.CLOSED) == ()
    # Nothing leads back to START.
    assert all(dst is not RM.START for dst in EXPECTED.values())


def test_letters_are_the_digest_letters() -> None:
    assert {state.letter: state for state in RM} == LETTER


def test_open_states_are_the_working_states() -> None:
    assert frozenset({RM.RECEIVED, RM.VALID, RM.ACCEPTED}) == RM_OPEN
