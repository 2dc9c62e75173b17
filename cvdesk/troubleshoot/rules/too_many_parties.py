"""Too many parties for a long embargo: the leak risk 1-(1-p)^n (6.10 row 9)."""

from __future__ import annotations

from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.em import Consent
from cvdesk.domain.model import Role
from cvdesk.domain.policy import Policy, leak_risk
from cvdesk.troubleshoot.finding import Action, Finding, Phase, Severity, Verdict

PROBLEM = "too-many-parties"

ACTIONS = (
    Action(Role.COORDINATOR, "plan for a shorter embargo and have the advisory ready "
           "to publish at short notice"),
    Action(Role.VENDOR, "let a coordinator handle the many-vendor notification"),
    Action(Role.REPORTER, "expect an earlier publication than in a two-party case"),
)

CONCERNS = (Role.REPORTER, Role.VENDOR, Role.COORDINATOR)


def check(case: Case, policy: Policy, now: datetime) -> Verdict:
    p = policy.leak_probability_per_party
    # The risk grows with the number of parties, and the parties counted are some or all
    # of the participants: when all of them are within the limit, so is any part.
    if leak_risk(len(case.participants), p) <= policy.max_leak_risk:
        return Verdict()
    in_embargo = [x for x in case.participants.values()
                  if x.consent in (Consent.INVITED, Consent.SIGNATORY)]
    parties = in_embargo or list(case.participants.values())
    n = len(parties)
    risk = leak_risk(n, p)
    if risk <= policy.max_leak_risk:
        return Verdict()
    vendors = sum(1 for x in parties if x.is_vendor)
    return Verdict([Finding(
        problem=PROBLEM, title=f"{n} parties: the embargo is likely to leak",
        section="6.10 row 9", severity=Severity.MEDIUM, case_id=case.case_id,
        phase=Phase.REMEDIATION, concerns=CONCERNS,
        evidence=(f"{n} parties {'in the embargo' if in_embargo else 'on the case'} "
                  f"({vendors} vendors)",
                  f"leak risk 1-(1-{p})^{n} = {risk:.1%} (policy limit "
                  f"{policy.max_leak_risk:.0%})"),
        actions=ACTIONS)])
