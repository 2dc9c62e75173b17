"""Timing metrics (issue 12): hand-computed medians and 90th percentiles, embargo
outcomes, findings per month, and the same read from a database (both backends)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert

from cvdesk.domain.case import Case
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import TLP, Channel, Direction, Message, Role, SignalKind
from cvdesk.domain.rm import RMTrigger
from cvdesk.metrics.timing import (
    CaseTimes,
    EmbargoStep,
    FindingRaised,
    LogEntry,
    Party,
    VendorTimes,
    case_times,
    embargo_outcome,
    timing_report,
)
from cvdesk.services.metrics_timing import MetricsTiming
from cvdesk.settings import load_settings
from cvdesk.store.cases import CaseRepository
from cvdesk.store.db import Database
from cvdesk.store.tables import FindingRow

T0 = datetime(2025, 1, 6, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def by(report_part, measure, group="all"):  # type: ignore[no-untyped-def]
    return next(d for d in report_part if d.measure == measure and d.group == group)


# ------------------------------------------------------------------ pure computation
def _portfolio() -> list[CaseTimes]:
    """Four cases opened at T0 + 10k days; acknowledgement after 1, 2, 3, 10 days;
    Acme replies after 2, 4, 6 days (three cases), Beta after 5 (one); fixes after 20
    (Acme) and 40 (Beta); publication after 30 and 50."""
    cases = []
    spec = [  # ack, vendors (name, reply, fix), published, coordinator
        (1, [("Acme", 2, 20)], 30, "ann"),
        (2, [("Acme", 4, None), ("Beta", 5, 40)], 50, "ann"),
        (3, [("Acme", 6, None)], None, "bob"),
        (10, [], None, "bob"),
    ]
    for i, (ack, vendors, published, who) in enumerate(spec):
        start = day(10 * i)
        cases.append(CaseTimes(
            f"C{i}", start, who, start + timedelta(days=ack),
            start + timedelta(days=published) if published else None,
            tuple(VendorTimes(n, start + timedelta(days=r),
                              start + timedelta(days=f) if f else None)
                  for n, r, f in vendors)))
    return cases


def test_medians_and_p90_by_hand() -> None:
    report = timing_report(_portfolio())
    ack = by(report.overall, "acknowledgement")
    # 1 2 3 10: median (2+3)/2; p90 at rank 0.9*3 = 2.7: 3 + 0.7*(10-3) = 7.9
    assert (ack.count, ack.median, ack.p90) == (4, 2.5, pytest.approx(7.9))
    reply = by(report.overall, "first reply")
    # 2 4 5 6: median 4.5; p90 at 2.7: 5 + 0.7 = 5.7
    assert (reply.count, reply.median, reply.p90) == (4, 4.5, pytest.approx(5.7))
    fix = by(report.overall, "fix ready")
    assert (fix.count, fix.median, fix.p90) == (2, 30.0, pytest.approx(38.0))
    pub = by(report.overall, "publication")
    assert (pub.count, pub.median, pub.p90) == (2, 40.0, pytest.approx(48.0))
    acme = by(report.per_vendor, "first reply", "Acme")
    assert (acme.count, acme.median, acme.p90) == (3, 4.0, pytest.approx(5.6))
    assert by(report.per_vendor, "publication", "Acme").days == (30.0, 50.0)
    assert by(report.per_vendor, "fix ready", "Beta").days == (40.0,)
    assert {d.group for d in report.per_vendor} == {"Acme", "Beta"}
    assert by(report.per_coordinator, "acknowledgement", "ann").days == (1.0, 2.0)
    assert by(report.per_coordinator, "acknowledgement", "bob").median == 6.5
    assert report.to_json()["overall"][0] == {
        "measure": "acknowledgement", "group": "all", "count": 4, "median": 2.5,
        "p90": 7.9}


def test_vendor_filter_keeps_only_that_vendors_values() -> None:
    report = timing_report(_portfolio(), vendor="beta")
    assert by(report.overall, "first reply").days == (5.0,)
    assert {d.group for d in report.per_vendor} == {"Beta"}


def _steps(*steps: tuple[str, float, float | None]) -> tuple[EmbargoStep, ...]:
    return tuple(EmbargoStep(t, day(at), day(end) if end is not None else None)
                 for t, at, end in steps)


def test_embargo_kept_extended_broken() -> None:
    agreed = _steps(("propose", 1, 45), ("accept", 2, None))
    assert embargo_outcome(agreed, day(45)) == ("kept", False)
    assert embargo_outcome(agreed, day(50)) == ("kept", False)
    assert embargo_outcome(agreed, day(30)) == ("broken", False)  # public early
    assert embargo_outcome(agreed, None) == (None, False)  # still in force
    assert embargo_outcome(agreed, day(45), [day(10)]) == ("broken", False)  # leak
    assert embargo_outcome(agreed, day(45), [day(60)]) == ("kept", False)  # after it
    ended_early = agreed + _steps(("terminate", 20, None))
    assert embargo_outcome(ended_early, day(21)) == ("broken", False)
    extended = agreed + _steps(("propose", 40, 60), ("accept", 41, None))
    assert embargo_outcome(extended, day(60)) == ("kept", True)
    assert embargo_outcome(extended, day(50)) == ("broken", True)
    refused = agreed + _steps(("propose", 40, 60), ("reject", 41, None))
    assert embargo_outcome(refused, day(45)) == ("kept", False)
    shortened = agreed + _steps(("propose", 10, 30), ("accept", 11, None))
    assert embargo_outcome(shortened, day(30)) == ("kept", False)
    never = _steps(("propose", 1, 45), ("reject", 2, None))
    assert embargo_outcome(never, day(3)) == (None, False)
    cases = [CaseTimes("a", T0, "x", embargo=extended, published_at=day(60)),
             CaseTimes("b", T0, "x", embargo=ended_early),
             CaseTimes("c", T0, "x", embargo=agreed, published_at=day(45)),
             CaseTimes("d", T0, "x", embargo=agreed)]
    assert timing_report(cases).embargoes.to_json() == {"kept": 2, "extended": 1,
                                                        "broken": 1}


def test_findings_per_problem_and_month() -> None:
    found = [FindingRaised("leak", datetime(2025, 1, 31, 23, tzinfo=UTC)),
             FindingRaised("leak", datetime(2025, 2, 1, 0, 30, tzinfo=UTC)),
             # 2025-02-01 01:30 at UTC+2 is still January in UTC: months are UTC
             FindingRaised("leak", datetime(2025, 2, 1, 1, 30,
                                            tzinfo=timezone(timedelta(hours=2)))),
             FindingRaised("case-stalled", datetime(2025, 3, 3, tzinfo=UTC))]
    report = timing_report([], found)
    assert report.findings == (("leak", 3), ("case-stalled", 1))
    assert report.findings_per_month == (("2025-01", "leak", 2), ("2025-02", "leak", 1),
                                         ("2025-03", "case-stalled", 1))


def test_acknowledgement_read_from_the_log() -> None:
    parties = [Party(1, "desk", "", frozenset({"coordinator"}), False, None, {}),
               Party(2, "Rita", "", frozenset({"reporter", "finder"}), False, None, {}),
               Party(3, "Acme", "Acme Inc", frozenset({"vendor"}), True, day(4),
                     {"V": day(1).isoformat(), "F": day(9).isoformat()})]
    log = [LogEntry("case.opened", T0, "opener", None, {}),
           LogEntry("rm.transition", T0, "opener", 2, {"from": "received", "to": "valid"}),
           LogEntry("message.logged", day(3), "carol", 2, {"direction": "out"}),
           LogEntry("rm.transition", day(2), "dave", 1, {"from": "received", "to": "valid"}),
           LogEntry("cs.event", day(20), "x", None, {"event": "P"})]
    times = case_times("C1", log, parties)
    # the reporter's own validation at the opening is not an acknowledgement
    assert (times.acknowledged_at, times.coordinator) == (day(2), "dave")
    assert times.published_at == day(20)
    assert times.vendors == (VendorTimes("Acme Inc", day(4), day(9)),)
    unanswered = case_times("C2", log[:1], parties)
    assert (unanswered.acknowledged_at, unanswered.coordinator) == (None, "opener")


# ------------------------------------------------------------------ from the database
def _case(case_id: str, start: datetime, *, ack: float | None, reply: float | None,
          fix: float | None, public: float | None, embargo_end: float | None = None,
          leak: float | None = None) -> Case:
    def at(n: float) -> datetime:
        return start + timedelta(days=n)

    case = Case.open(case_id, f"case {case_id}", TLP.AMBER, at=start, actor="opener")
    desk = case.add_participant("The Desk", [Role.COORDINATOR], at=start, actor="opener")
    case.rm(desk.pid, RMTrigger.RECEIVE, at=start, actor="opener")
    rep = case.add_participant("Rita", [Role.REPORTER], at=start, actor="opener")
    vendor = case.add_participant("Acme", [Role.VENDOR], at=start, actor="opener").pid
    steps: list[tuple[float, str]] = []
    for n, what in ((ack, "ack"), (reply, "reply"), (fix, "fix"), (public, "P"),
                    (embargo_end and 0.5, "embargo"), (leak, "leak")):
        if n is not None:
            steps.append((n, what))
    for n, what in sorted(steps):
        if what == "ack":
            case.log_message(Message(f"<{case_id}@t>", Direction.OUTBOUND, at(n),
                                     Channel.EMAIL, "got it", "thanks", rep.pid),
                             actor="carol")
        elif what == "reply":
            case.contact_reply(vendor, Channel.EMAIL, at=at(n), actor="carol")
        elif what == "fix":
            if CSEvent.V not in case.participants[vendor].vfd:
                case.record_cs(CSEvent.V, vendor, at=at(n), actor="carol")
            case.record_cs(CSEvent.F, vendor, at=at(n), actor="carol")
        elif what == "P":
            case.record_cs(CSEvent.P, None, at=at(n), actor="carol")
        elif what == "embargo":
            assert embargo_end is not None
            case.propose_embargo(at(embargo_end), at=at(n), actor="carol")
            case.accept_embargo(at=at(n), actor="carol")
        elif what == "leak":
            case.observe(SignalKind.LEAK, at=at(n), actor="carol", text="on a forum")
    return case


def test_timing_from_the_database(db: Database) -> None:
    cases = [_case("CVD-2025-0001", day(0), ack=1, reply=2, fix=10, public=20,
                   embargo_end=20),
             _case("CVD-2025-0002", day(30), ack=3, reply=6, fix=None, public=10,
                   embargo_end=40),
             _case("CVD-2025-0003", day(60), ack=None, reply=None, fix=None, public=None,
                   embargo_end=30, leak=5),
             _case("CVD-2025-0004", day(400), ack=2, reply=1, fix=None, public=None)]
    with db.transaction() as session:
        repo = CaseRepository(session)
        pks = [repo.add(c).id for c in cases]
        session.execute(insert(FindingRow), [
            {"case_pk": pks[0], "key": "k1", "problem": "leak", "severity": 2,
             "status": "open", "data": {}, "first_seen_at": day(3), "last_seen_at": day(3)},
            {"case_pk": pks[1], "key": "k2", "problem": "leak", "severity": 2,
             "status": "resolved", "data": {}, "first_seen_at": day(35),
             "last_seen_at": day(36)},
            {"case_pk": pks[3], "key": "k3", "problem": "case-stalled", "severity": 2,
             "status": "open", "data": {}, "first_seen_at": day(410),
             "last_seen_at": day(410)}])
    svc = MetricsTiming(db, load_settings(actor="tester"))
    report = svc.timing(since=date(2025, 1, 1), until=date(2025, 12, 31))
    assert by(report.overall, "acknowledgement").days == (1.0, 3.0)
    assert by(report.overall, "first reply").days == (2.0, 6.0)
    assert by(report.overall, "fix ready").days == (10.0,)
    assert by(report.overall, "publication").days == (20.0, 10.0)
    assert by(report.per_coordinator, "acknowledgement", "carol").count == 2
    assert by(report.per_coordinator, "publication", "opener").count == 0
    assert report.embargoes.to_json() == {"kept": 1, "extended": 0, "broken": 2}
    assert report.findings == (("leak", 2),)
    assert report.findings_per_month == (("2025-01", "leak", 1), ("2025-02", "leak", 1))
    everything = svc.timing()
    assert by(everything.overall, "acknowledgement").count == 3
    assert ("case-stalled", 1) in everything.findings
    assert svc.timing(vendor="nobody").overall[0].count == 0
    assert by(svc.timing(vendor="ACME").per_vendor, "first reply", "Acme").count == 3
    with pytest.raises(InvalidInput, match="until"):
        svc.timing(since=date(2025, 3, 1), until=date(2025, 2, 1))
