"""Finding vendor contacts (guide 4.2; 6.1): security.txt discovery into the directory."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from cvdesk.channels.fetch import FetchPolicy
from cvdesk.channels.securitytxt import SecurityTxt, discover, provider_metadata, validate
from cvdesk.domain.errors import InvalidInput
from cvdesk.services.cases import utcnow
from cvdesk.settings import Settings
from cvdesk.store.db import Database
from cvdesk.store.tables import ContactRow, OrganizationRow

__all__ = ["ContactService", "Discovery", "SecurityTxt", "check_securitytxt", "normalize_host"]

_HOST = re.compile(r"^(?=.{1,253}(:\d{1,5})?$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*"
                   r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(:\d{1,5})?$|^\d{1,3}(\.\d{1,3}){3}"
                   r"(:\d{1,5})?$")


@dataclass(frozen=True)
class Discovery:
    host: str
    organization: str
    security_txt: SecurityTxt
    csaf: dict[str, Any] | None
    stored: list[tuple[str, str]]  # (kind, value) recorded in the directory


def normalize_host(value: str) -> str:
    """'Example.org', 'https://example.org/x' -> 'example.org' (a port is kept)."""
    text = value.strip().lower()
    text = re.sub(r"^https?://", "", text).split("/")[0]
    try:
        if not text.isascii():  # an internationalized name: its A-label form
            text = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidInput("DOMAIN", f"'{value}' is not a domain name") from None
    if not _HOST.match(text):
        raise InvalidInput("DOMAIN", f"'{value}' is not a domain name")
    return text


def contact_entries(found: SecurityTxt, csaf: dict[str, Any] | None,
                    ) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(kind, value, details) for the directory, from a security.txt and CSAF metadata."""
    entries: list[tuple[str, str, dict[str, Any] | None]] = []
    for value in found.contacts:
        if value.lower().startswith("mailto:"):
            entries.append(("email", value[7:], None))
        elif value.lower().startswith("tel:"):
            entries.append(("phone", value[4:], None))
        else:
            entries.append(("web-form", value, None))
    entries += [("pgp-key", v, None) for v in found.fields.get("encryption", [])]
    entries += [("policy", v, None) for v in found.fields.get("policy", [])]
    if csaf and "name" in csaf:
        entries.append(("csaf-provider", csaf["url"], {k: csaf[k] for k in (
            "name", "namespace", "category")}))
    return entries


def check_securitytxt(content: bytes, *, urls: list[str] | None = None,
                      keys: list[str] | None = None) -> SecurityTxt:
    """Validate a security.txt that is already at hand (no network)."""
    return validate(content, urls=urls, keys=keys)


class ContactService:
    def __init__(self, db: Database, settings: Settings,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock

    @property
    def fetch_policy(self) -> FetchPolicy:
        f = self.settings.fetch
        return FetchPolicy(allow_loopback=f.allow_loopback, timeout_seconds=f.timeout_seconds,
                           max_bytes=f.max_bytes, max_redirects=f.max_redirects,
                           ca_bundle=f.ca_bundle)

    def discover(self, domain: str, organization: str | None = None) -> Discovery:
        host = normalize_host(domain)
        found = discover(host, self.fetch_policy)
        csaf = provider_metadata(host, self.fetch_policy)
        name = (organization or host.split(":")[0]).strip()
        entries = contact_entries(found, csaf)
        if not found.url and not csaf:
            return Discovery(host, name, found, csaf, [])  # nothing found: nothing to store
        now = self.clock()
        with self.db.transaction() as session:
            org = _organization(session, name, now, website=f"https://{host}")
            for kind, value, details in entries:
                row = session.scalar(select(ContactRow).where(
                    ContactRow.organization_id == org.id, ContactRow.kind == kind,
                    ContactRow.value == value))
                if row is None:
                    row = ContactRow(organization_id=org.id, kind=kind, value=value,
                                     source="security.txt", created_at=now)
                    session.add(row)
                row.source = "security.txt"
                row.details = details
                # A contact counts as verified only when the file that lists it is valid.
                row.verified_at = now if found.valid else row.verified_at
        return Discovery(host, name, found, csaf, [(k, v) for k, v, _ in entries])

    def directory(self, organization: str | None = None,
                  ) -> Sequence[tuple[OrganizationRow, ContactRow]]:
        with self.db.sessions() as session:
            stmt = (select(OrganizationRow, ContactRow)
                    .join(ContactRow, ContactRow.organization_id == OrganizationRow.id)
                    .order_by(OrganizationRow.name, ContactRow.kind, ContactRow.value))
            if organization:
                stmt = stmt.where(OrganizationRow.name_key == organization.strip().lower())
            return [(o, c) for o, c in session.execute(stmt)]


def _organization(session: Any, name: str, now: datetime, website: str = "") -> OrganizationRow:
    key = name.lower()
    org = session.scalar(select(OrganizationRow).where(OrganizationRow.name_key == key))
    if org is None:
        org = OrganizationRow(name=name, name_key=key, website=website, created_at=now)
        session.add(org)
        session.flush()
    return org
