"""The vendor stopped responding (guide 6.2; 6.10 row 6).

The guide's test: there was prior contact, there were repeated attempts since,
the vendor has been silent for at least two weeks, and either the agreed date
has passed or, with no embargo, six weeks have gone by since the last reply.

An embargo that has ended counts as its agreed date passed, whether it ran to its
date or was terminated early (EM exited): in the ordinary course the embargo
exits on its date while the vendor stays silent, and that vendor is unresponsive
in the sense of 6.2, not merely slow to reply (6.3).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from cvdesk.domain.case import Case, ParticipantState
from cvdesk.domain.em import EM, EM_IN_FORCE
from cvdesk.domain.model import Role
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.common import DAYS, attempts_text, day, party_policy, plural
from cvdesk.troubleshoot.finding import Action, Finding, Phase, Severity, Verdict
from cvdesk.troubleshoot.timed import Count, Timed, Until

PROBLEM = "vendor-unresponsive"


def due_time(case: Case, p: ParticipantState, policy: Policy) -> datetime | None:
    """When this vendor counts as unresponsive if nothing new happens; None if it cannot.
    ``policy`` is the vendor's own (``party_policy``), as both callers have it already."""
    if not p.is_vendor or p.replies == 0 or p.last_reply_at is None:
        return None
    if p.attempts_since_reply < policy.unresponsive_min_attempts:
        return None
    silent = p.last_reply_at + DAYS[policy.unresponsive_silence_days]
    if case.em is EM.EXITED:
        return silent  # the embargo is over: its date has passed (or was brought forward)
    if case.em in EM_IN_FORCE and case.embargo_end is not None:
        date_passed = case.embargo_end
    else:
        date_passed = p.last_reply_at + DAYS[policy.unresponsive_no_embargo_days]
    return max(silent, date_passed)


def date_text(case: Case, policy: Policy, now: datetime) -> str:
    """Which half of the guide's "agreed date passed, or no embargo and six weeks" held."""
    end = case.embargo_end.isoformat() if case.embargo_end else "none"
    if case.em is EM.EXITED:
        passed = f"the embargo has ended; its agreed end {end} has passed"
        if case.embargo_end is None:
            return passed
        # Worded for the time of reading: the agreed end may pass while nothing happens.
        return Timed(now, Until(case.embargo_end,
                                f"the embargo was ended before its agreed end {end}", passed))
    if case.em in EM_IN_FORCE and case.embargo_end is not None:
        return f"agreed embargo end {end} has passed"
    return (f"no embargo in force; {policy.unresponsive_no_embargo_days}+ days since the "
            "last reply")

CONCERNS = (Role.REPORTER, Role.COORDINATOR)


@cache
def _actions(courtesy_copy_days: int) -> tuple[Action, ...]:
    return (
        Action(Role.REPORTER, f"send the vendor a courtesy copy of the draft advisory "
               f"{courtesy_copy_days} days ahead, then publish; or hand the case to a "
               "third-party coordinator"),
        Action(Role.COORDINATOR, "try the phone and the security.txt contacts; set a "
               "publication date and tell the vendor what it is"),
    )


def check(case: Case, base: Policy, now: datetime) -> Verdict:
    verdict = Verdict()
    found = verdict.findings
    per_party = bool(base.organizations)
    for p in case.vendors:
        if p.replies == 0:
            continue
        policy = party_policy(base, p) if per_party else base
        due = due_time(case, p, policy)
        if due is None:
            continue
        if not verdict.reached(due, now, p.pid):
            continue
        assert p.last_reply_at is not None
        # Positional, in Finding's order (see no_acknowledgement).
        found.append(Finding(
            PROBLEM, f"{p.name} stopped responding", "6.2; 6.10 row 6", Severity.HIGH,
            case.case_id, Phase.REMEDIATION, CONCERNS,
            (f"prior contact: {plural(p.replies, 'reply')}, last {day(p.last_reply_at)}",
             f"{plural(p.attempts_since_reply, 'attempt')} since that reply; "
             + attempts_text(p),
             Timed(now, Count(p.last_reply_at),
                   f" silent (policy: {policy.unresponsive_silence_days})"),
             date_text(case, policy, now)),
            _actions(policy.courtesy_copy_days), p.pid, p.name))
    return verdict
