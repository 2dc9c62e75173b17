"""Run every rule over a case: its findings, most urgent first, and when to look again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.finding import Finding
from cvdesk.troubleshoot.rules import RULES, Check


@dataclass(frozen=True)
class Diagnosis:
    case_id: str
    findings: tuple[Finding, ...]
    next_check: datetime | None

    @property
    def top_severity(self) -> int:
        return max((f.severity for f in self.findings), default=0)


def diagnose(case: Case, policy: Policy, now: datetime,
             rules: Mapping[str, Check] = RULES) -> Diagnosis:
    findings: list[Finding] = []
    next_check: datetime | None = None
    for check in rules.values():
        verdict = check(case, policy, now)
        findings.extend(verdict.findings)
        if verdict.next_check is not None and (next_check is None
                                               or verdict.next_check < next_check):
            next_check = verdict.next_check
    findings.sort(key=lambda f: (-f.severity, f.problem, f.subject or 0))
    return Diagnosis(case.case_id, tuple(findings), next_check)
