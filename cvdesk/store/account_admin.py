"""Paged listings for the desk's admin pages (issue 11) and the few account writes the
account pages need beyond store/accounts.py.  The outbox and the contact directory can
hold many thousands of rows (a 2,000-vendor notice), so each listing reads one page and
counts the rest in SQL rather than loading everything for a face to slice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cvdesk.store.directory import organization_key
from cvdesk.store.tables import (
    CaseRow,
    ContactRow,
    OrganizationRow,
    OutboxRow,
    QuarantineRow,
    UserRow,
)


def _count(session: Session, stmt: Any) -> int:
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


class AdminRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def set_time_zone(self, user_id: int, zone: str) -> None:
        self.session.execute(update(UserRow).where(UserRow.id == user_id)
                             .values(time_zone=zone))

    def organizations(self, *, search: str = "", offset: int = 0, limit: int = 50,
                      ) -> tuple[list[tuple[int, str, str, int, int]], int]:
        """(id, name, website, contacts, users) by name, and the total."""
        contacts = (select(func.count()).where(ContactRow.organization_id == OrganizationRow.id)
                    .correlate(OrganizationRow).scalar_subquery())
        users = (select(func.count()).where(UserRow.organization_id == OrganizationRow.id)
                 .correlate(OrganizationRow).scalar_subquery())
        stmt = select(OrganizationRow.id, OrganizationRow.name, OrganizationRow.website,
                      contacts, users)
        if search.strip():
            stmt = stmt.where(OrganizationRow.name_key.contains(
                organization_key(search), autoescape=True))
        total = _count(self.session, stmt)
        rows = self.session.execute(stmt.order_by(OrganizationRow.name_key, OrganizationRow.id)
                                    .offset(offset).limit(limit)).all()
        return [tuple(r) for r in rows], total  # type: ignore[misc]

    def contacts(self, *, organization: str = "", offset: int = 0, limit: int = 50,
                 ) -> tuple[list[tuple[str, str, str, str, datetime | None]], int]:
        """(organization, kind, value, source, verified_at) by organization, and the
        total."""
        stmt = (select(OrganizationRow.name, ContactRow.kind, ContactRow.value,
                       ContactRow.source, ContactRow.verified_at)
                .join(ContactRow, ContactRow.organization_id == OrganizationRow.id))
        if organization.strip():
            stmt = stmt.where(OrganizationRow.name_key == organization_key(organization))
        total = _count(self.session, stmt)
        rows = self.session.execute(stmt.order_by(OrganizationRow.name_key, ContactRow.kind,
                                                  ContactRow.value)
                                    .offset(offset).limit(limit)).all()
        return [tuple(r) for r in rows], total  # type: ignore[misc]

    def outbox(self, *, status: str = "", offset: int = 0, limit: int = 50,
               ) -> tuple[list[tuple[Any, ...]], int]:
        """(id, case id or None, participant, recipient, template, status, attempts,
        in_doubt, last_error, created_at, sent_at), newest first, and the total."""
        stmt = (select(OutboxRow.id, CaseRow.case_id, OutboxRow.participant,
                       OutboxRow.recipient, OutboxRow.template, OutboxRow.status,
                       OutboxRow.attempts, OutboxRow.in_doubt, OutboxRow.last_error,
                       OutboxRow.created_at, OutboxRow.sent_at)
                .join(CaseRow, CaseRow.id == OutboxRow.case_pk, isouter=True))
        if status:
            stmt = stmt.where(OutboxRow.status == status)
        total = _count(self.session, stmt)
        rows = self.session.execute(stmt.order_by(OutboxRow.id.desc())
                                    .offset(offset).limit(limit)).all()
        return [tuple(r) for r in rows], total

    def quarantine(self, *, offset: int = 0, limit: int = 50,
                   ) -> tuple[list[tuple[Any, ...]], int]:
        """(id, received_at, source, reason, message_id, sender, subject, size), newest
        first, and the total; the bytes stay in the table."""
        q = QuarantineRow
        stmt = select(q.id, q.received_at, q.source, q.reason, q.message_id, q.sender,
                      q.subject, func.length(q.raw))
        total = _count(self.session, stmt)
        rows = self.session.execute(stmt.order_by(q.id.desc()).offset(offset)
                                    .limit(limit)).all()
        return [tuple(r) for r in rows], total
