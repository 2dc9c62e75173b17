"""Cannot reach the vendor after reasonable attempts on several channels (guide 6.1; 6.10 row 3)."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from cvdesk.domain.case import Case, ParticipantState
from cvdesk.domain.model import Role
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot.common import attempts_text, party_policy, unused_channels
from cvdesk.troubleshoot.finding import Action, Finding, Phase, Severity, Verdict
from cvdesk.troubleshoot.timed import Count, Timed

PROBLEM = "vendor-unreachable"


def unreachable(p: ParticipantState, policy: Policy) -> bool:
    return (p.is_vendor and p.replies == 0
            and p.attempts >= policy.unreachable_min_attempts
            and len(p.channels) >= policy.unreachable_min_channels)

CONCERNS = (Role.REPORTER, Role.COORDINATOR)


@cache
def _actions(untried: str) -> tuple[Action, ...]:
    return (
        Action(Role.COORDINATOR, f"try the channels not used yet ({untried}); look for "
               "security.txt, a CSAF provider, a bug-bounty programme, the FIRST directory "
               "and the CVE CNA list; log every attempt"),
        Action(Role.REPORTER, "hand the case to a third-party coordinator, or publish with "
               "mitigation advice once reasonable attempts have failed"),
    )


def check(case: Case, base: Policy, now: datetime) -> Verdict:
    verdict = Verdict()
    for p in case.vendors:
        if p.replies:
            continue
        policy = party_policy(base, p)
        if not unreachable(p, policy):
            continue
        assert p.first_attempt_at is not None
        untried = ", ".join(unused_channels(p)) or "none left"
        verdict.findings.append(Finding(
            problem=PROBLEM, title=f"{p.name} cannot be reached",
            section="6.1; 6.10 row 3", severity=Severity.HIGH, case_id=case.case_id,
            phase=Phase.REPORTING, concerns=CONCERNS,
            subject=p.pid, subject_name=p.name,
            evidence=(
                attempts_text(p),
                "no reply or acknowledgement ever received",
                Timed(now, Count(p.first_attempt_at), " since the first attempt"),
                f"policy: {policy.unreachable_min_attempts}+ attempts on "
                f"{policy.unreachable_min_channels}+ channels count as reasonable effort",
            ),
            actions=_actions(untried)))
    return verdict
