"""Value types of a case: roles, TLP, reports (guide appendix C), vulnerabilities, messages.

Pure data with the domain's own checks; parsing of files and wire formats lives
in the faces and in cvdesk.intake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from cvdesk.domain.errors import InvalidInput

if TYPE_CHECKING:  # advisory.py imports this module; a Score is only named here
    from cvdesk.domain.advisory import Score


class Role(StrEnum):
    FINDER = "finder"
    REPORTER = "reporter"
    VENDOR = "vendor"
    COORDINATOR = "coordinator"
    DEPLOYER = "deployer"
    OTHER = "other"


class TLP(StrEnum):
    """Traffic Light Protocol 2.0 labels."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"


class Channel(StrEnum):
    EMAIL = "email"
    WEB_FORM = "web-form"
    PHONE = "phone"
    PLATFORM = "platform"
    POST = "post"


class AttemptOutcome(StrEnum):
    SENT = "sent"
    BOUNCED = "bounced"
    ACKNOWLEDGED = "acknowledged"
    NO_REPLY = "no-reply"


class ContactKind(StrEnum):
    EMAIL = "email"
    WEB_FORM = "web-form"
    PHONE = "phone"
    PGP_KEY = "pgp-key"
    URL = "url"
    POLICY = "policy"
    CSAF_PROVIDER = "csaf-provider"
    PLATFORM = "platform"  # a bug-bounty or disclosure platform programme


class ContactSource(StrEnum):
    SECURITY_TXT = "security.txt"
    MANUAL = "manual"
    IMPORT = "import"
    REPORT = "report"
    FALLBACK = "fallback"  # a guess worth trying (security@, psirt@ ...), unverified


_PHONE_RE = re.compile(r"^\+?[0-9 ().-]{5,30}$")


def check_contact(kind: ContactKind, value: str, field_name: str = "value") -> str:
    """A contact value that fits its kind."""
    value = value.strip()
    if not value:
        raise InvalidInput(field_name, "must not be empty")
    if kind is ContactKind.EMAIL:
        return check_email(value, field_name)
    if kind is ContactKind.PHONE:
        if not _PHONE_RE.fullmatch(value):
            raise InvalidInput(field_name, f"'{value}' is not a phone number")
        return value
    if not re.match(r"^https?://[^\s/]+", value):
        raise InvalidInput(field_name, f"'{value}' is not an http(s) URL")
    return value


class SignalKind(StrEnum):
    """Things that happen around a case outside the formal models (CERT guide section 6)."""

    LEAK = "leak"  # 6.4
    MEDIA_ATTENTION = "media-attention"  # 6.8
    OUT_OF_SCOPE = "out-of-scope"  # 6.10 row 13
    FINDER_NEEDS_HANDOFF = "finder-needs-handoff"  # 6.10 row 1
    DOWNSTREAM_AFFECTED = "downstream-affected"  # 6.10 row 16
    UNKNOWN_DOWNSTREAM = "unknown-downstream"  # 6.10 row 17
    LEGAL_THREAT = "legal-threat"  # 6.7, 6.9
    HOSTILE_TONE = "hostile-tone"  # 6.7
    HYPE = "hype"  # 6.8
    POSSIBLE_DUPLICATE = "possible-duplicate"  # 6.5


#: Kinds a person may record by hand; the others also come from message analysis
#: and report matching.
OBSERVABLE = frozenset(SignalKind)


@dataclass(frozen=True)
class Signal:
    """One signal on a case: an observation someone recorded, or what a message showed."""

    kind: SignalKind
    at: datetime
    seq: int
    participant: int | None = None
    text: str = ""
    url: str = ""
    source: str = "observation"


@dataclass(frozen=True)
class Credit:
    """Someone who helped (guide 6.9 "recognize the helpers"), and whether they want it known."""

    name: str
    role: Role
    contribution: str
    public: bool
    participant: int | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInput("name", "must not be empty")
        if not self.contribution.strip():
            raise InvalidInput("contribution", "say what they did")


@dataclass(frozen=True)
class Retrospective:
    """The three questions of a retrospective (guide 6.9 "learn from it")."""

    went_well: str
    went_wrong: str
    do_differently: str

    def __post_init__(self) -> None:
        if not (self.went_well.strip() or self.went_wrong.strip()
                or self.do_differently.strip()):
            raise InvalidInput("retrospective", "answer at least one of the three questions")


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


CVE_RE = re.compile(r"^CVE-\d{4}-\d{4,}$")
CWE_RE = re.compile(r"^CWE-[1-9]\d*$")
EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
CPE23_RE = re.compile(r"^cpe:2\.3:[aho\*\-](:(((\?*|\*?)([a-zA-Z0-9\-\._]|(\\[\\\*\?!\"#$%&'\(\)\+,/:;<=>@\[\]\^`\{\|}~]))+(\?*|\*?))|[\*\-])){5}(:(([a-zA-Z]{2,3}(-([a-zA-Z]{2}|[0-9]{3}))?)|[\*\-]))(:(((\?*|\*?)([a-zA-Z0-9\-\._]|(\\[\\\*\?!\"#$%&'\(\)\+,/:;<=>@\[\]\^`\{\|}~]))+(\?*|\*?))|[\*\-])){4}$")  # noqa: E501 (the official CPE 2.3 pattern)


def check_cve(value: str, field_name: str = "cve") -> str:
    if not CVE_RE.fullmatch(value):
        raise InvalidInput(field_name, f"'{value}' is not a CVE id (CVE-YYYY-NNNN)")
    return value


def check_cwe(value: str, field_name: str = "cwe") -> str:
    if not CWE_RE.fullmatch(value):
        raise InvalidInput(field_name, f"'{value}' is not a CWE id (CWE-NNN)")
    return value


def check_email(value: str, field_name: str = "email") -> str:
    if not EMAIL_RE.fullmatch(value):  # fullmatch: "$" would let a final newline through
        raise InvalidInput(field_name, f"'{value}' is not an e-mail address")
    return value


#: Years a CVD date may fall in.  Far outside them a date is a typo (year 1, 9999), and
#: converting it between time zones or adding days to it would overflow.
YEARS = (1970, 2200)
#: The longest span in days anyone may give (snoozes, disclosure policies): 100 years.
MAX_DAYS = 36500


def check_aware(value: datetime, field_name: str) -> datetime:
    """Every instant the desk stores carries its time zone and falls within YEARS."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field_name, "time has no time zone; add one, e.g. +00:00 or Z")
    return check_year(value, field_name)


def check_year(value: datetime, field_name: str, shown: str | None = None) -> datetime:
    """``value`` if its year is within YEARS, else InvalidInput naming the field."""
    low, high = YEARS
    if not low <= value.year <= high:
        raise InvalidInput(field_name, f"'{shown or value.isoformat()}' is outside the years "
                           f"{low}-{high} that a disclosure date can fall in")
    return value


@dataclass(frozen=True)
class VersionRange:
    """One affected range, OSV-style: introduced (inclusive) up to fixed or last_affected."""

    introduced: str | None = None
    fixed: str | None = None
    last_affected: str | None = None

    def __post_init__(self) -> None:
        if self.fixed and self.last_affected:
            raise InvalidInput("versions", "give either 'fixed' or 'last_affected', not both")
        if not (self.introduced or self.fixed or self.last_affected):
            raise InvalidInput("versions", "a range needs introduced, fixed or last_affected")

    def describe(self) -> str:
        low = f">= {self.introduced}" if self.introduced else ""
        high = (f"< {self.fixed}" if self.fixed
                else f"<= {self.last_affected}" if self.last_affected else "")
        return ", ".join(p for p in (low, high) if p)


@dataclass(frozen=True)
class AffectedProduct:
    product: str
    vendor: str = ""
    versions: tuple[VersionRange, ...] = ()
    version_text: str = ""
    purl: str = ""
    cpe: str = ""

    def __post_init__(self) -> None:
        if not self.product.strip():
            raise InvalidInput("product", "must not be empty")
        if self.cpe and not CPE23_RE.fullmatch(self.cpe):
            raise InvalidInput("cpe", f"'{self.cpe}' is not a CPE 2.3 formatted string")


@dataclass(frozen=True)
class Vulnerability:
    title: str
    cve: str = ""
    cwes: tuple[str, ...] = ()
    affected: tuple[AffectedProduct, ...] = ()
    description: str = ""
    # Added in issue 10 with defaults, so vulnerabilities logged before decode unchanged:
    scores: tuple[Score, ...] = ()  # at most one per CVSS version (cvdesk.domain.scores)
    references: tuple[str, ...] = ()  # http(s) URLs

    def __post_init__(self) -> None:
        if self.cve:
            check_cve(self.cve)
        for cwe in self.cwes:
            check_cwe(cwe)


@dataclass(frozen=True)
class ReporterInfo:
    name: str
    organization: str = ""
    email: str = ""
    pgp_key: str = ""
    phone: str = ""

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInput("reporter.name", "must not be empty")
        if self.email:
            check_email(self.email, "reporter.email")


@dataclass(frozen=True)
class Report:
    """A vulnerability report with the fields of the guide's appendix C report form."""

    title: str
    description: str
    reporter: ReporterInfo
    tlp: TLP = TLP.AMBER
    products: tuple[AffectedProduct, ...] = ()
    vendors: tuple[str, ...] = ()
    exploit: str = ""
    impact: str = ""
    how_found: str = ""
    when_found: str = ""
    reported_to: tuple[str, ...] = ()
    public: bool = False
    public_urls: tuple[str, ...] = ()
    exploited: bool = False
    exploitation_evidence: str = ""
    disclosure_plans: str = ""
    disclosure_date: datetime | None = None
    share_contact: bool = False
    wants_credit: bool = False
    credit_as: str = ""
    tracking_ids: tuple[str, ...] = ()
    vulnerabilities: tuple[Vulnerability, ...] = ()

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise InvalidInput("title", "must not be empty")
        if not self.description.strip():
            raise InvalidInput("description", "must not be empty")
        if self.disclosure_date is not None:
            check_aware(self.disclosure_date, "disclosure_date")


@dataclass(frozen=True)
class Contact:
    kind: ContactKind
    value: str
    source: ContactSource = ContactSource.MANUAL
    verified_at: datetime | None = None


@dataclass(frozen=True)
class Organization:
    name: str
    website: str = ""
    contacts: tuple[Contact, ...] = field(default=())


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


@dataclass(frozen=True)
class Message:
    """A message exchanged on the case: a note of who said what, when and how."""

    message_id: str
    direction: Direction
    at: datetime
    channel: Channel
    subject: str
    body: str
    participant: int | None = None
    tlp: TLP = TLP.AMBER
