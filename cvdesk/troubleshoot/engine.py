"""Run every rule over a case: its findings, most urgent first, and when to look again."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.finding import Finding
from cvdesk.troubleshoot.rules import RULES, SIGNAL_RULES, Check


@dataclass(frozen=True)
class Diagnosis:
    case_id: str
    findings: tuple[Finding, ...]
    next_check: datetime | None
    #: Each rule's own next check, by rule (problem id), and for the rules that judge
    #: each participant on its own, by participant, keyed as their findings are
    #: ("stopped-replying:p3"); a rule whose answer only a new event can change is left
    #: out.  What a rule finds stays the same until its own check comes
    #: (tests/troubleshoot/test_rule_checks.py), so a sweep that stores these asks only
    #: the rules (and participants) whose time has come when the clock alone makes a
    #: case due.
    checks: Mapping[str, datetime] = field(default_factory=dict)

    @property
    def top_severity(self) -> int:
        return max((f.severity for f in self.findings), default=0)


_ALL = tuple(RULES.items())
_WITHOUT_SIGNALS = tuple((name, check) for name, check in RULES.items()
                         if name not in SIGNAL_RULES)


def diagnose(case: Case, policy: Policy, now: datetime,
             rules: Mapping[str, Check] = RULES) -> Diagnosis:
    findings: list[Finding] = []
    next_check: datetime | None = None
    checks: dict[str, datetime] = {}
    # Most cases have no signal: their rules are not asked.
    asked = (_ALL if case.signals else _WITHOUT_SIGNALS) if rules is RULES else tuple(
        rules.items())
    for name, check in asked:
        verdict = check(case, policy, now)
        if verdict.findings:
            findings.extend(verdict.findings)
        when = verdict.next_check
        if when is not None:
            if next_check is None or when < next_check:
                next_check = when
            per = verdict.subject_checks
            if per is None:
                checks[name] = when
            else:  # named as the findings about each participant are
                for pid, at in per.items():
                    checks[f"{name}:p{pid}"] = at
                if verdict.case_check is not None:
                    checks[name] = verdict.case_check
    # Most urgent first; a sweep stores new findings in this order too.
    findings.sort(key=lambda f: (-f.severity, f.problem, f.subject or 0))
    return Diagnosis(case.case_id, tuple(findings), next_check, checks)


def rules_fingerprint(policy: Policy) -> str:
    """A digest of the rules asked and the policy they were asked with.  Stored rule
    checks are trusted only under the same digest: a rule added or removed, or a policy
    changed (an organization override too), makes a sweep ask every rule again."""
    text = repr((tuple(RULES), policy))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
