"""Legal threats in the case: cease-and-desist, lawsuits, DMCA, CFAA ... (guide 6.7, 6.9;
6.10 row 14)."""

from __future__ import annotations

from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.model import Role, SignalKind
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.finding import Action, Phase, Severity, Verdict
from cvdesk.troubleshoot.rules._signal_rule import signal_rule

PROBLEM = "legal-threat"

ACTIONS = (
    Action(Role.VENDOR, "keep calm and presume good faith; avoid legal entanglements: "
           "threats tend to backfire (they draw attention and drive finders away); "
           "separate 'is there a vulnerability?' from 'was there an incident?'"),
    Action(Role.REPORTER, "do not answer in kind; keep to the facts of the report, stop "
           "any further testing, and ask a coordinator to step in; get legal advice "
           "if you need it"),
    Action(Role.COORDINATOR, "engage as a neutral third party; restate what each side "
           "needs (a fix, a date, credit) and move the talk back to the vulnerability"),
)

CONCERNS = (Role.VENDOR, Role.REPORTER, Role.COORDINATOR)


def check(case: Case, policy: Policy, now: datetime) -> Verdict:
    if not case.signals:  # most cases: nothing observed, nothing to read
        return Verdict()
    return signal_rule(
        case, (SignalKind.LEGAL_THREAT,), problem=PROBLEM,
        title="Legal threats: the relationship is going sideways", section="6.7; 6.9; "
        "6.10 row 14", severity=lambda c: Severity.HIGH, phase=Phase.REMEDIATION,
        concerns=CONCERNS, actions=ACTIONS)
