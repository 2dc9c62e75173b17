"""Run every rule over a case: its findings, most urgent first, and when to look again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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

    @property
    def top_severity(self) -> int:
        return max((f.severity for f in self.findings), default=0)


_ALL = tuple(RULES.values())
_WITHOUT_SIGNALS = tuple(check for name, check in RULES.items() if name not in SIGNAL_RULES)


def diagnose(case: Case, policy: Policy, now: datetime,
             rules: Mapping[str, Check] = RULES) -> Diagnosis:
    findings: list[Finding] = []
    next_check: datetime | None = None
    if rules is RULES:  # most cases have no signal: their rules are not asked
        checks = _ALL if case.signals else _WITHOUT_SIGNALS
    else:
        checks = tuple(rules.values())
    for check in checks:
        verdict = check(case, policy, now)
        if verdict.findings:
            findings.extend(verdict.findings)
        when = verdict.next_check
        if when is not None and (next_check is None or when < next_check):
            next_check = when
    # Most urgent first; a sweep stores new findings in this order too.
    findings.sort(key=lambda f: (-f.severity, f.problem, f.subject or 0))
    return Diagnosis(case.case_id, tuple(findings), next_check)
