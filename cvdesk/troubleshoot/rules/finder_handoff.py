"""The finder cannot follow the case through (6.10 row 1)."""

from __future__ import annotations

from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.model import Role, SignalKind
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.finding import Action, Phase, Severity, Verdict
from cvdesk.troubleshoot.rules._signal_rule import signal_rule

PROBLEM = "finder-needs-handoff"

ACTIONS = (
    Action(Role.COORDINATOR, "take the case over: produce a hand-off package (cvdesk "
           "coordinator handoff) and agree how the finder is credited"),
    Action(Role.FINDER, "you may hand off or step back; reporting is voluntary, and "
           "what you have already shared is valuable"),
)

CONCERNS = (Role.FINDER, Role.REPORTER, Role.COORDINATOR)


def check(case: Case, policy: Policy, now: datetime) -> Verdict:
    if not case.signals:  # most cases: nothing observed, nothing to read
        return Verdict()
    return signal_rule(
        case, (SignalKind.FINDER_NEEDS_HANDOFF,), problem=PROBLEM,
        title="The finder lacks the time or means to follow through", section="6.10 row 1",
        severity=lambda c: Severity.MEDIUM, phase=Phase.REPORTING,
        concerns=CONCERNS, actions=ACTIONS)
