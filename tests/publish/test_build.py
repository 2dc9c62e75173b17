"""The advisory built from a case (issue 10, cvdesk.publish.build): vulnerabilities in
their current version, statements, consented credits, involvements from the contact
log, and the timeline of appendix D."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cvdesk.domain import cs
from cvdesk.domain.advisory import (
    AdvisoryStatus,
    CreditType,
    InvolvementStatus,
    ProductStatus,
    Publisher,
    Remediation,
    RemediationKind,
    Revision,
    TimelineEntry,
)
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import (
    AffectedProduct,
    Credit,
    Report,
    ReporterInfo,
    Role,
    Vulnerability,
)
from cvdesk.publish.build import advisory_from_case
from cvdesk.services.cases import CaseService
from tests.troubleshoot.builders import ACTOR, VENDOR, attempt, day, new_case, reply

PUBLISHER = Publisher(name="Example CSIRT", namespace="https://csirt.example")
V31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def built_case():  # type: ignore[no-untyped-def]
    """Acme (p2) replied and fixed; Gadget (p3) was written to twice, never answered;
    Quiet Inc (p4) was never contacted; two vulnerabilities, one with a CVE."""
    case, acme = new_case()
    case.receive_report("VR-2609-AAAAAA", Report("Heap overflow", "details",
                                                 ReporterInfo("Rita")), at=day(0), actor=ACTOR)
    gadget = case.add_participant("Gadget Corp", [Role.VENDOR], at=day(0), actor=ACTOR).pid
    case.add_participant("Quiet Inc", [Role.VENDOR], at=day(0), actor=ACTOR)
    case.add_vulnerability(Vulnerability(
        "Auth bypass", description="A crafted cookie makes anyone an administrator.",
        affected=(AffectedProduct("RouterOS", VENDOR),)), at=day(0), actor=ACTOR)
    case.add_vulnerability(Vulnerability("Heap overflow", cve="CVE-2026-1111"), at=day(0),
                           actor=ACTOR)
    case.update_vulnerability("V1", cwes=["CWE-287"], cvss_v3=V31,
                              references=["https://acme.example/sa"], at=day(1), actor=ACTOR)
    attempt(case, acme, 1)
    attempt(case, gadget, 2)
    attempt(case, gadget, 6)
    reply(case, acme, 3)
    case.record_cs(cs.CSEvent.F, acme, at=day(20), actor=ACTOR)
    case.record_statement(acme, "V1", "RouterOS", "fixed", fixed_version="7.4.2",
                          remediations=[Remediation(RemediationKind.VENDOR_FIX, "Upgrade.")],
                          statement="Fixed in 7.4.2.", at=day(21), actor=ACTOR)
    case.record_statement(gadget, "CVE-2026-1111", "Gadget Hub", "not_affected",
                          justification="component_not_present", on_behalf=True,
                          at=day(22), actor=ACTOR)
    case.credit(Credit("Rita", Role.FINDER, "found it", True, participant=1), at=day(23),
                actor=ACTOR)
    case.credit(Credit("Anon", Role.REPORTER, "second report", False), at=day(23), actor=ACTOR)
    case.credit(Credit("Acme PSIRT", Role.VENDOR, "the fix", True), at=day(23), actor=ACTOR)
    case.credit(Credit("Fuzzer", Role.OTHER, "tooling", True), at=day(23), actor=ACTOR)
    case.record_cs(cs.CSEvent.P, None, at=day(25), actor=ACTOR)
    return case


def test_a_built_case_becomes_its_advisory() -> None:
    case = built_case()
    revisions = (Revision("1", day(25), "Initial public release."),
                 Revision("2", day(28), "Added a workaround."))
    adv = advisory_from_case(case, publisher=PUBLISHER, revisions=revisions,
                             status="final", now=day(30))
    assert (adv.case_id, adv.tracking_id, adv.title, adv.tlp) == (
        case.case_id, case.case_id, case.title, case.tlp)
    assert adv.status is AdvisoryStatus.FINAL and adv.version == "2"
    assert (adv.initial_release, adv.current_release) == (day(25), day(28))
    assert adv.summary == "A crafted cookie makes anyone an administrator."

    v1, v2 = adv.vulnerabilities
    assert (v1.key, v1.cwes, v1.references) == ("V1", ("CWE-287",), ("https://acme.example/sa",))
    assert [(s.version, s.base_score) for s in v1.scores] == [("3.1", 9.8)]
    assert v1.products == (AffectedProduct("RouterOS", VENDOR),)
    assert (v2.key, v2.cve) == ("CVE-2026-1111", "CVE-2026-1111")
    assert v2.products == (AffectedProduct("Gadget Hub", "Gadget Corp"),)  # added by a statement

    fixed, gadget = adv.statements
    assert (fixed.vendor, fixed.product, fixed.vulnerability, fixed.status,
            fixed.fixed_version, fixed.on_behalf) == (
        VENDOR, "RouterOS", "V1", ProductStatus.FIXED, "7.4.2", False)
    assert fixed.remediations == (Remediation(RemediationKind.VENDOR_FIX, "Upgrade."),)
    assert (gadget.vulnerability, gadget.on_behalf) == ("CVE-2026-1111", True)
    assert adv.statements_for("V1") == (fixed,)

    assert [(a.name, a.organization, a.credit_type) for a in adv.acknowledgments] == [
        ("Rita", "", CreditType.FINDER), ("Acme PSIRT", "", CreditType.REMEDIATION_DEVELOPER),
        ("Fuzzer", "", CreditType.OTHER)]  # "Anon" did not agree to be named

    assert [(i.party, i.status, i.at) for i in adv.involvements] == [
        (VENDOR, InvolvementStatus.COMPLETED, day(21)),
        ("Gadget Corp", InvolvementStatus.COMPLETED, day(22)),  # its statement counts
        ("Quiet Inc", InvolvementStatus.NOT_CONTACTED, None)]

    assert adv.timeline == (
        TimelineEntry(day(0), "report received"),
        TimelineEntry(day(1), "first contact attempt"),
        TimelineEntry(day(3), f"first vendor reply ({VENDOR})"),
        TimelineEntry(day(20), f"fix ready ({VENDOR})"),
        TimelineEntry(day(25), "publication"))
    assert adv.vendors() == (VENDOR, "Gadget Corp")


def test_unanswered_attempts_are_contact_attempted_dated_by_the_last_one() -> None:
    case, acme = new_case()
    attempt(case, acme, 1)
    attempt(case, acme, 4)
    adv = advisory_from_case(case, publisher=PUBLISHER, revisions=(), status="draft",
                             now=day(10))
    (inv,) = adv.involvements
    assert (inv.status, inv.at, inv.summary) == (InvolvementStatus.CONTACT_ATTEMPTED, day(4),
                                                 "2 contact attempts, no reply")
    assert adv.vulnerabilities == () and adv.statements == ()
    assert adv.timeline == (TimelineEntry(day(0), "case opened"),
                            TimelineEntry(day(1), "first contact attempt"))
    assert (adv.initial_release, adv.current_release) == (day(10), day(10))
    assert adv.summary == case.title


def test_a_key_follows_a_cve_assigned_later() -> None:
    case, acme = new_case()
    case.add_vulnerability(Vulnerability("Bug"), at=day(1), actor=ACTOR)
    case.record_statement(acme, "V1", "RouterOS", "affected", at=day(2), actor=ACTOR)
    case.update_vulnerability("V1", cve="CVE-2026-7777", at=day(3), actor=ACTOR)
    adv = advisory_from_case(case, publisher=PUBLISHER, revisions=(), status="interim",
                             now=day(4))
    assert adv.vulnerabilities[0].key == adv.statements[0].vulnerability == "CVE-2026-7777"


def test_bad_status_or_naive_now_is_refused() -> None:
    case, _ = new_case()
    with pytest.raises(InvalidInput, match="status"):
        advisory_from_case(case, publisher=PUBLISHER, revisions=(), status="published",
                           now=day(1))
    with pytest.raises(InvalidInput, match="now"):
        advisory_from_case(case, publisher=PUBLISHER, revisions=(), status="draft",
                           now=day(1).replace(tzinfo=None))


def test_every_demo_case_builds_an_advisory(demo_service: CaseService) -> None:
    now = demo_service.clock()
    revision = (Revision("1", now, "Initial release."),)
    cases = demo_service.list_cases(None)
    assert len(cases) > 10
    for summary in cases:
        case = demo_service.replay(summary.case_id)
        adv = advisory_from_case(case, publisher=PUBLISHER, revisions=revision,
                                 status="draft", now=now)
        assert adv.tracking_id == summary.case_id
        assert len(adv.vulnerabilities) == len(case.vulnerabilities)
        assert len(adv.involvements) == len(case.vendors)
        assert [e.at for e in adv.timeline] == sorted(e.at for e in adv.timeline)
        assert all(e.at <= now + timedelta(minutes=5) for e in adv.timeline)
        assert all(a.name for a in adv.acknowledgments)


def test_a_demo_case_with_details_and_statements_builds(demo_service: CaseService) -> None:
    case_id = demo_service.list_cases("open")[0].case_id
    case = demo_service.replay(case_id)
    vendor = case.vendors[0]
    demo_service.update_vulnerability(case_id, "V1", cvss=[V31], cve="CVE-2026-5555")
    demo_service.record_statement(case_id, f"p{vendor.pid}", "CVE-2026-5555", "Widget",
                                  "under_investigation", on_behalf=True)
    adv = advisory_from_case(demo_service.replay(case_id), publisher=PUBLISHER, revisions=(),
                             status="draft", now=demo_service.clock())
    assert adv.vulnerabilities[0].key == "CVE-2026-5555"
    assert adv.vulnerabilities[0].scores[0].base_score == 9.8
    (s,) = adv.statements
    assert (s.vendor, s.product, s.on_behalf) == (vendor.name, "Widget", True)
    assert next(i for i in adv.involvements if i.party == vendor.name).status is \
        InvolvementStatus.COMPLETED
