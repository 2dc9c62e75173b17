"""Read-only queries through SQLAlchemy Core, for the commands people run most.

``cvdesk case list`` is one query, yet importing the ORM and the mapped tables
(cvdesk.store.tables) cost about as much again as SQLAlchemy itself (issue 9: start-up).
The queries here use light table clauses that name only the columns they read, with the
same column types as the mapped tables (so times come back as aware UTC datetimes), and
return plain rows: tuples whose fields are also read by name (``row.case_id``).
tests/store/test_queries.py keeps these clauses equal to the mapped tables and the
results equal to the ORM's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, column, select, table

from cvdesk.store.types import SafeString, SafeText, UTCDateTime

if TYPE_CHECKING:
    from sqlalchemy import Row

    from cvdesk.store.db import Database

_TIME = UTCDateTime()

#: The columns of ``cases`` that a case summary shows, in the mapped table's types.
CASES = table(
    "cases",
    column("id", Integer()),
    column("case_id", SafeString(32)),
    column("title", SafeText()),
    column("tlp", SafeString(16)),
    column("status", SafeString(16)),
    column("em_state", SafeString(16)),
    column("embargo_end", _TIME),
    column("embargo_end_text", SafeString(40)),
    column("proposed_end_text", SafeString(40)),
    column("pxa", SafeString(3)),
    column("participants_count", Integer()),
    column("vendors_count", Integer()),
    column("opened_at", _TIME),
    column("closed_at", _TIME),
    column("last_event_at", _TIME),
    column("version", Integer()),
)

#: What ``case_summaries`` returns per case, in this order.
CASE_SUMMARY = ("case_id", "title", "tlp", "status", "em_state", "embargo_end",
                "embargo_end_text", "proposed_end_text", "pxa", "participants_count",
                "vendors_count", "opened_at", "closed_at", "last_event_at", "version")


def case_summaries(db: Database, status: str | None = None) -> list[Row[Any]]:
    """Every case with ``status`` ('open', 'closed'; None for all), oldest first, as rows
    of the ``CASE_SUMMARY`` fields: the same cases, in the same order, as
    CaseRepository.list_cases."""
    c = CASES.c
    stmt = select(*(c[name] for name in CASE_SUMMARY)).order_by(c.opened_at, c.id)
    if status:
        stmt = stmt.where(c.status == status)
    with db.engine.connect() as conn:
        return list(conn.execute(stmt))
