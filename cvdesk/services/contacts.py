"""Finding vendor contacts (guide 4.2; 6.1): security.txt discovery, manual entries, import
and export of the contact directory.  The SQL lives in cvdesk/store/directory.py."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cvdesk.channels.fetch import Deadline, FetchPolicy
from cvdesk.channels.openpgp import OpenPGPError
from cvdesk.channels.openpgp_keys import MAX_KEY_CHARS as KEY_MAX_CHARS
from cvdesk.channels.openpgp_keys import check_public_key
from cvdesk.channels.securitytxt import MAX_BYTES as SECURITY_TXT_MAX_BYTES
from cvdesk.channels.securitytxt import SecurityTxt, discover, provider_metadata, validate
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import ContactKind, ContactSource, check_contact
from cvdesk.domain.safetext import json_text, parse_json
from cvdesk.services.cases import utcnow
from cvdesk.services.progress import Progress, quiet
from cvdesk.settings import Settings
from cvdesk.store.db import Database
from cvdesk.store.directory import DirectoryEntry, DirectoryRepository
from cvdesk.store.files import write_private

__all__ = [
    "KEY_MAX_CHARS",
    "SECURITY_TXT_MAX_BYTES",
    "ContactService",
    "DirectoryEntry",
    "Discovery",
    "ImportProblems",
    "Imported",
    "SecurityTxt",
    "check_securitytxt",
    "fallbacks",
    "normalize_host",
    "read_directory_file",
]

_HOST = re.compile(r"^(?=.{1,253}(:\d{1,5})?$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*"
                   r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(:\d{1,5})?$|^\d{1,3}(\.\d{1,3}){3}"
                   r"(:\d{1,5})?$")


@dataclass(frozen=True, slots=True)
class Imported:
    """What an import did: rows read, contacts that were new."""

    rows: int
    added: int

    def to_json(self) -> dict[str, int]:
        return {"rows": self.rows, "added": self.added}


#: The largest directory file read (about a quarter of a million contacts).
MAX_DIRECTORY_BYTES = 50 * 2**20


def read_directory_file(path: Path) -> list[dict[str, Any]]:
    """The rows of a .csv or .json directory file; the file's problems name the file."""
    field = "contacts file"
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise InvalidInput(field, f"{path}: use a .csv or .json file")
    try:
        with path.open("rb") as handle:  # no more than the limit is read, whatever the size
            raw = handle.read(MAX_DIRECTORY_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(field, f"{path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_DIRECTORY_BYTES:
        raise InvalidInput(field, f"{path}: larger than "
                           f"{MAX_DIRECTORY_BYTES // 2**20} MB; split it")
    try:  # a spreadsheet's byte-order mark is not part of the first column's name
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(field, f"{path}: not UTF-8 text") from None
    if suffix == ".csv":
        # strict: a quote left open, or text after a closing quote, is an error rather
        # than a cell that runs on to the end of the file
        reader = csv.DictReader(io.StringIO(text), strict=True)
        try:
            return [{name: csv_value(cell) for name, cell in row.items()} for row in reader]
        except csv.Error as exc:  # that, or a cell longer than csv's limit (128 KiB)
            raise InvalidInput(field, f"{path}: line {reader.reader.line_num}: not readable as "
                               f"CSV ({exc})") from None
    if suffix == ".json":
        try:
            rows = parse_json(text)
        except ValueError as exc:
            raise InvalidInput(field, f"{path}: invalid JSON ({exc})") from None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InvalidInput(field, f"{path}: expected a JSON list of objects")
        return rows
    raise AssertionError(suffix)  # the suffix was checked first


@dataclass(frozen=True)
class Discovery:
    host: str
    organization: str
    security_txt: SecurityTxt
    csaf: dict[str, Any] | None
    stored: list[tuple[str, str]]  # (kind, value) recorded in the directory

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "organization": self.organization,
                "security_txt": self.security_txt.to_json(), "csaf": self.csaf,
                "stored": [{"kind": k, "value": v} for k, v in self.stored]}


def normalize_host(value: str) -> str:
    """'Example.org', 'https://example.org/x' -> 'example.org' (a port is kept)."""
    text = value.strip().lower()
    text = re.sub(r"^https?://", "", text).split("/")[0]
    try:
        if not text.isascii():  # an internationalized name: its A-label form
            text = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidInput("domain", f"'{value}' is not a domain name") from None
    if not _HOST.fullmatch(text):
        raise InvalidInput("domain", f"'{value}' is not a domain name")
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

#: A spreadsheet reads a cell that starts with one of these as a formula (CSV injection,
#: CWE-1236), and the directory holds names and addresses from strangers (a vendor named
#: in a report, a security.txt).  Such a cell is exported with an apostrophe in front,
#: which spreadsheets hide and import takes off again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str) -> str:
    """A value as the CSV export writes it (one more apostrophe in front when what follows
    its apostrophes would start a formula, so that ``csv_value`` gives it back exactly)."""
    return "'" + value if value.lstrip("'").startswith(_FORMULA_START) else value


def csv_value(cell: Any) -> Any:
    """A cell of an imported CSV file as the value ``csv_cell`` was given."""
    if isinstance(cell, str) and cell[:1] == "'" and cell.lstrip("'").startswith(
            _FORMULA_START):
        return cell[1:]
    return cell


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
        name = (organization or "").strip() or host.split(":")[0]
        entries = contact_entries(found, csaf)
        if not found.url and not csaf:
            return Discovery(host, name, found, csaf, [])  # nothing found: nothing to store
        now = self.clock()
        with self.db.transaction() as session:
            repo = DirectoryRepository(session)
            org = repo.upsert_organization(name, website=f"https://{host}", now=now)
            for kind, value, details in entries:
                # A contact counts as verified only when the file that lists it is valid.
                repo.add_contact(org, ContactKind(kind), value, ContactSource.SECURITY_TXT,
                                 verified_at=now if found.valid else None, details=details,
                                 now=now)
        return Discovery(host, name, found, csaf, [(k, v) for k, v, _ in entries])

    def add(self, organization: str, kind: ContactKind, value: str, *,
            source: ContactSource = ContactSource.MANUAL, verified: bool = False,
            details: dict[str, Any] | None = None) -> bool:
        """Add one contact; False when the organization already had it."""
        value = check_contact(kind, value)
        if not organization.strip():
            raise InvalidInput("organization", "must not be empty")
        check_details(kind, details)
        now = self.clock()
        with self.db.transaction() as session:
            repo = DirectoryRepository(session)
            org = repo.upsert_organization(organization, now=now)
            return repo.add_contact(org, kind, value, source, details=details, now=now,
                                    verified_at=now if verified else None)

    def import_file(self, path: Path, *, progress: Progress = quiet) -> Imported:
        """Import a directory file (.csv or .json, the columns ``export_rows`` writes),
        all or nothing."""
        rows = read_directory_file(path)
        return Imported(len(rows), self.import_rows(rows, str(path), progress=progress))

    def import_rows(self, rows: list[dict[str, Any]], source_name: str, *,
                    progress: Progress = quiet) -> int:
        """Import directory rows (all or nothing); every bad row is named with its problem."""
        problems: list[str] = []
        clean: list[DirectoryEntry] = []
        for n, row in enumerate(rows, start=1):
            try:
                clean.append(_import_row(row))
            except InvalidInput as exc:
                problems.append(f"row {n}: {exc}")
        if problems:
            raise ImportProblems(source_name, problems)
        with self.db.transaction() as session:
            return DirectoryRepository(session).import_entries(clean, now=self.clock(),
                                                               progress=progress)

    def export_rows(self) -> list[dict[str, Any]]:
        """The directory in the import format: the columns ``import_rows`` reads, with no
        nulls (an empty check time and empty details), so a CSV cell is never 'None'."""
        return [{"organization": e.organization, "kind": e.kind, "value": e.value,
                 "source": e.source,
                 "verified_at": e.verified_at.isoformat() if e.verified_at else "",
                 "details": e.details or {}} for e in self.directory()]

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
                writer.writerow({name: csv_cell(value) for name, value in {
                    **row, "details": json.dumps(row["details"]) if row["details"] else ""
                }.items()})
            return buffer.getvalue(), len(rows)
        raise InvalidInput("format", f"'{fmt}' is not one of {', '.join(EXPORT_FORMATS)}")

    def export_file(self, path: Path, fmt: str) -> int:
        """Write the export to ``path`` readable by its owner only (0600: the directory
        names people); the number of contacts written."""
        text, count = self.export_text(fmt)
        try:
            write_private(path, text)
        except OSError as exc:
            raise InvalidInput("output file", f"{path}: {exc.strerror or exc}") from None
        return count

    def directory(self, organization: str | None = None) -> list[DirectoryEntry]:
        """The contacts of every organization, or of one (its name in any case, spaces
        around it ignored)."""
        with self.db.sessions() as session:
            return DirectoryRepository(session).entries(organization)


class ImportProblems(InvalidInput):
    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(source, f"{len(problems)} bad row(s), nothing imported\n  "
                         + "\n  ".join(problems))


def _import_row(row: dict[str, Any]) -> DirectoryEntry:
    known = {"organization", "kind", "value", "source", "verified_at", "details"}
    if None in row:  # csv.DictReader keeps the cells past the header's last column there
        raise InvalidInput("columns", f"{len(row[None])} more cell(s) than the header "
                           "names; quote a cell that holds a comma")
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
            details = parse_json(details) if details.strip() else None
        except ValueError as exc:
            raise InvalidInput("details", f"not JSON ({exc})") from None
    if details is not None and not isinstance(details, dict):
        raise InvalidInput("details", "must be a JSON object")
    check_details(kind, details)
    return DirectoryEntry(org, kind, value, source, verified_at, details)


def check_details(kind: ContactKind, details: dict[str, Any] | None) -> None:
    """A `pgp-key` contact's armoured key (``details.armored``), which the desk encrypts
    mail to the organization with, must be a public key that a message can be encrypted
    to; it is kept as given.  Checked when it is filed, so that a notice to many vendors
    is not stopped later by one damaged key."""
    armored = (details or {}).get("armored")
    if kind is not ContactKind.PGP_KEY or armored is None:
        return
    if not isinstance(armored, str):
        raise InvalidInput("details.armored", "must be the armoured key as text")
    try:
        check_public_key(armored)
    except OpenPGPError as exc:
        raise InvalidInput("details.armored", f"not a usable OpenPGP public key ({exc})"
                           ) from None


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
