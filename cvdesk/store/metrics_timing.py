"""What the timing metrics read (issue 12): the cases opened in a period, the parts of
their logs that timing needs, their participants and their findings.  SQLAlchemy Core,
the same statements on SQLite and PostgreSQL; plain tuples out, no ORM rows.

Message events are read without their subject and body (only the direction), so a case
with thousands of mails costs little more than one without.  Also the look-up that keeps
an import from adding a past case twice: the references already imported, each kept
once in ``imported_references``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import and_, exists, func, insert, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cvdesk.domain.errors import Conflict
from cvdesk.store.tables import (
    CaseRow,
    EventRow,
    FindingRow,
    ImportedReferenceRow,
    ParticipantRow,
)

#: The event types timing reads in full (their data is small).
TIMING_EVENTS = ("case.opened", "rm.transition", "em.transition", "cs.event",
                 "observation.recorded")
#: How an imported case's opening names its source: "imported from FILE; reference REF"
#: (for people reading the log; the reference itself is kept in imported_references).
IMPORT_ACTOR = "import"
REFERENCE_MARK = "; reference "


def _chunks(items: Sequence[Any], size: int = 900) -> Iterator[list[Any]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def cases_in_period(conn: Connection, *, since: datetime | None, before: datetime | None,
                    vendor: str | None) -> list[tuple[int, str]]:
    """(case pk, case id) of cases opened at or after ``since`` and before ``before``,
    with a vendor of that name or organization (any letter case) when ``vendor``."""
    cases, parts = CaseRow.__table__, ParticipantRow.__table__
    stmt = select(cases.c.id, cases.c.case_id).order_by(cases.c.opened_at, cases.c.id)
    if since is not None:
        stmt = stmt.where(cases.c.opened_at >= since)
    if before is not None:
        stmt = stmt.where(cases.c.opened_at < before)
    if vendor is not None:
        key = vendor.strip().lower()
        stmt = stmt.where(exists().where(and_(
            parts.c.case_pk == cases.c.id, parts.c.is_vendor.is_(True),
            or_(func.lower(parts.c.name) == key, func.lower(parts.c.organization) == key))))
    return [(pk, cid) for pk, cid in conn.execute(stmt)]


def log_entries(conn: Connection, case_pks: Sequence[int],
                ) -> dict[int, list[tuple[str, datetime, str, int | None, dict[str, Any]]]]:
    """Per case, in log order: (type, at, actor, participant, data) of the events timing
    reads; messages carry only {"direction": ...}."""
    ev = EventRow.__table__
    rows: list[tuple[int, int, str, datetime, str, int | None, dict[str, Any]]] = []
    for chunk in _chunks(sorted(case_pks)):
        rows += conn.execute(select(ev.c.case_pk, ev.c.seq, ev.c.type, ev.c.at, ev.c.actor,
                                    ev.c.participant, ev.c.data)
                             .where(ev.c.case_pk.in_(chunk), ev.c.type.in_(TIMING_EVENTS)))
        direction = ev.c.data["direction"].as_string()
        rows += ((pk, seq, t, at, actor, p, {"direction": d}) for pk, seq, t, at, actor, p, d
                 in conn.execute(select(ev.c.case_pk, ev.c.seq, ev.c.type, ev.c.at,
                                        ev.c.actor, ev.c.participant, direction)
                                 .where(ev.c.case_pk.in_(chunk),
                                        ev.c.type == "message.logged",
                                        ev.c.participant.is_not(None))))
    out: dict[int, list[tuple[str, datetime, str, int | None, dict[str, Any]]]] = {}
    for pk, _seq, t, at, actor, p, data in sorted(rows, key=lambda r: (r[0], r[1])):
        out.setdefault(pk, []).append((t, at, actor, p, data))
    return out


def parties(conn: Connection, case_pks: Sequence[int]) -> dict[int, list[tuple[Any, ...]]]:
    """Per case: (pid, name, organization, roles, is_vendor, first_reply_at, vfd_times)."""
    pt = ParticipantRow.__table__
    out: dict[int, list[tuple[Any, ...]]] = {}
    for chunk in _chunks(sorted(case_pks)):
        for pk, *rest in conn.execute(
                select(pt.c.case_pk, pt.c.pid, pt.c.name, pt.c.organization, pt.c.roles,
                       pt.c.is_vendor, pt.c.first_reply_at, pt.c.vfd_times)
                .where(pt.c.case_pk.in_(chunk)).order_by(pt.c.case_pk, pt.c.pid)):
            out.setdefault(pk, []).append(tuple(rest))
    return out


def findings_raised(conn: Connection, case_pks: Sequence[int]) -> list[tuple[str, datetime]]:
    """(problem, first seen) of every finding row of these cases: a finding that went
    away and came back is a second row, so each row is one time a problem was raised."""
    ft = FindingRow.__table__
    out: list[tuple[str, datetime]] = []
    for chunk in _chunks(sorted(case_pks)):
        out += ((p, at) for p, at in conn.execute(
            select(ft.c.problem, ft.c.first_seen_at).where(ft.c.case_pk.in_(chunk))))
    return out


def imported_references(conn: Connection) -> dict[str, str]:
    """Reference -> case id of every case an import opened."""
    refs, cases = ImportedReferenceRow.__table__, CaseRow.__table__
    return dict(conn.execute(select(refs.c.reference, cases.c.case_id)
                             .join(cases, cases.c.id == refs.c.case_pk)).all())


def file_reference(conn: Connection, reference: str, case_pk: int) -> None:
    """Keep ``reference`` as the one an imported case came under.  Two imports running
    at the same moment on PostgreSQL may both have read it as new; the second insert
    waits for the first import's transaction and, once that commits, is refused here
    as a Conflict (the caller's transaction is then rolled back whole).  On SQLite an
    import's write transaction takes the lock first, so the second reads it as known."""
    try:
        conn.execute(insert(ImportedReferenceRow),
                     [{"reference": reference, "case_pk": case_pk}])
    except IntegrityError:
        raise Conflict(f"reference '{reference}' was imported by another import running at "
                       "the same time; nothing of this file was written: run it again to "
                       "add the rest") from None
