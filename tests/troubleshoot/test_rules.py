"""The ten core troubleshooting rules, judged on pure domain cases at explicit times.

For every rule: a case that triggers it (problem, severity, section, concerns, subject
and the exact evidence, every number traceable to the log and the policy); a case just
below each threshold; time travel (the same case at two ``now``s, and ``next_check``
being the exact moment the answer changes); and a policy override.  Then the engine:
ordering, the earliest next check, and no double reports.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from cvdesk.domain.case import Case
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.em import ConsentTrigger
from cvdesk.domain.model import TLP, Role
from cvdesk.domain.policy import Policy, leak_risk
from cvdesk.domain.rm import RMTrigger
from cvdesk.troubleshoot import RULES, diagnose
from cvdesk.troubleshoot.finding import Phase, Severity
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
from tests.troubleshoot.builders import (
    ACK,
    ACTOR,
    BOUNCED,
    NOREPLY,
    PH,
    SEC,
    SENT,
    T0,
    VENDOR,
    E,
    W,
    attempt,
    day,
    embargo,
    iso,
    new_case,
    only,
    quiet,
    reply,
    unresponsive_case,
)

P = Policy()
R, V, C = Role.REPORTER, Role.VENDOR, Role.COORDINATOR

#: The ten rules under test, by the problem id their findings carry.
TEN = {k: RULES[k] for k in (
    "vendor-unreachable", "no-acknowledgement", "vendor-unresponsive", "stopped-replying",
    "active-exploitation", "public-before-date", "vendor-declined",
    "embargo-ending-vendor-not-ready", "too-many-parties", "case-stalled")}


# ====================================================================== vendor-unreachable
def unreachable_case() -> tuple[Case, int]:
    case, v = new_case()
    attempt(case, v, 0, E, BOUNCED)
    attempt(case, v, 1, W, NOREPLY)
    attempt(case, v, 2, E, NOREPLY)
    return case, v


def test_unreachable_fires_with_exact_evidence() -> None:
    case, v = unreachable_case()
    f = only(vendor_unreachable.check(case, P, day(20)))
    assert (f.problem, f.severity, f.section, f.phase) == (
        "vendor-unreachable", Severity.HIGH, "6.1; 6.10 row 3", Phase.REPORTING)
    assert f.concerns == (R, C)
    assert (f.subject, f.subject_name, f.case_id) == (v, VENDOR, "CVD-2026-0042")
    assert f.title == "Acme Networks cannot be reached"
    assert f.key == "vendor-unreachable:p2"
    assert f.evidence == (
        "3 attempts on 2 channels (email, web-form), first 2026-09-01, last 2026-09-03 "
        "(no-reply)",
        "no reply or acknowledgement ever received",
        "20 days since the first attempt",
        "policy: 3+ attempts on 2+ channels count as reasonable effort")
    # the coordinator is told exactly which channels have not been tried
    assert "(phone, platform, post)" in f.actions[0].text
    assert [a.role for a in f.actions] == [C, R]


@pytest.mark.parametrize("build", ["two-attempts", "one-channel", "replied", "acknowledged",
                                   "not-a-vendor"])
def test_unreachable_quiet_below_each_threshold(build: str) -> None:
    case, v = new_case()
    if build == "two-attempts":  # 2 attempts on 2 channels
        attempt(case, v, 0, E, BOUNCED)
        attempt(case, v, 1, W, NOREPLY)
    elif build == "one-channel":  # 3 (even 5) attempts on 1 channel
        for n in range(5):
            attempt(case, v, n, E, NOREPLY)
    elif build == "replied":  # one reply ever is enough
        reply(case, v, 0)
        for n, ch in ((1, E), (2, W), (3, PH)):
            attempt(case, v, n, ch, NOREPLY)
    elif build == "acknowledged":  # an acknowledged attempt is a reply
        attempt(case, v, 0, E, ACK)
        attempt(case, v, 1, W, NOREPLY)
        attempt(case, v, 2, PH, NOREPLY)
    else:  # the reporter is hard to reach: not this rule's business
        for n, ch in ((0, E), (1, W), (2, PH)):
            attempt(case, 1, n, ch, NOREPLY)
    quiet(vendor_unreachable.check(case, P, day(60)))


def test_unreachable_time_travel_depends_on_events_only() -> None:
    case, _ = unreachable_case()
    early, late = (vendor_unreachable.check(case, P, when) for when in (day(2), day(31.5)))
    assert early.next_check is None and late.next_check is None
    assert only(early).evidence[2] == "2 days since the first attempt"
    assert only(late).evidence[2] == "31 days since the first attempt"
    assert only(early).evidence[:2] == only(late).evidence[:2]


def test_unreachable_policy_overrides() -> None:
    case, v = new_case()
    attempt(case, v, 0, E, BOUNCED)
    attempt(case, v, 1, W, NOREPLY)
    quiet(vendor_unreachable.check(case, P, day(5)))
    loose = Policy(unreachable_min_attempts=2)
    assert only(vendor_unreachable.check(case, loose, day(5))).evidence[3] == (
        "policy: 2+ attempts on 2+ channels count as reasonable effort")
    # per organization: only Acme gets the looser test
    per_org = Policy(organizations={VENDOR: {"unreachable_min_attempts": 2}})
    assert only(vendor_unreachable.check(case, per_org, day(5))).subject == v
    strict = Policy(unreachable_min_channels=3)
    attempt(case, v, 2, E, NOREPLY)
    quiet(vendor_unreachable.check(case, strict, day(5)))
    attempt(case, v, 3, PH, NOREPLY)
    assert only(vendor_unreachable.check(case, strict, day(5))).evidence[0] == (
        "4 attempts on 3 channels (email, phone, web-form), first 2026-09-01, last "
        "2026-09-04 (no-reply)")


# ====================================================================== no-acknowledgement
def test_no_acknowledgement_fires_at_48_hours_exactly() -> None:
    case, v = new_case()
    case.contact_attempt(v, E, SENT, at=day(0) + timedelta(hours=3), actor=ACTOR)
    due = day(2) + timedelta(hours=3)
    quiet(no_acknowledgement.check(case, P, due - timedelta(minutes=1)), due)  # 47 h 59 min
    quiet(no_acknowledgement.check(case, P, due - SEC), due)
    at_due = no_acknowledgement.check(case, P, due)
    assert at_due.next_check is None
    f = only(at_due)
    assert (f.problem, f.severity, f.section, f.phase) == (
        "no-acknowledgement", Severity.MEDIUM, "6.2", Phase.REPORTING)
    assert f.concerns == (C, R)
    assert (f.subject, f.subject_name) == (v, VENDOR)
    assert f.title == "Acme Networks has not acknowledged the report"
    assert f.evidence == (
        "1 attempt on 1 channel (email), first 2026-09-01, last 2026-09-01 (sent)",
        "48 hours since the first attempt, no acknowledgement (policy window 48 h)")


def test_no_acknowledgement_time_travel_and_later_attempts() -> None:
    case, v = new_case()
    attempt(case, v, 0)
    attempt(case, v, 2.5, W, NOREPLY)  # a reminder does not move the deadline
    quiet(no_acknowledgement.check(case, P, day(1)), day(2))
    assert only(no_acknowledgement.check(case, P, day(3))).evidence == (
        "2 attempts on 2 channels (email, web-form), first 2026-09-01, last 2026-09-03 "
        "(no-reply)",
        "72 hours since the first attempt, no acknowledgement (policy window 48 h)")


@pytest.mark.parametrize("build", ["never-contacted", "replied", "acknowledged",
                                   "acknowledged-late", "reporter"])
def test_no_acknowledgement_quiet(build: str) -> None:
    case, v = new_case()
    if build == "replied":
        attempt(case, v, 0)
        reply(case, v, 3)  # late, but it did answer
    elif build == "acknowledged":
        attempt(case, v, 0, E, ACK)
    elif build == "acknowledged-late":  # an acknowledged attempt after the window
        attempt(case, v, 0)
        attempt(case, v, 50 / 24, E, ACK)
    elif build == "reporter":
        attempt(case, 1, 0)
    quiet(no_acknowledgement.check(case, P, day(30)))


def test_no_acknowledgement_policy_override() -> None:
    case, v = new_case()
    attempt(case, v, 0)
    short = Policy(ack_deadline_hours=24)
    quiet(no_acknowledgement.check(case, short, day(1) - SEC), day(1))
    assert only(no_acknowledgement.check(case, short, day(1))).evidence[1] == (
        "24 hours since the first attempt, no acknowledgement (policy window 24 h)")
    per_org = Policy(organizations={VENDOR.upper(): {"ack_deadline_hours": 24}})
    assert only(no_acknowledgement.check(case, per_org, day(1))).subject == v


# ===================================================================== vendor-unresponsive
def test_unresponsive_without_embargo_at_42_days_since_the_reply() -> None:
    case, v = unresponsive_case()
    due = day(1) + timedelta(days=42)
    quiet(vendor_unresponsive.check(case, P, day(1) + timedelta(days=41)), due)  # 41 days
    quiet(vendor_unresponsive.check(case, P, due - SEC), due)
    verdict = vendor_unresponsive.check(case, P, due)
    assert verdict.next_check is None
    f = only(verdict)
    assert (f.problem, f.severity, f.section, f.phase) == (
        "vendor-unresponsive", Severity.HIGH, "6.2; 6.10 row 6", Phase.REMEDIATION)
    assert f.concerns == (R, C)
    assert (f.subject, f.subject_name) == (v, VENDOR)
    assert f.title == "Acme Networks stopped responding"
    assert f.evidence == (
        "prior contact: 1 reply, last 2026-09-02",
        "2 attempts since that reply; 3 attempts on 2 channels (email, web-form), first "
        "2026-09-01, last 2026-09-11 (no-reply)",
        "42 days silent (policy: 14)",
        "no embargo in force; 42+ days since the last reply")
    assert "courtesy copy" in f.actions[0].text
    assert "3 days ahead" in f.actions[0].text  # courtesy_copy_days


def test_unresponsive_with_embargo_when_the_agreed_date_passes() -> None:
    case, _ = unresponsive_case()
    embargo(case, end=30, at=0.5)
    quiet(vendor_unresponsive.check(case, P, day(29)), day(30))  # 28 days silent, date ahead
    quiet(vendor_unresponsive.check(case, P, day(30) - SEC), day(30))
    f = only(vendor_unresponsive.check(case, P, day(30)))
    assert f.evidence[2:] == ("29 days silent (policy: 14)",
                              f"agreed embargo end {iso(30)} has passed")


def test_unresponsive_needs_two_weeks_of_silence_even_after_the_date() -> None:
    case, v = new_case()
    embargo(case, end=5)
    attempt(case, v, 0)
    reply(case, v, 1)
    attempt(case, v, 6, E, NOREPLY)
    attempt(case, v, 10, W, NOREPLY)
    quiet(vendor_unresponsive.check(case, P, day(15) - SEC), day(15))  # 13.99 days silent
    quiet(vendor_unresponsive.check(case, P, day(14)), day(15))  # 13 days silent
    f = only(vendor_unresponsive.check(case, P, day(15)))
    assert f.evidence[2:] == ("14 days silent (policy: 14)",
                              f"agreed embargo end {iso(5)} has passed")


def test_unresponsive_needs_repeated_attempts_after_the_reply() -> None:
    case, v = unresponsive_case(attempts_after=(5,))
    quiet(vendor_unresponsive.check(case, P, day(100)))  # 1 attempt: never, by the clock
    attempt(case, v, 101, PH, NOREPLY)
    f = only(vendor_unresponsive.check(case, P, day(101)))
    assert f.evidence[1] == ("2 attempts since that reply; 3 attempts on 2 channels (email, "
                             "phone), first 2026-09-01, last 2026-12-11 (no-reply)")
    assert f.evidence[2] == "100 days silent (policy: 14)"


def test_unresponsive_quiet_after_a_new_reply_or_without_prior_contact() -> None:
    case, v = unresponsive_case()
    reply(case, v, 20)
    quiet(vendor_unresponsive.check(case, P, day(21)))  # no attempt since the new reply
    never, w = new_case()
    for n, ch in ((0, E), (1, W), (2, PH)):
        attempt(never, w, n, ch, NOREPLY)
    quiet(vendor_unresponsive.check(never, P, day(100)))  # that is 'unreachable' instead


def test_unresponsive_embargo_end_not_yet_passed() -> None:
    case, _ = unresponsive_case()
    embargo(case, end=60, at=0.5)
    # 42+ days without a reply do not count while an agreed date is still ahead
    quiet(vendor_unresponsive.check(case, P, day(50)), day(60))
    assert only(vendor_unresponsive.check(case, P, day(60))).evidence[3] == (
        f"agreed embargo end {iso(60)} has passed")


def test_unresponsive_policy_overrides() -> None:
    case, v = new_case()
    embargo(case, end=5)
    attempt(case, v, 0)
    reply(case, v, 1)
    attempt(case, v, 6, E, NOREPLY)
    attempt(case, v, 7, W, NOREPLY)
    week = Policy(unresponsive_silence_days=7)
    quiet(vendor_unresponsive.check(case, P, day(8)), day(15))
    quiet(vendor_unresponsive.check(case, week, day(8) - SEC), day(8))
    assert only(vendor_unresponsive.check(case, week, day(8))).evidence[2] == (
        "7 days silent (policy: 7)")
    per_org = Policy(organizations={VENDOR: {"unresponsive_silence_days": 7,
                                             "courtesy_copy_days": 5}})
    f = only(vendor_unresponsive.check(case, per_org, day(8)))
    assert f.evidence[2] == "7 days silent (policy: 7)" and "5 days ahead" in f.actions[0].text
    three = Policy(unresponsive_min_attempts=3)
    quiet(vendor_unresponsive.check(case, three, day(100)))


def test_unresponsive_no_embargo_days_override() -> None:
    case, _ = unresponsive_case()
    three_weeks = Policy(unresponsive_no_embargo_days=21)
    quiet(vendor_unresponsive.check(case, three_weeks, day(22) - SEC), day(22))
    assert only(vendor_unresponsive.check(case, three_weeks, day(22))).evidence[2:] == (
        "21 days silent (policy: 14)", "no embargo in force; 21+ days since the last reply")


# ======================================================================== stopped-replying
def test_stopped_replying_vendor_then_handed_to_unresponsive() -> None:
    case, v = unresponsive_case()
    quiet(stopped_replying.check(case, P, day(15) - SEC), day(15))
    quiet(stopped_replying.check(case, P, day(14)), day(15))  # 13 days
    verdict = stopped_replying.check(case, P, day(15))
    assert verdict.next_check == day(43)  # when the 6.2 test takes over
    f = only(verdict)
    assert (f.problem, f.severity, f.section, f.phase) == (
        "stopped-replying", Severity.MEDIUM, "6.3; 6.10 rows 6, 10", Phase.REMEDIATION)
    assert f.concerns == (R, C)
    assert (f.subject, f.subject_name) == (v, VENDOR)
    assert f.title == "Acme Networks (vendor) stopped replying"
    assert f.evidence == ("last reply 2026-09-02, 14 days ago (policy: 14)",
                          "2 attempts since, last 2026-09-11 (policy: at least 2)")
    assert only(stopped_replying.check(case, P, day(43) - SEC)).evidence[0] == (
        "last reply 2026-09-02, 41 days ago (policy: 14)")
    quiet(stopped_replying.check(case, P, day(43)))  # vendor-unresponsive reports it now


def test_stopped_replying_reporter() -> None:
    case, _ = new_case()
    reply(case, 1, 1)
    attempt(case, 1, 3, E, NOREPLY)
    quiet(stopped_replying.check(case, P, day(40)))  # one message: not silence
    attempt(case, 1, 8, E, NOREPLY)
    f = only(stopped_replying.check(case, P, day(20)))
    assert f.title == "Rita (finder, reporter) stopped replying"
    assert f.concerns == (V, C) and (f.subject, f.subject_name) == (1, "Rita")
    assert f.evidence == ("last reply 2026-09-02, 19 days ago (policy: 14)",
                          "2 attempts since, last 2026-09-09 (policy: at least 2)")
    assert [a.role for a in f.actions] == [V, C]
    assert "heads-up before publishing" in f.actions[0].text


def test_stopped_replying_quiet_without_an_unanswered_attempt() -> None:
    case, v = new_case()
    attempt(case, v, 0)
    reply(case, v, 1)
    quiet(stopped_replying.check(case, P, day(100)))  # the desk never asked again
    never, w = new_case()
    attempt(never, w, 0)
    attempt(never, w, 5)
    quiet(stopped_replying.check(never, P, day(100)))  # never replied: no 'stopped'


def test_stopped_replying_needs_repeated_attempts_and_stays_until_a_reply() -> None:
    """One unanswered message is not silence (6.3): a second attempt is needed, and then
    the finding stays until a reply while 6.2 cannot take over."""
    case, v = unresponsive_case(attempts_after=(5,))
    quiet(stopped_replying.check(case, P, day(200)))
    attempt(case, v, 10, W, NOREPLY)
    three = Policy(unresponsive_min_attempts=3)  # so that vendor-unresponsive never fires
    verdict = stopped_replying.check(case, three, day(200))
    assert verdict.next_check is None
    assert only(verdict).evidence == ("last reply 2026-09-02, 199 days ago (policy: 14)",
                                      "2 attempts since, last 2026-09-11 (policy: at least 2)")
    quiet(stopped_replying.check(
        case, Policy(unresponsive_min_attempts=3, stopped_replying_min_attempts=3), day(200)))
    reply(case, v, 201)
    quiet(stopped_replying.check(case, three, day(202)))


def test_stopped_replying_policy_override() -> None:
    case, _ = unresponsive_case()
    week = Policy(stopped_replying_days=7)
    quiet(stopped_replying.check(case, week, day(8) - SEC), day(8))
    assert only(stopped_replying.check(case, week, day(8))).evidence[0] == (
        "last reply 2026-09-02, 7 days ago (policy: 7)")


# ===================================================================== active-exploitation
def test_active_exploitation_attacks_during_embargo() -> None:
    case, _ = new_case()
    embargo(case, end=45)
    quiet(active_exploitation.check(case, P, day(3)))  # an embargo alone is no problem
    case.record_cs(CSEvent.A, None, at=day(10), actor=ACTOR)
    f = only(active_exploitation.check(case, P, day(11)))
    assert (f.problem, f.severity, f.section, f.phase) == (
        "active-exploitation", Severity.CRITICAL, "6.6; 6.10 row 2", Phase.PUBLIC_AWARENESS)
    assert f.concerns == (R, V, C)
    assert (f.subject, f.subject_name, f.key) == (None, "", "active-exploitation:-")
    assert f.evidence == ("A (attacks observed) recorded 2026-09-11",
                          f"embargo still active, planned end {iso(45)}",
                          "no fix yet from: Acme Networks")
    assert "end the embargo now" in f.actions[0].text


def test_active_exploitation_public_exploit_and_fixed_vendor() -> None:
    case, v = new_case()
    embargo(case, end=45)
    case.record_cs(CSEvent.V, v, at=day(1), actor=ACTOR)
    case.record_cs(CSEvent.F, v, at=day(2), actor=ACTOR)
    case.record_cs(CSEvent.A, None, at=day(3), actor=ACTOR)
    case.record_cs(CSEvent.X, None, at=day(4), actor=ACTOR)
    early, late = (active_exploitation.check(case, P, when) for when in (day(5), day(90)))
    assert early.findings == late.findings and early.next_check is late.next_check is None
    assert only(early).evidence == ("A (attacks observed) recorded 2026-09-04",
                                    "X (exploit public) recorded 2026-09-05",
                                    f"embargo still active, planned end {iso(45)}")


def test_active_exploitation_many_vendors_listed_with_a_count() -> None:
    case, _ = new_case()
    for i in range(6):
        case.add_participant(f"Vendor {i}", [V], at=T0, actor=ACTOR)
    embargo(case, end=45)
    case.record_cs(CSEvent.A, None, at=day(3), actor=ACTOR)
    assert only(active_exploitation.check(case, P, day(3))).evidence[2] == (
        "no fix yet from: Acme Networks, Vendor 0, Vendor 1, Vendor 2, Vendor 3 and 2 more")


@pytest.mark.parametrize("em", ["none", "proposed", "exited"])
def test_active_exploitation_quiet_without_an_embargo_in_force(em: str) -> None:
    case, _ = new_case()
    if em == "proposed":
        case.propose_embargo(day(45), at=day(0), actor=ACTOR)
    elif em == "exited":
        embargo(case, end=45)
        case.terminate_embargo(at=day(2), actor=ACTOR)
    case.record_cs(CSEvent.A, None, at=day(3), actor=ACTOR)
    quiet(active_exploitation.check(case, P, day(4)))
    quiet(active_exploitation.check(new_case()[0], P, day(4)))  # nothing observed at all


# ===================================================================== public-before-date
def test_public_before_date_during_embargo() -> None:
    case, _ = new_case()
    embargo(case, end=45)
    case.record_cs(CSEvent.P, None, at=day(12), actor=ACTOR)
    f = only(public_before_date.check(case, P, day(13)))
    assert (f.problem, f.severity, f.section, f.phase) == (
        "public-before-date", Severity.HIGH, "6.4; 6.10 row 11", Phase.PUBLIC_AWARENESS)
    assert f.concerns == (V, C, R)
    assert f.subject is None
    assert f.evidence == ("P (public aware) recorded 2026-09-13",
                          f"embargo still active, planned end {iso(45)}")
    assert "do not punish" in f.actions[1].text
    assert public_before_date.check(case, P, day(100)).findings == [f]  # events only
    assert public_before_date.check(case, P, day(100)).next_check is None


def test_public_before_date_in_revision_and_via_public_exploit() -> None:
    case, _ = new_case()
    embargo(case, end=45)
    case.propose_embargo(day(60), at=day(5), actor=ACTOR)  # A -> R
    case.record_cs(CSEvent.X, None, at=day(6), actor=ACTOR)  # X implies P
    assert only(public_before_date.check(case, P, day(7))).evidence == (
        "P (public aware) recorded 2026-09-07",
        f"embargo still revise, planned end {iso(45)}")


@pytest.mark.parametrize("em", ["none", "proposed", "exited"])
def test_public_before_date_quiet(em: str) -> None:
    case, _ = new_case()
    if em == "proposed":
        case.propose_embargo(day(45), at=day(0), actor=ACTOR)
    elif em == "exited":
        embargo(case, end=45)
        case.terminate_embargo(at=day(2), actor=ACTOR)
    case.record_cs(CSEvent.P, None, at=day(3), actor=ACTOR)
    quiet(public_before_date.check(case, P, day(4)))


# ======================================================================== vendor-declined
def declining_case() -> tuple[Case, int]:
    case, v = new_case()
    attempt(case, v, 0)
    reply(case, v, 1)  # RM received
    case.rm(v, RMTrigger.VALIDATE, at=day(2), actor=ACTOR)
    return case, v


def test_vendor_declined_deferred_then_closed() -> None:
    case, v = declining_case()
    case.rm(v, RMTrigger.DEFER, at=day(9), actor=ACTOR)
    f = only(vendor_declined.check(case, P, day(10)))
    assert (f.problem, f.severity, f.section, f.phase) == (
        "vendor-declined", Severity.HIGH, "6.10 row 7", Phase.REMEDIATION)
    assert f.concerns == (R, C)
    assert (f.subject, f.subject_name, f.title) == (v, VENDOR, "Acme Networks declines to fix")
    assert f.evidence == ("Acme Networks moved the report to RM deferred on 2026-09-10",
                          "no fix ready (F) recorded for this vendor")
    assert vendor_declined.check(case, P, day(300)).findings == [f]
    case.rm(v, RMTrigger.CLOSE, at=day(12), actor=ACTOR)
    assert only(vendor_declined.check(case, P, day(13))).evidence[0] == (
        "Acme Networks moved the report to RM closed on 2026-09-13")


@pytest.mark.parametrize("build", ["accepted", "valid", "fixed", "fixed-after-deferring",
                                   "reporter-deferred"])
def test_vendor_declined_quiet(build: str) -> None:
    case, v = declining_case()
    if build == "accepted":
        case.rm(v, RMTrigger.ACCEPT, at=day(3), actor=ACTOR)
    elif build == "fixed":  # deferred after shipping a fix: nothing to decline
        case.record_cs(CSEvent.F, v, at=day(4), actor=ACTOR)  # aware since its reply
        case.rm(v, RMTrigger.DEFER, at=day(5), actor=ACTOR)
    elif build == "fixed-after-deferring":  # it declined, then shipped a fix anyway
        case.rm(v, RMTrigger.DEFER, at=day(3), actor=ACTOR)
        case.record_cs(CSEvent.F, v, at=day(5), actor=ACTOR)
    elif build == "reporter-deferred":
        case.rm(1, RMTrigger.RECEIVE, at=day(3), actor=ACTOR)
        case.rm(1, RMTrigger.VALIDATE, at=day(3), actor=ACTOR)
        case.rm(1, RMTrigger.DEFER, at=day(3), actor=ACTOR)
    quiet(vendor_declined.check(case, P, day(10)))


# ============================================================== embargo-ending-vendor-not-ready
def test_embargo_ending_warns_14_days_ahead_then_escalates_at_the_end() -> None:
    case, _ = new_case()
    embargo(case, end=40)
    warn = day(26)
    quiet(embargo_ending.check(case, P, day(25)), warn)  # 15 days before the end
    quiet(embargo_ending.check(case, P, warn - SEC), warn)
    soon = embargo_ending.check(case, P, warn)
    assert soon.next_check == day(40)
    f = only(soon)
    assert (f.problem, f.severity, f.section, f.phase) == (
        "embargo-ending-vendor-not-ready", Severity.MEDIUM, "6.10 rows 8, 19",
        Phase.REMEDIATION)
    assert f.concerns == (V, R, C) and f.subject is None
    assert f.title == "Embargo ends soon; 1 vendor without a fix"
    assert f.evidence == (f"embargo end {iso(40)}: ends in 14 days",
                          "no fix ready (F) from: Acme Networks",
                          "policy: share the draft 7-14 days before publication")
    last_second = only(embargo_ending.check(case, P, day(40) - SEC))
    assert (last_second.severity, last_second.evidence[0]) == (
        Severity.MEDIUM, f"embargo end {iso(40)}: ends in 0 days")
    ended = embargo_ending.check(case, P, day(40))
    assert ended.next_check is None
    assert (only(ended).severity, only(ended).title, only(ended).evidence[0]) == (
        Severity.HIGH, "Embargo has ended; 1 vendor without a fix",
        f"embargo end {iso(40)}: ended 0 days ago")
    assert only(embargo_ending.check(case, P, day(43.5))).evidence[0] == (
        f"embargo end {iso(40)}: ended 3 days ago")


def test_embargo_ending_lists_only_vendors_without_a_fix() -> None:
    case, v = new_case()
    names = [case.add_participant(f"Down {i}", [V], at=T0, actor=ACTOR).name for i in range(6)]
    embargo(case, end=40)
    case.record_cs(CSEvent.V, v, at=day(1), actor=ACTOR)
    case.record_cs(CSEvent.F, v, at=day(2), actor=ACTOR)
    f = only(embargo_ending.check(case, P, day(30)))
    assert f.title == "Embargo ends soon; 6 vendors without a fix"
    assert f.evidence[:2] == (f"embargo end {iso(40)}: ends in 10 days",
                              f"no fix ready (F) from: {', '.join(names[:5])} and 1 more")


@pytest.mark.parametrize("build", ["fixed", "fixed-while-warned", "proposed", "terminated",
                                   "no-embargo"])
def test_embargo_ending_quiet(build: str) -> None:
    case, v = new_case()
    if build == "fixed":
        embargo(case, end=40)
        case.record_cs(CSEvent.V, v, at=day(1), actor=ACTOR)
        case.record_cs(CSEvent.F, v, at=day(2), actor=ACTOR)
    elif build == "fixed-while-warned":  # the fix came after the 14-day warning began
        embargo(case, end=40)
        case.record_cs(CSEvent.V, v, at=day(1), actor=ACTOR)
        case.record_cs(CSEvent.F, v, at=day(29), actor=ACTOR)
    elif build == "proposed":
        case.propose_embargo(day(40), at=day(0), actor=ACTOR)
    elif build == "terminated":
        embargo(case, end=40)
        case.terminate_embargo(at=day(3), actor=ACTOR)
    for when in (day(30), day(50)):
        quiet(embargo_ending.check(case, P, when))


def test_embargo_ending_policy_override() -> None:
    case, _ = new_case()
    embargo(case, end=40)
    three_weeks = Policy(draft_share_min_days=10, draft_share_max_days=21)
    quiet(embargo_ending.check(case, three_weeks, day(19) - SEC), day(19))
    assert only(embargo_ending.check(case, three_weeks, day(19))).evidence[::2] == (
        f"embargo end {iso(40)}: ends in 21 days",
        "policy: share the draft 10-21 days before publication")


# ======================================================================= too-many-parties
def crowded_case(total: int) -> Case:
    """A reporter and ``total - 1`` vendors."""
    case = Case.open("CVD-2026-0099", "Library bug", TLP.AMBER, at=T0, actor=ACTOR)
    case.add_participant("Rita", [R], at=T0, actor=ACTOR)
    for i in range(total - 1):
        case.add_participant(f"Vendor {i:02d}", [V], at=T0, actor=ACTOR)
    return case


def test_leak_risk_threshold_lies_between_51_and_52_parties() -> None:
    assert f"{leak_risk(51, 0.001):.2%}" == "4.97%"
    assert f"{leak_risk(52, 0.001):.2%}" == "5.07%"


def test_too_many_parties_at_52_not_at_51() -> None:
    quiet(too_many_parties.check(crowded_case(51), P, T0))
    case = crowded_case(52)
    f = only(too_many_parties.check(case, P, T0))
    assert (f.problem, f.severity, f.section, f.phase) == (
        "too-many-parties", Severity.MEDIUM, "6.10 row 9", Phase.REMEDIATION)
    assert f.concerns == (R, V, C) and f.subject is None
    assert f.title == "52 parties: the embargo is likely to leak"
    assert f.evidence == ("52 parties on the case (51 vendors)",
                          "leak risk 1-(1-0.001)^52 = 5.1% (policy limit 5%)")
    later = too_many_parties.check(case, P, day(365))
    assert later.findings == [f] and later.next_check is None


def test_too_many_parties_counts_only_the_embargo_when_there_is_one() -> None:
    case = crowded_case(60)
    pids = sorted(case.participants)
    case.propose_embargo(day(45), at=T0, actor=ACTOR, invite=pids[:51])
    quiet(too_many_parties.check(case, P, T0))  # 51 invited of 60 on the case
    case.consent(pids[51], ConsentTrigger.INVITE, at=T0, actor=ACTOR)
    case.consent(pids[0], ConsentTrigger.SIGN, at=T0, actor=ACTOR)  # signatories count too
    assert only(too_many_parties.check(case, P, T0)).evidence == (
        "52 parties in the embargo (51 vendors)",
        "leak risk 1-(1-0.001)^52 = 5.1% (policy limit 5%)")


def test_too_many_parties_policy_overrides() -> None:
    strict = Policy(max_leak_risk=0.01)
    quiet(too_many_parties.check(crowded_case(10), strict, T0))  # 0.996%
    assert only(too_many_parties.check(crowded_case(11), strict, T0)).evidence[1] == (
        "leak risk 1-(1-0.001)^11 = 1.1% (policy limit 1%)")
    leaky = Policy(leak_probability_per_party=0.01)
    assert only(too_many_parties.check(crowded_case(6), leaky, T0)).evidence == (
        "6 parties on the case (5 vendors)",
        "leak risk 1-(1-0.01)^6 = 5.9% (policy limit 5%)")
    quiet(too_many_parties.check(crowded_case(5), leaky, T0))  # 4.9%


# =========================================================================== case-stalled
def test_case_stalled_after_30_days_without_events() -> None:
    case, v = new_case()
    attempt(case, v, 2)
    reply(case, v, 3)  # the last event: 2026-09-04 09:00
    due = day(33)
    quiet(case_stalled.check(case, P, day(32)), due)  # 29 days
    quiet(case_stalled.check(case, P, due - SEC), due)
    verdict = case_stalled.check(case, P, due)
    assert verdict.next_check is None
    f = only(verdict)
    assert (f.problem, f.severity, f.section, f.phase) == (
        "case-stalled", Severity.LOW, "6.7; 6.10 row 21", Phase.REMEDIATION)
    assert f.concerns == (C, R, V) and f.subject is None
    assert f.evidence == ("last event 2026-09-04, 30 days ago (policy: 30)",)
    assert only(case_stalled.check(case, P, day(100))).evidence == (
        "last event 2026-09-04, 97 days ago (policy: 30)",)


def test_case_stalled_a_back_dated_event_does_not_revive_it() -> None:
    case, v = new_case()
    attempt(case, v, 10)
    attempt(case, v, 5)  # logged late, happened earlier
    assert case.last_event_at == day(10)
    quiet(case_stalled.check(case, P, day(39)), day(40))
    note_at = day(41)
    case.note("still waiting", at=note_at, actor=ACTOR)
    quiet(case_stalled.check(case, P, day(70)), day(71))


def test_case_stalled_policy_override() -> None:
    case, _ = new_case()
    fortnight = Policy(stalled_days=14)
    quiet(case_stalled.check(case, fortnight, day(14) - SEC), day(14))
    assert only(case_stalled.check(case, fortnight, day(14))).evidence == (
        "last event 2026-09-01, 14 days ago (policy: 14)",)


# ================================================================================ engine
def test_findings_sorted_by_severity_then_problem_then_subject() -> None:
    case, v = new_case()
    other = case.add_participant("Beta Corp", [V], at=T0, actor=ACTOR).pid
    embargo(case, end=20)
    for pid in (v, other):
        attempt(case, pid, 0)
        reply(case, pid, 1)
        case.rm(pid, RMTrigger.VALIDATE, at=day(2), actor=ACTOR)
        case.rm(pid, RMTrigger.DEFER, at=day(3), actor=ACTOR)
    case.record_cs(CSEvent.X, None, at=day(4), actor=ACTOR)  # X, and P with it
    got = diagnose(case, P, day(40), TEN)
    assert [(f.problem, f.severity, f.subject) for f in got.findings] == [
        ("active-exploitation", Severity.CRITICAL, None),
        ("embargo-ending-vendor-not-ready", Severity.HIGH, None),
        ("public-before-date", Severity.HIGH, None),
        ("vendor-declined", Severity.HIGH, v),
        ("vendor-declined", Severity.HIGH, other),
        ("case-stalled", Severity.LOW, None),
    ]
    assert got.top_severity == Severity.CRITICAL and got.case_id == "CVD-2026-0042"
    everything = diagnose(case, P, day(40)).findings  # every registered rule
    assert [f.severity for f in everything] == sorted((f.severity for f in everything),
                                                     reverse=True)
    assert {(f.problem, f.subject) for f in got.findings} <= {
        (f.problem, f.subject) for f in everything}


def test_diagnosis_next_check_is_the_earliest_over_the_rules() -> None:
    case, v = new_case()
    embargo(case, end=20)
    attempt(case, v, 1)  # no-acknowledgement due on day 3, embargo warning on day 6
    for when, expected in ((day(2), day(3)), (day(4), day(6)), (day(7), day(20)),
                           (day(21), day(31))):
        got = diagnose(case, P, when, TEN)
        assert got.next_check == expected
        every = [check(case, P, when).next_check for check in RULES.values()]
        assert diagnose(case, P, when).next_check == min(t for t in every if t is not None)
    assert diagnose(case, P, day(31), TEN).next_check is None
    assert diagnose(Case.open("CVD-2026-0001", "t", TLP.AMBER, at=T0, actor=ACTOR), P,
                    day(1), {}).next_check is None


def test_diagnosis_changes_exactly_at_next_check() -> None:
    case, _ = unresponsive_case()
    now = day(2)
    seen = []
    while (nxt := diagnose(case, P, now, TEN).next_check) is not None:
        before = diagnose(case, P, nxt - SEC, TEN)
        after = diagnose(case, P, nxt, TEN)
        assert [f.key for f in before.findings] != [f.key for f in after.findings]
        seen.append((nxt, sorted(f.key for f in after.findings)))
        now = nxt
    assert seen == [
        (day(15), ["stopped-replying:p2"]),
        (day(40), ["case-stalled:-", "stopped-replying:p2"]),
        (day(43), ["case-stalled:-", "vendor-unresponsive:p2"]),
    ]


def test_stopped_replying_does_not_double_report_an_unresponsive_vendor() -> None:
    case, v = unresponsive_case()
    reply(case, 1, 1)  # the reporter, too, went quiet after two attempts
    attempt(case, 1, 4, E, NOREPLY)
    attempt(case, 1, 6, E, NOREPLY)
    before = diagnose(case, P, day(43) - SEC, TEN)
    assert sorted(f.key for f in before.findings) == [
        "case-stalled:-", "stopped-replying:p1", "stopped-replying:p2"]
    after = diagnose(case, P, day(43), TEN)
    assert sorted(f.key for f in after.findings) == [
        "case-stalled:-", "stopped-replying:p1", "vendor-unresponsive:p2"]
    about_vendor = [f.problem for f in after.findings if f.subject == v]
    assert about_vendor == ["vendor-unresponsive"]


def test_no_acknowledgement_does_not_double_report_an_unreachable_vendor() -> None:
    case, v = new_case()
    attempt(case, v, 0, E, BOUNCED)
    attempt(case, v, 1, W, NOREPLY)
    two = diagnose(case, P, day(5), TEN)
    assert [f.key for f in two.findings] == ["no-acknowledgement:p2"]
    attempt(case, v, 2, E, NOREPLY)
    three = diagnose(case, P, day(5), TEN)
    assert [f.key for f in three.findings] == ["vendor-unreachable:p2"]
    assert [f.problem for f in three.findings if f.subject == v] == ["vendor-unreachable"]


def test_rules_are_pure_functions_of_case_policy_and_now() -> None:
    case, _ = unresponsive_case()
    embargo(case, end=30, at=2)
    first = diagnose(case, P, day(50), TEN)
    second = diagnose(case, P, day(50), TEN)
    assert first == second
    assert diagnose(case, P, day(3), TEN) != first
