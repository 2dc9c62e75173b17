"""Timing metrics over the cases in the database (issue 12; guide 6.9): what the
computation in cvdesk.metrics.timing needs, read in one session.

The period chooses cases by the day they were opened (UTC), ``since`` and ``until``
both included (cvdesk.services.metrics_period: the same period as skill's).  A vendor
narrows it to cases where that vendor (by name or organization, any letter case) took
part, and the per-vendor measures to that vendor's values.  Findings are those of the
chosen cases.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from cvdesk.metrics.timing import (
    CaseTimes,
    FindingRaised,
    LogEntry,
    Party,
    case_times,
    timing_report,
)
from cvdesk.metrics.views import Distribution, TimingReport
from cvdesk.services.metrics_period import period_instants
from cvdesk.settings import Settings
from cvdesk.store import metrics_timing as sql
from cvdesk.store.db import Database

__all__ = ["Distribution", "MetricsTiming", "TimingReport"]


class MetricsTiming:
    def __init__(self, db: Database, settings: Settings,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock

    def timing(self, *, since: date | None = None, until: date | None = None,
               vendor: str | None = None) -> TimingReport:
        """Time to acknowledgement, first reply, fix ready and publication (median and
        90th percentile, overall, per vendor, per coordinator), embargo outcomes and the
        findings raised, over the cases opened in the period (cvdesk.metrics.timing says
        how each is read from the log)."""
        start, before = period_instants(since, until)
        wanted = vendor.strip() if vendor and vendor.strip() else None
        cases, findings = self.records(since=start, before=before, vendor=wanted)
        return timing_report(cases, findings, vendor=wanted)

    def records(self, *, since: datetime | None, before: datetime | None,
                vendor: str | None) -> tuple[list[CaseTimes], list[FindingRaised]]:
        """The plain records of the cases in the period (for the plots too)."""
        with self.db.sessions() as session:
            conn = session.connection()
            chosen = sql.cases_in_period(conn, since=since, before=before, vendor=vendor)
            pks = [pk for pk, _ in chosen]
            logs = sql.log_entries(conn, pks)
            people = sql.parties(conn, pks)
            raised = sql.findings_raised(conn, pks)
        cases = []
        for pk, case_id in chosen:
            entries = [LogEntry(*e) for e in logs.get(pk, [])]
            members = [Party(pid, name, organization or "",
                             frozenset(r for r in (roles or "").split(",") if r),
                             bool(is_vendor), replied, vfd or {})
                       for pid, name, organization, roles, is_vendor, replied, vfd
                       in people.get(pk, [])]
            cases.append(case_times(case_id, entries, members))
        return cases, [FindingRaised(p, at) for p, at in raised]
