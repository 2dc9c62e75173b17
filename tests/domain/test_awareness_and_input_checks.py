"""Issue 8, in the domain: a vendor that replied is aware (V), refusals are refusals, names
people type are checked, no event before its case opened, and one party is one participant.
Every refusal must leave the case exactly as it was."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cvdesk.domain.case import Case
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.em import EM, ConsentTrigger
from cvdesk.domain.errors import DomainError, IllegalTransition, InvalidInput
from cvdesk.domain.events import Event, EventType
from cvdesk.domain.model import (
    TLP,
    AttemptOutcome,
    Channel,
    Credit,
    Direction,
    Message,
    Role,
    SignalKind,
)
from cvdesk.domain.policy import Policy
from cvdesk.domain.rm import RM, RMTrigger
from cvdesk.troubleshoot.rules import public_before_vendor

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
A = "desk"
EMAIL = Channel.EMAIL
SENT, ACK = AttemptOutcome.SENT, AttemptOutcome.ACKNOWLEDGED
CASE_ID = "CVD-2026-0007"


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def people() -> tuple[Case, int, int, int]:
    """Reporter p1, vendors p2 Acme (psirt@acme.example) and p3 Globex, all at T0."""
    case = Case.open(CASE_ID, "Overflow", TLP.AMBER, at=T0, actor=A)
    r = case.add_participant("Rita", [Role.REPORTER, Role.FINDER], at=T0, actor=A).pid
    v = case.add_participant("Acme", [Role.VENDOR], at=T0, actor=A,
                             email="psirt@acme.example").pid
    g = case.add_participant("Globex", [Role.VENDOR], at=T0, actor=A).pid
    return case, r, v, g


@contextmanager
def refused(case: Case, exc: type[DomainError], field: str | None = None,
            ) -> Iterator[pytest.ExceptionInfo[Any]]:
    before = copy.deepcopy(case)
    with pytest.raises(exc) as info:
        yield info
    assert case == before, "a refused command changed the case"
    if field is not None:
        assert isinstance(info.value, InvalidInput) and info.value.field == field


def since(case: Case, n: int) -> list[Event]:
    return case.pending[n:]


def implied_v(e: Event, pid: int, when: datetime) -> bool:
    return (e.type, e.participant, e.at, e.data) == (
        EventType.CS, pid, when, {"event": "V", "title": "vendor aware", "auto": True})


def replay_agrees(case: Case) -> None:
    again = Case.replay(case.case_id, list(case.pending))
    assert again.participants == case.participants
    assert (again.pxa, again.pxa_at, again.pxa_seq) == (case.pxa, case.pxa_at, case.pxa_seq)


# ================================================================= 2. a vendor that replied
def test_a_reply_makes_the_vendor_aware_at_the_time_of_the_reply() -> None:
    case, r, v, _ = people()
    case.contact_attempt(v, EMAIL, SENT, at=at(1), actor=A)
    assert case.participant(v).vfd == frozenset()  # a message sent is not awareness
    n = len(case.pending)
    case.contact_reply(v, EMAIL, at=at(3), actor=A)
    reply, rm, aware = since(case, n)
    assert (reply.type, rm.type) == (EventType.CONTACT_REPLY, EventType.RM)
    assert implied_v(aware, v, at(3)) and aware.seq == rm.seq + 1
    assert aware.reason == "a reply shows the vendor knows of it"
    assert case.participant(v).vfd_at == {CSEvent.V: at(3)}
    assert case.participant(v).vfd_seq == {CSEvent.V: aware.seq}
    n = len(case.pending)
    case.contact_reply(v, EMAIL, at=at(4), actor=A)  # aware already: nothing more implied
    assert [e.type for e in since(case, n)] == [EventType.CONTACT_REPLY]
    n = len(case.pending)
    case.contact_reply(r, EMAIL, at=at(4), actor=A)  # V is a vendor's event only
    assert [e.type for e in since(case, n)] == [EventType.CONTACT_REPLY, EventType.RM]
    assert case.participant(r).vfd == frozenset()
    replay_agrees(case)


def test_rm_received_or_an_acknowledgement_makes_the_vendor_aware() -> None:
    case, _, v, g = people()
    n = len(case.pending)
    case.rm(g, RMTrigger.RECEIVE, at=at(2), actor=A)
    rm, aware = since(case, n)
    assert rm.type is EventType.RM and implied_v(aware, g, at(2))
    assert aware.reason == "the vendor holds the report (RM received)"
    n = len(case.pending)
    case.contact_attempt(v, EMAIL, ACK, at=at(5), actor=A)
    attempt, rm, aware = since(case, n)
    assert attempt.type is EventType.CONTACT_ATTEMPT and implied_v(aware, v, at(5))
    replay_agrees(case)


def test_a_log_from_before_the_rule_gets_v_with_its_next_rm_step() -> None:
    """An RM 'received' stored without the V it implies (older logs) is made good by the
    vendor's next RM step or reply, at that time."""
    case, _, _, g = people()
    case.rm(g, RMTrigger.RECEIVE, at=at(2), actor=A)
    older = [e for e in case.pending if e.type is not EventType.CS]
    old = Case.replay(CASE_ID, older)
    assert old.participant(g).rm is RM.RECEIVED and old.participant(g).vfd == frozenset()
    n = len(old.pending)
    old.rm(g, RMTrigger.VALIDATE, at=at(3), actor=A)
    _, aware = since(old, n)
    assert implied_v(aware, g, at(3))


def test_recording_v_by_hand_after_a_reply_is_refused() -> None:
    case, _, v, _ = people()
    case.contact_reply(v, EMAIL, at=at(3), actor=A)
    with refused(case, IllegalTransition) as info:
        case.record_cs(CSEvent.V, v, at=at(4), actor=A)
    assert info.value.allowed == ["A", "F", "P", "X"]


def test_p_after_a_reply_neither_moves_v_nor_reads_as_public_before_vendor() -> None:
    case, _, v, g = people()
    case.contact_reply(v, EMAIL, at=at(3), actor=A)
    n = len(case.pending)
    case.record_cs(CSEvent.P, None, at=at(10), actor=A)
    p_event, g_aware = since(case, n)  # only Globex, which never replied, is implied now
    assert p_event.data["event"] == "P" and implied_v(g_aware, g, at(10))
    assert case.participant(v).vfd_at[CSEvent.V] == at(3)  # not back-dated to P's time
    assert (case.aware_before_public(case.participant(v)),
            case.aware_before_public(case.participant(g))) == (True, False)
    found = public_before_vendor.check(case, Policy(), at(11)).findings
    assert [f.subject for f in found] == [g]


def test_when_v_and_p_share_a_time_the_log_order_decides() -> None:
    """README: 'When two events carry the same time ... their order in the log (the
    sequence number) says which came first.'"""
    case, _, v, g = people()
    case.contact_reply(v, EMAIL, at=at(5), actor=A)
    case.record_cs(CSEvent.P, None, at=at(5), actor=A)
    acme, globex = case.participant(v), case.participant(g)
    assert acme.vfd_at[CSEvent.V] == globex.vfd_at[CSEvent.V] == case.pxa_at[CSEvent.P]
    assert acme.vfd_seq[CSEvent.V] < case.pxa_seq[CSEvent.P] < globex.vfd_seq[CSEvent.V]
    assert case.aware_before_public(acme) is True
    assert case.aware_before_public(globex) is False
    found = public_before_vendor.check(case, Policy(), at(6)).findings
    assert [f.subject for f in found] == [g]
    assert found[0].evidence[0] == "P (public aware) 2026-03-07; V (vendor aware) 2026-03-07"
    replay_agrees(case)


def test_a_reply_dated_before_p_but_entered_after_it_shows_earlier_awareness() -> None:
    case, _, v, _ = people()
    case.record_cs(CSEvent.P, None, at=at(10), actor=A)  # implies V for both at P's time
    n = len(case.pending)
    case.contact_reply(v, EMAIL, at=at(4), actor=A)  # back-dated: the vendor knew at day 4
    assert [e.type for e in since(case, n)] == [EventType.CONTACT_REPLY, EventType.RM]
    assert case.aware_before_public(case.participant(v)) is True
    found = public_before_vendor.check(case, Policy(), at(11)).findings
    assert [f.subject for f in found] == [3]


# ================================================================= 4. refusals are refusals
@pytest.mark.parametrize("trigger", list(ConsentTrigger))
def test_consent_changes_without_an_embargo_are_refused_transitions(
        trigger: ConsentTrigger) -> None:
    case, _, v, _ = people()
    with refused(case, IllegalTransition) as info:
        case.consent(v, trigger, at=at(1), actor=A)
    err = info.value
    assert (err.model, err.state, err.trigger, err.allowed) == (
        "EM (embargo management)", "none", f"embargo {trigger.value}", ["propose"])
    # after the embargo has ended there is nothing to consent to either
    case.propose_embargo(at(30), at=at(1), actor=A)
    case.accept_embargo(at=at(1), actor=A)
    case.terminate_embargo(at=at(2), actor=A)
    with refused(case, IllegalTransition) as info:
        case.consent(v, trigger, at=at(3), actor=A)
    assert info.value.state == "exited"
    assert str(info.value).endswith("allowed from 'exited': none (final state)")


def test_the_longest_embargo_counts_from_the_first_vendor_contact_attempt() -> None:
    case, _, v, g = people()
    with refused(case, InvalidInput, "end") as info:  # no attempt yet: from the proposal
        case.propose_embargo(at(2) + timedelta(days=90, seconds=1), at=at(2), actor=A,
                             max_days=90)
    assert str(info.value) == (
        "end: embargo end 2026-06-02T09:00:01+00:00 is more than the maximum of 90 days "
        "(policy embargo_max_days) after the proposal (2026-03-04T09:00:00+00:00); the "
        "latest end allowed is 2026-06-02T09:00:00+00:00")
    case.contact_attempt(g, EMAIL, SENT, at=at(3), actor=A)
    case.contact_attempt(v, EMAIL, SENT, at=at(1), actor=A)
    latest = at(1) + timedelta(days=90)
    with refused(case, InvalidInput, "end") as info:
        case.propose_embargo(latest + timedelta(minutes=1), at=at(4), actor=A, max_days=90)
    assert "after the first vendor contact attempt (2026-03-03T09:00:00+00:00)" in str(
        info.value)
    case.propose_embargo(latest, at=at(4), actor=A, max_days=90)
    case.accept_embargo(at=at(4), actor=A)
    with refused(case, InvalidInput, "end"):  # a revision is held to the same maximum
        case.propose_embargo(latest + timedelta(days=1), at=at(5), actor=A, max_days=90)
    assert case.em is EM.ACTIVE
    case.propose_embargo(latest + timedelta(days=1), at=at(5), actor=A)  # unchecked: None


@pytest.mark.parametrize("command, field", [
    (lambda c: c.rm(2, "bogus", at=at(1), actor=A), "trigger"),  # type: ignore[arg-type]
    (lambda c: c.consent(2, "bogus", at=at(1), actor=A), "trigger"),  # type: ignore[arg-type]
    (lambda c: c.record_cs("Q", None, at=at(1), actor=A), "event"),  # type: ignore[arg-type]
    (lambda c: c.contact_attempt(2, "pigeon", SENT, at=at(1), actor=A), "channel"),  # type: ignore[arg-type]
    (lambda c: c.contact_attempt(2, EMAIL, "maybe", at=at(1), actor=A), "outcome"),  # type: ignore[arg-type]
    (lambda c: c.contact_reply(2, "pigeon", at=at(1), actor=A), "channel"),  # type: ignore[arg-type]
    (lambda c: c.observe("rumour", at=at(1), actor=A), "kind"),  # type: ignore[arg-type]
    (lambda c: c.add_participant("X", ["hacker"], at=at(1), actor=A), "role"),  # type: ignore[list-item]
    (lambda c: c.log_message(Message("m", Direction.INBOUND, at(1), EMAIL, "s", "b"), actor=A,
                             flags={"rumour": ["x"]}), "flags"),
    (lambda c: c.log_message(Message("m", "sideways", at(1), EMAIL, "s", "b"),  # type: ignore[arg-type]
                             actor=A), "direction"),
    (lambda c: c.credit(Credit("Rita", "hero", "found it", True), at=at(1), actor=A),  # type: ignore[arg-type]
     "role"),
], ids=["rm", "consent", "cs", "channel", "outcome", "reply-channel", "observe", "role",
        "flags", "direction", "credit-role"])
def test_unknown_names_are_input_errors_that_change_nothing(command: Any, field: str) -> None:
    case, *_ = people()
    with refused(case, InvalidInput, field) as info:
        command(case)
    assert "is not a known" in str(info.value) and "one of:" in str(info.value)


def test_an_unknown_tlp_is_an_input_error() -> None:
    with pytest.raises(InvalidInput) as info:
        Case.open(CASE_ID, "t", "PURPLE", at=T0, actor=A)  # type: ignore[arg-type]
    assert info.value.field == "tlp" and "AMBER+STRICT" in str(info.value)


# ================================================================= 5. not before the opening
@pytest.mark.parametrize("command", [
    lambda c: c.contact_attempt(2, EMAIL, SENT, at=at(-1), actor=A),
    lambda c: c.contact_reply(2, EMAIL, at=at(-1), actor=A),
    lambda c: c.rm(2, RMTrigger.RECEIVE, at=at(-1), actor=A),
    lambda c: c.record_cs(CSEvent.P, None, at=at(-1), actor=A),
    lambda c: c.observe(SignalKind.LEAK, at=at(-1), actor=A),
    lambda c: c.add_participant("Late", [Role.VENDOR], at=at(-1), actor=A),
    lambda c: c.note("x", at=at(-1), actor=A),
], ids=["attempt", "reply", "rm", "cs", "observe", "participant", "note"])
def test_no_event_is_dated_before_its_case_opened(command: Any) -> None:
    case, *_ = people()
    with refused(case, InvalidInput, "at") as info:
        command(case)
    assert str(info.value).startswith(
        "at: 2026-03-01T09:00:00+00:00 is before CVD-2026-0007 was opened "
        "(2026-03-02T09:00:00+00:00)")
    case.contact_attempt(2, EMAIL, SENT, at=T0, actor=A)  # the opening instant itself is fine


# ================================================================= 6. one party, once
def test_the_same_name_or_address_twice_is_refused_with_a_pointer() -> None:
    case, *_ = people()
    with refused(case, InvalidInput, "name") as info:
        case.add_participant("  aCME ", [Role.DEPLOYER], at=at(1), actor=A)
    assert str(info.value) == ("name: 'aCME' is already on the case as p2 (Acme); name that "
                               "participant instead")
    with refused(case, InvalidInput, "email") as info:
        case.add_participant("Acme PSIRT", [Role.VENDOR], at=at(1), actor=A,
                             email=" PSIRT@acme.EXAMPLE ")
    assert str(info.value) == ("email: address PSIRT@acme.EXAMPLE is already on the case as p2 "
                               "(Acme); name that participant instead")
    case.add_participant("Initech", [Role.VENDOR], at=at(1), actor=A)  # no address: fine
    case.add_participant("Umbrella", [Role.VENDOR], at=at(1), actor=A)
