"""The reads behind the web desk's lists (issue 11): cases a principal may see, filtered,
searched and paginated in the database, and one page of a case's participants (a case
may have thousands of vendors; a page reads only its own rows)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import JSON, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from cvdesk.domain.events import Event, EventType
from cvdesk.store.accounts import AccountRepository
from cvdesk.store.tables import (
    CaseRow,
    EventRow,
    FindingRow,
    MessageRow,
    ParticipantRow,
    ReportRow,
    VulnerabilityRow,
)

#: How the case list can be ordered (name -> columns); newest activity first by default.
ORDERS = {
    "activity": (CaseRow.last_event_at.desc(), CaseRow.id.desc()),
    "opened": (CaseRow.opened_at.desc(), CaseRow.id.desc()),
    "case": (CaseRow.case_id, CaseRow.id),
    "embargo": (CaseRow.embargo_end.is_(None), CaseRow.embargo_end, CaseRow.id),
}


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def visible_cases(session: Session, *, member: tuple[int | None, int | None] | None,
                  status: str | None, search: str, em_states: Collection[str] = (),
                  order: str = "activity", offset: int = 0, limit: int = 50,
                  ) -> tuple[Sequence[CaseRow], int]:
    """One page of the cases (and how many match in all).  ``member`` is (user id,
    organization id) for a principal that sees only its own cases, None for staff."""
    stmt = select(CaseRow)
    if member is not None:
        stmt = stmt.where(CaseRow.id.in_(AccountRepository(session).visible_case_pks(*member)))
    if status:
        stmt = stmt.where(CaseRow.status == status)
    if em_states:
        stmt = stmt.where(CaseRow.em_state.in_(list(em_states)))
    if search.strip():
        pattern = _like(search.strip().lower())
        stmt = stmt.where(or_(func.lower(CaseRow.title).like(pattern, escape="\\"),
                              func.lower(CaseRow.case_id).like(pattern, escape="\\")))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(*ORDERS[order]).offset(offset).limit(limit)).all()
    return rows, total


def participants_page(session: Session, case_pk: int, *, pids: Collection[int] | None,
                      vendors_only: bool = False, search: str = "", offset: int = 0,
                      limit: int = 50) -> tuple[Sequence[ParticipantRow], int]:
    """One page of a case's participants in participant order; ``pids`` limits it to the
    ones a principal may see (None: all)."""
    stmt: Any = select(ParticipantRow).where(ParticipantRow.case_pk == case_pk)
    if pids is not None:
        stmt = stmt.where(ParticipantRow.pid.in_(list(pids)))
    if vendors_only:
        stmt = stmt.where(ParticipantRow.is_vendor.is_(True))
    if search.strip():
        stmt = stmt.where(func.lower(ParticipantRow.name).like(
            _like(search.strip().lower()), escape="\\"))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(ParticipantRow.pid).offset(offset).limit(limit)).all()
    return rows, total


def coordinator_pids(session: Session, case_pk: int) -> list[int]:
    """The case's coordinators: every participant may see who coordinates."""
    return list(session.scalars(select(ParticipantRow.pid).where(
        ParticipantRow.case_pk == case_pk, ParticipantRow.roles.like("%coordinator%"))))


# ------------------------------------------------------------------ the case page's parts
def _event_filter(stmt: Any, table: Any, pids: Collection[int] | None,
                  hidden: Collection[str]) -> Any:
    """Events a principal may see: with ``pids`` (None: staff) only the entries about no
    one in particular or about its own participants, and never the ``hidden`` types."""
    if pids is not None:
        stmt = stmt.where(or_(table.c.participant.is_(None),
                              table.c.participant.in_(list(pids))))
    if hidden:
        stmt = stmt.where(table.c.type.notin_(list(hidden)))
    return stmt


def events_page(session: Session, case_pk: int, *, pids: Collection[int] | None,
                hidden: Collection[str] = (), newest_first: bool = False, offset: int = 0,
                limit: int = 50) -> tuple[list[Event], int]:
    """One page of the case log as one principal may see it (and how many in all), in
    time order; ``newest_first`` for the latest recorded first."""
    table = EventRow.__table__
    base = _event_filter(select(table.c.id).where(table.c.case_pk == case_pk), table,
                         pids, hidden)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    stmt = _event_filter(select(table.c.type, table.c.at, table.c.actor, table.c.reason,
                                table.c.participant, table.c.data, table.c.seq)
                         .where(table.c.case_pk == case_pk), table, pids, hidden)
    # Newest first is the order of recording (the log's own index); time order puts
    # back-dated entries where they happened and sorts the case's entries to do so.
    order = (table.c.seq.desc(),) if newest_first else (table.c.at, table.c.seq)
    rows = session.execute(stmt.order_by(*order).offset(offset).limit(limit))
    return [Event(EventType(t), at, actor, reason, participant, data, seq)
            for t, at, actor, reason, participant, data, seq in rows], total


def _utc_day(session: Session, column: Any) -> Any:
    """The UTC calendar day of an instant column as YYYY-MM-DD text (SQLite keeps instants
    as UTC text, PostgreSQL as timestamptz)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(column, 1, 10)


def event_counts_by_day(session: Session, case_pk: int, *, pids: Collection[int] | None,
                        hidden: Collection[str] = ()) -> list[tuple[str, str, int, Any, Any]]:
    """(UTC day, event type, how many, first, last) of the visible log: the timeline of a
    case with thousands of vendors is drawn from these few rows, not from its events."""
    table = EventRow.__table__
    day = _utc_day(session, table.c.at)
    stmt = _event_filter(select(day, table.c.type, func.count(), func.min(table.c.at),
                                func.max(table.c.at)).where(table.c.case_pk == case_pk),
                         table, pids, hidden)
    return [tuple(r) for r in session.execute(stmt.group_by(day, table.c.type))]  # type: ignore[misc]


def events_of_type(session: Session, case_pk: int, kind: EventType) -> list[Event]:
    """The case-wide entries of one type (the embargo's, a handful), in log order."""
    table = EventRow.__table__
    rows = session.execute(
        select(table.c.type, table.c.at, table.c.actor, table.c.reason,
               table.c.participant, table.c.data, table.c.seq)
        .where(table.c.case_pk == case_pk, table.c.type == kind.value)
        .order_by(table.c.seq))
    return [Event(EventType(t), at, actor, reason, participant, data, seq)
            for t, at, actor, reason, participant, data, seq in rows]


def detail_events(session: Session, case_pk: int, types: Collection[EventType],
                  pids: Collection[int]) -> list[Event]:
    """The vulnerability and statement entries, statements of ``pids`` only: statements
    fold per vendor (cvdesk.domain.state), so a page of 50 vendors replays 50 vendors'
    statements, not those of all 2,000."""
    table = EventRow.__table__
    rows = session.execute(
        select(table.c.type, table.c.at, table.c.actor, table.c.reason,
               table.c.participant, table.c.data, table.c.seq)
        .where(table.c.case_pk == case_pk, table.c.type.in_([t.value for t in types]),
               or_(table.c.participant.is_(None), table.c.participant.in_(list(pids))))
        .order_by(table.c.seq))
    return [Event(EventType(t), at, actor, reason, participant, data, seq)
            for t, at, actor, reason, participant, data, seq in rows]


def participant_names(session: Session, case_pk: int, pids: Collection[int]) -> dict[int, str]:
    if not pids:
        return {}
    return dict(session.execute(select(ParticipantRow.pid, ParticipantRow.name).where(
        ParticipantRow.case_pk == case_pk, ParticipantRow.pid.in_(list(pids)))).all())


def names_except(session: Session, case_pk: int, keep: Collection[int]) -> list[str]:
    """The names of the case's participants other than ``keep``."""
    stmt = select(ParticipantRow.name).where(ParticipantRow.case_pk == case_pk)
    if keep:
        stmt = stmt.where(ParticipantRow.pid.notin_(list(keep)))
    return list(session.scalars(stmt))


def findings_of_case(session: Session, case_pk: int, *, statuses: Collection[str],
                     pids: Collection[int] | None, offset: int = 0,
                     limit: int | None = None) -> tuple[Sequence[FindingRow], int]:
    """The case's findings, most severe first; with ``pids`` (None: all) only those about
    the case as a whole or about one of those participants (the key ends in ``:-`` or
    ``:p<pid>``).  ``limit`` None reads them all (the caller filters further)."""
    stmt: Any = select(FindingRow).where(FindingRow.case_pk == case_pk,
                                         FindingRow.status.in_(list(statuses)))
    if pids is not None:
        stmt = stmt.where(or_(FindingRow.key.like("%:-"),
                              *[FindingRow.key.like(f"%:p{int(pid)}") for pid in pids]))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    stmt = stmt.order_by(FindingRow.severity.desc(), FindingRow.key).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return session.scalars(stmt).all(), total


def message_threads(session: Session, case_pk: int, *, pids: Collection[int] | None,
                    offset: int = 0, limit: int = 50,
                    ) -> tuple[list[tuple[int | None, int, Any]], int]:
    """(participant or None for case-wide, messages, last at) of each thread a principal
    may see, the case-wide one first, then the latest first."""
    stmt: Any = select(MessageRow.participant, func.count(), func.max(MessageRow.at)).where(
        MessageRow.case_pk == case_pk)
    if pids is not None:
        stmt = stmt.where(or_(MessageRow.participant.is_(None),
                              MessageRow.participant.in_(list(pids))))
    stmt = stmt.group_by(MessageRow.participant)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    ordered = stmt.order_by(MessageRow.participant.is_not(None), func.max(MessageRow.at).desc(),
                            MessageRow.participant)
    return [tuple(r) for r in session.execute(ordered.offset(offset).limit(limit))], total  # type: ignore[misc]


def messages_page(session: Session, case_pk: int, *, thread: int | str | None,
                  pids: Collection[int] | None, offset: int = 0, limit: int = 50,
                  ) -> tuple[Sequence[MessageRow], int]:
    """One page of messages, newest first: of one participant's thread (``thread`` its
    number), of the case-wide one (None), or of every thread the principal may see
    (``"all"``; ``pids`` None: all of them)."""
    stmt: Any = select(MessageRow).where(MessageRow.case_pk == case_pk)
    if pids is not None:
        stmt = stmt.where(or_(MessageRow.participant.is_(None),
                              MessageRow.participant.in_(list(pids))))
    if thread is None:
        stmt = stmt.where(MessageRow.participant.is_(None))
    elif thread != "all":
        stmt = stmt.where(MessageRow.participant == thread)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(MessageRow.at.desc(), MessageRow.id.desc())
                           .offset(offset).limit(limit)).all()
    return rows, total


def report_heads(session: Session, case_pk: int) -> list[tuple[str, Any, str, str]]:
    """(tracking id, received, title, TLP) of the case's reports, without the forms (a
    form may list thousands of products)."""
    return [tuple(r) for r in session.execute(  # type: ignore[misc]
        select(ReportRow.tracking_id, ReportRow.received_at, ReportRow.title, ReportRow.tlp)
        .where(ReportRow.case_pk == case_pk).order_by(ReportRow.received_at))]


def vulnerability_heads(session: Session, case_pk: int) -> list[tuple[str | None, str, Any]]:
    """(CVE, title, CVSS scores) of the case's vulnerabilities in the order added, read
    without their lists of affected products (thousands in a library's case)."""
    data = type_coerce(VulnerabilityRow.data, JSON)
    return [tuple(r) for r in session.execute(  # type: ignore[misc]
        select(VulnerabilityRow.cve, VulnerabilityRow.title, data["scores"])
        .where(VulnerabilityRow.case_pk == case_pk).order_by(VulnerabilityRow.id))]
