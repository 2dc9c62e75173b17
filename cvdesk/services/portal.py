"""What each participant sees of the desk (issue 11): the cases a principal may see and
one case as that principal may see it.  The web pages and the API both read through
here, so they show the same things to the same people.

Staff (admins, coordinators) see everything.  A vendor or reporter sees the cases it
takes part in; inside one, the coordinators and its own participants, its own
statements, and the log entries that concern everyone or itself (other vendors'
statements and threads stay private to them, guide 5.4).  Every read of a case under
embargo is written to the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cvdesk.domain.accounts import CaseAccess, Principal
from cvdesk.domain.checks import member
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import CaseStatus
from cvdesk.services.accounts import AccountService, Page
from cvdesk.services.portal_cache import finding_kinds, remembered
from cvdesk.services.portal_views import (
    MessagesView,
    MessageView,
    ThreadView,
    TimelineView,
    embargo_windows,
    hidden_types,
    redacted,
    redactor,
    shown_json,
    shown_parts,
    visible_finding,
)
from cvdesk.services.views import (
    CaseSummary,
    ParticipantView,
    ReportView,
    ShownFinding,
    StatementView,
    VulnerabilityView,
)

if TYPE_CHECKING:
    from cvdesk.domain.events import Event
    from cvdesk.services.cases import CaseService
    from cvdesk.store.portal import Reader as Session

MAX_PAGE = 200
#: A case as the page reads it: a row of cvdesk.store.portal.SUMMARY_COLUMNS.
CaseHead = Any
#: Embargo states in which a read is audited (a proposal or an embargo in force).
EMBARGOED = frozenset({"proposed", "active", "revise"})


def case_orders() -> tuple[str, ...]:
    """The names the case list can be ordered by (the store's orderings), for the faces
    to offer; ``case_list`` refuses any other."""
    from cvdesk.store.portal import ORDERS

    return tuple(ORDERS)


def page_bounds(offset: int, limit: int) -> tuple[int, int]:
    if offset < 0:
        raise InvalidInput("offset", f"{offset} is negative")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("limit", f"{limit} is not between 1 and {MAX_PAGE}")
    return offset, limit


@dataclass(frozen=True, slots=True)
class AccessView:
    staff: bool
    pids: tuple[int, ...]
    roles: tuple[str, ...]

    @classmethod
    def of(cls, a: CaseAccess) -> AccessView:
        return cls(a.staff, tuple(sorted(a.pids)), tuple(sorted(r.value for r in a.roles)))

    def to_json(self) -> dict[str, Any]:
        return {"staff": self.staff, "participants": list(self.pids), "roles": list(self.roles)}


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One log entry as one principal may see it: what a page shows of it, and its JSON
    form (``data``, made when asked for: the API's, see ``portal_views.shown_json``)."""

    at: datetime
    type: str
    participant: int | None
    actor: str
    summary: str
    reason: str
    event: Event = field(repr=False)  # as shown to the principal (portal_views.shown_parts)

    @classmethod
    def of(cls, e: Event, access: CaseAccess,
           hide: re.Pattern[str] | None = None) -> LogEntry:
        shown, reason, summary = shown_parts(e, access, hide)
        return cls(e.at, e.type.value, e.participant, e.actor, summary, reason, shown)

    @property
    def data(self) -> dict[str, Any]:
        return shown_json(self.event, self.reason, self.summary)

    def to_json(self) -> dict[str, Any]:
        return self.data


@dataclass(frozen=True, slots=True)
class CasePage:
    """One case as one principal may see it: a page of its participants with their
    statement status per vulnerability, the statements of those participants, the
    timeline, the latest log entries, the first findings and the latest messages.
    Nothing in it grows with the number of participants but the timeline's marks, which
    grow with the days of the case."""

    case: CaseSummary
    access: AccessView
    participants: Page
    reports: tuple[ReportView, ...]
    vulnerabilities: tuple[VulnerabilityView, ...]
    statements: tuple[StatementView, ...]  # of the participants on this page
    #: participant -> vulnerability key -> statuses of its products ("fixed, affected")
    statement_status: dict[int, dict[str, str]]
    log: Page  # LogEntry, newest first
    timeline: TimelineView
    findings: Page  # ShownFinding
    messages: MessagesView

    @property
    def events(self) -> tuple[LogEntry, ...]:
        return self.log.items

    def to_json(self) -> dict[str, Any]:
        return {**self.case.to_json(), "access": self.access.to_json(),
                "participants": self.participants.to_json(),
                "reports": [r.to_json() for r in self.reports],
                "vulnerabilities": [v.to_json() for v in self.vulnerabilities],
                "statements": [s.to_json() for s in self.statements],
                "statement_status": {str(pid): keys for pid, keys
                                     in self.statement_status.items()},
                "events": [e.to_json() for e in self.log.items], "log_total": self.log.total,
                "timeline": self.timeline.to_json(), "findings": self.findings.to_json(),
                "messages": self.messages.to_json()}


class PortalService:
    def __init__(self, cases: CaseService, accounts: AccountService) -> None:
        self.cases = cases
        self.accounts = accounts
        self.db = cases.db

    def case_list(self, principal: Principal, *, status: str | None = "open",
                  search: str = "", embargo: str | None = None, order: str = "activity",
                  offset: int = 0, limit: int = 50) -> Page:
        """The cases the principal may see: filtered by status and embargo state,
        searched in case ids and titles, one page at a time."""
        from cvdesk.store.portal import ORDERS, visible_cases

        offset, limit = page_bounds(offset, limit)
        if status:
            status = member(CaseStatus, status, "status", "case status").value
        if order not in ORDERS:
            raise InvalidInput("order", f"{order!r} is not one of {', '.join(ORDERS)}")
        if len(search) > 200:
            raise InvalidInput("search", "at most 200 characters")
        states = ()
        if embargo:
            from cvdesk.domain.em import EM

            states = (member(EM, embargo, "embargo", "embargo state").value,)
        if principal.link_case is not None:
            # a reporter's link opens one case: its list is that case
            search, member_of = principal.link_case, None  # then only that case, below
        elif principal.is_staff:
            member_of = None
        else:
            member_of = (principal.user_id, principal.organization_id)
        with self.db.reading() as session:
            rows, total = visible_cases(session, member=member_of, status=status,
                                        search=search, em_states=states, order=order,
                                        offset=offset, limit=limit)
            items = tuple(CaseSummary(*r[1:]) for r in rows)  # SUMMARY_COLUMNS
        if principal.link_case is not None:
            items = tuple(c for c in items if c.case_id == principal.link_case)
            total = len(items)
        return Page(items, total, offset, limit)

    # ------------------------------------------------------------ one case
    @contextmanager
    def _case(self, principal: Principal, case_id: str, address: str,
              ) -> Iterator[tuple[CaseAccess, Session, CaseHead]]:
        """The principal's access to the case (CaseHidden when it takes no part) and the
        case's row in a read session; a read of a case under embargo is audited once the
        read is done (guide 7.2: who saw what while it was embargoed)."""
        from cvdesk.store.portal import case_head

        access = self.accounts.access(principal, case_id.strip().upper())
        with self.db.reading() as session:
            row = case_head(session, case_id)
            em_state, found = row.em_state, row.case_id
            yield access, session, row
        if em_state in EMBARGOED:
            self.accounts.audit(principal, "read embargoed case", case_id=found,
                                address=address)

    def case_page(self, principal: Principal, case_id: str, *, offset: int = 0,
                  limit: int = 50, vendors_only: bool = False, search: str = "",
                  thread: str = "all", messages_offset: int = 0, findings_offset: int = 0,
                  log_offset: int = 0, address: str = "") -> CasePage:
        """The case as ``principal`` may see it (CaseHidden when it takes no part), with
        one page of its participants and one page of each other part (the messages of
        ``thread``, see ``messages``)."""
        from cvdesk.store.portal import coordinator_pids, participants_page, report_heads

        offset, limit = page_bounds(offset, limit)
        for name, value in (("messages offset", messages_offset),
                            ("findings offset", findings_offset), ("log offset", log_offset)):
            if value < 0:
                raise InvalidInput(name, f"{value} is negative")
        if len(search) > 200:
            raise InvalidInput("search", "at most 200 characters")
        now = self.when()
        with self._case(principal, case_id, address) as (access, session, row):
            visible = None
            if not access.staff:
                visible = set(access.pids) | set(coordinator_pids(session, row.id))
            people, total = participants_page(session, row.id, pids=visible,
                                              vendors_only=vendors_only, search=search,
                                              offset=offset, limit=limit)
            participants = tuple(ParticipantView(*p) for p in people)  # PARTICIPANT_COLUMNS
            summary = CaseSummary(*row[1:])  # SUMMARY_COLUMNS
            shown = {p.pid for p in participants}
            # Keyed by the case's version: see cvdesk.services.portal_cache.
            vulnerabilities = remembered(self.db, ("vulnerabilities", row.id, row.version),
                                         lambda: _vulnerabilities(session, row.id))
            keys = {place: v.key for place, v in enumerate(vulnerabilities, 1)}
            mine = frozenset(shown if access.staff else access.pids)
            statements = remembered(self.db, ("statements", row.id, row.version, mine),
                                    lambda: _statements(session, row, mine, keys))
            reports = (tuple(ReportView(tid, at, title, tlp, {}) for tid, at, title, tlp
                             in report_heads(session, row.id))
                       if access.staff or access.is_reporter else ())
            log = self._log(session, row, access, newest_first=True, offset=log_offset,
                            limit=LOG_ON_PAGE)
            timeline = self._timeline(session, row, access, now)
            findings = self._findings(session, row, access, offset=findings_offset,
                                      limit=FINDINGS_ON_PAGE)
            messages = self._messages(session, row, access, thread=thread,
                                      offset=messages_offset, limit=MESSAGES_ON_PAGE)
        status: dict[int, dict[str, list[str]]] = {}
        for st in statements:
            keys_of = status.setdefault(st.participant, {})
            if st.status not in keys_of.setdefault(st.vulnerability, []):
                keys_of[st.vulnerability].append(st.status)
        return CasePage(summary, AccessView.of(access),
                        Page(participants, total, offset, limit), reports,
                        vulnerabilities, statements,
                        {pid: {k: ", ".join(v) for k, v in by_key.items()}
                         for pid, by_key in status.items()},
                        log, timeline, findings, messages)

    def timeline(self, principal: Principal, case_id: str, *, offset: int = 0,
                 limit: int = 50, newest_first: bool = False, address: str = "") -> Page:
        """The case log as the principal may see it, one page of entries (LogEntry)."""
        offset, limit = page_bounds(offset, limit)
        with self._case(principal, case_id, address) as (access, session, row):
            return self._log(session, row, access, newest_first=newest_first,
                             offset=offset, limit=limit)

    def timeline_chart(self, principal: Principal, case_id: str, *,
                       address: str = "") -> TimelineView:
        """What the timeline drawing shows: marks per day and lane, the embargo."""
        now = self.when()
        with self._case(principal, case_id, address) as (access, session, row):
            return self._timeline(session, row, access, now)

    def findings(self, principal: Principal, case_id: str, *, offset: int = 0,
                 limit: int = 50, address: str = "") -> Page:
        """The case's unresolved troubleshooting findings the principal may see, most
        severe first (ShownFinding), worded for now; see ``visible_finding``."""
        offset, limit = page_bounds(offset, limit)
        with self._case(principal, case_id, address) as (access, session, row):
            return self._findings(session, row, access, offset=offset, limit=limit)

    def messages(self, principal: Principal, case_id: str, *, thread: str = "all",
                 offset: int = 0, limit: int = 50, address: str = "") -> MessagesView:
        """The message threads the principal may see (the case-wide one, and the private
        ones of its own participants; staff see all), and a page of the messages of one
        thread (``case``, ``p<n>``) or of all of them (``all``), newest first."""
        offset, limit = page_bounds(offset, limit)
        with self._case(principal, case_id, address) as (access, session, row):
            return self._messages(session, row, access, thread=thread, offset=offset,
                                  limit=limit)

    # ------------------------------------------------------------ the parts
    def _log(self, session: Session, row: CaseHead, access: CaseAccess, *,
             newest_first: bool, offset: int, limit: int) -> Page:
        from cvdesk.store.portal import events_page

        pids, hidden = _pids(access), hidden_types(access)
        # How many entries a principal sees changes only with the case's version.
        key = ("log total", row.id, row.version, None if pids is None else frozenset(pids),
               hidden)
        found, total = events_page(session, row.id, pids=pids, hidden=hidden,
                                   newest_first=newest_first, offset=offset, limit=limit,
                                   count=lambda read: remembered(self.db, key, read))
        hide = None if access.staff or not found else self._hidden_names(session, row,
                                                                          access)
        return Page(tuple(LogEntry.of(e, access, hide) for e in found), total, offset,
                    limit)

    def _timeline(self, session: Session, row: CaseHead, access: CaseAccess,
                  now: datetime) -> TimelineView:
        from cvdesk.domain.events import EventType
        from cvdesk.store.portal import event_counts_by_day, events_of_type

        pids, hidden = _pids(access), hidden_types(access)
        counts = remembered(self.db, ("counts", row.id, row.version,
                                      None if pids is None else frozenset(pids), hidden),
                            lambda: event_counts_by_day(session, row.id, pids=pids,
                                                        hidden=hidden))
        em = remembered(self.db, ("embargo", row.id, row.version),
                        lambda: events_of_type(session, row.id, EventType.EM))
        windows = embargo_windows(em, now)
        return TimelineView.build(row.case_id, row.opened_at, now, counts, windows)

    def _findings(self, session: Session, row: CaseHead, access: CaseAccess, *,
                  offset: int, limit: int) -> Page:
        from cvdesk.store.findings import UNRESOLVED
        from cvdesk.troubleshoot.stored import worded

        now = self.when()

        def shown(f: Any, data: dict[str, Any]) -> ShownFinding:
            return ShownFinding(f.id, row.case_id, row.title, f.status, data,
                                f.first_seen_at, f.snoozed_until, f.handled_reason)

        from cvdesk.store.portal import findings_of_case

        if access.staff:
            rows, total = findings_of_case(session, row.id, statuses=UNRESOLVED, pids=None,
                                           offset=offset, limit=limit)
            kinds = finding_kinds(self.db, session, rows)
            return Page(tuple(shown(f, worded(f.data, now, kinds)) for f in rows), total,
                        offset, limit)
        # Others: filtered on the rule's words, so read the candidates whole (a case
        # has a finding per rule and participant at most; a vendor's are a handful).
        rows, _ = findings_of_case(session, row.id, statuses=UNRESOLVED,
                                   pids=None if access.is_reporter else access.pids)
        kinds = finding_kinds(self.db, session, rows)
        mine = []
        pattern = None
        for f in rows:
            data = visible_finding(worded(f.data, now, kinds), access)
            if data is not None:
                if pattern is None:
                    pattern = self._hidden_names(session, row, access)
                mine.append(shown(f, redacted(data, pattern)))
        return Page(tuple(mine[offset:offset + limit]), len(mine), offset, limit)

    def _hidden_names(self, session: Session, row: CaseHead, access: CaseAccess,
                      ) -> re.Pattern[str] | None:
        """The names a principal may not see in this case, as one pattern: those of the
        participants other than its own and the coordinators.  Names change only when a
        participant joins, so the pattern (slow to build for thousands of names) is
        remembered per number of participants rather than per version."""
        from cvdesk.store.portal import coordinator_pids, names_except

        def read() -> re.Pattern[str] | None:
            keep = set(access.pids) | set(coordinator_pids(session, row.id))
            return redactor(names_except(session, row.id, keep))

        return remembered(self.db, ("hidden names", row.id, row.participants_count,
                                    frozenset(access.pids)), read)

    def _messages(self, session: Session, row: CaseHead, access: CaseAccess, *,
                  thread: str, offset: int, limit: int) -> MessagesView:
        from cvdesk.store.portal import message_threads, messages_page, participant_names

        pids = _pids(access)
        chosen: int | str | None = _thread(thread)
        if isinstance(chosen, int) and pids is not None and chosen not in pids:
            raise InvalidInput("thread", f"{thread}: no such thread in this case for you")
        found, count = message_threads(session, row.id, pids=pids, offset=0,
                                       limit=THREADS_ON_PAGE)
        names = participant_names(session, row.id, {p for p, _, _ in found if p is not None})
        threads = tuple(ThreadView(p, "the whole case" if p is None else
                                   names.get(p, f"participant {p}"), n, last)
                        for p, n, last in found)
        rows, total = messages_page(session, row.id, thread=chosen, pids=pids,
                                    offset=offset, limit=limit)
        return MessagesView(row.case_id, thread, Page(threads, count, 0, THREADS_ON_PAGE),
                            Page(tuple(MessageView(*m) for m in rows), total, offset, limit))

    def when(self) -> datetime:
        return self.cases.when(None)


#: How much of each part the case page shows; the API pages through the rest.
LOG_ON_PAGE = 50
FINDINGS_ON_PAGE = 20
MESSAGES_ON_PAGE = 20
THREADS_ON_PAGE = 50


def _pids(access: CaseAccess) -> set[int] | None:
    """The participants whose entries a principal sees besides the case-wide ones (None:
    all of them)."""
    return None if access.staff else set(access.pids)


def _thread(text: str) -> int | str | None:
    """A thread as asked: ``all``, ``case`` (the case-wide one, None) or ``p<n>``."""
    value = text.strip().lower()
    if value in ("", "all"):
        return "all"
    if value == "case":
        return None
    digits = value[1:] if value.startswith("p") else value
    if not digits.isdigit() or len(digits) > 9:
        raise InvalidInput("thread", f"{text!r} is not 'all', 'case' or a participant "
                           "such as p3")
    return int(digits)


def _vulnerabilities(session: Session, case_pk: int) -> tuple[VulnerabilityView, ...]:
    """The case's vulnerabilities as the page lists them: key, CVE, title and CVSS scores
    (the affected products, thousands in a library's case, are left to the case's full
    view, ``CaseService.show``)."""
    from cvdesk.store.portal import vulnerability_heads

    out = []
    for place, (cve, title, scores) in enumerate(vulnerability_heads(session, case_pk), 1):
        key = cve or f"V{place}"
        out.append(VulnerabilityView(title, cve or None, {
            "key": key, "title": title, "cve": cve or "", "scores": list(scores or ())}, key))
    return tuple(out)


def _statements(session: Session, row: CaseHead, pids: frozenset[int],
                keys: dict[int, str]) -> tuple[StatementView, ...]:
    """The statements of ``pids`` only, in vulnerability order: statements fold per
    vendor from their own entries (cvdesk.domain.state), so a page of 50 vendors replays
    those 50 vendors' statements, not all 2,000."""
    from cvdesk.domain.case import Case
    from cvdesk.domain.events import EventType
    from cvdesk.store.portal import detail_events

    if not pids:
        return ()
    folded = Case.replay(row.case_id, detail_events(
        session, row.id, (EventType.STATEMENT_RECORDED, EventType.STATEMENT_CONFIRMED),
        pids))
    ordered = sorted(folded.statements.values(), key=lambda st: st.vulnerability)
    return tuple(StatementView.of(keys.get(st.vulnerability, f"V{st.vulnerability}"), st)
                 for st in ordered)
