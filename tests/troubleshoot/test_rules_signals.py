"""Rules that fire on signals, vendor policies and CS timing (the rules added after the first
ten): a case that triggers each, one that does not, and the exact evidence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cvdesk.domain.case import Case
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.model import (
    TLP,
    AttemptOutcome,
    Channel,
    Direction,
    Message,
    Role,
    SignalKind,
)
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot import diagnose
from cvdesk.troubleshoot.finding import Severity
from cvdesk.troubleshoot.rules import (
    downstream_vendors,
    finder_handoff,
    hostile_tone,
    hype,
    independent_discovery,
    leak,
    legal_threat,
    out_of_scope,
    policy_conflict,
    public_before_vendor,
    vendor_not_notified,
)
from cvdesk.troubleshoot.text import analyze
from tests.troubleshoot.builders import ACTOR, T0, day

A = ACTOR
POLICY = Policy()


def base_case() -> tuple[Case, int, int]:
    case = Case.open("CVD-2026-0001", "Test case", TLP.AMBER, at=T0, actor=A)
    reporter = case.add_participant("Rita", [Role.REPORTER, Role.FINDER], at=T0, actor=A).pid
    vendor = case.add_participant("Acme", [Role.VENDOR], at=T0, actor=A).pid
    case.contact_attempt(vendor, Channel.EMAIL, AttemptOutcome.ACKNOWLEDGED, at=T0, actor=A)
    return case, reporter, vendor


def with_embargo(case: Case, end_day: float = 45) -> None:
    case.propose_embargo(day(end_day), at=day(1), actor=A)
    case.accept_embargo(at=day(1), actor=A)


SIGNAL_RULES = [
    (leak, SignalKind.LEAK, "leak", "6.4; 6.10 row 11"),
    (independent_discovery, SignalKind.POSSIBLE_DUPLICATE, "independent-discovery",
     "6.5; 6.10 row 15"),
    (out_of_scope, SignalKind.OUT_OF_SCOPE, "out-of-scope", "6.10 row 13"),
    (finder_handoff, SignalKind.FINDER_NEEDS_HANDOFF, "finder-needs-handoff", "6.10 row 1"),
    (downstream_vendors, SignalKind.DOWNSTREAM_AFFECTED, "downstream-vendors",
     "6.10 rows 16, 17"),
    (legal_threat, SignalKind.LEGAL_THREAT, "legal-threat", "6.7; 6.9; 6.10 row 14"),
    (hostile_tone, SignalKind.HOSTILE_TONE, "hostile-tone", "6.7; 6.9"),
    (hype, SignalKind.MEDIA_ATTENTION, "media-attention", "6.8; 6.10 row 20"),
]


@pytest.mark.parametrize(("rule", "kind", "problem", "section"), SIGNAL_RULES,
                         ids=[p for _, _, p, _ in SIGNAL_RULES])
def test_signal_rules_fire_on_their_signal_only(rule, kind, problem, section) -> None:  # type: ignore[no-untyped-def]
    case, _, vendor = base_case()
    if rule is leak:  # a leak is a problem of an embargo in force (6.4)
        with_embargo(case)
    assert rule.check(case, POLICY, day(2)).findings == []
    other = SignalKind.LEAK if kind is SignalKind.POSSIBLE_DUPLICATE \
        else SignalKind.POSSIBLE_DUPLICATE
    case.observe(other, at=day(2), actor=A, text="unrelated")
    assert rule.check(case, POLICY, day(2)).findings == []
    case.observe(kind, at=day(3), actor=A, text="seen it", url="https://example.org/x",
                 participant=vendor)
    [f] = rule.check(case, POLICY, day(4)).findings
    assert (f.problem, f.section, f.case_id) == (problem, section, "CVD-2026-0001")
    seq = case.signals[-1].seq
    assert f.evidence[0] == f"2026-09-04, from p2 Acme (observation #{seq}): seen it " \
        "https://example.org/x"
    assert f.actions and all(a.text for a in f.actions)


def test_leak_fires_high_while_the_embargo_is_in_force_and_resolves_when_it_ends() -> None:
    """6.4: a leak during an embargo, even a partial one, should speed the timeline, so the
    finding is high while the embargo is in force (README: "while the embargo is in
    force"); with no embargo there is no date to bring forward, and once the embargo has
    ended the finding resolves."""
    case, _, _ = base_case()
    case.observe(SignalKind.LEAK, at=day(2), actor=A, text="partial details on a forum")
    assert leak.check(case, POLICY, day(2)).findings == []
    case.propose_embargo(day(45), at=day(3), actor=A)
    assert leak.check(case, POLICY, day(3)).findings == []  # proposed, not yet binding
    case.accept_embargo(at=day(3), actor=A)
    [f] = leak.check(case, POLICY, day(3)).findings  # agreed after the leak: still moot
    assert f.severity is Severity.HIGH and f.title == "Details leaked during the embargo"
    case2, _, _ = base_case()
    with_embargo(case2)
    case2.observe(SignalKind.LEAK, at=day(2), actor=A, text="partial details on a forum")
    [f2] = leak.check(case2, POLICY, day(2)).findings
    assert f2.severity is Severity.HIGH
    assert f2.evidence[-1] == "embargo active, planned end 2026-10-16T09:00:00+00:00"
    assert "even a partial leak should bring the date forward" in f2.actions[0].text
    case2.propose_embargo(day(20), at=day(4), actor=A)  # revising: still in force
    [f3] = leak.check(case2, POLICY, day(4)).findings
    assert f3.severity is Severity.HIGH and f3.evidence[-1].startswith("embargo revise")
    case2.terminate_embargo(at=day(5), actor=A, reason="brought forward after the leak")
    assert leak.check(case2, POLICY, day(5)).findings == []


def test_legal_threat_and_hostile_tone_from_a_message() -> None:
    case, _, vendor = base_case()
    text = "Our lawyers will send a cease and desist. You people are incompetent."
    case.log_message(Message("<m1@x>", Direction.INBOUND, day(5), Channel.EMAIL, "Re: case",
                             text, participant=vendor), actor=A, flags=analyze(text))
    found = {f.problem: f for f in diagnose(case, POLICY, day(6)).findings}
    assert found["legal-threat"].severity is Severity.HIGH
    seq = case.signals[0].seq
    assert found["legal-threat"].evidence == (
        f"2026-09-06, from p2 Acme (message #{seq}): our lawyers; cease and desist",)
    assert found["hostile-tone"].evidence == (
        f"2026-09-06, from p2 Acme (message #{seq}): you people; incompetent",)


def test_a_calm_message_raises_nothing() -> None:
    case, _, vendor = base_case()
    text = "Thanks, fixed in 2.4.1; we will not take legal action against good-faith research."
    case.log_message(Message("<m2@x>", Direction.INBOUND, day(5), Channel.EMAIL, "Re", text,
                             participant=vendor), actor=A, flags=analyze(text))
    assert case.signals == []


def test_hype_is_low_once_public() -> None:
    case, _, _ = base_case()
    case.observe(SignalKind.HYPE, at=day(2), actor=A, text="branded name and logo")
    [f] = hype.check(case, POLICY, day(2)).findings
    assert f.severity is Severity.MEDIUM and f.evidence[-1] == "public awareness (P) not " \
        "yet recorded"
    case.record_cs(CSEvent.P, None, at=day(3), actor=A)
    [g] = hype.check(case, POLICY, day(3)).findings
    assert g.severity is Severity.LOW and g.evidence[-1] == "public awareness (P) recorded"


def test_downstream_title_says_unknown_when_unknown() -> None:
    case, _, _ = base_case()
    case.observe(SignalKind.UNKNOWN_DOWNSTREAM, at=day(2), actor=A, text="vendored widely")
    [f] = downstream_vendors.check(case, POLICY, day(2)).findings
    assert f.title == "Affected downstream vendors are unknown"
    assert f.evidence[-1] == "1 vendors on the case"


def test_many_signals_are_summarised() -> None:
    case, _, _ = base_case()
    for i in range(7):
        case.observe(SignalKind.MEDIA_ATTENTION, at=day(2 + i), actor=A, text=f"article {i}")
    [f] = hype.check(case, POLICY, day(10)).findings
    assert f.evidence[0] == "7 signals; the last five:"
    assert f.evidence[1].endswith("article 2") and f.evidence[5].endswith("article 6")


# ------------------------------------------------------------------ policy conflict (row 18)
def test_incompatible_policies_need_two_different_stated_policies() -> None:
    case, _, vendor = base_case()
    other = case.add_participant("Beta", [Role.VENDOR], at=T0, actor=A).pid
    case.set_policy(vendor, 90, at=day(1), actor=A)
    assert policy_conflict.check(case, POLICY, day(1)).findings == []
    case.set_policy(other, 90, at=day(1), actor=A)
    assert policy_conflict.check(case, POLICY, day(1)).findings == []  # same policy
    case.set_policy(other, 45, at=day(2), actor=A)
    [f] = policy_conflict.check(case, POLICY, day(2)).findings
    assert f.evidence == ("Beta: 45 days", "Acme: 90 days",
                          "spread 45 days between Beta and Acme")
    assert "45 days" in f.actions[0].text


def test_policy_days_must_be_sensible() -> None:
    case, _, vendor = base_case()
    with pytest.raises(Exception, match="days"):
        case.set_policy(vendor, 0, at=day(1), actor=A)


# ------------------------------------------------------------------ public before vendor (row 12)
def test_public_before_vendor_fires_for_vendors_aware_only_after_p() -> None:
    case = Case.open("CVD-2026-0002", "Talk", TLP.CLEAR, at=T0, actor=A)
    early = case.add_participant("Early", [Role.VENDOR], at=T0, actor=A).pid
    case.record_cs(CSEvent.V, early, at=day(1), actor=A)
    case.record_cs(CSEvent.P, None, at=day(2), actor=A)
    late = case.add_participant("Late", [Role.VENDOR], at=day(3), actor=A).pid
    [f] = public_before_vendor.check(case, POLICY, day(4)).findings
    assert (f.subject, f.severity) == (late, Severity.HIGH)
    assert f.evidence == ("P (public aware) 2026-09-03; V (vendor aware) 2026-09-04",
                          "no fix ready (F) yet")
    case.record_cs(CSEvent.F, late, at=day(5), actor=A)
    assert public_before_vendor.check(case, POLICY, day(5)).findings == []
    assert early != late


# ------------------------------------------------------------------ vendor not notified (6.1)
def test_vendor_not_notified_after_the_target_window() -> None:
    case = Case.open("CVD-2026-0003", "Quiet", TLP.AMBER, at=T0, actor=A)
    vendor = case.add_participant("Acme", [Role.VENDOR], at=T0, actor=A).pid
    just_before = T0 + timedelta(hours=POLICY.ack_target_hours) - timedelta(seconds=1)
    verdict = vendor_not_notified.check(case, POLICY, just_before)
    assert verdict.findings == []
    assert verdict.next_check == T0 + timedelta(hours=24)
    [f] = vendor_not_notified.check(case, POLICY, T0 + timedelta(hours=24)).findings
    assert f.subject == vendor
    assert f.evidence == ("on the case since 2026-09-01 (24 hours), no contact attempt logged",
                          "policy: first contact within 24 h")
    case.contact_attempt(vendor, Channel.EMAIL, AttemptOutcome.SENT, at=day(2), actor=A)
    assert vendor_not_notified.check(case, POLICY, day(2)).findings == []


def test_vendor_not_notified_honours_organization_overrides() -> None:
    case = Case.open("CVD-2026-0004", "Quiet", TLP.AMBER, at=T0, actor=A)
    case.add_participant("Slow Corp", [Role.VENDOR], at=T0, actor=A)
    policy = Policy(organizations={"slow corp": {"ack_target_hours": 72,
                                                 "ack_deadline_hours": 96}})
    assert vendor_not_notified.check(case, policy, day(2)).findings == []
    assert len(vendor_not_notified.check(case, policy, day(3)).findings) == 1
