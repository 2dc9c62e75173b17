"""The public knew before the vendor did (6.10 row 12).

A vendor that replied, or whose RM reached received, was aware from then on (the
domain records V at that time), so a later P does not count against it.
"""

from __future__ import annotations

from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.model import Role
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.common import day
from cvdesk.troubleshoot.finding import Action, Finding, Phase, Severity, Verdict

PROBLEM = "public-before-vendor"

ACTIONS = (
    Action(Role.VENDOR, "publish advice and a timeline now; afterwards make it "
           "easier to report to you (security.txt, a policy, a fast reply) and "
           "test your own product"),
    Action(Role.COORDINATOR, "help the vendor reach its users; note the gap for "
           "the retrospective"),
)

CONCERNS = (Role.VENDOR, Role.COORDINATOR)


def check(case: Case, policy: Policy, now: datetime) -> Verdict:
    public = case.pxa_at.get(CSEvent.P)
    if public is None:
        return Verdict()
    verdict = Verdict()
    for p in case.vendors:
        # A V implied by P at P's own time came after it (the log's order decides a tie).
        if case.aware_before_public(p) is not False or CSEvent.F in p.vfd:
            continue
        aware = p.vfd_at[CSEvent.V]
        verdict.findings.append(Finding(
            problem=PROBLEM, title=f"{p.name} learned of it from the public",
            section="6.10 row 12", severity=Severity.HIGH, case_id=case.case_id,
            phase=Phase.PUBLIC_AWARENESS, concerns=CONCERNS,
            subject=p.pid, subject_name=p.name,
            evidence=(f"P (public aware) {day(public)}; V (vendor aware) {day(aware)}",
                      "no fix ready (F) yet"),
            actions=ACTIONS))
    return verdict
