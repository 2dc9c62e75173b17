"""Findings as tracked across sweeps, and the sweep index on cases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from cvdesk.domain.errors import InvalidInput, NotFound
from cvdesk.store.tables import CaseRow, FindingRow, ParticipantRow

OPEN, ACKNOWLEDGED, SNOOZED, RESOLVED = "open", "acknowledged", "snoozed", "resolved"
UNRESOLVED = (OPEN, ACKNOWLEDGED, SNOOZED)


@dataclass
class CaseOutcome:
    """One case's sweep outcome, ready to store: the findings by key, the rows it had."""

    case_pk: int
    version: int
    findings: dict[str, dict[str, Any]]
    next_check: datetime | None
    existing: dict[str, Row[Any]]


class FindingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def due_cases(self, now: datetime, case_id: str | None = None,
                  limit: int | None = None) -> Sequence[Row[Any]]:
        """Open cases whose log changed since their last sweep or whose check time has come."""
        cases = CaseRow.__table__
        stmt = select(cases).where(cases.c.status == "open", or_(
            cases.c.needs_sweep.is_(True), cases.c.next_check_at <= now))
        if case_id:
            stmt = stmt.where(cases.c.case_id == case_id.upper())
        return self.session.execute(stmt.order_by(cases.c.id).limit(limit)).all()

    def participants_of(self, case_pks: list[int]) -> dict[int, list[Row[Any]]]:
        result: dict[int, list[Row[Any]]] = {pk: [] for pk in case_pks}
        people = ParticipantRow.__table__
        for r in self.session.execute(select(people).where(people.c.case_pk.in_(case_pks))
                                      .order_by(people.c.case_pk, people.c.pid)):
            result[r.case_pk].append(r)
        return result

    def unresolved_of(self, case_pks: list[int]) -> dict[int, dict[str, Row[Any]]]:
        result: dict[int, dict[str, Row[Any]]] = {pk: {} for pk in case_pks}
        f = FindingRow.__table__
        rows = self.session.execute(select(f.c.id, f.c.case_pk, f.c.key, f.c.status,
                                           f.c.snoozed_until).where(
            f.c.case_pk.in_(case_pks), f.c.status.in_(UNRESOLVED)))
        for r in rows:
            result[r.case_pk][r.key] = r
        return result

    def record_batch(self, verdicts: Sequence[CaseOutcome], now: datetime) -> None:
        """Bring each case's findings in line with its latest verdict and re-arm its index,
        with one statement per kind of change for the whole batch."""
        f, cases = FindingRow.__table__, CaseRow.__table__
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        closes: list[dict[str, Any]] = []
        rearm: list[dict[str, Any]] = []
        for v in verdicts:
            for key, row in v.existing.items():
                if key not in v.findings:
                    closes.append({"b_id": row.id, "b_status": RESOLVED, "b_resolved": now})
            for key, data in v.findings.items():
                row = v.existing.get(key)
                if row is None:
                    inserts.append({"case_pk": v.case_pk, "key": key, "problem": data["problem"],
                                    "severity": data["severity_level"], "status": OPEN,
                                    "data": data, "first_seen_at": now, "last_seen_at": now,
                                    "resolved_at": None, "snoozed_until": None,
                                    "handled_by": "", "handled_reason": ""})
                    continue
                woke = (row.status == SNOOZED and row.snoozed_until is not None
                        and row.snoozed_until <= now)
                updates.append({"b_id": row.id, "b_data": data, "b_last": now,
                                "b_severity": data["severity_level"],
                                "b_status": OPEN if woke else row.status})
            wake = [r.snoozed_until for r in v.existing.values()
                    if r.status == SNOOZED and r.snoozed_until and r.snoozed_until > now]
            checks = [t for t in (v.next_check, *wake) if t is not None]
            rearm.append({"b_id": v.case_pk, "b_version": v.version,
                          "b_next": min(checks) if checks else None})
        ex = self.session.execute
        if inserts:
            ex(insert(f), inserts)
        if updates:
            ex(update(f).where(f.c.id == bindparam("b_id")).values(
                data=bindparam("b_data", type_=f.c.data.type), last_seen_at=bindparam("b_last"),
                severity=bindparam("b_severity"), status=bindparam("b_status")), updates)
        if closes:
            ex(update(f).where(f.c.id == bindparam("b_id")).values(
                status=bindparam("b_status"), resolved_at=bindparam("b_resolved")), closes)
        if rearm:
            # Only clear needs_sweep if nobody wrote to the case since we read it.
            ex(update(cases).where(cases.c.id == bindparam("b_id"),
                                   cases.c.version == bindparam("b_version"))
               .values(needs_sweep=False, next_check_at=bindparam("b_next"), swept_at=now),
               rearm)

    def listing(self, *, statuses: Sequence[str], case_id: str | None = None,
                ) -> Sequence[tuple[FindingRow, CaseRow]]:
        stmt = (select(FindingRow, CaseRow).join(CaseRow, CaseRow.id == FindingRow.case_pk)
                .where(FindingRow.status.in_(statuses), CaseRow.status == "open")
                .order_by(FindingRow.severity.desc(), CaseRow.case_id, FindingRow.key))
        if case_id:
            stmt = stmt.where(CaseRow.case_id == case_id.upper())
        return [(f, c) for f, c in self.session.execute(stmt)]

    def get(self, finding_id: int) -> FindingRow:
        row = self.session.get(FindingRow, finding_id)
        if row is None:
            raise NotFound(f"no finding #{finding_id}")
        return row

    def handle(self, finding_id: int, status: str, *, actor: str, reason: str,
               until: datetime | None = None) -> FindingRow:
        row = self.get(finding_id)
        if row.status == RESOLVED:
            raise InvalidInput("finding", f"#{finding_id} is resolved already")
        if not reason.strip():
            raise InvalidInput("--reason", "say why (it is kept with the finding)")
        row.status, row.handled_by, row.handled_reason = status, actor, reason
        row.snoozed_until = until
        if until is not None:  # wake the case up when the snooze ends
            case = self.session.get(CaseRow, row.case_pk)
            assert case is not None
            if case.next_check_at is None or until < case.next_check_at:
                case.next_check_at = until
        return row
