"""The outbox's SQL: queueing, listing, and the delivery states a worker moves a message
through (``OutboxRow`` explains them; services/worker.py the protocol that keeps a crash
from sending anything twice).

Every function here is one step of that protocol and keeps its guard in the WHERE clause
(the status it expects, the worker that holds the lease): a step that finds the row
moved on by someone else changes nothing, and the caller learns so from the result.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from cvdesk.store.db import Database
from cvdesk.store.driver import DefaultsMissing, Many
from cvdesk.store.tables import CaseRow, OutboxRow
from cvdesk.store.types import without_nul

PENDING, SENDING, COMMITTED, SENT, FAILED = "pending", "sending", "committed", "sent", "failed"
#: Every delivery state, in the order a message passes through them.
STATES = (PENDING, SENDING, COMMITTED, SENT, FAILED)
#: add()'s statements, by the columns given.
_INSERTS: dict[tuple[str, ...], Many] = {}

#: (case_pk, participant, recipient) of a delivery whose contact attempt is to be logged
Delivery = tuple[int | None, int | None, str]


def _chunks(items: Iterable[Any], size: int = 500) -> Iterator[list[Any]]:
    """IN lists of bounded length (SQLite limits the parameters of one statement)."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------ queueing and reading
    def taken(self, keys: Collection[str]) -> set[str]:
        """Which of these idempotency keys are queued already (a repeat is a no-op)."""
        found: set[str] = set()
        for chunk in _chunks(sorted(keys)):
            found.update(self.session.scalars(select(OutboxRow.idempotency_key).where(
                OutboxRow.idempotency_key.in_(chunk))))
        return found

    def add(self, messages: list[dict[str, Any]]) -> None:
        """Queue messages (column values), in the caller's transaction: one INSERT for
        all, run by the driver (store/driver.py) when the messages give every column that
        has a default, else by SQLAlchemy, which fills those in."""
        if not messages:
            return
        keys = tuple(messages[0])
        if all(m.keys() == messages[0].keys() for m in messages):
            many = _INSERTS.get(keys) or _INSERTS.setdefault(
                keys, Many(insert(OutboxRow.__table__).inline(), keys))
            try:
                many.run(self.session, [tuple(m[k] for k in keys) for m in messages])
                return
            except DefaultsMissing:
                pass
        self.session.execute(insert(OutboxRow.__table__), messages)

    def entries(self, *, status: str | None = None, case_id: str | None = None,
                ) -> list[tuple[Any, ...]]:
        """(id, case id, participant, recipient, template, status, attempts, in_doubt,
        message_id, last_error, sent_at) in queue order."""
        stmt = (select(OutboxRow.id, CaseRow.case_id, OutboxRow.participant,
                       OutboxRow.recipient, OutboxRow.template, OutboxRow.status,
                       OutboxRow.attempts, OutboxRow.in_doubt, OutboxRow.message_id,
                       OutboxRow.last_error, OutboxRow.sent_at)
                .join(CaseRow, CaseRow.id == OutboxRow.case_pk, isouter=True)
                .order_by(OutboxRow.id))
        if status:
            stmt = stmt.where(OutboxRow.status == status)
        if case_id:
            stmt = stmt.where(CaseRow.case_id == case_id.upper())
        return [tuple(r) for r in self.session.execute(stmt)]

    def busy(self) -> bool:
        """Messages still waiting (for their retry time or for another worker's lease)."""
        return self.session.scalar(select(OutboxRow.id).where(
            OutboxRow.status.in_((PENDING, SENDING, COMMITTED))).limit(1)) is not None

    def due(self, now: datetime) -> int:
        """How many messages wait to go out now."""
        return self.session.scalar(select(func.count()).select_from(OutboxRow).where(
            OutboxRow.status == PENDING, OutboxRow.next_attempt_at <= now)) or 0

    # ------------------------------------------------------------ claiming
    def expired(self, now: datetime) -> bool:
        """Whether recover() would find anything: a read, so that the usual answer (no
        lease ran out) costs no write transaction before every batch."""
        return self.session.scalar(select(OutboxRow.id).where(
            OutboxRow.status.in_((SENDING, COMMITTED, SENT)), OutboxRow.lease_until < now,
            or_(OutboxRow.status != SENT, OutboxRow.logged.is_(False))).limit(1)) is not None

    def recover(self, now: datetime) -> tuple[list[Delivery], list[Delivery]]:
        """Take back messages whose worker's lease ran out.  'sending' goes back to the
        queue; 'committed' (the worker died around the end-of-data line) becomes sent and
        in doubt; 'sent' but not logged gets logged.  Returns the in-doubt deliveries and
        the unlogged ones, whose contact attempts the caller logs in this transaction."""
        s = self.session
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
        return ([(r.case_pk, r.participant, r.recipient) for r in doubtful],
                [(r.case_pk, r.participant, r.recipient) for r in unlogged])

    def claim(self, *, now: datetime, batch: int, worker: str, lease_until: datetime,
              ) -> list[tuple[Any, ...]]:
        """Lease up to ``batch`` due messages to ``worker`` (``FOR UPDATE SKIP LOCKED`` on
        PostgreSQL, so workers share the queue).  Returns (id, case_pk, participant,
        sender, recipient, raw, attempts) in queue order.

        One statement, run by the driver (as ``OutboxMarks`` runs its own): SQLAlchemy's
        execution path, with the id lists it expanded, cost twice the statements."""
        conn = self.session.connection()
        dialect = conn.dialect
        sql, order = _driver_sql(_CLAIM + (" FOR UPDATE SKIP LOCKED"
                                           if dialect.name == "postgresql" else "")
                                 + _CLAIMED, dialect)
        instant = _instant(dialect)
        values = {"now": instant(now), "until": instant(lease_until), "batch": batch,
                  "me": without_nul(worker)}
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, _params(values, order))
            return sorted(tuple(r) for r in cursor.fetchall())
        finally:
            cursor.close()

    # ------------------------------------------------------------ delivery outcomes
    def uncommit(self, message: int) -> None:
        """A refusal before the end-of-data line: back to 'sending' for the retry path."""
        self.session.execute(update(OutboxRow).where(OutboxRow.id == message)
                             .values(status=SENDING))

    def take_unlogged(self, messages: Collection[int]) -> set[int]:
        """Of these messages, the ones sent and not yet logged, locked and marked logged:
        a recover() that logged one meanwhile (its lease ran out) is seen, not repeated."""
        mine: set[int] = set()
        for chunk in _chunks(messages):
            mine.update(self.session.scalars(select(OutboxRow.id).where(
                OutboxRow.id.in_(chunk), OutboxRow.status == SENT,
                OutboxRow.logged.is_(False)).with_for_update()))
        for chunk in _chunks(sorted(mine)):
            self.session.execute(update(OutboxRow).where(OutboxRow.id.in_(chunk))
                                 .values(logged=True, lease_until=None))
        return mine

    def in_doubt(self, message: int, *, worker: str, now: datetime, attempts: int,
                 error: str) -> bool:
        """A message the server may or may not have: sent, flagged for a person.  False
        when it is no longer this worker's 'committed' message."""
        result = self.session.execute(update(OutboxRow).where(
            OutboxRow.id == message, OutboxRow.status == COMMITTED,
            OutboxRow.worker == worker).values(
            status=SENT, in_doubt=True, sent_at=now, attempts=attempts,
            last_error=error[:500], lease_until=None, logged=True))
        return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]

    def retry(self, message: int, *, worker: str, attempts: int, error: str,
              at: datetime) -> None:
        """Back to the queue, due again at ``at``."""
        self.session.execute(update(OutboxRow).where(
            OutboxRow.id == message, OutboxRow.worker == worker).values(
            status=PENDING, attempts=attempts, last_error=error[:500], worker="",
            lease_until=None, next_attempt_at=at))

    def fail(self, message: int, *, worker: str, attempts: int, error: str) -> None:
        """Given up (a permanent refusal, or too many tries); the caller logs the bounce."""
        self.session.execute(update(OutboxRow).where(
            OutboxRow.id == message, OutboxRow.worker == worker).values(
            status=FAILED, attempts=attempts, last_error=error[:500], lease_until=None,
            logged=True))


#: One message's step of the per-message commit (see OutboxMarks.advance), as one
#: statement: the previous message becomes 'sent', the next one 'committed'.  A NULL id
#: matches nothing, so the first and last steps of a batch use the same statement.
_ADVANCE = (
    "UPDATE outbox SET "
    "status = CASE WHEN id = :sent_id THEN 'sent' ELSE 'committed' END, "
    "sent_at = CASE WHEN id = :sent_id THEN :now ELSE sent_at END, "
    "attempts = CASE WHEN id = :sent_id THEN attempts + 1 ELSE attempts END "
    "WHERE (id = :sent_id AND status = 'committed') "
    "OR (id = :commit_id AND status = 'sending' AND worker = :me)")
_MINE = ("SELECT id FROM outbox WHERE id = :commit_id AND status = 'committed' "
         "AND worker = :me")
#: The claim (see OutboxRepository.claim), with the lock clause between the two parts.
_CLAIM = ("UPDATE outbox SET status = 'sending', worker = :me, lease_until = :until "
          "WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' "
          "AND next_attempt_at <= :now ORDER BY id LIMIT :batch")
_CLAIMED = ") RETURNING id, case_pk, participant, sender, recipient, raw, attempts"


def _instant(dialect: Any) -> Any:
    """An instant as the outbox's time columns bind it on ``dialect`` (on SQLite the
    dialect's own text, which the claim compares with the stored ``next_attempt_at``)."""
    kind = OutboxRow.__table__.c.sent_at.type
    bind = kind.dialect_impl(dialect).bind_processor(dialect)
    return bind if bind is not None else (lambda value: value)


class OutboxMarks:
    """The per-message commits of a batch, on one connection held for the batch.

    They are most of what the worker adds to the SMTP dialogue, so each is one UPDATE
    (both marks at once) run by the driver itself, on a connection from the engine's
    pool: SQLAlchemy's execution path (its events, the BEGIN IMMEDIATE its listener
    issues on SQLite, its commit) cost as much as the statement and the commit together.
    The transaction is the same as before: on SQLite BEGIN IMMEDIATE (the write lock up
    front), the UPDATE, COMMIT; on PostgreSQL the driver's own transaction and commit.
    The engine's NUL net is not on this path; the only text bound is the worker's name,
    made NUL-free here as its column's type does, and the instant is bound by the
    column's own type, so the row reads back as any other."""

    def __init__(self, db: Database, worker: str) -> None:
        self.db = db
        self.worker = without_nul(worker)
        self.conn: Any = None
        self.cursor: Any = None  # one for the batch, on the driver's connection
        dialect = db.engine.dialect
        self.sqlite = dialect.name == "sqlite"
        self.sql, self.order = _driver_sql(_ADVANCE, dialect)
        self.mine_sql, self.mine_order = _driver_sql(_MINE, dialect)
        self.instant = _instant(dialect)

    def advance(self, sent: int | None, commit: int | None, now: datetime) -> bool:
        """In one transaction: message ``sent`` (answered 250) becomes 'sent' and message
        ``commit`` (whose end-of-data line is next) becomes 'committed'.  False when
        ``commit`` is no longer this worker's (its lease ran out)."""
        if self.conn is None:
            self.conn = self.db.engine.raw_connection()
            self.cursor = self.conn.driver_connection.cursor()
        driver, cursor = self.conn.driver_connection, self.cursor
        values = {"sent_id": sent, "commit_id": commit, "me": self.worker,
                  "now": self.instant(now)}
        try:
            if self.sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(self.sql, _params(values, self.order))
            mine = commit is None or cursor.rowcount == (sent is not None) + 1
            if not mine:
                # Fewer rows than asked: find out whether the one to commit is ours (the
                # other may have been taken back by recover() meanwhile, which is no
                # reason to stop).
                cursor.execute(self.mine_sql, _params(values, self.mine_order))
                mine = cursor.fetchone() is not None
            if self.sqlite:
                cursor.execute("COMMIT")
            else:
                driver.commit()
        except BaseException:
            driver.rollback()
            raise
        return mine

    def close(self) -> None:
        if self.conn is not None:
            self.cursor.close()
            self.conn.close()
            self.conn = None


def _params(values: dict[str, Any], order: tuple[str, ...] | None) -> Any:
    return tuple(values[k] for k in order) if order is not None else values


def _driver_sql(sql: str, dialect: Any) -> tuple[str, tuple[str, ...] | None]:
    """``sql`` in the driver's parameter style, and the order of its values for a
    positional style (sqlite3's qmark); None for a named one (psycopg's)."""
    compiled = text(sql).compile(dialect=dialect)
    return compiled.string, (tuple(compiled.positiontup) if compiled.positiontup else None)
