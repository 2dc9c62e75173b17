"""Details leaked, in whole or in part, during the embargo (guide 6.4; 6.10 row 11).

The rule fires while an embargo is in force and a leak has been observed, and it
is always high: 6.4 says that even a partial leak should bring the date forward.
Once the embargo has ended (the advice was followed, or its date came) the
finding resolves.  Without an embargo there is no date to bring forward; what
went public is recorded as P (public-before-vendor, active-exploitation).
"""

from __future__ import annotations

from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.em import EM_IN_FORCE
from cvdesk.domain.model import Role, SignalKind
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.finding import Action, Phase, Severity, Verdict
from cvdesk.troubleshoot.rules._signal_rule import signal_rule

PROBLEM = "leak"

ACTIONS = (
    Action(Role.COORDINATOR, "work through the leak checklist: what leaked (all of it, "
           "or enough to rediscover it?), how (which party, which channel), and who "
           "must respond; even a partial leak should bring the date forward"),
    Action(Role.VENDOR, "prepare to publish early with advice and mitigations; do not "
           "hunt or punish the leaker"),
    Action(Role.REPORTER, "tell the coordinator what you see in public, and do not "
           "add details"),
)

CONCERNS = (Role.COORDINATOR, Role.VENDOR, Role.REPORTER)


def check(case: Case, policy: Policy, now: datetime) -> Verdict:
    if not case.signals:  # most cases: nothing observed, nothing to read
        return Verdict()
    if case.em not in EM_IN_FORCE:
        return Verdict()
    return signal_rule(
        case, (SignalKind.LEAK,), problem=PROBLEM, title="Details leaked during the embargo",
        section="6.4; 6.10 row 11", severity=lambda c: Severity.HIGH,
        phase=Phase.PUBLIC_AWARENESS, concerns=CONCERNS,
        extra_evidence=lambda c: [f"embargo {c.em.value}"
                                  + (f", planned end {c.embargo_end.isoformat()}"
                                     if c.embargo_end else "")],
        actions=ACTIONS)
