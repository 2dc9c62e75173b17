"""The report is outside the vendor's programme scope (6.10 row 13)."""

from __future__ import annotations

from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.model import Role, SignalKind
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.finding import Action, Phase, Severity, Verdict
from cvdesk.troubleshoot.rules._signal_rule import signal_rule

PROBLEM = "out-of-scope"

ACTIONS = (
    Action(Role.VENDOR, "decide on the substance, not the scope: fix it anyway, send "
           "it to the upstream project, handle it as an incident, or route it as an "
           "ordinary bug; then revise the published scope"),
    Action(Role.REPORTER, "ask which of those routes the vendor takes; if none, a "
           "coordinator can help"),
    Action(Role.COORDINATOR, "if the vendor is not the right party, find who is"),
)

CONCERNS = (Role.VENDOR, Role.REPORTER)


def check(case: Case, policy: Policy, now: datetime) -> Verdict:
    if not case.signals:  # most cases: nothing observed, nothing to read
        return Verdict()
    return signal_rule(
        case, (SignalKind.OUT_OF_SCOPE,), problem=PROBLEM,
        title="Report is out of the vendor's programme scope", section="6.10 row 13",
        severity=lambda c: Severity.MEDIUM, phase=Phase.VALIDATION,
        concerns=CONCERNS, actions=ACTIONS)
