"""Downstream vendors are affected, or unknown (6.10 rows 16 and 17)."""

from __future__ import annotations

from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.model import Role, SignalKind
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.finding import Action, Phase, Severity, Verdict
from cvdesk.troubleshoot.rules._signal_rule import signal_rule

PROBLEM = "downstream-vendors"

ACTIONS = (
    Action(Role.VENDOR, "tell the downstream vendors you know of early, through "
           "standing channels, so their fixes can ship with yours"),
    Action(Role.COORDINATOR, "when the downstream set is unknown or large, plan for a "
           "shorter embargo: publication is how the unknown ones will learn"),
    Action(Role.REPORTER, "share any list of affected products or packages you have"),
)

CONCERNS = (Role.VENDOR, Role.REPORTER, Role.COORDINATOR)


def check(case: Case, policy: Policy, now: datetime) -> Verdict:
    if not case.signals:  # most cases: nothing observed, nothing to read
        return Verdict()
    unknown = any(s.kind is SignalKind.UNKNOWN_DOWNSTREAM for s in case.signals)
    return signal_rule(
        case, (SignalKind.DOWNSTREAM_AFFECTED, SignalKind.UNKNOWN_DOWNSTREAM), problem=PROBLEM,
        title=("Affected downstream vendors are unknown" if unknown
               else "Downstream vendors are affected"),
        section="6.10 rows 16, 17", severity=lambda c: Severity.MEDIUM,
        phase=Phase.REMEDIATION, concerns=CONCERNS,
        extra_evidence=lambda c: [f"{len(c.vendors)} vendors on the case"],
        actions=ACTIONS)
