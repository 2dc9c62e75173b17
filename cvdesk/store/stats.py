"""Row counts of the main tables (a summary after a bulk load)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cvdesk.store.tables import CaseRow, EventRow, ParticipantRow


def row_counts(session: Session) -> tuple[int, int, int]:
    """(cases, participants, events) in one round trip."""
    row = session.execute(select(
        select(func.count()).select_from(CaseRow).scalar_subquery(),
        select(func.count()).select_from(ParticipantRow).scalar_subquery(),
        select(func.count()).select_from(EventRow).scalar_subquery())).one()
    return int(row[0]), int(row[1]), int(row[2])
