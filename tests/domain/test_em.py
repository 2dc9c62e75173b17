"""EM (embargo management, Vultron) and the per-participant embargo consent machine.

Both expected tables are written out here, independently of ``EM_TABLE`` and
``CONSENT_TABLE``.  EM from the digest: N->P, P->P, A->R, R->R propose;
P->N, R->A reject; P->A, R->A accept; A->X, R->X terminate.  Consent (em.py):
a participant is invited (from no-embargo, declined or lapsed), signs or declines
an invitation, an invitation can be withdrawn, and a signature lapses when the
embargo ends.
"""

from __future__ import annotations

from itertools import product

import pytest

from cvdesk.domain.em import (
    CONSENT_MACHINE,
    EM,
    EM_IN_FORCE,
    EM_MACHINE,
    Consent,
    ConsentTrigger,
    EMTrigger,
)
from cvdesk.domain.errors import IllegalTransition

EM_LETTER = {"N": EM.NONE, "P": EM.PROPOSED, "A": EM.ACTIVE, "R": EM.REVISE, "X": EM.EXITED}

_EM_DIGEST = """
N P propose
P P propose
A R propose
R R propose
P N reject
R A reject
P A accept
R A accept
A X terminate
R X terminate
"""

EM_EXPECTED: dict[tuple[EM, EMTrigger], EM] = {
    (EM_LETTER[src], EMTrigger(trigger)): EM_LETTER[dst]
    for src, dst, trigger in (line.split() for line in _EM_DIGEST.strip().splitlines())
}

CONSENT_EXPECTED: dict[tuple[Consent, ConsentTrigger], Consent] = {
    (Consent.NO_EMBARGO, ConsentTrigger.INVITE): Consent.INVITED,
    (Consent.DECLINED, ConsentTrigger.INVITE): Consent.INVITED,
    (Consent.LAPSED, ConsentTrigger.INVITE): Consent.INVITED,
    (Consent.INVITED, ConsentTrigger.SIGN): Consent.SIGNATORY,
    (Consent.INVITED, ConsentTrigger.DECLINE): Consent.DECLINED,
    (Consent.INVITED, ConsentTrigger.WITHDRAW): Consent.NO_EMBARGO,
    (Consent.SIGNATORY, ConsentTrigger.LAPSE): Consent.LAPSED,
}

EM_PAIRS = list(product(EM, EMTrigger))
CONSENT_PAIRS = list(product(Consent, ConsentTrigger))


def _allowed(table: dict, state: object) -> list[str]:
    return sorted(t.value for (s, t) in table if s is state)


def _check_refusal(err: IllegalTransition, model: str, state: str, trigger: str,
                   allowed: list[str]) -> None:
    message = str(err)
    assert err.model.startswith(model)
    assert message.startswith(model)
    assert err.state == state
    assert err.trigger == trigger
    assert err.allowed == allowed
    assert f"'{state}'" in message
    assert f"'{trigger}'" in message
    tail = message.split(f"allowed from '{state}':", 1)[1]
    if allowed:
        for name in allowed:
            assert name in tail
    else:
        assert "none (final state)" in tail


# --------------------------------------------------------------------------- EM
def test_em_sizes() -> None:
    assert len(list(EM)) == 5
    assert len(list(EMTrigger)) == 4
    assert len(EM_PAIRS) == 20
    assert len(EM_EXPECTED) == 10


@pytest.mark.parametrize(
    ("state", "trigger"), EM_PAIRS, ids=[f"{s.letter}-{t.value}" for s, t in EM_PAIRS]
)
def test_em_every_pair(state: EM, trigger: EMTrigger) -> None:
    if (state, trigger) in EM_EXPECTED:
        assert EM_MACHINE.can(state, trigger)
        assert EM_MACHINE.next(state, trigger) is EM_EXPECTED[(state, trigger)]
        return
    assert not EM_MACHINE.can(state, trigger)
    with pytest.raises(IllegalTransition) as info:
        EM_MACHINE.next(state, trigger, subject="CVD-2025-0001")
    _check_refusal(info.value, "EM", state.value, trigger.value, _allowed(EM_EXPECTED, state))
    assert "CVD-2025-0001" in str(info.value)


@pytest.mark.parametrize("state", list(EM), ids=lambda s: s.letter)
def test_em_allowed_per_state(state: EM) -> None:
    assert sorted(t.value for t in EM_MACHINE.allowed(state)) == _allowed(EM_EXPECTED, state)


def test_em_initial_final_reachable_and_in_force() -> None:
    assert EM_MACHINE.initial is EM.NONE
    assert EM_MACHINE.reachable() == set(EM)
    assert EM_MACHINE.allowed(EM.EXITED) == ()
    assert frozenset({EM.ACTIVE, EM.REVISE}) == EM_IN_FORCE
    assert {s.letter: s for s in EM} == EM_LETTER


# ---------------------------------------------------------------------- consent
def test_consent_sizes() -> None:
    assert len(list(Consent)) == 5
    assert len(list(ConsentTrigger)) == 5
    assert len(CONSENT_PAIRS) == 25


@pytest.mark.parametrize(
    ("state", "trigger"), CONSENT_PAIRS,
    ids=[f"{s.value}-{t.value}" for s, t in CONSENT_PAIRS],
)
def test_consent_every_pair(state: Consent, trigger: ConsentTrigger) -> None:
    if (state, trigger) in CONSENT_EXPECTED:
        assert CONSENT_MACHINE.can(state, trigger)
        assert CONSENT_MACHINE.next(state, trigger) is CONSENT_EXPECTED[(state, trigger)]
        return
    assert not CONSENT_MACHINE.can(state, trigger)
    with pytest.raises(IllegalTransition) as info:
        CONSENT_MACHINE.next(state, trigger, subject="p2 Reporter")
    _check_refusal(info.value, "embargo consent", state.value, trigger.value,
                   _allowed(CONSENT_EXPECTED, state))
    assert "p2 Reporter" in str(info.value)


def test_consent_initial_and_reachable() -> None:
    assert CONSENT_MACHINE.initial is Consent.NO_EMBARGO
    assert CONSENT_MACHINE.reachable() == set(Consent)
    # Every consent state can be left (none is final): a lapsed or declined party
    # can be invited again.
    assert all(CONSENT_MACHINE.allowed(s) for s in Consent)
