"""Inbound mail's SQL: finding the case and participant a message belongs to, telling a
redelivery from a different message under a known Message-ID, storing attachments, and
the quarantine (mail that could not be filed, kept whole with the reason).

Also here: how a failed write is judged, since that depends on the database driver's
errors.  A passing failure (the connection, a lock, a serialization conflict) is worth
trying again later; anything else would fail the same way every time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from cvdesk.domain.events import EventType
from cvdesk.store.cases import ConcurrentUpdate
from cvdesk.store.tables import (
    AttachmentRow,
    CaseRow,
    ContactRow,
    EventRow,
    MessageRow,
    OrganizationRow,
    OutboxRow,
    QuarantineRow,
)

#: PostgreSQL error classes that pass: connection (08), rollback (40), resources (53),
#: operator intervention (57), system (58).  Others (bad data, limits) repeat forever.
_TRANSIENT_CLASSES = frozenset({"08", "40", "53", "57", "58"})


@dataclass(frozen=True)
class FiledMessage:
    """Where a Message-ID is already on file."""

    direction: str
    participant: int | None
    case_pk: int
    case_id: str


@dataclass(frozen=True)
class OutboxHit:
    """One of our own messages that a reply refers to."""

    case_id: str
    participant: int | None
    recipient: str


class InboundRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------ matching
    def filed(self, message_id: str) -> FiledMessage | None:
        row = self.session.execute(
            select(MessageRow.direction, MessageRow.participant, MessageRow.case_pk,
                   CaseRow.case_id)
            .join(CaseRow, CaseRow.id == MessageRow.case_pk)
            .where(MessageRow.message_id == message_id)).first()
        return FiledMessage(*row) if row is not None else None

    def message_entries(self, case_pk: int, participant: int | None,
                        ) -> list[tuple[str, dict[str, Any]]]:
        """(actor, data) of the message events logged for this participant of the case
        (or for nobody on it), to compare a second copy with the first."""
        who = (EventRow.participant == participant if participant is not None
               else EventRow.participant.is_(None))
        return [(actor, data) for actor, data in self.session.execute(
            select(EventRow.actor, EventRow.data).where(
                EventRow.case_pk == case_pk, EventRow.type == EventType.MESSAGE.value, who))]

    def sent_message(self, message_id: str) -> OutboxHit | None:
        """The outbox message with this Message-ID, with its case and recipient."""
        row = self.session.execute(
            select(CaseRow.case_id, OutboxRow.participant, OutboxRow.recipient)
            .join(CaseRow, CaseRow.id == OutboxRow.case_pk)
            .where(OutboxRow.message_id == message_id)).first()
        return OutboxHit(*row) if row is not None else None

    def case_exists(self, case_id: str) -> bool:
        return self.session.scalar(select(CaseRow.id).where(CaseRow.case_id == case_id)
                                   ) is not None

    def address_owners(self, address: str) -> list[str]:
        """Keys of the directory's organizations that have this e-mail address."""
        return list(self.session.scalars(select(OrganizationRow.name_key).join(
            ContactRow, ContactRow.organization_id == OrganizationRow.id)
            .where(ContactRow.kind == "email", ContactRow.value == address)))

    # ------------------------------------------------------------ filing
    def add_attachments(self, case_pk: int, message_id: str,
                        files: Iterable[tuple[str, str, bytes]]) -> None:
        """Store (filename, content type, bytes) of a filed message, with their digests."""
        self.session.add_all(
            AttachmentRow(case_pk=case_pk, message_id=message_id, filename=name,
                          content_type=content_type, size=len(data),
                          sha256=hashlib.sha256(data).hexdigest(), data=data)
            for name, content_type, data in files)

    # ------------------------------------------------------------ quarantine
    def quarantine(self, *, received_at: datetime, source: str, reason: str, raw: bytes,
                   message_id: str = "", sender: str = "", subject: str = "") -> None:
        self.session.execute(insert(QuarantineRow).values(
            received_at=received_at, source=source, reason=reason, raw=raw,
            message_id=message_id, sender=sender, subject=subject, released=False))

    def quarantined(self, *, with_raw: bool) -> list[tuple[Any, ...]]:
        """(id, received_at, source, reason, message_id, sender, subject, size) oldest
        first, and the bytes themselves last when ``with_raw``."""
        q = QuarantineRow
        columns: list[Any] = [q.id, q.received_at, q.source, q.reason, q.message_id,
                              q.sender, q.subject, func.length(q.raw)]
        if with_raw:
            columns.append(q.raw)
        return [tuple(r) for r in self.session.execute(select(*columns).order_by(q.id))]


def write_race(exc: BaseException) -> bool:
    """Whether another writer got there first: the case changed since it was read, or a
    row this write adds (the same message) was added meanwhile.  Looking again settles it."""
    return isinstance(exc, ConcurrentUpdate | IntegrityError)


def transient(exc: BaseException) -> bool:
    """Whether trying again later can succeed (the database, not the message, failed)."""
    if isinstance(exc, DisconnectionError | PoolTimeout | ConcurrentUpdate):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        state = getattr(exc.orig, "sqlstate", None)
        if isinstance(state, str) and state:
            return state[:2] in _TRANSIENT_CLASSES
        return isinstance(exc, OperationalError | InterfaceError)
    return False


def failure(exc: BaseException) -> str:
    """A failed write in one line: the driver's own message, not SQLAlchemy's wrapping."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__
