"""A rich multi-vendor advisory for the CSAF 2.1 tests: a dozen vendors with every kind of
statement and remediation (including a workaround next to "no fix planned"), package URLs
and CPEs, CVSS 3.1 and 4.0, several CWEs, involvements of every status and role (one with
no date), credits, and TLP AMBER+STRICT, which only CSAF 2.1 can label as it is."""

from __future__ import annotations

from datetime import timedelta

from cvdesk.domain.advisory import (
    Acknowledgment,
    Advisory,
    AdvisoryStatus,
    AdvisoryVulnerability,
    CreditType,
    Involvement,
    InvolvementStatus,
    Justification,
    ProductStatus,
    Publisher,
    Remediation,
    RemediationKind,
    Revision,
    Score,
    TimelineEntry,
    VendorStatement,
)
from cvdesk.domain.model import TLP, AffectedProduct, VersionRange
from tests.publish.samples import at

V31 = Score("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL")
V40 = Score("4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3,
            "CRITICAL")
VENDORS = 12


def _product(i: int) -> AffectedProduct:
    vendor, name = f"Vendor {i:02d}", f"Product {i:02d}"
    if i % 4 == 0:
        return AffectedProduct(name, vendor, (VersionRange("1.0", fixed="1.5"),),
                               purl=f"pkg:pypi/product-{i:02d}")
    if i % 4 == 1:
        return AffectedProduct(name, vendor, (VersionRange("2.0", last_affected="2.9"),),
                               cpe=f"cpe:2.3:a:vendor{i:02d}:product{i:02d}:*:*:*:*:*:*:*:*")
    if i % 4 == 2:
        return AffectedProduct(name, vendor, version_text="all")
    return AffectedProduct(name, vendor, (VersionRange(introduced="3.0"),))


def _statement(i: int, key: str) -> VendorStatement | None:
    vendor, name, when = f"Vendor {i:02d}", f"Product {i:02d}", at(10 + i % 8)
    kind = i % 6
    if kind == 0:
        return VendorStatement(vendor, name, key, ProductStatus.FIXED, fixed_version="1.5",
                               remediations=(Remediation(RemediationKind.VENDOR_FIX,
                                                         "Update to 1.5.",
                                                         f"https://v{i}.example/dl"),),
                               at=when)
    if kind == 1:
        return VendorStatement(vendor, name, key, ProductStatus.AFFECTED, remediations=(
            Remediation(RemediationKind.WORKAROUND, "Turn the parser off."),
            Remediation(RemediationKind.NO_FIX_PLANNED, "The 2.x line is end of life.")),
            statement="We will not fix 2.x.", at=when)
    if kind == 2:
        return VendorStatement(vendor, name, key, ProductStatus.NOT_AFFECTED,
                               justification=Justification.COMPONENT_NOT_PRESENT,
                               statement="We do not ship the parser.", on_behalf=True,
                               at=when)
    if kind == 3:
        return VendorStatement(vendor, name, key, ProductStatus.AFFECTED, remediations=(
            Remediation(RemediationKind.MITIGATION, "Filter the port."),), at=when)
    if kind == 4:
        return VendorStatement(vendor, name, key, ProductStatus.UNDER_INVESTIGATION, at=when)
    return None  # silent: published with status unknown and its contact dates


_PRODUCTS = tuple(_product(i) for i in range(VENDORS))
V1 = AdvisoryVulnerability(
    key="CVE-2026-40000", title="Parser overflow in a shared library", cve="CVE-2026-40000",
    cwes=("CWE-787", "CWE-122", "CWE-20"), description="A crafted record overflows.",
    scores=(V31, V40), references=("https://lib.example/advisory",), products=_PRODUCTS)
V2 = AdvisoryVulnerability(
    key="V2", title="Denial of service in the same parser", cwes=("CWE-400",),
    description="A long record makes the parser loop.",
    scores=(Score("3.1", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", 5.9, "MEDIUM"),),
    products=_PRODUCTS[:4])

_STATUSES = list(InvolvementStatus)
RICH = Advisory(
    case_id="CVD-2026-0777", tracking_id="CVD-2026-0777",
    title="Shared parser flaws reaching many vendors", tlp=TLP.AMBER_STRICT,
    status=AdvisoryStatus.FINAL,
    publisher=Publisher(name="Example CSIRT", namespace="https://csirt.example",
                        contact_details="Phone +1 555 0100 or cvd@csirt.example",
                        issuing_authority="The national CSIRT."),
    summary="Many vendors ship the parser.", vulnerabilities=(V1, V2),
    statements=tuple(s for v in (V1, V2) for i in range(len(v.products))
                     if (s := _statement(i, v.key)) is not None),
    acknowledgments=(Acknowledgment("Rae Finder", "Uni", "found it", CreditType.FINDER),
                     Acknowledgment("Tool Bot", credit_type=CreditType.TOOL)),
    involvements=(
        *(Involvement(f"Vendor {i:02d}", "vendor", _STATUSES[i % len(_STATUSES)],
                      at(3 + i % 5), f"log entry {i}", contacted=(at(2), at(3)))
          for i in range(VENDORS)),
        Involvement("Rae Finder", "reporter", InvolvementStatus.COMPLETED, at(1)),
        Involvement("Other CERT", "coordinator", InvolvementStatus.IN_PROGRESS, at(4)),
        Involvement("Vendor 00", "vendor", InvolvementStatus.OPEN),  # no date
    ),
    timeline=(TimelineEntry(at(1), "report received"), TimelineEntry(at(2),
                                                                     "first contact attempt")),
    revisions=(Revision("1", at(25), "Initial public release."),
               Revision("2", at(25) + timedelta(days=2), "Vendor 00 fixed.")),
    references=("https://csirt.example/advisories/CVD-2026-0777",),
    initial_release=at(25), current_release=at(27),
)
