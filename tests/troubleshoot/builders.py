"""Case builders shared by the rule tests: pure domain cases on a fixed calendar.

Every time is ``T0`` plus some days, so evidence strings name predictable dates; every
builder returns the case and the participant ids a test needs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cvdesk.domain.case import Case
from cvdesk.domain.model import TLP, AttemptOutcome, Channel, Role
from cvdesk.troubleshoot import Verdict
from cvdesk.troubleshoot.finding import Finding

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
ACTOR = "tester"
E, W, PH = Channel.EMAIL, Channel.WEB_FORM, Channel.PHONE
SENT, NOREPLY, BOUNCED, ACK = (AttemptOutcome.SENT, AttemptOutcome.NO_REPLY,
                               AttemptOutcome.BOUNCED, AttemptOutcome.ACKNOWLEDGED)
SEC = timedelta(seconds=1)
VENDOR = "Acme Networks"


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def iso(n: float) -> str:
    return day(n).isoformat()


def new_case() -> tuple[Case, int]:
    """Reporter p1 (finder and reporter) and vendor p2, both added at T0."""
    case = Case.open("CVD-2026-0042", "Heap overflow", TLP.AMBER, at=T0, actor=ACTOR)
    case.add_participant("Rita", [Role.FINDER, Role.REPORTER], at=T0, actor=ACTOR)
    vendor = case.add_participant(VENDOR, [Role.VENDOR], at=T0, actor=ACTOR,
                                  organization=VENDOR)
    return case, vendor.pid


def attempt(case: Case, pid: int, n: float, channel: Channel = E,
            outcome: AttemptOutcome = SENT) -> None:
    case.contact_attempt(pid, channel, outcome, at=day(n), actor=ACTOR)


def reply(case: Case, pid: int, n: float, channel: Channel = E) -> None:
    case.contact_reply(pid, channel, at=day(n), actor=ACTOR)


def embargo(case: Case, end: float, at: float = 0) -> None:
    case.propose_embargo(day(end), at=day(at), actor=ACTOR)
    case.accept_embargo(at=day(at), actor=ACTOR)


def only(verdict: Verdict) -> Finding:
    assert len(verdict.findings) == 1, verdict.findings
    return verdict.findings[0]


def quiet(verdict: Verdict, next_check: datetime | None = None) -> None:
    assert verdict.findings == []
    assert verdict.next_check == next_check


def unresponsive_case(*, attempts_after: tuple[float, ...] = (5, 10)) -> tuple[Case, int]:
    """The vendor was contacted on day 0, replied on day 1 (2026-09-02), then ignored the
    attempts made on ``attempts_after`` days (alternating email and web form)."""
    case, v = new_case()
    attempt(case, v, 0)
    reply(case, v, 1)
    for i, n in enumerate(attempts_after):
        attempt(case, v, n, (E, W)[i % 2], NOREPLY)
    return case, v
