"""The outbox worker: delivers queued e-mail over SMTP, at most once.

Protocol per message, so a worker killed at any point never sends twice:

1. claim a batch: ``pending -> sending`` with a lease (``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL, so several workers share the queue; SQLite serializes writers);
2. MAIL, RCPT, DATA and the message text, but not yet the end-of-data line;
3. commit ``sending -> committed`` (a worker that dies before this leaves an unfinished
   SMTP transaction, which the server discards: retrying is safe);
4. send the end-of-data line and read the answer;
5. commit ``committed -> sent`` at once; at the end of the batch, one transaction puts a
   contact-attempt event on each case and sets ``logged`` (a worker that dies before that
   leaves ``sent`` rows unlogged, and the next worker logs them).

A worker that dies between 3 and 5 leaves one message ``committed``: the only moment when
delivery is unknown.  A later worker marks it sent with ``in_doubt`` set rather than risk
a second copy, so a crash costs at most one message a person has to check.  Temporary
SMTP failures (4xx) are retried with exponential backoff; permanent ones (5xx) or too many
tries fail the message and log a bounced attempt on the case.
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
import ssl
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from cvdesk.domain.model import AttemptOutcome, Channel
from cvdesk.services.cases import utcnow
from cvdesk.services.mail import COMMITTED, FAILED, PENDING, SENDING, SENT
from cvdesk.settings import Settings
from cvdesk.store.cases import CaseRepository
from cvdesk.store.db import Database
from cvdesk.store.tables import CaseRow, OutboxRow


@dataclass
class Claimed:
    id: int
    case_pk: int | None
    participant: int | None
    sender: str
    recipient: str
    raw: str
    attempts: int


@dataclass
class RunStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    in_doubt: int = 0


class SmtpTemporary(Exception):
    pass


class SmtpPermanent(Exception):
    pass


def _wire(raw: str) -> bytes:
    """The DATA payload without its end-of-data line: CRLF lines, leading dots doubled."""
    text = re.sub(r"\r?\n", "\r\n", raw)
    if not text.endswith("\r\n"):
        text += "\r\n"
    return re.sub(r"(?m)^\.", "..", text).encode("utf-8")


class Worker:
    def __init__(self, db: Database, settings: Settings,
                 clock: Callable[[], datetime] = utcnow, name: str = "") -> None:
        self.db = db
        self.settings = settings
        self.smtp = settings.smtp
        self.clock = clock
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"

    # ------------------------------------------------------------ the loop
    def run(self, *, batch: int = 100, until_empty: bool = True, idle_seconds: float = 1.0,
            progress: Callable[[int], None] | None = None) -> RunStats:
        stats = RunStats()
        while True:
            stats.in_doubt += self.recover()
            claimed = self.claim(batch)
            if claimed:
                self.deliver(claimed, stats, progress)
                continue
            if until_empty and not self.busy():
                return stats
            time.sleep(idle_seconds)

    def busy(self) -> bool:
        """Messages still waiting (for their retry time or for another worker's lease)."""
        with self.db.sessions() as s:
            return s.scalar(select(OutboxRow.id).where(
                OutboxRow.status.in_((PENDING, SENDING, COMMITTED))).limit(1)) is not None

    # ------------------------------------------------------------ claiming
    def recover(self) -> int:
        """Take back messages whose worker's lease ran out."""
        now = self.clock()
        with self.db.transaction() as s:
            s.execute(update(OutboxRow).where(OutboxRow.status == SENDING,
                                              OutboxRow.lease_until < now)
                      .values(status=PENDING, worker="", lease_until=None))
            doubtful = list(s.scalars(select(OutboxRow).where(
                OutboxRow.status == COMMITTED, OutboxRow.lease_until < now)
                .with_for_update(skip_locked=True)))
            for row in doubtful:
                row.status, row.in_doubt, row.sent_at, row.logged = SENT, True, now, True
                row.last_error = "worker stopped at end-of-data: delivery not confirmed"
            unlogged = list(s.scalars(select(OutboxRow).where(
                OutboxRow.status == SENT, OutboxRow.logged.is_(False),
                OutboxRow.lease_until < now).with_for_update(skip_locked=True)))
            for row in unlogged:
                row.logged, row.lease_until = True, None
            self._log_attempts(s, [
                *((r.case_pk, r.participant, r.recipient, AttemptOutcome.SENT,
                   "delivery not confirmed (worker stopped); check with the recipient")
                  for r in doubtful),
                *((r.case_pk, r.participant, r.recipient, AttemptOutcome.SENT, "")
                  for r in unlogged)])
        return len(doubtful)

    def claim(self, batch: int) -> list[Claimed]:
        now = self.clock()
        lease = now + timedelta(seconds=self.smtp.lease_seconds)
        with self.db.transaction() as s:
            ids = list(s.scalars(select(OutboxRow.id).where(
                OutboxRow.status == PENDING, OutboxRow.next_attempt_at <= now)
                .order_by(OutboxRow.id).limit(batch).with_for_update(skip_locked=True)))
            if not ids:
                return []
            s.execute(update(OutboxRow).where(OutboxRow.id.in_(ids))
                      .values(status=SENDING, worker=self.name, lease_until=lease))
            rows = s.execute(select(OutboxRow.id, OutboxRow.case_pk, OutboxRow.participant,
                                    OutboxRow.sender, OutboxRow.recipient, OutboxRow.raw,
                                    OutboxRow.attempts)
                             .where(OutboxRow.id.in_(ids)).order_by(OutboxRow.id))
            return [Claimed(*r) for r in rows]

    # ------------------------------------------------------------ delivering
    def deliver(self, claimed: Sequence[Claimed], stats: RunStats,
                progress: Callable[[int], None] | None = None) -> None:
        done: list[Claimed] = []
        smtp: smtplib.SMTP | None = None
        try:
            for item in claimed:
                try:
                    if smtp is None:
                        smtp = self._connect()
                    self._send(smtp, item)
                    done.append(item)
                except SmtpTemporary as exc:
                    smtp = _drop(smtp)
                    self._retry(item, str(exc), stats)
                except SmtpPermanent as exc:
                    self._fail(item, str(exc), stats)
                except (OSError, smtplib.SMTPException) as exc:
                    smtp = _drop(smtp)
                    self._retry(item, f"{type(exc).__name__}: {exc}", stats)
                if progress:
                    progress(1)
        finally:
            if smtp is not None:
                try:
                    smtp.quit()
                except (OSError, smtplib.SMTPException):
                    smtp.close()
            self._mark_sent(done, stats)

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=self.smtp.timeout_seconds)
        # The end-of-data line is a separate small write (see the protocol above); without
        # TCP_NODELAY it would wait for the server's delayed ACK, ~40 ms a message.
        if smtp.sock is not None:
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        smtp.ehlo()
        if self.smtp.starttls:
            context = ssl.create_default_context()
            if self.smtp.ca_bundle:
                context.load_verify_locations(cafile=self.smtp.ca_bundle)
            smtp.starttls(context=context)
            smtp.ehlo()
        if self.smtp.username:
            smtp.login(self.smtp.username, self.smtp.password)
        return smtp

    def _send(self, smtp: smtplib.SMTP, item: Claimed) -> None:
        for code, reply in (smtp.mail(item.sender), smtp.rcpt(item.recipient)):
            if code >= 400:
                smtp.rset()
                raise (SmtpPermanent if code >= 500 else SmtpTemporary)(
                    f"{code} {reply.decode(errors='replace')}")
        code, reply = smtp.docmd("DATA")
        if code != 354:
            raise SmtpTemporary(f"DATA refused: {code} {reply.decode(errors='replace')}")
        smtp.send(_wire(item.raw))
        if not self._commit_point(item):  # lease lost: end without the final dot
            raise OSError("lease lost before end-of-data; the server discards the message")
        smtp.send(b".\r\n")
        code, reply = smtp.getreply()
        if code >= 400:
            self._uncommit(item)
            raise (SmtpPermanent if code >= 500 else SmtpTemporary)(
                f"{code} {reply.decode(errors='replace')}")
        with self.db.transaction() as s:  # delivered: say so before anything else
            s.execute(update(OutboxRow).where(OutboxRow.id == item.id,
                                              OutboxRow.status == COMMITTED)
                      .values(status=SENT, sent_at=self.clock(),
                              attempts=OutboxRow.attempts + 1))

    def _commit_point(self, item: Claimed) -> bool:
        with self.db.transaction() as s:
            result = s.execute(update(OutboxRow).where(
                OutboxRow.id == item.id, OutboxRow.status == SENDING,
                OutboxRow.worker == self.name).values(status=COMMITTED))
            return result.rowcount == 1  # type: ignore[attr-defined]

    def _uncommit(self, item: Claimed) -> None:
        with self.db.transaction() as s:
            s.execute(update(OutboxRow).where(OutboxRow.id == item.id)
                      .values(status=SENDING))

    def _mark_sent(self, done: list[Claimed], stats: RunStats) -> None:
        """Log the batch's deliveries on their cases, in one transaction."""
        if not done:
            return
        with self.db.transaction() as s:
            mine = set(s.scalars(select(OutboxRow.id).where(
                OutboxRow.id.in_([d.id for d in done]), OutboxRow.status == SENT,
                OutboxRow.logged.is_(False))))
            s.execute(update(OutboxRow).where(OutboxRow.id.in_(mine))
                      .values(logged=True, lease_until=None))
            self._log_attempts(s, [(d.case_pk, d.participant, d.recipient,
                                    AttemptOutcome.SENT, "") for d in done if d.id in mine])
        stats.sent += len(done)

    def _retry(self, item: Claimed, error: str, stats: RunStats) -> None:
        attempts = item.attempts + 1
        if attempts >= self.smtp.max_attempts:
            self._fail(item, f"gave up after {attempts} attempts: {error}", stats)
            return
        delay = self.smtp.retry_base_seconds * 2 ** (attempts - 1)
        with self.db.transaction() as s:
            s.execute(update(OutboxRow).where(OutboxRow.id == item.id,
                                              OutboxRow.worker == self.name).values(
                status=PENDING, attempts=attempts, last_error=error[:500], worker="",
                lease_until=None, next_attempt_at=self.clock() + timedelta(seconds=delay)))
        stats.retried += 1

    def _fail(self, item: Claimed, error: str, stats: RunStats) -> None:
        with self.db.transaction() as s:
            s.execute(update(OutboxRow).where(OutboxRow.id == item.id,
                                              OutboxRow.worker == self.name).values(
                status=FAILED, attempts=item.attempts + 1, last_error=error[:500],
                lease_until=None, logged=True))
            self._log_attempts(s, [(item.case_pk, item.participant, item.recipient,
                                    AttemptOutcome.BOUNCED, error[:200])])
        stats.failed += 1

    def _log_attempts(self, session: Any,
                      attempts: list[tuple[int | None, int | None, str, AttemptOutcome, str]],
                      ) -> None:
        """Contact attempts on the cases, in the same transaction as the outbox change."""
        by_case: dict[int, list[tuple[int, str, AttemptOutcome, str]]] = defaultdict(list)
        for case_pk, pid, address, outcome, note in attempts:
            if case_pk is not None and pid is not None:
                by_case[case_pk].append((pid, address, outcome, note))
        repo = CaseRepository(session)
        now = self.clock()
        for case_pk, items in by_case.items():
            case_id = session.scalar(select(CaseRow.case_id).where(CaseRow.id == case_pk))
            row, case = repo.load(case_id)
            if case.status.value == "closed":
                continue
            for pid, address, outcome, note in items:
                case.contact_attempt(pid, Channel.EMAIL, outcome, at=now, actor=self.name,
                                     reason=note, address=address)
            repo.save(row, case)


def _drop(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        smtp.close()
    return None
