"""Somebody stopped replying: any role (guide 6.3; 6.10 rows 6 and 10).

Somebody who replied and then left repeated attempts unanswered
(``stopped_replying_min_attempts``) for the silence window has gone quiet; one
unanswered message is not silence.  Vendors that meet the stricter 6.2 test are
left to vendor-unresponsive.
"""

from __future__ import annotations

from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.model import Role
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.common import DAYS, day, party_policy, plural
from cvdesk.troubleshoot.finding import Action, Finding, Phase, Severity, Verdict
from cvdesk.troubleshoot.rules.vendor_unresponsive import due_time as unresponsive_due
from cvdesk.troubleshoot.timed import Count, Timed

PROBLEM = "stopped-replying"

VENDOR_CONCERNS = (Role.REPORTER, Role.COORDINATOR)
VENDOR_ACTIONS = (
    Action(Role.REPORTER, "give the vendor a heads-up with the date you will publish, and a "
           "courtesy copy of the draft before it"),
    Action(Role.COORDINATOR, "reach the vendor on another channel; if silence goes on, set a "
           "publication date"),
)
OTHER_CONCERNS = (Role.VENDOR, Role.COORDINATOR)
OTHER_ACTIONS = (
    Action(Role.VENDOR, "go ahead with the fix and the advisory without them; send a "
           "heads-up before publishing and keep their credit"),
    Action(Role.COORDINATOR, "keep the participant informed of the dates; apply any "
           "bug-bounty policy as written"),
)


def check(case: Case, base: Policy, now: datetime) -> Verdict:
    verdict = Verdict()
    per_party = bool(base.organizations)
    for p in case.participants.values():
        if p.replies == 0 or p.attempts_since_reply == 0 or p.last_reply_at is None:
            continue
        policy = party_policy(base, p) if per_party else base
        if p.attempts_since_reply < max(1, policy.stopped_replying_min_attempts):
            continue
        strict = unresponsive_due(case, p, policy)
        if strict is not None and now >= strict:
            continue
        due = p.last_reply_at + DAYS[policy.stopped_replying_days]
        if not verdict.reached(due, now, p.pid):
            continue
        verdict.check_at(strict, now, p.pid)
        concerns, act = (VENDOR_CONCERNS, VENDOR_ACTIONS) if p.is_vendor else (
            OTHER_CONCERNS, OTHER_ACTIONS)
        # Positional, in Finding's order (see no_acknowledgement).
        verdict.findings.append(Finding(
            PROBLEM, f"{p.name} ({', '.join(sorted(p.roles))}) stopped replying",
            "6.3; 6.10 rows 6, 10", Severity.MEDIUM, case.case_id, Phase.REMEDIATION,
            concerns,
            (Timed(now, f"last reply {day(p.last_reply_at)}, ", Count(p.last_reply_at),
                   f" ago (policy: {policy.stopped_replying_days})"),
             f"{plural(p.attempts_since_reply, 'attempt')} since, last "
             f"{day(p.last_attempt_at)} (policy: at least "
             f"{policy.stopped_replying_min_attempts})"),
            act, p.pid, p.name))
    return verdict
