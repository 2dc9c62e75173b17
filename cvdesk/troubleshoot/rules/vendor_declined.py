"""The vendor declines to act: deferred or closed the report without a fix (6.10 row 7)."""

from __future__ import annotations

from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.model import Role
from cvdesk.domain.policy import Policy
from cvdesk.domain.rm import RM
from cvdesk.troubleshoot.common import day
from cvdesk.troubleshoot.finding import Action, Finding, Phase, Severity, Verdict

PROBLEM = "vendor-declined"

ACTIONS = (
    Action(Role.REPORTER, "your obligation to the vendor ends here: publish with "
           "mitigation advice, or ask a coordinator to try once more"),
    Action(Role.COORDINATOR, "ask the vendor for its reasons in writing and put "
           "them in the advisory; give deployers workarounds"),
)

CONCERNS = (Role.REPORTER, Role.COORDINATOR)
_DECLINED = frozenset({RM.DEFERRED, RM.CLOSED})


def check(case: Case, policy: Policy, now: datetime) -> Verdict:
    verdict = Verdict()
    for p in case.vendors:
        if p.rm not in _DECLINED or CSEvent.F in p.vfd:
            continue
        verdict.findings.append(Finding(
            problem=PROBLEM, title=f"{p.name} declines to fix",
            section="6.10 row 7", severity=Severity.HIGH, case_id=case.case_id,
            phase=Phase.REMEDIATION, concerns=CONCERNS,
            subject=p.pid, subject_name=p.name,
            evidence=(f"{p.name} moved the report to RM {p.rm.value} on {day(p.rm_at)}",
                      "no fix ready (F) recorded for this vendor"),
            actions=ACTIONS))
    return verdict
