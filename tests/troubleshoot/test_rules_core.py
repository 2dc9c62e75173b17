"""The first ten rules: each triggered with its exact evidence, kept quiet just below each
threshold, and judged at explicit times (time travel) around its next check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cvdesk.domain.case import Case
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.em import ConsentTrigger
from cvdesk.domain.model import TLP, AttemptOutcome, Channel, Role
from cvdesk.domain.policy import Policy
from cvdesk.domain.rm import RMTrigger
from cvdesk.troubleshoot import diagnose
from cvdesk.troubleshoot.finding import Severity
from cvdesk.troubleshoot.rules import (
    active_exploitation,
    case_stalled,
    embargo_ending,
    no_acknowledgement,
    public_before_date,
    stopped_replying,
    too_many_parties,
    vendor_declined,
    vendor_unreachable,
    vendor_unresponsive,
)

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
A = "tester"
P = Policy()
E, W, PH = Channel.EMAIL, Channel.WEB_FORM, Channel.PHONE
SECOND = timedelta(seconds=1)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def vendor_case() -> tuple[Case, int]:
    case = Case.open("CVD-2026-0042", "Case", TLP.AMBER, at=T0, actor=A)
    case.add_participant("Rita", [Role.REPORTER], at=T0, actor=A)
    return case, case.add_participant("Acme", [Role.VENDOR], at=T0, actor=A).pid


def attempt(case: Case, pid: int, when: datetime, channel: Channel = E,
            outcome: AttemptOutcome = AttemptOutcome.SENT) -> None:
    case.contact_attempt(pid, channel, outcome, at=when, actor=A)


# ------------------------------------------------------------------ 6.1 unreachable
def test_unreachable_fires_at_three_attempts_on_two_channels() -> None:
    case, v = vendor_case()
    attempt(case, v, day(0), E, AttemptOutcome.BOUNCED)
    attempt(case, v, day(1), W, AttemptOutcome.NO_REPLY)
    assert vendor_unreachable.check(case, P, day(30)).findings == []  # 2 attempts
    attempt(case, v, day(2), E, AttemptOutcome.NO_REPLY)
    [f] = vendor_unreachable.check(case, P, day(20)).findings
    assert (f.problem, f.section, f.severity, f.subject) == (
        "vendor-unreachable", "6.1; 6.10 row 3", Severity.HIGH, v)
    assert f.evidence == (
        "3 attempts on 2 channels (email, web-form), first 2026-09-01, last 2026-09-03 "
        "(no-reply)",
        "no reply or acknowledgement ever received",
        "20 days since the first attempt",
        "policy: 3+ attempts on 2+ channels count as reasonable effort")
    assert "phone, platform, post" in f.actions[0].text


def test_unreachable_needs_two_channels_and_no_reply() -> None:
    case, v = vendor_case()
    for n in range(5):
        attempt(case, v, day(n))
    assert vendor_unreachable.check(case, P, day(30)).findings == []  # one channel
    case.contact_reply(v, E, at=day(6), actor=A)
    attempt(case, v, day(7), PH)
    assert vendor_unreachable.check(case, P, day(30)).findings == []  # it replied once


# ------------------------------------------------------------------ 6.2 acknowledgement
def test_no_acknowledgement_after_48_hours() -> None:
    case, v = vendor_case()
    attempt(case, v, T0)
    due = T0 + timedelta(hours=48)
    before = no_acknowledgement.check(case, P, due - SECOND)
    assert before.findings == [] and before.next_check == due
    [f] = no_acknowledgement.check(case, P, due).findings
    assert f.evidence[1] == "48 hours since the first attempt, no acknowledgement (policy " \
        "window 48 h)"
    attempt(case, v, T0 + timedelta(hours=50), E, AttemptOutcome.ACKNOWLEDGED)
    assert no_acknowledgement.check(case, P, day(5)).findings == []


# ------------------------------------------------------------------ 6.2 unresponsive
def unresponsive_setup() -> tuple[Case, int]:
    case, v = vendor_case()
    attempt(case, v, day(0))
    case.contact_reply(v, E, at=day(1), actor=A)
    attempt(case, v, day(10))
    attempt(case, v, day(20), W)
    return case, v


def test_unresponsive_without_embargo_at_six_weeks() -> None:
    case, _v = unresponsive_setup()
    due = day(1 + 42)
    before = vendor_unresponsive.check(case, P, due - SECOND)
    assert before.findings == [] and before.next_check == due
    [f] = vendor_unresponsive.check(case, P, due).findings
    assert (f.section, f.severity) == ("6.2; 6.10 row 6", Severity.HIGH)
    assert f.evidence == (
        "prior contact: 1 reply, last 2026-09-02",
        "2 attempts since that reply; 3 attempts on 2 channels (email, web-form), first "
        "2026-09-01, last 2026-09-21 (sent)",
        "42 days silent (policy: 14)",
        "no embargo in force; 42+ days since the last reply")
    assert "courtesy copy" in f.actions[0].text and "3 days" in f.actions[0].text


def test_unresponsive_with_an_embargo_when_its_end_passes() -> None:
    case, _v = unresponsive_setup()
    case.propose_embargo(day(30), at=day(2), actor=A)
    case.accept_embargo(at=day(2), actor=A)
    assert vendor_unresponsive.check(case, P, day(30) - SECOND).findings == []
    [f] = vendor_unresponsive.check(case, P, day(30)).findings
    assert f.evidence[-1] == "agreed embargo end 2026-10-01T09:00:00+00:00 has passed"


def test_unresponsive_needs_two_attempts_since_reply_and_two_weeks() -> None:
    case, v = vendor_case()
    attempt(case, v, day(0))
    case.contact_reply(v, E, at=day(1), actor=A)
    attempt(case, v, day(10))
    assert vendor_unresponsive.check(case, P, day(100)).findings == []  # 1 attempt since
    case2, _ = unresponsive_setup()
    case2.propose_embargo(day(5), at=day(2), actor=A)
    case2.accept_embargo(at=day(2), actor=A)
    # end passed at day 5, but silence is only 13 days on day 14
    assert vendor_unresponsive.check(case2, P, day(15) - SECOND).findings == []
    assert len(vendor_unresponsive.check(case2, P, day(15)).findings) == 1
    strict = Policy(unresponsive_silence_days=7, unresponsive_no_embargo_days=21)
    case3, _ = unresponsive_setup()
    assert len(vendor_unresponsive.check(case3, strict, day(22)).findings) == 1


# ------------------------------------------------------------------ 6.3 stopped replying
def test_reporter_stops_replying() -> None:
    case, _ = vendor_case()
    case.contact_reply(1, E, at=day(2), actor=A)
    attempt(case, 1, day(5))
    assert stopped_replying.check(case, P, day(40)).findings == []  # one message: not silence
    attempt(case, 1, day(9))
    assert stopped_replying.check(case, P, day(16) - SECOND).findings == []
    [f] = stopped_replying.check(case, P, day(16)).findings
    assert (f.subject, f.concerns[0]) == (1, Role.VENDOR)
    assert f.evidence == ("last reply 2026-09-03, 14 days ago (policy: 14)",
                          "2 attempts since, last 2026-09-10 (policy: at least 2)")
    assert "heads-up before publishing" in f.actions[0].text


def test_stopped_replying_leaves_strict_cases_to_unresponsive() -> None:
    case, _ = unresponsive_setup()
    at = day(20)
    [f] = stopped_replying.check(case, P, at).findings
    assert f.title == "Acme (vendor) stopped replying"
    problems = [x.problem for x in diagnose(case, P, day(43)).findings]
    assert "vendor-unresponsive" in problems and "stopped-replying" not in problems


# ------------------------------------------------------------------ 6.6 and 6.4
def embargoed() -> tuple[Case, int]:
    case, v = vendor_case()
    case.record_cs(CSEvent.V, v, at=day(1), actor=A)
    case.propose_embargo(day(45), at=day(1), actor=A)
    case.accept_embargo(at=day(1), actor=A)
    return case, v


def test_active_exploitation_during_embargo() -> None:
    case, _v = embargoed()
    assert active_exploitation.check(case, P, day(3)).findings == []
    case.record_cs(CSEvent.A, None, at=day(10), actor=A)
    [f] = active_exploitation.check(case, P, day(10)).findings
    assert (f.severity, f.section) == (Severity.CRITICAL, "6.6; 6.10 row 2")
    assert f.evidence == ("A (attacks observed) recorded 2026-09-11",
                          "embargo still active, planned end 2026-10-16T09:00:00+00:00",
                          "no fix yet from: Acme")
    assert "end the embargo now" in f.actions[0].text
    case.terminate_embargo(at=day(10), actor=A)
    assert active_exploitation.check(case, P, day(10)).findings == []


def test_public_before_date() -> None:
    case, _ = embargoed()
    case.record_cs(CSEvent.P, None, at=day(12), actor=A)
    [f] = public_before_date.check(case, P, day(12)).findings
    assert f.evidence == ("P (public aware) recorded 2026-09-13",
                          "embargo still active, planned end 2026-10-16T09:00:00+00:00")
    assert "do not punish" in f.actions[1].text


# ------------------------------------------------------------------ rows 7, 8/19, 9, 21
def test_vendor_declined() -> None:
    case, v = vendor_case()
    for t in (RMTrigger.RECEIVE, RMTrigger.VALIDATE):
        case.rm(v, t, at=day(1), actor=A)
    assert vendor_declined.check(case, P, day(2)).findings == []
    case.rm(v, RMTrigger.DEFER, at=day(3), actor=A)
    [f] = vendor_declined.check(case, P, day(3)).findings
    assert f.evidence == ("Acme moved the report to RM deferred on 2026-09-04",
                          "no fix ready (F) recorded for this vendor")
    case.record_cs(CSEvent.F, v, at=day(5), actor=A)  # V came with RM received
    assert vendor_declined.check(case, P, day(5)).findings == []


def test_embargo_ending_without_fix() -> None:
    case, v = embargoed()
    warn = day(45) - timedelta(days=14)
    early = embargo_ending.check(case, P, warn - SECOND)
    assert early.findings == [] and early.next_check == warn
    [f] = embargo_ending.check(case, P, warn).findings
    assert f.severity is Severity.MEDIUM and f.evidence[0].endswith("ends in 14 days")
    [g] = embargo_ending.check(case, P, day(47)).findings
    assert g.severity is Severity.HIGH and g.evidence[0].endswith("ended 2 days ago")
    case.record_cs(CSEvent.F, v, at=day(40), actor=A)
    assert embargo_ending.check(case, P, day(41)).findings == []


def test_too_many_parties_at_the_leak_risk_limit() -> None:
    def case_with(n: int) -> Case:
        case = Case.open("CVD-2026-0009", "Many", TLP.AMBER, at=T0, actor=A)
        for i in range(n):
            case.add_participant(f"V{i}", [Role.VENDOR], at=T0, actor=A)
        return case
    assert too_many_parties.check(case_with(51), P, day(1)).findings == []  # 4.97 %
    [f] = too_many_parties.check(case_with(52), P, day(1)).findings         # 5.07 %
    assert f.evidence == ("52 parties on the case (52 vendors)",
                          "leak risk 1-(1-0.001)^52 = 5.1% (policy limit 5%)")
    embargo = case_with(60)
    embargo.propose_embargo(day(45), at=day(1), actor=A, invite=[1, 2, 3])
    embargo.consent(1, ConsentTrigger.SIGN, at=day(1), actor=A)
    assert too_many_parties.check(embargo, P, day(1)).findings == []  # 3 in the embargo


def test_case_stalled() -> None:
    case, _ = vendor_case()
    quiet = case_stalled.check(case, P, day(30) - SECOND)
    assert quiet.findings == [] and quiet.next_check == day(30)
    [f] = case_stalled.check(case, P, day(30)).findings
    assert f.evidence == ("last event 2026-09-01, 30 days ago (policy: 30)",)


def test_diagnose_orders_by_severity_and_takes_the_earliest_check() -> None:
    case, _v = embargoed()
    case.record_cs(CSEvent.A, None, at=day(10), actor=A)
    d = diagnose(case, P, day(10))
    assert [f.severity for f in d.findings] == sorted((f.severity for f in d.findings),
                                                      reverse=True)
    assert d.findings[0].problem == "active-exploitation"
    assert d.next_check == min(day(45) - timedelta(days=14), day(40))
