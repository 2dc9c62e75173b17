"""A second report of the same vulnerability: independent discovery? (guide 6.5; row 15)."""

from __future__ import annotations

from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.em import EM_IN_FORCE
from cvdesk.domain.model import Role, SignalKind
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.finding import Action, Phase, Severity, Verdict
from cvdesk.troubleshoot.rules._signal_rule import signal_rule

PROBLEM = "independent-discovery"

ACTIONS = (
    Action(Role.COORDINATOR, "check real independence: do the finders know each other, "
           "share a tool, a talk or a public hint? Ask both reporters how they found "
           "it; if it is independent, a third party can find it too: reassess the "
           "embargo and consider shortening it"),
    Action(Role.VENDOR, "treat the second finder like the first (same timeline, same "
           "credit policy); if details are public, see 6.4"),
)

CONCERNS = (Role.VENDOR, Role.COORDINATOR)


def check(case: Case, policy: Policy, now: datetime) -> Verdict:
    if not case.signals:  # most cases: nothing observed, nothing to read
        return Verdict()
    return signal_rule(
        case, (SignalKind.POSSIBLE_DUPLICATE,), problem=PROBLEM,
        title="Another report looks like this vulnerability", section="6.5; 6.10 row 15",
        severity=lambda c: Severity.HIGH if c.em in EM_IN_FORCE else Severity.MEDIUM,
        phase=Phase.VALIDATION, concerns=CONCERNS,
        extra_evidence=lambda c: [f"embargo {c.em.value}"],
        actions=ACTIONS)
