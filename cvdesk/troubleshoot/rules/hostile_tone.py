"""Messages turn hostile: insults, ultimatums, demands for money (guide 6.7, 6.9)."""

from __future__ import annotations

from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.model import Role, SignalKind
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.finding import Action, Phase, Severity, Verdict
from cvdesk.troubleshoot.rules._signal_rule import signal_rule

PROBLEM = "hostile-tone"

ACTIONS = (
    Action(Role.COORDINATOR, "keep calm and carry on: answer the substance, not the "
           "tone; restate dates and next steps; offer to mediate"),
    Action(Role.VENDOR, "the person reporting is not the enemy; reply briefly and "
           "factually, and recognize the help"),
    Action(Role.REPORTER, "a responsive vendor is doing better than many; demands for "
           "payment before disclosure can read as extortion"),
)

CONCERNS = (Role.REPORTER, Role.VENDOR, Role.COORDINATOR)


def check(case: Case, policy: Policy, now: datetime) -> Verdict:
    if not case.signals:  # most cases: nothing observed, nothing to read
        return Verdict()
    return signal_rule(
        case, (SignalKind.HOSTILE_TONE,), problem=PROBLEM,
        title="The tone has turned hostile", section="6.7; 6.9",
        severity=lambda c: Severity.MEDIUM, phase=Phase.REMEDIATION,
        concerns=CONCERNS, actions=ACTIONS)
