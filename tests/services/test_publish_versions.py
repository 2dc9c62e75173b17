"""A product without versions publishes nothing (issue 10: "bad input publishes nothing
and names the problem").  Versions are what the report gave and the vendor's statement
added: a range, words for the versions, or a "fixed" statement's first fixed version each
suffice alone; a product the vendor states is not affected, or is still investigating,
needs none.  Publish and preview refuse and name the product; the draft is still written
and lists the problem; ``vuln update --product --versions`` fixes it, as an event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cvdesk.cli.advisory_data import parse_range
from cvdesk.domain.advisory import AdvisoryStatus, Publisher, Revision
from cvdesk.domain.case import Case
from cvdesk.domain.errors import InvalidInput
from cvdesk.domain.events import EventType
from cvdesk.domain.model import AffectedProduct, VersionRange, Vulnerability
from cvdesk.publish.build import advisory_from_case, unversioned_products
from cvdesk.publish.csaf import write_csaf
from cvdesk.publish.cve import write_cve
from cvdesk.publish.osv import write_osv
from cvdesk.publish.readable import write_markdown
from cvdesk.services.cases import CaseService
from cvdesk.services.publication import PublicationService
from cvdesk.settings import load_settings
from tests.conftest import Cli, table_counts
from tests.troubleshoot.builders import ACTOR, VENDOR, day, new_case

FREE = "CVD-2026-0014"  # the demo case with no embargo: publishing is allowed at once
SDK = "Oscorp Telemetry SDK"
PUBLISHER = Publisher("Example CSIRT", "https://example.org")
ROUTER = "Router X"


def _case(product: AffectedProduct) -> tuple[Case, int]:
    case, vendor = new_case()
    case.add_vulnerability(Vulnerability("Heap overflow", cve="CVE-2026-11111",
                                         references=("https://example.org/a",),
                                         affected=(product,)), at=day(1), actor=ACTOR)
    return case, vendor


def _advisory(case: Case):  # type: ignore[no-untyped-def]
    return advisory_from_case(case, publisher=PUBLISHER,
                              revisions=(Revision("1", day(5), "Initial release."),),
                              status=AdvisoryStatus.FINAL, now=day(5))


# ------------------------------------------------------------------ the rule
def test_a_product_without_versions_is_named_with_its_vulnerability_and_vendor() -> None:
    case, _ = _case(AffectedProduct(ROUTER, vendor=VENDOR))
    assert unversioned_products(_advisory(case)) == (
        f"CVE-2026-11111: product '{ROUTER}' of {VENDOR}: no affected version or range "
        "given, and no statement names a fixed version",)


def test_an_affected_statement_without_a_fixed_version_does_not_supply_versions() -> None:
    case, vendor = _case(AffectedProduct(ROUTER, vendor=VENDOR))
    case.record_statement(vendor, "V1", ROUTER, "affected", at=day(2), actor=ACTOR)
    [problem] = unversioned_products(_advisory(case))
    assert ROUTER in problem


@pytest.mark.parametrize("product", [
    AffectedProduct(ROUTER, vendor=VENDOR, versions=(VersionRange(introduced="1.0"),)),
    AffectedProduct(ROUTER, vendor=VENDOR,
                    versions=(VersionRange(introduced="1.2", last_affected="1.2"),)),
    AffectedProduct(ROUTER, vendor=VENDOR, version_text="all versions"),
    AffectedProduct(ROUTER, vendor=VENDOR, version_text="firmware before 2026-03"),
], ids=["range only", "one exact version", "all versions", "words only"])
def test_a_range_or_words_alone_are_versions(product: AffectedProduct) -> None:
    case, _ = _case(product)
    assert unversioned_products(_advisory(case)) == ()


@pytest.mark.parametrize(("status", "extra"), [
    ("fixed", {"fixed_version": "1.5"}),
    ("not_affected", {"justification": "component_not_present"}),
    ("under_investigation", {}),
])
def test_the_vendors_statement_can_stand_for_the_versions(status: str,
                                                         extra: dict[str, str]) -> None:
    """Only a fixed version: every version before it is affected.  Not affected or still
    investigating: the vendor's word covers the whole product.  Every format writes it."""
    case, vendor = _case(AffectedProduct(ROUTER, vendor=VENDOR,
                                         purl="pkg:pypi/router-x"))
    case.record_statement(vendor, "V1", ROUTER, status, at=day(2), actor=ACTOR, **extra)
    adv = _advisory(case)
    assert unversioned_products(adv) == ()
    # a CSAF security advisory needs one product with a known status; VEX does not
    write_csaf(adv, vex=status == "under_investigation")
    write_markdown(adv)
    cve = json.loads(write_cve(adv, "CVE-2026-11111").content)
    [affected] = cve["containers"]["cna"]["affected"]
    if status == "fixed":
        assert affected["versions"] == [{"version": "0", "status": "affected",
                                         "lessThan": "1.5", "versionType": "python"}]
        osv = json.loads(write_osv(adv, "CVE-2026-11111", id_prefix="x_example").content)
        assert {"fixed": "1.5"} in osv["affected"][0]["ranges"][0]["events"]


def test_a_statement_on_a_product_it_added_is_enough_alone() -> None:
    """record_statement lists a product the report did not name, with no versions: the
    fixed version of the statement is then all the advisory has, and suffices."""
    case, vendor = _case(AffectedProduct(ROUTER, vendor=VENDOR, version_text="all versions"))
    case.record_statement(vendor, "V1", "Router Y", "fixed", fixed_version="2.0",
                          at=day(2), actor=ACTOR)
    assert unversioned_products(_advisory(case)) == ()
    case.record_statement(vendor, "V1", "Router Z", "affected", at=day(2), actor=ACTOR)
    [problem] = unversioned_products(_advisory(case))
    assert "'Router Z' of Acme Networks" in problem


# ------------------------------------------------------------------ editing versions
def test_with_versions_replaces_one_products_versions_and_refuses_what_it_cannot_find(
) -> None:
    case, vendor = _case(AffectedProduct(ROUTER, vendor=VENDOR))
    case.record_statement(vendor, "V1", "Router Y", "affected", at=day(2), actor=ACTOR)
    assert case.with_versions("V1", None) is None
    new = case.with_versions("V1", " router x ", versions=[VersionRange(" 1.0 ", "1.4")])
    assert new is not None
    assert [a.product for a in new] == [ROUTER, "Router Y"]
    assert new[0].versions == (VersionRange("1.0", "1.4"),)
    text = case.with_versions("V1", "Router Y", version_text="  all versions ")
    assert text is not None and text[1].version_text == "all versions" and not text[0].versions
    with pytest.raises(InvalidInput) as unknown:
        case.with_versions("V1", "Router Q", versions=[])
    assert unknown.value.field == "product" and "'Router X' of Acme Networks" in str(
        unknown.value)
    with pytest.raises(InvalidInput) as nothing:
        case.with_versions("V1", ROUTER)
    assert nothing.value.field == "versions"
    with pytest.raises(InvalidInput) as no_product:
        case.with_versions("V1", None, versions=[VersionRange("1.0")])
    assert no_product.value.field == "product"
    with pytest.raises(InvalidInput) as empty:
        case.with_versions("V1", ROUTER, versions=[VersionRange("1.0", "1.0")])
    assert empty.value.field == "versions" and "no version is affected" in str(empty.value)


def test_a_product_two_vendors_list_needs_the_vendor() -> None:
    case, _ = _case(AffectedProduct(ROUTER, vendor=VENDOR))
    case.update_vulnerability("V1", at=day(2), actor=ACTOR, affected=(
        AffectedProduct(ROUTER, vendor=VENDOR), AffectedProduct(ROUTER, vendor="Globex")))
    with pytest.raises(InvalidInput) as which:
        case.with_versions("V1", ROUTER, version_text="all versions")
    assert which.value.field == "product" and "name the vendor" in str(which.value)
    new = case.with_versions("V1", ROUTER, vendor="globex", version_text="all versions")
    assert new is not None and [a.version_text for a in new] == ["", "all versions"]


@pytest.mark.parametrize(("text", "expected"), [
    ("1.2.3", VersionRange("1.2.3", None, "1.2.3")),
    ("introduced=2.0,fixed=2.8.4", VersionRange("2.0", "2.8.4")),
    ("fixed=3.1", VersionRange(None, "3.1")),
    (" introduced = 1.0 , last-affected = 1.9 ", VersionRange("1.0", None, "1.9")),
])
def test_parse_range(text: str, expected: VersionRange) -> None:
    assert parse_range(text) == expected


@pytest.mark.parametrize("text", ["", "from=1.0", "fixed=", "fixed=1,fixed=2",
                                  "fixed=2,last_affected=3"])
def test_parse_range_refuses_what_is_not_a_range(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_range(text)
    assert refused.value.field == "versions"


# ------------------------------------------------------------------ the service
@pytest.fixture
def svc(demo_service: CaseService) -> CaseService:
    settings = load_settings(database_url=demo_service.db.url, actor="tester",
                             desk={"name": "Example CSIRT", "email": "cert@example.org"})
    return CaseService(demo_service.db, settings, clock=demo_service.clock)


def test_publish_refuses_a_product_without_versions_and_preview_warns(
        svc: CaseService, tmp_path: Path) -> None:
    from datetime import timedelta

    pub = PublicationService(svc)
    key = svc.replay(FREE).vulnerability_key(1)
    view = svc.update_vulnerability(FREE, key, product=SDK.upper(), versions=[],
                                    reason="the versions were a guess")
    assert view.data["affected"][0]["versions"] == []
    before = table_counts(svc.db.url)
    with pytest.raises(InvalidInput) as refused:
        pub.publish(FREE, ["csaf", "markdown"], out_dir=tmp_path / "out")
    assert refused.value.field == "versions"
    text = str(refused.value)
    assert f"product '{SDK}' of Oscorp" in text and "nothing was published" in text
    assert FREE in text and "--" not in text
    assert table_counts(svc.db.url) == before
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    # The draft may still be shared for review (asking for the versions is one reason
    # to share it); the preview warns.
    shared = pub.preview(FREE, until=svc.clock() + timedelta(days=3))
    assert any(w.startswith("versions: ") and SDK in w for w in shared.warnings)
    # The draft is still written, and says what publication would refuse.
    draft = pub.draft(FREE, ["csaf", "markdown"])
    assert {d.format for d in draft.documents} >= {"csaf", "markdown"}
    [problem] = draft.refused
    assert problem.startswith("publication: ") and f"'{SDK}' of Oscorp" in problem
    # Giving the versions (one event) makes it publishable again.
    svc.update_vulnerability(FREE, key, product=SDK, versions=[VersionRange("1.6.0", "1.7.0")])
    from cvdesk.store.cases import CaseRepository

    with svc.db.sessions() as session:
        repo = CaseRepository(session)
        changes = [e.data["changes"] for e in repo.events(repo.case_row(FREE).id)
                   if e.type is EventType.VULNERABILITY_UPDATED][-1]
    assert changes == {"affected": [{
        "product": SDK, "vendor": "Oscorp", "cpe": "", "purl": "", "version_text": "",
        "versions": [{"introduced": "1.6.0", "fixed": "1.7.0", "last_affected": None}]}]}
    assert pub.draft(FREE, ["csaf"]).refused == ()
    assert pub.publish(FREE, ["csaf", "markdown"]).version == 1


def test_every_demo_product_names_its_versions(demo_service: CaseService) -> None:
    pub = PublicationService(demo_service)
    for summary in demo_service.list_cases(None):
        assert unversioned_products(pub.advisory(summary.case_id)) == (), summary.case_id


# ------------------------------------------------------------------ command line
def test_cli_publish_refuses_draft_lists_and_vuln_update_fixes(
        demo_cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVDESK_DESK__EMAIL", "cert@example.org")
    demo_cli.ok("vuln", "update", FREE, "V1", "--product", SDK, "--versions", "")
    before = demo_cli.counts()
    code, _, err = demo_cli("publish", FREE, "--format", "markdown")
    assert code == 2 and f"product '{SDK}' of Oscorp" in err and "versions" in err
    assert demo_cli.counts() == before
    code, out, _ = demo_cli("advisory", "draft", FREE, "--format", "markdown", "--json")
    assert code == 2
    drafted = json.loads(out)
    assert [d["format"] for d in drafted["documents"]] == ["markdown"]
    assert any(SDK in r for r in drafted["refused"])
    out = demo_cli.ok("vuln", "update", FREE, "V1", "--product", SDK,
                      "--versions", "introduced=1.6.0,fixed=1.7.0", "--versions", "1.5.9",
                      "--reason", "vendor changelog")
    assert f"product {SDK} (Oscorp): >= 1.6.0, < 1.7.0; 1.5.9" in out
    timeline = demo_cli.ok("case", "timeline", FREE)
    assert "updated: affected" in timeline
    code, out, err = demo_cli("publish", FREE, "--format", "markdown")
    assert code == 0, err
    code, _, err = demo_cli("vuln", "update", FREE, "V1", "--versions", "1.0")
    assert code == 2 and "product" in err
