"""Findings as tracked across sweeps, and the sweep index on cases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from cvdesk.domain.errors import InvalidInput, NotFound
from cvdesk.store.tables import CaseRow, FindingRow, ParticipantRow

OPEN, ACKNOWLEDGED, SNOOZED, RESOLVED = "open", "acknowledged", "snoozed", "resolved"
UNRESOLVED = (OPEN, ACKNOWLEDGED, SNOOZED)


class FindingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def due_cases(self, now: datetime, case_id: str | None = None,
                  limit: int | None = None) -> Sequence[CaseRow]:
        """Open cases whose log changed since their last sweep or whose check time has come."""
        stmt = select(CaseRow).where(CaseRow.status == "open", or_(
            CaseRow.needs_sweep.is_(True), CaseRow.next_check_at <= now))
        if case_id:
            stmt = stmt.where(CaseRow.case_id == case_id.upper())
        return self.session.scalars(stmt.order_by(CaseRow.id).limit(limit)).all()

    def participants_of(self, case_pks: list[int]) -> dict[int, list[ParticipantRow]]:
        result: dict[int, list[ParticipantRow]] = {pk: [] for pk in case_pks}
        rows = self.session.scalars(select(ParticipantRow).where(
            ParticipantRow.case_pk.in_(case_pks)).order_by(ParticipantRow.pid))
        for r in rows:
            result[r.case_pk].append(r)
        return result

    def unresolved_of(self, case_pks: list[int]) -> dict[int, dict[str, FindingRow]]:
        result: dict[int, dict[str, FindingRow]] = {pk: {} for pk in case_pks}
        rows = self.session.scalars(select(FindingRow).where(
            FindingRow.case_pk.in_(case_pks), FindingRow.status.in_(UNRESOLVED)))
        for r in rows:
            result[r.case_pk][r.key] = r
        return result

    def record(self, case: CaseRow, findings: dict[str, dict[str, Any]], now: datetime,
               next_check: datetime | None, existing: dict[str, FindingRow]) -> None:
        """Bring the case's findings in line with the latest verdict and re-arm its index."""
        for key, row in existing.items():
            if key not in findings:
                row.status, row.resolved_at = RESOLVED, now
            elif row.status == SNOOZED and row.snoozed_until and row.snoozed_until <= now:
                row.status = OPEN
        for key, data in findings.items():
            row = existing.get(key)
            if row is None:
                self.session.add(FindingRow(
                    case_pk=case.id, key=key, problem=data["problem"],
                    severity=data["severity_level"], status=OPEN, data=data,
                    first_seen_at=now, last_seen_at=now, resolved_at=None, snoozed_until=None,
                    handled_by="", handled_reason=""))
            else:
                row.data, row.severity, row.last_seen_at = data, data["severity_level"], now
        wake = [r.snoozed_until for r in existing.values()
                if r.status == SNOOZED and r.snoozed_until and r.snoozed_until > now]
        checks = [t for t in (next_check, *wake) if t is not None]
        # Only clear needs_sweep if nobody wrote to the case since we read it.
        self.session.execute(
            update(CaseRow).where(CaseRow.id == case.id, CaseRow.version == case.version)
            .values(needs_sweep=False, next_check_at=min(checks) if checks else None,
                    swept_at=now).execution_options(synchronize_session=False))

    def listing(self, *, statuses: Sequence[str], case_id: str | None = None,
                ) -> Sequence[tuple[FindingRow, CaseRow]]:
        stmt = (select(FindingRow, CaseRow).join(CaseRow, CaseRow.id == FindingRow.case_pk)
                .where(FindingRow.status.in_(statuses), CaseRow.status == "open")
                .order_by(FindingRow.severity.desc(), CaseRow.case_id, FindingRow.key))
        if case_id:
            stmt = stmt.where(CaseRow.case_id == case_id.upper())
        return [(f, c) for f, c in self.session.execute(stmt).tuples()]

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
