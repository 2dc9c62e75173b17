"""Each message's commit runs while the server answers its MAIL command (issue 9, notify):
the order of the steps that keeps a crash from sending twice is unchanged where it
matters, and a message whose lease ran out meanwhile is abandoned, not sent."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from cvdesk.services import CaseService
from cvdesk.services.mail import MailService
from cvdesk.services.worker import RunStats, Worker
from cvdesk.store.outbox import OutboxMarks
from cvdesk.store.tables import OutboxRow
from tests.conftest import Clock
from tests.mail.conftest import Recorder
from tests.mail.test_outbox import case_with_vendors, mail_service


def _steps(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """What the worker sends to the server and commits, in order."""
    import smtplib

    steps: list[tuple[str, Any]] = []
    send, advance = smtplib.SMTP.send, OutboxMarks.advance

    def noting_send(self: smtplib.SMTP, data: Any) -> None:
        text = data.decode() if isinstance(data, bytes) else data
        word = text.split(":")[0].split()[0].lower() if text.strip() else ""
        steps.append(("end-of-data" if text.endswith("\r\n.\r\n") else word, None))
        send(self, data)

    def noting_advance(self: OutboxMarks, sent: int | None, commit: int | None,
                       now: Any) -> bool:
        steps.append(("commit", commit))
        return advance(self, sent, commit, now)

    monkeypatch.setattr(smtplib.SMTP, "send", noting_send)
    monkeypatch.setattr(OutboxMarks, "advance", noting_advance)
    return steps


def test_the_commit_comes_between_mail_and_rcpt(
        service: CaseService, clock: Clock, smtp_server: tuple[Recorder, int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    recorder, port = smtp_server
    svc = mail_service(service, port)
    cid = case_with_vendors(svc, 3)
    MailService(svc).queue(cid, None, "new-case")
    steps = _steps(monkeypatch)
    stats = Worker(svc.db, svc.settings, clock=clock).run(batch=10)
    assert stats.sent == 3 and len(recorder.messages) == 3
    words = [w for w, _ in steps if w not in ("ehlo", "quit")]
    # Per message: MAIL out, then its commit (which also marks the one before as sent),
    # then RCPT, DATA and the text; the last one's 'sent' is committed on its own.
    assert words == ["mail", "commit", "rcpt", "data", "end-of-data"] * 3 + ["commit"]
    commits = [c for w, c in steps if w == "commit"]
    with svc.db.sessions() as s:
        ids = list(s.scalars(select(OutboxRow.id).order_by(OutboxRow.id)))
    assert commits == [*ids, None]


def test_a_message_whose_lease_ran_out_is_abandoned_after_mail(
        service: CaseService, clock: Clock, smtp_server: tuple[Recorder, int]) -> None:
    """Its MAIL went out before the commit found it was no longer this worker's: the
    SMTP transaction is reset, nothing of it is delivered, the row stays the other
    worker's, and the next message goes out on the same connection."""
    recorder, port = smtp_server
    svc = mail_service(service, port)
    cid = case_with_vendors(svc, 3)
    queued = MailService(svc).queue(cid, None, "new-case")
    worker = Worker(svc.db, svc.settings, clock=clock)
    claimed = worker.claim(10)
    taken = claimed[1].id
    with svc.db.transaction() as s:  # another worker took it after this one's lease ran out
        s.execute(update(OutboxRow).where(OutboxRow.id == taken).values(worker="other"))
    stats = RunStats()
    worker.deliver(claimed, stats)
    assert (stats.sent, stats.retried, stats.failed, stats.in_doubt) == (2, 0, 0, 0)
    assert recorder.message_ids() == [queued[0].message_id, queued[2].message_id]
    with svc.db.sessions() as s:
        row = s.get(OutboxRow, taken)
        assert row is not None
        assert (row.status, row.worker, row.attempts, row.logged) == (
            "sending", "other", 0, False)
        statuses = {i: st for i, st in s.execute(select(OutboxRow.id, OutboxRow.status))}
    assert statuses == {claimed[0].id: "sent", taken: "sending", claimed[2].id: "sent"}


def test_a_refused_mail_still_puts_the_message_back(
        service: CaseService, clock: Clock, smtp_server: tuple[Recorder, int]) -> None:
    """MAIL refused after the commit (temporary): back to the queue for a retry, as when
    the refusal came before the commit."""
    recorder, port = smtp_server

    async def refuse_mail(server: Any, session: Any, envelope: Any, address: str,
                          options: Any) -> str:
        return "451 try again later"

    recorder.handle_MAIL = refuse_mail  # type: ignore[attr-defined]
    svc = mail_service(service, port)
    cid = case_with_vendors(svc, 2)
    MailService(svc).queue(cid, None, "new-case")
    worker = Worker(svc.db, svc.settings, clock=clock)
    stats = RunStats()
    worker.deliver(worker.claim(10), stats)
    assert (stats.sent, stats.retried, stats.failed) == (0, 2, 0)
    assert recorder.messages == []
    with svc.db.sessions() as s:
        rows = list(s.execute(select(OutboxRow.status, OutboxRow.attempts,
                                     OutboxRow.last_error)))
    assert [(st, a) for st, a, _ in rows] == [("pending", 1), ("pending", 1)]
    assert all("451" in e for _, _, e in rows)
