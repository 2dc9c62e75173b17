"""Cases as a sweep reads them: from their projection rows, without replaying the log.

The mapping between rows and domain state is cvdesk.store.mapping's.  What this module
adds is the reading: a sweep reads tens of participants per case and hundreds of
thousands per sweep, so the rows are fetched through the driver's own cursor as plain
tuples (no column types, no result rows), a few dozen at a time, and built as
``mapping.SweptParticipant``; ``swept_cases`` hands a sweep one case at a time.
Tests check, for the demo and for generated cases, that the result agrees with a replay.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cvdesk.domain.case import Case, ParticipantState
from cvdesk.store.mapping import (
    CASE_COLUMNS,
    PARTICIPANT_COLUMNS,
    case_from_raw,
    case_from_rows,
    participant_from_row,
    swept_by_case,
)
from cvdesk.store.tables import CaseRow

__all__ = ["DUE_COLUMNS", "SweptCase", "case_from_raw", "case_from_rows", "cursor",
           "driver_instant", "due_cases", "marker", "participant_from_row",
           "participants_by_case", "swept_cases"]


class SweptCase(Case):
    """A case rebuilt for a sweep, which only reads it: the vendors, asked for by most
    rules, are listed once."""

    _vendors: list[ParticipantState] | None = None

    @property
    def vendors(self) -> list[ParticipantState]:
        if self._vendors is None:
            self._vendors = [p for p in self.participants.values() if p.is_vendor]
        return self._vendors


def cursor(session: Session) -> Any:
    """A cursor of the driver on the session's connection, inside its transaction."""
    return session.connection().connection.cursor()


def marker(session: Session, name: str) -> str:
    """How the driver spells a named parameter."""
    return f"%({name})s" if session.get_bind().dialect.name == "postgresql" else f":{name}"


_WRITERS: dict[str, Any] = {}


def driver_instant(session: Session, value: datetime | None) -> Any:
    """``value`` as the ``UTCDateTime`` columns hand it to the driver (text on SQLite)."""
    dialect = session.get_bind().dialect
    process = _WRITERS.get(dialect.name)
    if process is None:
        process = _WRITERS[dialect.name] = CaseRow.__table__.c.next_check_at.type.dialect_impl(
            dialect).bind_processor(dialect) or (lambda v: v)
    return process(value)


#: What ``due_cases`` reads: ``CASE_COLUMNS``, then the sweep's own two (whether the log
#: changed since the last sweep, and the rules' own checks it stored).
DUE_COLUMNS = (*CASE_COLUMNS, "needs_sweep", "rule_checks")


def due_cases(session: Session, now: datetime, case_id: str | None = None,
              limit: int | None = None, after: int = 0) -> list[tuple[Any, ...]]:
    """Rows (``DUE_COLUMNS``, untyped) of the open cases whose log changed since their
    last sweep or whose check time has come, by number, from the one after ``after`` (so
    that a sweep reads the table once, batch after batch)."""
    params: dict[str, Any] = {"now": driver_instant(session, now)}
    sql = (f"SELECT {', '.join(DUE_COLUMNS)} FROM cases WHERE status = 'open' "
           f"AND id > {int(after)} AND (needs_sweep OR next_check_at <= "
           f"{marker(session, 'now')})")
    if case_id:
        sql += f" AND case_id = {marker(session, 'case_id')}"
        params["case_id"] = case_id.upper()
    sql += " ORDER BY id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    cur = cursor(session)
    try:
        cur.execute(sql, params)
        return cur.fetchall()  # type: ignore[no-any-return]
    finally:
        cur.close()


def due_count(session: Session, now: datetime) -> int:
    """How many open cases a sweep at ``now`` would re-check (the rows ``due_cases``
    hands out), so that a long sweep can show how far it has come."""
    params: dict[str, Any] = {"now": driver_instant(session, now)}
    cur = cursor(session)
    try:
        cur.execute("SELECT COUNT(*) FROM cases WHERE status = 'open' AND (needs_sweep OR "
                    f"next_check_at <= {marker(session, 'now')})", params)
        return int(cur.fetchone()[0])
    finally:
        cur.close()


#: Participant rows made into participants at a time.  A cold sweep reads a few hundred
#: thousand; made a few dozen at a time, while the rows just fetched are still in the
#: processor's cache, they cost the sweep about 8% less than a whole batch's rows fetched
#: into one list first (docs/benchmarks.md, "A fifth look").
FETCH = 64


#: Cases read by one statement.  A case asked in part adds a term to an OR chain, which
#: SQLite parses as deep as it is long and refuses past 1,000 ("Expression tree is too
#: large"): a sweep a day later at 100,000 cases asks some thousands of cases in part.
CASES_PER_QUERY = 500


def _participant_groups(session: Session, case_pks: Sequence[int],
                        only: Mapping[int, Collection[int]] | None = None,
                        ) -> Iterator[tuple[int, list[ParticipantState]]]:
    """(case key, its participants) for each of the cases that has participants to read
    (of a case in ``only``, those numbered there; none when the list is empty), in the
    order of ``case_pks`` (the keys in order: a statement's rows come by key), each
    case's participants by number.  The rows are read ``FETCH`` at a time, by one
    statement per ``CASES_PER_QUERY`` cases."""
    only = only or {}
    for start in range(0, len(case_pks), CASES_PER_QUERY):
        part = case_pks[start:start + CASES_PER_QUERY]
        # The keys are the sweep's own integers, written into the statement.
        where = [f"(case_pk = {int(pk)} AND pid IN ({', '.join(str(int(n)) for n in pids)}))"
                 for pk in part if (pids := only.get(pk))]
        whole = [str(int(pk)) for pk in part if pk not in only]
        if whole:
            where.append(f"case_pk IN ({', '.join(whole)})")
        if where:
            yield from _groups(session, f"SELECT {', '.join(PARTICIPANT_COLUMNS)} FROM "
                                        f"participants WHERE {' OR '.join(where)} "
                                        "ORDER BY case_pk, pid")


def _groups(session: Session, sql: str) -> Iterator[tuple[int, list[ParticipantState]]]:
    cur = cursor(session)
    try:
        cur.execute(sql)
        current: int | None = None
        group: list[ParticipantState] = []
        while rows := cur.fetchmany(FETCH):
            for pk, people in swept_by_case(rows).items():
                if pk == current:  # a case whose rows began in the chunk before
                    group.extend(people)
                    continue
                if current is not None:
                    yield current, group
                current, group = pk, people
        if current is not None:
            yield current, group
    finally:
        cur.close()


def participants_by_case(session: Session, case_pks: Sequence[int],
                         only: Mapping[int, Collection[int]] | None = None,
                         ) -> dict[int, list[ParticipantState]]:
    """The participants of many cases, in one query, ordered by number; of a case in
    ``only``, the participants numbered there (none when the list is empty)."""
    result: dict[int, list[ParticipantState]] = {pk: [] for pk in case_pks}
    for pk, people in _participant_groups(session, case_pks, only):
        result[pk] = people
    return result


def swept_cases(session: Session, rows: Sequence[tuple[Any, ...]],
                only: Mapping[int, Collection[int]] | None = None) -> Iterator[Case]:
    """The cases of rows read by ``due_cases`` (in its order, by case key), each with its
    participants as ``participants_by_case`` reads them, made one case at a time as the
    caller asks for the next: a sweep judges each case, and frees its participants,
    before the next one's are made."""
    groups = _participant_groups(session, [row[0] for row in rows], only)
    pk, people = next(groups, (None, []))
    for row in rows:
        if row[0] != pk:
            if pk is not None and pk < row[0]:  # would drop that case's participants
                raise RuntimeError("case rows are not in order of their keys")
            yield case_from_raw(row, [], SweptCase)
            continue
        yield case_from_raw(row, people, SweptCase)
        pk, people = next(groups, (None, []))
