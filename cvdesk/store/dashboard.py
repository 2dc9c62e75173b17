"""The reads behind the dashboard (issue 11): the findings a principal should see, most
urgent first, and the participants a member acts as in each of its cases."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, false, func, or_, select
from sqlalchemy.orm import Session

from cvdesk.store.findings import OPEN, SNOOZED
from cvdesk.store.tables import CaseMemberRow, CaseRow, FindingRow, ParticipantRow

#: Most urgent first: severity, then the oldest, then a stable order.
URGENCY = (FindingRow.severity.desc(), FindingRow.first_seen_at, CaseRow.case_id,
           FindingRow.key)


def _showing(now: datetime):  # type: ignore[no-untyped-def]
    """Open findings, and snoozed ones whose snooze has ended (the next sweep reopens
    them; until then they are due again all the same)."""
    return or_(FindingRow.status == OPEN,
               and_(FindingRow.status == SNOOZED, FindingRow.snoozed_until <= now))


def open_findings(session: Session, *, now: datetime,
                  case_pks: Collection[int] | Select[tuple[int]] | None,
                  offset: int = 0, limit: int | None = None,
                  ) -> tuple[Sequence[tuple[FindingRow, CaseRow]], int]:
    """One page of the due findings of open cases (``case_pks`` None: every case; a
    list, or a select of case keys such as ``member_cases``) and how many there are in
    all."""
    stmt = (select(FindingRow, CaseRow).join(CaseRow, CaseRow.id == FindingRow.case_pk)
            .where(_showing(now), CaseRow.status == "open"))
    if isinstance(case_pks, Select):
        stmt = stmt.where(CaseRow.id.in_(case_pks))
    elif case_pks is not None:
        stmt = stmt.where(CaseRow.id.in_(list(case_pks)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    stmt = stmt.order_by(*URGENCY).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [(f, c) for f, c in session.execute(stmt)], total


def _acts_as(user_id: int | None, organization_id: int | None) -> list[Any]:
    """The conditions on ``participants`` of the participants a member acts as: through
    its organization or a direct link (``case_members``)."""
    conds = []
    p = ParticipantRow
    if organization_id is not None:
        conds.append(p.organization_id == organization_id)
    if user_id is not None:
        conds.append(p.pid.in_(select(CaseMemberRow.pid).where(
            CaseMemberRow.user_id == user_id, CaseMemberRow.case_pk == p.case_pk)))
    return conds


def member_participants(session: Session, user_id: int | None,
                        organization_id: int | None,
                        ) -> dict[int, list[tuple[int, str]]]:
    """case key -> [(participant number, roles text)] of the participants a member acts
    as: through its organization or a direct link (``case_members``)."""
    conds = _acts_as(user_id, organization_id)
    if not conds:
        return {}
    p = ParticipantRow
    found: dict[int, list[tuple[int, str]]] = {}
    for case_pk, pid, roles in session.execute(
            select(p.case_pk, p.pid, p.roles).where(or_(*conds))):
        found.setdefault(case_pk, []).append((pid, roles))
    return found


def member_cases(user_id: int | None, organization_id: int | None) -> Select[tuple[int]]:
    """A select of the keys of the cases ``member_participants`` finds, for use inside
    another statement: a vendor may take part in more cases than one statement takes
    parameters (SQLite: 32,766), so the keys are not passed as a list."""
    conds = _acts_as(user_id, organization_id)
    return select(ParticipantRow.case_pk).where(or_(*conds) if conds else false())


def linked_participant(session: Session, case_id: str, pid: int,
                       ) -> dict[int, list[tuple[int, str]]]:
    """The one participant a reporter's private link acts as, in the same shape."""
    row = session.execute(
        select(ParticipantRow.case_pk, ParticipantRow.roles)
        .join(CaseRow, CaseRow.id == ParticipantRow.case_pk)
        .where(CaseRow.case_id == case_id, ParticipantRow.pid == pid)).first()
    return {} if row is None else {row[0]: [(pid, row[1])]}
