"""Bad input publishes nothing and names the problem (no vulnerability; a bad CVE id or
CVSS vector is refused where it is entered); a vendor that never made a
statement is published as "unknown" with the dates it was contacted (6.10 row 6);
credits without consent are left out and the draft says how many (6.9)."""

from __future__ import annotations

import json

import pytest

from cvdesk.domain.advisory import AdvisoryStatus, Publisher, Revision
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.model import AffectedProduct, Credit, Role, VersionRange, Vulnerability
from cvdesk.publish.build import advisory_from_case
from cvdesk.publish.csaf import write_csaf
from cvdesk.publish.cve import write_cve
from cvdesk.publish.readable import write_markdown
from cvdesk.services.cases import CaseService
from cvdesk.services.publication import PublicationService, _check_publishable
from cvdesk.settings import load_settings
from tests.conftest import table_counts
from tests.troubleshoot.builders import ACTOR, VENDOR, attempt, day, new_case

FREE = "CVD-2026-0014"  # no embargo: publishing is allowed at once
PUBLISHER = Publisher("Example CSIRT", "https://example.org")


@pytest.fixture
def svc(demo_service: CaseService) -> CaseService:
    settings = load_settings(database_url=demo_service.db.url, actor="tester",
                             desk={"name": "Example CSIRT", "email": "cert@example.org"})
    return CaseService(demo_service.db, settings, clock=demo_service.clock)


def test_a_bad_cve_id_or_cvss_vector_never_reaches_a_publication(svc: CaseService) -> None:
    pub = PublicationService(svc)
    key = svc.replay(FREE).vulnerability_key(1)
    before = table_counts(svc.db.url)
    with pytest.raises(InvalidInput) as cve:
        svc.update_vulnerability(FREE, key, cve="CVE-26-1")
    assert cve.value.field == "cve"
    with pytest.raises(InvalidInput) as cvss:
        svc.update_vulnerability(FREE, key, cvss=["CVSS:3.1/AV:Q/AC:L"])
    assert cvss.value.field == "cvss"
    assert table_counts(svc.db.url) == before
    view = pub.publish(FREE, ["csaf"])  # the case as it was: publishable
    doc = json.loads(view.documents[0].content)
    assert "CVE-26-1" not in json.dumps(doc) and "AV:Q" not in json.dumps(doc)


def test_an_advisory_without_vulnerability_is_refused() -> None:
    case, _ = new_case()
    adv = advisory_from_case(case, publisher=PUBLISHER, revisions=(),
                             status=AdvisoryStatus.FINAL, now=day(3))
    with pytest.raises(InvalidInput) as refused:
        _check_publishable(adv)
    assert refused.value.field == "vulnerabilities" and "CVD-2026-0042" in str(refused.value)


def _silent_vendor_advisory():  # type: ignore[no-untyped-def]
    case, vendor = new_case()
    case.add_vulnerability(Vulnerability(
        "Heap overflow in the parser", cve="CVE-2026-11111", description="A heap overflow.",
        references=("https://example.org/a",),
        affected=(AffectedProduct("Router X", vendor=VENDOR,
                                  versions=(VersionRange(introduced="1.0", fixed="1.5"),)),)),
        at=day(1), actor=ACTOR)
    attempt(case, vendor, 2)
    attempt(case, vendor, 9)
    case.credit(Credit("Rita", Role.FINDER, "found it", True, 1), at=day(3), actor=ACTOR)
    case.credit(Credit("Quiet Q", Role.FINDER, "helped", False), at=day(3), actor=ACTOR)
    case.credit(Credit("Silent S", Role.FINDER, "helped", False), at=day(3), actor=ACTOR)
    return advisory_from_case(case, publisher=PUBLISHER,
                              revisions=(Revision("1", day(20), "Initial release."),),
                              status=AdvisoryStatus.FINAL, now=day(20))


def test_a_vendor_without_statement_is_unknown_with_its_contact_dates() -> None:
    adv = _silent_vendor_advisory()
    [inv] = [i for i in adv.involvements if i.party == VENDOR]
    assert inv.contacted == (day(2), day(9))
    dates = f"{day(2).date().isoformat()}, {day(9).date().isoformat()}"
    csaf = json.loads(write_csaf(adv).content)
    [v] = csaf["vulnerabilities"]
    [note] = [n for n in v["notes"] if n["title"] == f"Vendor status of {VENDOR}"]
    assert "unknown (no statement)" in note["text"] and f"contacted on {dates}" in note["text"]
    cve = json.loads(write_cve(adv, "CVE-2026-11111").content)
    [affected] = cve["containers"]["cna"]["affected"]
    assert affected["defaultStatus"] == "unknown" and affected["versions"]
    text = write_markdown(adv).content.decode()
    assert "no statement from the vendor (status unknown); contacted on" in text
    assert "Quiet Q" not in text and "Silent S" not in text and adv.withheld_credits == 2


def test_the_draft_says_how_many_credits_were_left_out(
        svc: CaseService, monkeypatch: pytest.MonkeyPatch) -> None:
    with svc.case(FREE) as case:
        case.credit(Credit("Quiet Q", Role.FINDER, "helped", False), at=svc.clock(),
                    actor="tester")
    view = PublicationService(svc).draft(FREE, ["markdown"])
    assert view.left_out == ("left out: 1 credit without consent to publish "
                             "(names not shown)",)
    assert "Quiet Q" not in view.documents[0].content.decode()
    assert view.to_json()["left_out"] == list(view.left_out)
