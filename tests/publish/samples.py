"""The sample advisories of the format writers' tests, from one builder (``advisory``):

- SAMPLE, a realistic one: two vulnerabilities (one with a CVE, one without), three
  vendors, every kind of statement, credits and a timeline (the golden files);
- MINIMAL, the smallest a writer must handle;
- RICH, a multi-vendor one for the CSAF 2.1 tests: a dozen vendors with every kind of
  statement and remediation (including a workaround next to "no fix planned"), package
  URLs and CPEs, CVSS 3.1 and 4.0, several CWEs, involvements of every status and role
  (one with no date), credits, and TLP AMBER+STRICT, which only CSAF 2.1 can label as
  it is."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

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


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


PUBLISHER = Publisher(name="Example CSIRT", namespace="https://csirt.example")


def advisory(case_id: str, title: str, **fields: Any) -> Advisory:
    """An advisory of case ``case_id`` (also its tracking id): final, TLP:CLEAR, by
    ``PUBLISHER``, and empty where ``fields`` say nothing."""
    values: dict[str, Any] = {
        "case_id": case_id, "tracking_id": case_id, "title": title, "tlp": TLP.CLEAR,
        "status": AdvisoryStatus.FINAL, "publisher": PUBLISHER, "summary": "",
        "vulnerabilities": (), "statements": (), "acknowledgments": (),
        "involvements": (), "timeline": (), "revisions": ()}
    return Advisory(**{**values, **fields})


ROUTER = AffectedProduct(product="RouterOS", vendor="Acme Networks",
                         versions=(VersionRange(introduced="7.0", fixed="7.4.2"),))
SWITCH = AffectedProduct(product="SwitchOS", vendor="Acme Networks",
                         versions=(VersionRange(introduced="2.1", last_affected="2.9"),))
QUILL = AffectedProduct(product="libquill", vendor="libquill project",
                        versions=(VersionRange(introduced="2.0.0", fixed="2.8.4"),),
                        purl="pkg:pypi/libquill")
GADGET = AffectedProduct(product="Gadget Hub", vendor="Gadget Corp", version_text="all")

V1 = AdvisoryVulnerability(
    key="CVE-2026-12345", title="Authentication bypass in the RouterOS web interface",
    cve="CVE-2026-12345", cwes=("CWE-287",),
    description="A crafted session cookie lets a remote attacker act as an administrator.",
    scores=(Score("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL"),
            Score("4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                  9.3, "CRITICAL")),
    references=("https://acme.example/security/ASA-2026-07",),
    products=(ROUTER, SWITCH))
V2 = AdvisoryVulnerability(
    key="V2", title="Heap overflow in the libquill TLS record parser", cwes=("CWE-122",),
    description="An oversized TLS record overflows a heap buffer <b>before</b> checks.",
    scores=(Score("3.1", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", 5.9, "MEDIUM"),),
    products=(QUILL, GADGET))

SAMPLE = advisory(
    "CVD-2026-0042", "Acme RouterOS authentication bypass & libquill overflow",
    publisher=replace(PUBLISHER, contact_details="cvd@csirt.example"),
    summary="Two vulnerabilities coordinated together.",
    vulnerabilities=(V1, V2),
    statements=(
        VendorStatement("Acme Networks", "RouterOS", V1.key, ProductStatus.FIXED,
                        fixed_version="7.4.2",
                        remediations=(Remediation(RemediationKind.VENDOR_FIX,
                                                  "Upgrade to 7.4.2 or later.",
                                                  "https://acme.example/dl"),),
                        statement="Fixed in 7.4.2; thanks to the finder.", at=at(20)),
        VendorStatement("Acme Networks", "SwitchOS", V1.key, ProductStatus.AFFECTED,
                        remediations=(Remediation(RemediationKind.WORKAROUND,
                                                  "Disable the web interface."),
                                      Remediation(RemediationKind.NO_FIX_PLANNED,
                                                  "SwitchOS 2.x is end of life.")),
                        at=at(21)),
        VendorStatement("libquill project", "libquill", V2.key, ProductStatus.FIXED,
                        fixed_version="2.8.4",
                        remediations=(Remediation(RemediationKind.VENDOR_FIX,
                                                  "Update to 2.8.4."),),
                        at=at(18)),
        VendorStatement("Gadget Corp", "Gadget Hub", V2.key, ProductStatus.NOT_AFFECTED,
                        justification=Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH,
                        statement="We never parse TLS records with libquill.",
                        on_behalf=True, at=at(22)),
    ),
    acknowledgments=(
        Acknowledgment("Dana Whitfield", "Example University", "found and reported",
                       CreditType.FINDER),
        Acknowledgment("Mei Chen", "", "fuzzing harness", CreditType.TOOL),
    ),
    involvements=(
        Involvement("Acme Networks", "vendor", InvolvementStatus.COMPLETED, at(20)),
        Involvement("libquill project", "vendor", InvolvementStatus.COMPLETED, at(18)),
        Involvement("Gadget Corp", "vendor", InvolvementStatus.CONTACT_ATTEMPTED, at(10),
                    "two e-mails, no reply"),
    ),
    timeline=(
        TimelineEntry(at(1), "report received"),
        TimelineEntry(at(2), "first contact attempt"),
        TimelineEntry(at(3), "vendor reply (Acme Networks)"),
        TimelineEntry(at(20), "fix ready (Acme Networks)"),
        TimelineEntry(at(25), "publication"),
    ),
    revisions=(Revision("1", at(25), "Initial public release."),
               Revision("2", at(28), "Added the libquill fix.")),
    references=("https://csirt.example/advisories/CVD-2026-0042",),
    initial_release=at(25), current_release=at(28),
)

#: the smallest advisory a writer must handle: one vulnerability, nothing else known
MINIMAL = advisory(
    "CVD-2026-0001", "Minimal", tlp=TLP.AMBER, status=AdvisoryStatus.DRAFT,
    vulnerabilities=(AdvisoryVulnerability(key="V1", title="A bug"),),
    revisions=(Revision("1", at(5), "Draft."),), initial_release=at(5),
    current_release=at(5))


# ------------------------------------------------------------------ RICH
V31 = Score("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL")
V40 = Score("4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3,
            "CRITICAL")
VENDORS = 12


def _rich_product(i: int) -> AffectedProduct:
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


def _rich_statement(i: int, key: str) -> VendorStatement | None:
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


_RICH_PRODUCTS = tuple(_rich_product(i) for i in range(VENDORS))
RICH_V1 = AdvisoryVulnerability(
    key="CVE-2026-40000", title="Parser overflow in a shared library", cve="CVE-2026-40000",
    cwes=("CWE-787", "CWE-122", "CWE-20"), description="A crafted record overflows.",
    scores=(V31, V40), references=("https://lib.example/advisory",), products=_RICH_PRODUCTS)
RICH_V2 = AdvisoryVulnerability(
    key="V2", title="Denial of service in the same parser", cwes=("CWE-400",),
    description="A long record makes the parser loop.",
    scores=(Score("3.1", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", 5.9, "MEDIUM"),),
    products=_RICH_PRODUCTS[:4])

_RICH_STATUSES = list(InvolvementStatus)
RICH = advisory(
    "CVD-2026-0777", "Shared parser flaws reaching many vendors", tlp=TLP.AMBER_STRICT,
    publisher=replace(PUBLISHER, contact_details="Phone +1 555 0100 or cvd@csirt.example",
                      issuing_authority="The national CSIRT."),
    summary="Many vendors ship the parser.", vulnerabilities=(RICH_V1, RICH_V2),
    statements=tuple(s for v in (RICH_V1, RICH_V2) for i in range(len(v.products))
                     if (s := _rich_statement(i, v.key)) is not None),
    acknowledgments=(Acknowledgment("Rae Finder", "Uni", "found it", CreditType.FINDER),
                     Acknowledgment("Tool Bot", credit_type=CreditType.TOOL)),
    involvements=(
        *(Involvement(f"Vendor {i:02d}", "vendor", _RICH_STATUSES[i % len(_RICH_STATUSES)],
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
