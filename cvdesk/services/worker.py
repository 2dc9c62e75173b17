"""The outbox worker: delivers queued e-mail over SMTP, at most once.

Protocol per message, so a worker killed at any point never sends twice:

1. claim a batch: ``pending -> sending`` with a lease (``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL, so several workers share the queue; SQLite serializes writers);
2. send MAIL; while the server answers it, commit ``sending -> committed`` for this
   message, in the same transaction that records the previous message of the batch as
   ``sent`` (one commit per message, hidden behind a round trip);
3. read the answer to MAIL, then RCPT, DATA, and the text with its end-of-data line (a
   refusal before the end-of-data line puts the message back to ``sending`` for a retry
   or a failure; a worker that dies before the commit of step 2 leaves an unfinished SMTP
   transaction, which the server discards: retrying is safe);
4. read the answer; the next step 2 (or, after the last message, a commit of its own)
   records ``committed -> sent``, before any more than the next MAIL goes to the server;
5. after one or more batches (see run()), one transaction appends the contact attempts of
   the delivered messages to their cases, one append per case without replaying its log
   (store/case_log.py), and sets ``logged``.  A worker that dies before that leaves
   ``sent`` rows unlogged: the message is sent and recorded as sent, only its line in the
   case log is missing, and the next worker (recover(), once the lease has run out) adds
   it.  So a crash delays a contact attempt in the log by at most a lease; it never loses
   one or logs one twice (the rows are locked and ``logged`` is checked in the same
   transaction).

A worker that dies between 2 and 4 leaves one message ``committed``: the only moment when
delivery is unknown.  A later worker marks it sent with ``in_doubt`` set rather than risk
a second copy, so a crash costs at most one message a person has to check.  Temporary
SMTP failures (4xx) are retried with exponential backoff; permanent ones (5xx) or too many
tries fail the message and log a bounced attempt on the case.

Each step's SQL, with its guard (the status it expects, the worker holding the lease), is
in store/outbox.py; this module holds the order of the steps and the SMTP dialogue.
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

from cvdesk.channels.mail import envelope_address
from cvdesk.domain.model import AttemptOutcome, Channel
from cvdesk.services.cases import utcnow
from cvdesk.services.collector import collect_young, collector_paused
from cvdesk.services.progress import Progress, quiet
from cvdesk.settings import Settings
from cvdesk.store.case_log import Attempt, append_contact_attempts
from cvdesk.store.db import Database
from cvdesk.store.outbox import OutboxMarks, OutboxRepository

#: run() logs contact attempts at least this often (in messages); see run().
LOG_EVERY = 5000


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


class DeliveryUnknown(Exception):
    """The end-of-data line went out but no answer came back."""


def _wire(raw: str) -> bytes:
    """The DATA payload without its end-of-data line: CRLF lines, leading dots doubled.

    Composed messages have bare LF lines and rarely a line that starts with a dot, so
    plain replacements do it; a message with a CR in it takes the general path."""
    text = raw.replace("\n", "\r\n") if "\r" not in raw else re.sub(r"\r?\n", "\r\n", raw)
    if not text.endswith("\r\n"):
        text += "\r\n"
    if text.startswith("."):
        text = "." + text
    return text.replace("\n.", "\n..").encode("utf-8")


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
            progress: Progress = quiet) -> RunStats:
        """Deliver until the queue is empty (or, with ``until_empty`` false, forever).

        ``progress`` hears (messages handled, messages due) after each message: the total
        is what was due when the run began, and grows when more comes due (a retry, a
        message queued meanwhile)."""
        stats = RunStats()
        tally = _Tally(progress, self.due() if progress is not quiet else 0)
        # Deliveries still to log on their cases.  Logging loads each case, so it is done
        # once for many batches: when the queue runs dry, when this list is long, or before
        # half the lease has passed (after the lease, recover() in another worker would
        # log them; _mark_sent and recover() lock the rows, so never both).
        unlogged: list[Claimed] = []
        first = 0.0
        try:
            while True:
                stats.in_doubt += self.recover()
                claimed = self.claim(batch)
                if claimed:
                    if not unlogged:
                        first = time.monotonic()
                    with collector_paused():  # one batch at most (services/collector.py)
                        self.deliver(claimed, stats, tally.one, unlogged=unlogged)
                        if len(unlogged) >= LOG_EVERY or (
                                time.monotonic() - first > self.smtp.lease_seconds / 2):
                            self._mark_sent(unlogged)
                            unlogged.clear()
                    collect_young()
                    continue
                with collector_paused():
                    self._mark_sent(unlogged)
                unlogged.clear()
                if until_empty and not self.busy():
                    tally.end()
                    return stats
                time.sleep(idle_seconds)
        finally:
            self._mark_sent(unlogged)

    def busy(self) -> bool:
        """Messages still waiting (for their retry time or for another worker's lease)."""
        with self.db.sessions() as s:
            return OutboxRepository(s).busy()

    def due(self) -> int:
        """Messages waiting to go out now (the total a progress bar starts from)."""
        with self.db.sessions() as s:
            return OutboxRepository(s).due(self.clock())

    # ------------------------------------------------------------ claiming
    def recover(self) -> int:
        """Take back messages whose worker's lease ran out."""
        now = self.clock()
        with self.db.sessions() as s:
            if not OutboxRepository(s).expired(now):
                return 0
        with self._logging() as s:
            doubtful, unlogged = OutboxRepository(s).recover(now)
            self._log_attempts(s, [
                *((case_pk, pid, address, AttemptOutcome.SENT,
                   "delivery not confirmed (worker stopped); check with the recipient")
                  for case_pk, pid, address in doubtful),
                *((case_pk, pid, address, AttemptOutcome.SENT, "")
                  for case_pk, pid, address in unlogged)])
        return len(doubtful)

    def claim(self, batch: int) -> list[Claimed]:
        now = self.clock()
        lease = now + timedelta(seconds=self.smtp.lease_seconds)
        with self.db.transaction() as s:
            return [Claimed(*r) for r in OutboxRepository(s).claim(
                now=now, batch=batch, worker=self.name, lease_until=lease)]

    # ------------------------------------------------------------ delivering
    def deliver(self, claimed: Sequence[Claimed], stats: RunStats,
                progress: Callable[[], None] | None = None, *,
                unlogged: list[Claimed] | None = None) -> None:
        """Send the claimed messages; their contact attempts are logged at the end, or
        left in ``unlogged`` for the caller to log (run() logs many batches at once).
        ``progress`` is called once per message handled."""
        done: list[Claimed] = []
        smtp: smtplib.SMTP | None = None
        marks = OutboxMarks(self.db, self.name)
        delivered: Claimed | None = None  # answered 250, 'sent' not yet committed
        try:
            for item in claimed:
                try:
                    if smtp is None:
                        smtp = self._connect()
                    # MAIL goes out first, and the commit runs while the server answers it
                    # (nothing is committed to the server before the end-of-data line).
                    smtp.putcmd("mail", f"from:{envelope_address(item.sender)}")
                    # One commit per message: the previous one is sent, this one is about to
                    # be.  So at most one row is 'committed' at any time.
                    ready = marks.advance(delivered.id if delivered else None, item.id,
                                          self.clock())
                    delivered = None
                    mail = smtp.getreply()
                    if ready:
                        self._send(smtp, item, mail)
                        delivered = item
                        done.append(item)
                    else:  # the lease ran out: another worker owns it now
                        smtp = _abandon(smtp)
                except DeliveryUnknown as exc:
                    smtp = _drop(smtp)
                    self._in_doubt(item, str(exc), stats)
                except SmtpTemporary as exc:
                    smtp = _drop(smtp)
                    self._retry(item, str(exc), stats)
                except SmtpPermanent as exc:
                    self._fail(item, str(exc), stats)
                except (OSError, smtplib.SMTPException) as exc:
                    smtp = _drop(smtp)
                    self._retry(item, f"{type(exc).__name__}: {exc}", stats)
                if progress is not None:
                    progress()
        finally:
            try:
                if delivered is not None:
                    marks.advance(delivered.id, None, self.clock())
            finally:
                marks.close()
                if smtp is not None:
                    try:
                        smtp.quit()
                    except (OSError, smtplib.SMTPException):
                        smtp.close()
            stats.sent += len(done)
            if unlogged is None:
                self._mark_sent(done)
            else:
                unlogged.extend(done)

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=self.smtp.timeout_seconds)
        # Commands and replies are small writes; without TCP_NODELAY one could wait for the
        # server's delayed ACK, ~40 ms a message.
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

    def _send(self, smtp: smtplib.SMTP, item: Claimed, mail: tuple[int, bytes]) -> None:
        """The rest of the SMTP transaction of a message now marked 'committed', whose MAIL
        command was sent before the mark and ``mail`` is the answer to it.  A refusal
        before the end-of-data line puts it back to 'sending' for the retry or failure
        path."""
        # MAIL and RCPT as smtplib's mail() and rcpt() send them (no options), without
        # its address parser for a plain address (envelope_address).
        for code, reply in (mail,
                            smtp.docmd("rcpt", f"to:{envelope_address(item.recipient)}")):
            if code >= 400:
                smtp.rset()
                self._uncommit(item)
                raise (SmtpPermanent if code >= 500 else SmtpTemporary)(
                    f"{code} {reply.decode(errors='replace')}")
        code, reply = smtp.docmd("DATA")
        if code != 354:
            self._uncommit(item)
            raise SmtpTemporary(f"DATA refused: {code} {reply.decode(errors='replace')}")
        # The text and the end-of-data line go in one write: the 'committed' mark is
        # already durable, so nothing has to happen between them.
        smtp.send(_wire(item.raw) + b".\r\n")
        try:
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            # The server may have taken the message: sending it again could duplicate it.
            raise DeliveryUnknown(f"no answer to end-of-data ({type(exc).__name__}: {exc}); "
                                  "delivery not confirmed") from exc
        if code >= 400:
            self._uncommit(item)
            raise (SmtpPermanent if code >= 500 else SmtpTemporary)(
                f"{code} {reply.decode(errors='replace')}")

    def _uncommit(self, item: Claimed) -> None:
        with self.db.transaction() as s:
            OutboxRepository(s).uncommit(item.id)

    def _mark_sent(self, done: list[Claimed]) -> None:
        """Log deliveries on their cases, in one transaction.  The rows are locked first,
        so a recover() that logged them meanwhile (lease run out) is seen, not repeated."""
        if not done:
            return
        with self._logging() as s:
            mine = OutboxRepository(s).take_unlogged([d.id for d in done])
            self._log_attempts(s, [(d.case_pk, d.participant, d.recipient,
                                    AttemptOutcome.SENT, "") for d in done if d.id in mine])

    def _in_doubt(self, item: Claimed, error: str, stats: RunStats) -> None:
        """Record a message the server may or may not have: sent, flagged for a person."""
        with self._logging() as s:
            if OutboxRepository(s).in_doubt(item.id, worker=self.name, now=self.clock(),
                                            attempts=item.attempts + 1, error=error):
                self._log_attempts(s, [(item.case_pk, item.participant, item.recipient,
                                        AttemptOutcome.SENT, error[:200])])
                stats.in_doubt += 1

    def _retry(self, item: Claimed, error: str, stats: RunStats) -> None:
        attempts = item.attempts + 1
        if attempts >= self.smtp.max_attempts:
            self._fail(item, f"gave up after {attempts} attempts: {error}", stats)
            return
        delay = self.smtp.retry_base_seconds * 2 ** (attempts - 1)
        with self.db.transaction() as s:
            OutboxRepository(s).retry(item.id, worker=self.name, attempts=attempts,
                                      error=error,
                                      at=self.clock() + timedelta(seconds=delay))
        stats.retried += 1

    def _fail(self, item: Claimed, error: str, stats: RunStats) -> None:
        with self._logging() as s:
            OutboxRepository(s).fail(item.id, worker=self.name, attempts=item.attempts + 1,
                                     error=error)
            self._log_attempts(s, [(item.case_pk, item.participant, item.recipient,
                                    AttemptOutcome.BOUNCED, error[:200])])
        stats.failed += 1

    def _logging(self) -> Any:
        """A transaction that may log contact attempts."""
        return self.db.transaction()

    def _log_attempts(self, session: Any,
                      attempts: list[tuple[int | None, int | None, str, AttemptOutcome, str]],
                      ) -> None:
        """Contact attempts on the cases, in the same transaction as the outbox change:
        one append per case, which locks the case row and writes the events and the
        contact summaries of the participants concerned, without replaying the case's
        log (store/case_log.py says why that is the same as the domain's command).  A
        closed case takes none, as before."""
        by_case: dict[int, list[Attempt]] = defaultdict(list)
        for case_pk, pid, address, outcome, note in attempts:
            if case_pk is not None and pid is not None:
                by_case[case_pk].append(Attempt(pid, outcome, note, address))
        now = self.clock()
        for case_pk, items in by_case.items():
            append_contact_attempts(session, case_pk, items, channel=Channel.EMAIL, at=now,
                                    actor=self.name)


class _Tally:
    """Counts the messages a run handles for its ``progress`` listener."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0
        if progress is not quiet:
            progress(0, total)

    def one(self) -> None:
        self.done += 1
        self.total = max(self.total, self.done)
        self.progress(self.done, self.total)

    def end(self) -> None:
        """The queue ran dry: whatever was counted as due and not handled went to another
        worker, so the run ends at (done, done)."""
        if self.total != self.done:
            self.total = self.done
            self.progress(self.done, self.total)


def _abandon(smtp: smtplib.SMTP) -> smtplib.SMTP | None:
    """End the SMTP transaction a MAIL command began, for a message that is no longer this
    worker's; a connection that fails meanwhile is dropped (the next message opens
    another), and the message is left to the worker that owns it."""
    try:
        smtp.rset()
    except (OSError, smtplib.SMTPException):
        return _drop(smtp)
    return smtp


def _drop(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        smtp.close()
    return None
