"""Publication is near and the draft advisory has not been shared for review (6.10: share
the draft with the vendors and the reporter 1-2 weeks before publication, so that what
it says about each of them is right when it goes out).

"Shared" is an ``advisory.previewed`` event in the log (``cvdesk advisory preview``);
a sweep reads its time from the case row (``draft_shared_at``).  The rule looks at the
first publication only: once the case is public (P) the draft is no longer confidential
and a revision is checked by the people who asked for it.
"""

from __future__ import annotations

from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.em import EM_IN_FORCE
from cvdesk.domain.model import Role
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.common import DAYS
from cvdesk.troubleshoot.finding import Action, Finding, Phase, Severity, Verdict
from cvdesk.troubleshoot.timed import Count, Timed

PROBLEM = "draft-not-shared"

ACTIONS = (
    Action(Role.COORDINATOR, "send the draft advisory to the vendors and the reporter "
           "for review now, with a deadline for corrections before the publication date "
           "(cvdesk advisory preview)"),
    Action(Role.VENDOR, "check what the draft says about your products and send "
           "corrections and your statement before the deadline"),
    Action(Role.REPORTER, "check the description and the credit"),
)

CONCERNS = (Role.COORDINATOR, Role.VENDOR, Role.REPORTER)


def check(case: Case, policy: Policy, now: datetime) -> Verdict:
    verdict = Verdict()
    end = case.embargo_end
    if (case.em not in EM_IN_FORCE or end is None or CSEvent.P in case.pxa
            or case.previewed_at is not None):
        return verdict
    if not verdict.reached(end - DAYS[policy.draft_share_max_days], now):
        return verdict
    late = end - DAYS[policy.draft_share_min_days]
    verdict.check_at(late, now)
    verdict.check_at(end, now)
    if now >= end:
        return verdict  # the date has passed: embargo-ending and publication take over
    short = now >= late
    verdict.findings.append(Finding(
        problem=PROBLEM, title="Draft advisory not shared for review"
        + ("; less than the review time left" if short else ""),
        section="6.10", severity=Severity.HIGH if short else Severity.MEDIUM,
        case_id=case.case_id, phase=Phase.PUBLIC_AWARENESS, concerns=CONCERNS,
        evidence=(Timed(now, f"embargo end {end.isoformat()}: ends in ",
                        Count(end, ahead=True)),
                  "no draft sent for review (advisory preview) yet",
                  f"policy: share the draft {policy.draft_share_min_days}-"
                  f"{policy.draft_share_max_days} days before publication"),
        actions=ACTIONS))
    return verdict
