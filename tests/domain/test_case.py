"""The Case aggregate: commands check the rules, emit events, and a replay of the log agrees.

Every time here is explicit and time-zone aware; nothing reads the wall clock.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from cvdesk.domain import cs
from cvdesk.domain.case import Case, default_embargo_end
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.em import EM, Consent, ConsentTrigger
from cvdesk.domain.errors import DomainError, IllegalTransition, InvalidInput, NotFound
from cvdesk.domain.events import Event, EventType
from cvdesk.domain.model import (
    TLP,
    AttemptOutcome,
    CaseStatus,
    Channel,
    Direction,
    Message,
    Report,
    ReporterInfo,
    Role,
    Vulnerability,
)
from cvdesk.domain.policy import Policy, leak_risk
from cvdesk.domain.rm import RM, RMTrigger

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
CEST = timezone(timedelta(hours=2))
ACTOR = "desk@example.org"
CASE_ID = "CVD-2025-0001"


def at(hours: float = 0, days: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours)


def new_case() -> Case:
    return Case.open(CASE_ID, "Heap overflow in libfoo", TLP.AMBER, at=T0, actor=ACTOR)


def case_with_people() -> tuple[Case, int, int, int]:
    """A case with a vendor (p1), a reporter (p2) and a second vendor (p3)."""
    case = new_case()
    vendor = case.add_participant("ACME", [Role.VENDOR], at=at(1), actor=ACTOR).pid
    reporter = case.add_participant("Ann Finder", [Role.REPORTER, Role.FINDER], at=at(1),
                                    actor=ACTOR).pid
    vendor2 = case.add_participant("Globex", [Role.VENDOR], at=at(1), actor=ACTOR).pid
    return case, vendor, reporter, vendor2


@contextmanager
def refused(case: Case, exc: type[Exception] = DomainError,
            field: str | None = None) -> Iterator[pytest.ExceptionInfo[Any]]:
    """The command inside must raise ``exc`` and leave the case exactly as it was."""
    before = copy.deepcopy(case)
    with pytest.raises(exc) as info:
        yield info
    assert len(case.pending) == len(before.pending), "a refused command appended events"
    assert case == before, "a refused command changed the case"
    if field is not None:
        assert isinstance(info.value, InvalidInput)
        assert info.value.field == field


def new_events(case: Case, since: int) -> list[Event]:
    return case.pending[since:]


def replayed(case: Case) -> Case:
    return Case.replay(case.case_id, list(case.pending))


def assert_replay_agrees(case: Case) -> None:
    again = replayed(case)
    assert again.participants == case.participants
    assert (again.em, again.em_at, again.embargo_end, again.proposed_end) == (
        case.em, case.em_at, case.embargo_end, case.proposed_end)
    assert (again.pxa, again.cs_at) == (case.pxa, case.cs_at)
    again.pending = list(case.pending)
    assert again == case


# =========================================================================== opening
def test_open_case() -> None:
    case = new_case()
    assert case.case_id == CASE_ID
    assert case.title == "Heap overflow in libfoo"
    assert case.tlp is TLP.AMBER
    assert case.status is CaseStatus.OPEN
    assert case.opened_at == T0
    assert case.em is EM.NONE
    assert case.pxa == frozenset()
    assert case.participants == {}
    assert case.seq == 1
    [event] = case.pending
    assert event.type is EventType.CASE_OPENED
    assert event.seq == 1
    assert event.at == T0
    assert event.actor == ACTOR
    assert event.data == {"case_id": CASE_ID, "title": "Heap overflow in libfoo", "tlp": "AMBER"}


def test_open_refuses_empty_title_naive_time_and_empty_actor() -> None:
    with pytest.raises(InvalidInput) as info:
        Case.open(CASE_ID, "  ", TLP.RED, at=T0, actor=ACTOR)
    assert info.value.field == "title"
    with pytest.raises(InvalidInput) as info:
        Case.open(CASE_ID, "t", TLP.RED, at=datetime(2025, 3, 3, 9), actor=ACTOR)
    assert info.value.field == "at"
    with pytest.raises(InvalidInput) as info:
        Case.open(CASE_ID, "t", TLP.RED, at=T0, actor=" ")
    assert info.value.field == "actor"


def test_receive_report_and_vulnerability() -> None:
    case = new_case()
    report = Report(title="Overflow", description="long input crashes the parser",
                    reporter=ReporterInfo(name="Ann Finder", email="ann@example.org"))
    case.receive_report("TRK-1", report, at=at(1), actor=ACTOR)
    assert case.reports == [{"tracking_id": "TRK-1", "received_at": at(1), "title": "Overflow"}]
    case.add_vulnerability(Vulnerability(title="Overflow", cve="CVE-2025-12345"), at=at(2),
                           actor=ACTOR)
    with refused(case, field="cve"):
        case.add_vulnerability(Vulnerability(title="Again", cve="CVE-2025-12345"), at=at(3),
                               actor=ACTOR)
    assert [v.cve for v in case.vulnerabilities] == ["CVE-2025-12345"]
    assert_replay_agrees(case)


# ====================================================================== participants
def test_add_participants() -> None:
    case = new_case()
    vendor = case.add_participant(" ACME ", [Role.VENDOR], at=at(1), actor=ACTOR,
                                  organization="ACME Inc.", email="psirt@acme.example")
    reporter = case.add_participant("Ann", ["reporter", "finder"], at=at(2), actor=ACTOR)
    assert (vendor.pid, reporter.pid) == (1, 2)
    assert vendor.name == "ACME"
    assert vendor.is_vendor and not reporter.is_vendor
    assert reporter.roles == frozenset({Role.REPORTER, Role.FINDER})
    assert vendor.added_at == at(1)
    assert vendor.organization == "ACME Inc."
    assert vendor.label == "p1 ACME"
    assert vendor.rm is RM.START and vendor.rm_at is None
    assert vendor.consent is Consent.NO_EMBARGO
    assert vendor.vfd == frozenset()
    assert [p.pid for p in case.vendors] == [1]
    assert case.participant(2) is reporter
    assert case.find_participant("p1") is vendor
    assert case.find_participant("2") is reporter
    assert case.find_participant("acme") is vendor
    event = case.pending[-1]
    assert event.type is EventType.PARTICIPANT_ADDED
    assert event.participant == 2
    assert event.data["roles"] == ["finder", "reporter"]
    assert_replay_agrees(case)


def test_add_participant_refusals() -> None:
    case = new_case()
    case.add_participant("ACME", [Role.VENDOR], at=at(1), actor=ACTOR)
    with refused(case, field="name"):
        case.add_participant("  ", [Role.VENDOR], at=at(2), actor=ACTOR)
    with refused(case, field="role"):
        case.add_participant("Bob", [], at=at(2), actor=ACTOR)
    with refused(case, field="at"):
        case.add_participant("Bob", [Role.OTHER], at=datetime(2025, 3, 3, 12), actor=ACTOR)
    with refused(case, field="actor"):
        case.add_participant("Bob", [Role.OTHER], at=at(2), actor="")
    with refused(case, NotFound):
        case.participant(9)
    with refused(case, NotFound):
        case.find_participant("nobody")


def test_find_participant_ambiguous_name() -> None:
    """A log written before names were unique may hold two participants of one name."""
    case = new_case()
    case.add_participant("Sam", [Role.VENDOR], at=at(1), actor=ACTOR)
    case.add_participant("Samuel", [Role.REPORTER], at=at(1), actor=ACTOR)
    last = case.pending[-1]
    old = Case.replay(CASE_ID, [*case.pending[:-1],
                                dataclasses.replace(last, data={**last.data, "name": "sam"})])
    with pytest.raises(InvalidInput) as info:
        old.find_participant("SAM")
    assert info.value.field == "participant"
    assert "p1" in str(info.value) and "p2" in str(info.value)


# ================================================================================ RM
def test_rm_transitions_per_participant() -> None:
    case, vendor, reporter, _ = case_with_people()
    path = [(RMTrigger.RECEIVE, RM.RECEIVED), (RMTrigger.VALIDATE, RM.VALID),
            (RMTrigger.DEFER, RM.DEFERRED), (RMTrigger.ACCEPT, RM.ACCEPTED),
            (RMTrigger.CLOSE, RM.CLOSED)]
    for step, (trigger, state) in enumerate(path, start=2):
        n = len(case.pending)
        case.rm(vendor, trigger, at=at(step), actor=ACTOR, reason="triage")
        assert case.participant(vendor).rm is state
        assert case.participant(vendor).rm_at == at(step)
        event, *implied = new_events(case, n)
        if trigger is RMTrigger.RECEIVE:  # a vendor that has the report is aware (V)
            [v] = implied
            assert (v.type, v.participant, v.data["event"], v.data["auto"], v.at) == (
                EventType.CS, vendor, "V", True, at(step))
        else:
            assert implied == []
        assert event.type is EventType.RM
        assert event.participant == vendor
        assert event.data["trigger"] == trigger.value
        assert event.data["to"] == state.value
        assert event.reason == "triage"
    # The other participant is untouched.
    assert case.participant(reporter).rm is RM.START
    case.rm(reporter, RMTrigger.RECEIVE, at=at(3), actor=ACTOR)
    case.rm(reporter, RMTrigger.INVALIDATE, at=at(3), actor=ACTOR)
    case.rm(reporter, RMTrigger.VALIDATE, at=at(4), actor=ACTOR)
    assert case.participant(reporter).rm is RM.VALID
    assert_replay_agrees(case)


def test_rm_refused_names_model_state_and_allowed_and_changes_nothing() -> None:
    case, vendor, _, _ = case_with_people()
    with refused(case, IllegalTransition) as info:
        case.rm(vendor, RMTrigger.VALIDATE, at=at(2), actor=ACTOR)
    message = str(info.value)
    assert message.startswith("RM")
    assert "'start'" in message
    assert "receive" in message.split("allowed from 'start':")[1]
    assert "p1 ACME" in message
    assert case.participant(vendor).rm is RM.START

    case.rm(vendor, RMTrigger.RECEIVE, at=at(2), actor=ACTOR)
    case.rm(vendor, RMTrigger.VALIDATE, at=at(3), actor=ACTOR)
    case.rm(vendor, RMTrigger.ACCEPT, at=at(4), actor=ACTOR)
    case.rm(vendor, RMTrigger.CLOSE, at=at(5), actor=ACTOR)
    with refused(case, IllegalTransition) as info:
        case.rm(vendor, RMTrigger.ACCEPT, at=at(6), actor=ACTOR)
    assert "none (final state)" in str(info.value)
    with refused(case, NotFound):
        case.rm(42, RMTrigger.RECEIVE, at=at(6), actor=ACTOR)
    with refused(case, (ValueError, DomainError)):  # type: ignore[arg-type]
        case.rm(vendor, "explode", at=at(6), actor=ACTOR)  # type: ignore[arg-type]


def test_rm_time_runs_forward_per_participant() -> None:
    case, vendor, reporter, _ = case_with_people()
    case.rm(vendor, RMTrigger.RECEIVE, at=at(10), actor=ACTOR)
    with refused(case, field="at") as info:
        case.rm(vendor, RMTrigger.VALIDATE, at=at(9), actor=ACTOR)
    assert "RM" in str(info.value)
    # The same instant is fine, as is another zone for a later instant.
    case.rm(vendor, RMTrigger.VALIDATE, at=at(10), actor=ACTOR)
    case.rm(vendor, RMTrigger.ACCEPT, at=at(11).astimezone(CEST), actor=ACTOR)
    # Another participant's RM has its own clock.
    case.rm(reporter, RMTrigger.RECEIVE, at=at(2), actor=ACTOR)
    with refused(case, field="at"):
        case.rm(vendor, RMTrigger.CLOSE, at=datetime(2025, 3, 3, 23), actor=ACTOR)
    assert_replay_agrees(case)


# ============================================================================ embargo
def test_propose_embargo_invites_everyone() -> None:
    case, vendor, reporter, vendor2 = case_with_people()
    end = at(days=45)
    n = len(case.pending)
    case.propose_embargo(end, at=at(2), actor=ACTOR, reason="default 45 days")
    assert case.em is EM.PROPOSED
    assert case.proposed_end == end
    assert case.embargo_end is None
    assert case.em_at == at(2)
    events = new_events(case, n)
    assert events[0].type is EventType.EM
    assert events[0].data == {"trigger": "propose", "from": "none", "to": "proposed",
                              "end": end.isoformat()}
    assert [e.type for e in events[1:]] == [EventType.CONSENT] * 3
    assert {e.participant for e in events[1:]} == {vendor, reporter, vendor2}
    assert all(p.consent is Consent.INVITED for p in case.participants.values())
    # Proposing again while proposed (P->P) replaces the date and re-invites nobody.
    n = len(case.pending)
    case.propose_embargo(at(days=30), at=at(3), actor=ACTOR)
    assert case.em is EM.PROPOSED
    assert case.proposed_end == at(days=30)
    assert len(new_events(case, n)) == 1
    assert_replay_agrees(case)


def test_propose_embargo_with_explicit_invitations() -> None:
    case, vendor, reporter, vendor2 = case_with_people()
    case.propose_embargo(at(days=45), at=at(2), actor=ACTOR, invite=[vendor])
    assert case.participant(vendor).consent is Consent.INVITED
    assert case.participant(reporter).consent is Consent.NO_EMBARGO
    assert case.participant(vendor2).consent is Consent.NO_EMBARGO


def test_propose_embargo_end_must_be_aware_and_after_at() -> None:
    case, *_ = case_with_people()
    with refused(case, field="end") as info:
        case.propose_embargo(datetime(2025, 5, 1, 12), at=at(2), actor=ACTOR)
    assert "time zone" in str(info.value)
    with refused(case, field="end"):
        case.propose_embargo(at(2), at=at(2), actor=ACTOR)
    with refused(case, field="end"):
        case.propose_embargo(at(1), at=at(2), actor=ACTOR)
    # After `at` in another zone is fine: 12:00+02:00 is 10:00Z, after 09:00Z + 0.5 h.
    case.propose_embargo(datetime(2025, 3, 3, 12, tzinfo=CEST), at=at(0.5), actor=ACTOR)
    assert case.em is EM.PROPOSED


def test_propose_embargo_time_runs_forward() -> None:
    case, *_ = case_with_people()
    case.propose_embargo(at(days=45), at=at(5), actor=ACTOR)
    with refused(case, field="at"):
        case.propose_embargo(at(days=40), at=at(4), actor=ACTOR)
    with refused(case, field="at"):
        case.accept_embargo(at=at(4), actor=ACTOR)


def test_accept_embargo() -> None:
    case, *_ = case_with_people()
    case.propose_embargo(at(days=45), at=at(2), actor=ACTOR)
    case.accept_embargo(at=at(3), actor=ACTOR)
    assert case.em is EM.ACTIVE
    assert case.embargo_end == at(days=45)
    assert case.proposed_end is None
    assert case.em_at == at(3)
    assert case.pending[-1].data == {"trigger": "accept", "from": "proposed", "to": "active"}
    with refused(case, IllegalTransition) as info:
        case.accept_embargo(at=at(4), actor=ACTOR)
    assert str(info.value).startswith("EM")
    assert "'active'" in str(info.value)
    assert_replay_agrees(case)


def test_em_refusals_name_the_model_and_change_nothing() -> None:
    case, *_ = case_with_people()
    for command in (case.accept_embargo, case.reject_embargo, case.terminate_embargo):
        with refused(case, IllegalTransition) as info:
            command(at=at(2), actor=ACTOR)
        assert str(info.value).startswith("EM")
        assert "'none'" in str(info.value)
        assert "propose" in str(info.value).split("allowed from 'none':")[1]


def test_reject_proposal_returns_to_none_and_withdraws_invitations() -> None:
    case, vendor, reporter, vendor2 = case_with_people()
    case.propose_embargo(at(days=45), at=at(2), actor=ACTOR)
    case.consent(vendor, ConsentTrigger.DECLINE, at=at(3), actor=ACTOR)
    n = len(case.pending)
    case.reject_embargo(at=at(4), actor=ACTOR, reason="vendor wants 90 days")
    assert case.em is EM.NONE
    assert case.proposed_end is None
    assert case.embargo_end is None
    events = new_events(case, n)
    assert events[0].data == {"trigger": "reject", "from": "proposed", "to": "none"}
    withdrawn = {e.participant for e in events[1:]
                 if e.type is EventType.CONSENT and e.data["trigger"] == "withdraw"}
    assert withdrawn == {reporter, vendor2}
    assert case.participant(reporter).consent is Consent.NO_EMBARGO
    assert case.participant(vendor2).consent is Consent.NO_EMBARGO
    assert case.participant(vendor).consent is Consent.DECLINED
    # A new proposal invites the declined party again.
    case.propose_embargo(at(days=90), at=at(5), actor=ACTOR)
    assert all(p.consent is Consent.INVITED for p in case.participants.values())
    assert_replay_agrees(case)


def test_revise_then_reject_keeps_the_old_end() -> None:
    case, *_ = case_with_people()
    case.propose_embargo(at(days=45), at=at(2), actor=ACTOR)
    case.accept_embargo(at=at(3), actor=ACTOR)
    case.propose_embargo(at(days=60), at=at(4), actor=ACTOR)
    assert case.em is EM.REVISE
    assert case.embargo_end == at(days=45)
    assert case.proposed_end == at(days=60)
    case.propose_embargo(at(days=75), at=at(5), actor=ACTOR)  # R->R
    assert case.em is EM.REVISE
    assert case.proposed_end == at(days=75)
    case.reject_embargo(at=at(6), actor=ACTOR)
    assert case.em is EM.ACTIVE
    assert case.embargo_end == at(days=45)
    assert case.proposed_end is None
    assert_replay_agrees(case)


def test_revise_then_accept_adopts_the_new_end() -> None:
    case, *_ = case_with_people()
    case.propose_embargo(at(days=45), at=at(2), actor=ACTOR)
    case.accept_embargo(at=at(3), actor=ACTOR)
    case.propose_embargo(at(days=20), at=at(4), actor=ACTOR)
    case.accept_embargo(at=at(5), actor=ACTOR)
    assert case.em is EM.ACTIVE
    assert case.embargo_end == at(days=20)
    assert case.proposed_end is None
    assert_replay_agrees(case)


def test_terminate_lapses_signatories_and_withdraws_invitations() -> None:
    case, vendor, reporter, vendor2 = case_with_people()
    case.propose_embargo(at(days=45), at=at(2), actor=ACTOR)
    case.consent(vendor, ConsentTrigger.SIGN, at=at(3), actor=ACTOR)
    case.consent(reporter, ConsentTrigger.SIGN, at=at(3), actor=ACTOR)
    case.accept_embargo(at=at(4), actor=ACTOR)
    n = len(case.pending)
    case.terminate_embargo(at=at(5), actor=ACTOR, reason="exploited in the wild")
    assert case.em is EM.EXITED
    assert case.embargo_end == at(days=45)
    events = new_events(case, n)
    assert events[0].data == {"trigger": "terminate", "from": "active", "to": "exited"}
    assert case.participant(vendor).consent is Consent.LAPSED
    assert case.participant(reporter).consent is Consent.LAPSED
    assert case.participant(vendor2).consent is Consent.NO_EMBARGO
    # EXITED is final.
    with refused(case, IllegalTransition) as info:
        case.propose_embargo(at(days=50), at=at(6), actor=ACTOR)
    assert "none (final state)" in str(info.value)
    assert_replay_agrees(case)


def test_consent_sign_and_decline_per_participant() -> None:
    case, vendor, reporter, vendor2 = case_with_people()
    case.propose_embargo(at(days=45), at=at(2), actor=ACTOR)
    n = len(case.pending)
    case.consent(vendor, ConsentTrigger.SIGN, at=at(3), actor=ACTOR)
    case.consent(reporter, ConsentTrigger.DECLINE, at=at(3), actor=ACTOR, reason="will publish")
    assert case.participant(vendor).consent is Consent.SIGNATORY
    assert case.participant(reporter).consent is Consent.DECLINED
    assert case.participant(vendor2).consent is Consent.INVITED
    events = new_events(case, n)
    assert [(e.participant, e.data["to"]) for e in events] == [
        (vendor, "signatory"), (reporter, "declined")]
    # A declined party must be invited again before it can sign.
    with refused(case, IllegalTransition) as info:
        case.consent(reporter, ConsentTrigger.SIGN, at=at(4), actor=ACTOR)
    assert str(info.value).startswith("embargo consent")
    assert "'declined'" in str(info.value)
    case.consent(reporter, ConsentTrigger.INVITE, at=at(4), actor=ACTOR)
    case.consent(reporter, ConsentTrigger.SIGN, at=at(5), actor=ACTOR)
    assert case.participant(reporter).consent is Consent.SIGNATORY
    # A participant who joins later starts outside the embargo and can be invited.
    late = case.add_participant("CERT-X", [Role.COORDINATOR], at=at(6), actor=ACTOR).pid
    assert case.participant(late).consent is Consent.NO_EMBARGO
    case.consent(late, ConsentTrigger.INVITE, at=at(7), actor=ACTOR)
    assert case.participant(late).consent is Consent.INVITED
    assert_replay_agrees(case)


def test_consent_refused_when_no_embargo_proposed() -> None:
    """Every consent change without an embargo proposed is a refused EM transition that
    names what is allowed instead (propose), like every other refusal."""
    case, vendor, *_ = case_with_people()
    for trigger in ConsentTrigger:
        with refused(case, IllegalTransition) as info:
            case.consent(vendor, trigger, at=at(2), actor=ACTOR)
        assert info.value.model == "EM (embargo management)"
        assert (info.value.state, info.value.allowed) == ("none", ["propose"])
        assert str(info.value) == (
            f"EM (embargo management): 'embargo {trigger.value}' is not allowed in state "
            "'none' for CVD-2025-0001; allowed from 'none': propose")
    with refused(case, NotFound):
        case.consent(99, ConsentTrigger.DECLINE, at=at(2), actor=ACTOR)


def test_consent_sign_refused_after_the_embargo_ended() -> None:
    case, vendor, *_ = case_with_people()
    case.propose_embargo(at(days=45), at=at(2), actor=ACTOR)
    case.accept_embargo(at=at(3), actor=ACTOR)
    case.terminate_embargo(at=at(4), actor=ACTOR)
    with refused(case, DomainError):
        case.consent(vendor, ConsentTrigger.INVITE, at=at(5), actor=ACTOR)


# ================================================================================ CS
def test_vendor_events_need_a_vendor_participant() -> None:
    case, vendor, reporter, _ = case_with_people()
    for event in (CSEvent.V, CSEvent.F, CSEvent.D):
        with refused(case, field="vendor") as info:
            case.record_cs(event, None, at=at(2), actor=ACTOR)
        assert "per vendor" in str(info.value)
    with refused(case, field="vendor") as info:
        case.record_cs(CSEvent.V, reporter, at=at(2), actor=ACTOR)
    assert "not a vendor" in str(info.value)
    with refused(case, NotFound):
        case.record_cs(CSEvent.V, 77, at=at(2), actor=ACTOR)
    case.record_cs(CSEvent.V, vendor, at=at(2), actor=ACTOR)
    assert case.participant(vendor).vfd == frozenset({CSEvent.V})


def test_case_events_refuse_a_vendor() -> None:
    case, vendor, *_ = case_with_people()
    for event in (CSEvent.P, CSEvent.X, CSEvent.A):
        with refused(case, field="vendor") as info:
            case.record_cs(event, vendor, at=at(2), actor=ACTOR)
        assert "case-wide" in str(info.value)


def test_vendor_cs_progress_and_labels() -> None:
    case, vendor, _, vendor2 = case_with_people()
    case.record_cs(CSEvent.V, vendor, at=at(2), actor=ACTOR)
    case.record_cs(CSEvent.F, vendor, at=at(3), actor=ACTOR)
    assert case.cs_label(vendor) == "VFdpxa"
    assert case.cs_label(vendor2) == "vfdpxa"
    case.record_cs(CSEvent.P, None, at=at(4), actor=ACTOR)
    assert case.cs_label(vendor) == "VFdPxa"
    assert case.cs_label(vendor2) == "VfdPxa"  # implied aware
    assert case.cs_label() == "Pxa"
    assert case.cs_at == at(4)
    assert_replay_agrees(case)


def test_cs_rules_refusals() -> None:
    case, vendor, _, vendor2 = case_with_people()
    with refused(case, IllegalTransition) as info:
        case.record_cs(CSEvent.F, vendor, at=at(2), actor=ACTOR)  # F before V
    message = str(info.value)
    assert message.startswith("CS")
    assert "'vfdpxa'" in message
    assert "p1 ACME" in message
    case.record_cs(CSEvent.V, vendor, at=at(2), actor=ACTOR)
    with refused(case, IllegalTransition) as info:
        case.record_cs(CSEvent.D, vendor, at=at(3), actor=ACTOR)  # D before F
    assert "'Vfdpxa'" in str(info.value)
    with refused(case, IllegalTransition):
        case.record_cs(CSEvent.V, vendor, at=at(3), actor=ACTOR)  # irreversible
    case.record_cs(CSEvent.A, None, at=at(3), actor=ACTOR)
    with refused(case, IllegalTransition):
        case.record_cs(CSEvent.A, None, at=at(4), actor=ACTOR)
    # Vendor 2 is not affected by vendor 1's progress.
    case.record_cs(CSEvent.V, vendor2, at=at(4), actor=ACTOR)
    assert case.cs_label(vendor2) == "VfdpxA"


def test_exploit_before_public_implies_public_and_vendor_awareness() -> None:
    case, vendor, _, vendor2 = case_with_people()
    case.record_cs(CSEvent.V, vendor, at=at(2), actor=ACTOR)
    n = len(case.pending)
    case.record_cs(CSEvent.X, None, at=at(3), actor=ACTOR, reason="PoC on a blog")
    events = new_events(case, n)
    assert [(e.data["event"], e.participant, e.data["auto"]) for e in events] == [
        ("X", None, False), ("P", None, True), ("V", vendor2, True)]
    assert all(e.type is EventType.CS and e.at == at(3) for e in events)
    assert case.pxa == frozenset({CSEvent.P, CSEvent.X})
    assert case.participant(vendor).vfd == frozenset({CSEvent.V})
    assert case.participant(vendor2).vfd == frozenset({CSEvent.V})
    for p in case.vendors:
        assert cs.forced_next(p.vfd | case.pxa) is None
    assert_replay_agrees(case)


def test_public_implies_every_vendor_aware() -> None:
    case, vendor, _, vendor2 = case_with_people()
    n = len(case.pending)
    case.record_cs(CSEvent.P, None, at=at(2), actor=ACTOR)
    implied = [e for e in new_events(case, n) if e.data["auto"]]
    assert {e.participant for e in implied} == {vendor, vendor2}
    assert all(e.data["event"] == "V" for e in implied)


def test_case_events_without_vendors() -> None:
    case = new_case()
    case.record_cs(CSEvent.X, None, at=at(1), actor=ACTOR)
    assert case.pxa == frozenset({CSEvent.P, CSEvent.X})
    case.record_cs(CSEvent.A, None, at=at(2), actor=ACTOR)
    assert case.cs_label() == "PXA"
    assert_replay_agrees(case)


def test_vendor_added_after_public_is_implied_aware() -> None:
    case, *_ = case_with_people()
    case.record_cs(CSEvent.P, None, at=at(2), actor=ACTOR)
    n = len(case.pending)
    late = case.add_participant("Initech", [Role.VENDOR], at=at(3), actor=ACTOR)
    events = new_events(case, n)
    assert [e.type for e in events] == [EventType.PARTICIPANT_ADDED, EventType.CS]
    assert events[1].participant == late.pid
    assert events[1].data["event"] == "V"
    assert events[1].data["auto"] is True
    assert late.vfd == frozenset({CSEvent.V})
    # A non-vendor added later gets nothing.
    n = len(case.pending)
    case.add_participant("Ann", [Role.REPORTER], at=at(4), actor=ACTOR)
    assert len(new_events(case, n)) == 1
    assert_replay_agrees(case)


def test_late_vendor_history_reads_as_aware_since_public() -> None:
    """A vendor joining after P and A: in log order its events read P, A, V, which the
    single-vendor model refuses (V must follow P at once); read with the implied V at P,
    as the domain presumes, the history is valid and the state rests."""
    case = new_case()
    case.record_cs(CSEvent.P, None, at=at(1), actor=ACTOR)
    case.record_cs(CSEvent.A, None, at=at(2), actor=ACTOR)
    late = case.add_participant("ACME", [Role.VENDOR], at=at(3), actor=ACTOR)
    in_log_order = [CSEvent(e.data["event"]) for e in case.pending
                    if e.type is EventType.CS and e.participant in (None, late.pid)]
    assert in_log_order == [CSEvent.P, CSEvent.A, CSEvent.V]
    assert not cs.history_is_valid(in_log_order)
    assert cs.history_is_valid([CSEvent.P, CSEvent.V, CSEvent.A])
    state = late.vfd | case.pxa
    assert state in cs.ALL_STATES
    assert cs.forced_next(state) is None
    assert case.cs_label(late.pid) == "VfdPxA"


def test_vendor_added_before_public_starts_unaware() -> None:
    case = new_case()
    case.record_cs(CSEvent.A, None, at=at(1), actor=ACTOR)
    late = case.add_participant("ACME", [Role.VENDOR], at=at(2), actor=ACTOR)
    assert late.vfd == frozenset()
    assert case.cs_label(late.pid) == "vfdpxA"


def test_cs_time_runs_forward_case_wide() -> None:
    case, vendor, _, vendor2 = case_with_people()
    case.record_cs(CSEvent.V, vendor, at=at(5), actor=ACTOR)
    with refused(case, field="at") as info:
        case.record_cs(CSEvent.V, vendor2, at=at(4), actor=ACTOR)
    assert "CS" in str(info.value)
    with refused(case, field="at"):
        case.record_cs(CSEvent.A, None, at=at(4), actor=ACTOR)
    with refused(case, field="at"):
        case.record_cs(CSEvent.A, None, at=datetime(2025, 3, 4), actor=ACTOR)
    case.record_cs(CSEvent.A, None, at=at(5), actor=ACTOR)


# ========================================================================== contacts
def test_contact_attempts_update_the_summary() -> None:
    case, vendor, *_ = case_with_people()
    case.contact_attempt(vendor, Channel.EMAIL, AttemptOutcome.SENT, at=at(10), actor=ACTOR,
                         address="psirt@acme.example")
    case.contact_attempt(vendor, Channel.EMAIL, AttemptOutcome.BOUNCED, at=at(20), actor=ACTOR)
    # Back-dated: earlier than the other attempts (not before the case opened), accepted.
    case.contact_attempt(vendor, Channel.PHONE, AttemptOutcome.NO_REPLY, at=at(0.5),
                         actor=ACTOR)
    p = case.participant(vendor)
    assert p.attempts == 3
    assert p.channels == frozenset({Channel.EMAIL, Channel.PHONE})
    assert p.first_attempt_at == at(0.5)
    assert p.last_attempt_at == at(20)
    assert p.last_attempt_outcome is AttemptOutcome.BOUNCED  # the latest one, not the last logged
    assert p.replies == 0
    assert p.rm is RM.START  # nothing shows they got it
    assert case.pending[-1].data == {"channel": "phone", "outcome": "no-reply", "address": ""}
    assert_replay_agrees(case)


def test_replies_update_the_summary_and_move_start_to_received() -> None:
    case, vendor, reporter, _ = case_with_people()
    case.contact_attempt(vendor, Channel.EMAIL, AttemptOutcome.SENT, at=at(2), actor=ACTOR)
    n = len(case.pending)
    case.contact_reply(vendor, Channel.EMAIL, at=at(30), actor=ACTOR)
    events = new_events(case, n)
    assert [e.type for e in events] == [EventType.CONTACT_REPLY, EventType.RM, EventType.CS]
    assert events[1].participant == vendor
    assert events[1].data == {"trigger": "receive", "from": "start", "to": "received"}
    assert (events[2].participant, events[2].data["event"], events[2].at) == (vendor, "V",
                                                                             at(30))
    p = case.participant(vendor)
    assert p.rm is RM.RECEIVED
    assert p.rm_at == at(30)
    # A second reply, back-dated: counted, but the latest reply stays the latest.
    n = len(case.pending)
    case.contact_reply(vendor, Channel.PHONE, at=at(5), actor=ACTOR)
    assert len(new_events(case, n)) == 1  # no second RM receive
    assert p.replies == 2
    assert p.last_reply_at == at(30)
    assert p.first_reply_at == at(5)
    assert p.attempts == 1
    assert case.participant(reporter).replies == 0
    assert_replay_agrees(case)


def test_acknowledged_attempt_counts_as_reply_and_moves_start_to_received() -> None:
    case, vendor, *_ = case_with_people()
    n = len(case.pending)
    case.contact_attempt(vendor, Channel.WEB_FORM, AttemptOutcome.ACKNOWLEDGED, at=at(3),
                         actor=ACTOR)
    assert [e.type for e in new_events(case, n)] == [EventType.CONTACT_ATTEMPT, EventType.RM,
                                                     EventType.CS]
    p = case.participant(vendor)
    assert p.rm is RM.RECEIVED
    assert p.replies == 1
    assert p.last_reply_at == at(3)
    # Once past start, no further automatic RM transition.
    case.rm(vendor, RMTrigger.VALIDATE, at=at(4), actor=ACTOR)
    n = len(case.pending)
    case.contact_attempt(vendor, Channel.EMAIL, AttemptOutcome.ACKNOWLEDGED, at=at(5),
                         actor=ACTOR)
    assert len(new_events(case, n)) == 1
    assert p.rm is RM.VALID
    assert_replay_agrees(case)


def test_back_dated_contact_attempts_are_accepted_after_later_transitions() -> None:
    case, vendor, *_ = case_with_people()
    case.rm(vendor, RMTrigger.RECEIVE, at=at(50), actor=ACTOR)
    case.propose_embargo(at(days=45), at=at(50), actor=ACTOR)
    case.contact_attempt(vendor, Channel.POST, AttemptOutcome.SENT, at=at(0.5), actor=ACTOR)
    assert case.participant(vendor).first_attempt_at == at(0.5)


def test_contact_refusals() -> None:
    case, *_ = case_with_people()
    with refused(case, NotFound):
        case.contact_attempt(9, Channel.EMAIL, AttemptOutcome.SENT, at=at(2), actor=ACTOR)
    with refused(case, NotFound):
        case.contact_reply(9, Channel.EMAIL, at=at(2), actor=ACTOR)
    with refused(case, field="at"):
        case.contact_reply(1, Channel.EMAIL, at=datetime(2025, 3, 3), actor=ACTOR)


def test_log_message_and_note() -> None:
    case, vendor, *_ = case_with_people()
    message = Message("m1", Direction.OUTBOUND, at(2), Channel.EMAIL, "Report", "Hello",
                      participant=vendor)
    case.log_message(message, actor=ACTOR)
    assert case.pending[-1].type is EventType.MESSAGE
    assert case.pending[-1].participant == vendor
    with refused(case, NotFound):
        case.log_message(Message("m2", Direction.INBOUND, at(3), Channel.EMAIL, "s", "b",
                                 participant=8), actor=ACTOR)
    case.note("called the PSIRT", at=at(3), actor=ACTOR)
    with refused(case, field="text"):
        case.note(" ", at=at(4), actor=ACTOR)
    assert_replay_agrees(case)


# ======================================================================== close/reopen
def _commands_on(case: Case) -> dict[str, Callable[[], object]]:
    t = at(10)
    report = Report(title="r", description="d", reporter=ReporterInfo(name="Ann"))
    return {
        "receive_report": lambda: case.receive_report("TRK-9", report, at=t, actor=ACTOR),
        "add_participant": lambda: case.add_participant("Zed", [Role.OTHER], at=t, actor=ACTOR),
        "rm": lambda: case.rm(1, RMTrigger.RECEIVE, at=t, actor=ACTOR),
        "propose_embargo": lambda: case.propose_embargo(at(days=45), at=t, actor=ACTOR),
        "accept_embargo": lambda: case.accept_embargo(at=t, actor=ACTOR),
        "reject_embargo": lambda: case.reject_embargo(at=t, actor=ACTOR),
        "terminate_embargo": lambda: case.terminate_embargo(at=t, actor=ACTOR),
        "consent": lambda: case.consent(1, ConsentTrigger.SIGN, at=t, actor=ACTOR),
        "record_cs": lambda: case.record_cs(CSEvent.A, None, at=t, actor=ACTOR),
        "contact_attempt": lambda: case.contact_attempt(1, Channel.EMAIL, AttemptOutcome.SENT,
                                                        at=t, actor=ACTOR),
        "contact_reply": lambda: case.contact_reply(1, Channel.EMAIL, at=t, actor=ACTOR),
        "log_message": lambda: case.log_message(
            Message("m", Direction.INBOUND, t, Channel.EMAIL, "s", "b"), actor=ACTOR),
        "add_vulnerability": lambda: case.add_vulnerability(Vulnerability(title="v"), at=t,
                                                            actor=ACTOR),
        "close": lambda: case.close(at=t, actor=ACTOR),
    }


COMMANDS = list(_commands_on(Case("x")))


@pytest.mark.parametrize("command", COMMANDS)
def test_closed_case_refuses_commands(command: str) -> None:
    case, *_ = case_with_people()
    case.propose_embargo(at(days=40), at=at(2), actor=ACTOR)
    case.close(at=at(5), actor=ACTOR, reason="done")
    assert case.status is CaseStatus.CLOSED
    assert case.closed_at == at(5)
    with refused(case, IllegalTransition) as info:
        _commands_on(case)[command]()
    message = str(info.value)
    assert message.startswith("case")
    assert "'closed'" in message
    assert "reopen" in message.split("allowed from 'closed':")[1]


@pytest.mark.parametrize("command", COMMANDS)
def test_reopened_case_takes_commands_again(command: str) -> None:
    case, *_ = case_with_people()
    case.propose_embargo(at(days=40), at=at(2), actor=ACTOR)
    if command == "terminate_embargo":
        case.accept_embargo(at=at(3), actor=ACTOR)
    case.close(at=at(5), actor=ACTOR)
    case.reopen(at=at(6), actor=ACTOR, reason="new variant")
    assert case.status is CaseStatus.OPEN
    assert case.closed_at is None
    n = len(case.pending)
    _commands_on(case)[command]()
    assert len(case.pending) > n
    assert_replay_agrees(case)


def test_reopen_only_when_closed() -> None:
    case = new_case()
    with refused(case, IllegalTransition) as info:
        case.reopen(at=at(1), actor=ACTOR)
    assert "'open'" in str(info.value)
    case.close(at=at(1), actor=ACTOR)
    case.reopen(at=at(2), actor=ACTOR)
    assert [e.type for e in case.pending[-2:]] == [EventType.CASE_CLOSED,
                                                   EventType.CASE_REOPENED]


# ============================================================================ replay
def busy_case() -> Case:
    case, vendor, reporter, vendor2 = case_with_people()
    case.contact_attempt(vendor, Channel.EMAIL, AttemptOutcome.SENT, at=at(2), actor=ACTOR)
    case.contact_attempt(vendor, Channel.PHONE, AttemptOutcome.ACKNOWLEDGED, at=at(3),
                         actor=ACTOR)
    case.contact_reply(vendor2, Channel.EMAIL, at=at(0.5), actor=ACTOR)
    case.rm(reporter, RMTrigger.RECEIVE, at=at(3), actor=ACTOR)
    case.rm(vendor, RMTrigger.VALIDATE, at=at(4), actor=ACTOR)
    case.propose_embargo(at(days=45), at=at(4), actor=ACTOR)
    case.consent(vendor, ConsentTrigger.SIGN, at=at(5), actor=ACTOR)
    case.consent(reporter, ConsentTrigger.DECLINE, at=at(5), actor=ACTOR)
    case.accept_embargo(at=at(6), actor=ACTOR)
    case.record_cs(CSEvent.F, vendor, at=at(7), actor=ACTOR)  # V came with the acknowledgement
    case.propose_embargo(at(days=30), at=at(8), actor=ACTOR)
    case.reject_embargo(at=at(9), actor=ACTOR)
    case.record_cs(CSEvent.X, None, at=at(10), actor=ACTOR)
    case.terminate_embargo(at=at(10), actor=ACTOR)
    case.add_participant("Initech", [Role.VENDOR], at=at(11), actor=ACTOR)
    case.add_vulnerability(Vulnerability(title="Overflow", cve="CVE-2025-0001"), at=at(12),
                           actor=ACTOR)
    case.note("advisory drafted", at=at(12), actor=ACTOR)
    case.close(at=at(13), actor=ACTOR)
    return case


def test_replay_reproduces_the_live_case() -> None:
    case = busy_case()
    again = Case.replay(CASE_ID, case.pending)
    assert again.participants == case.participants
    assert again.em is case.em is EM.EXITED
    assert again.pxa == case.pxa == frozenset({CSEvent.P, CSEvent.X})
    assert again.embargo_end == case.embargo_end == at(days=45)
    assert again.status is CaseStatus.CLOSED
    assert again.pending == []
    assert again.seq == case.seq == len(case.pending)
    assert_replay_agrees(case)


def test_event_sequence_numbers_are_consecutive() -> None:
    case = busy_case()
    assert [e.seq for e in case.pending] == list(range(1, len(case.pending) + 1))
    assert case.last_event_at == max(e.at for e in case.pending)


def test_replay_of_a_prefix_is_the_state_at_that_point() -> None:
    case = new_case()
    vendor = case.add_participant("ACME", [Role.VENDOR], at=at(1), actor=ACTOR).pid
    case.propose_embargo(at(days=45), at=at(2), actor=ACTOR)
    snapshot = copy.deepcopy(case)
    case.accept_embargo(at=at(3), actor=ACTOR)
    case.record_cs(CSEvent.V, vendor, at=at(4), actor=ACTOR)
    prefix = Case.replay(CASE_ID, case.pending[: len(snapshot.pending)])
    prefix.pending = snapshot.pending
    assert prefix == snapshot


# ============================================================== default end, leak risk
def test_default_embargo_end_without_attempts_counts_from_now() -> None:
    case, *_ = case_with_people()
    assert default_embargo_end(case, 45, at(2)) == at(2) + timedelta(days=45)


def test_default_embargo_end_counts_from_the_first_vendor_attempt() -> None:
    case, vendor, reporter, vendor2 = case_with_people()
    case.contact_attempt(vendor, Channel.EMAIL, AttemptOutcome.SENT, at=at(days=3), actor=ACTOR)
    case.contact_attempt(vendor2, Channel.EMAIL, AttemptOutcome.SENT, at=at(days=5),
                         actor=ACTOR)
    # A back-dated attempt is the first one; attempts to non-vendors do not count.
    case.contact_attempt(vendor2, Channel.POST, AttemptOutcome.SENT, at=at(days=1), actor=ACTOR)
    case.contact_attempt(reporter, Channel.EMAIL, AttemptOutcome.SENT, at=at(days=0.1),
                         actor=ACTOR)
    policy = Policy()
    assert policy.embargo_default_days == 45
    end = default_embargo_end(case, policy.embargo_default_days, at(days=6))
    assert end == at(days=1 + 45)


def test_default_embargo_end_refused_when_already_passed() -> None:
    case, vendor, *_ = case_with_people()
    case.contact_attempt(vendor, Channel.EMAIL, AttemptOutcome.SENT, at=at(days=1), actor=ACTOR)
    with pytest.raises(InvalidInput) as info:
        default_embargo_end(case, 45, at(days=50))
    assert info.value.field == "end"
    assert "45 days" in str(info.value)
    with pytest.raises(InvalidInput):  # exactly at the end is already too late
        default_embargo_end(case, 45, at(days=46))
    assert default_embargo_end(case, 45, at(days=45)) == at(days=46)


@pytest.mark.parametrize(
    ("parties", "risk"), [(10, 0.00995), (100, 0.0952), (1000, 0.632), (0, 0.0), (1, 0.001)]
)
def test_leak_risk(parties: int, risk: float) -> None:
    assert leak_risk(parties, 0.001) == pytest.approx(risk, abs=5e-5 if risk < 0.01 else 5e-4)


def test_leak_risk_grows_with_parties() -> None:
    risks = [leak_risk(n, 0.001) for n in range(0, 2000, 50)]
    assert risks == sorted(risks)
    assert leak_risk(10, 0.0) == 0.0
    assert leak_risk(10, 1.0) == 1.0


def test_policy_defaults_and_checks() -> None:
    policy = Policy()
    assert policy.leak_probability_per_party == 0.001
    assert (policy.ack_target_hours, policy.ack_deadline_hours) == (24, 48)
    with pytest.raises(ValueError, match="embargo_default_days"):
        Policy(embargo_default_days=100, embargo_max_days=90)
    with pytest.raises(ValueError, match="must not be negative"):
        Policy(stalled_days=-1)
    with pytest.raises(ValueError, match="leak_probability_per_party"):
        Policy(leak_probability_per_party=1.5)


# ====================================================== bugs these tests found (fixed)
def test_propose_with_unknown_invitee_changes_nothing() -> None:
    case, *_ = case_with_people()
    with refused(case, NotFound):
        case.propose_embargo(at(days=45), at=at(2), actor=ACTOR, invite=[99])


def test_revise_inviting_a_signatory_changes_nothing() -> None:
    case, vendor, *_ = case_with_people()
    case.propose_embargo(at(days=45), at=at(2), actor=ACTOR)
    case.consent(vendor, ConsentTrigger.SIGN, at=at(3), actor=ACTOR)
    case.accept_embargo(at=at(4), actor=ACTOR)
    with refused(case, DomainError):
        case.propose_embargo(at(days=60), at=at(5), actor=ACTOR, invite=[vendor])


def test_propose_embargo_refuses_naive_at() -> None:
    case, *_ = case_with_people()
    with refused(case, InvalidInput, field="at"):
        case.propose_embargo(at(days=45), at=datetime(2025, 3, 3, 12), actor=ACTOR)


@pytest.mark.parametrize("with_attempt", [True, False])
def test_default_embargo_end_refuses_naive_at(with_attempt: bool) -> None:
    case, vendor, *_ = case_with_people()
    if with_attempt:
        case.contact_attempt(vendor, Channel.EMAIL, AttemptOutcome.SENT, at=at(1), actor=ACTOR)
    with pytest.raises(InvalidInput) as info:
        default_embargo_end(case, 45, datetime(2025, 3, 4, 12))
    assert info.value.field == "at"


def test_terminate_during_revise_drops_the_pending_proposal() -> None:
    case, *_ = case_with_people()
    case.propose_embargo(at(days=45), at=at(2), actor=ACTOR)
    case.accept_embargo(at=at(3), actor=ACTOR)
    case.propose_embargo(at(days=60), at=at(4), actor=ACTOR)
    case.terminate_embargo(at=at(5), actor=ACTOR)
    assert case.em is EM.EXITED
    assert case.proposed_end is None


def test_rejected_proposal_leaves_no_signatories() -> None:
    case, vendor, *_ = case_with_people()
    case.propose_embargo(at(days=45), at=at(2), actor=ACTOR)
    case.consent(vendor, ConsentTrigger.SIGN, at=at(3), actor=ACTOR)
    case.reject_embargo(at=at(4), actor=ACTOR)
    assert case.em is EM.NONE
    assert case.participant(vendor).consent is not Consent.SIGNATORY
    case.propose_embargo(at(days=90), at=at(5), actor=ACTOR)
    assert case.participant(vendor).consent is Consent.INVITED


def test_back_dated_vendor_after_public_keeps_cs_time_forward() -> None:
    case = new_case()
    case.record_cs(CSEvent.P, None, at=at(10), actor=ACTOR)
    case.record_cs(CSEvent.A, None, at=at(11), actor=ACTOR)
    try:
        case.add_participant("ACME", [Role.VENDOR], at=at(5), actor=ACTOR)
    except InvalidInput as err:
        assert err.field == "at"
        return
    times = [e.at for e in case.pending if e.type is EventType.CS]
    assert times == sorted(times)
