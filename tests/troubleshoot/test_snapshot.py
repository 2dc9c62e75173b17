"""Sweeps judge cases from their projection rows (store/snapshot.py) instead of replaying
the log.  For every case of the demo, on both backends, the rows must give exactly what
the log gives: the same rule results at several times and the same fields the rules read."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import update

from cvdesk.domain.case import Case, ParticipantState
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.model import AttemptOutcome, Channel, Report, ReporterInfo, Role, SignalKind
from cvdesk.services import CaseService
from cvdesk.services.doctor import finding_data
from cvdesk.store import snapshot
from cvdesk.store.cases import CaseRepository
from cvdesk.store.snapshot import case_from_rows, due_cases, participants_by_case, swept_cases
from cvdesk.store.tables import CaseRow
from cvdesk.troubleshoot import diagnose
from tests.conftest import Clock

#: What the rules read of a participant (everything but the raw attempt times).
PARTICIPANT_FIELDS = [f.name for f in fields(ParticipantState) if f.name != "attempt_times"]
#: What the rules read of a case.
CASE_FIELDS = ["case_id", "title", "tlp", "status", "opened_at", "closed_at", "em",
               "embargo_end", "proposed_end", "pxa", "pxa_at", "pxa_seq", "signals",
               "last_event_at", "seq"]
OFFSETS = [timedelta(0), timedelta(hours=1), timedelta(days=1), timedelta(days=3),
           timedelta(days=10), timedelta(days=30), timedelta(days=60), timedelta(days=400)]


def both_ways(service: CaseService) -> list[tuple[Case, Case]]:
    """(from rows, from the log) for every case in the database; the rows are read both
    one case at a time through the mapped rows and in bulk as the sweep reads them
    (``participants_by_case``, which skips the column types)."""
    pairs = []
    with service.db.sessions() as session:
        repo = CaseRepository(session)
        rows = repo.list_cases()
        bulk = participants_by_case(session, [row.id for row in rows])
        for row in rows:
            log = Case.replay(row.case_id, repo.events(row.id))
            pairs.append((case_from_rows(row, repo.participants(row.id)), log))
            pairs.append((case_from_rows(row, bulk[row.id]), log))
    return pairs


def judged(case: Case, service: CaseService, now: datetime) -> tuple[list[Any], Any]:
    d = diagnose(case, service.settings.policy, now)
    return [finding_data(f) for f in d.findings], d.next_check


def strict(value: Any) -> Any:
    """Datetimes with their UTC offset, so that equal instants in different zones differ:
    the rules print dates in the zone they are given."""
    if isinstance(value, datetime):
        return (value, value.utcoffset())
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {f: strict(getattr(value, f)) for f in value.__dataclass_fields__}
    return value


def assert_same(snap: Case, log: Case, service: CaseService, now: datetime) -> None:
    cid = log.case_id
    for name in CASE_FIELDS:
        assert strict(getattr(snap, name)) == strict(getattr(log, name)), (cid, name)
    assert sorted(snap.participants) == sorted(log.participants), cid
    for pid, p in log.participants.items():
        q = snap.participants[pid]
        for name in PARTICIPANT_FIELDS:
            assert strict(getattr(q, name)) == strict(getattr(p, name)), (cid, p.label, name)
    times = [now + dt for dt in OFFSETS]
    nxt = diagnose(log, service.settings.policy, now).next_check
    while nxt is not None and len(times) < 40:  # and around each change of the answer
        times += [nxt - timedelta(seconds=1), nxt]
        nxt = diagnose(log, service.settings.policy, nxt).next_check
    for when in times:
        assert judged(snap, service, when) == judged(log, service, when), (cid, when)


def test_demo_rows_judge_like_the_log(demo_service: CaseService, clock: Clock) -> None:
    service = demo_service
    pairs = both_ways(service)
    assert len(pairs) == 2 * 16
    problems = set()
    for snap, log in pairs:
        assert_same(snap, log, service, clock.now)
        problems |= {f["problem"] for f in judged(log, service, clock.now)[0]}
    # the comparison covers the rules under test, not just quiet cases
    assert {"vendor-unreachable", "vendor-unresponsive", "stopped-replying",
            "active-exploitation", "public-before-date", "vendor-declined",
            "embargo-ending-vendor-not-ready", "too-many-parties", "case-stalled"} <= problems


def test_rows_keep_up_with_later_events(demo_service: CaseService, clock: Clock) -> None:
    """The projections are updated per event: after more work on the demo cases, still equal."""
    service = demo_service
    unresponsive = next(c.case_id for c in service.list_cases()
                        if c.title.startswith("SQL injection in Globex"))
    multi = next(c.case_id for c in service.list_cases()
                 if c.title.startswith("Heap overflow in libquill"))
    clock.advance(days=3)
    service.contact_reply(unresponsive, "Globex Software", Channel.PHONE)
    service.contact_attempt(unresponsive, "Globex Software", Channel.EMAIL,
                            AttemptOutcome.NO_REPLY, at=clock.now - timedelta(days=5))
    service.record_cs(multi, CSEvent.X)
    service.embargo(multi, "terminate", reason="exploit published")
    for snap, log in both_ways(service):
        assert_same(snap, log, service, clock.now)


def test_rows_and_log_agree_on_times_given_in_other_zones(service: CaseService,
                                                          clock: Clock) -> None:
    """Times given with a UTC offset (the CLI accepts any) must not make the rows print
    other dates than the log: 00:30 at +02:00 is still the previous day in UTC."""
    east = timezone(timedelta(hours=2))
    start = (clock.now - timedelta(days=20)).astimezone(east).replace(hour=0, minute=30)
    cid = service.submit_report(Report("Zone bug", "a bug reported just after midnight",
                                       ReporterInfo("Rita")), at=start).case_id
    service.add_participant(cid, "Acme", [Role.VENDOR], at=start)
    service.contact_attempt(cid, "Acme", Channel.EMAIL, AttemptOutcome.SENT, at=start)
    service.propose_embargo(cid, start + timedelta(days=30), at=start)
    service.embargo(cid, "accept", at=start)
    service.record_cs(cid, CSEvent.V, "Acme", at=start + timedelta(days=1))
    service.record_cs(cid, CSEvent.A, at=start + timedelta(days=2))
    service.observe(cid, SignalKind.LEAK, text="paste", at=start + timedelta(days=2))
    pairs = [(s, g) for s, g in both_ways(service) if g.case_id == cid]
    assert len(pairs) == 2  # the mapped rows and the bulk read
    day_utc = (start + timedelta(days=2)).astimezone(UTC).strftime("%Y-%m-%d")
    for snap, log in pairs:
        assert_same(snap, log, service, clock.now)
        evidence = judged(snap, service, clock.now)[0]
        exploited = next(f for f in evidence if f["problem"] == "active-exploitation")
        assert exploited["evidence"][0] == f"A (attacks observed) recorded {day_utc}"


def test_sweep_reads_cases_one_at_a_time_as_the_batch_read_gives_them(
        demo_service: CaseService, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    """``swept_cases`` makes each case as the sweep reaches it, from participant rows read
    ``FETCH`` at a time: whatever the chunk size (a case's rows split over chunks, chunks
    holding several cases), and with some cases read in part or without participants,
    each case gets exactly the participants ``participants_by_case`` reads for it."""
    with demo_service.db.transaction() as session:
        session.execute(update(CaseRow).where(CaseRow.status == "open")
                        .values(needs_sweep=True))
    with demo_service.db.sessions() as session:
        rows = due_cases(session, clock.now)
        pks = [row[0] for row in rows]
        assert len(rows) >= 10
        people = participants_by_case(session, pks)
        assert max(len(p) for p in people.values()) >= 3
        # Some cases read in part (the first and the last participant), one with none.
        only = {pk: [people[pk][0].pid, people[pk][-1].pid] for pk in pks[1::3]}
        only[pks[2]] = []
        parts = participants_by_case(session, pks, only)
        assert parts[pks[2]] == [] and len(parts[pks[1]]) <= 2
        for fetch in (1, 2, 3, 7, 64, 10_000):
            monkeypatch.setattr(snapshot, "FETCH", fetch)
            for asked, expected in ((None, people), (only, parts)):
                made = list(swept_cases(session, rows, asked))
                assert [c.case_id for c in made] == [row[1] for row in rows]
                for case, pk in zip(made, pks, strict=True):
                    want = {p.pid: p for p in expected[pk]}
                    assert sorted(case.participants) == sorted(want), (fetch, case.case_id)
                    for pid, p in want.items():
                        for name in PARTICIPANT_FIELDS:
                            assert strict(getattr(case.participants[pid], name)) == strict(
                                getattr(p, name)), (fetch, case.case_id, pid, name)
        # Rows out of the order of their keys would lose participants: refused.
        with pytest.raises(RuntimeError, match="order"):
            list(swept_cases(session, [rows[1], rows[0]]))
