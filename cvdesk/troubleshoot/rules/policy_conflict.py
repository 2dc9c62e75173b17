"""Vendors on one case follow different disclosure policies (6.10 row 18)."""

from __future__ import annotations

from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.model import Role
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.finding import Action, Finding, Phase, Severity, Verdict

PROBLEM = "incompatible-policies"


def check(case: Case, policy: Policy, now: datetime) -> Verdict:
    stated = sorted((p.policy_days, p.name) for p in case.vendors
                     if p.policy_days is not None)
    if len({days for days, _ in stated}) < 2:
        return Verdict()
    shortest, longest = stated[0], stated[-1]
    evidence = [f"{name}: {days} days" for days, name in stated[:8]]
    if len(stated) > 8:
        evidence.append(f"and {len(stated) - 8} more vendors with a stated policy")
    evidence.append(f"spread {longest[0] - shortest[0]} days between {shortest[1]} and "
                    f"{longest[1]}")
    return Verdict([Finding(
        problem=PROBLEM, title="Vendors' disclosure policies do not agree",
        section="6.10 row 18", severity=Severity.MEDIUM, case_id=case.case_id,
        phase=Phase.REMEDIATION, concerns=(Role.COORDINATOR, Role.VENDOR, Role.REPORTER),
        evidence=tuple(evidence),
        actions=(
            Action(Role.COORDINATOR, f"agree one date before anyone publishes: shorten the "
                   f"embargo towards {shortest[0]} days, or notify the fastest vendor later; "
                   "leaving a vendor out is nearly always the worst option"),
            Action(Role.VENDOR, "say now whether you can meet the shortest date, and what you "
                   "need if you cannot"),
        ))])
