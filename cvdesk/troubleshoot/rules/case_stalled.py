"""Nothing has happened on an open case for a long time (6.10 row 21; 6.7)."""

from __future__ import annotations

from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.model import Role
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.common import DAYS, day
from cvdesk.troubleshoot.finding import Action, Finding, Phase, Severity, Verdict
from cvdesk.troubleshoot.timed import Count, Timed

PROBLEM = "case-stalled"

ACTIONS = (
    Action(Role.COORDINATOR, "ask every participant for their status and the next "
           "date; consider a third-party coordinator"),
    Action(Role.VENDOR, "say where the fix stands, even if the answer is 'not yet'"),
    Action(Role.REPORTER, "keep it cooperative: ask, don't threaten"),
)

CONCERNS = (Role.COORDINATOR, Role.REPORTER, Role.VENDOR)


def check(case: Case, policy: Policy, now: datetime) -> Verdict:
    if case.last_event_at is None:
        return Verdict()
    verdict = Verdict()
    if not verdict.reached(case.last_event_at + DAYS[policy.stalled_days], now):
        return verdict
    # Positional, in Finding's order (see no_acknowledgement).
    verdict.findings.append(Finding(
        PROBLEM, "The case is not moving", "6.7; 6.10 row 21", Severity.LOW, case.case_id,
        Phase.REMEDIATION, CONCERNS,
        (Timed(now, f"last event {day(case.last_event_at)}, ", Count(case.last_event_at),
               f" ago (policy: {policy.stalled_days})"),),
        ACTIONS))
    return verdict
