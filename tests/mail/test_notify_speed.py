"""The cheaper steps of bulk notification (issue 9) do what the slower ones did: the
per-message commit is one statement with the same guards, the case log is read without an
ORM object per event, and the SMTP envelope and payload are built as smtplib would."""

from __future__ import annotations

import re
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, insert, select, update

from cvdesk.channels.mail import envelope_address
from cvdesk.services import CaseService
from cvdesk.services.mail import MailService
from cvdesk.services.worker import _wire
from cvdesk.store.cases import CaseRepository
from cvdesk.store.outbox import COMMITTED, SENDING, SENT, OutboxMarks
from cvdesk.store.tables import EventRow, OutboxRow
from tests.mail.test_outbox import case_with_vendors, mail_service

NOW = datetime(2026, 12, 2, 9, 30, 15, 123456, tzinfo=UTC)


@contextmanager
def statements(svc: CaseService) -> Iterator[list[str]]:
    seen: list[str] = []

    def hear(_c: Any, _cur: Any, sql: str, *_rest: Any) -> None:
        seen.append(" ".join(sql.split()).lower())

    event.listen(svc.db.engine, "before_cursor_execute", hear)
    try:
        yield seen
    finally:
        event.remove(svc.db.engine, "before_cursor_execute", hear)


def _rows(svc: CaseService, n: int, worker: str = "me") -> list[int]:
    with svc.db.transaction() as s:
        s.execute(insert(OutboxRow.__table__), [dict(
            idempotency_key=f"k{i}", case_pk=None, participant=i, template="new-case",
            sender="cert@example.org", recipient=f"p{i}@example.org", message_id=f"<m{i}@x>",
            raw="x", status=SENDING, attempts=0, next_attempt_at=NOW, created_at=NOW,
            worker=worker, last_error="", in_doubt=False, logged=False) for i in range(n)])
        return list(s.scalars(select(OutboxRow.id).order_by(OutboxRow.id)))


def _state(svc: CaseService) -> dict[int, tuple[str, int, datetime | None]]:
    with svc.db.sessions() as s:
        return {i: (st_, a, t) for i, st_, a, t in s.execute(
            select(OutboxRow.id, OutboxRow.status, OutboxRow.attempts, OutboxRow.sent_at))}


@contextmanager
def driver_statements(svc: CaseService) -> Iterator[list[str]]:
    """What the driver itself runs on connections taken from the pool meanwhile (the
    per-message marks bypass SQLAlchemy's execution path, so its events do not see
    them): sqlite3's trace callback, or a psycopg cursor that writes down each query."""
    seen: list[str] = []

    def note(sql: str) -> None:
        seen.append(" ".join(sql.split()).lower())

    def checkout(dbapi: Any, _record: Any, _proxy: Any) -> None:
        if svc.db.backend == "sqlite":
            dbapi.set_trace_callback(note)
        else:
            import psycopg

            class Noting(psycopg.Cursor):  # type: ignore[type-arg]
                def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
                    note(str(query))
                    return super().execute(query, *args, **kwargs)

            dbapi.cursor_factory = Noting

    def checkin(dbapi: Any, _record: Any) -> None:
        if dbapi is None:
            return
        if svc.db.backend == "sqlite":
            dbapi.set_trace_callback(None)
        else:
            import psycopg

            dbapi.cursor_factory = psycopg.Cursor

    engine = svc.db.engine
    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    try:
        yield seen
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)


def test_each_step_is_one_statement_with_both_marks(service: CaseService) -> None:
    a, b, c = _rows(service, 3)
    marks = OutboxMarks(service.db, "me")
    try:
        with statements(service) as engine_saw, driver_statements(service) as seen:
            assert marks.advance(None, a, NOW)
            assert marks.advance(a, b, NOW)
            assert marks.advance(b, c, NOW)
            assert marks.advance(c, None, NOW)
    finally:
        marks.close()
    # The driver runs them itself: SQLAlchemy's execution path (which cost as much as
    # the statement and the commit together) is not taken.
    assert engine_saw == [], engine_saw
    updates = [q for q in seen if q.startswith("update outbox")]
    assert len(updates) == 4, seen  # was two statements a message
    # Nothing else but the transaction around each (BEGIN IMMEDIATE and COMMIT on
    # SQLite; psycopg's own BEGIN does not go through a cursor).
    assert not [q for q in seen if not q.startswith(("update outbox", "begin immediate",
                                                    "commit"))], seen
    if service.db.backend == "sqlite":
        assert seen.count("begin immediate") == seen.count("commit") == 4, seen
    # Each row read back through the column types: sent, one attempt, the same instant.
    assert _state(service) == {a: (SENT, 1, NOW), b: (SENT, 1, NOW), c: (SENT, 1, NOW)}


def test_the_guards_still_hold(service: CaseService) -> None:
    mine, theirs, later = _rows(service, 3)
    with service.db.transaction() as s:
        s.execute(update(OutboxRow).where(OutboxRow.id == theirs).values(worker="other"))
    marks = OutboxMarks(service.db, "me")
    try:
        assert marks.advance(None, mine, NOW)
        # Another worker's message (its lease): not committed, and the caller is told.
        assert not marks.advance(mine, theirs, NOW)
        assert _state(service)[theirs] == (SENDING, 0, None)
        assert _state(service)[mine] == (SENT, 1, NOW)
        # 'sent' only moves a message this step committed: a repeat changes nothing.
        assert marks.advance(mine, later, NOW + timedelta(hours=1))
        assert _state(service)[mine] == (SENT, 1, NOW)
        # The previous message taken back meanwhile (recover() after its lease ran out)
        # does not stop the next one.
        with service.db.transaction() as s:
            s.execute(update(OutboxRow).where(OutboxRow.id == later)
                      .values(status=SENT, in_doubt=True))
            s.execute(update(OutboxRow).where(OutboxRow.id == theirs)
                      .values(worker="me"))
        assert marks.advance(later, theirs, NOW)
        assert _state(service)[theirs] == (COMMITTED, 0, None)
        assert _state(service)[later] == (SENT, 0, None)
    finally:
        marks.close()


def test_a_worker_name_with_a_nul_still_finds_its_rows(service: CaseService) -> None:
    """The marks bypass the engine's NUL net, so they make the name NUL-free themselves,
    as the column type did when the rows were claimed under that name."""
    name = "host\x00:1"
    a, b = _rows(service, 2, worker="placeholder")
    with service.db.transaction() as s:  # as claim() stores the name: through its type
        s.execute(update(OutboxRow).values(worker=name))
    marks = OutboxMarks(service.db, name)
    try:
        assert marks.advance(None, a, NOW)
        assert marks.advance(a, b, NOW)
        assert marks.advance(b, None, NOW)
    finally:
        marks.close()
    assert _state(service) == {a: (SENT, 1, NOW), b: (SENT, 1, NOW)}


def test_a_failed_mark_leaves_no_transaction_open(service: CaseService) -> None:
    """An error inside a mark rolls its transaction back, so the held connection (and the
    write lock on SQLite) is free for the next step and for other writers."""
    (a,) = _rows(service, 1)
    marks = OutboxMarks(service.db, "me")
    try:
        marks.sql = marks.sql.replace("UPDATE outbox", "UPDATE no_such_table")
        with pytest.raises(Exception, match="no_such_table"):
            marks.advance(None, a, NOW)
        with service.db.transaction() as s:  # another writer is not blocked
            s.execute(update(OutboxRow).where(OutboxRow.id == a).values(attempts=0))
        marks.sql = OutboxMarks(service.db, "me").sql
        assert marks.advance(None, a, NOW)
        assert marks.advance(a, None, NOW)
    finally:
        marks.close()
    assert _state(service) == {a: (SENT, 1, NOW)}


def test_the_log_is_read_without_an_orm_object_per_event(service: CaseService) -> None:
    svc = mail_service(service, 25)
    cid = case_with_vendors(svc, 5)
    MailService(svc).queue(cid, None, "new-case")
    expected = svc.timeline(cid)
    loaded: list[object] = []

    def hear(target: object, _context: object) -> None:
        loaded.append(target)

    event.listen(EventRow, "load", hear)
    try:
        with svc.db.sessions() as s:
            repo = CaseRepository(s)
            events = repo.events(repo.case_row(cid).id)
    finally:
        event.remove(EventRow, "load", hear)
    assert loaded == []
    assert [(e.seq, e.type, e.at, e.actor, e.reason, e.participant, e.data)
            for e in events] == [(e.seq, e.type, e.at, e.actor, e.reason, e.participant,
                                  e.data) for e in expected]
    assert all(e.at.tzinfo is not None for e in events)


def _wire_reference(raw: str) -> bytes:
    """The regular-expression version _wire replaced."""
    text = re.sub(r"\r?\n", "\r\n", raw)
    if not text.endswith("\r\n"):
        text += "\r\n"
    return re.sub(r"(?m)^\.", "..", text).encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", ".", "\n", "\r", " ", "é", "..", "\n."]),
                max_size=40).map("".join))
@example(".\n.\n")
@example("a\r\n.b\r.c\n")
@example("")
def test_wire_is_what_the_regular_expressions_gave(raw: str) -> None:
    assert _wire(raw) == _wire_reference(raw)


_ATOM = st.text(alphabet="abcXYZ019!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.builds(lambda a, b, d: f"{a}.{b}@{d}.example", _ATOM, _ATOM, _ATOM),
    st.builds(lambda a, d: f"{a}@{d}", _ATOM, st.from_regex(r"[a-z0-9-]{1,8}", fullmatch=True)),
    st.text(alphabet='ab@.<> "()é,;:\\', max_size=20)))
@example("Desk <cert@example.org>")
@example("a..b@example.org")
@example("<>")
@example("")
def test_envelope_address_is_what_smtplib_sends(address: str) -> None:
    assert envelope_address(address) == smtplib.quoteaddr(address)


def test_a_queued_batch_still_arrives_intact(service: CaseService,
                                             smtp_server: tuple[Any, int]) -> None:
    """The envelope and payload built the cheaper way, end to end."""
    from cvdesk.services.worker import Worker

    recorder, port = smtp_server
    svc = mail_service(service, port)
    cid = case_with_vendors(svc, 3)
    queued = MailService(svc).queue(cid, None, "new-case")
    assert Worker(svc.db, svc.settings).run().sent == 3
    assert recorder.message_ids() == [q.message_id for q in queued]
    with svc.db.sessions() as s:
        raws = list(s.scalars(select(OutboxRow.raw).order_by(OutboxRow.id)))
    # What the server took is the stored text with CRLF line ends (aiosmtpd undoes the
    # dot-stuffing, and these messages have no line that starts with a dot).
    assert recorder.messages == [_wire_reference(r) for r in raws]
    assert {v[0] for v in _state(svc).values()} == {SENT}


def _log_reads(seen: list[str]) -> int:
    return sum(1 for q in seen if q.startswith("select") and " from events" in q)


def test_bounces_are_logged_without_reading_the_case_log(
        service: CaseService, clock: Any, smtp_server: tuple[Any, int]) -> None:
    """Each bounce is logged in its own transaction without reading the case log (it was
    read once per bounce, then once per run), and the log ends as a replay of it says."""
    from cvdesk.domain.events import EventType
    from cvdesk.services.worker import Worker

    recorder, port = smtp_server
    n = 6
    for i in range(n):
        recorder.refuse[f"psirt{i}@vendor{i}.example"] = "550 no such user"
    svc = mail_service(service, port)
    cid = case_with_vendors(svc, n)
    MailService(svc).queue(cid, None, "new-case")
    with statements(svc) as seen:
        stats = Worker(svc.db, svc.settings, clock=clock).run(batch=4)
    assert stats.failed == n
    assert _log_reads(seen) == 0, [q for q in seen if " from events" in q]  # was n, then 1
    attempts = [e for e in svc.timeline(cid) if e.type is EventType.CONTACT_ATTEMPT]
    assert sorted(e.participant for e in attempts) == sorted(
        p.pid for p in svc.show(cid).participants if p.is_vendor)
    assert {e.data["outcome"] for e in attempts} == {"bounced"}


def test_a_case_changed_meanwhile_is_read_again(service: CaseService, clock: Any,
                                               smtp_server: tuple[Any, int]) -> None:
    from cvdesk.domain.events import EventType
    from cvdesk.services.worker import RunStats, Worker

    recorder, port = smtp_server
    recorder.refuse["psirt0@vendor0.example"] = "550 no such user"
    recorder.refuse["psirt1@vendor1.example"] = "550 no such user"
    svc = mail_service(service, port)
    cid = case_with_vendors(svc, 2)
    MailService(svc).queue(cid, None, "new-case")
    worker = Worker(svc.db, svc.settings, clock=clock)
    claimed = worker.claim(10)
    stats = RunStats()
    worker.deliver(claimed[:1], stats)  # logs the first bounce
    with svc.case(cid) as case:  # someone else writes to the case
        case.note("called the vendor switchboard", at=svc.clock(), actor="rita")
    with statements(svc) as seen:
        worker.deliver(claimed[1:], stats)  # appends after the note, at the new version
    assert _log_reads(seen) == 0
    assert stats.failed == 2
    types = [e.type for e in svc.timeline(cid)]
    assert types[-3:] == [EventType.CONTACT_ATTEMPT, EventType.NOTE,
                          EventType.CONTACT_ATTEMPT]


def test_templates_go_out_as_seven_bit_text_for_ascii_values() -> None:
    """Bodies are wrapped below 78 characters: no quoted-printable pass per message."""
    from cvdesk.channels.mail import TEMPLATES, compose, render

    values = {"name": "Globex Software PSIRT", "desk": "Example National CSIRT",
              "title": "SQL injection in Globex HelpDesk ticket search",
              "embargo_end": "2027-01-15T16:00:00+01:00", "days": "45",
              "advisory": "CVE-2026-12345: upgrade to 4.2.1."}
    for template in TEMPLATES:
        subject, body = render(template, values)
        _, raw = compose(sender="cert@example.org", recipient="psirt@globex.example",
                         case_id="CVD-2026-0002", tlp="AMBER", subject=subject, body=body,
                         at=NOW, domain="example.org")
        assert "Content-Transfer-Encoding: 7bit" in raw, template
        assert body.replace("\n", "") in raw.replace("\n", ""), template
