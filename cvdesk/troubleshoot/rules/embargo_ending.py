"""The embargo is about to end (or has) and a vendor has no fix (6.10 rows 8 and 19)."""

from __future__ import annotations

from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.em import EM_IN_FORCE
from cvdesk.domain.model import Role
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.common import DAYS, plural
from cvdesk.troubleshoot.finding import Action, Finding, Phase, Severity, Verdict
from cvdesk.troubleshoot.timed import Count, Timed

PROBLEM = "embargo-ending-vendor-not-ready"

ACTIONS = (
    Action(Role.VENDOR, "ask for an extension now, with a reason and a date; the "
           "embargo is a courtesy, not a right"),
    Action(Role.COORDINATOR, "extend only if the vendor is cooperating and has a good "
           "reason; otherwise publish on the date; never wait indefinitely"),
    Action(Role.REPORTER, "agree an extension only with a new, firm date"),
)

CONCERNS = (Role.VENDOR, Role.REPORTER, Role.COORDINATOR)


def check(case: Case, policy: Policy, now: datetime) -> Verdict:
    verdict = Verdict()
    end = case.embargo_end
    if case.em not in EM_IN_FORCE or end is None:
        return verdict
    if all(CSEvent.F in p.vfd for p in case.vendors):  # every vendor has a fix
        return verdict
    warn_from = end - DAYS[policy.draft_share_max_days]
    if not verdict.reached(warn_from, now):
        return verdict
    not_ready = [p for p in case.vendors if CSEvent.F not in p.vfd]
    verdict.check_at(end, now)
    passed = now >= end
    names = ", ".join(p.name for p in not_ready[:5]) + (
        f" and {len(not_ready) - 5} more" if len(not_ready) > 5 else "")
    verdict.findings.append(Finding(
        problem=PROBLEM, title="Embargo " + ("has ended" if passed else "ends soon")
        + f"; {plural(len(not_ready), 'vendor')} without a fix",
        section="6.10 rows 8, 19", severity=Severity.HIGH if passed else Severity.MEDIUM,
        case_id=case.case_id, phase=Phase.REMEDIATION,
        concerns=CONCERNS,
        evidence=(Timed(now, f"embargo end {end.isoformat()}: ended ", Count(end), " ago")
                  if passed else
                  Timed(now, f"embargo end {end.isoformat()}: ends in ", Count(end, ahead=True)),
                  f"no fix ready (F) from: {names}",
                  f"policy: share the draft {policy.draft_share_min_days}-"
                  f"{policy.draft_share_max_days} days before publication"),
        actions=ACTIONS))
    return verdict
