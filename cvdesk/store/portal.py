"""The reads behind the web desk's lists (issue 11): cases a principal may see, filtered,
searched and paginated in the database, and one page of a case's participants (a case
may have thousands of vendors; a page reads only its own rows).

Every read here is SQLAlchemy Core on a plain connection (``Reader``), rows out as
named tuples: these answer every page view, and ORM sessions and objects cost more than
the reads themselves (issue 11, speed).  A list counts its matches only when its page is
full (``paged_total``)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from functools import cache
from typing import Any

from sqlalchemy import JSON, Connection, Integer, bindparam, func, or_, select, type_coerce

from cvdesk.domain.events import Event, EventType
from cvdesk.store.accounts import AccountRepository
from cvdesk.store.tables import (
    CaseRow,
    EventRow,
    FindingKindRow,
    FindingRow,
    MessageRow,
    ParticipantRow,
    ReportRow,
    VulnerabilityRow,
)

#: What these reads run on: a Core connection (``Database.engine.connect()``).
Reader = Connection

_CASES = CaseRow.__table__.c
#: How the case list can be ordered (name -> columns); newest activity first by default.
#: The default, on open cases, reads index ix_cases_status_activity in order.
ORDERS = {
    "activity": (_CASES.last_event_at.desc(), _CASES.id.desc()),
    "opened": (_CASES.opened_at.desc(), _CASES.id.desc()),
    "case": (_CASES.case_id, _CASES.id),
    "embargo": (_CASES.embargo_end.is_(None), _CASES.embargo_end, _CASES.id),
}


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


#: What a case list row and the case page's head show of a case (CaseSummary), read as
#: plain columns: an ORM object per case, with its JSON columns decoded, cost more than
#: the rest of the list (issue 11, speed).
SUMMARY_COLUMNS = ("id", "case_id", "title", "tlp", "status", "em_state", "embargo_end",
                   "embargo_end_text", "proposed_end_text", "pxa", "participants_count",
                   "vendors_count", "opened_at", "closed_at", "last_event_at", "version")


def _summary_select() -> Any:
    table = CaseRow.__table__
    return select(*(table.c[name] for name in SUMMARY_COLUMNS))


def paged_total(offset: int, limit: int | None, shown: int, count: Callable[[], int]) -> int:
    """How many rows match in all, given that a page at ``offset`` held ``shown`` rows of
    at most ``limit``: a page that is not full ends the listing, so only a full page (or
    an empty one past the start) needs ``count()`` asked."""
    if limit is None or 0 < shown < limit or (shown == 0 and offset == 0):
        return offset + shown
    return count()


def _count(session: Reader, table: Any, conds: Sequence[Any]) -> Callable[[], int]:
    return lambda: int(session.scalar(select(func.count()).select_from(table)
                                      .where(*conds)) or 0)


# The statements every page view runs are built once per shape (which filters apply),
# with their values as parameters: building a statement and working out its cache key
# cost more than SQLite's answer to it, on every request.
_OFFSET, _LIMIT = bindparam("offset", type_=Integer), bindparam("limit", type_=Integer)


def _in(name: str) -> Any:
    return bindparam(name, expanding=True)


def _run_count(session: Reader, stmt: Any, params: dict[str, Any]) -> Callable[[], int]:
    return lambda: int(session.scalar(stmt, params) or 0)


def visible_cases(session: Reader, *, member: tuple[int | None, int | None] | None,
                  status: str | None, search: str, em_states: Collection[str] = (),
                  order: str = "activity", offset: int = 0, limit: int = 50,
                  ) -> tuple[Sequence[Any], int]:
    """One page of the cases, as rows of ``SUMMARY_COLUMNS`` (and how many match in
    all).  ``member`` is (user id, organization id) for a principal that sees only its
    own cases, None for staff."""
    table = CaseRow.__table__
    if member is None:
        page, count = _staff_cases(bool(status), len(em_states), bool(search.strip()), order)
        params: dict[str, Any] = {"status": status, "pattern": _like(search.strip().lower()),
                                  "offset": offset, "limit": limit,
                                  **{f"em{i}": v for i, v in enumerate(em_states)}}
        rows = session.execute(page, params).all()
        return rows, paged_total(offset, limit, len(rows), _run_count(session, count, params))
    conds: list[Any] = [
        table.c.id.in_(AccountRepository(session).visible_case_pks(*member))]
    if status:
        conds.append(table.c.status == status)
    if em_states:
        conds.append(table.c.em_state.in_(list(em_states)))
    if search.strip():
        pattern = _like(search.strip().lower())
        conds.append(or_(func.lower(table.c.title).like(pattern, escape="\\"),
                         func.lower(table.c.case_id).like(pattern, escape="\\")))
    rows = session.execute(_summary_select().where(*conds).order_by(*ORDERS[order])
                           .offset(offset).limit(limit)).all()
    return rows, paged_total(offset, limit, len(rows), _count(session, table, conds))


@cache
def _staff_cases(status: bool, em_states: int, search: bool, order: str) -> tuple[Any, Any]:
    """(page, count) of the case list as staff see it, for one shape of filters."""
    t = _CASES
    conds: list[Any] = []
    if status:
        conds.append(t.status == bindparam("status"))
    if em_states:
        conds.append(t.em_state.in_([bindparam(f"em{i}") for i in range(em_states)]))
    if search:
        pattern = bindparam("pattern")
        conds.append(or_(func.lower(t.title).like(pattern, escape="\\"),
                         func.lower(t.case_id).like(pattern, escape="\\")))
    page = (_summary_select().where(*conds).order_by(*ORDERS[order])
            .offset(_OFFSET).limit(_LIMIT))
    return page, select(func.count()).select_from(CaseRow.__table__).where(*conds)


@cache
def _case_head() -> Any:
    return _summary_select().where(_CASES.case_id == bindparam("case_id"))


def case_head(session: Reader, case_id: str) -> Any:
    """The case's row of ``SUMMARY_COLUMNS``; NotFound when there is none."""
    from cvdesk.domain.errors import NotFound

    row = session.execute(_case_head(), {"case_id": case_id.upper()}).first()
    if row is None:
        raise NotFound(f"no case '{case_id}'")
    return row


_PARTICIPANTS = ParticipantRow.__table__.c
#: What the case page shows of a participant (ParticipantView).
PARTICIPANT_COLUMNS = ("pid", "name", "roles", "is_vendor", "organization", "email", "phone",
                       "rm_state", "consent", "vfd", "first_attempt_at", "last_attempt_at",
                       "last_attempt_outcome", "attempts", "channels", "first_reply_at",
                       "last_reply_at", "replies", "added_at")


def participants_page(session: Reader, case_pk: int, *, pids: Collection[int] | None,
                      vendors_only: bool = False, search: str = "", offset: int = 0,
                      limit: int = 50) -> tuple[Sequence[Any], int]:
    """One page of a case's participants in participant order, as rows of
    ``PARTICIPANT_COLUMNS``; ``pids`` limits it to the ones a principal may see (None:
    all)."""
    page, count = _participants(pids is not None, vendors_only, bool(search.strip()))
    params = {"case_pk": case_pk, "pids": list(pids or ()), "offset": offset, "limit": limit,
              "pattern": _like(search.strip().lower())}
    rows = session.execute(page, params).all()
    return rows, paged_total(offset, limit, len(rows), _run_count(session, count, params))


@cache
def _participants(pids: bool, vendors_only: bool, search: bool) -> tuple[Any, Any]:
    c = _PARTICIPANTS
    conds: list[Any] = [c.case_pk == bindparam("case_pk")]
    if pids:
        conds.append(c.pid.in_(_in("pids")))
    if vendors_only:
        conds.append(c.is_vendor.is_(True))
    if search:
        conds.append(func.lower(c.name).like(bindparam("pattern"), escape="\\"))
    page = (select(*(c[n] for n in PARTICIPANT_COLUMNS)).where(*conds).order_by(c.pid)
            .offset(_OFFSET).limit(_LIMIT))
    return page, select(func.count()).select_from(ParticipantRow.__table__).where(*conds)


def coordinator_pids(session: Reader, case_pk: int) -> list[int]:
    """The case's coordinators: every participant may see who coordinates."""
    return list(session.scalars(select(_PARTICIPANTS.pid).where(
        _PARTICIPANTS.case_pk == case_pk, _PARTICIPANTS.roles.like("%coordinator%"))))


# ------------------------------------------------------------------ the case page's parts
_EVENT_COLUMNS = ("type", "at", "actor", "reason", "participant", "data", "seq")


def _event_filter(stmt: Any, table: Any, pids: bool, hidden: Collection[str]) -> Any:
    """Events a principal may see: with ``pids`` (a parameter of that name; staff have
    none) only the entries about no one in particular or about its own participants, and
    never the ``hidden`` types."""
    if pids:
        stmt = stmt.where(or_(table.c.participant.is_(None),
                              table.c.participant.in_(_in("pids"))))
    if hidden:
        stmt = stmt.where(table.c.type.notin_(sorted(hidden)))
    return stmt


def _events(rows: Any) -> list[Event]:
    return [Event(EventType(t), at, actor, reason, participant, data, seq)
            for t, at, actor, reason, participant, data, seq in rows]


def _event_params(case_pk: int, pids: Collection[int] | None, **more: Any) -> dict[str, Any]:
    return {"case_pk": case_pk, "pids": list(pids or ()), **more}


@cache
def _events_page(pids: bool, hidden: frozenset[str], newest_first: bool) -> tuple[Any, Any]:
    t = EventRow.__table__
    stmt = _event_filter(select(*(t.c[n] for n in _EVENT_COLUMNS))
                         .where(t.c.case_pk == bindparam("case_pk")), t, pids, hidden)
    # Newest first is the order of recording (the log's own index); time order puts
    # back-dated entries where they happened and sorts the case's entries to do so.
    order = (t.c.seq.desc(),) if newest_first else (t.c.at, t.c.seq)
    count = _event_filter(select(func.count()).select_from(t)
                          .where(t.c.case_pk == bindparam("case_pk")), t, pids, hidden)
    return stmt.order_by(*order).offset(_OFFSET).limit(_LIMIT), count


def events_page(session: Reader, case_pk: int, *, pids: Collection[int] | None,
                hidden: Collection[str] = (), newest_first: bool = False, offset: int = 0,
                limit: int = 50, count: Callable[[Callable[[], int]], int] | None = None,
                ) -> tuple[list[Event], int]:
    """One page of the case log as one principal may see it (and how many in all), in
    time order; ``newest_first`` for the latest recorded first.  ``count``, when given,
    is handed the counting read and answers the total (the caller may remember it)."""
    page, counting = _events_page(pids is not None, frozenset(hidden), newest_first)
    params = _event_params(case_pk, pids, offset=offset, limit=limit)
    found = _events(session.execute(page, params))
    counted = _run_count(session, counting, params)
    return found, paged_total(offset, limit, len(found),
                              counted if count is None else lambda: count(counted))


def event_counts_by_day(session: Reader, case_pk: int, *, pids: Collection[int] | None,
                        hidden: Collection[str] = ()) -> list[tuple[str, str, int, Any, Any]]:
    """(UTC day, event type, how many, first, last) of the visible log: the timeline of a
    case with thousands of vendors is drawn from these few rows, not from its events."""
    stmt = _counts_by_day(session.dialect.name == "postgresql", pids is not None,
                          frozenset(hidden))
    return [tuple(r) for r in session.execute(stmt, _event_params(case_pk, pids))]  # type: ignore[misc]


@cache
def _counts_by_day(postgresql: bool, pids: bool, hidden: frozenset[str]) -> Any:
    t = EventRow.__table__
    # The UTC calendar day as YYYY-MM-DD text (SQLite keeps instants as UTC text,
    # PostgreSQL as timestamptz).
    day = (func.to_char(func.timezone("UTC", t.c.at), "YYYY-MM-DD") if postgresql
           else func.substr(t.c.at, 1, 10))
    stmt = _event_filter(select(day, t.c.type, func.count(), func.min(t.c.at),
                                func.max(t.c.at)).where(t.c.case_pk == bindparam("case_pk")),
                         t, pids, hidden)
    return stmt.group_by(day, t.c.type)


@cache
def _of_type() -> Any:
    t = EventRow.__table__
    return (select(*(t.c[n] for n in _EVENT_COLUMNS))
            .where(t.c.case_pk == bindparam("case_pk"), t.c.type == bindparam("type"))
            .order_by(t.c.seq))


def events_of_type(session: Reader, case_pk: int, kind: EventType) -> list[Event]:
    """The case-wide entries of one type (the embargo's, a handful), in log order."""
    return _events(session.execute(_of_type(), {"case_pk": case_pk, "type": kind.value}))


@cache
def _details(types: tuple[str, ...]) -> Any:
    t = EventRow.__table__
    return (select(*(t.c[n] for n in _EVENT_COLUMNS))
            .where(t.c.case_pk == bindparam("case_pk"), t.c.type.in_(list(types)),
                   or_(t.c.participant.is_(None), t.c.participant.in_(_in("pids"))))
            .order_by(t.c.seq))


def detail_events(session: Reader, case_pk: int, types: Collection[EventType],
                  pids: Collection[int]) -> list[Event]:
    """The vulnerability and statement entries, statements of ``pids`` only: statements
    fold per vendor (cvdesk.domain.state), so a page of 50 vendors replays 50 vendors'
    statements, not those of all 2,000."""
    stmt = _details(tuple(sorted(t.value for t in types)))
    return _events(session.execute(stmt, _event_params(case_pk, pids)))


def participant_names(session: Reader, case_pk: int, pids: Collection[int]) -> dict[int, str]:
    if not pids:
        return {}
    c = _PARTICIPANTS
    return dict(session.execute(select(c.pid, c.name).where(  # type: ignore[arg-type]
        c.case_pk == case_pk, c.pid.in_(list(pids)))).all())


def names_except(session: Reader, case_pk: int, keep: Collection[int]) -> list[str]:
    """The names of the case's participants other than ``keep``."""
    stmt = select(_PARTICIPANTS.name).where(_PARTICIPANTS.case_pk == case_pk)
    if keep:
        stmt = stmt.where(_PARTICIPANTS.pid.notin_(list(keep)))
    return list(session.scalars(stmt))


_FINDINGS = FindingRow.__table__.c
#: What the case page shows of a finding (ShownFinding).
FINDING_COLUMNS = ("id", "status", "data", "first_seen_at", "snoozed_until", "handled_reason")


def findings_of_case(session: Reader, case_pk: int, *, statuses: Collection[str],
                     pids: Collection[int] | None, offset: int = 0,
                     limit: int | None = None) -> tuple[Sequence[Any], int]:
    """The case's findings, most severe first, as rows of ``FINDING_COLUMNS``; with
    ``pids`` (None: all) only those about the case as a whole or about one of those
    participants (the key ends in ``:-`` or ``:p<pid>``).  ``limit`` None reads them all
    (the caller filters further)."""
    c = _FINDINGS
    if pids is None:
        page, count = _all_findings(tuple(sorted(statuses)), limit is not None)
        params = {"case_pk": case_pk, "offset": offset, "limit": limit}
        rows = session.execute(page, params).all()
        return rows, paged_total(offset, limit, len(rows), _run_count(session, count, params))
    conds: list[Any] = [c.case_pk == case_pk, c.status.in_(list(statuses)),
                        or_(c.key.like("%:-"), *[c.key.like(f"%:p{int(pid)}") for pid in pids])]
    stmt = (select(*(c[n] for n in FINDING_COLUMNS)).where(*conds)
            .order_by(c.severity.desc(), c.key).offset(offset))
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = session.execute(stmt).all()
    return rows, paged_total(offset, limit, len(rows),
                             _count(session, FindingRow.__table__, conds))


@cache
def _all_findings(statuses: tuple[str, ...], limited: bool) -> tuple[Any, Any]:
    c = _FINDINGS
    conds = [c.case_pk == bindparam("case_pk"), c.status.in_(list(statuses))]
    page = (select(*(c[n] for n in FINDING_COLUMNS)).where(*conds)
            .order_by(c.severity.desc(), c.key).offset(_OFFSET))
    if limited:
        page = page.limit(_LIMIT)
    return page, select(func.count()).select_from(FindingRow.__table__).where(*conds)


_MESSAGES = MessageRow.__table__.c


def _message_conds(pids: bool) -> list[Any]:
    conds: list[Any] = [_MESSAGES.case_pk == bindparam("case_pk")]
    if pids:
        conds.append(or_(_MESSAGES.participant.is_(None),
                         _MESSAGES.participant.in_(_in("pids"))))
    return conds


@cache
def _threads(pids: bool) -> tuple[Any, Any]:
    c = _MESSAGES
    conds = _message_conds(pids)
    stmt = (select(c.participant, func.count(), func.max(c.at)).where(*conds)
            .group_by(c.participant))
    page = (stmt.order_by(c.participant.is_not(None), func.max(c.at).desc(), c.participant)
            .offset(_OFFSET).limit(_LIMIT))
    count = select(func.count(func.distinct(func.coalesce(c.participant, -1)))).where(*conds)
    return page, count


def message_threads(session: Reader, case_pk: int, *, pids: Collection[int] | None,
                    offset: int = 0, limit: int = 50,
                    ) -> tuple[list[tuple[int | None, int, Any]], int]:
    """(participant or None for case-wide, messages, last at) of each thread a principal
    may see, the case-wide one first, then the latest first."""
    page, count = _threads(pids is not None)
    params = {"case_pk": case_pk, "pids": list(pids or ()), "offset": offset, "limit": limit}
    found = [tuple(r) for r in session.execute(page, params)]
    return found, paged_total(offset, limit, len(found),  # type: ignore[return-value]
                              _run_count(session, count, params))


#: What the case page shows of a message (MessageView).
MESSAGE_COLUMNS = ("message_id", "participant", "direction", "channel", "at", "subject",
                   "body", "tlp")


@cache
def _messages(pids: bool, thread: str) -> tuple[Any, Any]:
    c = _MESSAGES
    conds = _message_conds(pids)
    if thread == "case":
        conds.append(c.participant.is_(None))
    elif thread == "one":
        conds.append(c.participant == bindparam("thread"))
    page = (select(*(c[n] for n in MESSAGE_COLUMNS)).where(*conds)
            .order_by(c.at.desc(), c.id.desc()).offset(_OFFSET).limit(_LIMIT))
    return page, select(func.count()).select_from(MessageRow.__table__).where(*conds)


def messages_page(session: Reader, case_pk: int, *, thread: int | str | None,
                  pids: Collection[int] | None, offset: int = 0, limit: int = 50,
                  ) -> tuple[Sequence[Any], int]:
    """One page of messages, newest first, as rows of ``MESSAGE_COLUMNS``: of one
    participant's thread (``thread`` its number), of the case-wide one (None), or of
    every thread the principal may see (``"all"``; ``pids`` None: all of them)."""
    shape = "case" if thread is None else ("all" if thread == "all" else "one")
    page, count = _messages(pids is not None, shape)
    params = {"case_pk": case_pk, "pids": list(pids or ()), "offset": offset, "limit": limit,
              "thread": thread if shape == "one" else None}
    rows = session.execute(page, params).all()
    return rows, paged_total(offset, limit, len(rows), _run_count(session, count, params))


def report_heads(session: Reader, case_pk: int) -> list[tuple[str, Any, str, str]]:
    """(tracking id, received, title, TLP) of the case's reports, without the forms (a
    form may list thousands of products)."""
    return [tuple(r) for r in session.execute(_report_heads(), {"case_pk": case_pk})]  # type: ignore[misc]


@cache
def _report_heads() -> Any:
    c = ReportRow.__table__.c
    return (select(c.tracking_id, c.received_at, c.title, c.tlp)
            .where(c.case_pk == bindparam("case_pk")).order_by(c.received_at))


def finding_kind_words(session: Reader) -> dict[str, dict[str, Any]]:
    """The fixed words of every stored kind of finding, by name (as FindingRepository's
    ``kinds``, on a Core connection)."""
    import json

    c = FindingKindRow.__table__.c
    return {name: json.loads(data) for name, data in session.execute(select(c.id, c.data))}


def vulnerability_heads(session: Reader, case_pk: int) -> list[tuple[str | None, str, Any]]:
    """(CVE, title, CVSS scores) of the case's vulnerabilities in the order added, read
    without their lists of affected products (thousands in a library's case)."""
    return [tuple(r) for r in session.execute(  # type: ignore[misc]
        _vulnerability_heads(), {"case_pk": case_pk})]


@cache
def _vulnerability_heads() -> Any:
    c = VulnerabilityRow.__table__.c
    data = type_coerce(c.data, JSON)
    return (select(c.cve, c.title, data["scores"])
            .where(c.case_pk == bindparam("case_pk")).order_by(c.id))
