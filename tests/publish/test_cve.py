"""The CVE record 5 writer: valid against the schema cvelib ships, one record per CVE."""

from __future__ import annotations

import dataclasses
import json

import pytest
from cvelib.cve_api import CveRecord
from hypothesis import HealthCheck, given, settings

from cvdesk.domain.advisory import AdvisoryVulnerability
from cvdesk.publish.common import InvalidAdvisory
from cvdesk.publish.cve import PLACEHOLDER_ORG_ID, data_version, write_cve
from cvdesk.publish.wire import is_url
from tests.publish.samples import MINIMAL, SAMPLE
from tests.publish.strategies import advisories

ORG = "b3476cb9-2e3d-41a6-98d0-0f47421a65b6"


def _record(adv=SAMPLE, key="CVE-2026-12345", **kwargs) -> dict:
    rendered = write_cve(adv, key, **kwargs)
    record = json.loads(rendered.content)
    CveRecord.validate(record, schema_path=CveRecord.Schemas.V5_SCHEMA)
    return record


def test_sample_record_validates_and_says_what_the_advisory_says() -> None:
    rendered = write_cve(SAMPLE, "CVE-2026-12345", assigner_org_id=ORG,
                         assigner_short_name="ExampleCSIRT")
    assert (rendered.format, rendered.filename, rendered.media_type) == (
        "cve", "CVE-2026-12345.json", "application/json")
    record = json.loads(rendered.content)
    CveRecord.validate(record, schema_path=CveRecord.Schemas.V5_SCHEMA)
    # the container alone is what cvelib would submit: it validates on its own schema too
    CveRecord.validate(record["containers"]["cna"])
    assert record["dataType"] == "CVE_RECORD"
    assert record["dataVersion"] == data_version() == "5.1.1"
    assert record["cveMetadata"] == {
        "cveId": "CVE-2026-12345", "assignerOrgId": ORG, "state": "PUBLISHED",
        "assignerShortName": "ExampleCSIRT", "datePublished": "2026-11-25T12:00:00Z",
        "dateUpdated": "2026-11-28T12:00:00Z"}
    cna = record["containers"]["cna"]
    assert cna["providerMetadata"]["orgId"] == ORG
    assert cna["title"] == "Authentication bypass in the RouterOS web interface"
    assert cna["descriptions"] == [{"lang": "en", "value": SAMPLE.vulnerabilities[0]
                                    .description}]
    router, switch = cna["affected"]
    assert router["vendor"] == "Acme Networks" and router["product"] == "RouterOS"
    assert router["versions"] == [{"version": "7.0", "status": "affected",
                                   "versionType": "custom", "lessThan": "7.4.2"}]
    assert switch["versions"][0]["lessThanOrEqual"] == "2.9"
    assert cna["problemTypes"][0]["descriptions"][0]["cweId"] == "CWE-287"
    v31 = next(m["cvssV3_1"] for m in cna["metrics"] if "cvssV3_1" in m)
    v40 = next(m["cvssV4_0"] for m in cna["metrics"] if "cvssV4_0" in m)
    assert (v31["vectorString"], v31["baseScore"], v31["baseSeverity"]) == (
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL")
    assert v31["attackVector"] == "NETWORK" and v40["attackRequirements"] == "NONE"
    assert {"url": "https://acme.example/security/ASA-2026-07"} in cna["references"]
    assert {"url": "https://csirt.example/advisories/CVD-2026-0042"} in cna["references"]
    assert cna["credits"][0] == {"lang": "en", "value": "Dana Whitfield (Example University)",
                                 "type": "finder"}
    assert cna["credits"][1]["type"] == "tool"
    assert cna["timeline"][0]["value"] == "report received"
    assert cna["timeline"][0]["time"] == "2026-11-01T12:00:00Z"
    assert "Upgrade to 7.4.2" in cna["solutions"][0]["value"]
    assert "Disable the web interface" in cna["workarounds"][0]["value"]


def test_vulnerability_without_cve_is_refused_by_name() -> None:
    with pytest.raises(InvalidAdvisory, match=r"V2 .*no CVE id") as caught:
        write_cve(SAMPLE, "V2")
    assert caught.value.format == "cve"


def test_minimal_advisory_is_refused_with_every_reason() -> None:
    with pytest.raises(InvalidAdvisory) as caught:
        write_cve(MINIMAL, "V1")
    problems = " ".join(caught.value.problems)
    assert "no CVE id" in problems and "no affected product" in problems
    assert "no reference" in problems


def test_minimal_with_a_cve_product_and_reference_is_written() -> None:
    vuln = dataclasses.replace(SAMPLE.vulnerabilities[0], key="CVE-2026-1111",
                               cve="CVE-2026-1111", description="", scores=(), cwes=())
    adv = dataclasses.replace(MINIMAL, vulnerabilities=(vuln,))
    cna = _record(adv, "CVE-2026-1111")["containers"]["cna"]
    assert cna["descriptions"][0]["value"] == vuln.title  # the title stands in
    assert "metrics" not in cna and "credits" not in cna and "timeline" not in cna


def test_unknown_key_and_bad_assigner_are_refused() -> None:
    with pytest.raises(InvalidAdvisory, match="no vulnerability V9"):
        write_cve(SAMPLE, "V9")
    with pytest.raises(InvalidAdvisory, match="assigner organisation id"):
        write_cve(SAMPLE, "CVE-2026-12345", assigner_org_id="not-a-uuid")
    assert _record()["cveMetadata"]["assignerOrgId"] == PLACEHOLDER_ORG_ID


def test_statement_decides_the_default_status_and_purl_gives_the_package() -> None:
    vuln = dataclasses.replace(SAMPLE.vulnerabilities[1], key="CVE-2026-2222",
                               cve="CVE-2026-2222")
    statements = tuple(dataclasses.replace(s, vulnerability="CVE-2026-2222")
                       for s in SAMPLE.statements if s.vulnerability == "V2")
    adv = dataclasses.replace(SAMPLE, vulnerabilities=(vuln,), statements=statements)
    lib, hub = _record(adv, "CVE-2026-2222")["containers"]["cna"]["affected"]
    assert lib["collectionURL"] == "https://pypi.python.org"
    assert lib["packageName"] == "libquill" and lib["versions"][0]["versionType"] == "python"
    assert hub == {"vendor": "Gadget Corp", "product": "Gadget Hub",
                   "defaultStatus": "unaffected"}  # the vendor's statement wins


def test_schema_errors_name_the_field() -> None:
    long_title = dataclasses.replace(SAMPLE.vulnerabilities[0], title="x" * 300)
    adv = dataclasses.replace(SAMPLE, vulnerabilities=(long_title,))
    with pytest.raises(InvalidAdvisory, match="containers/cna/title"):
        write_cve(adv, "CVE-2026-12345")


def test_hostile_text_stays_text_in_the_json() -> None:
    hostile = '<script>alert("x")</script>\n# not a heading'
    vuln = dataclasses.replace(SAMPLE.vulnerabilities[0], description=hostile)
    adv = dataclasses.replace(SAMPLE, vulnerabilities=(vuln,))
    assert _record(adv)["containers"]["cna"]["descriptions"][0]["value"] == hostile


def _writable(vuln: AdvisoryVulnerability, adv) -> bool:
    urls = [*vuln.references, *adv.references,
            *(r.url for s in adv.statements_for(vuln.key) for r in s.remediations if r.url)]
    return bool(vuln.products and urls and all(is_url(u) for u in urls)
                and (vuln.description.strip() or vuln.title.strip()))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(advisories(with_cve=True))
def test_generated_advisories_always_give_a_valid_record_or_a_reason(adv) -> None:
    for vuln in adv.vulnerabilities:
        if not vuln.cve:
            with pytest.raises(InvalidAdvisory, match="no CVE id"):
                write_cve(adv, vuln.key)
            continue
        if _writable(vuln, adv):
            record = _record(adv, vuln.key)
            assert record["cveMetadata"]["cveId"] == vuln.cve
        else:
            with pytest.raises(InvalidAdvisory):
                write_cve(adv, vuln.key)
