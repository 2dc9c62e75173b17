"""A busy case through the service and back out of the database, on SQLite and PostgreSQL.

The projections (``cases``, ``participants``) must say what a replay of the stored log
says; times come back aware and equal; the report form comes back as it went in; the
log refuses UPDATE and DELETE; migrations are idempotent; stale writes are refused;
identifiers follow their formats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import delete, func, inspect, select, text, update
from sqlalchemy.exc import DBAPIError

from cvdesk.domain import cs
from cvdesk.domain.case import Case
from cvdesk.domain.codec import report_from_dict, to_jsonable
from cvdesk.domain.cs import CSEvent
from cvdesk.domain.em import ConsentTrigger
from cvdesk.domain.model import AttemptOutcome, Channel, Role
from cvdesk.domain.rm import RMTrigger
from cvdesk.intake import load_report_file
from cvdesk.services import CaseService
from cvdesk.store import migrate
from cvdesk.store.cases import CaseRepository, ConcurrentUpdate, participant_values
from cvdesk.store.db import Database
from cvdesk.store.tables import CaseRow, EventRow, ParticipantRow
from tests.conftest import Clock

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CET = timezone(timedelta(hours=1))
EST = timezone(timedelta(hours=-5))
IST = timezone(timedelta(hours=5, minutes=30))
TRACKING_RE = re.compile(r"^VR-\d{4}-[A-Z2-9]{6}$")
EMBARGO_END_TEXT = "2027-01-15T16:00:00+01:00"


@dataclass(frozen=True)
class Busy:
    case_id: str
    tracking_id: str
    now: datetime  # the clock after the last command
    p3_first: datetime
    p3_reply: datetime
    p4_first: datetime
    p4_ack: datetime


def busy_case(service: CaseService, clock: Clock) -> Busy:
    """p1 desk, p2 reporter, p3 Contoso Home (vendor), p4 Fabrikam (vendor, deployer),
    p5 CERT/CC (coordinator); back-dated contact history in several time zones."""
    start = clock.now
    # Received before the imported history below (nothing may predate the case).
    opened = start - timedelta(days=14)
    sub = service.submit_report(load_report_file(EXAMPLES / "report.yaml"), at=opened)
    cid = sub.case_id
    assert service.add_participant(cid, "Fabrikam", [Role.VENDOR, Role.DEPLOYER],
                                   organization="Fabrikam Inc.",
                                   email="psirt@fabrikam.example", at=opened) == 4
    assert service.add_participant(cid, "CERT/CC", [Role.COORDINATOR], at=opened) == 5
    # Imported history, given in other zones and with microseconds.
    p3_first = (start - timedelta(days=10, microseconds=-123456)).astimezone(IST)
    p4_first = (start - timedelta(days=12)).astimezone(EST)
    p3_reply = (start - timedelta(days=6)).astimezone(CET)
    p4_ack = start - timedelta(days=5)
    assert service.contact_attempt(cid, "p3", Channel.EMAIL, AttemptOutcome.SENT,
                                   address="psirt@contoso.example", at=p3_first) == 1
    assert service.contact_attempt(cid, "p3", Channel.WEB_FORM, AttemptOutcome.NO_REPLY,
                                   at=start - timedelta(days=7)) == 2
    assert service.contact_attempt(cid, "p4", Channel.PHONE, AttemptOutcome.BOUNCED,
                                   at=p4_first) == 1
    assert service.contact_reply(cid, "p3", Channel.EMAIL, at=p3_reply) == 1
    assert service.contact_attempt(cid, "Fabrikam", Channel.EMAIL,
                                   AttemptOutcome.ACKNOWLEDGED, at=p4_ack) == 2
    # The reply and the acknowledgement imply V for p3 and p4 (Vultron ties RM to CS).
    assert service.rm(cid, "p3", RMTrigger.VALIDATE, at=start - timedelta(days=5)) == "valid"
    assert service.rm(cid, "p3", RMTrigger.ACCEPT, at=start - timedelta(days=4)) == "accepted"
    end = datetime.fromisoformat(EMBARGO_END_TEXT)
    assert service.propose_embargo(cid, end, at=start - timedelta(days=4)) == end
    assert service.consent(cid, "p3", ConsentTrigger.SIGN) == "signatory"
    assert service.consent(cid, "p4", ConsentTrigger.SIGN) == "signatory"
    assert service.consent(cid, "p5", ConsentTrigger.DECLINE) == "declined"
    assert service.embargo(cid, "accept", at=start - timedelta(days=3)) == "active"
    clock.advance(hours=2)
    service.contact_attempt(cid, "p3", Channel.EMAIL, AttemptOutcome.NO_REPLY)
    service.record_cs(cid, CSEvent.F, "p3")
    service.record_cs(cid, CSEvent.A, None)
    # A revision that is rejected leaves the accepted end in force.
    service.propose_embargo(cid, datetime(2027, 1, 18, 10, 0, tzinfo=EST))
    assert service.embargo(cid, "reject") == "active"
    return Busy(cid, sub.tracking_id, clock.now, p3_first, p3_reply, p4_first, p4_ack)


def stored(service: CaseService, case_id: str) -> tuple[CaseRow, list[ParticipantRow], Case]:
    """The projection rows, read through the repository, and the replay of the stored log."""
    with service.db.sessions() as session:
        repo = CaseRepository(session)
        row = repo.case_row(case_id)
        return row, list(repo.participants(row.id)), Case.replay(row.case_id,
                                                                 repo.events(row.id))


def event_count(db: Database) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(EventRow)) or 0


def datetime_columns(row: object) -> dict[str, datetime | None]:
    mapper = inspect(type(row))
    return {c.key: getattr(row, c.key) for c in mapper.column_attrs
            if c.columns[0].type.python_type is datetime}


# ------------------------------------------------------------------ (a) projections == log
def test_participant_projections_equal_the_replayed_log(service: CaseService,
                                                        clock: Clock) -> None:
    busy = busy_case(service, clock)
    _, rows, replayed = stored(service, busy.case_id)
    assert [r.pid for r in rows] == sorted(replayed.participants) == [1, 2, 3, 4, 5]
    for r in rows:
        p = replayed.participants[r.pid]
        assert (r.name, r.roles, r.is_vendor) == (
            p.name, ",".join(sorted(p.roles)), p.is_vendor)
        assert r.rm_state == p.rm.value and r.rm_at == p.rm_at
        assert r.consent == p.consent.value
        assert r.vfd == cs.label(p.vfd)[:3]
        assert r.vfd_times == participant_values(p)["vfd_times"]
        assert {k: v for k, v in r.vfd_times.items() if k != "seq"} == {
            e.value: t.isoformat() for e, t in p.vfd_at.items()}
        assert (r.attempts, r.attempts_since_reply, r.replies) == (
            p.attempts, p.attempts_since_reply, p.replies)
        assert r.channels == ",".join(sorted(c.value for c in p.channels))
        assert r.channels_count == len(p.channels)
        assert (r.first_attempt_at, r.last_attempt_at) == (p.first_attempt_at,
                                                           p.last_attempt_at)
        assert r.last_attempt_outcome == (p.last_attempt_outcome.value
                                          if p.last_attempt_outcome else None)
        assert (r.first_reply_at, r.last_reply_at) == (p.first_reply_at, p.last_reply_at)
        assert r.added_at == p.added_at
    # ... and what the log says is what the commands did.
    by_pid = {r.pid: r for r in rows}
    summary = {pid: (r.rm_state, r.consent, r.vfd, r.attempts, r.attempts_since_reply,
                     r.channels, r.replies) for pid, r in by_pid.items()}
    assert summary == {
        1: ("received", "invited", "vfd", 0, 0, "", 0),
        2: ("accepted", "invited", "vfd", 0, 0, "", 0),
        3: ("accepted", "signatory", "VFd", 3, 1, "email,web-form", 1),
        4: ("received", "signatory", "Vfd", 2, 0, "email,phone", 1),
        # Declined the first proposal; the revision (later rejected) invited it again.
        5: ("start", "invited", "vfd", 0, 0, "", 0),
    }
    p3, p4 = by_pid[3], by_pid[4]
    assert p3.first_attempt_at == busy.p3_first and p3.last_attempt_at == busy.now
    assert p3.last_attempt_outcome == "no-reply"
    assert p3.first_reply_at == p3.last_reply_at == busy.p3_reply
    assert p4.first_attempt_at == busy.p4_first and p4.last_reply_at == busy.p4_ack
    assert p4.last_attempt_outcome == "acknowledged"
    assert p4.rm_at == busy.p4_ack  # the acknowledgement moved it to 'received'
    assert (p4.organization, p4.email, p4.roles) == ("Fabrikam Inc.", "psirt@fabrikam.example",
                                                     "deployer,vendor")


def test_case_projection_equals_the_replayed_log(service: CaseService, clock: Clock) -> None:
    busy = busy_case(service, clock)
    row, _, replayed = stored(service, busy.case_id)
    view = service.show(busy.case_id)
    for case_row in (row, view.case):
        assert case_row.em_state == replayed.em.value == "active"
        assert case_row.embargo_end == replayed.embargo_end
        assert case_row.embargo_end_text == replayed.embargo_end.isoformat() == EMBARGO_END_TEXT
        assert case_row.proposed_end_text is None and replayed.proposed_end is None
        assert case_row.pxa == replayed.cs_label() == "pxA"
        assert case_row.status == replayed.status.value == "open"
        assert (case_row.title, case_row.tlp) == (replayed.title, replayed.tlp.value)
        assert (case_row.opened_at, case_row.closed_at) == (replayed.opened_at, None)
        assert case_row.last_event_at == replayed.last_event_at == busy.now
        assert (case_row.participants_count, case_row.vendors_count) == (5, 2)
        assert case_row.version == replayed.seq == event_count(service.db)
    assert {k: v for k, v in row.pxa_times.items() if k != "seq"} == {
        "A": busy.now.isoformat()}
    assert [r.pid for r in view.participants] == [1, 2, 3, 4, 5]
    assert [v.title for v in view.vulnerabilities] == ["Missing authentication for firmware "
                                                       "upload"]
    assert [r.tracking_id for r in view.reports] == [busy.tracking_id]
    # The service's own audit replay agrees with the repository's.
    audit = service.replay(busy.case_id)
    assert audit.seq == replayed.seq and audit.embargo_end == replayed.embargo_end


# ------------------------------------------------------------------ (b) times
def test_times_come_back_aware_and_equal(service: CaseService, clock: Clock) -> None:
    busy = busy_case(service, clock)
    row, rows, _ = stored(service, busy.case_id)
    for obj in (row, *rows):
        for name, value in datetime_columns(obj).items():
            if value is not None:
                assert value.tzinfo is not None and value.utcoffset() == timedelta(0), name
    end = datetime.fromisoformat(row.embargo_end_text or "")
    assert end.utcoffset() == timedelta(hours=1)  # the zone it was given in
    assert row.embargo_end == end == datetime(2027, 1, 15, 15, 0, tzinfo=UTC)
    p3 = next(r for r in rows if r.pid == 3)
    assert p3.first_attempt_at == busy.p3_first  # the same instant, to the microsecond
    assert p3.first_attempt_at.microsecond == busy.p3_first.microsecond == 123456
    events = service.timeline(busy.case_id)
    assert all(e.at.tzinfo is not None and e.at.utcoffset() == timedelta(0) for e in events)
    # The timeline is in time order: the back-dated history sits before 'now'.
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert events[0].type == "case.opened"  # nothing predates the case
    first = next(e for e in events if e.type == "contact.attempt")
    assert first.at == busy.p4_first and first.participant == 4
    assert events[-1].at == busy.now
    proposal = [e for e in events if e.type == "em.transition" and e.data["trigger"] ==
                "propose"]
    assert [e.data["end"] for e in proposal] == [EMBARGO_END_TEXT, "2027-01-18T10:00:00-05:00"]


# ------------------------------------------------------------------ (c) report form
@pytest.mark.parametrize("name", ["report.yaml", "report.json"])
def test_report_form_round_trips(service: CaseService, name: str) -> None:
    report = load_report_file(EXAMPLES / name)
    sub = service.submit_report(report)
    assert service.report(sub.tracking_id).to_json() == {"tracking_id": sub.tracking_id,
                                                         "form": to_jsonable(report)}
    with service.db.sessions() as session:
        row = CaseRepository(session).report_by_tracking_id(sub.tracking_id)
        assert row.form == to_jsonable(report)
        assert (row.title, row.tlp) == (report.title, report.tlp.value)
    assert report_from_dict(row.form) == report  # and back into the domain, unchanged
    if report.disclosure_date is not None:
        assert row.form["disclosure_date"] == "2027-02-01T18:00:00+01:00"


# ------------------------------------------------------------------ (d) append-only log
@pytest.mark.parametrize("statement", [
    "UPDATE events SET actor = 'mallory'",
    "UPDATE events SET at = at WHERE seq = 1",
    "DELETE FROM events",
    "DELETE FROM events WHERE seq = 1",
])
def test_the_log_refuses_sql_update_and_delete(service: CaseService, statement: str) -> None:
    cid = service.submit_report(load_report_file(EXAMPLES / "report.yaml")).case_id
    before = [(e.seq, e.actor) for e in service.timeline(cid)]
    with pytest.raises(DBAPIError, match="events are append-only"), \
            service.db.engine.begin() as conn:
        conn.execute(text(statement))
    assert [(e.seq, e.actor) for e in service.timeline(cid)] == before
    assert len(before) == 10


def test_the_log_refuses_orm_update_and_delete(service: CaseService) -> None:
    cid = service.submit_report(load_report_file(EXAMPLES / "report.yaml")).case_id
    with pytest.raises(DBAPIError, match="append-only"), service.db.transaction() as s:
        first = s.scalars(select(EventRow).where(EventRow.seq == 1)).one()
        first.reason = "rewritten"
    with pytest.raises(DBAPIError, match="append-only"), service.db.transaction() as s:
        s.delete(s.scalars(select(EventRow).where(EventRow.seq == 2)).one())
    with pytest.raises(DBAPIError, match="append-only"), service.db.transaction() as s:
        s.execute(update(EventRow).values(actor="mallory"))
    with pytest.raises(DBAPIError, match="append-only"), service.db.transaction() as s:
        s.execute(delete(EventRow).where(EventRow.seq > 5))
    events = service.timeline(cid)
    assert [e.seq for e in events] == list(range(1, 11))
    assert {e.actor for e in events} == {"tester"} and events[0].reason == ""


def test_truncate_on_postgresql_is_refused(service: CaseService) -> None:
    if service.db.backend != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    service.submit_report(load_report_file(EXAMPLES / "report.yaml"))
    with pytest.raises(DBAPIError, match="append-only"), service.db.engine.begin() as conn:
        conn.execute(text("TRUNCATE events"))


# ------------------------------------------------------------------ (e) migrations
def test_upgrade_twice_is_a_no_op(db: Database) -> None:
    head = migrate.head_revision(db)
    assert re.fullmatch(r"\d{4}", head)
    assert migrate.current_revision(db) == head
    tables = set(inspect(db.engine).get_table_names())
    assert {"cases", "participants", "events", "reports", "alembic_version"} <= tables
    assert migrate.upgrade(db) == (head, head)
    assert migrate.upgrade(db) == (head, head)
    assert migrate.current_revision(db) == head
    assert set(inspect(db.engine).get_table_names()) == tables


def test_upgrade_of_an_empty_sqlite_database(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        assert migrate.current_revision(db) is None
        head = migrate.head_revision(db)
        assert migrate.upgrade(db) == (None, head)
        assert migrate.upgrade(db) == (head, head)
        assert migrate.current_revision(db) == head
    finally:
        db.dispose()


# ------------------------------------------------------------------ (f) stale writes
def test_a_stale_write_from_a_second_session_is_refused(service: CaseService, db_url: str,
                                                       clock: Clock) -> None:
    cid = service.submit_report(load_report_file(EXAMPLES / "report.yaml")).case_id
    other = Database(db_url)  # a second engine: another process, as far as the server knows
    try:
        with service.db.sessions() as s1:
            row1, case1 = CaseRepository(s1).load(cid)
        with other.sessions() as s2:
            row2, case2 = CaseRepository(s2).load(cid)
        assert row1.version == row2.version == case1.seq == case2.seq == 10
        case1.note("first writer", at=clock.now, actor="alice")
        case2.note("second writer", at=clock.now, actor="bob")
        with service.db.transaction() as w1:
            w1.add(row1)
            CaseRepository(w1).save(row1, case1)
        assert case1.pending == []
        with pytest.raises(ConcurrentUpdate, match="changed by someone else"), \
                other.transaction() as w2:
            w2.add(row2)
            CaseRepository(w2).save(row2, case2)
        assert [e.data["text"] for e in case2.pending] == ["second writer"]  # not cleared
    finally:
        other.dispose()
    notes = [e.data["text"] for e in service.timeline(cid) if e.type == "note.added"]
    assert notes == ["first writer"]
    assert event_count(service.db) == 11 and service.show(cid).case.version == 11


def test_save_checks_the_expected_version(service: CaseService, clock: Clock) -> None:
    cid = service.submit_report(load_report_file(EXAMPLES / "report.yaml")).case_id
    service.note(cid, "moves the case to version 11")
    with service.db.transaction() as s:
        repo = CaseRepository(s)
        row, case = repo.load(cid)
        case.note("late", at=clock.now, actor="bob")
        with pytest.raises(ConcurrentUpdate, match="log position 11, stored version 10"):
            repo.save(row, case, expected_version=10)
        with pytest.raises(ConcurrentUpdate, match="log position 11, stored version 12"):
            repo.save(row, case, expected_version=12)
    assert event_count(service.db) == 11
    stale = Case.replay(cid, service.timeline(cid)[:10])  # a read from before the note
    stale.note("stale", at=clock.now, actor="bob")
    with pytest.raises(ConcurrentUpdate, match="changed by someone else"), \
            service.db.transaction() as s:
        repo = CaseRepository(s)
        repo.save(repo.case_row(cid), stale, expected_version=10)
    assert event_count(service.db) == 11 and service.show(cid).case.version == 11


# ------------------------------------------------------------------ (g) identifiers
def test_case_ids_are_sequential_per_year(service: CaseService, clock: Clock) -> None:
    report = load_report_file(EXAMPLES / "report.json")
    first = service.submit_report(report)
    second = service.submit_report(report)
    old = service.submit_report(report, at=datetime(2025, 12, 31, 23, 0, tzinfo=UTC))
    older = service.submit_report(report, at=datetime(2025, 6, 1, 12, 0, tzinfo=UTC))
    third = service.submit_report(report)
    assert [s.case_id for s in (first, second, old, older, third)] == [
        "CVD-2026-0001", "CVD-2026-0002", "CVD-2025-0001", "CVD-2025-0002", "CVD-2026-0003"]
    assert [c.case_id for c in service.list_cases(None)] == [
        "CVD-2025-0002", "CVD-2025-0001", "CVD-2026-0001", "CVD-2026-0002", "CVD-2026-0003"]
    # The case number follows the UTC year of the submission.
    late = service.submit_report(report, at=datetime(2026, 1, 1, 0, 30, tzinfo=CET))
    assert late.case_id == "CVD-2025-0003"


def test_tracking_ids_have_their_format_and_are_unique(service: CaseService) -> None:
    report = load_report_file(EXAMPLES / "report.json")
    ids = [service.submit_report(report).tracking_id for _ in range(12)]
    assert all(TRACKING_RE.match(t) for t in ids), ids
    assert all(t.startswith("VR-2611-") for t in ids)  # year and month of the submission
    assert len(set(ids)) == 12
    for tid in ids:
        assert service.report(tid).tracking_id == tid
