"""The vulnerability became public before the planned date (guide 6.4; 6.10 row 11)."""

from __future__ import annotations

from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.em import EM_IN_FORCE
from cvdesk.domain.model import Role
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.common import day
from cvdesk.troubleshoot.finding import Action, Finding, Phase, Severity, Verdict

PROBLEM = "public-before-date"


def check(case: Case, policy: Policy, now: datetime) -> Verdict:
    if CSEvent.P not in case.pxa or case.em not in EM_IN_FORCE:
        return Verdict()
    return Verdict([Finding(
        problem=PROBLEM, title="Public before the planned date: the embargo is moot",
        section="6.4; 6.10 row 11", severity=Severity.HIGH, case_id=case.case_id,
        phase=Phase.PUBLIC_AWARENESS, concerns=(Role.VENDOR, Role.COORDINATOR, Role.REPORTER),
        evidence=(f"P (public aware) recorded {day(case.pxa_at.get(CSEvent.P))}",
                  f"embargo still {case.em.value}, planned end "
                  f"{case.embargo_end.isoformat() if case.embargo_end else 'none'}"),
        actions=(
            Action(Role.COORDINATOR, "exit the embargo and bring publication forward; find "
                   "out what leaked (all or part), how, and who needs to respond"),
            Action(Role.VENDOR, "publish advice and mitigations now, accelerate the fix, "
                   "acknowledge the issue publicly; do not punish whoever leaked"),
            Action(Role.REPORTER, "tell the coordinator where you saw it public"),
        ))])
