"""Media attention and hype: press, branded names, talks (guide 6.8; 6.10 row 20)."""

from __future__ import annotations

from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.model import Role, SignalKind
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.finding import Action, Phase, Severity, Verdict
from cvdesk.troubleshoot.rules._signal_rule import signal_rule

PROBLEM = "media-attention"

ACTIONS = (
    Action(Role.VENDOR, "give accurate facts and a date; do not try to suppress the "
           "story; let the vulnerability, not the name or the logo, be the story"),
    Action(Role.COORDINATOR, "prepare a plain advisory that can go out early if the "
           "attention turns into details; check whether anything has leaked (6.4)"),
)

CONCERNS = (Role.VENDOR, Role.COORDINATOR)


def check(case: Case, policy: Policy, now: datetime) -> Verdict:
    if not case.signals:  # most cases: nothing observed, nothing to read
        return Verdict()
    return signal_rule(
        case, (SignalKind.HYPE, SignalKind.MEDIA_ATTENTION), problem=PROBLEM,
        title="Media attention and hype around the case", section="6.8; 6.10 row 20",
        severity=lambda c: Severity.MEDIUM if CSEvent.P not in c.pxa else Severity.LOW,
        phase=Phase.PUBLIC_AWARENESS, concerns=CONCERNS,
        extra_evidence=lambda c: ["public awareness (P) "
                                  + ("recorded" if CSEvent.P in c.pxa else "not yet recorded")],
        actions=ACTIONS)
