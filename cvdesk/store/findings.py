"""Findings as tracked across sweeps, and the sweep index on cases."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Row,
    String,
    bindparam,
    cast,
    insert,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from cvdesk.domain.errors import InvalidInput, NotFound
from cvdesk.store.tables import CaseRow, FindingRow
from cvdesk.store.types import without_nul


def json_text(data: dict[str, Any]) -> str:
    """A finding's words as the JSON text the data column stores, NUL replaced as the
    column type would (cvdesk.store.types).  Serializing once here serves both the
    comparison with the stored text and the write; a NUL shows as an escape in the text,
    so it is found without walking the value (text that merely looks like the escape
    takes the same path and comes out unchanged)."""
    text = json.dumps(data)
    return json.dumps(without_nul(data)) if "\\u0000" in text else text


def same_data(stored: Any, text: str) -> bool:
    """Whether a stored data column read untyped (text on SQLite, parsed on PostgreSQL)
    says what ``text`` says."""
    return stored == text if stored.__class__ is str else stored == json.loads(text)


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
                  limit: int | None = None, after: int = 0) -> Sequence[Row[Any]]:
        """Open cases whose log changed since their last sweep or whose check time has come,
        in order, from the one after the case numbered ``after`` (so that a sweep goes
        through the table once, batch after batch, instead of rescanning it per batch)."""
        cases = CaseRow.__table__
        stmt = select(cases).where(cases.c.status == "open", cases.c.id > after, or_(
            cases.c.needs_sweep.is_(True), cases.c.next_check_at <= now))
        if case_id:
            stmt = stmt.where(cases.c.case_id == case_id.upper())
        return self.session.execute(stmt.order_by(cases.c.id).limit(limit)).all()

    def unresolved_of(self, case_pks: list[int]) -> dict[int, dict[str, Row[Any]]]:
        result: dict[int, dict[str, Row[Any]]] = {pk: {} for pk in case_pks}
        f = FindingRow.__table__
        data = type_coerce(f.c.data, String).label("data")  # compared as text: no parsing
        rows = self.session.execute(select(f.c.id, f.c.case_pk, f.c.key, f.c.status,
                                           f.c.snoozed_until, f.c.severity, data).where(
            f.c.case_pk.in_(case_pks), f.c.status.in_(UNRESOLVED)))
        for r in rows:
            result[r.case_pk][r.key] = r
        return result

    def _data_param(self, name: str) -> ColumnElement[Any]:
        """A data value bound as the JSON text made by ``json_text``."""
        param = bindparam(name, type_=String)
        if self.session.get_bind().dialect.name == "postgresql":
            return cast(param, JSONB)
        return param

    def _stamp(self, now: datetime) -> ColumnElement[Any]:
        """``now`` converted once for the database by the column type, for statements that
        repeat it on thousands of rows (which would convert it once per row)."""
        dialect = self.session.get_bind().dialect
        process = FindingRow.__table__.c.first_seen_at.type.bind_processor(dialect)
        value = process(now) if process else now
        return literal(value, String() if isinstance(value, str) else DateTime(timezone=True))

    def record_batch(self, verdicts: Sequence[CaseOutcome], now: datetime) -> None:
        """Bring each case's findings in line with its latest verdict and re-arm its index,
        with one statement per kind of change for the whole batch.

        Only findings whose words, severity or status changed are rewritten, and a change of
        words alone leaves the status index alone.  The others just get ``last_seen_at``.
        """
        f, cases = FindingRow.__table__, CaseRow.__table__
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []  # status or severity changed too
        reworded: list[dict[str, Any]] = []  # only the words changed
        closes: list[dict[str, Any]] = []
        rearm: list[dict[str, Any]] = []
        seen: list[int] = []  # kept findings whose words did not change
        for v in verdicts:
            for key, row in v.existing.items():
                if key not in v.findings:
                    closes.append({"b_id": row.id})
            for key, data in v.findings.items():
                row = v.existing.get(key)
                if row is None:
                    inserts.append({"b_case": v.case_pk, "b_key": key,
                                    "b_problem": data["problem"],
                                    "b_severity": data["severity_level"],
                                    "b_data": json_text(data)})
                    continue
                woke = (row.status == SNOOZED and row.snoozed_until is not None
                        and row.snoozed_until <= now)
                text = json_text(data)
                if woke or row.severity != data["severity_level"]:
                    updates.append({"b_id": row.id, "b_data": text,
                                    "b_severity": data["severity_level"],
                                    "b_status": OPEN if woke else row.status})
                elif not same_data(row.data, text):
                    reworded.append({"b_id": row.id, "b_data": text})
                else:
                    seen.append(row.id)
            wake = [r.snoozed_until for r in v.existing.values()
                    if r.status == SNOOZED and r.snoozed_until and r.snoozed_until > now]
            checks = [t for t in (v.next_check, *wake) if t is not None]
            rearm.append({"b_id": v.case_pk, "b_version": v.version,
                          "b_next": min(checks) if checks else None})
        ex = self.session.execute
        # Our own codes and ``now`` go in untyped (String: no per-row conversion); the
        # column types would only copy them, row by row.
        stamp, code = self._stamp(now), String()
        if closes:
            ex(update(f).where(f.c.id == bindparam("b_id")).values(
                status=literal(RESOLVED, code), resolved_at=stamp), closes)
        for start in range(0, len(seen), 1000):
            ex(update(f).where(f.c.id.in_(seen[start:start + 1000]))
               .values(last_seen_at=stamp))
        if reworded:  # the usual change: a count of days or hours in the evidence
            ex(update(f).where(f.c.id == bindparam("b_id")).values(
                data=self._data_param("b_data"), last_seen_at=stamp), reworded)
        if updates:
            ex(update(f).where(f.c.id == bindparam("b_id")).values(
                data=self._data_param("b_data"), last_seen_at=stamp,
                severity=bindparam("b_severity"), status=bindparam("b_status", type_=code)),
               updates)
        if inserts:
            ex(insert(f).values(
                case_pk=bindparam("b_case"), key=bindparam("b_key", type_=code),
                problem=bindparam("b_problem", type_=code), severity=bindparam("b_severity"),
                status=literal(OPEN, code), data=self._data_param("b_data"),
                first_seen_at=stamp, last_seen_at=stamp, handled_by=literal("", code),
                handled_reason=literal("", code)), inserts)
        if rearm:
            # Only clear needs_sweep if nobody wrote to the case since we read it.
            ex(update(cases).where(cases.c.id == bindparam("b_id"),
                                   cases.c.version == bindparam("b_version"))
               .values(needs_sweep=False, next_check_at=bindparam("b_next"), swept_at=stamp),
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
            raise InvalidInput("reason", "say why (it is kept with the finding)")
        row.status, row.handled_by, row.handled_reason = status, actor, reason
        row.snoozed_until = until
        if until is not None:  # wake the case up when the snooze ends
            case = self.session.get(CaseRow, row.case_pk)
            assert case is not None
            if case.next_check_at is None or until < case.next_check_at:
                case.next_check_at = until
        return row
