"""CSAF 2.1 on request (issue 10): the writer builds a 2.1 document that the csaf
package's 2.1 schema and mandatory tests accept, carries what 2.0 had to put in notes in
2.1's own fields, loses nothing of the advisory, and the refusals are accurate."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvdesk.domain.advisory import Advisory
from cvdesk.domain.model import TLP
from cvdesk.publish import csaf_check
from cvdesk.publish.common import InvalidAdvisory
from cvdesk.publish.csaf import checksums, write_csaf
from cvdesk.publish.csaf21 import SCHEMA_URI
from tests.publish.samples import MINIMAL, RICH, SAMPLE, VENDORS
from tests.publish.test_csaf import T0, WRITER_REFUSALS, advisories


def _doc(adv: Advisory = SAMPLE, *, vex: bool = False) -> dict:
    return json.loads(write_csaf(adv, vex=vex, version="2.1").content)


def _report(doc: dict):  # type: ignore[no-untyped-def]
    return csaf_check._validator("2.1")(doc, preset="basic")


@pytest.mark.parametrize("adv", [SAMPLE, RICH], ids=["sample", "rich"])
@pytest.mark.parametrize("vex", [False, True])
def test_the_package_s_2_1_validation_passes(adv: Advisory, vex: bool) -> None:
    rendered = write_csaf(adv, vex=vex, version="2.1")
    doc = json.loads(rendered.content)
    assert doc["$schema"] == SCHEMA_URI and doc["document"]["csaf_version"] == "2.1"
    assert doc["document"]["category"] == ("csaf_vex" if vex else "csaf_security_advisory")
    report = _report(doc)
    assert report.overall_valid
    ran = [r for r in report.results if not r.skipped]
    # the schema and every mandatory test the package has for 2.1 ran (a group such as
    # 6.1.27 runs as its parts 6.1.27.x) and passed
    ids = {r.id for r in ran}
    assert "schema" in ids
    assert all(t in ids or any(i.startswith(t + ".") for i in ids)
               for t in csaf_check.mandatory_test_ids("2.1"))
    assert all(r.passed for r in ran)
    assert csaf_check.problems(doc) == []  # the version is read from the document


def test_schema_uri_is_the_package_s_2_1_schema() -> None:
    from csaf.csaf.v21._validator import _main_schema

    assert _main_schema()["$id"] == SCHEMA_URI


def test_same_file_name_and_checksums_as_2_0() -> None:
    old, new = write_csaf(SAMPLE), write_csaf(SAMPLE, version="2.1")
    assert new.filename == old.filename == "cvd-2026-0042.json"
    assert new.format == "csaf" and new.media_type == "application/json"
    assert [c.filename for c in checksums(new)] == [
        "cvd-2026-0042.json.sha256", "cvd-2026-0042.json.sha512"]


def test_2_1_fields_carry_what_2_0_kept_in_notes() -> None:
    doc = _doc(RICH)
    v1 = doc["vulnerabilities"][0]
    assert [c["id"] for c in v1["cwes"]] == ["CWE-787", "CWE-122", "CWE-20"]
    assert all(c["name"] and c["version"] for c in v1["cwes"])
    content = v1["metrics"][0]["content"]
    assert content["cvss_v3"]["baseScore"] == 9.8 and content["cvss_v4"]["baseScore"] == 9.3
    titles = [n["title"] for n in v1["notes"]]
    assert "Further weaknesses (CWE)" not in titles and "CVSS v4.0" not in titles
    assert "involvements" not in v1 and "scores" not in v1 and "cwe" not in v1
    label = doc["document"]["distribution"]["tlp"]["label"]
    assert label == "AMBER+STRICT" and "text" not in doc["document"]["distribution"]
    contact = doc["document"]["publisher"]["contact"]
    assert contact == {"details": "Phone +1 555 0100 or cvd@csirt.example"}
    assert _doc()["document"]["publisher"]["contact"]["email"] == "cvd@csirt.example"
    purls = [b["product"]["product_identification_helper"]["purls"]
             for b in _leaves(doc) if "purls" in b["product"].get(
                 "product_identification_helper", {})]
    assert purls and all(len(p) == 1 and p[0].startswith("pkg:pypi/") for p in purls)
    assert "purl" not in json.dumps(doc).replace('"purls"', "")


def test_involvements_become_actions_and_none_is_lost() -> None:
    doc = _doc(RICH)
    inv = doc["document"]["involvement"]
    names = {e["entity_id"]: e["name"] for e in inv["entities"]}
    assert names["EID-Publisher"] == "Example CSIRT"
    dated = [i for i in RICH.involvements if i.at is not None]
    assert len(inv["actions"]) == len(dated)
    by_summary = {a["summary"]: a for a in inv["actions"]}
    attempted = by_summary["Vendor 01: contact attempted (log entry 1)"]
    assert (attempted["category"], attempted["status"]) == ("notification", "attempted")
    assert attempted["acting_entity_refs"] == ["EID-Publisher"]
    assert names[attempted["receiving_entity_refs"][0]] == "Vendor 01"
    done = by_summary["Vendor 00: completed (log entry 0)"]
    assert names[done["acting_entity_refs"][0]] == "Vendor 00"
    assert done["receiving_entity_refs"] == ["EID-Publisher"]
    # Vendor 00 is named in both vulnerabilities, Vendor 06 only in the first
    assert "dl_vuln_ids" not in done
    assert by_summary["Vendor 06: completed (log entry 6)"]["dl_vuln_ids"] == ["VULN-0001"]
    assert [v["dl_vuln_id"] for v in doc["vulnerabilities"]] == ["VULN-0001", "VULN-0002"]
    undated = [n for n in doc["document"]["notes"]
               if n["title"] == "Involvements without a date"]
    assert undated and undated[0]["text"] == "Vendor 00: open"


def test_a_workaround_with_no_fix_planned_keeps_both_in_one_remedy() -> None:
    """CSAF 2.1 test 6.1.35 refuses a workaround and "no fix planned" for one product;
    the no-fix words stay, in the workaround's details."""
    doc = _doc()
    rems = doc["vulnerabilities"][0]["remediations"]
    assert [r["category"] for r in rems] == ["vendor_fix", "workaround"]
    assert rems[1]["details"] == ("Disable the web interface. No fix is planned: SwitchOS "
                                  "2.x is end of life.")


def test_every_vendor_of_the_rich_case_is_in_the_document() -> None:
    doc = _doc(RICH, vex=True)
    vendors = [b["name"] for b in doc["product_tree"]["branches"]]
    assert vendors == [f"Vendor {i:02d}" for i in range(VENDORS)]
    silent = [n["text"] for n in doc["vulnerabilities"][0]["notes"]
              if n["title"].startswith("Vendor status of")]
    assert silent == ["Vendor 05: unknown (no statement) for Product 05; contacted on "
                      "2026-11-02, 2026-11-03.",
                      "Vendor 11: unknown (no statement) for Product 11; contacted on "
                      "2026-11-02, 2026-11-03."]


def test_the_2_1_check_refuses_what_2_1_forbids() -> None:
    """The check is the 2.1 one: a 2.0 document and a broken 2.1 document both fail."""
    old = json.loads(write_csaf(SAMPLE).content)
    assert any(p.startswith("schema") for p in csaf_check.problems(old, version="2.1"))
    doc = _doc()
    doc["vulnerabilities"][0]["product_status"]["fixed"].append("CSAFPID-9999")
    found = csaf_check.problems(doc)
    assert any(p.startswith("6.1.1 ") and "CSAFPID-9999" in p for p in found), found


def test_minimal_is_refused_in_2_1_too() -> None:
    with pytest.raises(InvalidAdvisory, match="no product is named"):
        write_csaf(MINIMAL, version="2.1")


@pytest.mark.parametrize("version", ["2.2", "1.0", "", "2"])
def test_other_versions_are_refused_naming_those_written(version: str) -> None:
    with pytest.raises(InvalidAdvisory) as err:
        write_csaf(SAMPLE, version=version)
    text = "; ".join(err.value.problems)
    assert f"CSAF version {version!r} cannot be written" in text
    assert "CSAF 2.0 and 2.1" in text and "draft" not in text


@pytest.mark.parametrize("tlp", list(TLP))
def test_every_tlp_label_is_written_as_tlp_2_0_names_it(tlp: TLP) -> None:
    doc = _doc(replace(SAMPLE, tlp=tlp))
    assert doc["document"]["distribution"] == {"tlp": {"label": tlp.value.upper()}}


#: what CSAF 2.1 (6.1.27.12, 6.1.27.13) asks beyond 2.0, refused in domain words too
WRITER_REFUSALS_21 = (*WRITER_REFUSALS, "no product is known affected",
                      "no affected version is known", "are free text",
                      "allows only an optional patch")


def test_2_1_refuses_a_bare_fixed_and_an_advisory_without_affected_products() -> None:
    from cvdesk.domain.advisory import ProductStatus, VendorStatement

    fixed_only = replace(MINIMAL, statements=(
        VendorStatement("Acme", "Widget", "V1", ProductStatus.FIXED),))
    write_csaf(fixed_only)  # CSAF 2.0 accepts it
    with pytest.raises(InvalidAdvisory) as err:
        write_csaf(fixed_only, version="2.1")
    assert err.value.problems == [
        "vulnerability V1 (A bug): no product is known affected (a CSAF 2.1 security "
        "advisory names at least one affected product; a VEX document can say this)",
        "vulnerability V1: Acme Widget is fixed, but no affected version is known (a CSAF "
        "2.1 security advisory names the affected versions beside the fixed ones: add "
        "them to the vulnerability's products)"]
    assert _report(_doc(fixed_only, vex=True)).overall_valid


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(adv=advisories(), vex=st.booleans())
def test_generated_advisories_validate_in_2_1_or_are_refused_in_domain_words(
        adv: Advisory, vex: bool) -> None:
    try:
        rendered = write_csaf(adv, vex=vex, version="2.1")
    except InvalidAdvisory as err:
        assert all(any(w in p for w in WRITER_REFUSALS_21) for p in err.problems), (
            err.problems)
        return
    assert _report(json.loads(rendered.content)).overall_valid


def test_provider_directory_refuses_2_1_documents_and_writes_nothing(tmp_path: Path) -> None:
    from cvdesk.publish.csaf_provider import write_provider_dir

    with pytest.raises(InvalidAdvisory) as err:
        write_provider_dir([write_csaf(SAMPLE), write_csaf(SAMPLE, vex=True, version="2.1")],
                           tmp_path, publisher=SAMPLE.publisher,
                           base_url="https://x.example", now=T0)
    assert "cvd-2026-0042.json is a CSAF 2.1 document" in str(err.value)
    assert "CSAF 2.0" in str(err.value)
    assert list(tmp_path.iterdir()) == []


def _leaves(doc: dict) -> list[dict]:
    found: list[dict] = []

    def walk(branches: list[dict]) -> None:
        for b in branches:
            if "product" in b:
                found.append(b)
            walk(b.get("branches", []))

    walk(doc["product_tree"]["branches"])
    return found


def test_a_fix_for_a_product_not_affected_is_an_optional_patch() -> None:
    from cvdesk.domain.advisory import (
        Justification,
        ProductStatus,
        Remediation,
        RemediationKind,
        VendorStatement,
    )

    fix = Remediation(RemediationKind.VENDOR_FIX, "Update anyway.")
    adv = replace(MINIMAL, statements=(
        VendorStatement("Acme", "Gizmo", "V1", ProductStatus.AFFECTED),
        VendorStatement("Acme", "Widget", "V1", ProductStatus.NOT_AFFECTED,
                        justification=Justification.COMPONENT_NOT_PRESENT,
                        remediations=(fix,))))
    rems = _doc(adv)["vulnerabilities"][0]["remediations"]
    assert [r["category"] for r in rems] == ["optional_patch"]
    worse = replace(adv, statements=(adv.statements[0], replace(
        adv.statements[1], remediations=(Remediation(RemediationKind.WORKAROUND, "x"),))))
    with pytest.raises(InvalidAdvisory, match=r"Acme Widget: not affected, but given a "
                                              r"workaround remediation"):
        write_csaf(worse, version="2.1")
