"""The OSV writer: valid against the official schema (the project's reference copy and the
copy bundled for offline use), packages only where OSV has an ecosystem."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator

from cvdesk.domain.model import AffectedProduct, VersionRange
from cvdesk.publish.common import InvalidAdvisory
from cvdesk.publish.osv import SCHEMA, write_osv
from cvdesk.publish.wire import is_url
from tests.publish.samples import MINIMAL, SAMPLE
from tests.publish.strategies import advisories

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "reference" / "osv" / "schema.json"


def _reference() -> Draft202012Validator:
    if not REFERENCE.is_file():
        pytest.skip(f"the OSV reference schema is not at {REFERENCE}")
    return Draft202012Validator(json.loads(REFERENCE.read_text()),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def _record(adv=SAMPLE, key="V2", prefix="x_CSIRT") -> dict:
    record = json.loads(write_osv(adv, key, id_prefix=prefix).content)
    _reference().validate(record)
    return record


def test_bundled_schema_is_the_reference_schema() -> None:
    _reference()
    assert SCHEMA.read_bytes() == REFERENCE.read_bytes()


def test_sample_library_vulnerability() -> None:
    rendered = write_osv(SAMPLE, "V2", id_prefix="x_CSIRT")
    assert (rendered.format, rendered.filename, rendered.media_type) == (
        "osv", "x_CSIRT-CVD-2026-0042-V2.json", "application/json")
    record = _record()
    assert record["id"] == "x_CSIRT-CVD-2026-0042-V2" and "aliases" not in record
    assert record["modified"] == "2026-11-28T12:00:00Z"
    assert record["published"] == "2026-11-25T12:00:00Z"
    assert record["summary"] == "Heap overflow in the libquill TLS record parser"
    assert record["details"].startswith("An oversized TLS record")
    assert record["severity"] == [{"type": "CVSS_V3",
                                   "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H"}]
    (quill,) = record["affected"]
    assert quill["package"] == {"ecosystem": "PyPI", "name": "libquill",
                                "purl": "pkg:pypi/libquill"}
    assert quill["ranges"] == [{"type": "ECOSYSTEM",
                                "events": [{"introduced": "2.0.0"}, {"fixed": "2.8.4"}]}]
    assert {"type": "ADVISORY", "url": "https://csirt.example/advisories/CVD-2026-0042"} \
        in record["references"]
    assert record["credits"][0] == {"name": "Dana Whitfield (Example University)",
                                    "type": "FINDER"}
    specific = record["database_specific"]
    assert specific["tlp"] == "CLEAR" and specific["cwe_ids"] == ["CWE-122"]
    gadget = next(s for s in specific["statements"] if s["vendor"] == "Gadget Corp")
    assert gadget["status"] == "not_affected" and gadget["confirmed_by_vendor"] is False
    assert specific["products_not_listed"] == [{
        "vendor": "Gadget Corp", "product": "Gadget Hub",
        "reason": "the vendor states it is not affected"}]


def test_sample_cve_vulnerability_without_packages_is_written_and_explained() -> None:
    record = _record(key="CVE-2026-12345")
    assert record["id"] == "x_CSIRT-CVE-2026-12345"
    assert record["aliases"] == ["CVE-2026-12345"]
    assert {s["type"] for s in record["severity"]} == {"CVSS_V3", "CVSS_V4"}
    assert "affected" not in record  # neither Acme product has a purl
    reasons = {p["product"]: p["reason"]
               for p in record["database_specific"]["products_not_listed"]}
    assert set(reasons) == {"RouterOS", "SwitchOS"} and "purl" in reasons["RouterOS"]
    assert {"type": "FIX", "url": "https://acme.example/dl"} in record["references"]


def test_minimal_is_written() -> None:
    record = _record(MINIMAL, "V1")
    assert record["id"] == "x_CSIRT-CVD-2026-0001-V1"
    assert record["modified"] == "2026-11-05T12:00:00Z"
    assert record["database_specific"]["tlp"] == "AMBER"


def test_unregistered_prefix_and_missing_dates_are_refused() -> None:
    with pytest.raises(InvalidAdvisory, match=r"'CSIRT' .* not one registered"):
        write_osv(SAMPLE, "V2", id_prefix="CSIRT")
    assert _record(prefix="OSV")["id"] == "OSV-CVD-2026-0042-V2"
    undated = dataclasses.replace(MINIMAL, revisions=(), initial_release=None,
                                  current_release=None)
    with pytest.raises(InvalidAdvisory, match="last modified"):
        write_osv(undated, "V1", id_prefix="x_CSIRT")
    with pytest.raises(InvalidAdvisory, match="no vulnerability V7"):
        write_osv(SAMPLE, "V7", id_prefix="x_CSIRT")


def _with_product(product: AffectedProduct) -> dict:
    vuln = dataclasses.replace(MINIMAL.vulnerabilities[0], products=(product,))
    return _record(dataclasses.replace(MINIMAL, vulnerabilities=(vuln,)), "V1")


def test_ecosystems_and_range_types_from_the_purl() -> None:
    npm = _with_product(AffectedProduct(
        "thing", "Scope", versions=(VersionRange("v1.2.0", last_affected="1.4.0"),),
        purl="pkg:npm/%40scope/thing@1.0.0"))["affected"][0]
    assert npm["package"] == {"ecosystem": "npm", "name": "@scope/thing",
                              "purl": "pkg:npm/%40scope/thing"}  # no version in the purl
    assert npm["ranges"] == [{"type": "SEMVER", "events": [{"introduced": "1.2.0"},
                                                           {"last_affected": "1.4.0"}]}]
    maven = _with_product(AffectedProduct("lib", purl="pkg:maven/org.example/lib"))
    assert maven["affected"][0]["package"]["name"] == "org.example:lib"
    assert maven["affected"][0]["ranges"][0]["events"] == [{"introduced": "0"}]
    commit = "a" * 40
    git = _with_product(AffectedProduct("thing", purl="pkg:github/acme/thing",
                                        versions=(VersionRange(fixed=commit),)))
    assert git["affected"][0]["package"]["ecosystem"] == "GIT"
    assert git["affected"][0]["ranges"] == [{
        "type": "GIT", "repo": "https://github.com/acme/thing",
        "events": [{"introduced": "0"}, {"fixed": commit}]}]
    tagged = _with_product(AffectedProduct("thing", purl="pkg:github/acme/thing",
                                           versions=(VersionRange(fixed="1.0"),)))
    assert "affected" not in tagged
    generic = _with_product(AffectedProduct("fw", "Acme", purl="pkg:generic/fw"))
    assert "no ecosystem" in generic["database_specific"]["products_not_listed"][0]["reason"]


def test_bad_reference_is_refused() -> None:
    adv = dataclasses.replace(SAMPLE, references=("javascript:alert(1)",))
    with pytest.raises(InvalidAdvisory, match="not an absolute URL"):
        write_osv(adv, "V2", id_prefix="x_CSIRT")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(advisories())
def test_generated_advisories_always_give_a_valid_record(adv) -> None:
    validator = _reference()
    for vuln in adv.vulnerabilities:
        urls = [*adv.references, *vuln.references,
                *(r.url for s in adv.statements_for(vuln.key) for r in s.remediations)]
        if not all(is_url(u) for u in urls if u):
            with pytest.raises(InvalidAdvisory, match="not an absolute URL"):
                write_osv(adv, vuln.key, id_prefix="x_CSIRT")
            continue
        record = json.loads(write_osv(adv, vuln.key, id_prefix="x_CSIRT").content)
        validator.validate(record)
        listed = len(record.get("affected", ()))
        skipped = len(record["database_specific"].get("products_not_listed", ()))
        assert listed + skipped == len(vuln.products)  # every product accounted for
