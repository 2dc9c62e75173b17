"""Finding vendor contacts (guide 4.2; 6.1): security.txt discovery into the directory."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cvdesk.channels.fetch import Deadline, FetchPolicy
from cvdesk.channels.securitytxt import SecurityTxt, discover, provider_metadata, validate
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import ContactKind, ContactSource, check_contact
from cvdesk.domain.safetext import json_text
from cvdesk.services.cases import utcnow
from cvdesk.settings import Settings
from cvdesk.store.db import Database
from cvdesk.store.files import write_private
from cvdesk.store.tables import ContactRow, OrganizationRow

__all__ = ["ContactService", "Discovery", "ImportProblems", "SecurityTxt", "check_securitytxt",
           "fallbacks", "normalize_host"]

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


EXPORT_FORMATS = ("json", "csv")
EXPORT_COLUMNS = ["organization", "kind", "value", "source", "verified_at", "details"]


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
                           ca_bundle=f.ca_bundle, discovery_seconds=f.discovery_seconds)

    def discover(self, domain: str, organization: str | None = None) -> Discovery:
        """Look for the vendor's security.txt and CSAF provider metadata.

        One deadline (``[fetch] discovery_seconds``) covers it all: a slow or hostile
        server can delay the desk by that much, however many fetches it answers."""
        host = normalize_host(domain)
        policy = self.fetch_policy
        deadline = Deadline(policy.discovery_seconds, "discovery")
        found = discover(host, policy, deadline)
        csaf = provider_metadata(host, policy, deadline)
        name = (organization or host.split(":")[0]).strip()
        entries = contact_entries(found, csaf)
        if not found.url and not csaf:
            return Discovery(host, name, found, csaf, [])  # nothing found: nothing to store
        now = self.clock()
        with self.db.transaction() as session:
            org = _organization(session, name, now, website=f"https://{host}")
            for kind, value, details in entries:
                # A contact counts as verified only when the file that lists it is valid.
                _upsert(session, org, ContactKind(kind), value, ContactSource.SECURITY_TXT,
                        now if found.valid else None, details, now)
        return Discovery(host, name, found, csaf, [(k, v) for k, v, _ in entries])

    def add(self, organization: str, kind: ContactKind, value: str, *,
            source: ContactSource = ContactSource.MANUAL, verified: bool = False,
            details: dict[str, Any] | None = None) -> bool:
        """Add one contact; False when the organization already had it."""
        value = check_contact(kind, value)
        if not organization.strip():
            raise InvalidInput("organization", "must not be empty")
        now = self.clock()
        with self.db.transaction() as session:
            return _upsert(session, _organization(session, organization.strip(), now), kind,
                           value, source, now if verified else None, details, now)

    def import_rows(self, rows: list[dict[str, Any]], source_name: str) -> int:
        """Import directory rows (all or nothing); every bad row is named with its problem."""
        problems: list[str] = []
        clean: list[tuple[str, ContactKind, str, ContactSource, datetime | None,
                          dict[str, Any] | None]] = []
        for n, row in enumerate(rows, start=1):
            try:
                clean.append(_import_row(row))
            except InvalidInput as exc:
                problems.append(f"row {n}: {exc}")
        if problems:
            raise ImportProblems(source_name, problems)
        now = self.clock()
        added = 0
        with self.db.transaction() as session:
            for org_name, kind, value, source, verified_at, details in clean:
                org = _organization(session, org_name, now)
                added += _upsert(session, org, kind, value, source, verified_at, details, now)
        return added

    def export_rows(self) -> list[dict[str, Any]]:
        return [{"organization": o.name, "kind": c.kind, "value": c.value, "source": c.source,
                 "verified_at": c.verified_at.isoformat() if c.verified_at else "",
                 "details": c.details or {}} for o, c in self.directory()]

    def export_text(self, fmt: str) -> tuple[str, int]:
        """The whole directory as JSON or CSV (the columns import reads), and how many
        contacts it holds: one export format whichever face asks."""
        rows = self.export_rows()
        if fmt == "json":
            return json_text(rows) + "\n", len(rows)  # control and bidi characters as \u
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS)
            writer.writeheader()
            for row in rows:
                writer.writerow({**row, "details": json.dumps(row["details"]) if row["details"]
                                 else ""})
            return buffer.getvalue(), len(rows)
        raise InvalidInput("format", f"'{fmt}' is not one of {', '.join(EXPORT_FORMATS)}")

    def export_file(self, path: Path, fmt: str) -> int:
        """Write the export to ``path`` readable by its owner only (0600: the directory
        names people); the number of contacts written."""
        text, count = self.export_text(fmt)
        write_private(path, text)
        return count

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


class ImportProblems(InvalidInput):
    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(source, f"{len(problems)} bad row(s), nothing imported\n  "
                         + "\n  ".join(problems))


def _import_row(row: dict[str, Any]) -> tuple[str, ContactKind, str, ContactSource,
                                              datetime | None, dict[str, Any] | None]:
    known = {"organization", "kind", "value", "source", "verified_at", "details"}
    extra = set(row) - known
    if extra:
        raise InvalidInput(sorted(extra)[0], "unknown column")
    org = str(row.get("organization") or "").strip()
    if not org:
        raise InvalidInput("organization", "must not be empty")
    try:
        kind = ContactKind(str(row.get("kind", "")).strip())
    except ValueError:
        raise InvalidInput("kind", f"'{row.get('kind')}' is not one of "
                           f"{', '.join(k.value for k in ContactKind)}") from None
    value = check_contact(kind, str(row.get("value") or ""))
    try:
        source = ContactSource(str(row.get("source") or "import").strip())
    except ValueError:
        raise InvalidInput("source", f"'{row.get('source')}' is not one of "
                           f"{', '.join(k.value for k in ContactSource)}") from None
    verified = str(row.get("verified_at") or "").strip()
    verified_at = None
    if verified:
        try:
            verified_at = datetime.fromisoformat(verified)
        except ValueError:
            raise InvalidInput("verified_at", f"'{verified}' is not an ISO 8601 time") from None
        if verified_at.tzinfo is None:
            raise InvalidInput("verified_at", "needs a time zone")
    details = row.get("details") or None
    if isinstance(details, str):
        try:
            details = json.loads(details) if details.strip() else None
        except ValueError:
            raise InvalidInput("details", "not JSON") from None
    if details is not None and not isinstance(details, dict):
        raise InvalidInput("details", "must be a JSON object")
    return org, kind, value, source, verified_at, details


def _upsert(session: Any, org: OrganizationRow, kind: ContactKind, value: str,
            source: ContactSource, verified_at: datetime | None,
            details: dict[str, Any] | None, now: datetime) -> bool:
    row = session.scalar(select(ContactRow).where(
        ContactRow.organization_id == org.id, ContactRow.kind == kind.value,
        ContactRow.value == value))
    created = row is None
    if row is None:
        row = ContactRow(organization_id=org.id, kind=kind.value, value=value,
                         source=source.value, created_at=now)
        session.add(row)
    elif source is ContactSource.FALLBACK:
        return False  # a guess never replaces what the directory already knows
    row.source = source.value
    if details is not None:
        row.details = details
    if verified_at is not None:
        row.verified_at = verified_at
    return created


def fallbacks(host: str) -> list[dict[str, str]]:
    """Channels worth trying when no security.txt lists a contact (guide 4.2; 6.1).
    Guesses, marked unverified: log every attempt and its outcome."""
    domain = host.split(":")[0]
    return [
        {"kind": "email", "value": f"security@{domain}", "why": "common security alias"},
        {"kind": "email", "value": f"psirt@{domain}", "why": "common PSIRT alias"},
        {"kind": "email", "value": f"secure@{domain}", "why": "alias some vendors use"},
        {"kind": "url", "value": f"https://{host}/security", "why": "security page"},
        {"kind": "url", "value": f"https://{host}/.well-known/csaf/provider-metadata.json",
         "why": "CSAF provider metadata names the publisher and its contact"},
        {"kind": "platform", "value": "bug-bounty platforms",
         "why": "look for the vendor's programme on the platforms it might use"},
        {"kind": "platform", "value": "project repository security policy",
         "why": "SECURITY.md or a private vulnerability reporting form; or an issue asking "
                "how to report, without details"},
        {"kind": "platform", "value": "FIRST team directory and the CVE CNA list",
         "why": "the vendor's PSIRT may be listed"},
        {"kind": "platform", "value": "coordinator hand-off",
         "why": "a coordinator (cvdesk coordinator list) can reach vendors you cannot"},
    ]
