"""A vendor on the case has never been contacted (guide 6.1; 6.10 row 16)."""

from __future__ import annotations

from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.model import Role
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.common import HOURS, day, party_policy
from cvdesk.troubleshoot.finding import Action, Finding, Phase, Severity, Verdict
from cvdesk.troubleshoot.timed import Count, Timed

PROBLEM = "vendor-not-notified"

ACTIONS = (
    Action(Role.COORDINATOR, "find the vendor's security contact (security.txt, "
           "CSAF provider metadata, bug-bounty platforms, the FIRST directory) "
           "and send the report; log the attempt"),
)

CONCERNS = (Role.COORDINATOR,)


def check(case: Case, base: Policy, now: datetime) -> Verdict:
    verdict = Verdict()
    found = verdict.findings
    per_party = bool(base.organizations)
    # Vendors added together (most of them) share their evidence: made once per case.
    evidence: dict[tuple[datetime, int], tuple[str, ...]] = {}
    for p in case.vendors:
        if p.attempts or p.replies:
            continue
        hours = (party_policy(base, p) if per_party else base).ack_target_hours
        if not verdict.reached(p.added_at + HOURS[hours], now, p.pid):
            continue
        said = evidence.get((p.added_at, hours))
        if said is None:
            said = evidence[p.added_at, hours] = (
                Timed(now, f"on the case since {day(p.added_at)} (",
                      Count(p.added_at, "hour", "hour"), "), no contact attempt logged"),
                f"policy: first contact within {hours} h")
        # Positional, in Finding's order (see no_acknowledgement): the most frequent finding.
        found.append(Finding(
            PROBLEM, f"{p.name} has not been notified", "6.1; 6.10 row 16", Severity.MEDIUM,
            case.case_id, Phase.REPORTING, CONCERNS, said, ACTIONS, p.pid, p.name))
    return verdict
