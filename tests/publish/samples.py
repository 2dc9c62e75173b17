"""A realistic advisory for the format writers' tests: two vulnerabilities (one with a
CVE, one without), three vendors, every kind of statement, credits and a timeline."""

from __future__ import annotations

from datetime import UTC, datetime

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

SAMPLE = Advisory(
    case_id="CVD-2026-0042", tracking_id="CVD-2026-0042",
    title="Acme RouterOS authentication bypass & libquill overflow", tlp=TLP.CLEAR,
    status=AdvisoryStatus.FINAL,
    publisher=Publisher(name="Example CSIRT", namespace="https://csirt.example",
                        contact_details="cvd@csirt.example"),
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
MINIMAL = Advisory(
    case_id="CVD-2026-0001", tracking_id="CVD-2026-0001", title="Minimal", tlp=TLP.AMBER,
    status=AdvisoryStatus.DRAFT,
    publisher=Publisher(name="Example CSIRT", namespace="https://csirt.example"),
    summary="", vulnerabilities=(AdvisoryVulnerability(key="V1", title="A bug"),),
    statements=(), acknowledgments=(), involvements=(), timeline=(),
    revisions=(Revision("1", at(5), "Draft."),), initial_release=at(5),
    current_release=at(5))
