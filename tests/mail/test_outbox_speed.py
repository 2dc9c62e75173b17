"""What makes bulk notification fast, checked as behaviour (both backends): one contact
query for all vendors, one commit per message, and still at most one message in doubt."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from cvdesk.domain.events import EventType
from cvdesk.services import CaseService
from cvdesk.services.mail import MailService
from cvdesk.services.worker import RunStats, Worker
from cvdesk.store.tables import OutboxRow
from tests.conftest import Clock
from tests.mail.conftest import Recorder
from tests.mail.test_outbox import case_with_vendors, mail_service


@contextmanager
def counting(svc: CaseService) -> Iterator[Counter[str]]:
    """Statements (by the table they read or write) and commits on the database."""
    seen: Counter[str] = Counter()

    def statement(_c: Any, _cur: Any, sql: str, *_rest: Any) -> None:
        low = " ".join(sql.lower().split())
        for table in ("contacts", "outbox"):
            if f"from {table}" in low or f"join {table}" in low or f"into {table}" in low:
                seen[table] += 1

    def commit(_conn: Any) -> None:
        seen["commit"] += 1

    engine = svc.db.engine
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)


def test_queue_reads_contacts_once_and_inserts_in_bulk(
        service: CaseService, smtp_server: tuple[Recorder, int]) -> None:
    _, port = smtp_server
    svc = mail_service(service, port)
    cid = case_with_vendors(svc, 40)
    with counting(svc) as seen:
        queued = MailService(svc).queue(cid, None, "new-case")
    assert len(queued) == 40
    assert seen["contacts"] <= 1  # was one query per vendor
    assert seen["outbox"] <= 3  # the idempotency check and one multi-row insert
    with svc.db.sessions() as s:
        rows = list(s.scalars(select(OutboxRow).order_by(OutboxRow.id)))
    assert [r.recipient for r in rows] == [f"psirt{i}@vendor{i}.example" for i in range(40)]
    assert {r.status for r in rows} == {"pending"}


class Watching(Recorder):
    """Looks at the outbox while each message's end-of-data is being answered."""

    def __init__(self, svc: CaseService) -> None:
        super().__init__()
        self.svc = svc
        self.states: list[Counter[str]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        with self.svc.db.sessions() as s:
            self.states.append(Counter(s.scalars(select(OutboxRow.status))))
        return await super().handle_DATA(server, session, envelope)


def test_one_commit_per_message_and_never_two_in_doubt(
        service: CaseService, clock: Clock) -> None:
    from aiosmtpd.controller import Controller

    from tests.mail.conftest import free_port
    port = free_port()
    svc = mail_service(service, port)
    watching = Watching(svc)
    server = Controller(watching, hostname="127.0.0.1", port=port)
    server.start()
    try:
        n = 30
        cid = case_with_vendors(svc, n)
        MailService(svc).queue(cid, None, "new-case")
        with counting(svc) as seen:
            stats = Worker(svc.db, svc.settings, clock=clock).run(batch=10)
    finally:
        server.stop()
    assert (stats.sent, stats.failed, stats.in_doubt) == (n, 0, 0)
    # Two commits a message before; now one, plus a few per batch and per run.
    assert seen["commit"] <= n + 3 * 3 + 4, seen
    # While message k is answered, exactly one row is 'committed' (k itself) and every
    # earlier one of the run is already 'sent'.
    for k, state in enumerate(watching.states):
        assert state["committed"] == 1, (k, state)
        assert state["sent"] == k, (k, state)
    types = [e.type for e in svc.timeline(cid)]
    assert types.count(EventType.CONTACT_ATTEMPT) == n  # each delivery logged once
    with svc.db.sessions() as s:
        rows = list(s.scalars(select(OutboxRow)))
    assert {(r.status, r.logged, r.in_doubt, r.attempts) for r in rows} == {
        ("sent", True, False, 1)}
    assert all(r.sent_at == clock.now for r in rows)


class HangsUp(Recorder):
    """Takes the message, then drops the connection instead of answering end-of-data."""

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(envelope.original_content or envelope.content)
        server.transport.close()
        return "250 OK"


def test_no_answer_to_end_of_data_is_in_doubt_not_retried(
        service: CaseService, clock: Clock) -> None:
    """Retrying after the end-of-data line could deliver twice; flag it for a person."""
    from aiosmtpd.controller import Controller

    from tests.mail.conftest import free_port
    port = free_port()
    svc = mail_service(service, port)
    recorder = HangsUp()
    server = Controller(recorder, hostname="127.0.0.1", port=port)
    server.start()
    try:
        cid = case_with_vendors(svc, 1)
        MailService(svc).queue(cid, None, "new-case")
        worker = Worker(svc.db, svc.settings, clock=clock)
        stats = RunStats()
        worker.deliver(worker.claim(10), stats)
        clock.advance(hours=1)  # any retry would be due by now
        again = RunStats()
        worker.deliver(worker.claim(10), again)
    finally:
        server.stop()
    assert len(recorder.messages) == 1
    assert (stats.sent, stats.retried, stats.in_doubt) == (0, 0, 1)
    assert (again.sent, again.retried, again.failed) == (0, 0, 0)
    with svc.db.sessions() as s:
        row = s.scalars(select(OutboxRow)).one()
    assert (row.status, row.in_doubt, row.logged) == ("sent", True, True)
    assert "not confirmed" in row.last_error
    attempts = [e for e in svc.timeline(cid) if e.type == EventType.CONTACT_ATTEMPT]
    assert len(attempts) == 1
