"""Insert many cases at once (imports, benchmarks), with the same projections as ``save``.

Each Case must be new and carry its whole log in ``pending``.  Rows are written
with multi-row INSERTs, a few thousand cases per statement batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import TypeVar

from sqlalchemy import insert
from sqlalchemy.orm import Session

from cvdesk.domain.case import Case
from cvdesk.domain.events import EventType
from cvdesk.store.mapping import case_values, participant_values
from cvdesk.store.tables import CaseRow, EventRow, ParticipantRow, ReportRow

T = TypeVar("T")


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def insert_cases(session: Session, cases: Iterable[Case], batch: int = 1000) -> int:
    """Write new cases with their logs and projections; returns how many were written."""
    written = 0
    for chunk in _batched(cases, batch):
        now = datetime.now(UTC)
        result = session.execute(
            insert(CaseRow).returning(CaseRow.id, CaseRow.case_id, sort_by_parameter_order=True),
            [case_values(c) | {"version": c.seq} for c in chunk])
        pks = {case_id: pk for pk, case_id in result}
        session.execute(insert(ParticipantRow), [
            participant_values(p) | {"case_pk": pks[c.case_id], "organization_id": None}
            for c in chunk for p in c.participants.values()])
        session.execute(insert(EventRow), [
            {"case_pk": pks[c.case_id], "seq": e.seq, "type": e.type.value, "at": e.at,
             "actor": e.actor, "reason": e.reason, "participant": e.participant,
             "data": e.data, "recorded_at": now}
            for c in chunk for e in c.pending])
        reports = [{"tracking_id": e.data["tracking_id"], "case_pk": pks[c.case_id],
                    "received_at": e.at, "title": e.data["report"]["title"],
                    "tlp": e.data["report"]["tlp"], "form": e.data["report"]}
                   for c in chunk for e in c.pending if e.type is EventType.REPORT_RECEIVED]
        if reports:
            session.execute(insert(ReportRow), reports)
        for c in chunk:
            c.pending.clear()
        written += len(chunk)
    return written
