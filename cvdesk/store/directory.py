"""The contact directory: organizations and the ways to reach them (guide 4.2; 6.1).

Organizations are known by a key, the name trimmed and lowercased, so "  ACME " in a
report and "acme" typed at the desk are one organization.  ``upsert_organization`` is
the only code that creates one: contact discovery, manual entry, import and the case
projection (a participant's organization) all go through it, so they cannot disagree
on what counts as the same organization.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import ContactKind, ContactSource
from cvdesk.store.tables import ContactRow, OrganizationRow
from cvdesk.store.types import without_nul
from cvdesk.store.upsert import insert_or_ignore


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


@dataclass(frozen=True, slots=True)
class OrganizationFacts:
    """What one caller knows of an organization: its name as given, and contacts to add."""

    name: str
    website: str | None = None
    emails: Sequence[str] = ()
    phones: Sequence[str] = ()


def _chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """IN lists of bounded length (SQLite limits the parameters of one statement)."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


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
        check time say more than this call does).  One organization of
        ``upsert_organizations``, which holds the code."""
        return self.upsert_organizations(
            [OrganizationFacts(name, website, tuple(emails), tuple(phones))],
            source=source, now=now)[0]

    def upsert_organizations(self, facts: Sequence[OrganizationFacts], *,
                             source: ContactSource = ContactSource.MANUAL,
                             now: datetime | None = None) -> list[int]:
        """``upsert_organization`` for many at once, with the same result as calling it for
        each in turn (the first spelling of a new key names it), in a few statements per
        500 organizations: a report naming thousands of vendors must not cost a round trip
        per vendor."""
        # Keys and contacts as the database holds them (a NUL comes back as U+FFFD), so that
        # what is read back matches what was asked for.
        keys = [without_nul(organization_key(f.name)) for f in facts]
        if not all(keys):
            raise InvalidInput("organization", "must not be empty")
        when = now or datetime.now(UTC)
        s, orgs, contacts = self.session, OrganizationRow.__table__, ContactRow.__table__
        wanted = sorted(set(keys))
        # ORM-enabled selects, so rows the session still holds pending are flushed first.
        ids: dict[str, int] = {}
        websites: dict[str, str] = {}
        for chunk in _chunks(wanted):
            for oid, key, site in s.execute(select(
                    OrganizationRow.id, OrganizationRow.name_key, OrganizationRow.website)
                    .where(OrganizationRow.name_key.in_(chunk))):
                ids[key], websites[key] = oid, site
        known = set(ids)  # organizations there before this call
        created: dict[str, dict[str, Any]] = {}
        for f, key in zip(facts, keys, strict=True):
            if key in ids:
                if f.website and not websites[key]:
                    websites[key] = f.website
                    org = s.get(OrganizationRow, ids[key])
                    assert org is not None
                    org.website = f.website
            elif key not in created:
                created[key] = {"name": f.name.strip(), "name_key": key,
                                "website": f.website or "", "created_at": when}
            elif f.website and not created[key]["website"]:
                created[key]["website"] = f.website
        if created:
            # A key another transaction added meanwhile is skipped here, then read.
            ids.update((key, oid) for oid, key in s.execute(
                insert_or_ignore(s, orgs).returning(orgs.c.id, orgs.c.name_key),
                list(created.values())))
            for chunk in _chunks(sorted(k for k in created if k not in ids)):
                ids.update((key, oid) for oid, key in s.execute(
                    select(orgs.c.id, orgs.c.name_key).where(orgs.c.name_key.in_(chunk))))
        asked = [(ids[key], kind.value, value) for f, key in zip(facts, keys, strict=True)
                 for kind, values in ((ContactKind.EMAIL, f.emails),
                                      (ContactKind.PHONE, f.phones))
                 for value in map(without_nul, values) if value]
        # Only the contacts asked about, of organizations that were there before: an
        # import adds one contact at a time to organizations that may hold thousands.
        have: set[tuple[int, str, str]] = set()
        before = {ids[k] for k in known}
        for chunk in _chunks(sorted({c for c in asked if c[0] in before})):
            have.update(s.execute(select(ContactRow.organization_id, ContactRow.kind,
                                         ContactRow.value)
                                  .where(ContactRow.organization_id.in_(
                                      sorted({c[0] for c in chunk})),
                                      ContactRow.value.in_(sorted({c[2] for c in chunk})))))
        new: list[dict[str, Any]] = []
        for contact in asked:
            if contact not in have:
                have.add(contact)
                new.append({"organization_id": contact[0], "kind": contact[1],
                            "value": contact[2], "source": source.value, "created_at": when})
        if new:  # a contact another transaction added meanwhile is skipped
            s.execute(insert_or_ignore(s, contacts), new)
        return [ids[key] for key in keys]

    def add_contact(self, organization_id: int, kind: ContactKind, value: str,
                    source: ContactSource, *, verified_at: datetime | None = None,
                    details: dict[str, Any] | None = None,
                    now: datetime | None = None) -> bool:
        """Record one contact; True when it is new.  A contact already known takes the new
        source, details and check time, except from a guess (fallback): a guess never
        replaces what the directory already knows."""
        row = self._contact(organization_id, kind, value)
        if row is None:
            added = self.session.execute(
                insert_or_ignore(self.session, ContactRow.__table__).values(
                    organization_id=organization_id, kind=kind.value, value=value,
                    source=source.value, details=details, verified_at=verified_at,
                    created_at=now or datetime.now(UTC))
                .returning(ContactRow.__table__.c.id)).first()
            if added is not None:
                return True
            # Another transaction added it meanwhile: it is known now.
            row = self._contact(organization_id, kind, value)
            assert row is not None
        if source is ContactSource.FALLBACK:
            return False
        row.source = source.value
        if details is not None:
            row.details = details
        if verified_at is not None:
            row.verified_at = verified_at
        return False

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
