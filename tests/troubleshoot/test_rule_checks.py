"""Each rule's own next check (``Diagnosis.checks``) is a promise a sweep relies on.

A sweep that finds a case due by the clock alone asks only the rules whose check has
come (issue 9, the sweep a day later), reading no participants for rules of the case's
own state and only the participants due for rules that judge each participant alone.
That is right only if (1) what a rule finds stays the same until its check, per
participant where the check names one, (2) ``PARTICIPANT_RULES`` find about a
participant, and set its check, from that participant alone, and (3) ``CASE_RULES``
read no participant.  These tests hold every rule to that on generated cases.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from benchmarks.generate import synthetic_case
from cvdesk.domain.case import Case
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.model import SignalKind
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot import RULES, diagnose
from cvdesk.troubleshoot.engine import rules_fingerprint
from cvdesk.troubleshoot.rules import CASE_RULES, PARTICIPANT_RULES
from cvdesk.troubleshoot.stored import facts_text
from tests.troubleshoot.builders import ACTOR, attempt, day, embargo, new_case, reply

NOW = datetime.fromisoformat("2026-11-22T12:00:00+00:00")
P = Policy()
#: Times after NOW at which the promises are checked (before each check, and at it).
LATER = [timedelta(hours=h) for h in (0, 1, 23, 25, 49, 24 * 3, 24 * 8, 24 * 15,
                                      24 * 30, 24 * 44, 24 * 70, 24 * 120)]


def cases() -> Iterator[Case]:
    rng = random.Random(5)
    for n in range(1, 41):
        yield synthetic_case(rng, n, NOW)
    # Hand-made ones for what the generator lacks: signals, a fix, a public event.
    case, v = new_case()
    embargo(case, end=80, at=1)
    attempt(case, v, 1)
    reply(case, v, 2)
    attempt(case, v, 20)
    attempt(case, v, 30)
    case.observe(SignalKind.LEAK, at=day(31), actor=ACTOR, text="PoC posted")
    yield case
    case, v = new_case()
    attempt(case, v, 1)
    reply(case, 1, 2)
    attempt(case, 1, 40)
    attempt(case, 1, 50)
    case.record_cs(CSEvent.P, None, at=day(60), actor=ACTOR)
    yield case


def start(case: Case) -> datetime:
    return max(NOW, case.last_event_at or NOW)


def about(findings: object, rule: str, pid: int | None = None) -> list[str]:
    return [facts_text(f) for f in findings  # type: ignore[attr-defined]
            if f.problem == rule and (pid is None or f.subject == pid)]


def test_what_a_rule_finds_holds_until_its_own_check() -> None:
    asked = 0
    for case in cases():
        t0 = start(case)
        first = diagnose(case, P, t0)
        for later in LATER:
            t = t0 + later
            now = diagnose(case, P, t)
            for rule in RULES:
                check = first.checks.get(rule)
                if check is None or t < check:
                    subjects = {int(k.rpartition(":p")[2]) for k in first.checks
                                if k.startswith(rule + ":p") and t >= first.checks[k]}
                    kept = [f for f in first.findings if f.problem == rule
                            and f.subject not in subjects]
                    seen = [f for f in now.findings if f.problem == rule
                            and f.subject not in subjects]
                    assert [facts_text(f) for f in seen] == [facts_text(f) for f in kept], (
                        case.case_id, rule, t)
                    asked += 1
            # A check not yet reached is given again, unchanged, by a later diagnosis.
            for key, at in first.checks.items():
                if t < at:
                    assert now.checks.get(key) == at, (case.case_id, key, t)
    assert asked > 5000


def test_participant_rules_judge_each_participant_alone() -> None:
    seen_checks = 0
    for case in cases():
        for later in LATER[::3]:
            t = start(case) + later
            for rule in sorted(PARTICIPANT_RULES):
                check = RULES[rule]
                whole = check(case, P, t)
                assert whole.case_check is None, rule
                for pid in case.participants:
                    alone = copy.copy(case)
                    alone.participants = {pid: case.participants[pid]}
                    one = check(alone, P, t)
                    assert about(one.findings, rule) == about(whole.findings, rule, pid)
                    assert (one.subject_checks or {}).get(pid) == (
                        whole.subject_checks or {}).get(pid)
                    seen_checks += bool(one.subject_checks)
    assert seen_checks > 50


def test_case_rules_read_no_participant() -> None:
    for case in cases():
        bare = copy.copy(case)
        bare.participants = {}
        for later in LATER[::2]:
            t = start(case) + later
            for rule in CASE_RULES:
                a, b = RULES[rule](case, P, t), RULES[rule](bare, P, t)
                assert about(a.findings, rule) == about(b.findings, rule)
                assert a.next_check == b.next_check and a.subject_checks is None


def test_checks_are_named_as_the_findings_are_and_give_the_next_check() -> None:
    case, v = new_case()
    attempt(case, v, 1)
    reply(case, v, 2)
    attempt(case, v, 10)
    attempt(case, v, 11)
    got = diagnose(case, P, day(12))
    assert got.checks == {f"stopped-replying:p{v}": day(16), "case-stalled": day(41),
                          f"vendor-unresponsive:p{v}": day(44)}
    assert got.next_check == min(got.checks.values())


def test_the_fingerprint_changes_with_the_policy() -> None:
    assert rules_fingerprint(P) == rules_fingerprint(Policy())
    assert rules_fingerprint(P) != rules_fingerprint(Policy(stalled_days=31))
    assert rules_fingerprint(P) != rules_fingerprint(
        Policy(organizations={"Acme": {"stalled_days": 31}}))
