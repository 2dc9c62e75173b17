"""The advisory a case ends in (guide 6.9 "publish"; appendix D), as one value.

Every publication format (CSAF 2.0, CVE record 5, OSV, the readable advisory) is written
from this one value, so the formats cannot disagree about what a case says: which
products are affected, what each vendor stated, who is credited, what happened when.
It is built from the case log (``cvdesk.publish.build``) and holds no storage or I/O.

Identifiers inside an advisory: each vulnerability has a stable local ``key`` (its CVE id
when it has one, else "V1", "V2" ... in the order they were added); each product is named
by vendor and product name; versions are the strings the vendor uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from cvdesk.domain.model import TLP, AffectedProduct


class ProductStatus(StrEnum):
    """A vendor's word on one product and one vulnerability (CSAF product_status,
    VEX status)."""

    AFFECTED = "affected"
    NOT_AFFECTED = "not_affected"
    FIXED = "fixed"
    UNDER_INVESTIGATION = "under_investigation"


class Justification(StrEnum):
    """Why a product is not affected (the CSAF 2.0 / VEX justification labels)."""

    COMPONENT_NOT_PRESENT = "component_not_present"
    VULNERABLE_CODE_NOT_PRESENT = "vulnerable_code_not_present"
    VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY = (
        "vulnerable_code_cannot_be_controlled_by_adversary")
    VULNERABLE_CODE_NOT_IN_EXECUTE_PATH = "vulnerable_code_not_in_execute_path"
    INLINE_MITIGATIONS_ALREADY_EXIST = "inline_mitigations_already_exist"


class RemediationKind(StrEnum):
    """What a user of the product can do (the CSAF 2.0 remediation categories)."""

    VENDOR_FIX = "vendor_fix"
    WORKAROUND = "workaround"
    MITIGATION = "mitigation"
    NONE_AVAILABLE = "none_available"
    NO_FIX_PLANNED = "no_fix_planned"


class CreditType(StrEnum):
    """The CVE record 5 credit types (CSAF acknowledgments carry the words only)."""

    FINDER = "finder"
    REPORTER = "reporter"
    ANALYST = "analyst"
    COORDINATOR = "coordinator"
    REMEDIATION_DEVELOPER = "remediation developer"
    REMEDIATION_REVIEWER = "remediation reviewer"
    REMEDIATION_VERIFIER = "remediation verifier"
    TOOL = "tool"
    SPONSOR = "sponsor"
    OTHER = "other"


class InvolvementStatus(StrEnum):
    """How far a party took part (the CSAF 2.0 involvement status values)."""

    COMPLETED = "completed"
    CONTACT_ATTEMPTED = "contact_attempted"
    DISPUTED = "disputed"
    IN_PROGRESS = "in_progress"
    NOT_CONTACTED = "not_contacted"
    OPEN = "open"


class AdvisoryStatus(StrEnum):
    DRAFT = "draft"
    INTERIM = "interim"
    FINAL = "final"


@dataclass(frozen=True, slots=True)
class Score:
    """A CVSS score as validated and computed by the ``cvss`` package."""

    version: str  # "3.1" or "4.0"
    vector: str  # the full vector string, e.g. "CVSS:3.1/AV:N/..."
    base_score: float
    severity: str  # "NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL"


@dataclass(frozen=True, slots=True)
class Remediation:
    kind: RemediationKind
    text: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class VendorStatement:
    """One vendor's status for one product and one vulnerability, in its own words."""

    vendor: str
    product: str
    vulnerability: str  # AdvisoryVulnerability.key
    status: ProductStatus
    justification: Justification | None = None  # required when not_affected
    fixed_version: str = ""  # the first fixed version, when fixed
    remediations: tuple[Remediation, ...] = ()
    statement: str = ""  # the vendor's own words
    on_behalf: bool = False  # entered by the coordinator, not yet confirmed by the vendor
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AdvisoryVulnerability:
    key: str  # CVE id, or "V1", "V2", ... when there is none yet
    title: str
    cve: str = ""
    cwes: tuple[str, ...] = ()
    description: str = ""
    scores: tuple[Score, ...] = ()
    references: tuple[str, ...] = ()
    products: tuple[AffectedProduct, ...] = ()  # products and affected version ranges


@dataclass(frozen=True, slots=True)
class Acknowledgment:
    """A consented credit (guide 6.9: credit the helpers)."""

    name: str
    organization: str = ""
    contribution: str = ""
    credit_type: CreditType = CreditType.OTHER


@dataclass(frozen=True, slots=True)
class Involvement:
    """A party's part in the case, from the contact log (CSAF involvements)."""

    party: str
    role: str  # "vendor", "coordinator", "reporter", ...
    status: InvolvementStatus
    at: datetime | None = None
    summary: str = ""
    # when the desk tried to reach it, oldest first: an advisory names a vendor that
    # never gave a statement with these dates (6.10 row 6)
    contacted: tuple[datetime, ...] = ()


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """A dated step: report received, first contact attempt, vendor reply, fix ready,
    publication (appendix D)."""

    at: datetime
    label: str


@dataclass(frozen=True, slots=True)
class Revision:
    number: str  # "1", "2", ... (CSAF integer versioning)
    at: datetime
    summary: str


@dataclass(frozen=True, slots=True)
class Publisher:
    name: str
    namespace: str  # a URL naming the publisher (CSAF document.publisher.namespace)
    category: str = "coordinator"  # CSAF publisher category
    contact_details: str = ""
    issuing_authority: str = ""


@dataclass(frozen=True, slots=True)
class Advisory:
    case_id: str
    tracking_id: str  # e.g. "CVD-2026-0042": the CSAF tracking id and file name stem
    title: str
    tlp: TLP
    status: AdvisoryStatus
    publisher: Publisher
    summary: str
    vulnerabilities: tuple[AdvisoryVulnerability, ...]
    statements: tuple[VendorStatement, ...]
    acknowledgments: tuple[Acknowledgment, ...]
    involvements: tuple[Involvement, ...]
    timeline: tuple[TimelineEntry, ...]
    revisions: tuple[Revision, ...]  # oldest first; the last is the current one
    references: tuple[str, ...] = ()
    initial_release: datetime | None = None
    current_release: datetime | None = None
    language: str = "en"
    # credits recorded without consent to publish them: left out, only counted (6.9)
    withheld_credits: int = 0
    # vendor -> contact dates, built on first use (a case may name thousands of vendors)
    _contacts: dict[str, tuple[datetime, ...]] | None = field(
        default=None, init=False, repr=False, compare=False)

    @property
    def version(self) -> str:
        return self.revisions[-1].number if self.revisions else "0"

    def vendors(self) -> tuple[str, ...]:
        """The vendors named in statements or affected products, in first-seen order."""
        seen: dict[str, None] = {}
        for v in self.vulnerabilities:
            for p in v.products:
                if p.vendor:
                    seen.setdefault(p.vendor, None)
        for s in self.statements:
            seen.setdefault(s.vendor, None)
        return tuple(seen)

    def statements_for(self, vulnerability: str) -> tuple[VendorStatement, ...]:
        return tuple(s for s in self.statements if s.vulnerability == vulnerability)

    def contact_dates(self, vendor: str) -> tuple[datetime, ...]:
        """When the desk tried to reach ``vendor`` (from its involvement)."""
        if self._contacts is None:
            found: dict[str, tuple[datetime, ...]] = {}
            for i in self.involvements:
                if i.role == "vendor":
                    found.setdefault(i.party, i.contacted)
            object.__setattr__(self, "_contacts", found)
        assert self._contacts is not None
        return self._contacts.get(vendor, ())
