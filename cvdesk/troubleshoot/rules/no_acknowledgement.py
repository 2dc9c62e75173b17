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


#: The words after the count of hours, by policy window (the same for most vendors).
_SINCE: dict[int, str] = {}


def check(case: Case, base: Policy, now: datetime) -> Verdict:
    verdict = Verdict()
    found = verdict.findings
    per_party = bool(base.organizations)
    for p in case.vendors:
        if p.replies or p.first_attempt_at is None:
            continue
        policy = party_policy(base, p) if per_party else base
        if unreachable(p, policy):
            continue
        hours = policy.ack_deadline_hours
        if not verdict.reached(p.first_attempt_at + HOURS[hours], now, p.pid):
            continue
        since = _SINCE.get(hours)
        if since is None:
            since = _SINCE[hours] = (" since the first attempt, no acknowledgement (policy "
                                     f"window {hours} h)")
        # Positional, in Finding's order (problem, title, section, severity, case, phase,
        # concerns, evidence, actions, subject, its name): a cold sweep makes about a
        # hundred thousand of these, and keywords cost as much as the rest of the call.
        found.append(Finding(
            PROBLEM, f"{p.name} has not acknowledged the report", "6.2", Severity.MEDIUM,
            case.case_id, Phase.REPORTING, CONCERNS,
            (attempts_text(p), Timed(now, Count(p.first_attempt_at, "hour", "hours", False),
                                     since)),
            ACTIONS, p.pid, p.name))
    return verdict
