"""The contact directory: organizations and the ways to reach them (guide 4.2; 6.1).

Organizations are known by a key, the name trimmed and lowercased, so "  ACME " in a
report and "acme" typed at the desk are one organization.  ``upsert_organization`` is
the only code that creates one: contact discovery, manual entry, import and the case
projection (a participant's organization) all go through it, so they cannot disagree
on what counts as the same organization.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import ContactKind, ContactSource
from cvdesk.store.tables import ContactRow, OrganizationRow


@dataclass(frozen=True)
class DirectoryEntry:
    """One contact of one organization, as the directory holds it (or as it is to be
    imported: the import path builds the same value before it is stored)."""

    organization: str
    kind: str
    value: str
    source: str
    verified_at: datetime | None = None
    details: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"organization": self.organization, "kind": str(self.kind),
                "value": self.value, "source": str(self.source),
                "verified_at": self.verified_at.isoformat() if self.verified_at else None,
                "details": self.details}


def organization_key(name: str) -> str:
    """The key two spellings of one organization share: trimmed, lowercased."""
    return name.strip().lower()


class DirectoryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert_organization(self, name: str, *, website: str | None = None,
                            emails: Iterable[str] = (), phones: Iterable[str] = (),
                            source: ContactSource = ContactSource.MANUAL,
                            now: datetime | None = None) -> int:
        """The organization's id, created when its key is new.  A website fills an empty
        one; e-mail addresses and phone numbers are added when the organization does not
        have them yet, and a contact it already has is left as it is (its source and
        check time say more than this call does)."""
        key = organization_key(name)
        if not key:
            raise InvalidInput("organization", "must not be empty")
        when = now or datetime.now(UTC)
        s = self.session
        org = s.scalar(select(OrganizationRow).where(OrganizationRow.name_key == key))
        if org is None:
            org = OrganizationRow(name=name.strip(), name_key=key, website=website or "",
                                  created_at=when)
            s.add(org)
            s.flush()
        elif website and not org.website:
            org.website = website
        for kind, values in ((ContactKind.EMAIL, emails), (ContactKind.PHONE, phones)):
            for value in values:
                if value and self._contact(org.id, kind, value) is None:
                    s.add(ContactRow(organization_id=org.id, kind=kind.value, value=value,
                                     source=source.value, created_at=when))
        return org.id

    def add_contact(self, organization_id: int, kind: ContactKind, value: str,
                    source: ContactSource, *, verified_at: datetime | None = None,
                    details: dict[str, Any] | None = None,
                    now: datetime | None = None) -> bool:
        """Record one contact; True when it is new.  A contact already known takes the new
        source, details and check time, except from a guess (fallback): a guess never
        replaces what the directory already knows."""
        row = self._contact(organization_id, kind, value)
        created = row is None
        if row is None:
            row = ContactRow(organization_id=organization_id, kind=kind.value, value=value,
                             source=source.value, created_at=now or datetime.now(UTC))
            self.session.add(row)
        elif source is ContactSource.FALLBACK:
            return False
        row.source = source.value
        if details is not None:
            row.details = details
        if verified_at is not None:
            row.verified_at = verified_at
        return created

    def import_entries(self, entries: Sequence[DirectoryEntry], *, now: datetime,
                       progress: Callable[[int, int], None] | None = None) -> int:
        """Store checked entries (the caller has refused the file if any row was bad); the
        number of contacts that are new.  ``progress`` hears (done, total) every 100 rows."""
        added = 0
        for done, e in enumerate(entries, 1):
            org = self.upsert_organization(e.organization, now=now)
            added += self.add_contact(org, ContactKind(e.kind), e.value, ContactSource(e.source),
                                      verified_at=e.verified_at, details=e.details, now=now)
            if progress is not None and (done % 100 == 0 or done == len(entries)):
                progress(done, len(entries))
        return added

    def entries(self, organization: str | None = None) -> list[DirectoryEntry]:
        """The directory, or one organization's part of it, by organization, kind, value."""
        stmt = (select(OrganizationRow.name, ContactRow)
                .join(ContactRow, ContactRow.organization_id == OrganizationRow.id)
                .order_by(OrganizationRow.name, ContactRow.kind, ContactRow.value))
        if organization:
            stmt = stmt.where(OrganizationRow.name_key == organization_key(organization))
        return [DirectoryEntry(name, c.kind, c.value, c.source, c.verified_at,
                               dict(c.details) if c.details is not None else None)
                for name, c in self.session.execute(stmt)]

    def contacts_by_key(self, keys: Iterable[str]) -> dict[str, list[DirectoryEntry]]:
        """The contacts of these organizations (by ``organization_key``), oldest first:
        one query per 500 organizations, so notifying many vendors costs few queries."""
        found: dict[str, list[DirectoryEntry]] = {}
        wanted = sorted(set(keys))
        c = ContactRow
        for i in range(0, len(wanted), 500):
            rows = self.session.execute(
                select(OrganizationRow.name_key, OrganizationRow.name, c.kind, c.value,
                       c.source, c.verified_at, c.details)
                .join(OrganizationRow, OrganizationRow.id == c.organization_id)
                .where(OrganizationRow.name_key.in_(wanted[i:i + 500]))
                .order_by(c.id))
            for key, *entry in rows:
                found.setdefault(key, []).append(DirectoryEntry(*entry))
        return found

    def _contact(self, organization_id: int, kind: ContactKind, value: str,
                 ) -> ContactRow | None:
        return self.session.scalar(select(ContactRow).where(
            ContactRow.organization_id == organization_id, ContactRow.kind == kind.value,
            ContactRow.value == value))
