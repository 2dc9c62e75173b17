"""A vendor has not acknowledged the report within the policy window (24-48 hours; 6.2)."""

from __future__ import annotations

from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.model import Role
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.common import HOURS, attempts_text, party_policy
from cvdesk.troubleshoot.finding import Action, Finding, Phase, Severity, Verdict
from cvdesk.troubleshoot.rules.vendor_unreachable import unreachable
from cvdesk.troubleshoot.timed import Count, Timed

PROBLEM = "no-acknowledgement"

ACTIONS = (
    Action(Role.COORDINATOR, "send a short reminder on a second channel and "
           "check that the address is the vendor's security contact"),
    Action(Role.VENDOR, "acknowledge receipt, even before triage is done"),
)

CONCERNS = (Role.COORDINATOR, Role.REPORTER)


def check(case: Case, base: Policy, now: datetime) -> Verdict:
    verdict = Verdict()
    for p in case.vendors:
        if p.replies or p.first_attempt_at is None:
            continue
        policy = party_policy(base, p)
        if unreachable(p, policy):
            continue
        due = p.first_attempt_at + HOURS[policy.ack_deadline_hours]
        if not verdict.reached(due, now, p.pid):
            continue
        verdict.findings.append(Finding(
            problem=PROBLEM, title=f"{p.name} has not acknowledged the report",
            section="6.2", severity=Severity.MEDIUM, case_id=case.case_id,
            phase=Phase.REPORTING, concerns=CONCERNS,
            subject=p.pid, subject_name=p.name,
            evidence=(attempts_text(p), Timed(
                now, Count(p.first_attempt_at, "hour", "hours", plural=False),
                " since the first attempt, no acknowledgement (policy window "
                f"{policy.ack_deadline_hours} h)")),
            actions=ACTIONS))
    return verdict
