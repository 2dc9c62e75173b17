"""Issue 8 in the rules: an embargo that has ended counts as "agreed date passed" for the
unresponsive vendor (6.2; 6.10 row 6), and "stopped replying" needs repeated unanswered
attempts (6.3).  Pure domain cases judged at explicit times."""

from __future__ import annotations

from datetime import datetime

from cvdesk.domain.case import Case
from cvdesk.domain.model import TLP, AttemptOutcome, Channel, Role
from cvdesk.domain.policy import Policy
from cvdesk.troubleshoot import RULES, diagnose
from cvdesk.troubleshoot.rules import stopped_replying, vendor_unresponsive
from tests.troubleshoot.builders import ACTOR, SEC, T0, day

A = ACTOR
P = Policy()
SILENCE = {k: RULES[k] for k in ("vendor-unresponsive", "stopped-replying")}


def silent_vendor(embargo_end: float = 30) -> tuple[Case, int]:
    """Vendor p2 replied on day 1, an embargo to day ``embargo_end`` was agreed on day 2,
    and two attempts (days 5 and 10) went unanswered."""
    case = Case.open("CVD-2026-0100", "Overflow", TLP.AMBER, at=T0, actor=A)
    case.add_participant("Rita", [Role.REPORTER, Role.FINDER], at=T0, actor=A)
    v = case.add_participant("Acme", [Role.VENDOR], at=T0, actor=A).pid
    case.contact_attempt(v, Channel.EMAIL, AttemptOutcome.SENT, at=day(0), actor=A)
    case.contact_reply(v, Channel.EMAIL, at=day(1), actor=A)
    case.propose_embargo(day(embargo_end), at=day(2), actor=A)
    case.accept_embargo(at=day(2), actor=A)
    for n in (5, 10):
        case.contact_attempt(v, Channel.EMAIL, AttemptOutcome.NO_REPLY, at=day(n), actor=A)
    return case, v


def keys(case: Case, now: datetime) -> list[str]:
    return sorted(f.key for f in diagnose(case, P, now, SILENCE).findings)


# ============================================================ row 6 after the embargo ends
def test_an_embargo_that_exits_on_its_date_leaves_the_silent_vendor_unresponsive() -> None:
    """The ordinary course: the embargo exits on its agreed date and the vendor stays
    silent.  Before, the exited embargo no longer counted and the case fell back to the
    milder stopped-replying until six weeks after the reply (day 43)."""
    case, v = silent_vendor(embargo_end=30)
    assert keys(case, day(30) - SEC) == ["stopped-replying:p2"]
    assert keys(case, day(30)) == ["vendor-unresponsive:p2"]  # the date has come
    case.terminate_embargo(at=day(30), actor=A, reason="agreed end reached")
    for now in (day(30), day(31), day(42)):
        assert keys(case, now) == ["vendor-unresponsive:p2"], now
    [f] = vendor_unresponsive.check(case, P, day(31)).findings
    assert f.subject == v and f.evidence[-1] == (
        "the embargo has ended; its agreed end 2026-10-01T09:00:00+00:00 has passed")
    assert f.evidence[2] == "30 days silent (policy: 14)"


def test_an_embargo_terminated_early_counts_as_its_date_passed() -> None:
    case, _ = silent_vendor(embargo_end=60)
    assert keys(case, day(20)) == ["stopped-replying:p2"]  # the agreed date is far away
    case.terminate_embargo(at=day(20), actor=A, reason="leak: publishing early")
    [f] = vendor_unresponsive.check(case, P, day(20)).findings
    assert f.evidence[-1] == ("the embargo was ended before its agreed end "
                              "2026-10-31T09:00:00+00:00")
    assert keys(case, day(20)) == ["vendor-unresponsive:p2"]


def test_after_the_embargo_the_silence_window_still_applies() -> None:
    case, _ = silent_vendor(embargo_end=10)
    case.terminate_embargo(at=day(10), actor=A)
    verdict = vendor_unresponsive.check(case, P, day(15) - SEC)
    assert verdict.findings == [] and verdict.next_check == day(15)  # reply + 14 days
    assert keys(case, day(15)) == ["vendor-unresponsive:p2"]


def test_an_embargo_still_in_force_before_its_date_is_not_the_date_passed() -> None:
    case, _ = silent_vendor(embargo_end=60)
    verdict = vendor_unresponsive.check(case, P, day(59))
    assert verdict.findings == [] and verdict.next_check == day(60)


# ============================================================ row 10: repeated attempts
def test_one_unanswered_message_is_not_silence() -> None:
    case = Case.open("CVD-2026-0101", "Overflow", TLP.AMBER, at=T0, actor=A)
    r = case.add_participant("Rita", [Role.REPORTER, Role.FINDER], at=T0, actor=A).pid
    case.contact_reply(r, Channel.EMAIL, at=day(1), actor=A)
    case.contact_attempt(r, Channel.EMAIL, AttemptOutcome.NO_REPLY, at=day(3), actor=A)
    assert stopped_replying.check(case, P, day(100)).findings == []
    old_rule = Policy(stopped_replying_min_attempts=1)
    assert [f.subject for f in stopped_replying.check(case, old_rule, day(15)).findings] == [r]
    case.contact_attempt(r, Channel.PHONE, AttemptOutcome.NO_REPLY, at=day(20), actor=A)
    verdict = stopped_replying.check(case, P, day(15) - SEC)
    assert verdict.findings == [] and verdict.next_check == day(15)  # the silence window
    [f] = stopped_replying.check(case, P, day(21)).findings
    assert f.evidence == ("last reply 2026-09-02, 20 days ago (policy: 14)",
                          "2 attempts since, last 2026-09-21 (policy: at least 2)")
    assert P.stopped_replying_min_attempts == 2
